// The native answer store (native/answer_store.c + src/dns/udp/answerStore.ts) on a real socket:
// a query whose reply the store holds is answered inside the engine with the client's ID, RD/CD
// bits and letter case, and never reaches the JS batch handler; every other shape, kind or name
// does; clearing takes the answers away; counts by type; one store per fast path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { loadUdpBatch, type NativeAnswerStoreHandle, type UdpBatchBinding } from '../../../src/dns/udp/binding';
import { createAnswerStore, type AnswerStore } from '../../../src/dns/udp/answerStore';
import { startBatchListener, type BatchListener } from '../../../src/dns/udp/batchListener';

function binding(): UdpBatchBinding {
  const loaded = loadUdpBatch();
  if ('error' in loaded) throw new Error(`the native UDP addon must load here: ${loaded.error}`);
  return loaded.binding;
}

/** A listener answering from `store`; every datagram that reaches JS is recorded and answered REFUSED-like by echo. */
function listen(store: NativeAnswerStoreHandle | undefined, reachedJs: Buffer[], wantsRemoteAddress = false): BatchListener {
  return startBatchListener(binding(), '127.0.0.1', 0, 4, {
    handle: (packet) => {
      reachedJs.push(packet);
      const reply = Buffer.from(packet);
      reply[2] |= 0x80;
      reply[3] = (reply[3] & 0xf0) | 5;
      return reply;
    },
    fastAnswer: () => 0,
    answerStore: store,
    wantsRemoteAddress,
    onHandlerError: () => undefined,
    bufferBytes: 1 << 20,
  });
}

function exchange(port: number, packet: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no reply'));
    }, 2000);
    socket.on('message', (m) => {
      clearTimeout(timer);
      socket.close();
      resolve(m);
    });
    socket.send(packet, port, '127.0.0.1');
  });
}

interface Q {
  id?: number;
  name?: string;
  type?: 'A' | 'AAAA' | 'TXT';
  rd?: boolean;
  cd?: boolean;
  edns?: { dnssecOk: boolean };
}

function query(q: Q = {}): Buffer {
  const packet: dnsPacket.Packet = {
    type: 'query',
    id: q.id ?? 4242,
    flags: (q.rd === false ? 0 : dnsPacket.RECURSION_DESIRED) | (q.cd === true ? dnsPacket.CHECKING_DISABLED : 0),
    questions: [{ name: q.name ?? 'web.mesh.internal', type: q.type ?? 'A', class: 'IN' }],
  };
  if (q.edns !== undefined) {
    packet.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: q.edns.dnssecOk ? dnsPacket.DNSSEC_OK : 0 } as unknown as dnsPacket.Answer];
  }
  return dnsPacket.encode(packet);
}

/** A reply template as the fast path keeps one: the answer owner is a pointer to the question (offset 12). */
function template(name = 'web.mesh.internal', address = '10.1.2.3', opt = false): Buffer {
  const head = dnsPacket.encode({
    type: 'response',
    id: 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER,
    questions: [{ name, type: 'A', class: 'IN' }],
  });
  const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, ...address.split('.').map(Number)]);
  const optRecord = opt ? Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  const reply = Buffer.concat([head, answer, optRecord]);
  reply.writeUInt16BE(1, 6);
  reply.writeUInt16BE(opt ? 1 : 0, 10);
  return reply;
}

const lowerWire = (name: string): Buffer => Buffer.concat([...name.toLowerCase().split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);

function newStore(): AnswerStore {
  const store = createAnswerStore();
  if (store === undefined) throw new Error('the native UDP addon must load here');
  return store;
}

test('a held reply is answered by the engine: client ID, RD/CD and letter case, and JS never sees the query', async () => {
  const store = newStore();
  store.put(0, lowerWire('web.mesh.internal'), template());
  const js: Buffer[] = [];
  const server = listen(store.handle, js);
  try {
    const reply = await exchange(server.port, query({ id: 0xbeef, name: 'WeB.MESH.internal', rd: false, cd: true }));
    const decoded = dnsPacket.decode(reply);
    assert.is(decoded.id, 0xbeef);
    assert.is(decoded.flag_rd, false, 'RD is the client');
    assert.is(decoded.flag_cd, true, 'CD is the client');
    assert.is(decoded.flag_aa, true, 'the rest is the template');
    assert.is(decoded.questions?.[0].name, 'WeB.MESH.internal', 'question in the client case');
    assert.equal(
      decoded.answers?.map((a) => [a.name, (a as { data: string }).data]),
      [['WeB.MESH.internal', '10.1.2.3']],
    );
    assert.is(js.length, 0, 'answered without entering JS');
    assert.equal(store.takeCounts(), { a: 1, aaaa: 0 });
    assert.equal(store.takeCounts(), { a: 0, aaaa: 0 }, 'the counters restart');
  } finally {
    server.close();
  }
});

test('every other kind, shape or name reaches JS', async () => {
  const store = newStore();
  store.put(0, lowerWire('web.mesh.internal'), template());
  const js: Buffer[] = [];
  const server = listen(store.handle, js);
  const withTrailingByte = Buffer.concat([query(), Buffer.from([0])]);
  const twoQuestions = Buffer.from(query());
  twoQuestions[5] = 2;
  const response = Buffer.from(query());
  response[2] |= 0x80;
  const notify = Buffer.from(query());
  notify[2] |= 4 << 3;
  const chaos = Buffer.from(query());
  chaos[chaos.length - 1] = 3;
  const cases: Array<[string, Buffer]> = [
    ['another name', query({ name: 'api.mesh.internal' })],
    ['a longer name below it', query({ name: 'x.web.mesh.internal' })],
    ['AAAA when only A is held', query({ type: 'AAAA' })],
    ['TXT', query({ type: 'TXT' })],
    ['EDNS when only no-EDNS is held', query({ edns: { dnssecOk: false } })],
    ['a byte after the question', withTrailingByte],
    ['QDCOUNT 2', twoQuestions],
    ['opcode NOTIFY', notify],
    ['class CH', chaos],
    ['a header only', query().subarray(0, 12)],
  ];
  try {
    for (const [what, packet] of cases) {
      const before = js.length;
      await exchange(server.port, packet).catch(() => undefined);
      assert.is(js.length, before + 1, what);
    }
    // A response (QR=1) reaches JS too (the general path would drop it).
    const before = js.length;
    await exchange(server.port, response);
    assert.is(js.length, before + 1, 'QR=1');
    assert.equal(store.takeCounts(), { a: 0, aaaa: 0 });
  } finally {
    server.close();
  }
});

test('EDNS kinds are told apart, and clear() takes every answer away', async () => {
  const store = newStore();
  const edns = template('web.mesh.internal', '10.9.9.9', true);
  store.put(1, lowerWire('web.mesh.internal'), edns);
  store.put(0, lowerWire('web.mesh.internal'), template());
  assert.is(store.size, 2);
  const js: Buffer[] = [];
  const server = listen(store.handle, js);
  try {
    const plain = dnsPacket.decode(await exchange(server.port, query()));
    const withOpt = dnsPacket.decode(await exchange(server.port, query({ edns: { dnssecOk: false } })));
    assert.is((plain.answers?.[0] as { data: string }).data, '10.1.2.3');
    assert.is((withOpt.answers?.[0] as { data: string }).data, '10.9.9.9');
    await exchange(server.port, query({ edns: { dnssecOk: true } }));
    assert.is(js.length, 1, 'DO=1 is a kind of its own, not held');
    store.clear();
    assert.is(store.size, 0);
    await exchange(server.port, query());
    assert.is(js.length, 2, 'after clear() the query reaches JS');
  } finally {
    server.close();
  }
});

test('a listener that must check every client (access control) never answers from the store', async () => {
  const store = newStore();
  store.put(0, lowerWire('web.mesh.internal'), template());
  const js: Buffer[] = [];
  const server = listen(store.handle, js, true);
  try {
    await exchange(server.port, query());
    assert.is(js.length, 1);
  } finally {
    server.close();
  }
});

test('two stores do not share replies (one per fast path, so two services in a process stay apart)', async () => {
  const a = newStore();
  const b = newStore();
  a.put(0, lowerWire('web.mesh.internal'), template('web.mesh.internal', '10.0.0.1'));
  b.put(0, lowerWire('web.mesh.internal'), template('web.mesh.internal', '10.0.0.2'));
  const js: Buffer[] = [];
  const sa = listen(a.handle, js);
  const sb = listen(b.handle, js);
  try {
    assert.is((dnsPacket.decode(await exchange(sa.port, query())).answers?.[0] as { data: string }).data, '10.0.0.1');
    assert.is((dnsPacket.decode(await exchange(sb.port, query())).answers?.[0] as { data: string }).data, '10.0.0.2');
    a.clear();
    await exchange(sa.port, query());
    assert.is((dnsPacket.decode(await exchange(sb.port, query())).answers?.[0] as { data: string }).data, '10.0.0.2', 'clearing one leaves the other');
    assert.is(js.length, 1);
  } finally {
    sa.close();
    sb.close();
  }
});

test('replies over 512 bytes and keys over 255 bytes are refused; a socket handle is not a store', () => {
  const b = binding();
  const store = newStore();
  assert.is(b.storePut(store.handle, Buffer.concat([Buffer.from([0]), lowerWire('web.mesh.internal')]), Buffer.alloc(513)), false);
  assert.is(b.storePut(store.handle, Buffer.alloc(257, 1), template()), false);
  assert.is(store.size, 0);
  const socket = b.open('127.0.0.1', 0, 4, 4096);
  try {
    assert.throws(() => b.storePut(socket as unknown as NativeAnswerStoreHandle, Buffer.from([0, 0]), template()), /not an answer store/);
    assert.throws(() => b.localPort(store.handle as unknown as Parameters<UdpBatchBinding['localPort']>[0]), /not a socket handle/);
  } finally {
    b.close(socket);
  }
});

test('mutated and cut-off copies of a held query: each answered by the store or by JS, never a crash', async () => {
  const store = newStore();
  store.put(0, lowerWire('web.mesh.internal'), template());
  store.put(1, lowerWire('web.mesh.internal'), template('web.mesh.internal', '10.9.9.9', true));
  const js: Buffer[] = [];
  const server = listen(store.handle, js);
  let seed = 99;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const base = [query(), query({ edns: { dnssecOk: false } })];
  try {
    let fromStore = 0;
    for (let i = 0; i < 3000; i++) {
      const packet = Buffer.from(base[i % 2]);
      for (let m = next(3); m >= 0; m--) packet[next(packet.length)] = next(256);
      // Cut anywhere after the header (shorter datagrams get no reply from the echoing handler).
      const cut = next(4) === 0 ? packet.subarray(0, 12 + next(packet.length - 11)) : packet;
      const before = js.length;
      const reply = await exchange(server.port, cut);
      if (js.length === before) {
        fromStore++;
        // The store answered: so the cut packet still held a question it keeps, in the client's letter case.
        assert.ok(reply.length >= cut.length - 11, 'a whole reply');
        assert.is(reply.readUInt16BE(0), cut.readUInt16BE(0), 'the client ID');
      }
    }
    assert.ok(fromStore > 0 && fromStore < 3000, `${fromStore} of 3000 from the store`);
    assert.is((dnsPacket.decode(await exchange(server.port, query())).answers?.[0] as { data: string }).data, '10.1.2.3', 'still serving');
  } finally {
    server.close();
  }
});

test.run();
