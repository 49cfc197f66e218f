// The server with real parts (issue #3 proof): real clients (dig, kdig), a real upstream
// (dnsmasq from Debian) for forwarding, NXDOMAIN pass-through and caching, hostile packets
// that must never stop it, and clear errors for a port in use.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { startHarness, type Harness } from '../support/harness';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq';
import { dig } from '../helpers/dig';
import { ask, answerLines, encodeQuery, sendRaw, decodeAnswer } from './client';
import { MeshDnsService } from '../../src/service';

const registry = {
  'se.yaml': `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external-address, namespace: vm-ns}
spec: {hosts: [address.internal], addresses: [198.51.100.1], ports: [{name: http, number: 80, protocol: HTTP}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external-auto, namespace: vm-ns}
spec: {hosts: [auto.internal], resolution: DNS, ports: [{name: http, number: 80, protocol: HTTP}]}
`,
  'svc.yaml': `
apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: vm-ns}
spec: {clusterIP: 10.96.12.34, ports: [{name: http, port: 9080}]}
`,
};

let upstream: Dnsmasq;
let h: Harness;

test.before(async () => {
  upstream = await startDnsmasq({ hosts: ['192.0.2.10 web.upstream.test', '2001:db8::10 web.upstream.test', '192.0.2.11 cache.upstream.test'], localDomains: ['upstream.test'] });
  h = await startHarness({
    resolvConf: `nameserver 127.0.0.1\nsearch vm-ns.svc.cluster.local svc.cluster.local cluster.local\n`,
    settings: `upstreams: ["127.0.0.1:${upstream.port}"]\n`,
    clusterEnv: `POD_NAMESPACE='vm-ns'\n`,
    registry,
  });
});
test.after(async () => {
  await h.stop();
  await upstream.stop();
});

const clientRows: Array<[string, 'dig' | 'kdig', boolean, string, string, string[]]> = [
  ['dig UDP: ServiceEntry address', 'dig', false, 'address.internal', 'A', ['198.51.100.1']],
  ['dig TCP: ServiceEntry address', 'dig', true, 'address.internal', 'A', ['198.51.100.1']],
  ['kdig UDP: same-namespace short name', 'kdig', false, 'productpage', 'A', ['10.96.12.34']],
  ['kdig TCP: auto-allocated IPv6 VIP', 'kdig', true, 'auto.internal', 'AAAA', ['2001:2::1']],
  ['dig UDP: search walk CNAME', 'dig', false, 'auto.internal.vm-ns.svc.cluster.local', 'A', ['auto.internal.', '240.240.0.1']],
  ['kdig UDP: PTR', 'kdig', false, '1.100.51.198.in-addr.arpa', 'PTR', ['address.internal.']],
  ['dig UDP: forwarded to dnsmasq', 'dig', false, 'web.upstream.test', 'A', ['192.0.2.10']],
  ['kdig TCP: forwarded to dnsmasq over TCP', 'kdig', true, 'web.upstream.test', 'AAAA', ['2001:db8::10']],
];
for (const [title, tool, tcp, name, type, data] of clientRows) {
  test(title, async () => {
    const r = await dig({ tool, port: h.port, name, type, tcp });
    assert.is(r.status, 'NOERROR', r.raw);
    assert.equal(r.answers.map((a) => a.data), data);
  });
}

test('dig sees AA and RA on local answers, TTL 30', async () => {
  const r = await dig({ tool: 'dig', port: h.port, name: 'address.internal' });
  assert.ok(r.flags.includes('aa') && r.flags.includes('ra'), r.flags.join(' '));
  assert.is(r.answers[0].ttl, 30);
});

test('NXDOMAIN from the real upstream passes through', async () => {
  const r = await dig({ tool: 'kdig', port: h.port, name: 'missing.upstream.test' });
  assert.is(r.status, 'NXDOMAIN');
});

test('cache: a second identical query does not reach dnsmasq', async () => {
  const name = 'cache.upstream.test'; // asked nowhere else, so the first query is a miss
  const before = upstream.queriesSeen(name);
  const first = await ask(h.port, name, 'A', { edns: 1232 });
  await upstream.waitForQueries(before + 1, name);
  const afterFirst = upstream.queriesSeen(name);
  assert.ok(afterFirst > before, 'first query went upstream');
  const second = await ask(h.port, 'CACHE.upstream.TEST', 'A', { edns: 1232 });
  await new Promise((r) => setTimeout(r, 200));
  assert.is(upstream.queriesSeen(name), afterFirst, 'second query answered from the cache');
  assert.equal(answerLines(second).map((l) => l.split(' ')[2]), answerLines(first).map((l) => l.split(' ')[2]));
  assert.is(second.msg.questions?.[0].name, 'CACHE.upstream.TEST', 'question echoed in the client case');
});

// Hostile input: each row sends something broken, then checks the server still answers.
async function stillServing(): Promise<void> {
  const a = await ask(h.port, 'address.internal', 'A');
  assert.equal(answerLines(a), ['A address.internal 198.51.100.1']);
}

function udpExchange(packet: Buffer, waitMs = 300): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(null);
    }, waitMs);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(m);
    });
    sock.send(packet, h.port, '127.0.0.1');
  });
}

const header = (id: number, flags: number, qd: number, an = 0, ns = 0, ar = 0): Buffer => {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(flags, 2);
  b.writeUInt16BE(qd, 4);
  b.writeUInt16BE(an, 6);
  b.writeUInt16BE(ns, 8);
  b.writeUInt16BE(ar, 10);
  return b;
};
const question = Buffer.concat([Buffer.from([7]), Buffer.from('address'), Buffer.from([8]), Buffer.from('internal'), Buffer.from([0, 0, 1, 0, 1])]);

const hostile: Array<[string, Buffer, 'drop' | 'FORMERR' | 'NOTIMP' | 'any']> = [
  ['random bytes (short)', Buffer.from([1, 2, 3]), 'drop'],
  ['truncated header', Buffer.alloc(11), 'drop'],
  ['QDCOUNT 0', header(1, 0x0100, 0), 'FORMERR'],
  ['QDCOUNT 2', Buffer.concat([header(2, 0x0100, 2), question, question]), 'FORMERR'],
  ['truncated question', Buffer.concat([header(3, 0x0100, 1), question.subarray(0, 6)]), 'FORMERR'],
  ['compression loop in the question', Buffer.concat([header(4, 0x0100, 1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]), 'FORMERR'],
  ['compression loop in the additional section', Buffer.concat([header(5, 0x0100, 1, 0, 0, 1), question, Buffer.from([0xc0, 29, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0])]), 'any'],
  ['a response sent as a query (QR=1)', Buffer.concat([header(6, 0x8180, 1), question]), 'drop'],
  ['opcode STATUS', Buffer.concat([header(7, 0x1100, 1), question]), 'NOTIMP'],
  ['label longer than 63', Buffer.concat([header(8, 0x0100, 1), Buffer.from([64]), Buffer.alloc(64, 97), Buffer.from([0, 0, 1, 0, 1])]), 'FORMERR'],
];
for (const [title, packet, expected] of hostile) {
  test(`hostile UDP: ${title} → ${expected}, still serving`, async () => {
    const reply = await udpExchange(packet);
    if (expected === 'drop') assert.is(reply, null);
    else if (expected !== 'any') {
      assert.ok(reply !== null, 'expected a reply');
      assert.is(reply!.readUInt16BE(0), packet.readUInt16BE(0), 'ID echoed');
      assert.is(reply![3] & 0x0f, expected === 'FORMERR' ? 1 : 4);
    }
    await stillServing();
  });
}

test('hostile UDP: 2,000 random packets, then still serving', async () => {
  const sock = dgram.createSocket('udp4');
  for (let i = 0; i < 2000; i++) {
    const len = Math.floor(Math.random() * 80);
    const p = Buffer.alloc(len);
    for (let j = 0; j < len; j++) p[j] = Math.floor(Math.random() * 256);
    if (len > 2) p[2] &= 0x7f; // mostly queries, so the parser goes deep
    sock.send(p, h.port, '127.0.0.1');
  }
  await new Promise((r) => setTimeout(r, 300));
  sock.close();
  await stillServing();
});

function tcpSession(chunks: Buffer[], waitMs = 400): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const conn = net.connect({ host: '127.0.0.1', port: h.port });
    let data = Buffer.alloc(0);
    let closed = false;
    conn.on('connect', () => chunks.forEach((c) => conn.write(c)));
    conn.on('data', (d) => (data = Buffer.concat([data, d])));
    conn.on('close', () => (closed = true));
    conn.on('error', () => (closed = true));
    setTimeout(() => {
      conn.destroy();
      resolve({ data, closed });
    }, waitMs);
  });
}
const frame = (p: Buffer): Buffer => {
  const l = Buffer.alloc(2);
  l.writeUInt16BE(p.length);
  return Buffer.concat([l, p]);
};

test('TCP: zero-length frame → connection closed, still serving', async () => {
  const r = await tcpSession([Buffer.from([0, 0])]);
  assert.is(r.closed, true);
  assert.is(r.data.length, 0);
  await stillServing();
});

test('TCP: frame longer than the bytes sent → no answer, still serving', async () => {
  const r = await tcpSession([Buffer.from([0xff, 0xff]), Buffer.alloc(100)]);
  assert.is(r.data.length, 0);
  await stillServing();
});

test('TCP: pipelined queries on one connection all answered, each with its own ID', async () => {
  const ids = [11, 12, 13, 14, 15];
  const names = ['address.internal', 'productpage', 'auto.internal', 'web.upstream.test', 'address.internal'];
  const r = await tcpSession([Buffer.concat(ids.map((id, i) => frame(encodeQuery(names[i], 'A', { id }))))], 600);
  const seen: number[] = [];
  let at = 0;
  while (at + 2 <= r.data.length) {
    const len = r.data.readUInt16BE(at);
    seen.push(decodeAnswer(r.data.subarray(at + 2, at + 2 + len)).msg.id ?? -1);
    at += 2 + len;
  }
  assert.equal(seen.sort(), ids);
});

test('TCP: garbage frame gets FORMERR or is dropped; the connection still serves', async () => {
  const r = await tcpSession([frame(header(21, 0x0100, 0)), frame(encodeQuery('address.internal', 'A', { id: 22 }))]);
  const first = r.data.subarray(2, 2 + r.data.readUInt16BE(0));
  assert.is(first.readUInt16BE(0), 21);
  assert.is(first[3] & 0x0f, 1, 'FORMERR');
  const rest = r.data.subarray(2 + first.length);
  const second = decodeAnswer(rest.subarray(2, 2 + rest.readUInt16BE(0)));
  assert.is(second.msg.id, 22);
  assert.equal(answerLines(second), ['A address.internal 198.51.100.1']);
});

test('a port in use is a clear error naming the address', async () => {
  const blocker = dgram.createSocket('udp4');
  await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', () => r()));
  const port = blocker.address().port;
  const other = await startHarness({ resolvConf: 'nameserver 127.0.0.1\n' }).catch((e: Error) => e);
  if (!(other instanceof Error)) await other.stop();
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-inuse-'));
  writeFileSync(join(dir, 'meshdns.yaml'), `listen: ["127.0.0.1:${port}"]\nresolvConf: {path: ./none, manage: "false"}\nstateDir: ./state\nmetrics: ""\nregistry: [./r]\nbootstrap: {clusterEnv: ./x, meshConfig: ./y, hosts: ./z}\n`);
  const pino = (await import('pino')).default;
  const svc = new MeshDnsService({ settingsFile: join(dir, 'meshdns.yaml'), logger: pino({ level: 'silent' }) });
  const err = await svc.start().then(() => null, (e: Error) => e);
  await svc.stop();
  blocker.close();
  assert.ok(err !== null, 'start must fail');
  assert.match(err!.message, `127.0.0.1:${port}`);
  assert.match(err!.message, /already in use/);
});

test('forwarding works before any mesh input exists', async () => {
  const bare = await startHarness({
    resolvConf: 'nameserver 127.0.0.1\n',
    settings: `upstreams: ["127.0.0.1:${upstream.port}"]\n`,
  });
  try {
    const a = await ask(bare.port, 'web.upstream.test', 'A');
    assert.equal(answerLines(a), ['A web.upstream.test 192.0.2.10']);
    assert.is(bare.service.table?.size, 0);
  } finally {
    await bare.stop();
  }
});

test('all upstreams silent → SERVFAIL within timeout × attempts', async () => {
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  const deaf = await startHarness({
    resolvConf: 'nameserver 127.0.0.1\n',
    settings: `upstreams: ["127.0.0.1:${silent.address().port}"]\nforward: {timeout: 200ms, attempts: 2}\n`,
  });
  try {
    const started = Date.now();
    const a = await ask(deaf.port, 'anything.example', 'A', { timeoutMs: 3000 });
    const took = Date.now() - started;
    assert.is(a.rcode, 'SERVFAIL');
    assert.ok(took >= 350 && took < 1500, `took ${took} ms`);
  } finally {
    await deaf.stop();
    silent.close();
  }
});

void dnsPacket;
void sendRaw;
test.run();
