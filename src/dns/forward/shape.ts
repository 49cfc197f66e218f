import type { Query } from '../types';
import { answerFlagsFor, fitToClient } from '../wire';
import {
  FLAG_CD,
  FLAG_QR,
  FLAG_RA,
  FLAG_RD,
  HEADER_SIZE,
  RCODE_SERVFAIL,
  RecordPosition,
  TYPE_OPT,
  UPSTREAM_UDP_PAYLOAD,
  appendRecord,
  buildOpt,
  findOpt,
  stripOpt,
  walkRecords,
} from './message';

/**
 * The bytes sent upstream for a client query: the client's message with EDNS payload size
 * 1232 advertised (its OPT rewritten in place, DO bit and options kept; or a fresh OPT
 * appended when the client sent none). The ID is set per exchange by the sender.
 */
export function buildUpstreamQuery(query: Query): Buffer {
  const packet = query.packet;
  let opt: RecordPosition | null = null;
  const end = walkRecords(packet, (rr) => {
    if (opt === null && rr.section === 'additional' && rr.type === TYPE_OPT) opt = rr;
  });
  if (end < 0) return Buffer.from(packet); // cannot happen for a parsed Query; forward verbatim
  if (opt === null) return appendRecord(packet, end, buildOpt(UPSTREAM_UDP_PAYLOAD, false));
  const out = Buffer.from(packet.subarray(0, end));
  // The OPT "class" field (just before the TTL) is the requestor's UDP payload size.
  out.writeUInt16BE(UPSTREAM_UDP_PAYLOAD, (opt as RecordPosition).ttlOffset - 2);
  return out;
}

/**
 * Makes a reply fit the client that asked: its ID, its RD and CD bits (the reply may have been
 * made for another query: a cache hit), an OPT only if the client sent EDNS (a client without
 * EDNS must never see one; an EDNS client always gets one), and no larger than
 * `query.maxResponseSize` — otherwise the whole records that fit, TC=1 (wire's `fitToClient`).
 * Everything else passes through byte for byte.
 *
 * Takes ownership of `reply`: it may be modified in place.
 */
export function shapeForClient(reply: Buffer, query: Query): Buffer {
  let out = reply;
  out.writeUInt16BE(query.id, 0);
  out.writeUInt16BE(answerFlagsFor(out.readUInt16BE(2), query.flags), 2);
  if (query.edns === null) {
    out = stripOpt(out);
  } else if (findOpt(out) === null) {
    // Only replies cached from a non-EDNS client lack an OPT; give the EDNS client one.
    const end = walkRecords(out, () => undefined);
    if (end >= 0) out = appendRecord(out, end, buildOpt(UPSTREAM_UDP_PAYLOAD, query.edns.dnssecOk));
  }
  return fitToClient(out, query);
}

/**
 * SERVFAIL for a query no upstream answered: the client's ID and question, QR=1, RD and CD
 * copied, RA=1, and an OPT (DO copied) when the client used EDNS.
 */
export function buildServfail(query: Query): Buffer {
  const question = query.packet.subarray(HEADER_SIZE, query.questionEnd);
  const opt = query.edns === null ? null : buildOpt(UPSTREAM_UDP_PAYLOAD, query.edns.dnssecOk);
  const out = Buffer.alloc(HEADER_SIZE + question.length + (opt === null ? 0 : opt.length));
  out.writeUInt16BE(query.id, 0);
  out.writeUInt16BE(FLAG_QR | (query.flags & (FLAG_RD | FLAG_CD)) | FLAG_RA | RCODE_SERVFAIL, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(opt === null ? 0 : 1, 10);
  question.copy(out, HEADER_SIZE);
  if (opt !== null) opt.copy(out, HEADER_SIZE + question.length);
  return out;
}
