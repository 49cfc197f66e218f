/**
 * Client packet → validated Query, or the reply the guard rules of docs/ARCHITECTURE.md §3 call for.
 *
 * Hand-written for the hot shape (one question, optional OPT): one pass over the bytes, the name
 * decoded once. Never throws; every malformed input maps to a documented outcome:
 *
 * | input                                              | outcome                                  |
 * |----------------------------------------------------|------------------------------------------|
 * | fewer than 12 bytes, or QR=1                       | dropped (reply null)                     |
 * | opcode ≠ QUERY                                     | NOTIMP, question echoed if it parses     |
 * | QDCOUNT ≠ 1, bad or cut-off question name          | FORMERR, header only                     |
 * | bad answer/authority/additional section, two OPTs, | FORMERR, question echoed                 |
 * | OPT not owned by the root                          |                                          |
 * | EDNS version > 0                                   | BADVERS (16) in an OPT, question echoed  |
 *
 * For TCP, `packet` is the message without its two-byte length prefix.
 */
import type { Edns, Query } from '../types';
import { EDNS_DO_BIT, Flag, HEADER_LENGTH, Opcode, Rcode, TCP_MAX, UDP_DEFAULT_MAX } from './constants';
import { readQuestionName } from './names';
import { errorReply, headerOnlyReply } from './reply';
import { scanForOpt } from './sections';

export type ParseOutcome =
  | { ok: true; query: Query }
  | { ok: false; reply: Buffer | null; reason: string };

export function parseQuery(packet: Buffer, transport: 'udp' | 'tcp'): ParseOutcome {
  if (packet.length < HEADER_LENGTH) return { ok: false, reply: null, reason: 'shorter than a DNS header' };
  const flags = packet.readUInt16BE(2);
  if ((flags & Flag.QR) !== 0) return { ok: false, reply: null, reason: 'a response (QR=1), not a query' };
  const opcode = (flags & Flag.OPCODE_MASK) >> 11;
  const questions = packet.readUInt16BE(4);

  if (opcode !== Opcode.QUERY) return notImplemented(packet, transport, opcode, questions);
  if (questions !== 1) {
    return { ok: false, reply: headerOnlyReply(packet, Rcode.FORMERR), reason: `QDCOUNT is ${questions}, expected 1` };
  }

  const question = readQuestion(packet, transport);
  if (!question.ok) return { ok: false, reply: headerOnlyReply(packet, Rcode.FORMERR), reason: question.reason };
  const query = question.query;

  const opt = scanForOpt(packet, query.questionEnd);
  if (!opt.ok) return { ok: false, reply: errorReply(query, Rcode.FORMERR), reason: opt.reason };
  if (opt.typeAt < 0) return { ok: true, query };

  const edns = ednsAt(packet, opt.typeAt);
  query.edns = edns;
  if (edns.version > 0) {
    return { ok: false, reply: errorReply(query, Rcode.BADVERS), reason: `EDNS version ${edns.version} is not supported` };
  }
  if (transport === 'udp') query.maxResponseSize = Math.max(UDP_DEFAULT_MAX, edns.udpPayloadSize);
  return { ok: true, query };
}

type QuestionRead = { ok: true; query: Query } | { ok: false; reason: string };

/** The header and the single question, as a Query without EDNS (filled in by the caller). */
function readQuestion(packet: Buffer, transport: 'udp' | 'tcp'): QuestionRead {
  const name = readQuestionName(packet, HEADER_LENGTH);
  if (!name.ok) return { ok: false, reason: `question name: ${name.error}` };
  if (name.end + 4 > packet.length) return { ok: false, reason: 'question cut off after the name' };
  return {
    ok: true,
    query: {
      packet,
      id: packet.readUInt16BE(0),
      flags: packet.readUInt16BE(2),
      name: name.name,
      key: name.key,
      type: packet.readUInt16BE(name.end),
      class: packet.readUInt16BE(name.end + 2),
      questionEnd: name.end + 4,
      edns: null,
      transport,
      maxResponseSize: transport === 'tcp' ? TCP_MAX : UDP_DEFAULT_MAX,
    },
  };
}

/** EDNS fields of the OPT whose TYPE is at `typeAt`: CLASS is the payload size, TTL holds ext-rcode, version, flags. */
function ednsAt(packet: Buffer, typeAt: number): Edns {
  return {
    udpPayloadSize: packet.readUInt16BE(typeAt + 2),
    version: packet[typeAt + 5] as number,
    dnssecOk: (packet.readUInt16BE(typeAt + 6) & EDNS_DO_BIT) !== 0,
  };
}

/** NOTIMP for other opcodes; the question (and OPT) are echoed when they parse, else header only. */
function notImplemented(packet: Buffer, transport: 'udp' | 'tcp', opcode: number, questions: number): ParseOutcome {
  const reason = `opcode ${opcode} is not implemented`;
  const question = questions === 1 ? readQuestion(packet, transport) : null;
  if (question === null || !question.ok) return { ok: false, reply: headerOnlyReply(packet, Rcode.NOTIMP), reason };
  const opt = scanForOpt(packet, question.query.questionEnd);
  if (opt.ok && opt.typeAt >= 0) question.query.edns = ednsAt(packet, opt.typeAt);
  return { ok: false, reply: errorReply(question.query, Rcode.NOTIMP), reason };
}
