// Spoofing (issue 8): while meshdns waits for a slow upstream, a second process floods the
// upstream-facing UDP ports meshdns uses with forged answers to the right question — every ID
// 0..65535, from a wrong port and from a wrong address on the upstream's port. None may be
// accepted or cached: the client gets the real data, and so does the cached second query.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { extname, join } from 'node:path';
import type { Harness } from '../support/harness';
import { startHarnessRetrying } from '../support/listenRetry';
import { startChaosUpstream, REAL_A, FORGED_A, type ChaosUpstream } from '../support/chaosUpstream';
import { repoRoot } from '../support/namespace';
import { udpPortsOf, sleep } from '../support/fd';
import type { FloodPlan } from '../support/spoofFlood';
import dgram from 'node:dgram';
import { ask, answerLines, decodeAnswer, encodeQuery } from '../dns/client';
import type { ForwardHandler } from '../../src/dns/forward';

const UPSTREAM_DELAY_MS = 6000;

function runFlood(plan: FloodPlan): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, join(__dirname, '..', 'support', `spoofFlood${extname(__filename)}`), JSON.stringify(plan)], {
      cwd: repoRoot(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve((JSON.parse(out) as { sent: number }).sent) : reject(new Error(`flood exited ${code}`))));
  });
}

function ignoredReplies(h: Harness): number {
  return (h.service as unknown as { forward: ForwardHandler }).forward.stats().ignoredReplies;
}

let h: Harness;
let upstream: ChaosUpstream;

test('a forged-answer flood at meshdns upstream ports is never accepted', async () => {
  upstream = await startChaosUpstream(() => ({ kind: 'answer', delayMs: UPSTREAM_DELAY_MS, ttl: 300 }));
  h = await startHarnessRetrying({
    resolvConf: 'nameserver 127.0.0.1\n',
    settings: `upstreams: ["127.0.0.1:${upstream.port}"]\nforward: {timeout: ${UPSTREAM_DELAY_MS + 4000}ms, attempts: 1}\n`,
  });
  const name = 'victim.spoof.test';
  const started = performance.now();
  const pending = ask(h.port, name, 'A', { timeoutMs: UPSTREAM_DELAY_MS + 6000 });
  // The port the upstream saw the query come from, plus every other UDP port of this process
  // but the upstream's and meshdns's own listener (a spoofer scanning /proc/net/udp).
  while (upstream.received.length === 0) await sleep(5);
  const queryPort = upstream.received[0].sourcePort;
  const scanned = udpPortsOf('self').filter((p) => p !== upstream.port && p !== h.port);
  assert.ok(scanned.includes(queryPort), `the /proc scan finds the query's source port ${queryPort}`);
  const ignoredBefore = ignoredReplies(h);
  const sent = await runFlood({
    targets: [queryPort],
    name,
    type: 'A',
    // A wrong port on the right address, and the upstream's port on a wrong address.
    sources: [
      { address: '127.0.0.1', port: 0 },
      { address: '127.0.0.3', port: upstream.port },
    ],
    forged: FORGED_A,
  });
  const floodDone = performance.now() - started;
  assert.ok(floodDone < UPSTREAM_DELAY_MS, `the flood (${floodDone.toFixed(0)} ms) ended before the real answer`);
  assert.is(sent, 2 * 65536);
  const a = await pending;
  assert.is(a.rcode, 'NOERROR');
  assert.equal(answerLines(a), [`A ${name} ${REAL_A}`], 'the real answer, not the forged one');
  const ignored = ignoredReplies(h) - ignoredBefore;
  console.log(`spoofing: ${sent} forged answers sent, ${ignored} reached meshdns and were ignored, 0 accepted`);
  // Most of the flood must have reached meshdns for the proof to mean anything.
  assert.ok(ignored >= sent * 0.5, `only ${ignored} of ${sent} forged answers reached meshdns`);

  // The cache holds the real answer: a second query is answered at once, without the upstream.
  const seen = upstream.received.length;
  const t = performance.now();
  const cached = await ask(h.port, name, 'A', { timeoutMs: 1000 });
  assert.ok(performance.now() - t < 500, 'answered from the cache');
  assert.is(upstream.received.length, seen, 'the upstream was not asked again');
  assert.equal(answerLines(cached), [`A ${name} ${REAL_A}`]);
});

/** A UDP query from a socket whose port is known (so a flood aimed at this process can skip the test's own client). */
async function askFromKnownPort(port: number, name: string): Promise<{ clientPort: number; reply: Promise<Buffer> }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  const reply = new Promise<Buffer>((resolve) => {
    sock.once('message', (msg) => {
      sock.close();
      resolve(msg);
    });
  });
  sock.send(encodeQuery(name, 'A'), port, '127.0.0.1');
  return { clientPort: sock.address().port, reply };
}

test('a flood at every upstream-facing port (scanned from /proc) is ignored too', async () => {
  const name = 'second.spoof.test';
  const before = upstream.received.length;
  const { clientPort, reply } = await askFromKnownPort(h.port, name);
  while (upstream.received.length === before) await sleep(5);
  // Every UDP port of this process but the upstream's sockets, meshdns's listener and the client.
  const ports = udpPortsOf('self').filter((p) => p !== upstream.port && p !== h.port && p !== clientPort);
  const ignoredBefore = ignoredReplies(h);
  const sent = await runFlood({ targets: ports.slice(0, 40), name, type: 'A', sources: [{ address: '127.0.0.1', port: 0 }], forged: FORGED_A }).catch(() => 0);
  const a = decodeAnswer(await reply);
  assert.equal(answerLines(a), [`A ${name} ${REAL_A}`]);
  const ignored = ignoredReplies(h) - ignoredBefore;
  console.log(`spoofing (scan): ${sent} forged answers to ${Math.min(40, ports.length)} ports, ${ignored} ignored by meshdns`);
  assert.ok(sent > 0);
  const cached = await ask(h.port, name, 'A');
  assert.equal(answerLines(cached), [`A ${name} ${REAL_A}`]);
  await h.stop();
  await upstream.close();
});

test.run();
