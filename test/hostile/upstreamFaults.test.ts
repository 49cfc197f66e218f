// Upstream faults (issue 8): meshdns in-process with chaos upstreams. Each row proves the
// client-visible answer, that it comes within timeout × tries, that the upstream counters in
// /metrics say what happened, and that repeating the fault leaks no sockets or timers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import type { Harness } from '../support/harness';
import { startHarnessRetrying as startHarness } from '../support/listenRetry';
import { startChaosUpstream, REAL_A, type ChaosAction, type ChaosUpstream } from '../support/chaosUpstream';
import { activeResources, openFdCount, sleep } from '../support/fd';
import { scrape } from '../support/fuzzCampaign';
import { parsePrometheusText, sampleValue } from '../support/promText';
import { ask, answerLines } from '../dns/client';
import type { ForwardHandler, ForwardStats } from '../../src/dns/forward';

const TIMEOUT_MS = 200;
const ATTEMPTS = 2;
/** Scheduling slack on top of the bound (coarse timer tick, loopback, a busy CI box). */
const SLACK_MS = 250;

type Server = ChaosAction | 'closed-port';

interface Row {
  title: string;
  servers: Server[];
  transport: 'udp' | 'tcp';
  rcode: 'NOERROR' | 'SERVFAIL';
  /** Expected A data (NOERROR rows). */
  data?: string[];
  tc?: boolean;
  /** Tries meshdns makes (each costs at most one timeout): bounds the elapsed time. */
  tries: number;
  /** At least this long (silence must be waited out, not cut short). */
  minMs?: number;
  /** Expected per-server counters: requests and failures by reason (metrics). */
  counters: Array<{ requests: number; failures?: Record<string, number> }>;
  /** Datagrams meshdns must have ignored (forged / late / garbage). */
  ignoredAtLeast?: number;
  /** Queries each chaos server must have seen, by transport. */
  seen?: Array<{ udp: number; tcp: number }>;
}

const silent: ChaosAction = { kind: 'silent' };
const answer: ChaosAction = { kind: 'answer' };
const T = TIMEOUT_MS;

const rows: Row[] = [
  { title: 'silence: SERVFAIL after timeout × attempts, two timeouts counted', servers: [silent], transport: 'udp', rcode: 'SERVFAIL', tries: 2, minMs: 2 * T - 30, counters: [{ requests: 2, failures: { timeout: 2 } }] },
  { title: 'silence over TCP: SERVFAIL after timeout × attempts', servers: [silent], transport: 'tcp', rcode: 'SERVFAIL', tries: 2, minMs: 2 * T - 30, counters: [{ requests: 2, failures: { timeout: 2 } }], seen: [{ udp: 0, tcp: 2 }] },
  { title: 'slow answers past the timeout: SERVFAIL, the late replies ignored', servers: [{ kind: 'answer', delayMs: T + 60 }], transport: 'udp', rcode: 'SERVFAIL', tries: 2, minMs: 2 * T - 30, counters: [{ requests: 2, failures: { timeout: 2 } }], ignoredAtLeast: 1 },
  { title: 'slow answer within the timeout: answered', servers: [{ kind: 'answer', delayMs: T / 2 }], transport: 'udp', rcode: 'NOERROR', data: [REAL_A], tries: 1, minMs: T / 2 - 20, counters: [{ requests: 1 }] },
  { title: 'SERVFAIL from the only upstream: SERVFAIL at once, two servfail tries', servers: [{ kind: 'servfail' }], transport: 'udp', rcode: 'SERVFAIL', tries: 0, counters: [{ requests: 2, failures: { servfail: 2 } }] },
  { title: 'REFUSED from the only upstream: SERVFAIL to the client (never REFUSED)', servers: [{ kind: 'refused' }], transport: 'udp', rcode: 'SERVFAIL', tries: 0, counters: [{ requests: 2, failures: { refused: 2 } }] },
  { title: 'garbage bytes: ignored, SERVFAIL at the timeout', servers: [{ kind: 'garbage' }], transport: 'udp', rcode: 'SERVFAIL', tries: 2, counters: [{ requests: 2, failures: { timeout: 2 } }], ignoredAtLeast: 2 },
  { title: 'garbage over TCP: SERVFAIL within the bound', servers: [{ kind: 'garbage' }], transport: 'tcp', rcode: 'SERVFAIL', tries: 2, counters: [{ requests: 2 }] },
  { title: 'answer only from the wrong address (127.0.0.2): ignored, SERVFAIL', servers: [{ kind: 'wrong-address-only' }], transport: 'udp', rcode: 'SERVFAIL', tries: 2, counters: [{ requests: 2, failures: { timeout: 2 } }], ignoredAtLeast: 2 },
  { title: 'answer only from the wrong port: ignored, SERVFAIL', servers: [{ kind: 'wrong-port-only' }], transport: 'udp', rcode: 'SERVFAIL', tries: 2, counters: [{ requests: 2, failures: { timeout: 2 } }], ignoredAtLeast: 2 },
  { title: 'answer only with the wrong ID: ignored, SERVFAIL', servers: [{ kind: 'wrong-id-only' }], transport: 'udp', rcode: 'SERVFAIL', tries: 2, counters: [{ requests: 2, failures: { timeout: 2 } }], ignoredAtLeast: 2 },
  { title: 'wrong ID over TCP: ignored, SERVFAIL', servers: [{ kind: 'wrong-id-only' }], transport: 'tcp', rcode: 'SERVFAIL', tries: 2, counters: [{ requests: 2, failures: { timeout: 2 } }] },
  { title: 'answer only to the wrong question: ignored, SERVFAIL', servers: [{ kind: 'wrong-question-only' }], transport: 'udp', rcode: 'SERVFAIL', tries: 2, counters: [{ requests: 2, failures: { timeout: 2 } }], ignoredAtLeast: 2 },
  { title: 'forgeries (address, port, ID, question, garbage) then the real answer: the real data', servers: [{ kind: 'forgeries-then-answer' }], transport: 'udp', rcode: 'NOERROR', data: [REAL_A], tries: 1, counters: [{ requests: 1 }], ignoredAtLeast: 4 },
  { title: 'TC loop (TC over UDP and over TCP): one UDP and one TCP query, TC=1 to the client, no loop', servers: [{ kind: 'tc-always' }], transport: 'udp', rcode: 'NOERROR', data: [], tc: true, tries: 1, counters: [{ requests: 1 }], seen: [{ udp: 1, tcp: 1 }] },
  { title: 'TC loop for a TCP client: one TCP query, passed through', servers: [{ kind: 'tc-always' }], transport: 'tcp', rcode: 'NOERROR', data: [], tc: true, tries: 1, counters: [{ requests: 1 }], seen: [{ udp: 0, tcp: 1 }] },
  { title: 'TCP reset mid-answer (after TC over UDP): errors counted, SERVFAIL fast', servers: [{ kind: 'tcp-reset-mid-answer' }], transport: 'udp', rcode: 'SERVFAIL', tries: 0, counters: [{ requests: 2, failures: { error: 2 } }], seen: [{ udp: 2, tcp: 2 }] },
  { title: 'TCP reset mid-answer for a TCP client: SERVFAIL fast', servers: [{ kind: 'tcp-reset-mid-answer' }], transport: 'tcp', rcode: 'SERVFAIL', tries: 0, counters: [{ requests: 2, failures: { error: 2 } }], seen: [{ udp: 0, tcp: 2 }] },
  { title: 'SERVFAIL from the first server, the second answers', servers: [{ kind: 'servfail' }, answer], transport: 'udp', rcode: 'NOERROR', data: [REAL_A], tries: 0, counters: [{ requests: 1, failures: { servfail: 1 } }, { requests: 1 }] },
  { title: 'half the upstreams dead (first silent): answered by the second after one timeout', servers: [silent, answer], transport: 'udp', rcode: 'NOERROR', data: [REAL_A], tries: 1, minMs: T - 30, counters: [{ requests: 1, failures: { timeout: 1 } }, { requests: 1 }] },
  { title: 'half the upstreams dead (port closed): answered by a live one', servers: ['closed-port', answer, 'closed-port', answer], transport: 'udp', rcode: 'NOERROR', data: [REAL_A], tries: 1, minMs: T - 30, counters: [{ requests: 1, failures: { timeout: 1 } }, { requests: 1 }, { requests: 0 }, { requests: 0 }] },
  { title: 'half the upstreams dead over TCP (connection refused): answered fast', servers: ['closed-port', answer], transport: 'tcp', rcode: 'NOERROR', data: [REAL_A], tries: 0, counters: [{ requests: 1, failures: { error: 1 } }, { requests: 1 }] },
  { title: 'every upstream dead (silent, closed): SERVFAIL within timeout × attempts × servers', servers: [silent, 'closed-port'], transport: 'udp', rcode: 'SERVFAIL', tries: 4, counters: [{ requests: 2, failures: { timeout: 2 } }, { requests: 2 }] },
];

/**
 * The forwarder's own stats: ignored (forged, late, garbage) replies are not in /metrics or
 * /status, so the test reads the service's forward handler directly.
 */
function forwardStats(h: Harness): ForwardStats {
  return (h.service as unknown as { forward: ForwardHandler }).forward.stats();
}

/** A port with nothing listening (UDP and TCP): a dead upstream. */
async function closedPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

let faultsTried = 0;
let fdsAtStart = 0;
let timersAtStart = 0;

for (const [index, row] of rows.entries()) {
  test(row.title, async () => {
    if (index === 0) {
      fdsAtStart = openFdCount();
      timersAtStart = activeResources().Timeout ?? 0;
    }
    const chaos: Array<ChaosUpstream | null> = [];
    const ports: number[] = [];
    for (const s of row.servers) {
      if (s === 'closed-port') {
        chaos.push(null);
        ports.push(await closedPort());
      } else {
        const c = await startChaosUpstream(() => s);
        chaos.push(c);
        ports.push(c.port);
      }
    }
    const h: Harness = await startHarness({
      resolvConf: 'nameserver 127.0.0.1\n',
      settings: [
        `upstreams: [${ports.map((p) => `"127.0.0.1:${p}"`).join(', ')}]`,
        `forward: {timeout: ${TIMEOUT_MS}ms, attempts: ${ATTEMPTS}}`,
        'cache: {maxEntries: 0}',
        'metrics: "127.0.0.1:0"',
      ].join('\n'),
    });
    try {
      const started = performance.now();
      const a = await ask(h.port, `q${index}.fault.test`, 'A', { transport: row.transport, timeoutMs: 5000 });
      const elapsed = performance.now() - started;
      faultsTried++;

      assert.is(a.rcode, row.rcode, 'rcode');
      if (row.data !== undefined) assert.equal(answerLines(a).map((l) => l.split(' ')[2]), row.data, 'answer data');
      assert.is(a.flags.tc, row.tc ?? false, 'TC');
      assert.ok(elapsed <= row.tries * TIMEOUT_MS + SLACK_MS, `answered after ${elapsed.toFixed(0)} ms; bound ${row.tries} × ${TIMEOUT_MS} ms + ${SLACK_MS}`);
      if (row.minMs !== undefined) assert.ok(elapsed >= row.minMs, `answered after ${elapsed.toFixed(0)} ms, expected ≥ ${row.minMs}`);

      const samples = parsePrometheusText(await scrape(h.service.metricsAddress));
      row.counters.forEach((expected, i) => {
        const upstream = `127.0.0.1:${ports[i]}`;
        assert.is(sampleValue(samples, 'meshdns_dns_upstream_requests_total', { upstream }), expected.requests, `requests to server ${i}`);
        for (const [reason, n] of Object.entries(expected.failures ?? {})) {
          assert.is(sampleValue(samples, 'meshdns_dns_upstream_failures_total', { upstream, reason }), n, `${reason} failures of server ${i}`);
        }
        if (expected.failures === undefined && row.rcode === 'NOERROR' && expected.requests > 0) {
          const failed = samples.filter((s) => s.name === 'meshdns_dns_upstream_failures_total' && s.labels.upstream === upstream).reduce((x, s) => x + s.value, 0);
          assert.is(failed, 0, `server ${i} has no failures`);
        }
      });
      const outcome = row.rcode === 'SERVFAIL' ? 'servfail' : 'forwarded';
      assert.is(sampleValue(samples, 'meshdns_dns_requests_total', { type: 'A', protocol: row.transport, outcome }), 1, `client query counted as ${outcome}`);
      if (row.ignoredAtLeast !== undefined) {
        await sleep(TIMEOUT_MS); // late replies land too
        const ignored = forwardStats(h).ignoredReplies;
        assert.ok(ignored >= row.ignoredAtLeast, `${ignored} replies ignored, expected ≥ ${row.ignoredAtLeast}`);
      }
      row.seen?.forEach((want, i) => {
        const got = chaos[i]?.received ?? [];
        assert.equal(
          { udp: got.filter((q) => q.transport === 'udp').length, tcp: got.filter((q) => q.transport === 'tcp').length },
          want,
          `queries seen by server ${i}`,
        );
      });

      // The same fault in two bursts of 40 (distinct names: no coalescing). The first fills the
      // upstream socket pool (up to 32 sockets per family, by design); after the second, sockets
      // and timers must be where they were.
      const burst = (tag: string): Promise<unknown> =>
        Promise.all(Array.from({ length: 40 }, (_, k) => ask(h.port, `${tag}${k}.q${index}.fault.test`, 'A', { transport: row.transport, timeoutMs: 8000 })));
      await burst('w');
      await sleep(TIMEOUT_MS + 100);
      const fdsBefore = openFdCount();
      const timersBefore = activeResources().Timeout ?? 0;
      await burst('r');
      await sleep(TIMEOUT_MS + 100);
      const fdGrowth = openFdCount() - fdsBefore;
      assert.ok(fdGrowth <= 3, `fds grew by ${fdGrowth} after 40 more faults`);
      assert.ok((activeResources().Timeout ?? 0) - timersBefore <= 2, `timers ${timersBefore} → ${activeResources().Timeout ?? 0}`);
    } finally {
      await h.stop();
      for (const c of chaos) await c?.close();
    }
  });
}

test('forged, late and garbage replies are counted as ignored (forward stats)', async () => {
  const c = await startChaosUpstream(() => ({ kind: 'forgeries-then-answer' }));
  const h = await startHarness({ resolvConf: 'nameserver 127.0.0.1\n', settings: `upstreams: ["127.0.0.1:${c.port}"]\nforward: {timeout: ${TIMEOUT_MS}ms, attempts: 1}\ncache: {maxEntries: 0}\n` });
  try {
    for (let i = 0; i < 10; i++) assert.equal(answerLines(await ask(h.port, `f${i}.forged.test`, 'A')).map((l) => l.split(' ')[2]), [REAL_A]);
    await sleep(50);
    const stats = forwardStats(h);
    assert.is(stats.upstreams[0].requests, 10);
    assert.is(stats.upstreams[0].failures + stats.upstreams[0].timeouts, 0);
    assert.ok(stats.ignoredReplies >= 40, `${stats.ignoredReplies} forged replies ignored (5 per query expected)`);
  } finally {
    await h.stop();
    await c.close();
  }
});

test('after every fault: no descriptors or timers left behind by the stopped services', async () => {
  await sleep(100);
  const fds = openFdCount();
  const timers = activeResources().Timeout ?? 0;
  assert.ok(faultsTried >= rows.length, `${faultsTried} faults tried`);
  assert.ok(fds <= fdsAtStart + 4, `fds ${fdsAtStart} → ${fds}: ${JSON.stringify(activeResources())}`);
  assert.ok(timers <= timersAtStart + 1, `timers ${timersAtStart} → ${timers}`);
  console.log(`upstream faults: ${rows.length} rows, ${faultsTried * 81} faulty client queries; fds ${fdsAtStart} → ${fds}, timers ${timersAtStart} → ${timers}`);
});

test.run();
