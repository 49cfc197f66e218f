import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fc from 'fast-check';
import * as dnsPacket from 'dns-packet';
import { fitToClient, localAnswer, parseQuery, srvAnswer, withClientId } from '../../../src/dns/wire';
import { skipRecords } from '../../../src/dns/wire/sections';
import type { Query } from '../../../src/dns/types';
import { decode, manyV4, nameInfo, optOf, parsed, type QuerySpec } from './fixtures';

const TTL = 30;
const headless = nameInfo('big.ns.svc.cluster.local', manyV4(100));

interface FitRow {
  what: string;
  spec: QuerySpec;
  transport: 'udp' | 'tcp';
  truncated: boolean;
}
const fitRows: FitRow[] = [
  { what: '100 A records over UDP without EDNS → the 29 that fit, TC=1, within 512 bytes', spec: { name: 'Big.NS.svc.cluster.local' }, transport: 'udp', truncated: true },
  { what: '100 A records over UDP with EDNS 1232 → the 73 that fit, TC=1, with an OPT', spec: { name: 'big.ns.svc.cluster.local', edns: { size: 1232, dnssecOk: true } }, transport: 'udp', truncated: true },
  { what: '100 A records over UDP with EDNS 512 → the 28 that fit beside the OPT', spec: { name: 'big.ns.svc.cluster.local', edns: { size: 512 } }, transport: 'udp', truncated: true },
  { what: '100 A records over UDP with EDNS 4096 fit fully', spec: { name: 'big.ns.svc.cluster.local', edns: { size: 4096 } }, transport: 'udp', truncated: false },
  { what: '100 A records over TCP fit fully', spec: { name: 'big.ns.svc.cluster.local' }, transport: 'tcp', truncated: false },
  { what: '100 A records over TCP with EDNS 512 fit fully (the EDNS size is for UDP)', spec: { name: 'big.ns.svc.cluster.local', edns: { size: 512 } }, transport: 'tcp', truncated: false },
];
for (const row of fitRows) {
  test(`fitToClient: ${row.what}`, () => {
    const query = parsed(row.spec, row.transport);
    const full = localAnswer(query, { kind: 'name', info: headless }, TTL);
    assert.ok(full.length > 512, 'the full answer is over the classic limit');
    const out = fitToClient(full, query);
    const message = decode(out);
    assert.is(message.id, query.id);
    assert.is(message.flag_tc, row.truncated, 'TC');
    assert.ok(out.length <= query.maxResponseSize, `${out.length} <= ${query.maxResponseSize}`);
    assert.is(message.questions?.[0]?.name, row.spec.name, 'question in the client case');
    assert.is(optOf(message) !== undefined, query.edns !== null, 'OPT iff EDNS');
    if (row.truncated) {
      // Header + question + 16-byte A records (+ an 11-byte OPT): as many as fit, in order.
      const fitting = Math.floor((query.maxResponseSize - query.questionEnd - (query.edns === null ? 0 : 11)) / 16);
      const answers = (message.answers ?? []) as dnsPacket.StringAnswer[];
      assert.equal(answers.map((a) => a.data), manyV4(100).slice(0, fitting), `the first ${fitting} records`);
      assert.ok(answers.every((a) => a.name === row.spec.name && a.ttl === TTL), 'owners point at the question');
      assert.is(message.authorities?.length, 0);
      assert.is(message.flag_aa, true, 'flags of the reply kept');
      assert.is(optOf(message)?.flag_do ?? false, query.edns?.dnssecOk ?? false, 'DO echoed');
      assert.ok(out.length > query.maxResponseSize - 16, 'no room left for one more record');
    } else {
      assert.is(out, full, 'a reply that fits is passed through untouched');
      assert.is(message.answers?.length, 100);
    }
  });
}

/** An upstream-style reply (dns-packet compresses names) of `count` TXT authority records and an OPT with extended rcode 2. */
function upstreamNxdomain(count: number): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: 0x1234,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 3 /* NXDOMAIN */,
    questions: [{ name: 'ext.example', type: 'A', class: 'IN' }],
    authorities: Array.from({ length: count }, (_, i) => ({ name: 'ext.example', type: 'TXT' as const, ttl: 60, data: `padding record ${i} `.repeat(3) })),
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 2, flags: 0 } as dnsPacket.Answer],
  });
}

test('fitToClient: an upstream reply keeps the authority records that fit, its rcode and its own OPT (extended rcode)', () => {
  const query = parsed({ name: 'Ext.Example', edns: { size: 600 } });
  const upstream = upstreamNxdomain(20);
  assert.ok(upstream.length > 600);
  const out = fitToClient(upstream, query);
  assert.ok(out.length <= 600, `${out.length} bytes`);
  const message = decode(out);
  const original = decode(upstream);
  assert.is(message.flag_tc, true);
  assert.is(message.rcode, 'NXDOMAIN');
  assert.is(optOf(message)?.extendedRcode, 2);
  assert.is(optOf(message)?.udpPayloadSize, 1232, "the upstream's OPT itself");
  assert.is(message.questions?.[0]?.name, 'Ext.Example');
  const kept = message.authorities?.length ?? 0;
  assert.ok(kept > 0 && kept < 20, `${kept} authority records kept`);
  assert.equal(message.authorities, original.authorities?.slice(0, kept), 'whole records, in order, names intact');
  assert.equal([message.answers?.length, message.additionals?.length], [0, 1]);
});

test('fitToClient: a client without EDNS gets no OPT even when the reply has one', () => {
  const query = parsed({ name: 'ext.example' });
  const out = fitToClient(upstreamNxdomain(20), query);
  const message = decode(out);
  assert.is(message.flag_tc, true);
  assert.is(optOf(message), undefined);
  assert.ok((message.authorities?.length ?? 0) > 0);
  assert.ok(out.length <= 512);
});

test('fitToClient: compression pointers of kept records stay valid (search CNAME then addresses owned by its target)', () => {
  const query = parsed({ name: 'big.ns.svc.cluster.local.corp.example' });
  const full = localAnswer(query, { kind: 'search', info: headless, target: headless.name, searchDomain: 'corp.example', viaWildcard: false }, TTL);
  const message = decode(fitToClient(full, query));
  assert.is(message.flag_tc, true);
  assert.equal(message.answers?.[0], { name: 'big.ns.svc.cluster.local.corp.example', type: 'CNAME', class: 'IN', ttl: TTL, flush: false, data: 'big.ns.svc.cluster.local' });
  const addresses = message.answers?.slice(1) ?? [];
  assert.ok(addresses.length > 20);
  assert.ok(addresses.every((a) => a.name === 'big.ns.svc.cluster.local'), 'owners resolve to the CNAME target');
});

test('fitToClient: an SRV answer keeps the SRV record and the target addresses that fit, owned by the target name', () => {
  const query = parsed({ name: '_http._tcp.big.ns.svc.cluster.local', type: 'SRV', edns: { size: 512 } });
  const full = srvAnswer(query, { info: headless, target: headless.name, port: { name: 'http', port: 80, transport: 'tcp' } }, TTL);
  const out = fitToClient(full, query);
  const message = decode(out);
  assert.is(message.flag_tc, true, 'additional records were left out');
  assert.ok(out.length <= 512);
  assert.equal(message.answers?.map((a) => a.type), ['SRV']);
  const additionals = (message.additionals ?? []).filter((a) => a.type !== 'OPT') as dnsPacket.StringAnswer[];
  assert.ok(additionals.length > 20, `${additionals.length} addresses kept`);
  assert.equal(additionals.map((a) => a.data), manyV4(100).slice(0, additionals.length));
  assert.ok(additionals.every((a) => a.name === headless.name), 'owners point at the SRV target');
  assert.is(optOf(message)?.udpPayloadSize, 1232, 'the OPT last');
});

test('fitToClient: records after an OPT in the middle of the additional section are dropped (they would move)', () => {
  const query = parsed({ name: 'ext.example', edns: { size: 512 } });
  const reply = dnsPacket.encode({
    type: 'response',
    id: 0x1234,
    flags: 0x8180,
    questions: [{ name: 'ext.example', type: 'A', class: 'IN' }],
    answers: [{ name: 'ext.example', type: 'A', ttl: 60, data: '192.0.2.1' }],
    additionals: [
      { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0 } as dnsPacket.Answer,
      ...Array.from({ length: 40 }, (_, i) => ({ name: `n${i}.ext.example`, type: 'A' as const, ttl: 60, data: '192.0.2.2' })),
    ],
  });
  assert.ok(reply.length > 512);
  const message = decode(fitToClient(reply, query));
  assert.is(message.flag_tc, true);
  assert.is(message.answers?.length, 1);
  assert.equal(message.additionals?.map((a) => a.type), ['OPT']);
});

test("fitToClient: an upstream OPT too large to leave room is replaced by meshdns's bare one", () => {
  const query = parsed({ name: 'ext.example', edns: { size: 512 } });
  const reply = dnsPacket.encode({
    type: 'response',
    id: 0x1234,
    flags: 0x8180,
    questions: [{ name: 'ext.example', type: 'A', class: 'IN' }],
    answers: Array.from({ length: 30 }, () => ({ name: 'ext.example', type: 'A' as const, ttl: 60, data: '192.0.2.1' })),
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 1, flags: 0, options: [{ code: 65001, data: Buffer.alloc(500) }] } as unknown as dnsPacket.Answer],
  });
  const out = fitToClient(reply, query);
  const message = decode(out);
  assert.ok(out.length <= 512);
  assert.is(message.flag_tc, true);
  assert.equal(optOf(message)?.options, []);
  assert.is(optOf(message)?.extendedRcode, 1);
  // dns-packet writes names uncompressed: each A record is 13 + 10 + 4 bytes.
  assert.is(message.answers?.length, Math.floor((512 - query.questionEnd - 11) / 27));
});

test('fitToClient: a reply larger than the limit but with broken sections is still truncated cleanly', () => {
  const query = parsed({ name: 'x.example', edns: { size: 512 } });
  const garbage = Buffer.alloc(1000, 0xc0);
  garbage.writeUInt16BE(query.id, 0);
  garbage.writeUInt16BE(0x8180, 2);
  const message = decode(fitToClient(garbage, query));
  assert.is(message.flag_tc, true);
  assert.is(optOf(message)?.extendedRcode, 0);
});

const idRows: Array<[string, number, boolean, 'same' | 'copy']> = [
  ['matching ID: the same buffer, no copy', 0x1234, false, 'same'],
  ['other ID: a patched copy, the original untouched', 0x4321, false, 'copy'],
  ['other ID in place: the same buffer, patched', 0x4321, true, 'same'],
];
for (const [what, id, inPlace, identity] of idRows) {
  test(`withClientId: ${what}`, () => {
    const reply = dnsPacket.encode({ type: 'response', id: 0x1234, questions: [{ name: 'a.b', type: 'A' }] });
    const before = Buffer.from(reply);
    const out = withClientId(reply, id, inPlace);
    assert.is(out.readUInt16BE(0), id);
    assert.is(out === reply, identity === 'same');
    if (!inPlace) assert.equal(reply, before);
    assert.equal(out.subarray(2), before.subarray(2), 'only the ID changes');
  });
}

/**
 * A truncated reply is framed right: within the limit, TC=1, the client's question, and the
 * section counts describe exactly the records present (walking them ends at the last byte).
 */
function assertWellFramed(out: Buffer, query: Query): void {
  assert.ok(out.length <= query.maxResponseSize, `${out.length} <= ${query.maxResponseSize}`);
  assert.ok((out[2] & 0x02) !== 0, 'TC');
  assert.is(out.readUInt16BE(4), 1);
  assert.equal(out.subarray(12, query.questionEnd), query.packet.subarray(12, query.questionEnd), "the client's question");
  const records = out.readUInt16BE(6) + out.readUInt16BE(8) + out.readUInt16BE(10);
  assert.is(skipRecords(out, query.questionEnd, records), out.length, 'counts match the records');
}

const propertyQueries = [
  parsed({ name: 'AdDrEsS.InTeRnAl' }),
  parsed({ name: 'a.b', edns: { size: 1232, dnssecOk: true } }),
  parsed({ name: 'x.y', edns: { size: 512 } }),
];

test('property: fitToClient never throws on arbitrary reply bytes; truncated replies are well framed', () => {
  fc.assert(
    fc.property(fc.constantFrom(...propertyQueries), fc.uint8Array({ maxLength: 1600 }), (query, bytes) => {
      const reply = Buffer.from(bytes);
      const out = fitToClient(reply, query);
      if (out === reply) return;
      assertWellFramed(out, query);
    }),
    { numRuns: 2000 },
  );
});

test('property: a reply with the right question and arbitrary records keeps a well-framed prefix of them', () => {
  let keptSome = 0;
  const record = fc
    .tuple(fc.constantFrom(Buffer.from([0xc0, 0x0c]), Buffer.from([0]), Buffer.from([1, 0x61, 0xc0, 0x0c])), fc.constantFrom(1, 5, 16, 28, 41), fc.uint8Array({ minLength: 4, maxLength: 120, size: 'max' }))
    .map(([owner, type, rdata]) => {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt16BE(type, 0);
      fixed.writeUInt16BE(1, 2);
      fixed.writeUInt32BE(60, 4);
      fixed.writeUInt16BE(rdata.length, 8);
      return Buffer.concat([owner, fixed, Buffer.from(rdata)]);
    });
  fc.assert(
    fc.property(fc.constantFrom(...propertyQueries), fc.array(record, { minLength: 1, maxLength: 60, size: 'max' }), fc.nat(3), fc.nat(3), (query, records, ns, ar) => {
      const header = Buffer.alloc(12);
      header.writeUInt16BE(query.id, 0);
      header.writeUInt16BE(0x8180, 2);
      header.writeUInt16BE(1, 4);
      const authority = Math.min(ns, records.length);
      const additional = Math.min(ar, records.length - authority);
      header.writeUInt16BE(records.length - authority - additional, 6);
      header.writeUInt16BE(authority, 8);
      header.writeUInt16BE(additional, 10);
      const reply = Buffer.concat([header, query.packet.subarray(12, query.questionEnd), ...records]);
      const out = fitToClient(reply, query);
      if (out === reply) return;
      assertWellFramed(out, query);
      if (out.readUInt16BE(6) > 0) keptSome++;
      // The kept records are the reply's first ones, byte for byte.
      const recordsEnd = skipRecords(out, query.questionEnd, out.readUInt16BE(6) + out.readUInt16BE(8) + out.readUInt16BE(10) - (query.edns === null ? 0 : 1));
      assert.equal(out.subarray(query.questionEnd, recordsEnd), reply.subarray(query.questionEnd, recordsEnd));
    }),
    { numRuns: 1000 },
  );
  assert.ok(keptSome > 100, `truncated replies kept answer records (${keptSome})`);
});

test('property: fitToClient on queries parsed from arbitrary question bytes never throws', () => {
  let parsedCount = 0;
  // A query header (QDCOUNT 1, no other records) followed by random question bytes, so a good
  // share of them parse into odd but valid queries (random names, types, classes).
  const header = Buffer.from('abcd01000001000000000000', 'hex');
  const label = fc.uint8Array({ minLength: 1, maxLength: 63 }).map((b) => Buffer.concat([Buffer.from([b.length]), Buffer.from(b)]));
  const question = fc
    .tuple(fc.array(label, { maxLength: 5 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.boolean())
    .map(([labels, tail, tcp]) => ({ packet: Buffer.concat([header, ...labels, Buffer.from([0]), Buffer.from(tail)]), tcp }));
  fc.assert(
    fc.property(question, fc.uint8Array({ maxLength: 2000 }), ({ packet, tcp }, replyBytes) => {
      const outcome = parseQuery(packet, tcp ? 'tcp' : 'udp');
      if (!outcome.ok) return;
      parsedCount++;
      const reply = Buffer.from(replyBytes);
      const out = fitToClient(reply, outcome.query);
      assert.ok(out.length <= outcome.query.maxResponseSize || out === reply);
      if (out !== reply) assert.is(dnsPacket.decode(out).flag_tc, true);
    }),
    { numRuns: 2000 },
  );
  assert.ok(parsedCount > 1000, `most generated questions parse (${parsedCount})`);
});

test.run();
