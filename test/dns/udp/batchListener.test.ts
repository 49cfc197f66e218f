// The native batching UDP listener (native/udp_batch.c + src/dns/udp/batchListener.ts), with
// real sockets on loopback: bursts answered in batches to the right clients, late (promised)
// replies after the slots were reused, handler errors contained, bind errors, close, IPv6.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { loadUdpBatch, type UdpBatchBinding } from '../../../src/dns/udp/binding';
import { startBatchListener, type BatchListener, type BatchListenerOptions } from '../../../src/dns/udp/batchListener';
import { socketAddressText } from '../../../src/dns/udp/sockaddr';
import { chooseUdpEngine, ListenError, parseUdpEngineChoice, startDnsServer } from '../../../src/dns/server';

function binding(): UdpBatchBinding {
  const loaded = loadUdpBatch();
  if ('error' in loaded) throw new Error(`the native UDP addon must load here: ${loaded.error}`);
  return loaded.binding;
}

function listen(options: Partial<BatchListenerOptions> & Pick<BatchListenerOptions, 'handle'>, host = '127.0.0.1', family: 4 | 6 = 4): BatchListener {
  return startBatchListener(binding(), host, 0, family, {
    wantsRemoteAddress: false,
    onHandlerError: () => undefined,
    bufferBytes: 4 << 20,
    ...options,
  });
}

/** A client socket that collects replies. */
async function client(type: 'udp4' | 'udp6' = 'udp4'): Promise<{ socket: dgram.Socket; replies: Buffer[]; port: number }> {
  const socket = dgram.createSocket(type);
  const replies: Buffer[] = [];
  socket.on('message', (m) => replies.push(m));
  await new Promise<void>((resolve) => socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', resolve));
  socket.setRecvBufferSize(8 << 20);
  return { socket, replies, port: socket.address().port };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const reversed = (packet: Buffer): Buffer => Buffer.from(packet).reverse();

test('the addon loads and has the batch geometry the listener expects', () => {
  const b = binding();
  assert.ok(b.BATCH >= 8, `batch of ${b.BATCH}`);
  assert.is(b.SLOT, 65536, 'a slot holds the largest UDP payload');
  assert.ok(b.ADDR >= 28, 'an address slot holds a sockaddr_in6');
});

test('a burst from four clients: every datagram answered, to its own client, in batches', async () => {
  const server = listen({ handle: (packet) => reversed(packet) });
  const clients = await Promise.all([client(), client(), client(), client()]);
  const perClient = 500;
  for (let i = 0; i < perClient; i++) {
    for (const [c, { socket }] of clients.entries()) socket.send(Buffer.from(`client${c}-query${i}`), server.port, '127.0.0.1');
  }
  await until(() => clients.every((c) => c.replies.length === perClient));
  for (const [c, { replies }] of clients.entries()) {
    const texts = new Set(replies.map((r) => reversed(r).toString()));
    for (let i = 0; i < perClient; i++) assert.ok(texts.has(`client${c}-query${i}`), `client ${c} got the reply to its query ${i}`);
  }
  const stats = server.stats();
  assert.is(stats.datagrams, 4 * perClient);
  assert.ok(stats.batches < stats.datagrams, `${stats.batches} batches for ${stats.datagrams} datagrams: replies were batched`);
  assert.is(stats.failedSends, 0);
  server.close();
  for (const c of clients) c.socket.close();
});

test('late replies (promises) reach the right client after later batches reused the slots', async () => {
  const server = listen({
    handle: (packet) => {
      const text = packet.toString();
      if (!text.startsWith('slow')) return reversed(packet);
      return new Promise((resolve) => setTimeout(() => resolve(reversed(packet)), 30));
    },
  });
  const a = await client();
  const b = await client();
  for (let i = 0; i < 50; i++) {
    a.socket.send(Buffer.from(`slow-a-${i}`), server.port, '127.0.0.1');
    b.socket.send(Buffer.from(`fast-b-${i}`), server.port, '127.0.0.1');
  }
  await until(() => a.replies.length === 50 && b.replies.length === 50);
  assert.equal(a.replies.map((r) => reversed(r).toString()).sort(), Array.from({ length: 50 }, (_, i) => `slow-a-${i}`).sort());
  assert.ok(b.replies.every((r) => reversed(r).toString().startsWith('fast-b-')));
  server.close();
  a.socket.close();
  b.socket.close();
});

test('the packet handed to the handler is its own copy (slots are reused under it)', async () => {
  const kept: Buffer[] = [];
  const server = listen({
    handle: (packet) => {
      kept.push(packet);
      return null;
    },
  });
  const c = await client();
  for (let i = 0; i < 100; i++) c.socket.send(Buffer.from(`packet-${i}`), server.port, '127.0.0.1');
  await until(() => kept.length === 100);
  assert.equal(kept.map((p) => p.toString()).sort(), Array.from({ length: 100 }, (_, i) => `packet-${i}`).sort());
  server.close();
  c.socket.close();
});

test('a throwing handler costs its datagram only; the error is reported', async () => {
  const errors: unknown[] = [];
  const server = listen({
    handle: (packet) => {
      if (packet.toString() === 'boom') throw new Error('handler bug');
      return reversed(packet);
    },
    onHandlerError: (err) => errors.push(err),
  });
  const c = await client();
  c.socket.send(Buffer.from('before'), server.port, '127.0.0.1');
  c.socket.send(Buffer.from('boom'), server.port, '127.0.0.1');
  c.socket.send(Buffer.from('after'), server.port, '127.0.0.1');
  await until(() => c.replies.length === 2 && errors.length === 1);
  assert.equal(c.replies.map((r) => reversed(r).toString()).sort(), ['after', 'before']);
  assert.match(String(errors[0]), /handler bug/);
  server.close();
  c.socket.close();
});

test('the fast answer writes straight into the send slot; 0 passes the datagram on', async () => {
  const general: string[] = [];
  const server = listen({
    handle: (packet) => {
      general.push(packet.toString());
      return Buffer.from('general');
    },
    fastAnswer: (data, start, length, out, outStart) => {
      if (data.toString('latin1', start, start + length) !== 'hot') return 0;
      return out.write('fast!', outStart, 'latin1');
    },
  });
  const c = await client();
  c.socket.send(Buffer.from('hot'), server.port, '127.0.0.1');
  c.socket.send(Buffer.from('cold'), server.port, '127.0.0.1');
  await until(() => c.replies.length === 2);
  assert.equal(c.replies.map(String).sort(), ['fast!', 'general']);
  assert.equal(general, ['cold']);
  server.close();
  c.socket.close();
});

test('a throwing fast answer falls back to the general handler and is reported', async () => {
  const errors: unknown[] = [];
  const server = listen({
    handle: () => Buffer.from('general'),
    fastAnswer: () => {
      throw new Error('fast path bug');
    },
    onHandlerError: (err) => errors.push(err),
  });
  const c = await client();
  c.socket.send(Buffer.from('q'), server.port, '127.0.0.1');
  await until(() => c.replies.length === 1);
  assert.is(c.replies[0].toString(), 'general');
  assert.match(String(errors[0]), /fast path bug/);
  server.close();
  c.socket.close();
});

test('client addresses are decoded when asked (IPv4 and IPv6 listeners)', async () => {
  const seen: string[] = [];
  const v4 = listen({ handle: (p, remote) => (seen.push(remote), p), wantsRemoteAddress: true });
  const v6 = listen({ handle: (p, remote) => (seen.push(remote), p), wantsRemoteAddress: true }, '::1', 6);
  const c4 = await client('udp4');
  const c6 = await client('udp6');
  c4.socket.send(Buffer.from('x'), v4.port, '127.0.0.1');
  c6.socket.send(Buffer.from('y'), v6.port, '::1');
  await until(() => c4.replies.length === 1 && c6.replies.length === 1);
  assert.equal(seen.sort(), ['0:0:0:0:0:0:0:1', '127.0.0.1']);
  v4.close();
  v6.close();
  c4.socket.close();
  c6.socket.close();
});

test('socketAddressText reads sockaddr_in and sockaddr_in6 as the kernel writes them', () => {
  const v4 = Buffer.alloc(16);
  v4.writeUInt16LE(2, 0);
  v4.writeUInt16BE(5353, 2);
  Buffer.from([10, 1, 2, 3]).copy(v4, 4);
  assert.is(socketAddressText(v4, 0, 16), '10.1.2.3');
  const v6 = Buffer.alloc(28);
  v6.writeUInt16LE(10, 0);
  Buffer.from('20010db8000000000000000000000001', 'hex').copy(v6, 8);
  assert.is(socketAddressText(v6, 0, 28), '2001:db8:0:0:0:0:0:1');
  assert.is(socketAddressText(Buffer.alloc(16), 0, 16), '', 'unknown family');
});

test('binding a port in use fails with EADDRINUSE; the server names the address', async () => {
  const taken = listen({ handle: () => null });
  assert.throws(() => binding().open('127.0.0.1', taken.port, 4, 1 << 20), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
  try {
    await startDnsServer([{ host: '127.0.0.1', port: taken.port, family: 4 }], () => null, { udpEngine: 'native' });
    assert.unreachable('bound a port in use');
  } catch (err) {
    assert.instance(err, ListenError);
    assert.match((err as Error).message, new RegExp(`udp 127\\.0\\.0\\.1:${taken.port}.*already in use`));
  }
  taken.close();
});

test('close releases the port and stops answering', async () => {
  const server = listen({ handle: (p) => p });
  const port = server.port;
  server.close();
  server.close(); // idempotent
  await new Promise((r) => setTimeout(r, 20));
  const again = startBatchListener(binding(), '127.0.0.1', port, 4, { handle: (p) => reversed(p), wantsRemoteAddress: false, onHandlerError: () => undefined, bufferBytes: 1 << 20 });
  const c = await client();
  c.socket.send(Buffer.from('abc'), port, '127.0.0.1');
  await until(() => c.replies.length === 1);
  assert.is(c.replies[0].toString(), 'cba');
  again.close();
  c.socket.close();
});

test('engine choice: native when it loads, node when asked, a clear error for a bad value', async () => {
  assert.is(chooseUdpEngine('auto').engine, 'native');
  assert.is(chooseUdpEngine('native').engine, 'native');
  assert.is(chooseUdpEngine('node').engine, 'node');
  // The service reads MESHDNS_UDP_ENGINE and parses it so (nothing below it reads the environment).
  try {
    parseUdpEngineChoice('turbo');
    assert.unreachable('accepted MESHDNS_UDP_ENGINE=turbo');
  } catch (err) {
    assert.match((err as Error).message, /MESHDNS_UDP_ENGINE=turbo: expected auto, native or node/);
  }
  assert.is(parseUdpEngineChoice(undefined), 'auto');
  assert.is(parseUdpEngineChoice('node'), 'node');
});

test.run();
