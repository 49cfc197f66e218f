// Istio parity (docs/ARCHITECTURE.md §2–3, issue #3): every row of the parity table (parityRows.ts) runs over
// UDP — on the native batching engine and on Node's dgram — and over TCP against a real meshdns
// service, with a scripted upstream for the forwarded names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ask, answerLines } from './client';
import { rows, startParityServers, type ParityServers } from './parityRows';

let servers: ParityServers;
let h: ParityServers['native'];
let hDgram: ParityServers['dgram'];
let upstream: ParityServers['upstream'];

test.before(async () => {
  servers = await startParityServers();
  ({ native: h, dgram: hDgram, upstream } = servers);
});
test.after(() => servers.stop());

// UDP runs on both engines: the native batching socket (with its fast path) and Node's dgram.
const runs = [
  { label: 'udp', transport: 'udp', server: () => h },
  { label: 'udp, dgram engine', transport: 'udp', server: () => hDgram },
  { label: 'tcp', transport: 'tcp', server: () => h },
] as const;

test('the UDP engines under test are the native one and dgram', () => {
  assert.is(h.service.status().udpEngine, 'native');
  assert.is(hDgram.service.status().udpEngine, 'node');
});

test('the forwarder sends upstream on the engine the service chose for its listeners', () => {
  const forwardEngine = (s: Record<string, unknown>): unknown => (s.forward as { udpEngine: string }).udpEngine;
  assert.is(forwardEngine(h.service.status()), 'native');
  assert.is(forwardEngine(hDgram.service.status()), 'node');
});

for (const row of rows) {
  for (const { label, transport, server } of runs) {
    if (row.only !== undefined && row.only !== transport) continue;
    test(`#${row.n} ${row.title} [${label}]`, async () => {
      const a = await ask(server().port, row.name, row.type ?? 'A', { transport, edns: row.edns });
      const e = row.expect;
      if ('check' in e) {
        e.check(a, transport);
        return;
      }
      if ('empty' in e) {
        assert.is(a.rcode, e.rcode);
        assert.equal(answerLines(a), []);
        return;
      }
      assert.is(a.rcode, e.rcode ?? 'NOERROR');
      assert.equal(answerLines(a), e.answers);
      if (e.aa !== undefined) assert.is(a.flags.aa, e.aa);
      assert.is(a.flags.ra, true, 'RA=1');
      for (const rr of a.msg.answers ?? []) assert.is((rr as { class?: string }).class ?? 'IN', 'IN');
    });
  }
}

test('a known name of another qtype reached the upstream', () => {
  assert.ok(upstream.received.some((q) => q.name.toLowerCase() === 'www.google.com' && q.type === 'TXT'));
});

test('local names never reach the upstream', () => {
  const local = ['productpage', 'www.google.com', 'foo.wildcard', 'dual.localhost'];
  const leaked = upstream.received.filter((q) => local.includes(q.name.toLowerCase()) && (q.type === 'A' || q.type === 'AAAA'));
  assert.equal(leaked.map((q) => `${q.name} ${q.type}`), []);
});

test.run();
