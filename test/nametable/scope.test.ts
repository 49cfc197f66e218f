// What the VM's proxy may see (issue 17): the pure rules (exportTo, discoverySelectors, which
// record wins a host) and the incremental scope filter, which must give after any sequence of
// file changes exactly what a fresh filter gives — and so, through the builder, the same table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { TableBuilder, type BuilderInputs, type NameTable } from '../../src/nametable';
import { ScopeFilter, type ScopeFileInput, type ScopeSettings } from '../../src/nametable/scope';
import { exportedTo, hiddenBy, type VisibilityContext } from '../../src/nametable/visibility';
import { decide, keeps } from '../../src/nametable/winner';
import type { ServiceRecord } from '../../src/registry/types';
import { se, svc } from './records';

const ctx = (over: Partial<VisibilityContext> = {}): VisibilityContext => ({
  namespace: 'vm-ns',
  defaultExportTo: ['*'],
  discoverySelectors: undefined,
  namespaceLabels: new Map(),
  ...over,
});

// [exportTo, object namespace, visible to a client in vm-ns]
const EXPORT_TO: Array<[string[], string, boolean]> = [
  [['*'], 'team-a', true],
  [['.'], 'team-a', false],
  [['.'], 'vm-ns', true],
  [['~'], 'vm-ns', false],
  [['team-b', 'vm-ns'], 'team-a', true],
  [['team-b'], 'team-a', false],
];
for (const [exportTo, ns, visible] of EXPORT_TO) {
  test(`exportTo [${exportTo.join(', ')}] of an object in ${ns}: ${visible ? 'visible' : 'hidden'} in vm-ns`, () => {
    assert.is(exportedTo(exportTo, ns, 'vm-ns'), visible);
    const record = se('e', ns, ['h.example']);
    record.exportTo = exportTo;
    assert.is(hiddenBy(record, ctx()) === undefined, visible);
  });
}

test('the mesh default applies to records without exportTo, not to those with one', () => {
  const c = ctx({ defaultExportTo: ['.'] });
  assert.match(hiddenBy(se('e', 'team-a', ['h']), c) ?? '', /defaultServiceExportTo/);
  assert.is(hiddenBy(se('e', 'vm-ns', ['h']), c), undefined);
  const exported = se('e', 'team-a', ['h']);
  exported.exportTo = ['*'];
  assert.is(hiddenBy(exported, c), undefined);
});

test('discoverySelectors hide Services of unselected namespaces, never ServiceEntries', () => {
  const c = ctx({
    discoverySelectors: [{ matchLabels: { mesh: 'on' }, matchExpressions: [] }],
    namespaceLabels: new Map([['in', { mesh: 'on' }], ['out', { mesh: 'off' }]]),
  });
  assert.is(hiddenBy(svc('a', 'in', ['10.0.0.1']), c), undefined);
  assert.match(hiddenBy(svc('a', 'out', ['10.0.0.1']), c) ?? '', /not selected/);
  assert.match(hiddenBy(svc('a', 'unknown', ['10.0.0.1']), c) ?? '', /no Namespace object/);
  assert.is(hiddenBy(se('e', 'out', ['h']), c), undefined);
});

test('winner: a Kubernetes Service first, then the oldest, then namespace; none without a contest', () => {
  const old = se('old', 'ns-z', ['h'], { creationTimestamp: '2020-01-01T00:00:00Z' });
  const young = se('young', 'ns-a', ['h'], { creationTimestamp: '2024-01-01T00:00:00Z' });
  const undated = se('undated', 'ns-0', ['h']);
  const kube = svc('h', 'ns-k', ['10.0.0.1']);
  const c = (record: ServiceRecord, cluster = ''): { record: ServiceRecord; cluster: string } => ({ record, cluster });
  assert.is(decide([c(young), c(old), c(undated)])!.winner.record, old);
  assert.is(decide([c(young), c(undated)])!.winner.record, young, 'no timestamp sorts last (as for VIP allocation)');
  assert.is(decide([c(old), c(kube)])!.winner.record, kube);
  const sameTime = [c(se('x', 'ns-b', ['h'])), c(se('y', 'ns-a', ['h']))];
  assert.is(decide(sameTime)!.namespace, 'ns-a', 'a ServiceEntry is named by its host in Istio: the namespace decides');
  const sameNs = [c(se('x', 'ns-c', ['h'])), c(se('y', 'ns-c', ['h']))];
  assert.is(decide(sameNs), undefined, 'same-namespace duplicates are no contest (they merge)');
  const other = c(svc('cart', 'shop', ['10.1.0.1']), 'west');
  const own = c(svc('cart', 'shop', ['10.0.0.1']));
  const d = decide([other, own])!;
  assert.is(d.winner, own);
  assert.ok(keeps(own, d));
  assert.not.ok(keeps(other, d), "another cluster's Service loses to the VM's own");
});

// ---- incremental = fresh ----

const hosts = ['a.internal', 'b.internal', 'web.ns1.svc.cluster.local', 'db.ns2.svc.cluster.local'];
const ips = ['10.0.0.1', '10.0.0.2', 'fd00::1'];
const times = [undefined, '2020-01-01T00:00:00Z', '2024-01-01T00:00:00Z'];
const exportTos = [undefined, ['.'], ['*'], ['ns1'], ['~']];

const recordArb: fc.Arbitrary<ServiceRecord> = fc.oneof(
  fc.record({
    name: fc.constantFrom('e1', 'e2'),
    ns: fc.constantFrom('ns1', 'ns2', 'ns3'),
    hosts: fc.uniqueArray(fc.constantFrom(...hosts), { minLength: 1, maxLength: 3 }),
    addresses: fc.uniqueArray(fc.constantFrom(...ips), { maxLength: 2 }),
    time: fc.constantFrom(...times),
    exportTo: fc.constantFrom(...exportTos),
  }).map((r) => {
    const record = se(r.name, r.ns, r.hosts, { addresses: r.addresses, resolution: 'DNS', creationTimestamp: r.time });
    if (r.exportTo !== undefined) record.exportTo = r.exportTo;
    return record;
  }),
  fc.record({
    name: fc.constantFrom('web', 'db'),
    ns: fc.constantFrom('ns1', 'ns2', 'ns3'),
    addresses: fc.uniqueArray(fc.constantFrom(...ips), { minLength: 1, maxLength: 2 }),
    time: fc.constantFrom(...times),
    exportTo: fc.constantFrom(...exportTos),
  }).map((r) => {
    const record = svc(r.name, r.ns, r.addresses);
    if (r.time !== undefined) record.creationTimestamp = r.time;
    if (r.exportTo !== undefined) record.exportTo = r.exportTo;
    return record;
  }),
);

interface FileContent {
  records: ServiceRecord[];
  cluster?: string;
}
const fileArb: fc.Arbitrary<FileContent> = fc.record({ records: fc.array(recordArb, { maxLength: 4 }), cluster: fc.constantFrom(undefined, 'east', 'west') }).map((f) => (f.cluster === undefined ? { records: f.records } : f));
const stepArb = fc.oneof(fc.record({ file: fc.integer({ min: 0, max: 2 }), content: fileArb }), fc.constant(undefined));

const settings: ScopeSettings = { namespace: 'ns1', clusterId: 'east', clusterDomain: 'cluster.local', defaultExportTo: ['*'], discoverySelectors: undefined, meshConfigFile: 'mesh.yaml' };

function builderInputs(files: ReadonlyArray<{ file: string; records: readonly ServiceRecord[]; endpointSets: readonly never[] }>): BuilderInputs {
  return { files, hostsFiles: [], clusterDomain: 'cluster.local', namespace: 'ns1', searchDomains: [], autoAllocate: true };
}

function dump(table: NameTable): string[] {
  const out: string[] = [];
  for (const e of table.entries()) out.push(`${e.name} → ${e.canonical} [${e.v4.join(',')}] [${e.v6.join(',')}] ${e.origins.map((o) => `${o.source.namespace}/${o.source.name}`).join(',')}`);
  return out.sort();
}

test('the scope filter and builder, updated file by file, equal a fresh filter and build', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 10 }), (steps) => {
      // Unchanged files come back as the very same arrays, as the input store hands them over.
      const files: ScopeFileInput[] = [0, 1, 2].map((i) => ({ file: `f${i}.yaml`, records: [], endpointSets: [] }));
      const scope = new ScopeFilter();
      const builder = new TableBuilder();
      for (const step of steps) {
        if (step !== undefined) files[step.file] = { file: `f${step.file}.yaml`, records: [...step.content.records], endpointSets: [], ...(step.content.cluster === undefined ? {} : { cluster: step.content.cluster }) };
        const result = builder.update(builderInputs(scope.apply(files, settings) as never));
        const freshScope = new ScopeFilter().apply(files.map((f) => ({ ...f, records: [...f.records] })), settings);
        const fresh = new TableBuilder(builder.allocations()).update(builderInputs(freshScope as never));
        assert.equal(dump(result.table), dump(fresh.table));
        // A host is offered by one namespace only (and Services of one cluster).
        for (const f of freshScope) for (const r of f.records) assert.ok(r.kind === 'Service' || r.hosts.length > 0);
      }
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );
});

test('an untouched file is passed on as the same array (the builder keeps it whole)', () => {
  const scope = new ScopeFilter();
  const a: ScopeFileInput = { file: 'a.yaml', records: [se('e', 'ns1', ['a.internal'], { addresses: ['10.0.0.1'] })], endpointSets: [] };
  const b: ScopeFileInput = { file: 'b.yaml', records: [se('f', 'ns2', ['b.internal'], { addresses: ['10.0.0.2'] })], endpointSets: [] };
  const first = scope.apply([a, b], settings);
  assert.is(first[0].records, a.records);
  const b2: ScopeFileInput = { ...b, records: [se('f', 'ns2', ['a.internal'], { addresses: ['10.0.0.3'], creationTimestamp: '2020-01-01T00:00:00Z' })] };
  const second = scope.apply([a, b2], settings);
  assert.equal(second[0].records, [], 'a.yaml lost its only host to the older entry in b.yaml');
  assert.is(second[1].records, b2.records);
  const third = scope.apply([a, b2], settings);
  assert.is(third[0].records, second[0].records, 'nothing changed: the same output array');
});

test.run();
