import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cacheability } from '../../../src/dns/cache';
import { makeQuery } from '../../helpers/query';
import { ReplySpec, a, makeReply, soa } from '../../helpers/replies';

const query = makeQuery({ name: 'www.example.test' });

interface Row {
  name: string;
  reply: ReplySpec;
  /** Expected lifetime in seconds, or the reason it is not cached. */
  expect: { ttl: number; negative: boolean } | { reason: string };
}

const rows: Row[] = [
  { name: 'a positive answer lives for its TTL', reply: { answers: [a('www.example.test', '192.0.2.1', 120)] }, expect: { ttl: 120, negative: false } },
  {
    name: 'a positive answer lives for its smallest TTL across sections',
    reply: { answers: [a('www.example.test', '192.0.2.1', 120), a('www.example.test', '192.0.2.2', 90)], authorities: [soa('example.test', 30, 300)] },
    expect: { ttl: 30, negative: false },
  },
  { name: 'OPT is not a TTL', reply: { answers: [a('www.example.test', '192.0.2.1', 120)], opt: true }, expect: { ttl: 120, negative: false } },
  {
    name: 'NXDOMAIN lives for SOA MINIMUM when it is below the SOA TTL',
    reply: { rcode: 3, authorities: [soa('example.test', 3600, 45)] },
    expect: { ttl: 45, negative: true },
  },
  {
    name: 'NXDOMAIN lives for the SOA TTL when it is below SOA MINIMUM',
    reply: { rcode: 3, authorities: [soa('example.test', 20, 900)] },
    expect: { ttl: 20, negative: true },
  },
  { name: 'NODATA (NOERROR, no answers) with SOA is cached negatively', reply: { authorities: [soa('example.test', 600, 60)] }, expect: { ttl: 60, negative: true } },
  { name: 'NODATA without SOA is not cached', reply: {}, expect: { reason: 'negative-without-soa' } },
  { name: 'NXDOMAIN without SOA is not cached', reply: { rcode: 3 }, expect: { reason: 'negative-without-soa' } },
  { name: 'SERVFAIL is never cached', reply: { rcode: 2, authorities: [soa('example.test', 600, 60)] }, expect: { reason: 'rcode' } },
  { name: 'REFUSED is never cached', reply: { rcode: 5 }, expect: { reason: 'rcode' } },
  { name: 'a truncated reply is never cached', reply: { truncated: true, answers: [a('www.example.test', '192.0.2.1', 120)] }, expect: { reason: 'truncated' } },
  { name: 'a TTL of 0 is not cached', reply: { answers: [a('www.example.test', '192.0.2.1', 0)] }, expect: { reason: 'zero-ttl' } },
  { name: 'a TTL with the top bit set counts as 0 (RFC 2181)', reply: { answers: [a('www.example.test', '192.0.2.1', 0x80000000)] }, expect: { reason: 'zero-ttl' } },
];

for (const row of rows) {
  test(row.name, () => {
    const verdict = cacheability(makeReply(query, row.reply));
    if ('reason' in row.expect) {
      assert.equal(verdict, { cacheable: false, reason: row.expect.reason });
    } else {
      assert.ok(verdict.cacheable);
      if (verdict.cacheable) {
        assert.is(verdict.ttl, row.expect.ttl);
        assert.is(verdict.negative, row.expect.negative);
      }
    }
  });
}

test('a cut-off message is malformed, not cached', () => {
  const full = makeReply(query, { answers: [a('www.example.test', '192.0.2.1', 120)] });
  assert.equal(cacheability(full.subarray(0, full.length - 3)), { cacheable: false, reason: 'malformed' });
});

test.run();
