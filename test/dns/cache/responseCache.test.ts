import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dnsPacket from 'dns-packet';
import { ResponseCache } from '../../../src/dns/cache';
import { MakeQueryOptions, makeQuery } from '../../helpers/query';
import { ReplySpec, a, makeReply, soa, ttlsOf } from '../../helpers/replies';

function cacheWithClock(maxEntries = 100): { cache: ResponseCache; advance: (ms: number) => void } {
  let now = 1_000_000;
  return { cache: new ResponseCache({ maxEntries, now: () => now }), advance: (ms) => (now += ms) };
}

// --- TTLs and expiry: store a reply, let time pass, look it up ---------------------------------

interface AgeRow {
  name: string;
  reply: ReplySpec;
  elapsedMs: number;
  /** TTLs of the hit (answer, authority, additional but OPT), or null for a miss. */
  expectTtls: number[] | null;
}

const www = 'www.example.test';
const ageRows: AgeRow[] = [
  { name: 'a fresh hit keeps the stored TTLs', reply: { answers: [a(www, '192.0.2.1', 300)] }, elapsedMs: 0, expectTtls: [300] },
  { name: 'part of a second does not lower TTLs', reply: { answers: [a(www, '192.0.2.1', 300)] }, elapsedMs: 999, expectTtls: [300] },
  {
    name: 'TTLs drop by whole elapsed seconds in every section',
    reply: { answers: [a(www, '192.0.2.1', 300), a(www, '192.0.2.2', 200)], authorities: [soa('example.test', 100, 3600)], opt: true },
    elapsedMs: 42_500,
    expectTtls: [258, 158, 58],
  },
  { name: 'an entry still lives one second before its smallest TTL', reply: { answers: [a(www, '192.0.2.1', 60)] }, elapsedMs: 59_999, expectTtls: [1] },
  { name: 'an entry expires at its smallest TTL', reply: { answers: [a(www, '192.0.2.1', 60), a(www, '192.0.2.2', 600)] }, elapsedMs: 60_000, expectTtls: null },
  { name: 'NXDOMAIN lives for SOA MINIMUM', reply: { rcode: 3, authorities: [soa('example.test', 3600, 30)] }, elapsedMs: 29_000, expectTtls: [3571] },
  { name: 'NXDOMAIN expires after SOA MINIMUM', reply: { rcode: 3, authorities: [soa('example.test', 3600, 30)] }, elapsedMs: 30_000, expectTtls: null },
  { name: 'NODATA expires after min(SOA TTL, MINIMUM)', reply: { authorities: [soa('example.test', 10, 300)] }, elapsedMs: 10_000, expectTtls: null },
  { name: 'SERVFAIL is not stored', reply: { rcode: 2 }, elapsedMs: 0, expectTtls: null },
  { name: 'a truncated reply is not stored', reply: { truncated: true, answers: [a(www, '192.0.2.1', 300)] }, elapsedMs: 0, expectTtls: null },
  { name: 'NODATA without SOA is not stored', reply: {}, elapsedMs: 0, expectTtls: null },
  { name: 'TTL 0 is not stored', reply: { answers: [a(www, '192.0.2.1', 0)] }, elapsedMs: 0, expectTtls: null },
];

// --- flags: a hit answers the query asking, not the one that filled the entry -------------------

const flagRows: Array<[title: string, filledWith: number, askedWith: number]> = [
  ['filled without RD, asked with RD: RD set', 0x0000, 0x0100],
  ['filled with RD, asked without: RD clear', 0x0100, 0x0000],
  ['filled with CD, asked without: CD clear', 0x0110, 0x0100],
  ['filled without CD, asked with CD: CD set', 0x0100, 0x0110],
  ['asked with the Z bit: Z clear in the hit', 0x0100, 0x0140],
];
for (const [title, filledWith, askedWith] of flagRows) {
  test(`hit flags: ${title}`, () => {
    const { cache } = cacheWithClock();
    const filler = withFlags(makeQuery({ name: www }), filledWith);
    // The upstream echoed the filler's RD and CD (and a stray Z), and set RA and AD.
    const reply = makeReply(filler, { answers: [a(www, '192.0.2.1', 300)] });
    reply.writeUInt16BE(0x80a0 | (filledWith & 0x0110) | 0x0040, 2);
    cache.store(filler, reply);
    const hit = cache.lookup(withFlags(makeQuery({ name: www, id: 9 }), askedWith));
    assert.ok(hit !== null);
    assert.is(hit.readUInt16BE(2), 0x80a0 | (askedWith & 0x0110), 'QR, RA, AD kept; RD and CD of the asker; Z clear');
  });
}

/** `query` with its header flags word (packet and field) set to `flags`. */
function withFlags(query: ReturnType<typeof makeQuery>, flags: number): ReturnType<typeof makeQuery> {
  const packet = Buffer.from(query.packet);
  packet.writeUInt16BE(flags, 2);
  return { ...query, packet, flags };
}

for (const row of ageRows) {
  test(row.name, () => {
    const { cache, advance } = cacheWithClock();
    const query = makeQuery({ name: www });
    cache.store(query, makeReply(query, row.reply));
    advance(row.elapsedMs);
    const hit = cache.lookup(makeQuery({ name: www, id: 7 }));
    if (row.expectTtls === null) {
      assert.is(hit, null);
    } else {
      assert.ok(hit !== null, 'expected a hit');
      assert.equal(ttlsOf(hit), row.expectTtls);
      assert.is(hit.readUInt16BE(0), 7, 'the client ID is patched in');
    }
  });
}

// --- keys: which later query hits what was stored ----------------------------------------------

interface KeyRow {
  name: string;
  stored: MakeQueryOptions;
  asked: MakeQueryOptions;
  hit: boolean;
}

const keyRows: KeyRow[] = [
  { name: 'the key ignores letter case', stored: { name: 'WWW.Example.TEST' }, asked: { name: 'www.example.test' }, hit: true },
  { name: 'the key includes the type', stored: { name: www, type: 'A' }, asked: { name: www, type: 'AAAA' }, hit: false },
  { name: 'the key includes the DO bit', stored: { name: www, edns: { dnssecOk: true } }, asked: { name: www, edns: {} }, hit: false },
  { name: 'EDNS without DO shares the entry of a plain query', stored: { name: www }, asked: { name: www, edns: {} }, hit: true },
  { name: 'the transport does not matter', stored: { name: www, transport: 'tcp' }, asked: { name: www }, hit: true },
];

for (const row of keyRows) {
  test(row.name, () => {
    const { cache } = cacheWithClock();
    const stored = makeQuery(row.stored);
    const type = row.stored.type === 'AAAA' ? 'AAAA' : 'A';
    const record: dnsPacket.Answer =
      type === 'A' ? a(stored.name, '192.0.2.1', 300) : { type: 'AAAA', name: stored.name, ttl: 300, class: 'IN', data: '2001:db8::1' };
    assert.ok(cache.store(stored, makeReply(stored, { answers: [record] })));
    assert.is(cache.lookup(makeQuery(row.asked)) !== null, row.hit);
  });
}

test("a hit carries the asking client's spelling of the question (0x20)", () => {
  const { cache } = cacheWithClock();
  const stored = makeQuery({ name: 'www.example.test' });
  cache.store(stored, makeReply(stored, { answers: [a('www.example.test', '192.0.2.1', 300)] }));
  const hit = cache.lookup(makeQuery({ name: 'wWw.ExAmPlE.tEsT' }));
  assert.ok(hit !== null);
  assert.is(dnsPacket.decode(hit).questions?.[0].name, 'wWw.ExAmPlE.tEsT');
});

test('a reply to another question is not stored', () => {
  const { cache } = cacheWithClock();
  const query = makeQuery({ name: www });
  assert.not.ok(cache.store(query, makeReply(query, { questionName: 'evil.test', answers: [a('evil.test', '192.0.2.66', 300)] })));
  assert.is(cache.stats().entries, 0);
});

test('a hit is a copy: changing it does not change the cache', () => {
  const { cache } = cacheWithClock();
  const query = makeQuery({ name: www });
  cache.store(query, makeReply(query, { answers: [a(www, '192.0.2.1', 300)] }));
  const first = cache.lookup(query) as Buffer;
  first.fill(0);
  assert.equal(ttlsOf(cache.lookup(query) as Buffer), [300]);
});

// --- bounds and LRU ------------------------------------------------------------------------------

function fill(cache: ResponseCache, names: string[]): void {
  for (const name of names) {
    const q = makeQuery({ name });
    cache.store(q, makeReply(q, { answers: [a(name, '192.0.2.1', 300)] }));
  }
}
const present = (cache: ResponseCache, names: string[]): string[] => names.filter((n) => cache.lookup(makeQuery({ name: n })) !== null);

test('beyond maxEntries the least recently stored entry goes first', () => {
  const { cache } = cacheWithClock(3);
  fill(cache, ['a.test', 'b.test', 'c.test', 'd.test']);
  assert.equal(cache.stats().evictions, 1);
  assert.equal(present(cache, ['a.test', 'b.test', 'c.test', 'd.test']), ['b.test', 'c.test', 'd.test']);
});

test('a hit makes an entry recently used, so another one is evicted', () => {
  const { cache } = cacheWithClock(3);
  fill(cache, ['a.test', 'b.test', 'c.test']);
  cache.lookup(makeQuery({ name: 'a.test' }));
  fill(cache, ['d.test']);
  assert.equal(present(cache, ['a.test', 'b.test', 'c.test', 'd.test']), ['a.test', 'c.test', 'd.test']);
});

test('maxEntries 0 turns the cache off', () => {
  const { cache } = cacheWithClock(0);
  fill(cache, ['a.test']);
  assert.is(cache.lookup(makeQuery({ name: 'a.test' })), null);
  assert.equal(cache.stats(), { hits: 0, misses: 0, entries: 0, evictions: 0 });
});

test('stats count hits, misses and entries; an expired entry is dropped', () => {
  const { cache, advance } = cacheWithClock();
  fill(cache, ['a.test']);
  cache.lookup(makeQuery({ name: 'a.test' }));
  cache.lookup(makeQuery({ name: 'b.test' }));
  assert.equal(cache.stats(), { hits: 1, misses: 1, entries: 1, evictions: 0 });
  advance(300_000);
  cache.lookup(makeQuery({ name: 'a.test' }));
  assert.equal(cache.stats(), { hits: 1, misses: 2, entries: 0, evictions: 0 });
});

test('maxTtl caps how long an entry lives', () => {
  let now = 0;
  const cache = new ResponseCache({ maxEntries: 10, maxTtl: 60, now: () => now });
  const q = makeQuery({ name: www });
  cache.store(q, makeReply(q, { answers: [a(www, '192.0.2.1', 86_400)] }));
  now = 60_000;
  assert.is(cache.lookup(q), null);
});

test.run();
