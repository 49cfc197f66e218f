// Identical in-flight questions share one upstream exchange; a forwarding loop through an
// upstream that points back at meshdns ends in SERVFAIL instead of amplifying (issue #8).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHarness } from '../support/harness';
import { startFakeUpstream } from '../helpers/fakeUpstream';
import { startDnsmasq } from '../helpers/dnsmasq';
import { ask, answerLines } from './client';

test('20 identical concurrent questions: one upstream query, each client its own ID', async () => {
  const upstream = await startFakeUpstream(() => ({ kind: 'answer', delayMs: 200 }));
  const h = await startHarness({ resolvConf: 'nameserver 127.0.0.1\n', settings: `upstreams: ["127.0.0.1:${upstream.port}"]\ncache: {maxEntries: 0}\n` });
  try {
    const ids = Array.from({ length: 20 }, (_, i) => 1000 + i);
    const answers = await Promise.all(ids.map((id) => ask(h.port, 'herd.example', 'A', { id })));
    assert.equal(answers.map((a) => a.msg.id), ids);
    for (const a of answers) assert.equal(answerLines(a), ['A herd.example 192.0.2.1']);
    assert.is(upstream.received.filter((q) => q.name === 'herd.example').length, 1);
    // Different letter case is a different question (the reply echoes the client's case).
    const [x, y] = await Promise.all([ask(h.port, 'case.example', 'A'), ask(h.port, 'CASE.example', 'A')]);
    assert.is(x.msg.questions?.[0].name, 'case.example');
    assert.is(y.msg.questions?.[0].name, 'CASE.example');
  } finally {
    await h.stop();
    await upstream.close();
  }
});

test('a forwarding loop (upstream forwards back to meshdns) ends in SERVFAIL, bounded', async () => {
  // Start meshdns first with a placeholder upstream, then point dnsmasq at meshdns and meshdns
  // at dnsmasq: the loop meshdns → dnsmasq → meshdns.
  const h = await startHarness({
    resolvConf: 'nameserver 127.0.0.1\n',
    settings: `upstreams: ["127.0.0.1:9"]\nforward: {timeout: 500ms, attempts: 1}\ncache: {maxEntries: 0}\n`,
  });
  const dnsmasq = await startDnsmasq({ extraArgs: [`--server=127.0.0.1#${h.port}`] });
  try {
    h.write('meshdns.yaml', require('node:fs').readFileSync(require('node:path').join(h.dir, 'meshdns.yaml'), 'utf8').replace('127.0.0.1:9', `127.0.0.1:${dnsmasq.port}`));
    await h.service.reload('test', { force: true });
    assert.equal(h.service.upstreams.map((u) => u.port), [dnsmasq.port]);
    const started = Date.now();
    const a = await ask(h.port, 'loop.example', 'A', { timeoutMs: 8000 });
    const took = Date.now() - started;
    assert.is(a.rcode, 'SERVFAIL');
    assert.ok(took < 3000, `answered after ${took} ms`);
    await new Promise((r) => setTimeout(r, 1500));
    const seen = dnsmasq.queriesSeen('loop.example');
    // The start-up/upstream-change probe finds the loop, so the name is usually not forwarded.
    assert.ok(seen <= 6, `dnsmasq saw ${seen} queries for the looping name`);
    assert.equal((h.service.status() as { loopingUpstreams: string[] }).loopingUpstreams, [`127.0.0.1:${dnsmasq.port}`]);
  } finally {
    await h.stop();
    await dnsmasq.stop();
  }
});

test('a loop through a naive forwarder (no dedupe of its own) is cut after one round', async () => {
  const dgram = await import('node:dgram');
  const h = await startHarness({
    resolvConf: 'nameserver 127.0.0.1\n',
    settings: `upstreams: ["127.0.0.1:9"]\nforward: {timeout: 400ms, attempts: 1}\ncache: {maxEntries: 0}\n`,
  });
  // The relay forwards every query it gets to meshdns from a fresh socket and relays the answer.
  let relayed = 0;
  const relay = dgram.createSocket('udp4');
  await new Promise<void>((r) => relay.bind(0, '127.0.0.1', () => r()));
  relay.on('message', (msg, rinfo) => {
    relayed++;
    const out = dgram.createSocket('udp4');
    out.on('message', (answer) => {
      relay.send(answer, rinfo.port, rinfo.address);
      out.close();
    });
    setTimeout(() => {
      try {
        out.close();
      } catch {
        /* already closed */
      }
    }, 3000);
    out.send(msg, h.port, '127.0.0.1');
  });
  try {
    h.write('meshdns.yaml', require('node:fs').readFileSync(require('node:path').join(h.dir, 'meshdns.yaml'), 'utf8').replace('127.0.0.1:9', `127.0.0.1:${relay.address().port}`));
    await h.service.reload('test', { force: true });
    const a = await ask(h.port, 'loop2.example', 'A', { timeoutMs: 5000 });
    assert.is(a.rcode, 'SERVFAIL');
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(relayed <= 2, `the relay saw ${relayed} copies of the query (a loop amplifies without bound)`);
  } finally {
    relay.close();
    await h.stop();
  }
});

test.run();
