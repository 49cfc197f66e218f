import { skipName, questionSectionEnd as skipQuestions } from '../wire';

/**
 * Byte-level helpers over DNS messages, just enough for forwarding and caching:
 * header fields, skipping names, walking resource records, OPT handling.
 *
 * They work on raw bytes so a forwarded answer passes through untouched (no decode/encode
 * round trip that could reorder, recompress or drop records we do not understand).
 */

export const HEADER_SIZE = 12;
export const TYPE_SOA = 6;
export const TYPE_OPT = 41;

export const FLAG_QR = 0x8000;
export const FLAG_RD = 0x0100;
export const FLAG_RA = 0x0080;
export const FLAG_CD = 0x0010;
/** DO bit inside the OPT record's TTL field (lower 16 bits of it). */
export const EDNS_FLAG_DO = 0x8000;

export const RCODE_NOERROR = 0;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

/** What meshdns advertises upstream (DNS flag day 2020 value: avoids IP fragmentation). */
export const UPSTREAM_UDP_PAYLOAD = 1232;

export const readId = (msg: Buffer): number => msg.readUInt16BE(0);
export const readRcode = (msg: Buffer): number => msg[3] & 0x0f;
export const isTruncated = (msg: Buffer): boolean => (msg[2] & 0x02) !== 0;
export const isResponse = (msg: Buffer): boolean => (msg[2] & 0x80) !== 0;
export const qdCount = (msg: Buffer): number => msg.readUInt16BE(4);
export const anCount = (msg: Buffer): number => msg.readUInt16BE(6);
export const nsCount = (msg: Buffer): number => msg.readUInt16BE(8);
export const arCount = (msg: Buffer): number => msg.readUInt16BE(10);

// Name and question skipping are the wire layer's (one bounded, pointer-safe implementation).
export { skipName, skipQuestions };

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

/**
 * Calls `visit` for every resource record after the question section, in order.
 * Returns the offset past the last record, or -1 if the message is malformed
 * (records visited before the fault have already been reported).
 */
export function walkRecords(msg: Buffer, visit: (rr: RecordPosition) => void): number {
  let pos = skipQuestions(msg);
  if (pos < 0) return -1;
  const sections: Array<[Section, number]> = [
    ['answer', anCount(msg)],
    ['authority', nsCount(msg)],
    ['additional', arCount(msg)],
  ];
  for (const [section, count] of sections) {
    for (let i = 0; i < count; i++) {
      const nameEnd = skipName(msg, pos);
      if (nameEnd < 0 || nameEnd + 10 > msg.length) return -1;
      const rdLength = msg.readUInt16BE(nameEnd + 8);
      const end = nameEnd + 10 + rdLength;
      if (end > msg.length) return -1;
      visit({
        section,
        start: pos,
        type: msg.readUInt16BE(nameEnd),
        ttlOffset: nameEnd + 4,
        rdataOffset: nameEnd + 10,
        rdLength,
        end,
      });
      pos = end;
    }
  }
  return pos;
}

/** The OPT record of a message (first one in the additional section), or null. */
export function findOpt(msg: Buffer): RecordPosition | null {
  let opt: RecordPosition | null = null;
  walkRecords(msg, (rr) => {
    if (opt === null && rr.section === 'additional' && rr.type === TYPE_OPT) opt = rr;
  });
  return opt;
}

/**
 * Case-insensitive comparison of the question section of `a` (bytes 12..questionEnd) with the
 * same bytes of `b`. Both must be uncompressed; a byte-wise ASCII fold is exact for wire names
 * because label length bytes (0..63) never fall in 'A'..'Z'.
 */
export function sameQuestion(a: Buffer, questionEnd: number, b: Buffer): boolean {
  if (b.length < questionEnd || b.length < HEADER_SIZE || qdCount(b) !== 1) return false;
  for (let i = HEADER_SIZE; i < questionEnd; i++) {
    let x = a[i];
    let y = b[i];
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}

/** An OPT pseudo-record: root owner, the given payload size, version 0, DO bit as asked, no options. */
export function buildOpt(udpPayloadSize: number, dnssecOk: boolean): Buffer {
  const opt = Buffer.alloc(11);
  opt[0] = 0; // root owner
  opt.writeUInt16BE(TYPE_OPT, 1);
  opt.writeUInt16BE(udpPayloadSize, 3);
  opt.writeUInt16BE(0, 5); // extended rcode + version
  opt.writeUInt16BE(dnssecOk ? EDNS_FLAG_DO : 0, 7);
  opt.writeUInt16BE(0, 9); // rdlength
  return opt;
}

/** A copy of `msg` without its OPT record (ARCOUNT decremented); `msg` itself when it has none. */
export function stripOpt(msg: Buffer): Buffer {
  const opt = findOpt(msg);
  if (opt === null) return msg;
  const out = Buffer.concat([msg.subarray(0, opt.start), msg.subarray(opt.end)]);
  out.writeUInt16BE(arCount(out) - 1, 10);
  return out;
}

/** A copy of `msg` with `opt` appended to the additional section (ARCOUNT incremented). */
export function appendRecord(msg: Buffer, messageEnd: number, record: Buffer): Buffer {
  const out = Buffer.concat([msg.subarray(0, messageEnd), record]);
  out.writeUInt16BE(arCount(out) + 1, 10);
  return out;
}
