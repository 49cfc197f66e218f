import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fc from 'fast-check';
import * as dnsPacket from 'dns-packet';
import { fitToClient, localAnswer, parseQuery, withClientId } from '../../../src/dns/wire';
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
  { what: '100 A records over UDP without EDNS → TC=1 within 512 bytes', spec: { name: 'Big.NS.svc.cluster.local' }, transport: 'udp', truncated: true },
  { what: '100 A records over UDP with EDNS 1232 → TC=1 with an OPT', spec: { name: 'big.ns.svc.cluster.local', edns: { size: 1232, dnssecOk: true } }, transport: 'udp', truncated: true },
  { what: '100 A records over UDP with EDNS 4096 fit fully', spec: { name: 'big.ns.svc.cluster.local', edns: { size: 4096 } }, transport: 'udp', truncated: false },
  { what: '100 A records over TCP fit fully', spec: { name: 'big.ns.svc.cluster.local' }, transport: 'tcp', truncated: false },
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
      assert.equal([message.answers?.length, message.authorities?.length], [0, 0]);
      assert.is(message.flag_aa, true, 'flags of the reply kept');
      assert.is(optOf(message)?.flag_do ?? false, query.edns?.dnssecOk ?? false, 'DO echoed');
    } else {
      assert.is(out, full, 'a reply that fits is passed through untouched');
      assert.is(message.answers?.length, 100);
    }
  });
}

test('fitToClient: an upstream reply (uncompressed, with authority and OPT) is truncated keeping rcode and extended rcode', () => {
  const query = parsed({ name: 'Ext.Example', edns: { size: 600 } });
  const upstream = dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 3 /* NXDOMAIN */,
    questions: [{ name: 'ext.example', type: 'A', class: 'IN' }],
    authorities: Array.from({ length: 20 }, (_, i) => ({ name: 'ext.example', type: 'TXT' as const, ttl: 60, data: `padding record ${i} `.repeat(3) })),
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 2, flags: 0 } as dnsPacket.Answer],
  });
  assert.ok(upstream.length > 600);
  const out = fitToClient(upstream, query);
  const message = decode(out);
  assert.is(message.flag_tc, true);
  assert.is(message.rcode, 'NXDOMAIN');
  assert.is(optOf(message)?.extendedRcode, 2);
  assert.is(message.questions?.[0]?.name, 'Ext.Example');
  assert.equal([message.answers?.length, message.authorities?.length, message.additionals?.length], [0, 0, 1]);
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

test('property: fitToClient never throws on arbitrary reply bytes; truncated replies decode', () => {
  const queries = [
    parsed({ name: 'AdDrEsS.InTeRnAl' }),
    parsed({ name: 'a.b', edns: { size: 1232, dnssecOk: true } }),
    parsed({ name: 'x.y', edns: { size: 512 } }),
  ];
  fc.assert(
    fc.property(fc.constantFrom(...queries), fc.uint8Array({ maxLength: 1600 }), (query, bytes) => {
      const reply = Buffer.from(bytes);
      const out = fitToClient(reply, query);
      if (out === reply) return;
      assert.ok(out.length <= query.maxResponseSize);
      const message = dnsPacket.decode(out);
      assert.is(message.flag_tc, true);
      assert.is(message.questions?.[0]?.name, query.name);
    }),
    { numRuns: 2000 },
  );
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
