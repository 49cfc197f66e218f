import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fc from 'fast-check';
import * as dnsPacket from 'dns-packet';
import { parseQuery, Rcode, RRType } from '../../../src/dns/wire';
import { decode, optOf, queryPacket, type QuerySpec } from './fixtures';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** A header: id 0xBEEF, then flags and the four counts as given. */
const header = (flags: number, qd: number, an = 0, ns = 0, ar = 0): string =>
  'beef' + [flags, qd, an, ns, ar].map((n) => n.toString(16).padStart(4, '0')).join('');
/** Question `foo.example A IN`. */
const QUESTION = '03666f6f 076578616d706c65 00 0001 0001';
/** An OPT record: root owner, payload size, ext-rcode 0, version, DO flags, no options. */
const opt = (size = 1232, version = 0, flags = 0): string =>
  '00 0029' + size.toString(16).padStart(4, '0') + '00' + version.toString(16).padStart(2, '0') + flags.toString(16).padStart(4, '0') + '0000';
const RD = 0x0100;

// ---------------------------------------------------------------- valid queries

interface ValidRow {
  what: string;
  spec: QuerySpec;
  transport?: 'udp' | 'tcp';
  expect: { name: string; key: string; type: number; maxResponseSize: number; edns: null | { udpPayloadSize: number; version: number; dnssecOk: boolean } };
}
const validRows: ValidRow[] = [
  {
    what: 'client letter case kept in name, lower-cased in key',
    spec: { name: 'AdDrEsS.InTeRnAl' },
    expect: { name: 'AdDrEsS.InTeRnAl', key: 'address.internal', type: RRType.A, maxResponseSize: 512, edns: null },
  },
  {
    what: 'UDP without EDNS is limited to 512',
    spec: { name: 'foo.example', type: 'AAAA' },
    expect: { name: 'foo.example', key: 'foo.example', type: RRType.AAAA, maxResponseSize: 512, edns: null },
  },
  {
    what: 'UDP with EDNS 4096 takes the advertised size, DO bit read',
    spec: { name: 'foo.example', edns: { size: 4096, dnssecOk: true } },
    expect: { name: 'foo.example', key: 'foo.example', type: RRType.A, maxResponseSize: 4096, edns: { udpPayloadSize: 4096, version: 0, dnssecOk: true } },
  },
  {
    what: 'UDP with EDNS below 512 is raised to 512',
    spec: { name: 'foo.example', edns: { size: 100 } },
    expect: { name: 'foo.example', key: 'foo.example', type: RRType.A, maxResponseSize: 512, edns: { udpPayloadSize: 100, version: 0, dnssecOk: false } },
  },
  {
    what: 'UDP with EDNS 65535 allows 65535',
    spec: { name: 'foo.example', edns: { size: 65535 } },
    expect: { name: 'foo.example', key: 'foo.example', type: RRType.A, maxResponseSize: 65535, edns: { udpPayloadSize: 65535, version: 0, dnssecOk: false } },
  },
  {
    what: 'TCP allows 65535 without EDNS',
    spec: { name: 'foo.example' },
    transport: 'tcp',
    expect: { name: 'foo.example', key: 'foo.example', type: RRType.A, maxResponseSize: 65535, edns: null },
  },
  {
    what: 'TCP allows 65535 whatever EDNS says',
    spec: { name: 'foo.example', edns: { size: 1232 } },
    transport: 'tcp',
    expect: { name: 'foo.example', key: 'foo.example', type: RRType.A, maxResponseSize: 65535, edns: { udpPayloadSize: 1232, version: 0, dnssecOk: false } },
  },
  {
    what: 'the root name is ""',
    spec: { name: '.', type: 'NS' },
    expect: { name: '', key: '', type: RRType.NS, maxResponseSize: 512, edns: null },
  },
];
for (const row of validRows) {
  test(`valid: ${row.what}`, () => {
    const packet = queryPacket(row.spec);
    const outcome = parseQuery(packet, row.transport ?? 'udp');
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.reason);
    if (!outcome.ok) return;
    const q = outcome.query;
    assert.equal(
      { name: q.name, key: q.key, type: q.type, maxResponseSize: q.maxResponseSize, edns: q.edns },
      row.expect,
    );
    assert.is(q.id, 0x1234);
    assert.is(q.class, 1);
    assert.is(q.flags, RD);
    assert.is(q.packet, packet);
    assert.is(q.transport, row.transport ?? 'udp');
    // The question ends where the OPT (11 bytes) starts, or at the end of the packet.
    assert.is(q.questionEnd, packet.length - (row.spec.edns ? 11 : 0));
  });
}

test('valid: non-LDH bytes in the name are presentation-escaped, key lower-cases only letters', () => {
  const packet = hex(header(RD, 1) + '03 412e42 03 00ff20 00 0001 0001');
  const outcome = parseQuery(packet, 'udp');
  assert.ok(outcome.ok);
  if (outcome.ok) {
    assert.is(outcome.query.name, 'A\\.B.\\000\\255\\032');
    assert.is(outcome.query.key, 'a\\.b.\\000\\255\\032');
  }
});

test('valid: OPT found after skipping answer and authority records (with pointers)', () => {
  const answer = 'c00c 0001 0001 0000001e 0004 0a000001';
  const packet = hex(header(RD, 1, 1, 1, 1) + QUESTION + answer + answer + opt(2048));
  const outcome = parseQuery(packet, 'udp');
  assert.ok(outcome.ok);
  if (outcome.ok) assert.is(outcome.query.maxResponseSize, 2048);
});

test('valid: a looping pointer in a non-OPT additional record is skipped, never followed', () => {
  // Owner of the first additional record points at itself.
  const loopAt = 12 + hex(QUESTION).length;
  const loop = (0xc000 | loopAt).toString(16) + '0010 0001 00000000 0000';
  const outcome = parseQuery(hex(header(RD, 1, 0, 0, 2) + QUESTION + loop + opt(1400)), 'udp');
  assert.ok(outcome.ok);
  if (outcome.ok) assert.is(outcome.query.maxResponseSize, 1400);
});

test('valid: trailing bytes after the counted sections are ignored', () => {
  const outcome = parseQuery(hex(header(RD, 1) + QUESTION + 'deadbeef'), 'udp');
  assert.ok(outcome.ok);
});

// ---------------------------------------------------------------- malformed input

interface BadRow {
  what: string;
  packet: Buffer;
  /** null: dropped; else the reply's rcode (extended included), and whether it echoes the question. */
  expect: null | { rcode: number; question: boolean; opt?: boolean };
}
const labelOf = (n: number): string => n.toString(16).padStart(2, '0') + '61'.repeat(n);
const cutQuestion = hex(header(RD, 1) + QUESTION);
const badRows: BadRow[] = [
  { what: 'empty packet is dropped', packet: Buffer.alloc(0), expect: null },
  { what: 'fewer than 12 bytes is dropped', packet: hex('beef0100000100000000'), expect: null },
  { what: 'a response (QR=1) is dropped', packet: hex(header(0x8000 | RD, 1) + QUESTION), expect: null },
  { what: 'a response with garbage after it is still dropped', packet: hex(header(0x8180, 0) + 'ff'), expect: null },
  { what: 'opcode 2 (STATUS) gets NOTIMP with the question echoed', packet: hex(header(0x1000 | RD, 1) + QUESTION), expect: { rcode: Rcode.NOTIMP, question: true } },
  { what: 'opcode 15 with RD, CD, AD, Z and TC set gets NOTIMP, none of them echoed', packet: hex(header(0x7800 | 0x0200 | RD | 0x0070, 1) + QUESTION), expect: { rcode: Rcode.NOTIMP, question: true } },
  { what: 'opcode 5 (UPDATE) without a parsable question gets NOTIMP, header only', packet: hex(header(0x2800, 1) + 'c00c'), expect: { rcode: Rcode.NOTIMP, question: false } },
  { what: 'opcode 4 (NOTIFY) with QDCOUNT 0 gets NOTIMP, header only', packet: hex(header(0x2000, 0)), expect: { rcode: Rcode.NOTIMP, question: false } },
  { what: 'opcode 1 with EDNS gets NOTIMP with an OPT', packet: hex(header(0x0800, 1, 0, 0, 1) + QUESTION + opt()), expect: { rcode: Rcode.NOTIMP, question: true, opt: true } },
  { what: 'QDCOUNT 0 gets FORMERR', packet: hex(header(RD, 0)), expect: { rcode: Rcode.FORMERR, question: false } },
  { what: 'QDCOUNT 2 gets FORMERR', packet: hex(header(RD, 2) + QUESTION + QUESTION), expect: { rcode: Rcode.FORMERR, question: false } },
  { what: 'question cut inside the name gets FORMERR', packet: cutQuestion.subarray(0, 17), expect: { rcode: Rcode.FORMERR, question: false } },
  { what: 'question cut before type/class gets FORMERR', packet: cutQuestion.subarray(0, cutQuestion.length - 2), expect: { rcode: Rcode.FORMERR, question: false } },
  { what: 'header only with QDCOUNT 1 gets FORMERR', packet: hex(header(RD, 1)), expect: { rcode: Rcode.FORMERR, question: false } },
  { what: 'label longer than 63 (length byte 0x40) gets FORMERR', packet: hex(header(RD, 1) + labelOf(64) + '00 0001 0001'), expect: { rcode: Rcode.FORMERR, question: false } },
  { what: 'name longer than 255 bytes gets FORMERR', packet: hex(header(RD, 1) + labelOf(63).repeat(4) + '00 0001 0001'), expect: { rcode: Rcode.FORMERR, question: false } },
  { what: 'compression pointer in the question gets FORMERR', packet: hex(header(RD, 1) + '03666f6f c00c 0001 0001'), expect: { rcode: Rcode.FORMERR, question: false } },
  { what: 'self-pointer as the question name gets FORMERR', packet: hex(header(RD, 1) + 'c00c 0001 0001'), expect: { rcode: Rcode.FORMERR, question: false } },
  { what: 'OPT twice gets FORMERR', packet: hex(header(RD, 1, 0, 0, 2) + QUESTION + opt() + opt()), expect: { rcode: Rcode.FORMERR, question: true } },
  { what: 'OPT not owned by the root gets FORMERR', packet: hex(header(RD, 1, 0, 0, 1) + QUESTION + '0161' + opt().slice(2)), expect: { rcode: Rcode.FORMERR, question: true } },
  { what: 'OPT owned by a looping pointer gets FORMERR', packet: hex(header(RD, 1, 0, 0, 1) + QUESTION + 'c01d' + opt().slice(2)), expect: { rcode: Rcode.FORMERR, question: true } },
  { what: 'ARCOUNT larger than the records present gets FORMERR', packet: hex(header(RD, 1, 0, 0, 2) + QUESTION + opt()), expect: { rcode: Rcode.FORMERR, question: true } },
  { what: 'ANCOUNT with a cut-off record gets FORMERR', packet: hex(header(RD, 1, 1) + QUESTION + 'c00c 0001 0001 0000'), expect: { rcode: Rcode.FORMERR, question: true } },
  { what: 'OPT rdata longer than the packet gets FORMERR', packet: hex(header(RD, 1, 0, 0, 1) + QUESTION + '00 0029 04d0 00000000 0010 00'), expect: { rcode: Rcode.FORMERR, question: true } },
  { what: 'EDNS version 1 gets BADVERS in a version-0 OPT', packet: hex(header(RD, 1, 0, 0, 1) + QUESTION + opt(4096, 1)), expect: { rcode: Rcode.BADVERS, question: true, opt: true } },
];
for (const row of badRows) {
  test(`malformed: ${row.what}`, () => {
    const outcome = parseQuery(row.packet, 'udp');
    assert.is(outcome.ok, false);
    if (outcome.ok) return;
    assert.type(outcome.reason, 'string');
    if (row.expect === null) {
      assert.is(outcome.reply, null);
      return;
    }
    assert.ok(outcome.reply, 'expected a reply');
    if (outcome.reply === null) return;
    const reply = decode(outcome.reply);
    const replyOpt = optOf(reply);
    const rcode = (outcome.reply.readUInt16BE(2) & 0xf) | ((replyOpt?.extendedRcode ?? 0) << 4);
    assert.is(rcode, row.expect.rcode, 'rcode');
    assert.is(reply.id, 0xbeef, 'id echoed');
    assert.is(reply.flag_qr, true, 'QR');
    assert.is(reply.flag_aa, false, 'AA');
    const opcode = row.packet.readUInt16BE(2) & 0x7800;
    assert.is(outcome.reply.readUInt16BE(2) & 0x7800, opcode, 'opcode copied');
    if (opcode === 0) {
      assert.is(reply.flag_ra, true, 'RA');
      assert.is(reply.flag_rd, (row.packet.readUInt16BE(2) & RD) !== 0, 'RD copied');
    } else {
      // Only QUERY defines the other bits (RFC 6895 §2): no RA, nothing echoed.
      assert.is(outcome.reply.readUInt16BE(2), 0x8000 | opcode | Rcode.NOTIMP, 'only QR, opcode and rcode');
    }
    assert.is(reply.questions?.length, row.expect.question ? 1 : 0, 'question echoed');
    if (row.expect.question) assert.is(reply.questions?.[0]?.name, 'foo.example');
    assert.is((reply.answers ?? []).length, 0);
    assert.is(replyOpt !== undefined, row.expect.opt === true, 'OPT presence');
    if (replyOpt) {
      assert.is(replyOpt.ednsVersion, 0);
      assert.is(replyOpt.udpPayloadSize, 1232);
    }
  });
}

// ---------------------------------------------------------------- properties

/** Every reply parseQuery produces must decode with dns-packet and be a response. */
function checkOutcome(packet: Buffer, transport: 'udp' | 'tcp'): void {
  const outcome = parseQuery(packet, transport);
  if (outcome.ok) {
    assert.ok(outcome.query.questionEnd <= packet.length);
    assert.ok(outcome.query.maxResponseSize >= 512 && outcome.query.maxResponseSize <= 65535);
    return;
  }
  if (outcome.reply === null) return;
  const reply = dnsPacket.decode(outcome.reply);
  assert.is(reply.flag_qr, true);
  assert.is(reply.id, packet.readUInt16BE(0));
}

test('property: parseQuery never throws on arbitrary bytes; its replies decode', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.constantFrom<'udp' | 'tcp'>('udp', 'tcp'), (bytes, transport) => {
      checkOutcome(Buffer.from(bytes), transport);
    }),
    { numRuns: 3000 },
  );
});

test('property: parseQuery never throws on mutated valid queries; its replies decode', () => {
  const seeds = [
    queryPacket({ name: 'AdDrEsS.InTeRnAl', edns: { size: 4096, dnssecOk: true } }),
    hex(header(RD, 1, 1, 0, 1) + QUESTION + 'c00c 0001 0001 0000001e 0004 0a000001' + opt()),
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      (seed, flips, cut) => {
        const packet = Buffer.from(seed);
        // Keep QR clear in most runs so mutations reach the question/OPT parser.
        for (const [at, value] of flips) packet[at % packet.length] = value;
        if (cut % 3 === 0) packet[2] = (packet[2] as number) & 0x7f;
        checkOutcome(cut % 5 === 0 ? packet.subarray(0, cut % packet.length) : packet, 'udp');
      },
    ),
    { numRuns: 5000 },
  );
});

test.run();
