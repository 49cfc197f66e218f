// Resource bounds (issue 8): beyond each bound meshdns sheds load (SERVFAIL, a refused or closed
// connection, an evicted cache entry) and keeps serving — never unbounded growth. meshdns runs
// as its own process so its descriptors and memory are measured from outside.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import net from 'node:net';
import { startChaosUpstream, type ChaosUpstream } from '../support/chaosUpstream';
import { startMeshDnsProcess, type MeshDnsProcess } from '../support/meshdnsProcess';
import { FUZZ_REGISTRY, freePort, healthCheck, scrape } from '../support/fuzzCampaign';
import { parsePrometheusText, sampleValue } from '../support/promText';
import { sleep } from '../support/fd';
import { encodeQuery } from '../dns/client';

const MB = 1024 * 1024;

async function startMeshdns(upstream: ChaosUpstream, extra: string): Promise<{ m: MeshDnsProcess; metrics: string }> {
  const metrics = `127.0.0.1:${await freePort()}`;
  const m = await startMeshDnsProcess({
    resolvConf: 'nameserver 127.0.0.1\n',
    clusterEnv: "POD_NAMESPACE='vm-ns'\n",
    registry: FUZZ_REGISTRY,
    settings: `upstreams: ["127.0.0.1:${upstream.port}"]\nmetrics: "${metrics}"\n${extra}`,
  });
  return { m, metrics };
}

async function metric(address: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sampleValue(parsePrometheusText(await scrape(address)), name, labels);
}

test('in-flight forwards are bounded (1000): the excess gets SERVFAIL at once, the rest at the timeout', async () => {
  const upstream = await startChaosUpstream(() => ({ kind: 'silent' }));
  const { m, metrics } = await startMeshdns(upstream, 'forward: {timeout: 3s, attempts: 1}\ncache: {maxEntries: 0}');
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    // 1000 SERVFAILs arrive together when the timeouts fire: room for them in the client's buffer.
    sock.setRecvBufferSize(8 * 1024 * 1024);
    const replies: Array<{ rcode: number; ms: number }> = [];
    const started = performance.now();
    sock.on('message', (msg) => replies.push({ rcode: msg[3] & 15, ms: performance.now() - started }));
    const total = 1300;
    for (let i = 0; i < total; i++) {
      sock.send(encodeQuery(`n${i}.inflight.test`, 'A', { id: i }), m.port, '127.0.0.1');
      if (i % 100 === 99) await sleep(5);
    }
    await sleep(1000);
    const early = replies.filter((r) => r.rcode === 2);
    assert.ok(early.length >= 250, `${early.length} SERVFAIL within 1 s (expected the ${total - 1000} beyond the bound)`);
    assert.ok(early.length <= total - 900, `${early.length} shed: the bound is not far below 1000`);
    // The service still answers mesh names while 1000 forwards wait.
    assert.is(await healthCheck(m.port, 'udp', 1000), null);
    await sleep(3000);
    assert.ok(replies.length >= total * 0.9, `${replies.length}/${total} answered in the end (UDP: a burst may lose a few)`);
    assert.ok(replies.every((r) => r.rcode === 2), 'every forward ended SERVFAIL (silent upstream)');
    assert.is(await metric(metrics, 'meshdns_dns_upstream_requests_total', { upstream: upstream.label }) <= 1000 + 5, true, 'no more than the bound reached the upstream');
  } finally {
    sock.close();
    await m.stop();
    await upstream.close();
  }
});

function openConnection(port: number): Promise<{ conn: net.Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const conn = net.connect({ host: '127.0.0.1', port });
    const opened = performance.now();
    const closed = new Promise<number>((r) => conn.once('close', () => r(performance.now() - opened)));
    conn.on('error', () => undefined);
    conn.once('connect', () => resolve({ conn, closed }));
    setTimeout(() => reject(new Error('connect timeout')), 3000).unref();
  });
}

test('TCP connections are bounded (256): beyond it connections are closed, UDP and later TCP still served, idle ones time out', async () => {
  const upstream = await startChaosUpstream();
  const { m } = await startMeshdns(upstream, '');
  const held: Array<{ conn: net.Socket; closed: Promise<number> }> = [];
  try {
    const fdsBefore = m.fds();
    for (let i = 0; i < 320; i++) {
      const c = await openConnection(m.port);
      // Half of them half-open: a length prefix and part of a query, then nothing.
      if (i % 2 === 0) c.conn.write(Buffer.from([0, 40, 0x12, 0x34, 1]));
      held.push(c);
    }
    const closedQuickly = (await Promise.all(held.map((h) => Promise.race([h.closed, sleep(500).then(() => -1)])))).filter((t) => t >= 0).length;
    assert.ok(closedQuickly >= 320 - 256 - 2, `${closedQuickly} of 320 closed by meshdns at once (bound 256)`);
    assert.ok(m.fds() <= fdsBefore + 256 + 4, `meshdns holds ${m.fds() - fdsBefore} more fds`);
    assert.is(await healthCheck(m.port, 'udp', 1000), null, 'UDP still served');
    // Idle connections are closed by the server (10 s idle timeout): the slots come back.
    const all = await Promise.all(held.map((h) => Promise.race([h.closed, sleep(13_000).then(() => -1)])));
    assert.ok(all.every((t) => t >= 0), `${all.filter((t) => t < 0).length} connections still open after 13 s`);
    assert.is(await healthCheck(m.port, 'tcp', 1000), null, 'TCP served again');
    await sleep(200);
    assert.ok(m.fds() <= fdsBefore + 3, `fds ${fdsBefore} → ${m.fds()} after the connections ended`);
  } finally {
    for (const h of held) h.conn.destroy();
    await m.stop();
    await upstream.close();
  }
});

test('cache entries are bounded: 3000 unique names through maxEntries 200', async () => {
  const upstream = await startChaosUpstream(() => ({ kind: 'answer', ttl: 3600 }));
  const { m, metrics } = await startMeshdns(upstream, 'cache: {maxEntries: 200}');
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    sock.setRecvBufferSize(8 * 1024 * 1024);
    let answered = 0;
    sock.on('message', (msg) => {
      if ((msg[3] & 15) === 0) answered++;
    });
    for (let i = 0; i < 3000; i++) {
      sock.send(encodeQuery(`u${i}.cache.test`, 'A', { id: i & 0xffff }), m.port, '127.0.0.1');
      // Paced: the subject is the cache bound, not how many datagrams a burst can lose.
      if (i % 25 === 24) await sleep(10);
    }
    await sleep(1500);
    assert.ok(answered >= 2850, `${answered}/3000 answered`);
    const entries = await metric(metrics, 'meshdns_cache_entries');
    const evictions = await metric(metrics, 'meshdns_cache_evictions_total');
    assert.ok(entries <= 200 && entries >= 150, `meshdns_cache_entries ${entries}`);
    assert.ok(evictions >= answered - 200, `meshdns_cache_evictions_total ${evictions}`);
  } finally {
    sock.close();
    await m.stop();
    await upstream.close();
  }
});

test('a client sending 65535-byte TCP frames over and over: memory bounded, still serving', async () => {
  const upstream = await startChaosUpstream();
  const { m } = await startMeshdns(upstream, '');
  try {
    assert.is(await healthCheck(m.port, 'tcp', 2000), null);
    const rssBefore = m.rss();
    // A valid query padded to the maximum frame, and random-looking frames of the same size.
    const query = encodeQuery('productpage', 'A');
    const big = Buffer.alloc(2 + 65535, 0x5a);
    big.writeUInt16BE(65535, 0);
    query.copy(big, 2);
    const frames = 400; // per connection: 26 MB
    const connections = 8;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, m.rss());
      } catch {
        /* exited: caught below */
      }
    }, 50);
    await Promise.all(
      Array.from({ length: connections }, () =>
        new Promise<void>((resolve) => {
          const conn = net.connect({ host: '127.0.0.1', port: m.port });
          conn.on('error', () => resolve());
          conn.on('close', () => resolve());
          conn.on('data', () => undefined); // read whatever comes back
          conn.on('connect', async () => {
            for (let i = 0; i < frames && !conn.destroyed; i++) {
              if (!conn.write(big)) await new Promise((r) => conn.once('drain', r));
            }
            conn.end();
          });
        }),
      ),
    );
    clearInterval(sampler);
    assert.is(m.exit(), null, 'meshdns still running');
    assert.is(await healthCheck(m.port, 'tcp', 2000), null, 'TCP still served');
    assert.is(await healthCheck(m.port, 'udp', 2000), null, 'UDP still served');
    const grew = (peak - rssBefore) / MB;
    console.log(`big frames: ${(connections * frames * 65537) / MB} MB sent, meshdns RSS ${(rssBefore / MB).toFixed(0)} → peak ${(peak / MB).toFixed(0)} MB`);
    assert.ok(grew < 150, `RSS grew ${grew.toFixed(0)} MB while ${(connections * frames * 65537) / MB} MB were sent`);
  } finally {
    await m.stop();
    await upstream.close();
  }
});

test.run();
