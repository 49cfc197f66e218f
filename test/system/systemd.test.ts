// meshdns under real systemd (issue 5): a throwaway Debian 12 with systemd as PID 1
// (debootstrap + systemd-nspawn -b, root filesystem cached under /var/cache/meshdns-test),
// the .deb installed with dpkg -i, the istioctl workload files where the Istio VM guide puts
// them, a dnsmasq on 127.0.0.2 inside as the host's original resolver. Each row is one step of
// the service's life; each prints its time. Runs as root; fails (never skips) under CI=true
// when a tool is missing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Container, HOST_TOOLS, ensureRootFilesystem, missingTools, timed } from './systemdContainer';

const CHECKOUT = resolve(__dirname, '..', '..', ...(__dirname.includes(`${join('dist', 'test')}`) ? ['..'] : []));
// Own line each: uvu's progress dots have no newline.
const log = (line: string): void => console.log(`\n[systemd] ${line}`);
const started = Date.now();

const ORIGINAL_RESOLV_CONF = '# the host resolver: dnsmasq on 127.0.0.2\nnameserver 127.0.0.2\nsearch corp.example\noptions ndots:1 timeout:1\n';
// As `istioctl x workload entry configure` writes them (values single-quoted).
const CLUSTER_ENV = [
  "CANONICAL_REVISION='latest'",
  "CANONICAL_SERVICE='vm-app'",
  "ISTIO_INBOUND_PORTS='*'",
  "ISTIO_LOCAL_EXCLUDE_PORTS='15090,15021,15020'",
  "ISTIO_METAJSON_LABELS='{\"app\":\"vm-app\"}'",
  "ISTIO_META_CLUSTER_ID='Kubernetes'",
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
const HOSTS = '10.9.8.7 istiod.istio-system.svc\n';
const REGISTRY = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: address, namespace: ns1}
spec:
  hosts: [address.internal]
  addresses: [198.51.100.1]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: auto, namespace: ns1}
spec:
  hosts: [auto.internal]
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}]
`;
const RELOADED = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reloaded, namespace: ns1}
spec: {hosts: [reloaded.internal], addresses: [198.51.100.2], resolution: STATIC}
`;
// Short watchdog and no start limit, so the test sees kills and restarts quickly.
const TEST_DROPIN = '[Unit]\nStartLimitIntervalSec=0\n[Service]\nWatchdogSec=3s\nRestartSec=500ms\n';

/** Every path the package (or install.sh) may leave behind. */
const MESHDNS_PATHS = [
  '/usr/lib/meshdns', '/usr/bin/meshdns', '/lib/systemd/system/meshdns.service', '/usr/lib/systemd/system/meshdns.service',
  '/etc/systemd/system/meshdns.service', '/etc/systemd/system/multi-user.target.wants/meshdns.service',
  '/etc/meshdns', '/var/lib/meshdns',
];

let c: Container | undefined;
let debDir = '';
let deb = '';
let bootError: Error | undefined;

function box(): Container {
  if (c === undefined) throw bootError ?? new Error('container not booted');
  return c;
}

function show(props: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of box().sh(`systemctl show meshdns ${props.map((p) => `-p ${p}`).join(' ')}`).trim().split('\n')) {
    const i = line.indexOf('=');
    out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** getent inside the container; '' when the name does not resolve. */
function getent(db: string, name: string): string {
  return box().exec(`getent ${db} ${name}`).stdout.trim();
}

function firstAddress(db: string, name: string): string {
  return getent(db, name).split(/\s+/)[0] ?? '';
}

/**
 * The name's IPv4 addresses through getaddrinfo(AF_UNSPEC). Not `getent ahostsv4`: its
 * AI_ADDRCONFIG finds no IPv4 beyond loopback in a --private-network container and fails.
 */
function ipv4Of(name: string): string[] {
  const lines = getent('ahosts', name).split('\n');
  return [...new Set(lines.map((l) => l.split(/\s+/)[0]).filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)))];
}

async function until<T>(what: string, limitMs: number, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function resolvConf(): string {
  return box().sh('cat /etc/resolv.conf');
}

function leftovers(): string[] {
  return box().sh(`for p in ${MESHDNS_PATHS.join(' ')}; do [ -e "$p" ] || [ -L "$p" ] && echo "$p"; done; true`).trim().split('\n').filter(Boolean);
}

function journal(): string {
  return box().exec('journalctl -u meshdns --no-pager -o cat').stdout;
}

const step = (name: string, fn: () => Promise<void> | void): void => test(name, () => timed(log, name, fn));

test.before(async () => {
  const missing = [...missingTools(Object.keys(HOST_TOOLS)), ...(process.getuid?.() === 0 ? [] : ['root'])];
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
  if (debDir !== '') rmSync(debDir, { recursive: true, force: true });
  log(`total wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test('tools are present (a missing one fails under CI=true)', () => {
  if (bootError !== undefined && /^needs /.test(bootError.message) && process.env.CI !== 'true') {
    log(`skipping the systemd tests: ${bootError.message}`);
    return;
  }
  if (bootError !== undefined) throw bootError;
});

const steps = (): boolean => !(bootError !== undefined && /^needs /.test(bootError.message) && process.env.CI !== 'true');

if (steps()) {
  step('dpkg -i installs the package; without bootstrap files it is not started', () => {
    box().sh(`dpkg -i /mnt/deb/${deb}`);
    assert.is(box().exec('systemctl is-active meshdns').stdout.trim(), 'inactive');
    assert.is(box().exec('systemctl is-enabled meshdns').stdout.trim(), 'disabled');
    box().sh('test -x /usr/bin/meshdns && test -d /var/lib/meshdns && test -d /etc/meshdns/registry.d && test -f /etc/meshdns/meshdns.yaml');
    assert.match(box().sh('meshdns version'), /0\.\d+\.\d+/);
  });

  step('the host: original resolv.conf, a dnsmasq upstream on 127.0.0.2, istioctl files, a registry', () => {
    box().writeFile('/etc/resolv.conf', ORIGINAL_RESOLV_CONF);
    box().sh(
      'systemd-run --unit=upstream-dns --collect /usr/sbin/dnsmasq -k --conf-file=/dev/null --user=root ' +
        '--listen-address=127.0.0.2 --bind-interfaces --port=53 --no-resolv --no-hosts --host-record=external.example,192.0.2.10',
    );
    box().writeFile('/var/lib/istio/envoy/cluster.env', CLUSTER_ENV);
    box().writeFile('/etc/istio/config/mesh', MESH_YAML);
    box().writeFile('/var/lib/istio/envoy/hosts', HOSTS);
    box().writeFile('/etc/meshdns/registry.d/services.yaml', REGISTRY);
    box().writeFile('/etc/systemd/system/meshdns.service.d/test.conf', TEST_DROPIN);
    box().sh('systemctl daemon-reload');
    // The upstream answers before meshdns is involved.
    return until('dnsmasq answering', 5000, () => firstAddress('hosts', 'external.example') === '192.0.2.10').then(() => undefined);
  });

  step('systemctl start returns only after READY=1: active, STATUS set, DNS answering at once', () => {
    box().sh('systemctl start meshdns');
    // No waiting: everything below must already hold when start returned.
    const s = show(['ActiveState', 'SubState', 'StatusText', 'MainPID', 'Type', 'WatchdogUSec']);
    assert.is(s.ActiveState, 'active');
    assert.is(s.SubState, 'running');
    assert.is(s.Type, 'notify');
    assert.match(s.StatusText, /^serving \d+ names; upstreams 127\.0\.0\.2:53; last reload /);
    assert.is(box().sh(`cat /proc/${s.MainPID}/comm`).trim(), 'node');
    assert.is(firstAddress('hosts', 'address.internal'), '198.51.100.1');
  });

  step('the native UDP engine (built on the host) loads on Debian 12\'s own Node 18', () => {
    assert.match(box().sh('node --version'), /^v18\./);
    assert.match(journal(), /"udp":"native batching \(recvmmsg\/sendmmsg\)"/);
  });

  step('/etc/resolv.conf points at meshdns, search and options kept', () => {
    const text = resolvConf();
    assert.equal(text.split('\n').filter((l) => l.startsWith('nameserver')), ['nameserver 127.0.0.1']);
    assert.ok(text.includes('search corp.example\n'), text);
    assert.ok(text.includes('options ndots:1 timeout:1\n'), text);
  });

  step('getent hosts address.internal gives 198.51.100.1', () => {
    assert.is(firstAddress('hosts', 'address.internal'), '198.51.100.1');
  });

  step('getent: auto.internal gets an auto-allocated 240.240.0.0/16 VIP', () => {
    const v4 = ipv4Of('auto.internal');
    assert.is(v4.length, 1, `IPv4 of auto.internal: ${v4.join(' ')}`);
    assert.match(v4[0], /^240\.240\.\d+\.\d+$/);
    // `getent hosts` asks for IPv6 first: the allocated 2001:2::/48 VIP.
    assert.match(firstAddress('hosts', 'auto.internal'), /^2001:2::[0-9a-f:]+$/);
  });

  step('an external name resolves through the original upstream (dnsmasq)', () => {
    assert.is(firstAddress('hosts', 'external.example'), '192.0.2.10');
  });

  step('systemctl reload (SIGHUP) picks up a new registry file', async () => {
    const before = journal().split('\n').filter((l) => l.includes('"reason":"SIGHUP"')).length;
    box().writeFile('/etc/meshdns/registry.d/reloaded.yaml', RELOADED);
    box().sh('systemctl reload meshdns');
    await until('reloaded.internal served', 5000, () => firstAddress('hosts', 'reloaded.internal') === '198.51.100.2');
    await until('a SIGHUP reload in the journal', 5000, () => journal().split('\n').filter((l) => l.includes('"reason":"SIGHUP"')).length > before);
    // RELOADING=1 … READY=1: systemd is back to running, not stuck in "reloading".
    await until('running after the reload', 5000, () => show(['SubState']).SubState === 'running');
  });

  step('kill -9 of the main process: systemd restarts it, DNS works again', async () => {
    const before = show(['MainPID', 'NRestarts']);
    box().sh(`kill -9 ${before.MainPID}`);
    const after = await until('a new main process', 15_000, () => {
      const s = show(['MainPID', 'NRestarts', 'ActiveState', 'SubState']);
      return s.MainPID !== before.MainPID && s.MainPID !== '0' && s.SubState === 'running' ? s : undefined;
    });
    assert.is(Number(after.NRestarts), Number(before.NRestarts) + 1);
    assert.is(firstAddress('hosts', 'address.internal'), '198.51.100.1');
    assert.is(firstAddress('hosts', 'external.example'), '192.0.2.10');
    assert.ok(resolvConf().includes('nameserver 127.0.0.1\n'));
  });

  step('SIGSTOP: the watchdog kills the frozen process, systemd restarts it', async () => {
    const before = show(['MainPID', 'NRestarts']);
    box().sh(`kill -STOP ${before.MainPID}`);
    await until('a new main process', 20_000, () => {
      const s = show(['MainPID', 'SubState']);
      return s.MainPID !== before.MainPID && s.MainPID !== '0' && s.SubState === 'running';
    });
    assert.match(journal() + box().exec('journalctl --no-pager -o cat -u meshdns -t systemd').stdout, /Watchdog timeout/);
    assert.is(firstAddress('hosts', 'address.internal'), '198.51.100.1');
  });

  step('systemctl stop restores the original resolv.conf byte for byte', () => {
    box().sh('systemctl stop meshdns');
    assert.is(resolvConf(), ORIGINAL_RESOLV_CONF);
    assert.is(box().exec('systemctl is-active meshdns').stdout.trim(), 'inactive');
    assert.is(firstAddress('hosts', 'external.example'), '192.0.2.10');
  });

  step('dpkg -i again with bootstrap files present: started and enabled by the package', () => {
    box().sh('dpkg -r meshdns');
    box().sh(`dpkg -i /mnt/deb/${deb}`);
    assert.is(box().exec('systemctl is-active meshdns').stdout.trim(), 'active');
    assert.is(box().exec('systemctl is-enabled meshdns').stdout.trim(), 'enabled');
    assert.ok(resolvConf().includes('nameserver 127.0.0.1\n'));
    assert.is(firstAddress('hosts', 'address.internal'), '198.51.100.1');
  });

  step('dpkg -P of the running service: resolv.conf original, no meshdns files left', () => {
    box().sh('rm -rf /etc/systemd/system/meshdns.service.d && systemctl daemon-reload');
    box().sh('dpkg -P meshdns');
    assert.is(resolvConf(), ORIGINAL_RESOLV_CONF);
    assert.equal(leftovers(), []);
    assert.is(box().exec('dpkg -s meshdns').code, 1);
    assert.not.match(box().exec('systemctl is-active meshdns').stdout.trim(), /^(active|activating|deactivating)$/);
  });

  step('install.sh from the checkout: installs and starts, runs again idempotently, --uninstall --purge', () => {
    // The purge took the registry with /etc/meshdns; the bootstrap files are still in place.
    box().writeFile('/etc/meshdns/registry.d/services.yaml', REGISTRY);
    box().sh('/mnt/src/install.sh', 180_000);
    assert.is(box().exec('systemctl is-active meshdns').stdout.trim(), 'active');
    assert.is(firstAddress('hosts', 'address.internal'), '198.51.100.1');
    const firstPid = show(['MainPID']).MainPID;
    const listing = box().sh('find /usr/lib/meshdns /usr/bin/meshdns /etc/meshdns /etc/systemd/system/meshdns.service | sort');
    box().sh('/mnt/src/install.sh', 180_000);
    assert.is(box().sh('find /usr/lib/meshdns /usr/bin/meshdns /etc/meshdns /etc/systemd/system/meshdns.service | sort'), listing);
    assert.is(box().exec('systemctl is-active meshdns').stdout.trim(), 'active');
    assert.is.not(show(['MainPID']).MainPID, firstPid, 'an update restarts the running service');
    assert.is(firstAddress('hosts', 'address.internal'), '198.51.100.1');
    box().sh('/mnt/src/install.sh --uninstall --purge');
    assert.is(resolvConf(), ORIGINAL_RESOLV_CONF);
    assert.equal(leftovers(), []);
  });
}

test.run();
