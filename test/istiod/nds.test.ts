// The name table from istiod over xDS (issue 15), end to end: a fake istiod (real grpc over TLS,
// CA made here) pushes NameTables; meshdns, given only istioctl's bootstrap files, serves them to
// dig. Each row checks what istiod saw (ACK/NACK, token, node) and what dig gets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { main } from '../../src/cli';
import { join } from 'node:path';
import { makeWorld, startMeshdns, tokenFor, type Running, type World } from './world';
import { makeTestCa } from '../support/testCa';
import type { FakeTable } from '../support/fakeIstiod';

const K8S = (name: string, ns: string, ip: string): [string, FakeTable[string]] => [`${name}.${ns}.svc.cluster.local`, { ips: [ip], registry: 'Kubernetes', shortname: name, namespace: ns }];

const TABLE1: FakeTable = Object.fromEntries([
  K8S('reviews', 'vm-ns', '10.96.0.10'),
  K8S('ratings', 'bookinfo', '10.96.0.11'),
  ['api.partner.example', { ips: ['240.240.0.7'], registry: 'External', namespace: 'vm-ns' }],
]);

let world: World;
let meshdns: Running;

test('first push: served through the real server, ACKed, node and metadata as istiod reads them', async () => {
  world = await makeWorld();
  world.istiod.setCurrent(TABLE1);
  meshdns = await startMeshdns(world);
  const ack = await world.istiod.until(() => world.istiod.requests.find((r) => r.versionInfo === 'v0' && r.nonce !== ''), 'the ACK of the first push');
  assert.is(ack.error, undefined);
  assert.equal(world.istiod.refusals, []);
  const first = world.istiod.requests[0];
  assert.match(first.nodeId ?? '', /^sidecar~[0-9a-f.:]+~vm-1\.vm-ns~vm-ns\.svc\.cluster\.local$/);
  const md = first.metadata ?? {};
  assert.is(md.DNS_CAPTURE, 'true', 'a string, not a JSON bool');
  assert.is(md.DNS_AUTO_ALLOCATE, 'true');
  assert.is(md.NAMESPACE, 'vm-ns');
  assert.is(md.CLUSTER_ID, 'cluster-east');
  assert.is(md.MESH_ID, 'mesh1');
  assert.is(md.NETWORK, 'vm-network');
  assert.is(md.SERVICE_ACCOUNT, 'vm-sa');
  assert.equal(md.LABELS, { app: 'vm-app', 'service.istio.io/canonical-name': 'vm-app' });
  assert.not.ok('AUTO_REGISTER_GROUP' in md, 'never AUTO_REGISTER_GROUP');
  assert.not.ok('WORKLOAD_ENTRY' in md);
  assert.is(world.istiod.authorizations[0], `Bearer ${readFileSync(join(world.dir, 'istio-token'), 'utf8')}`);

  assert.equal(await meshdns.a('reviews.vm-ns.svc.cluster.local'), ['10.96.0.10']);
  assert.equal(await meshdns.a('reviews'), ['10.96.0.10'], 'short name in the workload namespace');
  assert.equal(await meshdns.a('ratings.bookinfo'), ['10.96.0.11'], 'name.namespace');
  assert.equal(await meshdns.a('api.partner.example'), ['240.240.0.7'], "istiod's address, not one allocated here");
  const status = meshdns.service.status().istiod as Record<string, unknown>;
  assert.is(status.table, 'live');
  assert.is(status.version, 'v0');
  assert.match(meshdns.service.readiness().reason, /istiod table live/);
});

test('a push that adds, changes and removes names', async () => {
  const next: FakeTable = { ...TABLE1, ...Object.fromEntries([K8S('reviews', 'vm-ns', '10.96.0.20'), K8S('details', 'vm-ns', '10.96.0.12')]) };
  delete next['api.partner.example'];
  const push = world.istiod.push(next);
  const ack = await world.istiod.answerTo(push.nonces[0]);
  assert.is(ack.versionInfo, push.version);
  assert.is(ack.error, undefined);
  assert.equal(await meshdns.a('reviews'), ['10.96.0.20'], 'changed');
  assert.equal(await meshdns.a('details.vm-ns.svc.cluster.local'), ['10.96.0.12'], 'added');
  assert.equal(await meshdns.a('api.partner.example'), ['NXDOMAIN'], 'removed (forwarded, unknown upstream)');
  assert.equal(await meshdns.a('ratings.bookinfo'), ['10.96.0.11'], 'unchanged');
});

test('a corrupt resource is NACKed with error_detail; the last good table is still served', async () => {
  const before = world.istiod.requests.filter((r) => r.nonce !== '' && r.error === undefined).at(-1)!;
  const push = world.istiod.push({ 'x.example': { ips: ['10.1.1.1'] } }, { corrupt: true });
  const nack = await world.istiod.answerTo(push.nonces[0]);
  assert.ok(nack.error !== undefined && nack.error.includes('decode'), `NACK with a reason: ${nack.error}`);
  assert.is(nack.versionInfo, before.versionInfo, 'a NACK carries the last accepted version');
  assert.equal(await meshdns.a('reviews'), ['10.96.0.20']);
  assert.is((meshdns.service.status().istiod as { nacks: number }).nacks, 1);
});

test('an entry with an address that is not an IP is NACKed too', async () => {
  const push = world.istiod.push({ 'bad.example': { ips: ['10.0.0.300'] } });
  const nack = await world.istiod.answerTo(push.nonces[0]);
  assert.match(nack.error ?? '', /not an IP address/);
  assert.equal(await meshdns.a('reviews'), ['10.96.0.20']);
});

test('a stale nonce (a response already answered) is ignored', async () => {
  const good: FakeTable = Object.fromEntries([K8S('reviews', 'vm-ns', '10.96.0.30')]);
  const push = world.istiod.push(good);
  await world.istiod.answerTo(push.nonces[0]);
  world.istiod.replay(Object.fromEntries([K8S('reviews', 'vm-ns', '10.96.0.99')]), push.nonces[0], 'v-replayed');
  // A later push shows the replay was read (responses are handled in order) without an answer.
  const later = world.istiod.push(good);
  await world.istiod.answerTo(later.nonces[0]);
  assert.is(world.istiod.requests.filter((r) => r.nonce === push.nonces[0]).length, 1, 'answered once');
  assert.not.ok(world.istiod.requests.some((r) => r.versionInfo === 'v-replayed'));
  assert.equal(await meshdns.a('reviews'), ['10.96.0.30']);
});

test('an empty table empties the istiod names', async () => {
  const push = world.istiod.push({});
  const ack = await world.istiod.answerTo(push.nonces[0]);
  assert.is(ack.error, undefined);
  assert.equal(await meshdns.a('reviews'), ['NXDOMAIN']);
  assert.is((meshdns.service.status().istiod as { names: number }).names, 0);
});

test('stream ended by istiod → reconnect → the full table again', async () => {
  const streamsBefore = new Set(world.istiod.requests.map((r) => r.stream)).size;
  world.istiod.setCurrent(TABLE1);
  world.istiod.endStreams();
  const ack = await world.istiod.until(() => world.istiod.requests.find((r) => r.stream > streamsBefore && r.nonce !== ''), 'an ACK on a new stream', 15_000);
  assert.is(ack.error, undefined);
  const reconnect = world.istiod.requests.find((r) => r.stream > streamsBefore && r.nonce === '')!;
  assert.ok(reconnect.nodeId !== undefined, 'the node again on the new stream');
  assert.equal(await meshdns.a('reviews'), ['10.96.0.10']);
  assert.equal(await meshdns.a('api.partner.example'), ['240.240.0.7']);
  assert.ok((meshdns.service.status().istiod as { reconnects: number }).reconnects >= 1);
});

test('token rotated on disk: the next connect sends the new one', async () => {
  const rotated = tokenFor(2);
  world.write('istio-token', rotated);
  world.istiod.token = rotated;
  const before = world.istiod.authorizations.length;
  world.istiod.endStreams();
  await world.istiod.until(() => world.istiod.authorizations.length > before, 'a new connect');
  assert.is(world.istiod.authorizations.at(-1), `Bearer ${rotated}`);
  assert.equal(world.istiod.refusals, []);
});

test('a refused token: UNAUTHENTICATED logged once with what to fix, the table kept', async () => {
  world.istiod.token = 'something-else';
  const before = world.istiod.refusals.length;
  world.istiod.endStreams();
  await world.istiod.until(() => world.istiod.refusals.length >= before + 2, 'two refused connects', 20_000);
  const lines = meshdns.logs.filter((l) => l.msg.includes('UNAUTHENTICATED'));
  assert.is(lines.length, 1, 'once per change, not per retry');
  assert.match(lines[0].msg, /expired|istioctl x workload entry configure/);
  assert.equal(await meshdns.a('reviews'), ['10.96.0.10']);
  const status = meshdns.service.status().istiod as Record<string, unknown>;
  assert.is(status.table, 'stale');
  assert.match(meshdns.service.readiness().reason, /istiod table stale since \d{4}-/);
  world.istiod.token = readFileSync(join(world.dir, 'istio-token'), 'utf8');
});

test('istiod down at start: the last table from the state dir is served', async () => {
  await meshdns.stop();
  assert.ok(existsSync(join(world.dir, 'state', 'istiod-nametable.pb')));
  await world.istiod.close();
  meshdns = await startMeshdns(world);
  assert.equal(await meshdns.a('reviews'), ['10.96.0.10']);
  assert.equal(await meshdns.a('api.partner.example'), ['240.240.0.7']);
  const status = meshdns.service.status().istiod as Record<string, unknown>;
  assert.is(status.table, 'stale');
  assert.is(status.connected, false);
  await meshdns.stop();
  // `meshdns table` (which does not connect) shows the saved table too.
  const out: string[] = [];
  assert.is(await main(['table', '--config', join(world.dir, 'meshdns.yaml')], (l) => out.push(l), () => undefined), 0);
  assert.match(out.join('\n'), /reviews\.vm-ns\.svc\.cluster\.local\s.*10\.96\.0\.10/);
  await world.close();
});

test('enabled: auto turns on while running when the token and root certificate appear', async () => {
  world = await makeWorld();
  world.istiod.setCurrent(TABLE1);
  rmSync(join(world.dir, 'istio-token'));
  meshdns = await startMeshdns(world, { watch: true });
  try {
    assert.is((meshdns.service.status().istiod as { table: string }).table, 'off', 'off without a token');
    world.write('istio-token', world.istiod.token);
    await world.istiod.until(() => world.istiod.requests.find((r) => r.nonce !== ''), 'the ACK after the token appeared');
    assert.equal(await meshdns.a('reviews'), ['10.96.0.10']);
  } finally {
    await meshdns.stop();
    await world.close();
  }
});

test('a root certificate that did not sign istiod: refused, nothing received', async () => {
  world = await makeWorld();
  world.istiod.setCurrent(TABLE1);
  const other = makeTestCa(join(world.dir, 'other-ca'));
  world.write('root-cert.pem', other.rootCert.toString());
  meshdns = await startMeshdns(world);
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && (meshdns.service.status().istiod as { lastError: string | null }).lastError === null) await new Promise((r) => setTimeout(r, 100));
  const status = meshdns.service.status().istiod as Record<string, unknown>;
  assert.match(String(status.lastError), /certificate|self.signed|verify/i);
  assert.is(status.table, 'never');
  assert.match(meshdns.service.readiness().reason, /istiod table never received/);
  assert.is(world.istiod.requests.length, 0, 'no request reached istiod');
  assert.equal(await meshdns.a('reviews'), ['NXDOMAIN']);
  await meshdns.stop();
  await world.close();
});

test('a 100,000-name table (more than 4 MiB in one message) is accepted and served', async () => {
  world = await makeWorld();
  let savedSize = 0;
  const big: FakeTable = {};
  for (let i = 0; i < 100_000; i++) {
    big[`svc-${i}.ns-${i % 50}.svc.cluster.local`] = { ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`], registry: 'Kubernetes', shortname: `svc-${i}`, namespace: `ns-${i % 50}` };
  }
  world.istiod.setCurrent(big);
  meshdns = await startMeshdns(world);
  const ack = await world.istiod.until(() => world.istiod.requests.find((r) => r.nonce !== ''), 'the ACK of the big push', 60_000);
  try {
    assert.is(ack.error, undefined);
    assert.equal(await meshdns.a('svc-99999.ns-49.svc.cluster.local'), ['10.1.134.159']);
    assert.is((meshdns.service.status().istiod as { names: number }).names, 100_000);
  } finally {
    await meshdns.stop(); // waits for the table's save
    savedSize = statSync(join(world.dir, 'state', 'istiod-nametable.pb')).size;
    await world.close().catch(() => undefined);
  }
  // The saved table is the message's NameTable: more than grpc's default 4 MiB limit.
  assert.ok(savedSize > 4 * 1024 * 1024, `the table is larger than 4 MiB (${savedSize} bytes)`);
});

test.run();
