/**
 * Making a reply fit the client (docs/ARCHITECTURE.md §3): anything larger than the client accepts
 * keeps as many whole records as fit and gets TC=1. Works on any reply bytes, local or from an
 * upstream; upstream replies otherwise pass through unchanged but for the ID.
 *
 * Stub resolvers that never retry over TCP (musl) use what a truncated reply carries, so it
 * carries records rather than being empty: the first records of the answer section, then of
 * the authority and additional sections while there is room, as dnsmasq and Istio's agent do.
 */
import type { Edns, Query } from '../types';
import { Flag, HEADER_LENGTH, OPT_RECORD_LENGTH } from './constants';
import { writeOpt } from './reply';
import { questionSectionEnd, scanForOpt, skipRecord } from './sections';

/**
 * What fitting a reply needs to know of the client: the parts of a `Query` it reads. The cache
 * fits a stored reply for a client that has not asked yet, so it passes these alone.
 */
export type ReplyClient = Pick<Query, 'id' | 'flags' | 'packet' | 'questionEnd' | 'maxResponseSize'> & { edns: Pick<Edns, 'dnssecOk'> | null };

/** `reply` itself when it fits `query.maxResponseSize`, else its truncated form. */
export function fitToClient(reply: Buffer, query: ReplyClient): Buffer {
  if (reply.length <= query.maxResponseSize || reply.length < HEADER_LENGTH) return reply;
  return truncated(reply, query);
}

/** Where a record sits in the reply. */
interface Span {
  start: number;
  end: number;
}

/**
 * The reply's ID and flags with TC=1, the client's own question (upstream replies were accepted
 * only when their question matched it, and this echoes the client's letter case), the longest
 * run of whole records from the start of the answer section that fits, and an OPT when the query
 * had EDNS: the reply's own when it has one that leaves room, else meshdns's with the reply's
 * extended rcode bits.
 *
 * The kept records are a prefix of the reply's and sit at the same offsets (the client's question
 * is as long as the reply's), so their compression pointers, which point back, stay valid. The
 * run ends at the reply's OPT: records after it would move once it is taken out.
 */
function truncated(reply: Buffer, query: ReplyClient): Buffer {
  const limit = query.maxResponseSize;
  const answersAt = questionSectionEnd(reply);
  const replyOpt = answersAt < 0 ? null : optSpan(reply, answersAt);
  let opt: Span | null = null;
  let optLength = 0;
  if (query.edns !== null) {
    const own = replyOpt !== null && query.questionEnd + (replyOpt.end - replyOpt.start) <= limit;
    opt = own ? replyOpt : null;
    optLength = own ? replyOpt.end - replyOpt.start : OPT_RECORD_LENGTH;
  }
  // A reply whose question does not end where the client's does keeps no records (their offsets would not hold).
  const kept =
    answersAt === query.questionEnd ? keptRecords(reply, answersAt, limit - optLength, replyOpt) : { end: query.questionEnd, counts: NONE };

  const recordsLength = kept.end - query.questionEnd;
  const out = Buffer.allocUnsafe(query.questionEnd + recordsLength + optLength);
  out.writeUInt16BE(reply.readUInt16BE(0), 0);
  out.writeUInt16BE(reply.readUInt16BE(2) | Flag.TC, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(kept.counts[0], 6);
  out.writeUInt16BE(kept.counts[1], 8);
  out.writeUInt16BE(kept.counts[2] + (query.edns === null ? 0 : 1), 10);
  query.packet.copy(out, HEADER_LENGTH, HEADER_LENGTH, query.questionEnd);
  if (recordsLength > 0) reply.copy(out, query.questionEnd, query.questionEnd, kept.end);
  const optAt = query.questionEnd + recordsLength;
  if (opt !== null) reply.copy(out, optAt, opt.start, opt.end);
  else if (query.edns !== null) writeOpt(out, optAt, replyOpt === null ? 0 : (reply[replyOpt.start + 5] as number), query.edns.dnssecOk);
  return out;
}

interface Kept {
  /** Offset just past the last kept record (the answer section's start when none is kept). */
  end: number;
  /** Kept records per section: answer, authority, additional. */
  counts: [number, number, number];
}

const NONE: [number, number, number] = [0, 0, 0];

/** The longest run of whole records from `answersAt` ending within `budget` bytes, stopping at the OPT or at a malformed record. */
function keptRecords(reply: Buffer, answersAt: number, budget: number, opt: Span | null): Kept {
  const counts: [number, number, number] = [0, 0, 0];
  let end = answersAt;
  for (let section = 0; section < 3; section++) {
    const total = reply.readUInt16BE(6 + 2 * section);
    for (let i = 0; i < total; i++) {
      if (opt !== null && end === opt.start) return { end, counts };
      const next = skipRecord(reply, end);
      if (next < 0 || next > budget) return { end, counts };
      end = next;
      counts[section]++;
    }
  }
  return { end, counts };
}

/** The reply's OPT record (owner byte to the end of its data), or null when it has none or its sections do not parse. */
function optSpan(reply: Buffer, answersAt: number): Span | null {
  const scan = scanForOpt(reply, answersAt);
  if (!scan.ok || scan.typeAt < 0) return null;
  // The root owner is the one byte before TYPE; TYPE, CLASS, TTL, RDLENGTH are 10 bytes.
  return { start: scan.typeAt - 1, end: scan.typeAt + 10 + reply.readUInt16BE(scan.typeAt + 8) };
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
