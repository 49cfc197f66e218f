import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dgram from 'dgram';
import * as dnsPacket from 'dns-packet';
import { UdpSocketPool, buildUpstreamQuery } from '../../../src/dns/forward';
import { FakeAction, startFakeUpstream } from '../../helpers/fakeUpstream';
import { encodeSockaddr } from '../../../src/dns/udp/sockaddr';
import { makeQuery } from '../../helpers/query';

const query = makeQuery({ name: 'pool.test', id: 0x0101 });
const packet = buildUpstreamQuery(query);

// Every test runs on both socket engines: the native batching socket and Node's dgram.
const ENGINE: 'native' | 'node' = process.env.POOL_ENGINE === 'node' ? 'node' : 'native';

async function withFake(
  action: FakeAction,
  body: (fake: Awaited<ReturnType<typeof startFakeUpstream>>, pool: UdpSocketPool) => Promise<void>,
  pool = new UdpSocketPool({ engine: ENGINE }),
): Promise<void> {
  const fake = await startFakeUpstream(() => action);
  try {
    await body(fake, pool);
  } finally {
    await pool.close();
    await fake.close();
  }
}

test('a reply comes back under the random ID that was sent', () =>
  withFake({ kind: 'answer' }, async (fake, pool) => {
    const result = await pool.exchange(fake.upstream, packet, query.questionEnd, 500);
    assert.is(result.kind, 'reply');
    if (result.kind !== 'reply') return;
    assert.is(result.packet.readUInt16BE(0), fake.received[0].id);
    assert.equal(pool.stats().pending, 0);
  }));

test('the caller buffer is not modified (the pool sends a copy)', () =>
  withFake({ kind: 'answer' }, async (fake, pool) => {
    const before = Buffer.from(packet);
    await pool.exchange(fake.upstream, packet, query.questionEnd, 500);
    assert.ok(packet.equals(before));
  }));

test('silence ends as a timeout near the deadline', () =>
  withFake({ kind: 'silent' }, async (fake, pool) => {
    const started = performance.now();
    const result = await pool.exchange(fake.upstream, packet, query.questionEnd, 120);
    const elapsed = performance.now() - started;
    assert.is(result.kind, 'timeout');
    assert.ok(elapsed >= 110 && elapsed < 400, `${elapsed} ms`);
  }));

test('an abort ends the exchange as cancelled and frees its ID', () =>
  withFake({ kind: 'silent' }, async (fake, pool) => {
    const controller = new AbortController();
    const pending = pool.exchange(fake.upstream, packet, query.questionEnd, 5000, controller.signal);
    controller.abort();
    assert.is((await pending).kind, 'cancelled');
    assert.is(pool.stats().pending, 0);
  }));

test('close ends pending exchanges with an error', () =>
  withFake({ kind: 'silent' }, async (fake, pool) => {
    const pending = pool.exchange(fake.upstream, packet, query.questionEnd, 5000);
    await pool.close();
    assert.is((await pending).kind, 'error');
    assert.is(pool.stats().openSockets, 0);
    assert.is((await pool.exchange(fake.upstream, packet, query.questionEnd, 100)).kind, 'error');
  }));

test('sockets older than maxSocketAgeMs are replaced', async () => {
  let now = 0;
  const pool = new UdpSocketPool({ socketsPerFamily: 1, maxUsesPerSocket: 1000, maxSocketAgeMs: 1000, now: () => now, engine: ENGINE });
  await withFake(
    { kind: 'answer' },
    async (fake) => {
      await pool.exchange(fake.upstream, packet, query.questionEnd, 500);
      await pool.exchange(fake.upstream, packet, query.questionEnd, 500);
      now = 1000;
      await pool.exchange(fake.upstream, packet, query.questionEnd, 500);
      const ports = fake.received.map((q) => q.sourcePort);
      assert.is(ports[0], ports[1]);
      assert.is.not(ports[1], ports[2]);
      assert.is(pool.stats().socketsOpened, 2);
      assert.is(pool.stats().openSockets, 1, 'the retired socket was closed');
    },
    pool,
  );
});

test('IPv6 upstreams are reached from the IPv6 pool', async () => {
  const server = dgram.createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise<void>((resolve) => server.bind(0, '::1', () => resolve()));
  const seen: string[] = [];
  server.on('message', (msg, rinfo) => {
    seen.push(rinfo.family);
    const q = dnsPacket.decode(msg);
    server.send(
      dnsPacket.encode({ type: 'response', id: q.id, flags: 0, questions: q.questions, answers: [{ type: 'A', name: 'pool.test', ttl: 5, data: '192.0.2.6' }] }),
      rinfo.port,
      rinfo.address,
    );
  });
  const pool = new UdpSocketPool({ engine: ENGINE });
  try {
    const result = await pool.exchange({ host: '0:0::1', port: server.address().port, family: 6 }, packet, query.questionEnd, 500);
    assert.is(result.kind, 'reply', 'the source check accepts "::1" for "0:0::1"');
    assert.equal(seen, ['IPv6']);
  } finally {
    await pool.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('200 concurrent exchanges on few sockets each get their own reply', () =>
  withFake(
    { kind: 'answer', delayMs: 5 },
    async (fake, pool) => {
      const results = await Promise.all(Array.from({ length: 200 }, () => pool.exchange(fake.upstream, packet, query.questionEnd, 1000)));
      assert.ok(results.every((r) => r.kind === 'reply'));
      const ids = new Set(results.map((r) => (r.kind === 'reply' ? r.packet.readUInt16BE(0) : -1)));
      assert.ok(ids.size >= 195, `${ids.size} distinct IDs`);
    },
    new UdpSocketPool({ socketsPerFamily: 2, maxUsesPerSocket: 1000, engine: ENGINE }),
  ));

test('a reply with the right ID and question from the wrong port is ignored', async () => {
  const real = dgram.createSocket('udp4');
  const spoofer = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => real.bind(0, '127.0.0.1', () => resolve()));
  await new Promise<void>((resolve) => spoofer.bind(0, '127.0.0.1', () => resolve()));
  real.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    // Only the spoofer answers, with everything right but its source port.
    spoofer.send(dnsPacket.encode({ type: 'response', id: q.id, flags: 0, questions: q.questions, answers: [] }), rinfo.port, rinfo.address);
  });
  const pool = new UdpSocketPool({ engine: ENGINE });
  try {
    const result = await pool.exchange({ host: '127.0.0.1', port: real.address().port, family: 4 }, packet, query.questionEnd, 200);
    assert.is(result.kind, 'timeout');
    assert.is(pool.stats().ignoredReplies, 1);
  } finally {
    await pool.close();
    real.close();
    spoofer.close();
  }
});

test('native sockaddr of an upstream: family, port, address; none for a scoped IPv6 address', () => {
  const v4 = encodeSockaddr('192.0.2.7', 5353, 4)!;
  assert.is(v4.length, 16);
  assert.is(v4.readUInt16BE(2), 5353);
  assert.equal([...v4.subarray(4, 8)], [192, 0, 2, 7]);
  const v6 = encodeSockaddr('2001:db8::53', 53, 6)!;
  assert.is(v6.length, 28);
  assert.is(v6.subarray(8, 24).toString('hex'), '20010db8000000000000000000000053');
  assert.is(encodeSockaddr('fe80::1%eth0', 53, 6), null);
});

test.run();
