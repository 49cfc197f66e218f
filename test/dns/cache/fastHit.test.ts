// Cache hits on the UDP fast path (ResponseCache.answerInto through createFastPath) against the
// general path (parse → cache handler → shaping): same bytes for every stored reply shape, client
// EDNS state, ID, letter case and age; declined (0) where the general path must decide (misses,
// expired entries, replies the client's size limit would truncate).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dnsPacket from 'dns-packet';
import { ResponseCache } from '../../../src/dns/cache/responseCache';
import { createCacheHandler } from '../../../src/dns/cache/cacheHandler';
import { createFastPath } from '../../../src/dns/fastPath';
import { parseQuery } from '../../../src/dns/wire';
import { buildNameTable } from '../../support/buildNameTable';

const emptyTable = buildNameTable({ records: [], hostsFiles: [], clusterDomain: 'cluster.local', namespace: 'default', searchDomains: [], allocations: {} });

interface ClientShape {
  edns?: { size: number; dnssecOk: boolean };
}

function query(name: string, type: 'A' | 'AAAA', id: number, shape: ClientShape, flags: number = dnsPacket.RECURSION_DESIRED): Buffer {
  const packet: dnsPacket.Packet = { type: 'query', id, flags, questions: [{ name, type, class: 'IN' }] };
  if (shape.edns !== undefined) {
    packet.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: shape.edns.size, flags: shape.edns.dnssecOk ? dnsPacket.DNSSEC_OK : 0 } as unknown as dnsPacket.Answer];
  }
  return dnsPacket.encode(packet);
}

interface StoredShape {
  title: string;
  name: string;
  type: 'A' | 'AAAA';
  /** The upstream's reply to the (lower-case) question. */
  reply: (q: dnsPacket.Question) => dnsPacket.Packet;
}

const upstreamOpt = (dnssecOk = false): dnsPacket.Answer => ({ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnssecOk ? dnsPacket.DNSSEC_OK : 0 }) as unknown as dnsPacket.Answer;

const stored: StoredShape[] = [
  {
    title: 'positive answer with the upstream OPT',
    name: 'www.example.com',
    type: 'A',
    reply: (q) => ({ type: 'response', id: 1, flags: 0x8180, questions: [q], answers: [{ type: 'A', name: q.name, ttl: 300, data: '192.0.2.1' }, { type: 'A', name: q.name, ttl: 120, data: '192.0.2.2' }], additionals: [upstreamOpt()] }),
  },
  {
    title: 'AAAA with an authority and additional record, stored with RD, CD and Z set',
    name: 'v6.example.org',
    type: 'AAAA',
    reply: (q) => ({
      type: 'response',
      id: 1,
      flags: 0x81d0,
      questions: [q],
      answers: [{ type: 'AAAA', name: q.name, ttl: 600, data: '2001:db8::1' }],
      authorities: [{ type: 'NS', name: 'example.org', ttl: 3600, data: 'ns1.example.org' }],
      additionals: [{ type: 'A', name: 'ns1.example.org', ttl: 3600, data: '192.0.2.53' }, upstreamOpt()],
    }),
  },
  {
    title: 'NXDOMAIN with an SOA (negative caching)',
    name: 'missing.example.net',
    type: 'A',
    reply: (q) => ({
      type: 'response',
      id: 1,
      flags: 0x8183,
      questions: [q],
      authorities: [{ type: 'SOA', name: 'example.net', ttl: 900, data: { mname: 'ns.example.net', rname: 'h.example.net', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 60 } }],
      additionals: [upstreamOpt()],
    }),
  },
  {
    title: 'an upstream without EDNS (no OPT stored: EDNS clients get one appended)',
    name: 'old.example.com',
    type: 'A',
    reply: (q) => ({ type: 'response', id: 1, flags: 0x8180, questions: [q], answers: [{ type: 'A', name: q.name, ttl: 300, data: '192.0.2.9' }] }),
  },
  {
    title: 'a reply over 512 bytes (truncated for clients without EDNS)',
    name: 'big.example.com',
    type: 'A',
    reply: (q) => ({
      type: 'response',
      id: 1,
      flags: 0x8180,
      questions: [q],
      answers: Array.from({ length: 40 }, (_, i) => ({ type: 'A' as const, name: q.name, ttl: 300, data: `192.0.2.${i + 1}` })),
      additionals: [upstreamOpt()],
    }),
  },
];

const clientShapes: ClientShape[] = [{}, { edns: { size: 1232, dnssecOk: false } }, { edns: { size: 4096, dnssecOk: true } }, { edns: { size: 512, dnssecOk: false } }];

function mixCase(name: string, seed: number): string {
  return [...name].map((c, i) => (((seed >> i % 16) & 1) === 1 ? c.toUpperCase() : c)).join('');
}

for (const s of stored) {
  test(`fast cache hit = general cache hit: ${s.title}`, () => {
    let clock = 1_000_000;
    const cache = new ResponseCache({ maxEntries: 100, now: () => clock });
    const handler = createCacheHandler(cache);
    const counted: string[] = [];
    const fast = createFastPath({ table: () => emptyTable, ttl: () => 30, enabled: () => true, cache, onAnswered: (_t, source) => counted.push(source) });
    let fastAnswers = 0;
    let declined = 0;
    for (const shape of clientShapes) {
      // Store what the upstream said for this client shape (the DO bit is part of the key).
      const first = parseQuery(query(s.name, s.type, 1, shape), 'udp');
      if (!first.ok) throw new Error('query did not parse');
      const reply = dnsPacket.encode(s.reply({ name: s.name, type: s.type, class: 'IN' }));
      cache.store(first.query, reply);
      // Hits asked with RD only, nothing, RD+CD, and CD+Z: each gets its own RD and CD, never Z.
      for (const [age, seed, flags] of [[0, 1, 0x0100], [1500, 0x5a5a, 0x0000], [100_000, 0xffff, 0x0110], [299_999, 3, 0x0050]] as const) {
        clock = 1_000_000 + age;
        const id = (seed * 7919) & 0xffff;
        const packet = query(mixCase(s.name, seed), s.type, id, shape, flags);
        const parsed = parseQuery(packet, 'udp');
        if (!parsed.ok) throw new Error('query did not parse');
        const general = handler.handle(parsed.query, () => null);
        if (general instanceof Promise) throw new Error('a hit went asynchronous');
        if (general !== null) assert.is(general.readUInt16BE(2) & 0x0150, flags & 0x0110, 'RD and CD of this query, Z clear (general path)');
        const inData = Buffer.alloc(2048, 0xee);
        const out = Buffer.alloc(4096, 0xdd);
        packet.copy(inData, 300);
        const written = fast.answer(inData, 300, packet.length, out, 100);
        const what = `age ${age} ms, client ${JSON.stringify(shape)}`;
        if (written === 0) {
          declined++;
          assert.ok(general === null || general.length > (shape.edns?.size ?? 512) || (general[2] & 0x02) !== 0, `declined a hit the client can take (${what})`);
          continue;
        }
        fastAnswers++;
        assert.ok(general !== null, `answered a miss (${what})`);
        assert.equal(out.subarray(100, 100 + written).toString('hex'), general!.toString('hex'), what);
      }
    }
    assert.ok(fastAnswers > 0, 'some hits were served by the fast path');
    assert.is(counted.length, fastAnswers);
    assert.ok(counted.every((c) => c === 'cached'));
    if (s.name.startsWith('big')) assert.ok(declined > 0, 'clients without EDNS were left to the truncating general path');
  });
}

test('expired entries and misses are left to the general path', () => {
  let clock = 0;
  const cache = new ResponseCache({ maxEntries: 10, now: () => clock });
  const fast = createFastPath({ table: () => emptyTable, ttl: () => 30, enabled: () => true, cache, onAnswered: () => undefined });
  const packet = query('www.example.com', 'A', 5, {});
  const parsed = parseQuery(packet, 'udp');
  if (!parsed.ok) throw new Error('query did not parse');
  const out = Buffer.alloc(1024);
  assert.is(fast.answer(packet, 0, packet.length, out, 0), 0, 'miss');
  cache.store(parsed.query, dnsPacket.encode(stored[0].reply({ name: 'www.example.com', type: 'A', class: 'IN' })));
  assert.ok(fast.answer(packet, 0, packet.length, out, 0) > 0, 'fresh hit');
  clock = 120_000; // the smallest TTL is 120 s
  assert.is(fast.answer(packet, 0, packet.length, out, 0), 0, 'expired');
  assert.is(cache.stats().hits, 1);
});

test.run();
