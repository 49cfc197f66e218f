// A "solo" name (offered once, by one unit, as a name of its own) is served by its contribution
// itself; any other name gets a merged entry (nametable/merge.ts). These cases move names in
// and out of solo state (a second source comes and goes, short forms, wildcards, a bare `*`,
// hosts files, a record naming a host twice), with records whose source file is and is not the
// input file they come in, and check every table against a fresh build.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { TableBuilder, type BuilderInputs, type NameTable } from '../../src/nametable';
import type { HostsEntry } from '../../src/config/types';
import type { ServiceRecord } from '../../src/registry/types';
import { se, svc } from './records';

const hosts = ['a.internal', 'b.internal', '*.w.internal', 'x.w.internal', '*', 'web.ns1.svc.cluster.local', 'web.ns1', 'web'];

const recordArb: fc.Arbitrary<ServiceRecord> = fc.oneof(
  fc.record({
    name: fc.constantFrom('e1', 'e2'),
    ns: fc.constantFrom('ns1', 'ns2'),
    // Not unique: a record may name a host twice.
    hosts: fc.array(fc.constantFrom(...hosts), { minLength: 1, maxLength: 3 }),
    addresses: fc.uniqueArray(fc.constantFrom('10.0.0.1', '240.240.0.1', 'fd00::1'), { maxLength: 1 }),
    resolution: fc.constantFrom('DNS' as const, 'STATIC' as const),
    sourceFile: fc.boolean(),
  }).map((r) => {
    const record = se(r.name, r.ns, r.hosts, { addresses: r.addresses, resolution: r.resolution });
    // Half the records say they come from the input file they are in (the builder's fast path).
    return r.sourceFile ? record : { ...record, source: { ...record.source, file: 'f0.yaml' } };
  }),
  fc.record({ name: fc.constantFrom('web', 'db'), ns: fc.constantFrom('ns1', 'ns2'), address: fc.constantFrom('10.0.0.2', '10.0.0.1') }).map((r) =>
    svc(r.name, r.ns, [r.address]),
  ),
);
const hostsArb: fc.Arbitrary<HostsEntry[]> = fc.array(
  fc.record({ address: fc.constantFrom('10.1.1.1', '10.0.0.1'), names: fc.array(fc.constantFrom(...hosts), { minLength: 1, maxLength: 2 }), line: fc.integer({ min: 1, max: 9 }) }),
  { maxLength: 2 },
);
const stepArb = fc.record({ file: fc.integer({ min: 0, max: 2 }), records: fc.array(recordArb, { maxLength: 3 }), hosts: fc.option(hostsArb) });

function inputsOf(files: ServiceRecord[][], hostsEntries: HostsEntry[] | undefined): BuilderInputs {
  return {
    files: files.map((records, i) => ({ file: `f${i}.yaml`, records, endpointSets: [] })),
    hostsFiles: hostsEntries === undefined ? [] : [{ file: '/etc/hosts', entries: hostsEntries }],
    clusterDomain: 'cluster.local',
    namespace: 'ns1',
    searchDomains: ['ns1.svc.cluster.local'],
    autoAllocate: true,
  };
}

function dump(table: NameTable): string[] {
  const out: string[] = [`size ${table.size}`];
  for (const e of table.entries()) out.push(`${e.name} → ${e.canonical} [${e.v4.join(',')}] [${e.v6.join(',')}] ${e.ports.length} ${e.origins.length}`);
  for (const q of [...hosts, 'q.w.internal', 'a.internal.ns1.svc.cluster.local', 'web.ns1.svc']) {
    const l = table.lookup(q);
    out.push(`lookup ${q}: ${l === undefined ? '-' : `${l.kind} ${l.info.name} [${l.info.v4.join(',')}] [${l.info.v6.join(',')}]`}`);
  }
  for (const ip of ['10.0.0.1', '10.0.0.2', '10.1.1.1', '240.240.0.1']) out.push(`PTR ${ip} ${table.lookupPtr(`${ip.split('.').reverse().join('.')}.in-addr.arpa`) ?? '-'}`);
  return out.sort();
}

test('names moving in and out of solo state: incremental tables equal fresh builds', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 10 }), (steps) => {
      const files: ServiceRecord[][] = [[], [], []];
      let hostsEntries: HostsEntry[] | undefined;
      const incremental = new TableBuilder();
      for (const step of steps) {
        files[step.file] = step.records;
        if (step.hosts !== null) hostsEntries = step.hosts;
        const result = incremental.update(inputsOf(files, hostsEntries));
        const fresh = new TableBuilder(incremental.allocations()).update(inputsOf(files.map((f) => [...f]), hostsEntries));
        assert.equal(dump(result.table), dump(fresh.table));
        assert.is(result.table.size, [...result.table.entries()].length);
      }
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );
});

test('a second source of a solo name merges with it, and its leaving restores the solo entry', () => {
  const a = se('a', 'ns1', ['shared.internal'], { addresses: ['10.0.0.1'] });
  const b = se('b', 'ns1', ['shared.internal'], { addresses: ['10.0.0.2'] });
  const builder = new TableBuilder();
  const first = builder.update(inputsOf([[a], [], []], undefined));
  const solo = first.table.lookup('shared.internal')!.info;
  assert.equal(solo.v4, ['10.0.0.1']);
  const merged = builder.update(inputsOf([[a], [b], []], undefined));
  assert.equal(merged.table.lookup('shared.internal')!.info.v4, ['10.0.0.1', '10.0.0.2']);
  assert.is(merged.changed, 1);
  const back = builder.update(inputsOf([[a], [], []], undefined));
  assert.is(back.table.lookup('shared.internal')!.info, solo, 'the contribution is the entry again');
  assert.is(back.table.size, 1);
  // The first source leaves while the second stays: the second's contribution is the entry.
  builder.update(inputsOf([[a], [b], []], undefined));
  const other = builder.update(inputsOf([[], [b], []], undefined));
  assert.equal(other.table.lookup('shared.internal')!.info.v4, ['10.0.0.2']);
  assert.is(other.table.lookup('shared.internal')!.info.origins[0].source.name, 'b');
});

test.run();
