import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as dnsPacket from 'dns-packet';
import { ResponseCache, createCacheHandler } from '../../../src/dns/cache';
import { createForwardHandler, ForwardHandler } from '../../../src/dns/forward';
import type { Handler, Query } from '../../../src/dns/types';
import { dig } from '../../helpers/dig';
import { Dnsmasq, startDnsmasq } from '../../helpers/dnsmasq';
import { MakeQueryOptions, makeQuery } from '../../helpers/query';

/**
 * Forwarding and caching against a real dnsmasq (fails, does not skip, when dnsmasq is missing).
 * The chain under test is cache → forward, as in the service.
 */

interface Context {
  local: Dnsmasq;
  auth: Dnsmasq;
  forward: ForwardHandler;
  forwardAuth: ForwardHandler;
}

const test = suite('forwarding through dnsmasq');

// Started lazily by the first test, not in a `before` hook: uvu swallows a before-hook error
// and exits 0, which would turn "dnsmasq is missing" into a silent pass.
let started: Promise<Context> | null = null;
const env = (): Promise<Context> => {
  started ??= (async () => {
    const local = await startDnsmasq({
      hosts: ['192.0.2.10 web.test', '2001:db8::10 web.test', '192.0.2.11 v4only.test', '192.0.2.12 cached.test'],
      localDomains: ['test'],
    });
    const auth = await startDnsmasq({ authZone: { zone: 'auth.test', records: [{ name: 'web.auth.test', address: '192.0.2.20' }], ttl: 120 } });
    return {
      local,
      auth,
      forward: createForwardHandler({ upstreams: () => [local.upstream], timeoutMs: 1000 }),
      forwardAuth: createForwardHandler({ upstreams: () => [auth.upstream], timeoutMs: 1000 }),
    };
  })();
  return started;
};

test.after(async () => {
  const ctx = await started?.catch(() => null);
  if (!ctx) return;
  await ctx.forward.close();
  await ctx.forwardAuth.close();
  await ctx.local.stop();
  await ctx.auth.stop();
});

const endOfChain = async (): Promise<null> => null;
const ask = async (handler: Handler, query: Query): Promise<dnsPacket.DecodedPacket & { rcode?: string }> => {
  const raw = await handler.handle(query, endOfChain);
  assert.ok(raw !== null);
  return dnsPacket.decode(raw);
};
const withCache = (cache: ResponseCache, forward: Handler): Handler => {
  const cacheHandler = createCacheHandler(cache);
  return { name: 'chain', handle: (q) => cacheHandler.handle(q, async () => forward.handle(q, endOfChain)) };
};
const data = (reply: dnsPacket.DecodedPacket): string[] => (reply.answers ?? []).map((r) => String((r as { data: unknown }).data));

interface Row {
  name: string;
  query: MakeQueryOptions;
  rcode: string;
  answers: string[];
}

const rows: Row[] = [
  { name: 'A is forwarded', query: { name: 'web.test' }, rcode: 'NOERROR', answers: ['192.0.2.10'] },
  { name: 'AAAA is forwarded', query: { name: 'web.test', type: 'AAAA' }, rcode: 'NOERROR', answers: ['2001:db8::10'] },
  { name: 'NXDOMAIN passes through', query: { name: 'nope.test' }, rcode: 'NXDOMAIN', answers: [] },
  { name: 'NODATA passes through', query: { name: 'v4only.test', type: 'AAAA' }, rcode: 'NOERROR', answers: [] },
  { name: 'a TCP client is forwarded over TCP', query: { name: 'web.test', transport: 'tcp' }, rcode: 'NOERROR', answers: ['192.0.2.10'] },
  { name: 'an EDNS client with DO is forwarded', query: { name: 'web.test', edns: { dnssecOk: true } }, rcode: 'NOERROR', answers: ['192.0.2.10'] },
];

for (const row of rows) {
  test(row.name, async () => {
    const ctx = await env();
    const reply = await ask(ctx.forward, makeQuery(row.query));
    assert.is(reply.rcode, row.rcode);
    assert.equal(data(reply), row.answers);
    // The same question asked of dnsmasq directly (with dig) gives the same status and data.
    const direct = await dig({ port: ctx.local.port, name: row.query.name, type: row.query.type ?? 'A', tcp: row.query.transport === 'tcp' });
    assert.is(direct.status, row.rcode);
    assert.equal(direct.answers.map((r) => r.data), row.answers);
  });
}

test('a second identical query is answered by the cache and never reaches dnsmasq', async () => {
    const ctx = await env();
  const chain = withCache(new ResponseCache({ maxEntries: 100 }), ctx.forward);
  const first = await ask(chain, makeQuery({ name: 'cached.test', id: 1 }));
  assert.equal(data(first), ['192.0.2.12']);
  assert.is(await ctx.local.waitForQueries(1, 'cached.test'), 1);
  const second = await ask(chain, makeQuery({ name: 'CACHED.test', id: 2 }));
  assert.is(second.id, 2);
  assert.equal(data(second), ['192.0.2.12']);
  await new Promise((r) => setTimeout(r, 200)); // give a stray query time to appear in the log
  assert.is(ctx.local.queriesSeen('cached.test'), 1);
});

test("dnsmasq's NXDOMAIN without SOA is not cached: asked again", async () => {
    const ctx = await env();
  const chain = withCache(new ResponseCache({ maxEntries: 100 }), ctx.forward);
  await ask(chain, makeQuery({ name: 'gone.test' }));
  await ask(chain, makeQuery({ name: 'gone.test' }));
  assert.is(await ctx.local.waitForQueries(2, 'gone.test'), 2);
});

test('an authoritative NXDOMAIN with SOA is cached for the SOA minimum', async () => {
    const ctx = await env();
  const chain = withCache(new ResponseCache({ maxEntries: 100 }), ctx.forwardAuth);
  const first = await ask(chain, makeQuery({ name: 'nope.auth.test' }));
  assert.is(first.rcode, 'NXDOMAIN');
  assert.is(first.authorities?.[0]?.type, 'SOA');
  const second = await ask(chain, makeQuery({ name: 'nope.auth.test' }));
  assert.is(second.rcode, 'NXDOMAIN');
  await new Promise((r) => setTimeout(r, 200));
  assert.is(ctx.auth.queriesSeen('nope.auth.test'), 1);
});

test('an authoritative NODATA with SOA is cached', async () => {
    const ctx = await env();
  const chain = withCache(new ResponseCache({ maxEntries: 100 }), ctx.forwardAuth);
  const first = await ask(chain, makeQuery({ name: 'web.auth.test', type: 'AAAA' }));
  assert.is(first.rcode, 'NOERROR');
  assert.is(first.answers?.length, 0);
  await ask(chain, makeQuery({ name: 'web.auth.test', type: 'AAAA' }));
  await new Promise((r) => setTimeout(r, 200));
  assert.is(ctx.auth.queriesSeen('web.auth.test'), 1);
});

test.run();
