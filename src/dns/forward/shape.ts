import type { Query } from '../types';
import { EDNS_ADVERTISED_SIZE, Flag, HEADER_LENGTH, Rcode, RRType } from '../wire/constants';
import { appendRecord, buildOpt } from '../wire/message';
import { walkRecords, type RecordPosition } from '../wire/sections';

export { shapeForClient } from '../wire/shape';

/**
 * The bytes sent upstream for a client query: the client's message with EDNS payload size
 * 1232 advertised (its OPT rewritten in place, DO bit and options kept; or a fresh OPT
 * appended when the client sent none). The ID is set per exchange by the sender.
 */
export function buildUpstreamQuery(query: Query): Buffer {
  const packet = query.packet;
  let opt: RecordPosition | null = null;
  const end = walkRecords(packet, (rr) => {
    if (opt === null && rr.section === 'additional' && rr.type === RRType.OPT) opt = rr;
  });
  if (end < 0) return Buffer.from(packet); // cannot happen for a parsed Query; forward verbatim
  if (opt === null) return appendRecord(packet, end, buildOpt(false));
  const out = Buffer.from(packet.subarray(0, end));
  // The OPT "class" field (just before the TTL) is the requestor's UDP payload size.
  out.writeUInt16BE(EDNS_ADVERTISED_SIZE, (opt as RecordPosition).ttlOffset - 2);
  return out;
}

/**
 * SERVFAIL for a query no upstream answered: the client's ID and question, QR=1, RD and CD
 * copied, RA=1, and an OPT (DO copied) when the client used EDNS.
 */
export function buildServfail(query: Query): Buffer {
  const question = query.packet.subarray(HEADER_LENGTH, query.questionEnd);
  const opt = query.edns === null ? null : buildOpt(query.edns.dnssecOk);
  const out = Buffer.alloc(HEADER_LENGTH + question.length + (opt === null ? 0 : opt.length));
  out.writeUInt16BE(query.id, 0);
  out.writeUInt16BE(Flag.QR | (query.flags & (Flag.RD | Flag.CD)) | Flag.RA | Rcode.SERVFAIL, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(opt === null ? 0 : 1, 10);
  question.copy(out, HEADER_LENGTH);
  if (opt !== null) opt.copy(out, HEADER_LENGTH + question.length);
  return out;
}
