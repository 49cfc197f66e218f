// The files `istioctl x workload entry configure` writes, a test CA, a fake istiod and a meshdns
// service (in this process) that reads only those files: the set-up of the istiod tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as http from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { MeshDnsService } from '../../src/service';
import { FakeIstiod } from '../support/fakeIstiod';
import { makeTestCa, makeToken, type TestCa } from '../support/testCa';
import { dig } from '../helpers/dig';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fakeUpstream';

/** The body of a GET (metrics, readyz of the service under test). */
export function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

export const CLUSTER_ID = 'cluster-east';
export const NODE_ID = /^sidecar~[0-9a-f.:]+~vm-1\.vm-ns~vm-ns\.svc\.cluster\.local$/;

export function clusterEnv(): string {
  return [
    "CANONICAL_REVISION='default'",
    "CANONICAL_SERVICE='vm-app'",
    "ISTIO_INBOUND_PORTS='*'",
    `ISTIO_METAJSON_LABELS='{"app":"vm-app","service.istio.io/canonical-name":"vm-app"}'`,
    "ISTIO_META_AUTO_REGISTER_GROUP='vm-app'",
    `ISTIO_META_CLUSTER_ID='${CLUSTER_ID}'`,
    "ISTIO_META_DNS_CAPTURE='true'",
    "ISTIO_META_MESH_ID='mesh1'",
    "ISTIO_META_NETWORK='vm-network'",
    "ISTIO_META_WORKLOAD_NAME='vm-app'",
    "POD_NAME='vm-1'",
    "POD_NAMESPACE='vm-ns'",
    "SERVICE_ACCOUNT='vm-sa'",
    "TRUST_DOMAIN='cluster.local'",
  ].join('\n') + '\n';
}

export function meshYaml(port: number): string {
  return [
    'defaultConfig:',
    `  discoveryAddress: istiod.istio-system.svc:${port}`,
    '  meshId: mesh1',
    '  proxyMetadata:',
    '    CANONICAL_REVISION: default',
    '    ISTIO_META_DNS_CAPTURE: "true"',
    '    ISTIO_META_DNS_AUTO_ALLOCATE: "true"',
    '    POD_NAMESPACE: vm-ns',
  ].join('\n') + '\n';
}

export function tokenFor(hours: number, sa = 'vm-sa'): string {
  return makeToken({ iss: 'kubernetes/serviceaccount', sub: `system:serviceaccount:vm-ns:${sa}`, aud: ['istio-ca'], exp: Math.floor(Date.now() / 1000) + hours * 3600 });
}

export interface World {
  dir: string;
  upstream: FakeUpstream;
  /** meshdns.yaml with `extra` lines (istiod: is set here; a second istiod: line replaces it). */
  settings(extra?: string): string;
  ca: TestCa;
  istiod: FakeIstiod;
  write(relative: string, content: string): void;
  close(): Promise<void>;
}

/** A temp dir with istioctl's files (hosts maps istiod to 127.0.0.1) and a fake istiod with a fresh CA. */
export async function makeWorld(options: { ca?: boolean } = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-istiod-'));
  const ca = makeTestCa(join(dir, 'ca'));
  const token = tokenFor(1);
  const istiod = new FakeIstiod({ key: ca.serverKey, cert: ca.serverCert, token, clusterId: CLUSTER_ID, nodeId: NODE_ID, ...(options.ca === true ? { ca: { key: ca.caKey, cert: ca.rootCert } } : {}) });
  const port = await istiod.start();
  // Names outside the mesh go to a fake upstream on loopback that knows none.
  const upstream = await startFakeUpstream(() => ({ kind: 'nxdomain' }));
  const settings = (extra = ''): string =>
    [
      'listen: ["127.0.0.1:0"]',
      'bootstrap: {clusterEnv: ./cluster.env, meshConfig: ./mesh.yaml, hosts: ./hosts}',
      'registry: [./registry.d]',
      'resolvConf: {path: ./resolv.conf, manage: "false"}',
      `upstreams: ["127.0.0.1:${upstream.port}"]`,
      'stateDir: ./state',
      'metrics: ""',
      extra.includes('istiod:') ? '' : 'istiod: {rootCert: ./root-cert.pem, token: ./istio-token}',
      extra,
    ].join('\n') + '\n';
  const write = (relative: string, content: string): void => writeFileSync(join(dir, relative), content);
  write('cluster.env', clusterEnv());
  write('mesh.yaml', meshYaml(port));
  write('hosts', '127.0.0.1 istiod.istio-system.svc\n');
  write('root-cert.pem', ca.rootCert.toString());
  write('istio-token', token);
  write('resolv.conf', 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  mkdirSync(join(dir, 'registry.d'));
  write('meshdns.yaml', settings());
  return {
    dir,
    upstream,
    settings,
    ca,
    istiod,
    write,
    async close() {
      await istiod.close();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Running {
  service: MeshDnsService;
  port: number;
  logs: Array<{ level: number; msg: string }>;
  a(name: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** meshdns from `world.dir`'s files, in this process; its log lines are kept. */
export async function startMeshdns(world: World, options: { watch?: boolean } = {}): Promise<Running> {
  const logs: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  const service = new MeshDnsService({ settingsFile: join(world.dir, 'meshdns.yaml'), logger: pino({ level: 'debug' }, sink), resolvedUplinksFile: join(world.dir, 'uplinks.conf'), watch: options.watch ?? false, debounceMs: 50 });
  await service.start();
  const port = service.listenAddresses[0].port;
  return {
    service,
    port,
    logs,
    async a(name: string) {
      const r = await dig({ port, name, type: 'A', timeoutSeconds: 2 });
      return r.status === 'NOERROR' ? r.answers.filter((x) => x.type === 'A').map((x) => x.data).sort() : [r.status];
    },
    stop: () => service.stop(),
  };
}
