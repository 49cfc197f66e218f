/**
 * Making a reply fit the client (docs/ARCHITECTURE.md §3): anything larger than the client accepts becomes
 * header + question (+ OPT) with TC=1, so the client retries over TCP. Works on any reply bytes,
 * local or from an upstream; upstream replies otherwise pass through unchanged but for the ID.
 */
import type { Query } from '../types';
import { Flag, HEADER_LENGTH, OPT_RECORD_LENGTH } from './constants';
import { writeOpt } from './reply';
import { questionSectionEnd, scanForOpt } from './sections';

/** `reply` itself when it fits `query.maxResponseSize`, else its truncated form. */
export function fitToClient(reply: Buffer, query: Query): Buffer {
  if (reply.length <= query.maxResponseSize || reply.length < HEADER_LENGTH) return reply;
  return truncated(reply, query);
}

/**
 * The reply's ID and flags with TC=1, the client's own question (upstream replies were accepted
 * only when their question matched it, and this echoes the client's letter case), no records, and
 * an OPT when the query had EDNS, keeping the upstream's extended rcode bits.
 */
function truncated(reply: Buffer, query: Query): Buffer {
  const hasOpt = query.edns !== null;
  const size = query.questionEnd + (hasOpt ? OPT_RECORD_LENGTH : 0);
  const out = Buffer.allocUnsafe(size);
  out.writeUInt16BE(reply.readUInt16BE(0), 0);
  out.writeUInt16BE(reply.readUInt16BE(2) | Flag.TC, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(hasOpt ? 1 : 0, 10);
  query.packet.copy(out, HEADER_LENGTH, HEADER_LENGTH, query.questionEnd);
  if (query.edns !== null) writeOpt(out, query.questionEnd, extendedRcodeOf(reply), query.edns.dnssecOk);
  return out;
}

/** The upper rcode bits from the reply's OPT; 0 when it has none or its sections do not parse. */
function extendedRcodeOf(reply: Buffer): number {
  const answersAt = questionSectionEnd(reply);
  if (answersAt < 0) return 0;
  const opt = scanForOpt(reply, answersAt);
  return opt.ok && opt.typeAt >= 0 ? (reply[opt.typeAt + 4] as number) : 0;
}

/**
 * `reply` with its ID set to the client's. Returned as is when the ID already matches. Otherwise
 * a copy, unless `inPlace` says the caller owns the buffer (a fresh upstream datagram, not a
 * cached reply shared between clients) — then it is patched without copying.
 */
export function withClientId(reply: Buffer, id: number, inPlace = false): Buffer {
  if (reply.length < 2 || reply.readUInt16BE(0) === id) return reply;
  const out = inPlace ? reply : Buffer.from(reply);
  out.writeUInt16BE(id, 0);
  return out;
}
