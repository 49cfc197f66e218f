// The table this VM would get from istiod (issue 17), through a real meshdns with dig: exportTo
// (ServiceEntry spec.exportTo, the Service annotation, the mesh default), discoverySelectors with
// Namespace objects, one winner per host across namespaces, the VM's own cluster first,
// ISTIO_NAMESPACE over POD_NAMESPACE, DYNAMIC_DNS, the VM's IP families, and round robin for
// names with several addresses. `meshdns explain` names the rule that hides a name and the losers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dig, type DigResult } from '../helpers/dig';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fakeUpstream';
import { startHarness, type Harness } from '../support/harness';
import { main } from '../../src/cli';
import { REGISTRY_FIXTURES } from '../registry/fixturePaths';

const fixture = (name: string): string => readFileSync(join(REGISTRY_FIXTURES, '..', 'scope', name), 'utf8');

let upstream: FakeUpstream;
let vm: Harness;
let selected: Harness;
let v6only: Harness;

test.before(async () => {
  upstream = await startFakeUpstream(() => ({ kind: 'nxdomain' }));
  const common = { resolvConf: 'nameserver 127.0.0.1\nsearch vm-ns.svc.cluster.local svc.cluster.local cluster.local\n', udpEngine: 'native' as const };
  const settings = `upstreams: ["127.0.0.1:${upstream.port}"]\ncache: {maxEntries: 0}\n`;
  vm = await startHarness({
    ...common,
    settings,
    clusterEnv: "POD_NAMESPACE='other'\nISTIO_NAMESPACE='vm-ns'\nISTIO_META_CLUSTER_ID='east'\n",
    registry: { 'visibility.yaml': fixture('visibility.yaml'), 'winners.yaml': fixture('winners.yaml'), 'east.yaml': fixture('east.yaml'), 'west.yaml': fixture('west.yaml') },
  });
  const selectors = 'discoverySelectors:\n- matchLabels: {istio-discovery: enabled}\n';
  selected = await startHarness({
    ...common,
    // auto: the families of ISTIO_SVC_IP (IPv4 only), not the test host's.
    settings: `${settings}ipFamilies: auto\n`,
    clusterEnv: "ISTIO_NAMESPACE='vm-ns'\nISTIO_SVC_IP='10.0.0.5'\n",
    meshYaml: selectors,
    registry: { 'selected.yaml': fixture('selected.yaml') },
  });
  v6only = await startHarness({ ...common, settings: `${settings}ipFamilies: ipv6\n`, clusterEnv: "ISTIO_NAMESPACE='vm-ns'\n", registry: { 'selected.yaml': fixture('selected.yaml') } });
});

test.after(async () => {
  await vm?.stop();
  await selected?.stop();
  await v6only?.stop();
  await upstream?.close();
});

async function ask(h: Harness, name: string, type = 'A'): Promise<DigResult> {
  return dig({ port: h.port, name, type });
}

const addressesOf = (r: DigResult, type = 'A'): string[] => r.answers.filter((a) => a.type === type).map((a) => a.data);

/** Answered locally with exactly these addresses (any order). */
async function local(h: Harness, name: string, type: string, expected: string[]): Promise<void> {
  const r = await ask(h, name, type);
  assert.is(r.status, 'NOERROR', `${name} ${type}: ${r.raw}`);
  assert.ok(r.flags.includes('aa'), `${name} ${type} is a local answer`);
  assert.equal(addressesOf(r, type).sort(), [...expected].sort(), `${name} ${type}`);
}

/** Not a mesh name for this VM: forwarded (the upstream says NXDOMAIN). */
async function forwarded(h: Harness, name: string): Promise<void> {
  const r = await ask(h, name);
  assert.is(r.status, 'NXDOMAIN', `${name}: ${r.raw}`);
  assert.ok(upstream.received.some((q) => q.name.toLowerCase() === name), `${name} reached the upstream`);
}

// [case, harness, name, type, expected addresses | 'forwarded' | 'nodata']
type Row = [string, () => Harness, string, string, string[] | 'forwarded' | 'nodata'];
const rows: Row[] = [
  ['ServiceEntry exportTo ["."] in team-a: hidden from a VM in vm-ns', () => vm, 'private.team-a.example', 'A', 'forwarded'],
  ['ServiceEntry exportTo [vm-ns]: visible', () => vm, 'shared.team-a.example', 'A', ['10.1.0.2']],
  ['ServiceEntry exportTo ["~"]: hidden from everyone', () => vm, 'nobody.example', 'A', 'forwarded'],
  ['ServiceEntry exportTo ["."] in the VM\'s own namespace: visible', () => vm, 'mine.example', 'A', ['10.1.0.4']],
  ['Service annotated networking.istio.io/exportTo: "." in team-a: hidden', () => vm, 'annotated.team-a.svc.cluster.local', 'A', 'forwarded'],
  ['Service annotated exportTo "team-b, vm-ns": visible', () => vm, 'listed.team-a.svc.cluster.local', 'A', ['10.96.1.2']],
  ['resolution DYNAMIC_DNS is accepted', () => vm, 'dyn.example', 'A', ['10.1.0.5']],
  ['ISTIO_NAMESPACE=vm-ns wins over POD_NAMESPACE=other: the short name is vm-ns\'s', () => vm, 'productpage', 'A', ['10.96.2.1']],
  ['one host in two namespaces: the oldest ServiceEntry wins, not merged', () => vm, 'shared-host.example', 'A', ['10.3.0.1']],
  ['the newer entry keeps its other host', () => vm, 'new-only.example', 'A', ['10.3.0.2']],
  ['same-namespace duplicates still merge', () => vm, 'same-ns.example', 'A', ['10.4.0.1', '10.4.0.2']],
  ['a Kubernetes Service wins over an older ServiceEntry of another namespace', () => vm, 'kube.ns-k.svc.cluster.local', 'A', ['10.96.3.1']],
  ['the same Service in two clusters\' dumps: the VM\'s own cluster (CLUSTER_ID east)', () => vm, 'cart.shop.svc.cluster.local', 'A', ['10.96.4.1']],
  ['a Service only the other cluster has is still served', () => vm, 'only-west.shop.svc.cluster.local', 'A', ['10.100.4.2']],
  ['dual-stack Service asked AAAA by an IPv4-only VM (ISTIO_SVC_IP): NODATA', () => selected, 'reviews.vm-ns.svc.cluster.local', 'AAAA', 'nodata'],
  ['…and its A as before', () => selected, 'reviews.vm-ns.svc.cluster.local', 'A', ['10.96.5.1']],
  ['auto-allocated VIP asked AAAA by an IPv4-only VM: NODATA', () => selected, 'auto.internal', 'AAAA', 'nodata'],
  ['ipFamilies: ipv6: the dual-stack Service has no A', () => v6only, 'reviews.vm-ns.svc.cluster.local', 'A', 'nodata'],
  ['ipFamilies: ipv6: its AAAA', () => v6only, 'reviews.vm-ns.svc.cluster.local', 'AAAA', ['fd00::5:1']],
  ['ipFamilies: ipv6: a VIP has only its IPv6 half', () => v6only, 'auto.internal', 'A', 'nodata'],
];

for (const [title, h, name, type, expected] of rows) {
  test(title, async () => {
    if (expected === 'forwarded') return forwarded(h(), name);
    if (expected === 'nodata') {
      const r = await ask(h(), name, type);
      assert.is(r.status, 'NOERROR', r.raw);
      assert.ok(r.flags.includes('aa'), 'a local NODATA');
      assert.equal(r.answers, [], `${name} ${type}: no records`);
      return;
    }
    await local(h(), name, type, expected);
  });
}

test('discoverySelectors exclude the Services: the two tcp-echo ServiceEntries get distinct 240.240.x VIPs', async () => {
  const one = addressesOf(await ask(selected, 'tcp-echo.external-1.svc.cluster.local'));
  const two = addressesOf(await ask(selected, 'tcp-echo.external-2.svc.cluster.local'));
  assert.is(one.length, 1);
  assert.is(two.length, 1);
  assert.match(one[0], /^240\.240\.\d+\.\d+$/);
  assert.match(two[0], /^240\.240\.\d+\.\d+$/);
  assert.is.not(one[0], two[0]);
  // Without the selectors the Services' ClusterIPs win (Kubernetes before ServiceEntry).
  await local(v6only, 'tcp-echo.external-1.svc.cluster.local', 'A', ['10.96.9.1']);
});

test('several addresses: the order rotates per answer (round robin), every address first in turn', async () => {
  const firsts: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await ask(vm, 'multi.example');
    const got = addressesOf(r);
    assert.equal([...got].sort(), ['10.2.0.1', '10.2.0.2', '10.2.0.3']);
    // Always a rotation of the table order.
    const at = ['10.2.0.1', '10.2.0.2', '10.2.0.3'].indexOf(got[0]);
    assert.equal(got, [0, 1, 2].map((k) => ['10.2.0.1', '10.2.0.2', '10.2.0.3'][(at + k) % 3]));
    firsts.push(got[0]);
  }
  assert.equal(new Set(firsts).size, 3, `first addresses ${firsts.join(' ')}`);
});

test('a single-address name keeps the fast path (a template), a rotating one does not', async () => {
  // No cookie: the fast path takes only queries without EDNS options.
  const plain = (name: string): Promise<DigResult> => dig({ port: vm.port, name, extraArgs: ['+nocookie'] });
  const before = vm.service.status().fastPathTemplates as number;
  await plain('mine.example');
  await plain('mine.example');
  const after = vm.service.status().fastPathTemplates as number;
  assert.ok(after > before, `templates ${before} → ${after}`);
  assert.equal(addressesOf(await plain('multi.example')).length, 3);
  assert.is(vm.service.status().fastPathTemplates, after + 1, 'the rotating name is marked once, answered by the general path');
});

async function cli(h: Harness, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '--config', join(h.dir, 'meshdns.yaml')], (l) => out.push(l), (l) => err.push(l));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('explain names the rule that hides a name', async () => {
  const r = await cli(vm, 'explain', 'private.team-a.example');
  assert.match(r.out, /forwarded upstream: not in the mesh name table/);
  assert.match(r.out, /hidden: ServiceEntry team-a\/private .*not exported to the VM's namespace vm-ns \(spec\.exportTo: \[\.\]\)/);
  const s = await cli(vm, 'explain', 'annotated.team-a');
  assert.match(s.out, /hidden: Service team-a\/annotated .*annotation networking\.istio\.io\/exportTo: \[\.\]/);
  const d = await cli(selected, 'explain', 'tcp-echo.external-1.svc.cluster.local');
  assert.match(d.out, /hidden: Service external-1\/tcp-echo .*not selected by the mesh config's discoverySelectors/);
});

test('explain shows the winner and the losers of a host offered in several namespaces and clusters', async () => {
  const r = await cli(vm, 'explain', 'shared-host.example');
  assert.match(r.out, /shared-host\.example A 10\.3\.0\.1/);
  assert.match(r.out, /ServiceEntry ns-b\/old .* wins/);
  assert.match(r.out, /lost: ServiceEntry ns-a\/new/);
  const c = await cli(vm, 'explain', 'cart.shop');
  assert.match(c.out, /lost: Service shop\/cart .*west\.yaml.*\(cluster west\)/);
});

test('explain says when the VM lacks the asked family', async () => {
  const r = await cli(selected, 'explain', 'reviews.vm-ns', 'AAAA');
  assert.match(r.out, /the VM has no IPv6 \(ipFamilies: auto, from ISTIO_SVC_IP \/ INSTANCE_IPS \(10\.0\.0\.5\)\)/);
});

test('check warns when discoverySelectors cannot be applied (no Namespace objects), and serves every namespace', async () => {
  const h = await startHarness({
    resolvConf: 'nameserver 127.0.0.1\n',
    meshYaml: 'discoverySelectors:\n- matchLabels: {istio-discovery: enabled}\n',
    registry: { 'a.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: elsewhere}\nspec: {clusterIP: 10.96.7.1}\n' },
  });
  try {
    const r = await cli(h, 'check');
    assert.match(r.err + r.out, /mesh\.yaml:-:discoverySelectors: cannot be applied: the registry has no Namespace objects/);
    await local(h, 'web.elsewhere.svc.cluster.local', 'A', ['10.96.7.1']);
  } finally {
    await h.stop();
  }
});

test('a registry source can name its cluster: registry: [{path, cluster}]', async () => {
  const h = await startHarness({
    resolvConf: 'nameserver 127.0.0.1\n',
    clusterEnv: "ISTIO_META_CLUSTER_ID='east'\n",
    registrySetting: 'registry: [./registry.d, {path: ./west.d, cluster: west}]',
    registry: { 'east.yaml': fixture('east.yaml') },
  });
  try {
    mkdirSync(join(h.dir, 'west.d'));
    h.write('west.d/cart.yaml', 'apiVersion: v1\nkind: Service\nmetadata: {name: cart, namespace: shop}\nspec: {clusterIP: 10.100.4.9}\n');
    await h.service.reload('test', { force: true });
    await local(h, 'cart.shop.svc.cluster.local', 'A', ['10.96.4.1']);
    const r = await cli(h, 'explain', 'cart.shop.svc.cluster.local');
    assert.match(r.out, /lost: Service shop\/cart .*\(cluster west\)/);
  } finally {
    await h.stop();
  }
});

test.run();
