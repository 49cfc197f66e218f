/**
 * Header fields and whole-record edits over raw DNS messages, for forwarding and caching: a
 * forwarded answer passes through untouched (no decode/encode round trip that could reorder,
 * recompress or drop records meshdns does not understand). Records are found with
 * `walkRecords` (sections.ts).
 */
import { Flag, HEADER_LENGTH, OPT_RECORD_LENGTH } from './constants';
import { findOpt } from './sections';
import { writeOpt } from './reply';

export const readId = (msg: Buffer): number => msg.readUInt16BE(0);
export const readRcode = (msg: Buffer): number => msg[3] & Flag.RCODE_MASK;
// Byte reads, not readUInt16BE: a message shorter than its header reads as "no" instead of throwing.
export const isTruncated = (msg: Buffer): boolean => (msg[2] & (Flag.TC >> 8)) !== 0;
export const isResponse = (msg: Buffer): boolean => (msg[2] & (Flag.QR >> 8)) !== 0;
export const qdCount = (msg: Buffer): number => msg.readUInt16BE(4);
export const anCount = (msg: Buffer): number => msg.readUInt16BE(6);
export const nsCount = (msg: Buffer): number => msg.readUInt16BE(8);
export const arCount = (msg: Buffer): number => msg.readUInt16BE(10);

/**
 * Case-insensitive comparison of the question section of `a` (bytes 12..questionEnd) with the
 * same bytes of `b`. Both must be uncompressed; a byte-wise ASCII fold is exact for wire names
 * because label length bytes (0..63) never fall in 'A'..'Z'.
 */
export function sameQuestion(a: Buffer, questionEnd: number, b: Buffer): boolean {
  if (b.length < questionEnd || b.length < HEADER_LENGTH || qdCount(b) !== 1) return false;
  for (let i = HEADER_LENGTH; i < questionEnd; i++) {
    let x = a[i];
    let y = b[i];
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}

/** An OPT pseudo-record: root owner, meshdns' advertised payload size, version 0, DO bit as asked, no options. */
export function buildOpt(dnssecOk: boolean): Buffer {
  const opt = Buffer.alloc(OPT_RECORD_LENGTH);
  writeOpt(opt, 0, 0, dnssecOk);
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

/** A copy of `msg` up to `messageEnd` with `record` appended to the additional section (ARCOUNT incremented). */
export function appendRecord(msg: Buffer, messageEnd: number, record: Buffer): Buffer {
  const out = Buffer.concat([msg.subarray(0, messageEnd), record]);
  out.writeUInt16BE(arCount(out) + 1, 10);
  return out;
}
