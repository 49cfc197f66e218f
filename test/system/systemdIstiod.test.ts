// meshdns from the .deb under real systemd against a fake istiod (issue 15): a Debian 12
// container (systemdContainer.ts) with only the files `istioctl x workload entry configure`
// writes (cluster.env, mesh config, hosts, root-cert.pem, istio-token) and no registry files.
// The fake istiod (test/support/fakeIstiod.ts, run inside with Debian's Node 18) checks token,
// clusterid and node, and pushes a table; glibc resolves a pushed name. Runs as root; fails
// (never skips) under CI=true when a tool is missing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Container, HOST_TOOLS, ensureRootFilesystem, missingTools, timed } from './systemdContainer';
import { makeTestCa, makeToken } from '../support/testCa';

const CHECKOUT = resolve(__dirname, '..', '..', ...(__dirname.includes(`${join('dist', 'test')}`) ? ['..'] : []));
const log = (line: string): void => console.log(`\n[systemd-istiod] ${line}`);

const CLUSTER_ENV = [
  "CANONICAL_REVISION='latest'",
  "CANONICAL_SERVICE='vm-app'",
  "ISTIO_INBOUND_PORTS='*'",
  "ISTIO_METAJSON_LABELS='{\"app\":\"vm-app\"}'",
  "ISTIO_META_AUTO_REGISTER_GROUP='vm-app'",
  "ISTIO_META_CLUSTER_ID='cluster-vm'",
  "ISTIO_META_DNS_CAPTURE='true'",
  "ISTIO_META_MESH_ID=''",
  "ISTIO_META_NETWORK=''",
  "ISTIO_META_WORKLOAD_NAME='vm-app'",
  "ISTIO_NAMESPACE='ns1'",
  "POD_NAMESPACE='ns1'",
  "SERVICE_ACCOUNT='vm-sa'",
  '',
].join('\n');
const MESH_YAML = `defaultConfig:
  discoveryAddress: istiod.istio-system.svc:15012
  proxyMetadata:
    ISTIO_META_DNS_CAPTURE: "true"
    ISTIO_META_DNS_AUTO_ALLOCATE: "true"
`;
const TABLE = {
  'reviews.ns1.svc.cluster.local': { ips: ['10.96.5.5'], registry: 'Kubernetes', shortname: 'reviews', namespace: 'ns1' },
  'db.partner.example': { ips: ['240.240.3.3'], registry: 'External', namespace: 'ns1' },
};

let c: Container | undefined;
let debDir = '';
let caDir = '';
let deb = '';
let bootError: Error | undefined;

function box(): Container {
  if (c === undefined) throw bootError ?? new Error('container not booted');
  return c;
}

async function until<T>(what: string, limitMs: number, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms (StatusText: ${statusText()})\n${journals()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function ipv4Of(name: string): string[] {
  const lines = box().exec(`getent ahosts ${name}`).stdout.trim().split('\n');
  return [...new Set(lines.map((l) => l.split(/\s+/)[0]).filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)))];
}

function statusText(): string {
  return box().sh('systemctl show -p StatusText --value meshdns').trim();
}

function journals(): string {
  return ['meshdns', 'fake-istiod'].map((u) => `--- journal of ${u}:\n${box().exec(`journalctl -u ${u} --no-pager -o cat | tail -40`).stdout}`).join('\n');
}

const step = (name: string, fn: () => Promise<void> | void): void => test(name, () => timed(log, name, fn));

test.before(async () => {
  const missing = [...missingTools([...Object.keys(HOST_TOOLS), 'openssl']), ...(process.getuid?.() === 0 ? [] : ['root'])];
  if (missing.length > 0) {
    bootError = new Error(`needs ${missing.join(', ')} (apt-get install ${missing.map((t) => HOST_TOOLS[t] ?? t).join(' ')}; run as root)`);
    return;
  }
  try {
    await timed(log, 'build the .deb (npm run package)', () => {
      debDir = mkdtempSync(join(tmpdir(), 'meshdns-deb-'));
      const r = spawnSync('bash', [join(CHECKOUT, 'packaging', 'build.sh')], { cwd: CHECKOUT, env: { ...process.env, OUT: debDir, SKIP_RPM: '1' }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`packaging/build.sh failed:\n${r.stdout}\n${r.stderr}`);
      deb = readdirSync(debDir).find((f) => f.endsWith('.deb')) ?? '';
    });
    const root = await timed(log, 'root filesystem (cached)', () => ensureRootFilesystem(log));
    c = await timed(log, 'boot the container', () => Container.boot(root, { [debDir]: '/mnt/deb', [CHECKOUT]: '/mnt/src' }, log));
  } catch (err) {
    bootError = err as Error;
  }
});

test.after(async () => {
  await timed(log, 'halt the container', async () => c?.stop());
  for (const d of [debDir, caDir]) if (d !== '') rmSync(d, { recursive: true, force: true });
});

test('tools are present (a missing one fails under CI=true)', () => {
  if (bootError !== undefined && /^needs /.test(bootError.message) && process.env.CI !== 'true') {
    log(`skipping: ${bootError.message}`);
    return;
  }
  if (bootError !== undefined) throw bootError;
});

const steps = (): boolean => !(bootError !== undefined && /^needs /.test(bootError.message) && process.env.CI !== 'true');

if (steps()) {
  step('istioctl files only, a fake istiod on 127.0.0.1:15012 (CA made here), a dnsmasq upstream', async () => {
    box().sh(`dpkg -i /mnt/deb/${deb}`);
    caDir = mkdtempSync(join(tmpdir(), 'meshdns-ca-'));
    const ca = makeTestCa(caDir, 'istiod.istio-system.svc');
    const token = makeToken({ sub: 'system:serviceaccount:ns1:vm-sa', exp: Math.floor(Date.now() / 1000) + 3600 });
    box().writeFile('/etc/resolv.conf', 'nameserver 127.0.0.2\noptions timeout:1\n');
    box().sh('systemd-run --unit=upstream-dns --collect /usr/sbin/dnsmasq -k --conf-file=/dev/null --user=root --listen-address=127.0.0.2 --bind-interfaces --port=53 --no-resolv --no-hosts');
    // Where istioctl's files go on a VM (Istio's VM guide).
    box().writeFile('/var/lib/istio/envoy/cluster.env', CLUSTER_ENV);
    box().writeFile('/etc/istio/config/mesh', MESH_YAML);
    box().writeFile('/var/lib/istio/envoy/hosts', '127.0.0.1 istiod.istio-system.svc\n');
    box().writeFile('/etc/certs/root-cert.pem', ca.rootCert);
    box().writeFile('/var/run/secrets/tokens/istio-token', token);
    box().writeFile('/srv/fake-istiod/server.key', ca.serverKey);
    box().writeFile('/srv/fake-istiod/server.pem', ca.serverCert);
    box().writeFile('/srv/fake-istiod/token', token);
    box().writeFile('/srv/fake-istiod/cluster-id', 'cluster-vm');
    box().writeFile('/srv/fake-istiod/ca.key', ca.caKey);
    box().writeFile('/srv/fake-istiod/root-cert.pem', ca.rootCert);
    box().writeFile('/srv/fake-istiod/table.json', JSON.stringify(TABLE));
    box().writeFile('/srv/fake-istiod/istiod-version', '1.24.3');
    assert.is(box().sh('ls /etc/meshdns/registry.d | wc -l').trim(), '0', 'no registry files');
    box().sh('systemd-run --unit=fake-istiod --collect -p WorkingDirectory=/mnt/src node /mnt/src/dist/test/support/fakeIstiodMain.js /srv/fake-istiod 15012');
    await until('the fake istiod listening', 20_000, () => box().exec('test -f /srv/fake-istiod/seen.json').code === 0);
  });

  step('systemctl start: meshdns connects to istiod and ACKs the table', async () => {
    box().sh('systemctl start meshdns');
    const seen = await until('an ACK at the fake istiod', 30_000, () => {
      if (box().exec('systemctl is-failed fake-istiod').stdout.trim() === 'failed') throw new Error(`fake istiod failed:\n${box().exec('journalctl -u fake-istiod --no-pager -o cat').stdout}`);
      const s = JSON.parse(box().sh('cat /srv/fake-istiod/seen.json')) as { requests: Array<{ nonce: string; error?: string; metadata?: Record<string, unknown> }>; refusals: unknown[] };
      return s.requests.some((r) => r.nonce !== '') ? s : undefined;
    });
    assert.equal(seen.refusals, [], 'token, clusterid and node accepted');
    assert.is(seen.requests[0].metadata?.DNS_CAPTURE, 'true');
    assert.not.ok('AUTO_REGISTER_GROUP' in (seen.requests[0].metadata ?? {}));
    assert.is(seen.requests.find((r) => r.nonce !== '')?.error, undefined);
  });

  step('glibc resolves the pushed names through the captured resolv.conf', () => {
    assert.match(box().sh('cat /etc/resolv.conf'), /nameserver 127\.0\.0\.1/);
    assert.equal(ipv4Of('reviews.ns1.svc.cluster.local'), ['10.96.5.5']);
    assert.equal(ipv4Of('db.partner.example'), ['240.240.3.3']);
  });

  step("meshdns status: istiod connected (istiod's version from control_plane), table live; the table saved in the state dir", () => {
    const status = box().sh('meshdns status');
    assert.match(status, /istiod: +istiod\.istio-system\.svc:15012 \(istiod 1\.24\.3\) connected; table live, 2 hosts/);
    box().sh('test -s /var/lib/meshdns/istiod-nametable.pb');
  });

  step('systemctl show StatusText: istiod live with the last push time', async () => {
    await until('STATUS= with istiod live', 15_000, () => /istiod live, last push \d\d:\d\d:\d\d/.test(statusText()));
    assert.match(statusText(), /^serving \d+ names?; istiod live, last push \d\d:\d\d:\d\d; upstreams /);
  });

  step('the workload certificate (key and CSR made on Node 18): got with the token, the stream on it, key 0600 owned by the service user', () => {
    const seen = JSON.parse(box().sh('cat /srv/fake-istiod/seen.json')) as { certRequests: Array<{ via: string; caller?: string; refused?: string }>; peerIdentities: string[] };
    assert.equal(seen.certRequests.map((r) => [r.via, r.caller, r.refused]), [['token', 'spiffe://cluster.local/ns/ns1/sa/vm-sa', undefined]]);
    assert.is(seen.peerIdentities[0], 'spiffe://cluster.local/ns/ns1/sa/vm-sa');
    // The unit has no User=: the service user is root.
    assert.is(box().sh('stat -c "%a %U" /var/lib/meshdns/certs/key.pem').trim(), '600 root');
    assert.match(box().sh('meshdns status'), /certificate spiffe:\/\/cluster\.local\/ns\/ns1\/sa\/vm-sa, valid until \d{4}-/);
  });

  step('istiod stopped: STATUS= says stale without a reload; meshdns restarted: the saved table is served, status says stale', async () => {
    box().sh('systemctl stop fake-istiod');
    await until('STATUS= with istiod stale', 15_000, () => /istiod stale since \d\d:\d\d:\d\d/.test(statusText()));
    box().sh('systemctl restart meshdns');
    assert.match(statusText(), /istiod stale since \d\d:\d\d:\d\d/);
    assert.equal(ipv4Of('reviews.ns1.svc.cluster.local'), ['10.96.5.5']);
    assert.match(box().sh('meshdns status'), /not connected; table stale since \d{4}-/);
  });

  step('istiod.enabled: false and systemctl reload: istiod off without a restart, its names gone, STATUS= says nothing of istiod', async () => {
    const pid = box().sh('systemctl show -p MainPID --value meshdns').trim();
    box().writeFile('/etc/meshdns/meshdns.yaml', 'istiod: {enabled: "false"}\n');
    box().sh('systemctl reload meshdns');
    // ExecReload sends SIGHUP and returns: the reload follows.
    await until('reviews forwarded to dnsmasq (which knows none)', 15_000, () => ipv4Of('reviews.ns1.svc.cluster.local').length === 0);
    assert.match(box().sh('journalctl -u meshdns --no-pager -o cat'), /istiod switched off \(istiod\.enabled is false\)/);
    assert.match(box().sh('meshdns status'), /istiod: +off \(istiod\.enabled is false\)/);
    await until('STATUS= without istiod', 15_000, () => /^serving \d+ names?; upstreams/.test(statusText()));
    assert.is(box().sh('systemctl show -p MainPID --value meshdns').trim(), pid, 'not restarted');
    box().sh('systemctl stop meshdns');
  });
}

test.run();
