// A real musl client (issue 18): musl's stub resolver (1.2.3, Debian 12's, as in older Alpine)
// never retries over TCP, so a truncated UDP reply is all it gets. A static getaddrinfo program
// (test/fixtures/resolvers/getaddrinfo.c, built here with Debian's musl-gcc) runs in private mount
// + network + pid namespaces whose /etc/resolv.conf (a bind-mounted temp file) points at meshdns on
// 127.0.0.1:53; a real dnsmasq on 127.0.0.2:53 is the upstream. A 60-address headless service and
// a 60-address upstream name must both resolve: to the 29 addresses that fit in 512 bytes.
// glibc (getent), which retries over TCP on TC=1, gets all 60 through the same server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNamespacesAvailable, repoRoot, runInNamespace } from '../support/namespace';

const BIG = 'big.ns1.svc.cluster.local';
const MANY = 'many.upstream.test';
const bigAddresses = Array.from({ length: 60 }, (_, i) => `10.60.0.${i + 1}`);
const manyAddresses = Array.from({ length: 60 }, (_, i) => `198.18.0.${i + 1}`);

const REGISTRY = `
apiVersion: v1
kind: Service
metadata: {name: big, namespace: ns1}
spec: {clusterIP: None, ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: big-1, namespace: ns1, labels: {kubernetes.io/service-name: big}}
addressType: IPv4
endpoints:
${bigAddresses.map((a) => `- {addresses: [${a}], conditions: {ready: true}}`).join('\n')}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: address, namespace: ns1}
spec: {hosts: [address.internal], addresses: [198.51.100.1]}
`;

/** Builds the static musl client into `dir`; fails (never skips) without musl-gcc. */
function buildClient(dir: string): string {
  const out = join(dir, 'getaddrinfo-musl');
  const source = join(repoRoot(), 'test', 'fixtures', 'resolvers', 'getaddrinfo.c');
  const built = spawnSync('musl-gcc', ['-static', '-O2', '-Wall', '-o', out, source], { encoding: 'utf8' });
  if (built.error !== undefined) throw new Error(`musl-gcc is not installed (Debian: apt-get install musl-tools): ${built.error.message}`);
  assert.is(built.status, 0, `musl-gcc failed:\n${built.stderr}`);
  return out;
}

function prepare(): string {
  assertNamespacesAvailable();
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-musl-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'registry.d'));
  writeFileSync(join(dir, 'registry.d', 'big.yaml'), REGISTRY);
  writeFileSync(join(dir, 'upstream.hosts'), manyAddresses.map((a) => `${a} ${MANY}\n`).join(''));
  writeFileSync(join(dir, 'cluster.env'), "POD_NAMESPACE='ns1'\n");
  writeFileSync(join(dir, 'upstream-resolv.conf'), 'nameserver 127.0.0.2\n');
  writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\nsearch ns1.svc.cluster.local svc.cluster.local cluster.local\n');
  writeFileSync(
    join(dir, 'meshdns.yaml'),
    [
      'listen: ["127.0.0.1:53"]',
      'bootstrap: {clusterEnv: ./cluster.env, meshConfig: ./mesh.yaml, hosts: ./hosts}',
      'registry: [./registry.d]',
      'resolvConf: {path: ./upstream-resolv.conf, manage: "false"}',
      'upstreams: ["127.0.0.2"]',
      'stateDir: ./state',
      'metrics: ""',
    ].join('\n') + '\n',
  );
  return dir;
}

/** name → the addresses (or "ERROR …") each RESULT line reported, per client label. */
function results(stdout: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const m of stdout.matchAll(/^(\w+) RESULT (\S+) ?(.*)$/gm)) map.set(`${m[1]} ${m[2]}`, m[3].split(' ').filter((a) => a !== ''));
  return map;
}

test('musl getaddrinfo (no TCP retry) gets the 29 addresses that fit for 60-address names, local and forwarded; glibc gets all 60', async () => {
  const dir = prepare();
  try {
    const client = buildClient(dir);
    const node = process.execPath;
    const r = await runInNamespace(
      `
T=${dir}
wait_for() { i=0; while ! eval "$1" >/dev/null 2>&1; do i=$((i+1)); if [ $i -gt 150 ]; then echo "TIMEOUT waiting for: $1" >&2; cat $T/meshdns.log >&2 2>/dev/null || true; return 1; fi; sleep 0.1; done; }
${process.env.DNSMASQ ?? '/usr/sbin/dnsmasq'} --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --addn-hosts=$T/upstream.hosts \\
  --listen-address=127.0.0.2 --port=53 --bind-interfaces --pid-file= --local=/upstream.test/ --log-facility=$T/dnsmasq.log &
wait_for "dig @127.0.0.2 +short +time=1 +tries=1 ${MANY} | grep -q ."
cd $T && "${node}" ${join(repoRoot(), 'bin', 'meshdns.js')} run --config $T/meshdns.yaml >$T/meshdns.log 2>&1 &
wait_for "dig @127.0.0.1 +short +time=1 +tries=1 address.internal | grep -q ."
mount --bind $T/resolv.conf /etc/resolv.conf
${client} ${BIG} ${MANY} address.internal big | sed 's/^/musl /'
# ahosts (AF_UNSPEC): ahostsv4 asks with AI_ADDRCONFIG, and a namespace with only loopback has no IPv4 for it.
for name in ${BIG} ${MANY}; do echo "glibc RESULT $name $(getent ahosts $name | awk '{print $1}' | sort -u | tr '\\n' ' ')"; done
`,
      { timeoutMs: 60_000 },
    );
    assert.is(r.code, 0, `namespace script failed (${r.code} ${r.signal}):\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    const got = results(r.stdout);
    for (const [name, all] of [[BIG, bigAddresses], [MANY, manyAddresses]] as const) {
      const musl = got.get(`musl ${name}`) ?? ['(no result)'];
      assert.ok(!musl.includes('ERROR'), `musl resolves ${name}: ${musl.join(' ')}\n${r.stdout}`);
      // A 512-byte reply holds 29 A records after this header and question; musl returns them all.
      assert.is(musl.length, 29, `musl: ${musl.join(' ')}`);
      assert.ok(musl.every((a) => all.includes(a)), `addresses of ${name}: ${musl.join(' ')}`);
      assert.equal([...(got.get(`glibc ${name}`) ?? [])].sort(), [...all].sort(), `glibc retries over TCP and gets all 60 of ${name}`);
    }
    assert.equal(got.get('musl address.internal'), ['198.51.100.1']);
    assert.is(got.get('musl big')?.length, 29, 'the short name through the search list too');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
