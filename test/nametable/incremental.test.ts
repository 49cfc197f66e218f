// The incremental table builder gives exactly the table a fresh build gives, after any sequence
// of file changes (issue #6: single-file changes re-derive only what they touch).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { TableBuilder, type BuilderInputs, type NameTable } from '../../src/nametable';
import type { ServiceRecord } from '../../src/registry/types';
import { se, svc } from './records';
import { serializeVipState } from '../../src/registry/allocatorState';

const hosts = ['a.internal', 'b.internal', 'c.internal', '*.w.internal', 'x.w.internal', 'web.ns1.svc.cluster.local'];
const ips = ['10.0.0.1', '10.0.0.2', '240.240.0.1', '240.240.0.2', 'fd00::1', '2001:2::1'];

const recordArb: fc.Arbitrary<ServiceRecord> = fc.oneof(
  fc.record({
    name: fc.constantFrom('e1', 'e2', 'e3'),
    ns: fc.constantFrom('ns1', 'ns2'),
    hosts: fc.uniqueArray(fc.constantFrom(...hosts), { minLength: 1, maxLength: 3 }),
    addresses: fc.uniqueArray(fc.constantFrom(...ips), { maxLength: 2 }),
    resolution: fc.constantFrom('DNS' as const, 'STATIC' as const, 'NONE' as const),
    autoAllocate: fc.boolean(),
  }).map((r) => se(r.name, r.ns, r.hosts, { addresses: r.addresses, resolution: r.resolution, autoAllocate: r.autoAllocate, endpoints: r.resolution === 'NONE' ? ['10.9.9.9'] : [] })),
  fc.record({
    name: fc.constantFrom('web', 'db', 'b'),
    ns: fc.constantFrom('ns1', 'ns2'),
    addresses: fc.uniqueArray(fc.constantFrom(...ips), { maxLength: 2 }),
  }).map((r) => svc(r.name, r.ns, r.addresses, { type: r.addresses.length === 0 ? 'Headless' : 'ClusterIP', endpoints: r.addresses.length === 0 ? [{ address: '10.5.5.5', hostname: 'p0', ready: true }] : [] })),
);

// A step replaces the whole content of one of three files (or empties it).
const stepArb = fc.record({ file: fc.integer({ min: 0, max: 2 }), records: fc.array(recordArb, { maxLength: 3 }) });

function inputsOf(files: ServiceRecord[][]): BuilderInputs {
  return {
    files: files.map((records, i) => ({ file: `f${i}.yaml`, records, endpointSets: [] })),
    hostsFiles: [],
    clusterDomain: 'cluster.local',
    namespace: 'ns1',
    searchDomains: ['ns1.svc.cluster.local'],
    autoAllocate: true,
  };
}

function dump(table: NameTable): string[] {
  const out: string[] = [];
  for (const e of table.entries()) out.push(`${e.name} → ${e.canonical} [${e.v4.join(',')}] [${e.v6.join(',')}] ${e.ports.length}`);
  for (const ip of ips) {
    const rev = ip.includes(':') ? undefined : `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
    if (rev !== undefined) out.push(`PTR ${ip} ${table.lookupPtr(rev) ?? '-'}`);
  }
  return out.sort();
}

test('incremental updates equal a fresh build with the same VIPs, after any change sequence', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 12 }), (steps) => {
      const files: ServiceRecord[][] = [[], [], []];
      const incremental = new TableBuilder();
      for (const step of steps) {
        files[step.file] = step.records;
        const result = incremental.update(inputsOf(files.map((f) => [...f])));
        // Fresh build seeded with the incremental builder's VIPs must agree name for name.
        const fresh = new TableBuilder(incremental.allocations()).update(inputsOf(files.map((f) => [...f])));
        assert.equal(dump(result.table), dump(fresh.table));
      }
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );
});

// As the service runs it: an unchanged file comes back as the very same parsed array (the
// builder then keeps it whole without looking at its records); a step may also change nothing.
const sameArrayStepArb = fc.oneof(stepArb, fc.constant(undefined));

test('incremental updates equal a fresh build when unchanged files are passed as the same arrays', () => {
  fc.assert(
    fc.property(fc.array(sameArrayStepArb, { minLength: 1, maxLength: 12 }), (steps) => {
      const files: ServiceRecord[][] = [[], [], []];
      const incremental = new TableBuilder();
      for (const step of steps) {
        if (step !== undefined) files[step.file] = step.records;
        const result = incremental.update(inputsOf(files));
        const fresh = new TableBuilder(incremental.allocations()).update(inputsOf(files.map((f) => [...f])));
        assert.equal(dump(result.table), dump(fresh.table));
      }
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );
});

// The PTR index is built on the first reverse lookup and only then kept up to date: a builder
// whose tables were never asked a PTR during its updates must answer as one asked all along.
test('reverse names are right when the first PTR query comes after many updates', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 11 }), (steps, askFrom) => {
      const files: ServiceRecord[][] = [[], [], []];
      const late = new TableBuilder();
      const always = new TableBuilder();
      steps.forEach((step, i) => {
        files[step.file] = step.records;
        const lateTable = late.update(inputsOf(files)).table;
        const alwaysTable = always.update(inputsOf(files)).table;
        // `always` is asked after every update; `late` only from step `askFrom` on.
        const asked = dump(alwaysTable);
        if (i >= askFrom) assert.equal(dump(lateTable), asked);
      });
      assert.equal(dump(late.update(inputsOf(files)).table), dump(always.update(inputsOf(files)).table));
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );
});

test('unchanged files keep their entries (same objects) and VIPs; counts say what changed', () => {
  const a = [se('a', 'ns1', ['a.internal'], { resolution: 'DNS' })];
  const b = [se('b', 'ns1', ['b.internal'], { resolution: 'DNS' })];
  const builder = new TableBuilder();
  const first = builder.update(inputsOf([a, b]));
  assert.is(first.added, 2);
  const aInfo = first.table.lookup('a.internal')!.info;
  const vipB = builder.allocations()['ns1/b/b.internal'];
  const b2 = [se('b', 'ns1', ['b.internal', 'b2.internal'], { resolution: 'DNS' })];
  const second = builder.update(inputsOf([a, b2]));
  assert.is(second.table.lookup('a.internal')!.info, aInfo, 'untouched entry object reused');
  assert.equal(builder.allocations()['ns1/b/b.internal'], vipB, 'a re-parsed record keeps its VIP');
  assert.is(second.added, 1);
  assert.is(second.changed, 0);
  assert.is(second.fresh.length, 2, 'b.internal re-derived (new origin) and b2.internal new');
  const third = builder.update(inputsOf([a, []]));
  assert.is(third.removed, 2);
  assert.is(third.table.lookup('b.internal'), undefined);
});

test('a spec address that takes an allocated VIP moves only that VIP', () => {
  const builder = new TableBuilder();
  const auto = [se('a', 'ns1', ['a.internal'], { resolution: 'DNS' }), se('b', 'ns1', ['b.internal'], { resolution: 'DNS' })];
  builder.update(inputsOf([auto, []]));
  const before = builder.allocations();
  const taken = before['ns1/a/a.internal'].v4;
  builder.update(inputsOf([auto, [se('claim', 'ns2', ['c.internal'], { addresses: [taken] })]]));
  const after = builder.allocations();
  assert.is.not(after['ns1/a/a.internal'].v4, taken);
  assert.is(after['ns1/a/a.internal'].v6, before['ns1/a/a.internal'].v6, 'the other family stays');
  assert.equal(after['ns1/b/b.internal'], before['ns1/b/b.internal']);
});

// The state file is rewritten when `allocationsChanged` says so: it must be true exactly when the
// allocations differ from the last update's (a rewrite at 100,000 entries costs hundreds of ms,
// so a reload that hands every key its VIP back must not cause one, and a real change must).
test('allocationsChanged is true exactly when the allocations changed', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 8 }), (steps) => {
      const builder = new TableBuilder();
      const files: ServiceRecord[][] = [[], [], []];
      let before = builder.allocations();
      for (const step of steps) {
        files[step.file] = step.records;
        // Every file re-parsed: equal content, new objects (what a reload of an unchanged file set looks like).
        const result = builder.update(inputsOf(files.map((f) => f.map((r) => ({ ...r })))));
        const after = builder.allocations();
        // Compared as the state file would be written (keys sorted: insertion order is not content).
        assert.is(result.allocationsChanged, serializeVipState(after) !== serializeVipState(before), `${JSON.stringify(before)} → ${JSON.stringify(after)}`);
        before = after;
      }
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );
});

test('a start from the state file: unchanged when every persisted VIP is taken again, changed when one is stale', () => {
  const records = [se('a', 'ns1', ['a.internal'], { resolution: 'DNS' }), se('b', 'ns1', ['b.internal'], { resolution: 'DNS' })];
  const first = new TableBuilder();
  first.update(inputsOf([records, [], []]));
  const state = first.allocations();
  assert.is(new TableBuilder(state).update(inputsOf([records, [], []])).allocationsChanged, false, 'same inputs, same state');
  assert.is(new TableBuilder(state).update(inputsOf([records.slice(0, 1), [], []])).allocationsChanged, true, 'b was deleted while stopped');
  const more = [...records, se('c', 'ns1', ['c.internal'], { resolution: 'DNS' })];
  assert.is(new TableBuilder(state).update(inputsOf([more, [], []])).allocationsChanged, true, 'c is new');
});

test.run();
