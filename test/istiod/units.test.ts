// The pure parts of the istiod source: node and metadata, token claims, backoff, NameTable →
// records, settings and `meshdns check` rows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { proxyNode, istiodTarget, istioVersionOf, meshDefaults } from '../../src/istiod/bootstrap';
import { controlPlaneVersion } from '../../src/istiod/source';
import { decodeToken, tokenProblem } from '../../src/istiod/token';
import { Backoff } from '../../src/istiod/backoff';
import { NameTableRecords, nameTableBytes, NAME_TABLE_TYPE } from '../../src/istiod/nameTable';
import { NameTableSchema, NameTable_NameInfoSchema } from '../../src/istiod/gen/istio/networking/nds/v1/nds_pb';
import { parseSettings } from '../../src/config/settings';
import { formatProblem } from '../../src/problem';
import { main } from '../../src/cli';
import { makeToken } from '../support/testCa';

const node = (env: Record<string, string>, meta: Record<string, string> = {}) =>
  proxyNode({ clusterEnv: env, proxyMetadata: meta, clusterDomain: 'cluster.local', namespace: env.POD_NAMESPACE ?? '', clusterEnvFile: 'cluster.env', instanceIp: '10.0.0.9', hostname: 'vm-host' });

test('node id and metadata: strings only, cluster.env over proxyMetadata, no WorkloadEntry keys', () => {
  const n = node(
    { POD_NAMESPACE: 'ns1', SERVICE_ACCOUNT: 'sa', ISTIO_META_CLUSTER_ID: 'c1', ISTIO_META_NETWORK: 'net-env', ISTIO_META_AUTO_REGISTER_GROUP: 'g', ISTIO_META_WORKLOAD_ENTRY: 'we', ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_MESH_ID: '' },
    { ISTIO_META_NETWORK: 'net-mesh', ISTIO_META_ISTIO_VERSION: '1.24.0', ISTIO_META_DNS_AUTO_ALLOCATE: 'false' },
  ).value!;
  assert.is(n.id, 'sidecar~10.0.0.9~vm-host.ns1~ns1.svc.cluster.local');
  assert.is(n.clusterId, 'c1');
  assert.equal(n.metadata, {
    CLUSTER_ID: 'c1',
    NETWORK: 'net-env',
    DNS_CAPTURE: 'true',
    ISTIO_VERSION: '1.24.0',
    DNS_AUTO_ALLOCATE: 'false',
    NAMESPACE: 'ns1',
    INSTANCE_IPS: '10.0.0.9',
    SERVICE_ACCOUNT: 'sa',
  });
  for (const v of Object.values(n.metadata)) assert.type(v, 'string');
});

test('ISTIO_VERSION: the setting, else cluster.env (ISTIO_META_ISTIO_VERSION, ISTIO_VERSION), else proxyMetadata, else not sent', () => {
  const v = (istioVersion: string, clusterEnv: Record<string, string>, proxyMetadata: Record<string, string>) => istioVersionOf({ istioVersion, clusterEnv, proxyMetadata });
  assert.is(v('1.25.0', { ISTIO_META_ISTIO_VERSION: '1.24.1' }, { ISTIO_VERSION: '1.23.0' }), '1.25.0');
  assert.is(v('', { ISTIO_VERSION: '1.24.1' }, { ISTIO_META_ISTIO_VERSION: '1.23.0' }), '1.24.1');
  assert.is(v('', { ISTIO_META_ISTIO_VERSION: '1.24.2', ISTIO_VERSION: '1.24.1' }, {}), '1.24.2');
  assert.is(v('', {}, { ISTIO_VERSION: '1.23.0' }), '1.23.0');
  assert.is(v('', { ISTIO_VERSION: ' ' }, {}), undefined);
  const withSetting = proxyNode({ clusterEnv: { POD_NAMESPACE: 'a', ISTIO_META_ISTIO_VERSION: '1.2.3' }, proxyMetadata: {}, clusterDomain: 'cluster.local', namespace: 'a', clusterEnvFile: 'c', instanceIp: '10.0.0.1', istioVersion: '1.24.1' }).value!;
  assert.is(withSetting.metadata.ISTIO_VERSION, '1.24.1', 'the setting wins over the ISTIO_META_ copy');
  assert.not.ok('ISTIO_VERSION' in node({ POD_NAMESPACE: 'a' }).value!.metadata);
  const odd = node({ POD_NAMESPACE: 'a', ISTIO_META_ISTIO_VERSION: 'master' });
  assert.is(odd.value!.metadata.ISTIO_VERSION, 'master', 'sent as the agent would');
  assert.match(formatProblem(odd.problems[0]), /^cluster\.env:-:ISTIO_VERSION: "master" .*is not a version istiod reads.*set istiod\.istioVersion/);
  assert.equal(node({ POD_NAMESPACE: 'a', ISTIO_VERSION: 'release-1.24.1' }).problems, []);
});

test('meshdns check: a bad istiod.istioVersion is an error naming the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-istiod-version-'));
  try {
    writeFileSync(join(dir, 'meshdns.yaml'), 'registry: []\nstateDir: ./state\nresolvConf: {path: ./resolv.conf}\nistiod: {enabled: false, istioVersion: "1.x"}\n');
    const err: string[] = [];
    assert.is(await main(['check', '--config', join(dir, 'meshdns.yaml')], () => undefined, (l) => err.push(l)), 1);
    assert.match(err.join('\n'), /meshdns\.yaml:-:istiod\.istioVersion: expected an Istio version like "1\.24\.1" or "1\.24", got "1\.x"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("istiod's version from control_plane.identifier: Info.version of the JSON, else none", () => {
  assert.is(controlPlaneVersion('{"Component":"istiod","ID":"istiod-5d","Info":{"version":"1.24.1","revision":"abc"}}'), '1.24.1');
  assert.is(controlPlaneVersion('{"Component":"istiod","ID":"x"}'), undefined);
  assert.is(controlPlaneVersion('not json'), undefined);
  assert.is(controlPlaneVersion(''), undefined);
  assert.is(controlPlaneVersion(undefined), undefined);
  assert.is(controlPlaneVersion('{"Info":{"version":7}}'), undefined);
});

test('node: POD_NAME and INSTANCE_IP from cluster.env; no namespace or a bad IP is a problem', () => {
  assert.is(node({ POD_NAMESPACE: 'a', POD_NAME: 'p', INSTANCE_IP: 'fd00::5' }).value!.id, 'sidecar~fd00::5~p.a~a.svc.cluster.local');
  assert.is(node({ POD_NAMESPACE: 'a' }).value!.clusterId, 'Kubernetes');
  const none = node({});
  assert.is(none.value, undefined);
  assert.match(formatProblem(none.problems[0]), /^cluster\.env:-:POD_NAMESPACE: no namespace/);
  assert.match(formatProblem(node({ POD_NAMESPACE: 'a', INSTANCE_IP: 'x' }).problems[0]), /INSTANCE_IP: "x" is not an IP/);
});

test('address: settings, else discoveryAddress; TLS name: settings, ISTIOD_SAN, the host', () => {
  const mesh = meshDefaults('defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  proxyMetadata: {A: 1}\n', 'mesh.yaml').value;
  assert.equal(mesh.proxyMetadata, { A: '1' });
  const base = { enabled: 'auto' as const, address: '', serverName: '', rootCert: 'r', token: 't', istioVersion: '' };
  assert.equal(istiodTarget(base, mesh, {}), { host: 'istiod.istio-system.svc', port: 15012, serverName: 'istiod.istio-system.svc' });
  assert.equal(istiodTarget(base, mesh, { ISTIOD_SAN: 'istiod.example' })?.serverName, 'istiod.example');
  assert.equal(istiodTarget({ ...base, address: '[fd00::1]:15012', serverName: 'x.y' }, mesh, {}), { host: 'fd00::1', port: 15012, serverName: 'x.y' });
  assert.is(istiodTarget(base, { proxyMetadata: {}, trustDomain: 'cluster.local' }, {}), undefined);
});

test('token: exp decoded without verification; expired and missing are explained', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const t = decodeToken(makeToken({ exp: now / 1000 - 60, sub: 'system:serviceaccount:a:b' }) + '\n');
  assert.is(t.expiresAt, now / 1000 - 60);
  assert.is(t.subject, 'system:serviceaccount:a:b');
  assert.match(tokenProblem(t, '/tok', now) ?? '', /expired at 2025-12-31T23:59:00.000Z/);
  assert.is(tokenProblem(decodeToken(makeToken({ exp: now / 1000 + 60 })), '/tok', now), undefined);
  assert.is(tokenProblem(decodeToken('opaque-token'), '/tok', now), undefined, 'a token that is not a JWT is left to istiod');
  assert.match(tokenProblem(undefined, '/tok') ?? '', /no token at \/tok/);
});

test('backoff: grows to the cap, jitter within the upper half, reset starts over', () => {
  const b = new Backoff(1000, 8000, () => 1);
  assert.equal([b.next(), b.next(), b.next(), b.next(), b.next()], [1000, 2000, 4000, 8000, 8000]);
  b.reset();
  assert.is(b.next(), 1000);
  const low = new Backoff(1000, 8000, () => 0);
  assert.equal([low.next(), low.next()], [500, 1000]);
});

const table = (entries: Record<string, { ips: string[]; registry?: string; shortname?: string; namespace?: string }>) =>
  toBinary(NameTableSchema, create(NameTableSchema, { table: Object.fromEntries(Object.entries(entries).map(([h, i]) => [h, create(NameTable_NameInfoSchema, { ...i })])) }));

test('NameTable → records: Kubernetes hosts become Services (short names), others ServiceEntries with declared addresses; unchanged entries keep their record', () => {
  const conv = new NameTableRecords();
  const first = conv.convert(
    table({
      'a.ns.svc.cluster.local': { ips: ['10.0.0.1'], registry: 'Kubernetes', shortname: 'a', namespace: 'ns' },
      'b.ns.svc.other.domain': { ips: ['10.0.0.2'], registry: 'Kubernetes', shortname: 'b', namespace: 'ns' },
      'Ext.Example.': { ips: ['240.240.0.1', 'FD00::1'], registry: 'External' },
    }),
    'cluster.local',
  );
  assert.ok(first.ok);
  if (!first.ok) return;
  const byHost = Object.fromEntries(first.records.map((r) => [r.kind === 'Service' ? `${r.name}.${r.namespace}` : r.hosts[0], r]));
  assert.is(byHost['a.ns'].kind, 'Service');
  assert.is(byHost['b.ns.svc.other.domain'].kind, 'ServiceEntry', 'another cluster domain: no Kubernetes short names');
  const ext = byHost['ext.example'];
  assert.ok(ext.kind === 'ServiceEntry' && ext.declaresAddresses === true && ext.autoAllocate === false);
  assert.equal(ext.addresses, ['240.240.0.1', 'fd00::1']);
  const second = conv.convert(table({ 'a.ns.svc.cluster.local': { ips: ['10.0.0.1'], registry: 'Kubernetes', shortname: 'a', namespace: 'ns' }, 'ext.example': { ips: ['240.240.0.9'] } }), 'cluster.local');
  assert.ok(second.ok);
  if (!second.ok) return;
  assert.ok(second.records.includes(byHost['a.ns']), 'the same record object for an unchanged entry');
  assert.not.ok(second.records.includes(ext), 'a changed entry gets a new record');
  assert.not.ok(conv.convert(new Uint8Array([0x0a, 0xff, 0xff, 0x01]), 'cluster.local').ok, 'a truncated table');
  const bad = conv.convert(table({ 'x..y': { ips: ['10.0.0.1'] }, 'ok.example': { ips: ['nope'] } }), 'cluster.local');
  assert.not.ok(bad.ok);
  if (!bad.ok) assert.match(bad.error, /2 unusable entries/);
});

test('several NameTable resources in one response: merged, later entries win; another type refused', () => {
  const any = (value: Uint8Array, typeUrl = NAME_TABLE_TYPE) => create(AnySchema, { typeUrl, value });
  const bytes = nameTableBytes([any(table({ 'a.example': { ips: ['10.0.0.1'] }, 'b.example': { ips: ['10.0.0.2'] } })), any(table({ 'b.example': { ips: ['10.0.0.3'] } }))]);
  assert.ok(bytes.ok);
  if (!bytes.ok) return;
  const conv = new NameTableRecords().convert(bytes.bytes, 'cluster.local');
  assert.ok(conv.ok);
  if (conv.ok) assert.equal(conv.records.map((r) => (r.kind === 'ServiceEntry' ? `${r.hosts[0]}=${r.addresses.join()}` : '')), ['a.example=10.0.0.1', 'b.example=10.0.0.3']);
  const other = nameTableBytes([any(new Uint8Array(), 'type.googleapis.com/envoy.config.cluster.v3.Cluster')]);
  assert.not.ok(other.ok);
});

test('settings: the istiod block is validated key by key', () => {
  const ok = parseSettings('istiod: {enabled: true, address: "istiod.example:15012", serverName: istiod.example, rootCert: /r.pem, token: /t}\n', 'm.yaml');
  assert.equal(ok.problems, []);
  assert.equal({ ...ok.value.istiod }, { enabled: 'true', address: 'istiod.example:15012', serverName: 'istiod.example', rootCert: '/r.pem', token: '/t', istioVersion: '' });
  const bad = parseSettings('istiod: {enabled: maybe, address: "istiod", serverName: "a b", rootCert: "", tokn: /t}\n', 'm.yaml');
  const text = bad.problems.map(formatProblem).join('\n');
  assert.match(text, /m\.yaml:-:istiod\.enabled: expected auto, true or false/);
  assert.match(text, /m\.yaml:-:istiod\.address: .*needs a port/);
  assert.match(text, /m\.yaml:-:istiod\.serverName: not a DNS name/);
  assert.match(text, /m\.yaml:-:istiod\.rootCert: expected a path/);
  assert.match(text, /m\.yaml:-:istiod\.tokn: unknown key "tokn" in istiod \(did you mean "token"\?\)/);
});

test('meshdns check: an expired token and a missing root certificate, when istiod is on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-istiod-check-'));
  try {
    writeFileSync(join(dir, 'meshdns.yaml'), 'bootstrap: {clusterEnv: ./cluster.env, meshConfig: ./mesh.yaml, hosts: ./hosts}\nregistry: []\nstateDir: ./state\nresolvConf: {path: ./resolv.conf}\nistiod: {enabled: true, rootCert: ./root-cert.pem, token: ./istio-token}\n');
    writeFileSync(join(dir, 'cluster.env'), "POD_NAMESPACE='ns1'\n");
    writeFileSync(join(dir, 'mesh.yaml'), 'defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n');
    writeFileSync(join(dir, 'istio-token'), makeToken({ exp: Math.floor(Date.now() / 1000) - 3600 }));
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['check', '--config', join(dir, 'meshdns.yaml')], (l) => out.push(l), (l) => err.push(l));
    assert.is(code, 1);
    const text = err.join('\n');
    assert.match(text, /meshdns\.yaml:-:istiod\.token: the token in .*istio-token expired at /);
    assert.match(text, /meshdns\.yaml:-:istiod\.rootCert: cannot read .*root-cert\.pem/);
    writeFileSync(join(dir, 'istio-token'), makeToken({ exp: Math.floor(Date.now() / 1000) + 3600 }));
    writeFileSync(join(dir, 'root-cert.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    err.length = 0;
    assert.is(await main(['check', '--config', join(dir, 'meshdns.yaml')], (l) => out.push(l), (l) => err.push(l)), 0, err.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
