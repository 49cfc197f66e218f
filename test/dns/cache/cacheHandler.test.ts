import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dnsPacket from 'dns-packet';
import { ResponseCache, createCacheHandler } from '../../../src/dns/cache';
import type { Next, Query, Reply } from '../../../src/dns/types';
import { MakeQueryOptions, makeQuery } from '../../helpers/query';
import { ReplySpec, a, makeReply } from '../../helpers/replies';

/** A stand-in for the rest of the chain that answers with `spec` and counts its calls. */
function upstream(spec: ReplySpec): { next: (q: Query) => Next; calls: () => number } {
  let calls = 0;
  return {
    next: (q) => async () => {
      calls++;
      return makeReply(q, spec);
    },
    calls: () => calls,
  };
}

const many = (name: string, n: number): dnsPacket.Answer[] => Array.from({ length: n }, (_, i) => a(name, `10.0.${i >> 8}.${i & 255}`, 300));
const hasOpt = (raw: Buffer): boolean => (dnsPacket.decode(raw).additionals ?? []).some((r) => r.type === 'OPT');

interface Row {
  name: string;
  spec: ReplySpec;
  first: MakeQueryOptions;
  second: MakeQueryOptions;
  /** Times the rest of the chain was asked over both queries. */
  expectCalls: number;
  check?: (second: Buffer) => void;
}

const rows: Row[] = [
  {
    name: 'a second identical query is answered from the cache',
    spec: { answers: [a('x.test', '192.0.2.1', 300)] },
    first: { name: 'x.test', id: 1 },
    second: { name: 'x.test', id: 2 },
    expectCalls: 1,
    check: (r) => assert.is(r.readUInt16BE(0), 2),
  },
  {
    name: 'an uncacheable answer (SERVFAIL) is asked for again',
    spec: { rcode: 2 },
    first: { name: 'x.test' },
    second: { name: 'x.test' },
    expectCalls: 2,
  },
  {
    name: 'a hit for an EDNS client gets an OPT though it was stored without one',
    spec: { answers: [a('x.test', '192.0.2.1', 300)] },
    first: { name: 'x.test' },
    second: { name: 'x.test', edns: {} },
    expectCalls: 1,
    check: (r) => assert.ok(hasOpt(r)),
  },
  {
    name: 'a hit for a client without EDNS has no OPT though it was stored with one',
    spec: { answers: [a('x.test', '192.0.2.1', 300)], opt: true },
    first: { name: 'x.test', edns: {} },
    second: { name: 'x.test' },
    expectCalls: 1,
    check: (r) => assert.not.ok(hasOpt(r)),
  },
  {
    name: 'a large answer stored from TCP is truncated (TC=1) to the records that fit for a 512-byte UDP client',
    spec: { answers: many('x.test', 60) },
    first: { name: 'x.test', transport: 'tcp' },
    second: { name: 'x.test' },
    expectCalls: 1,
    check: (r) => {
      const d = dnsPacket.decode(r);
      assert.ok(d.flag_tc);
      // 22-byte records (x.test uncompressed) after a 24-byte header and question.
      assert.is(d.answers?.length, 22);
      assert.ok(r.length <= 512);
    },
  },
];

for (const row of rows) {
  test(row.name, async () => {
    const cache = new ResponseCache({ maxEntries: 10 });
    const handler = createCacheHandler(cache);
    const chain = upstream(row.spec);
    const q1 = makeQuery(row.first);
    await handler.handle(q1, chain.next(q1));
    const q2 = makeQuery(row.second);
    const second: Reply = await handler.handle(q2, chain.next(q2));
    assert.is(chain.calls(), row.expectCalls);
    assert.ok(second !== null);
    row.check?.(second);
  });
}

test('a hit is answered synchronously, without a promise', async () => {
  const cache = new ResponseCache({ maxEntries: 10 });
  const handler = createCacheHandler(cache);
  const q = makeQuery({ name: 'x.test' });
  await handler.handle(q, upstream({ answers: [a('x.test', '192.0.2.1', 300)] }).next(q));
  const result = handler.handle(q, async () => null);
  assert.ok(Buffer.isBuffer(result));
});

test('the fit hook shapes hits', async () => {
  const cache = new ResponseCache({ maxEntries: 10 });
  let fitted = 0;
  const handler = createCacheHandler(cache, { fit: (reply) => (fitted++, reply) });
  const q = makeQuery({ name: 'x.test' });
  const chain = upstream({ answers: [a('x.test', '192.0.2.1', 300)] });
  await handler.handle(q, chain.next(q));
  await handler.handle(q, chain.next(q));
  assert.is(fitted, 1);
});

test('a null reply (dropped) passes through and is not stored', async () => {
  const cache = new ResponseCache({ maxEntries: 10 });
  const handler = createCacheHandler(cache);
  const q = makeQuery({ name: 'x.test' });
  assert.is(await handler.handle(q, async () => null), null);
  assert.is(cache.stats().entries, 0);
});

test.run();
