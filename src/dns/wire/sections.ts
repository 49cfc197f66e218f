/**
 * Walking message sections without decoding them. Names are skipped, never followed, so a
 * hostile packet cannot make these loop; every step is bounds-checked and errors are values.
 */
import { HEADER_LENGTH, RRType } from './constants';
import { skipName } from './names';

/** Bytes after an RR's owner name: type, class, TTL, RDLENGTH. */
const RR_FIXED_LENGTH = 10;

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
 * in the additional section (the answer and authority records before it are skipped).
 * `questionEnd` is where the answer section starts.
 */
export function scanForOpt(buf: Buffer, questionEnd: number): OptScan {
  if (buf.length < HEADER_LENGTH) return { ok: false, reason: 'shorter than a DNS header' };
  const skipped = buf.readUInt16BE(6) + buf.readUInt16BE(8);
  let pos = skipRecords(buf, questionEnd, skipped);
  if (pos < 0) return { ok: false, reason: 'answer or authority section is malformed or cut off' };
  const additional = buf.readUInt16BE(10);
  let typeAt = -1;
  for (let i = 0; i < additional; i++) {
    const nameEnd = skipName(buf, pos);
    if (nameEnd < 0 || nameEnd + RR_FIXED_LENGTH > buf.length) {
      return { ok: false, reason: 'additional section is malformed or cut off' };
    }
    const next = nameEnd + RR_FIXED_LENGTH + buf.readUInt16BE(nameEnd + 8);
    if (next > buf.length) return { ok: false, reason: 'additional record data cut off' };
    if (buf.readUInt16BE(nameEnd) === RRType.OPT) {
      if (typeAt >= 0) return { ok: false, reason: 'more than one OPT record' };
      if (nameEnd !== pos + 1) return { ok: false, reason: 'OPT record not owned by the root name' };
      typeAt = nameEnd;
    }
    pos = next;
  }
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
