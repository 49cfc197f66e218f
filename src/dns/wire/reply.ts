/**
 * Reply builders for the local answers and errors (docs/ARCHITECTURE.md §3).
 *
 * Every reply is one `Buffer.allocUnsafe` sized exactly, then filled: the header, the question
 * copied byte for byte from the query (so the client's letter case is echoed, 0x20-safe), the
 * records, and an OPT when the query had EDNS. Because the header is 12 bytes in both messages,
 * the question name sits at offset 12 in the reply too, and every answer owned by the query name
 * is the two-byte pointer 0xC00C.
 *
 * A/AAAA records are precomputed once per NameInfo (see `precomputeAnswers`), so a query only
 * copies bytes; the per-query work is the header, the question copy and owner-pointer patches.
 */
import type { Lookup, NameInfo, SrvLookup } from '../../nametable/types';
import type { Query } from '../types';
import { ipv4Bytes, ipv6Bytes } from './addresses';
import {
  EDNS_ADVERTISED_SIZE,
  EDNS_DO_BIT,
  Flag,
  HEADER_LENGTH,
  OPT_RECORD_LENGTH,
  RRClass,
  RRType,
  Rcode,
} from './constants';
import { encodeName } from './names';

/** Owner name, type, class, TTL, RDLENGTH of a record whose owner is a compression pointer. */
const POINTER_RR_HEADER = 12;
const QUESTION_NAME_POINTER = 0xc000 | HEADER_LENGTH;
const EMPTY = Buffer.alloc(0);

/** A/AAAA records of one name, ready to copy into a reply. */
export interface AddressRecords {
  readonly count: number;
  /** The records back to back, each owned by the pointer 0xC00C (the question name). */
  readonly bytes: Buffer;
  /** Length of one record (16 for A, 28 for AAAA): the owner pointers sit at multiples of it. */
  readonly recordLength: number;
}

/** Everything of a NameInfo's answers that does not depend on the query. */
export interface PrecomputedAnswers {
  readonly ttl: number;
  readonly a: AddressRecords;
  readonly aaaa: AddressRecords;
  /** `info.name` in wire form, for CNAME and SRV targets that are the key itself. */
  readonly nameWire: Buffer;
}

/**
 * One per answered name, so kept small (a client walking many names of a large table makes one
 * each): the records of a family without addresses are shared constants, record
 * bytes come from Node's pooled allocator (no ArrayBuffer of their own), and the wire form of the
 * name is made only when a CNAME or SRV target needs it.
 */
class Answers implements PrecomputedAnswers {
  private wire: Buffer | undefined;

  constructor(
    readonly ttl: number,
    readonly a: AddressRecords,
    readonly aaaa: AddressRecords,
    private readonly name: string,
  ) {}

  get nameWire(): Buffer {
    return (this.wire ??= encodeName(this.name));
  }
}

const precomputed = new WeakMap<NameInfo, PrecomputedAnswers>();
const NO_A: AddressRecords = { count: 0, bytes: EMPTY, recordLength: POINTER_RR_HEADER + 4 };
const NO_AAAA: AddressRecords = { count: 0, bytes: EMPTY, recordLength: POINTER_RR_HEADER + 16 };

/**
 * Builds (once, on a name's first answer) and memoizes the record bytes of `info`; later answers
 * only pay a WeakMap lookup. Not made ahead for every entry: that is three Buffers per name, for
 * names mostly never asked (the cost: docs/DECISIONS.md, "Answer bytes"). Throws a RangeError if an address is not
 * an IP of its family (the table validates addresses, so this points at a table bug).
 */
export function precomputeAnswers(info: NameInfo, ttl: number): PrecomputedAnswers {
  const known = precomputed.get(info);
  if (known !== undefined && known.ttl === ttl) return known;
  const answers = new Answers(
    ttl,
    info.v4.length === 0 ? NO_A : addressRecords(info.v4, RRType.A, ttl, ipv4Bytes),
    info.v6.length === 0 ? NO_AAAA : addressRecords(info.v6, RRType.AAAA, ttl, ipv6Bytes),
    info.name,
  );
  precomputed.set(info, answers);
  return answers;
}

function addressRecords(
  addresses: readonly string[],
  type: number,
  ttl: number,
  toBytes: (text: string) => Buffer | null,
): AddressRecords {
  const rdLength = type === RRType.A ? 4 : 16;
  const recordLength = POINTER_RR_HEADER + rdLength;
  // Every byte is written below: the record header, then the address.
  const bytes = Buffer.allocUnsafe(recordLength * addresses.length);
  addresses.forEach((text, i) => {
    const rdata = toBytes(text);
    if (rdata === null) throw new RangeError(`"${text}" is not an ${type === RRType.A ? 'IPv4' : 'IPv6'} address`);
    const at = writeRecordHeader(bytes, i * recordLength, QUESTION_NAME_POINTER, type, ttl, rdLength);
    rdata.copy(bytes, at);
  });
  return { count: addresses.length, bytes, recordLength };
}

/**
 * A/AAAA answer for a name found in the table (docs/ARCHITECTURE.md §2–3), AA=1.
 * - `name`/`wildcard`: the addresses owned by the query name; none of the asked family → NODATA.
 * - `search`: CNAME query → target (lower case, as in the table), then the addresses owned by
 *   the target (a pointer to the CNAME's rdata); none of the asked family → the CNAME alone.
 * A qtype other than A/AAAA gets no address records (NODATA, or the CNAME alone for `search`);
 * whether to answer those locally at all is the handler's decision (Istio forwards them).
 */
export function localAnswer(query: Query, lookup: Lookup, ttl: number, turn = 0): Buffer {
  const answers = precomputeAnswers(lookup.info, ttl);
  const records = query.type === RRType.A ? answers.a : query.type === RRType.AAAA ? answers.aaaa : null;
  const addressCount = records === null ? 0 : records.count;
  const addressBytes = records === null ? EMPTY : records.bytes;

  if (lookup.kind !== 'search') {
    const buf = startReply(query, Rcode.NOERROR, true, addressCount, 0, 0, addressBytes.length);
    addressBytes.copy(buf, query.questionEnd);
    if (addressCount > 1) rotateRecords(buf, query.questionEnd, records!, turn);
    return buf;
  }

  const target = lookup.target === lookup.info.name ? answers.nameWire : encodeName(lookup.target);
  const cnameLength = POINTER_RR_HEADER + target.length;
  const buf = startReply(query, Rcode.NOERROR, true, 1 + addressCount, 0, 0, cnameLength + addressBytes.length);
  const targetAt = writeRecordHeader(buf, query.questionEnd, QUESTION_NAME_POINTER, RRType.CNAME, ttl, target.length);
  target.copy(buf, targetAt);
  if (records !== null) {
    copyOwnedBy(records, buf, targetAt + target.length, targetAt);
    if (addressCount > 1) rotateRecords(buf, targetAt + target.length, records, turn);
  }
  return buf;
}

/**
 * Round robin (issue 17): the address records at `at` start with record `turn mod count`, so
 * clients that take the first address spread over all of them (as CoreDNS's loadbalance does).
 * The records are equal in length and owner, so a rotation is a swap of two byte runs.
 */
function rotateRecords(buf: Buffer, at: number, records: AddressRecords, turn: number): void {
  const shift = turn % records.count;
  if (shift === 0) return;
  const cut = shift * records.recordLength;
  const length = records.count * records.recordLength;
  const head = Buffer.from(buf.subarray(at, at + cut));
  buf.copy(buf, at, at + cut, at + length);
  head.copy(buf, at + length - cut);
}

/** PTR answer for a reverse name in the table: query name → `targetName`, AA=1. */
export function ptrAnswer(query: Query, targetName: string, ttl: number): Buffer {
  const target = encodeName(targetName);
  const buf = startReply(query, Rcode.NOERROR, true, 1, 0, 0, POINTER_RR_HEADER + target.length);
  const at = writeRecordHeader(buf, query.questionEnd, QUESTION_NAME_POINTER, RRType.PTR, ttl, target.length);
  target.copy(buf, at);
  return buf;
}

/** SRV priority and weight: one target per name, so any fixed values do; these match common servers. */
const SRV_PRIORITY = 0;
const SRV_WEIGHT = 100;

/**
 * SRV answer for `_port._proto.<name>`: one record (priority 0, weight 100, the port, target
 * `srv.target`), with the target's A and AAAA records in the additional section, owned by a
 * pointer to the SRV target (written uncompressed, as RFC 2782 asks). AA=1.
 */
export function srvAnswer(query: Query, srv: SrvLookup, ttl: number): Buffer {
  const answers = precomputeAnswers(srv.info, ttl);
  const target = srv.target === srv.info.name ? answers.nameWire : encodeName(srv.target);
  const rdLength = 6 + target.length;
  const additional = answers.a.count + answers.aaaa.count;
  const bodyLength = POINTER_RR_HEADER + rdLength + answers.a.bytes.length + answers.aaaa.bytes.length;
  const buf = startReply(query, Rcode.NOERROR, true, 1, 0, additional, bodyLength);
  let at = writeRecordHeader(buf, query.questionEnd, QUESTION_NAME_POINTER, RRType.SRV, ttl, rdLength);
  at = buf.writeUInt16BE(SRV_PRIORITY, at);
  at = buf.writeUInt16BE(SRV_WEIGHT, at);
  at = buf.writeUInt16BE(srv.port.port, at);
  const targetAt = at;
  target.copy(buf, targetAt);
  at += target.length;
  copyOwnedBy(answers.a, buf, at, targetAt);
  copyOwnedBy(answers.aaaa, buf, at + answers.a.bytes.length, targetAt);
  return buf;
}

/** NOERROR with an empty answer, AA=1: a known name without records of the asked type. */
export function nodata(query: Query): Buffer {
  return startReply(query, Rcode.NOERROR, true, 0, 0, 0, 0);
}

/**
 * An error reply with the question echoed (SERVFAIL, REFUSED, NXDOMAIN, NOTIMP, FORMERR,
 * BADVERS…). Rcodes above 15 put their upper bits in the OPT, so they need a query with EDNS;
 * without it only the lower 4 bits can be sent.
 */
export function errorReply(query: Query, rcode: number, authoritative = false): Buffer {
  return startReply(query, rcode, authoritative, 0, 0, 0, 0);
}

/**
 * FORMERR for a packet that did not parse far enough for a Query: header echoed, all counts 0.
 * `null` (send nothing) when there is no header to echo or the packet is itself a response.
 */
export function formerrFromPacket(packet: Buffer): Buffer | null {
  return headerOnlyReply(packet, Rcode.FORMERR);
}

/** A reply that is only a header derived from the packet's; `null` for a short packet or a response. */
export function headerOnlyReply(packet: Buffer, rcode: number): Buffer | null {
  if (packet.length < HEADER_LENGTH) return null;
  const flags = packet.readUInt16BE(2);
  if ((flags & Flag.QR) !== 0) return null;
  const buf = Buffer.alloc(HEADER_LENGTH);
  buf.writeUInt16BE(packet.readUInt16BE(0), 0);
  buf.writeUInt16BE(replyFlags(flags, rcode, false), 2);
  return buf;
}

/**
 * QR=1, opcode/RD/CD copied from the query, RA=1, AA as asked, the low 4 bits of the rcode.
 * For an opcode other than QUERY only QR, the opcode and the rcode: the other bits are defined
 * for QUERY alone (RFC 6895 §2), so a NOTIMP claims no recursion, no AA and echoes nothing.
 */
export function replyFlags(queryFlags: number, rcode: number, authoritative: boolean): number {
  const opcode = queryFlags & Flag.OPCODE_MASK;
  if (opcode !== 0) return Flag.QR | opcode | (rcode & Flag.RCODE_MASK);
  return (
    Flag.QR |
    (queryFlags & (Flag.RD | Flag.CD)) |
    (authoritative ? Flag.AA : 0) |
    Flag.RA |
    (rcode & Flag.RCODE_MASK)
  );
}

/**
 * The flags word of a reply made for one query and sent to another (a cache hit, a forwarded
 * answer): RD and CD are the asking query's (RFC 1035 §4.1.1 copies RD into the response), the
 * Z bit is clear, everything else (QR, opcode, AA, TC, RA, AD, rcode) is the reply's.
 */
export function answerFlagsFor(replyFlags: number, queryFlags: number): number {
  return (replyFlags & ~(Flag.RD | Flag.CD | Flag.Z)) | (queryFlags & (Flag.RD | Flag.CD));
}

/** Writes meshdns's OPT (root owner, 1232, extended rcode, version 0, DO echoed, no options) at `at`. */
export function writeOpt(buf: Buffer, at: number, extendedRcode: number, dnssecOk: boolean): number {
  buf[at] = 0;
  buf.writeUInt16BE(RRType.OPT, at + 1);
  buf.writeUInt16BE(EDNS_ADVERTISED_SIZE, at + 3);
  buf[at + 5] = extendedRcode & 0xff;
  buf[at + 6] = 0;
  buf.writeUInt16BE(dnssecOk ? EDNS_DO_BIT : 0, at + 7);
  buf.writeUInt16BE(0, at + 9);
  return at + OPT_RECORD_LENGTH;
}

/**
 * Allocates the reply and writes everything but the body: header, question, OPT at the end.
 * The body goes at `query.questionEnd` and is exactly `bodyLength` bytes; `additional` excludes
 * the OPT, which is counted here.
 */
function startReply(
  query: Query,
  rcode: number,
  authoritative: boolean,
  answers: number,
  authority: number,
  additional: number,
  bodyLength: number,
): Buffer {
  const hasOpt = query.edns !== null;
  const size = query.questionEnd + bodyLength + (hasOpt ? OPT_RECORD_LENGTH : 0);
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt16BE(query.id, 0);
  buf.writeUInt16BE(replyFlags(query.flags, rcode, authoritative), 2);
  buf.writeUInt16BE(1, 4);
  buf.writeUInt16BE(answers, 6);
  buf.writeUInt16BE(authority, 8);
  buf.writeUInt16BE(additional + (hasOpt ? 1 : 0), 10);
  query.packet.copy(buf, HEADER_LENGTH, HEADER_LENGTH, query.questionEnd);
  if (query.edns !== null) writeOpt(buf, size - OPT_RECORD_LENGTH, rcode >> 4, query.edns.dnssecOk);
  return buf;
}

/** Writes owner pointer, type, class IN, TTL and RDLENGTH; returns where the rdata goes. */
function writeRecordHeader(buf: Buffer, at: number, ownerPointer: number, type: number, ttl: number, rdLength: number): number {
  buf.writeUInt16BE(ownerPointer, at);
  buf.writeUInt16BE(type, at + 2);
  buf.writeUInt16BE(RRClass.IN, at + 4);
  buf.writeUInt32BE(ttl >>> 0, at + 6);
  buf.writeUInt16BE(rdLength, at + 10);
  return at + POINTER_RR_HEADER;
}

/** Copies precomputed records to `at`, re-pointing their owners at the name that starts at `ownerAt`. */
function copyOwnedBy(records: AddressRecords, buf: Buffer, at: number, ownerAt: number): void {
  if (records.count === 0) return;
  records.bytes.copy(buf, at);
  if (ownerAt === HEADER_LENGTH) return;
  // Replies built here are a few hundred bytes before the records, far below the 14-bit limit.
  const pointer = 0xc000 | ownerAt;
  for (let i = 0; i < records.count; i++) buf.writeUInt16BE(pointer, at + i * records.recordLength);
}
