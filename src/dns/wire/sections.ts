/**
 * Walking message sections without decoding them. Names are skipped, never followed, so a
 * hostile packet cannot make these loop; every step is bounds-checked and errors are values.
 */
import { HEADER_LENGTH, RRType } from './constants';
import { skipName } from './names';

/** Bytes after an RR's owner name: type, class, TTL, RDLENGTH. */
const RR_FIXED_LENGTH = 10;

export type Section = 'answer' | 'authority' | 'additional';

/** Where one resource record sits in a message. */
export interface RecordPosition {
  section: Section;
  /** Offset of the owner name. */
  start: number;
  type: number;
  /** Offset of the 4-byte TTL field (for OPT it holds extended rcode, version and flags). */
  ttlOffset: number;
  rdataOffset: number;
  rdLength: number;
  /** Offset just past the record. */
  end: number;
}

/** Offset just past the question entry at `pos`, or -1. */
export function skipQuestion(buf: Buffer, pos: number): number {
  const nameEnd = skipName(buf, pos);
  if (nameEnd < 0 || nameEnd + 4 > buf.length) return -1;
  return nameEnd + 4;
}

/** Offset just past the resource record at `pos`, or -1. */
export function skipRecord(buf: Buffer, pos: number): number {
  const nameEnd = skipName(buf, pos);
  if (nameEnd < 0 || nameEnd + RR_FIXED_LENGTH > buf.length) return -1;
  const next = nameEnd + RR_FIXED_LENGTH + buf.readUInt16BE(nameEnd + 8);
  return next <= buf.length ? next : -1;
}

/** Skips `count` records from `pos`; -1 if any is malformed. */
export function skipRecords(buf: Buffer, pos: number, count: number): number {
  for (let i = 0; i < count && pos >= 0; i++) pos = skipRecord(buf, pos);
  return pos;
}

export type OptScan =
  /** `typeAt` is the offset of the OPT's TYPE field (its owner is the single root byte before it), -1 if there is none. */
  | { ok: true; typeAt: number }
  | { ok: false; reason: string };

/**
 * Finds the OPT record of a message, checking RFC 6891's rules: at most one, owned by the root,
 * in the additional section, and every record before and after it well formed.
 * `questionEnd` is where the answer section starts.
 */
export function scanForOpt(buf: Buffer, questionEnd: number): OptScan {
  if (buf.length < HEADER_LENGTH) return { ok: false, reason: 'shorter than a DNS header' };
  let typeAt = -1;
  let problem: string | undefined;
  const end = walkRecords(
    buf,
    (rr) => {
      if (problem !== undefined || rr.section !== 'additional' || rr.type !== RRType.OPT) return;
      const nameEnd = rr.ttlOffset - 4;
      if (typeAt >= 0) problem = 'more than one OPT record';
      else if (nameEnd !== rr.start + 1) problem = 'OPT record not owned by the root name';
      else typeAt = nameEnd;
    },
    questionEnd,
  );
  if (problem !== undefined) return { ok: false, reason: problem };
  if (end < 0) return { ok: false, reason: 'a record section is malformed or cut off' };
  return { ok: true, typeAt };
}

/** Where the answer section starts: after the header and QDCOUNT questions; -1 if malformed. */
export function questionSectionEnd(buf: Buffer): number {
  if (buf.length < HEADER_LENGTH) return -1;
  let pos = HEADER_LENGTH;
  const questions = buf.readUInt16BE(4);
  for (let i = 0; i < questions && pos >= 0; i++) pos = skipQuestion(buf, pos);
  return pos;
}

const SECTIONS: ReadonlyArray<readonly [Section, number]> = [
  ['answer', 6],
  ['authority', 8],
  ['additional', 10],
];

/**
 * Calls `visit` for every resource record after the question section, in order: the one record
 * walk (query parsing, forwarding, caching; an upstream reply passes through byte for byte, so it
 * is walked, never decoded). `from`: where the answer section starts, when the caller knows.
 * Returns the offset past the last record, or -1 if the message is malformed (records visited
 * before the fault have already been reported).
 */
export function walkRecords(msg: Buffer, visit: (rr: RecordPosition) => void, from = questionSectionEnd(msg)): number {
  let pos = from;
  if (pos < 0 || msg.length < HEADER_LENGTH) return -1;
  for (const [section, countAt] of SECTIONS) {
    const count = msg.readUInt16BE(countAt);
    for (let i = 0; i < count; i++) {
      const nameEnd = skipName(msg, pos);
      if (nameEnd < 0 || nameEnd + RR_FIXED_LENGTH > msg.length) return -1;
      const rdLength = msg.readUInt16BE(nameEnd + 8);
      const end = nameEnd + RR_FIXED_LENGTH + rdLength;
      if (end > msg.length) return -1;
      visit({ section, start: pos, type: msg.readUInt16BE(nameEnd), ttlOffset: nameEnd + 4, rdataOffset: nameEnd + RR_FIXED_LENGTH, rdLength, end });
      pos = end;
    }
  }
  return pos;
}

/** The OPT record of a message (first one in the additional section), or null. */
export function findOpt(msg: Buffer): RecordPosition | null {
  let opt: RecordPosition | null = null;
  walkRecords(msg, (rr) => {
    if (opt === null && rr.section === 'additional' && rr.type === RRType.OPT) opt = rr;
  });
  return opt;
}
