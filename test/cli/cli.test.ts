// `meshdns check` and `meshdns table` on real files (issue #2).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli';

function repoRoot(): string {
  let dir = __dirname;
  while (!require('node:fs').existsSync(join(dir, 'examples', 'demo'))) dir = resolve(dir, '..');
  return dir;
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, (l) => out.push(l), (l) => err.push(l));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function demoCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-cli-'));
  cpSync(join(repoRoot(), 'examples', 'demo'), dir, { recursive: true });
  rmSync(join(dir, '.state'), { recursive: true, force: true });
  // The demo reads the host's resolv.conf for upstreams; tests use their own.
  writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\nsearch vm-ns.svc.cluster.local svc.cluster.local\n');
  writeFileSync(join(dir, 'meshdns.yaml'), require('node:fs').readFileSync(join(dir, 'meshdns.yaml'), 'utf8').replace(/\/etc\/resolv\.conf/g, './resolv.conf'));
  return dir;
}

test('check: the demo is clean (exit 0)', async () => {
  const dir = demoCopy();
  try {
    const r = await run(['check', '--config', join(dir, 'meshdns.yaml')]);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, /^ok: /);
    assert.is(r.err, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('check: every problem printed as file:document:field: message, exit 1', async () => {
  const dir = demoCopy();
  try {
    writeFileSync(
      join(dir, 'registry', 'broken.yaml'),
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ok, namespace: a}\nspec: {hosts: [ok.internal]}\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: bad, namespace: a}\nspec: {hosts: [bad.internal], addresses: [300.1.2.3]}\n',
    );
    writeFileSync(join(dir, 'cluster.env'), "POD_NAMESPACE='vm-ns'\nBROKEN LINE\n");
    writeFileSync(join(dir, 'meshdns.yaml'), require('node:fs').readFileSync(join(dir, 'meshdns.yaml'), 'utf8') + 'ttl: -5\nbogus: 1\n');
    const r = await run(['check', '--config', join(dir, 'meshdns.yaml')]);
    assert.is(r.code, 1);
    const lines = r.err.split('\n');
    assert.ok(lines.some((l) => l.startsWith(join(dir, 'registry', 'broken.yaml') + ':1:spec.addresses[0]: ')), r.err);
    assert.ok(lines.some((l) => l.startsWith(join(dir, 'cluster.env') + ':2:')), r.err);
    assert.ok(lines.some((l) => l.startsWith(join(dir, 'meshdns.yaml') + ':-:ttl: ')), r.err);
    assert.ok(lines.some((l) => l.startsWith(join(dir, 'meshdns.yaml') + ':-:bogus: ')), r.err);
    assert.match(r.out, /problems found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('table --json: sorted rows with names, types, addresses and sources', async () => {
  const dir = demoCopy();
  try {
    const r = await run(['table', '--config', join(dir, 'meshdns.yaml'), '--json']);
    assert.is(r.code, 0, r.err);
    const rows = JSON.parse(r.out) as Array<{ name: string; type: string; addresses: string[]; sources: string[] }>;
    const keys = rows.map((x) => `${x.name} ${x.type}`);
    assert.equal(keys, [...keys].sort());
    const byKey = new Map(rows.map((x) => [`${x.name} ${x.type}`, x]));
    assert.equal(byKey.get('address.internal A')?.addresses, ['198.51.100.1']);
    assert.match(byKey.get('auto.internal A')!.addresses[0], /^240\.240\.0\.\d+$/);
    assert.match(byKey.get('auto.internal AAAA')!.addresses[0], /^2001:2::/);
    assert.ok(byKey.has('productpage A'), 'short name in the workload namespace');
    assert.ok(!byKey.has('reviews A'), 'no short name for another namespace');
    assert.ok(!keys.some((k) => k.startsWith('not-auto.internal')), 'opted-out entry has no VIP');
    assert.match(byKey.get('address.internal A')!.sources[0], /dns-proxying\.yaml#0 ServiceEntry vm-ns\/external-address/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('table: VIPs are the same on every run (state is read, not rewritten)', async () => {
  const dir = demoCopy();
  try {
    const a = await run(['table', '--config', join(dir, 'meshdns.yaml'), '--json']);
    const b = await run(['table', '--config', join(dir, 'meshdns.yaml'), '--json']);
    assert.is(a.out, b.out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown command and option: usage, exit 2', async () => {
  assert.is((await run(['frobnicate'])).code, 2);
  assert.is((await run(['table', '--nope'])).code, 2);
  assert.match((await run(['version'])).out, /^meshdns \d+\.\d+\.\d+/);
});

test('MESHDNS_CONFIG names the settings file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-cli-'));
  try {
    mkdirSync(join(dir, 'r'));
    writeFileSync(join(dir, 'm.yaml'), 'registry: [./r]\nresolvConf: {path: ./none, manage: "false"}\nstateDir: ./s\nbootstrap: {clusterEnv: ./a, meshConfig: ./b, hosts: ./c}\n');
    process.env.MESHDNS_CONFIG = join(dir, 'm.yaml');
    const r = await run(['check']);
    assert.is(r.code, 0, r.err);
  } finally {
    delete process.env.MESHDNS_CONFIG;
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
