// istiod switched off and on without a restart (docs/ARCHITECTURE.md §11 "Off and on"): the
// settings file (watched) changes istiod.enabled, or the credential files of `enabled: auto`
// disappear; the fake istiod sees the stream end and no reconnect, dig sees istiod's names go and
// registry.d's come back; turned on again the saved table serves until istiod answers. Changed
// connection settings reconnect with the new values (ISTIO_VERSION and token checked on the
// server side). istiod's own version from control_plane.identifier shows in status.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli';
import type { FakeNameInfo, FakeTable } from '../support/fakeIstiod';
import { parsePrometheusText, sampleValue } from '../support/promText';
import { clusterEnv, makeWorld, startMeshdns, tokenFor, type Running, type World, httpGet } from './world';

const k8s = (name: string, ip: string): [string, FakeNameInfo] => [`${name}.vm-ns.svc.cluster.local`, { ips: [ip], registry: 'Kubernetes', shortname: name, namespace: 'vm-ns' }];
const TABLE: FakeTable = Object.fromEntries([k8s('both', '10.96.1.2'), k8s('istiodonly', '10.96.1.3')]);
const ISTIOD = 'istiod: {rootCert: ./root-cert.pem, token: ./istio-token}';
const OFF = 'istiod: {enabled: "false", rootCert: ./root-cert.pem, token: ./istio-token}';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** dig until `name` answers `expected` (a reload after a file change is not instant). */
async function answers(m: Running, name: string, expected: string[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [];
  while (Date.now() < deadline) {
    last = await m.a(name);
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await sleep(100);
  }
  assert.equal(last, expected, `${name} did not come to answer ${expected.join(' ')}`);
}

/** Nothing more reaches the fake istiod for `ms`: no stream, no request, no certificate call. */
async function assertQuiet(world: World, ms: number): Promise<void> {
  const before = { auth: world.istiod.authorizations.length, req: world.istiod.requests.length, cert: world.istiod.certRequests.length, refused: world.istiod.refusals.length };
  await sleep(ms);
  assert.equal(
    { auth: world.istiod.authorizations.length, req: world.istiod.requests.length, cert: world.istiod.certRequests.length, refused: world.istiod.refusals.length },
    before,
    'no reconnect while off',
  );
  assert.is(world.istiod.openStreams, 0);
}

let world: World;
let meshdns: Running;

test('settings file sets enabled: false → stream ends, no reconnect, registry.d answers again; on again → saved table, then live', async () => {
  world = await makeWorld();
  writeFileSync(
    join(world.dir, 'registry.d', 'svc.yaml'),
    'apiVersion: v1\nkind: Service\nmetadata: {name: both, namespace: vm-ns}\nspec: {clusterIP: 10.1.1.1, ports: [{port: 80}]}\n',
  );
  world.istiod.setCurrent(TABLE);
  world.write('meshdns.yaml', world.settings().replace('metrics: ""', 'metrics: "127.0.0.1:0"'));
  meshdns = await startMeshdns(world, { watch: true });
  const metrics = async (): Promise<ReturnType<typeof parsePrometheusText>> => parsePrometheusText(await httpGet(`http://${meshdns.service.metricsAddress}/metrics`));
  try {
    await world.istiod.until(() => world.istiod.requests.find((r) => r.nonce !== ''), 'the first ACK');
    assert.equal(await meshdns.a('both'), ['10.96.1.2'], "istiod's entry shadows the file's");
    assert.equal(await meshdns.a('istiodonly'), ['10.96.1.3']);
    assert.is(sampleValue(await metrics(), 'meshdns_istiod_enabled'), 1);

    // Off: the settings file changes (watched), no restart.
    world.write('meshdns.yaml', world.settings(OFF).replace('metrics: ""', 'metrics: "127.0.0.1:0"'));
    await world.istiod.until(() => world.istiod.openStreams === 0, 'the stream closed by meshdns');
    await answers(meshdns, 'both', ['10.1.1.1']);
    assert.equal(await meshdns.a('istiodonly'), ['NXDOMAIN'], 'forwarded: the upstream knows none');
    assert.equal(await meshdns.a('both.vm-ns.svc.cluster.local'), ['10.1.1.1']);
    const status = meshdns.service.status().istiod as Record<string, unknown>;
    assert.equal(status, { enabled: false, table: 'off', why: 'istiod.enabled is false' });
    assert.match(meshdns.service.readiness().reason, /istiod off$/);
    const off = await metrics();
    assert.is(sampleValue(off, 'meshdns_istiod_enabled'), 0);
    assert.is(sampleValue(off, 'meshdns_istiod_connected'), 0);
    assert.is(sampleValue(off, 'meshdns_istiod_table_names'), 0);
    assert.ok(meshdns.logs.some((l) => /istiod switched off \(istiod\.enabled is false\)/.test(l.msg)));
    assert.ok(existsSync(join(world.dir, 'state', 'istiod-nametable.pb')), 'the saved table stays on disk');
    // ... but `meshdns table` (which reads the saved table while istiod is on) leaves it out too.
    const out: string[] = [];
    assert.is(await main(['table', '--config', join(world.dir, 'meshdns.yaml')], (l) => out.push(l), () => undefined), 0);
    assert.not.match(out.join('\n'), /istiodonly/);
    assert.match(out.join('\n'), /both\.vm-ns\.svc\.cluster\.local\s.*10\.1\.1\.1/);
    await assertQuiet(world, 2500);

    // On again: the saved table serves at once (stale), then istiod's new table (live).
    world.istiod.setCurrent({ ...TABLE, ...Object.fromEntries([k8s('comeback', '10.96.1.4')]) });
    const token = world.istiod.token;
    world.istiod.token = 'refused-for-now'; // istiod refuses for the moment: only the saved table can answer
    world.write('meshdns.yaml', world.settings(ISTIOD).replace('metrics: ""', 'metrics: "127.0.0.1:0"'));
    await answers(meshdns, 'istiodonly', ['10.96.1.3']);
    assert.equal(await meshdns.a('both'), ['10.96.1.2']);
    assert.is((meshdns.service.status().istiod as { table: string }).table, 'stale');
    await world.istiod.until(() => world.istiod.refusals.length > 0, 'a refused connect');
    world.istiod.token = token;
    await world.istiod.until(() => world.istiod.requests.find((r) => r.nonce !== '' && r.versionInfo === 'v0' && r.stream > 1), 'an ACK on a new stream', 20_000);
    await answers(meshdns, 'comeback', ['10.96.1.4']);
    assert.is((meshdns.service.status().istiod as { table: string }).table, 'live');
    assert.is(sampleValue(await metrics(), 'meshdns_istiod_enabled'), 1);
  } finally {
    await meshdns.stop();
    await world.close();
  }
});

test('enabled: auto and the token removed (no saved certificate) → off; the token back → on', async () => {
  world = await makeWorld();
  world.istiod.setCurrent(TABLE);
  meshdns = await startMeshdns(world, { watch: true });
  try {
    await world.istiod.until(() => world.istiod.requests.find((r) => r.nonce !== ''), 'the first ACK');
    assert.equal(await meshdns.a('istiodonly'), ['10.96.1.3']);
    rmSync(join(world.dir, 'istio-token'));
    await world.istiod.until(() => world.istiod.openStreams === 0, 'the stream closed by meshdns');
    await answers(meshdns, 'istiodonly', ['NXDOMAIN']);
    const status = meshdns.service.status().istiod as { enabled: boolean; why: string };
    assert.is(status.enabled, false);
    assert.match(status.why, /^istiod\.enabled is auto: no token at .*istio-token and no saved workload certificate$/);
    await assertQuiet(world, 2500);
    world.write('istio-token', world.istiod.token);
    await world.istiod.until(() => world.istiod.requests.filter((r) => r.nonce !== '').length >= 2, 'an ACK after the token came back');
    await answers(meshdns, 'istiodonly', ['10.96.1.3']);
  } finally {
    await meshdns.stop();
    await world.close();
  }
});

test('changed istiod settings while on: a new stream with the new ISTIO_VERSION and token; istiod version in status', async () => {
  world = await makeWorld();
  world.istiod.setCurrent(TABLE);
  world.istiod.controlPlaneVersion = '1.24.3';
  world.write('meshdns.yaml', world.settings('istiod: {rootCert: ./root-cert.pem, token: ./istio-token, istioVersion: "1.24.1"}'));
  meshdns = await startMeshdns(world, { watch: true });
  try {
    await world.istiod.until(() => world.istiod.requests.find((r) => r.nonce !== ''), 'the first ACK');
    const first = world.istiod.requests[0].metadata ?? {};
    // As decoded by the fake istiod's grpc server from the node's Struct: a string value.
    assert.type(first.ISTIO_VERSION, 'string');
    assert.is(first.ISTIO_VERSION, '1.24.1');
    assert.is((meshdns.service.status().istiod as { istiodVersion: string }).istiodVersion, '1.24.3');

    const rotated = tokenFor(2);
    world.write('token2', rotated);
    world.istiod.token = rotated;
    world.write('meshdns.yaml', world.settings('istiod: {rootCert: ./root-cert.pem, token: ./token2, istioVersion: "1.25.0"}'));
    const again = await world.istiod.until(() => world.istiod.requests.find((r) => r.stream > 1 && r.nodeId !== undefined), 'a new stream', 15_000);
    assert.is(again.metadata?.ISTIO_VERSION, '1.25.0');
    assert.is(world.istiod.authorizations.at(-1), `Bearer ${rotated}`);
    assert.equal(world.istiod.refusals, []);
    await world.istiod.until(() => world.istiod.requests.find((r) => r.stream === again.stream && r.nonce !== ''), 'the ACK on the new stream');
    assert.is(world.istiod.openStreams, 1, 'the old stream was closed');
    assert.ok(meshdns.logs.some((l) => /istiod settings changed \(istiod\.token, istiod\.istioVersion\); reconnecting/.test(l.msg)));
    assert.equal(await meshdns.a('istiodonly'), ['10.96.1.3']);
  } finally {
    await meshdns.stop();
    await world.close();
  }
});

test('without istiod.istioVersion nor a bootstrap version, ISTIO_VERSION is not sent; cluster.env ISTIO_META_ISTIO_VERSION is', async () => {
  world = await makeWorld();
  world.istiod.setCurrent(TABLE);
  meshdns = await startMeshdns(world);
  try {
    await world.istiod.until(() => world.istiod.requests.find((r) => r.nonce !== ''), 'the first ACK');
    assert.not.ok('ISTIO_VERSION' in (world.istiod.requests[0].metadata ?? {}));
    assert.is((meshdns.service.status().istiod as { istiodVersion: unknown }).istiodVersion, null, 'istiod sent no control_plane');
  } finally {
    await meshdns.stop();
  }
  world.write('cluster.env', `${clusterEnv()}ISTIO_META_ISTIO_VERSION='1.23.2'\n`);
  meshdns = await startMeshdns(world);
  try {
    const n = world.istiod.requests.length;
    const req = await world.istiod.until(() => world.istiod.requests.slice(n).find((r) => r.nodeId !== undefined), 'the node of the second run');
    assert.is(req.metadata?.ISTIO_VERSION, '1.23.2');
  } finally {
    await meshdns.stop();
    await world.close();
  }
});

test.run();
