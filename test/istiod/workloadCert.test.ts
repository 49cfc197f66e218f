// Staying connected after the token expires (issue 16), end to end: the fake istiod's CA signs
// the CSR meshdns makes (checking the token and the SPIFFE identity), and its ADS stream
// accepts the client certificate. Each row checks what istiod saw and what dig gets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, startMeshdns, tokenFor, clusterEnv, type Running, type World, httpGet } from './world';
import type { FakeTable } from '../support/fakeIstiod';
import { parsePrometheusText, sampleValue } from '../support/promText';

const TABLE: FakeTable = { 'reviews.vm-ns.svc.cluster.local': { ips: ['10.96.0.10'], registry: 'Kubernetes', shortname: 'reviews', namespace: 'vm-ns' } };
const IDENTITY = 'spiffe://cluster.local/ns/vm-ns/sa/vm-sa';

let world: World;
let meshdns: Running;

const certsDir = (): string => join(world.dir, 'state', 'certs');
const savedLeaf = (): X509Certificate => new X509Certificate(readFileSync(join(certsDir(), 'cert-chain.pem')));

test('first connect with the token: a certificate is saved (key 0600) and the stream uses it; the token file deleted, it reconnects with the certificate', async () => {
  world = await makeWorld({ ca: true });
  world.istiod.setCurrent(TABLE);
  meshdns = await startMeshdns(world);
  await world.istiod.until(() => world.istiod.requests.find((r) => r.nonce !== '' && r.error === undefined), 'the ACK of the first push');
  assert.equal(world.istiod.certRequests.map((r) => [r.via, r.caller, r.refused]), [['token', IDENTITY, undefined]]);
  assert.is(world.istiod.peerIdentities[0], IDENTITY, 'the ADS stream came with the certificate');
  assert.is(world.istiod.authorizations[0], '', 'and without the token');
  assert.is(statSync(join(certsDir(), 'key.pem')).mode & 0o777, 0o600);
  assert.match(savedLeaf().subjectAltName ?? '', `URI:${IDENTITY}`);
  assert.ok(savedLeaf().checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(readFileSync(join(certsDir(), 'key.pem'))))));

  rmSync(join(world.dir, 'istio-token'));
  const streams = world.istiod.peerIdentities.length;
  world.istiod.endStreams();
  await world.istiod.until(() => world.istiod.peerIdentities.length > streams && world.istiod.openStreams === 1, 'a reconnect');
  assert.is(world.istiod.peerIdentities.at(-1), IDENTITY);
  assert.equal(world.istiod.refusals, []);
  assert.equal(await meshdns.a('reviews'), ['10.96.0.10']);
  const status = meshdns.service.status().istiod as { table: string; certificate: { identity: string } };
  assert.is(status.table, 'live');
  assert.is(status.certificate.identity, IDENTITY);
  await meshdns.stop();
  await world.close();
});

test('renewal at about half the lifetime (6 s certificates) with the certificate, no token; the stream stays up', async () => {
  world = await makeWorld({ ca: true });
  world.istiod.certTtlSeconds = 6;
  world.istiod.setCurrent(TABLE);
  meshdns = await startMeshdns(world);
  await world.istiod.until(() => world.istiod.openStreams === 1, 'the stream');
  const first = savedLeaf();
  const streams = world.istiod.peerIdentities.length;
  rmSync(join(world.dir, 'istio-token'));
  const renewal = await world.istiod.until(() => world.istiod.certRequests.find((r) => r.via === 'certificate'), 'a renewal', 10_000);
  // From the certificate's own notBefore (X.509 times are whole seconds, so it can be up to 1 s
  // before the request): renewal is due at 40–60% of its lifetime; timers may fire a little late.
  const notBefore = Date.parse(first.validFrom);
  const life = Date.parse(first.validTo) - notBefore;
  const age = renewal.at - notBefore;
  assert.ok(age >= 0.4 * life && age <= 0.6 * life + 1000, `renewed ${age} ms after notBefore (40–60% of ${life} ms)`);
  assert.is(renewal.caller, IDENTITY);
  assert.is(renewal.refused, undefined);
  await world.istiod.until(() => savedLeaf().serialNumber !== first.serialNumber, 'the renewed certificate saved');
  assert.ok(Date.parse(savedLeaf().validTo) > Date.parse(first.validTo));
  // Past the first certificate's expiry: still the same stream, a second renewal done.
  await world.istiod.until(() => world.istiod.certRequests.filter((r) => r.via === 'certificate' && r.refused === undefined).length >= 2 && Date.now() > Date.parse(first.validTo) + 500, 'a second renewal after the first expired', 12_000);
  assert.is(world.istiod.peerIdentities.length, streams, 'no reconnect');
  assert.is(world.istiod.openStreams, 1);
  assert.is((meshdns.service.status().istiod as { connected: boolean }).connected, true);
  const expiry = meshdns.service.status().istiod as { certificate: { notAfter: string } };
  assert.is(expiry.certificate.notAfter, new Date(Date.parse(savedLeaf().validTo)).toISOString());
});

test('restart with a still-valid saved certificate and no token: connects with the certificate', async () => {
  world.istiod.certTtlSeconds = 3600;
  // Stopped once the 1 h certificate is saved (a stop while it is in flight keeps the old pair).
  await world.istiod.until(() => Date.parse(savedLeaf().validTo) - Date.parse(savedLeaf().validFrom) >= 3600_000, 'a 1 h certificate saved', 10_000);
  await meshdns.stop();
  assert.not.ok(existsSync(join(world.dir, 'istio-token')));
  const streams = world.istiod.peerIdentities.length;
  const requests = world.istiod.certRequests.length;
  meshdns = await startMeshdns(world);
  await world.istiod.until(() => world.istiod.peerIdentities.length > streams && world.istiod.openStreams === 1, 'a connect after the restart').catch((err: Error) => {
    throw new Error(`${err.message}\nmeshdns log: ${meshdns.logs.map((l) => l.msg).join('\n')}`);
  });
  assert.is(world.istiod.peerIdentities.at(-1), IDENTITY);
  assert.is(world.istiod.certRequests.length, requests, 'no new certificate needed');
  assert.equal(world.istiod.refusals, []);
  await world.istiod.until(() => (meshdns.service.status().istiod as { table: string }).table === 'live', 'the table live');
  assert.equal(await meshdns.a('reviews'), ['10.96.0.10']);
  await meshdns.stop();
  await world.close();
});

test('token and certificate both expired: said once (log, status, /readyz), the expiry exported, the last table still served', async () => {
  world = await makeWorld({ ca: true });
  world.write('meshdns.yaml', world.settings().replace('metrics: ""', 'metrics: "127.0.0.1:0"'));
  world.istiod.certTtlSeconds = 3;
  world.istiod.setCurrent(TABLE);
  meshdns = await startMeshdns(world);
  await world.istiod.until(() => world.istiod.requests.find((r) => r.nonce !== '' && r.error === undefined), 'the first push ACKed');
  await meshdns.stop();
  const notAfter = Date.parse(savedLeaf().validTo);
  world.write('istio-token', tokenFor(-1));
  await new Promise((r) => setTimeout(r, Math.max(0, notAfter - Date.now() + 200)));
  meshdns = await startMeshdns(world);
  await new Promise((r) => setTimeout(r, 3500));
  const lines = meshdns.logs.filter((l) => l.msg.startsWith('cannot authenticate to istiod'));
  assert.is(lines.length, 1, 'once, not at every retry');
  assert.match(lines[0].msg, /the token in .*istio-token expired at .*, and the workload certificate expired at \d{4}-.*; serving the last name table/);
  assert.equal(await meshdns.a('reviews'), ['10.96.0.10']);
  const status = meshdns.service.status().istiod as { table: string; lastError: string; certificate: { expired: boolean } };
  assert.is(status.table, 'stale');
  assert.is(status.lastError, lines[0].msg);
  assert.is(status.certificate.expired, true);
  assert.match(meshdns.service.readiness().reason, /istiod table stale since \d{4}-.*: cannot authenticate to istiod: the token .* expired/);
  const readyz = await httpGet(`http://${meshdns.service.metricsAddress}/readyz`);
  assert.match(readyz, /cannot authenticate to istiod: the token .* expired/);
  const samples = parsePrometheusText(await httpGet(`http://${meshdns.service.metricsAddress}/metrics`));
  assert.is(sampleValue(samples, 'meshdns_istiod_cert_expiry_timestamp_seconds'), notAfter / 1000);
  await meshdns.stop();
  await world.close();
});

test('a CSR for another identity is refused by the CA: a clear error, the stream goes on with the token, nothing saved', async () => {
  world = await makeWorld({ ca: true });
  world.write('cluster.env', clusterEnv().replace("SERVICE_ACCOUNT='vm-sa'", "SERVICE_ACCOUNT='other-sa'"));
  world.istiod.setCurrent(TABLE);
  meshdns = await startMeshdns(world);
  await world.istiod.until(() => world.istiod.requests.find((r) => r.nonce !== '' && r.error === undefined), 'the first push ACKed');
  assert.equal(world.istiod.certRequests.map((r) => r.refused), [`PERMISSION_DENIED: the CSR asks for ["spiffe://cluster.local/ns/vm-ns/sa/other-sa"], the caller is ${IDENTITY}`]);
  const lines = meshdns.logs.filter((l) => l.msg.startsWith('cannot get a workload certificate'));
  assert.is(lines.length, 1);
  assert.match(lines[0].msg, /refused the request for spiffe:\/\/cluster\.local\/ns\/vm-ns\/sa\/other-sa \(PERMISSION_DENIED: .*\): the token's namespace and service account must be POD_NAMESPACE\/SERVICE_ACCOUNT of cluster\.env/);
  assert.is(world.istiod.peerIdentities[0], '');
  assert.match(world.istiod.authorizations[0], /^Bearer /);
  assert.not.ok(existsSync(join(certsDir(), 'key.pem')));
  assert.equal(await meshdns.a('reviews'), ['10.96.0.10']);
  await meshdns.stop();
  await world.close();
});

test.run();
