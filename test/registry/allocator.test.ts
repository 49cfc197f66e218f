import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocationKey, compareAllocationOrder, ipv4FromOffset, ipv6FromOffset, qualifiesForAllocation } from '../../src/registry/allocator';
import { allocateVips, allocationOrder } from '../support/vipOracle';
import { loadVipState, saveVipState, serializeVipState, serializeVipStateInSlices, vipStatePath } from '../../src/registry/allocatorState';
import type { ServiceEntryRecord } from '../../src/registry/types';
import { se } from '../nametable/records';

function many(n: number): ServiceEntryRecord[] {
  const out: ServiceEntryRecord[] = [];
  for (let i = 0; i < n; i++) out.push(se(`se-${i}`, `ns-${i % 7}`, [`svc-${i}.example.internal`], { resolution: 'DNS' }));
  return out;
}

const qualifying: Array<[string, ServiceEntryRecord, string, boolean]> = [
  ['DNS resolution without addresses qualifies', se('a', 'n', ['a.internal'], { resolution: 'DNS' }), 'a.internal', true],
  ['STATIC without addresses qualifies', se('a', 'n', ['a.internal'], { resolution: 'STATIC' }), 'a.internal', true],
  ['resolution NONE does not', se('a', 'n', ['a.internal'], { resolution: 'NONE' }), 'a.internal', false],
  ['spec.addresses present does not', se('a', 'n', ['a.internal'], { addresses: ['1.2.3.4'] }), 'a.internal', false],
  ['CIDR-only spec.addresses does not', se('a', 'n', ['a.internal'], { declaresAddresses: true }), 'a.internal', false],
  ['opt-out label does not', se('a', 'n', ['a.internal'], { autoAllocate: false }), 'a.internal', false],
  ['wildcard host does not', se('a', 'n', ['*.a.internal']), '*.a.internal', false],
  ['host with status.addresses does not', se('a', 'n', ['a.internal'], { statusAddresses: { 'a.internal': ['240.240.0.9'] } }), 'a.internal', false],
];
for (const [title, record, host, expected] of qualifying) {
  test(title, () => assert.is(qualifiesForAllocation(record, host), expected));
}

// compareAllocationOrder must order exactly as the joined sort key does (VIPs depend on it).
const stamped = (ts: string | undefined, ns: string, name: string): ServiceEntryRecord => se(name, ns, ['h'], { creationTimestamp: ts });
const sameRecord = stamped('t', 'ns', 'se');
const orderPairs: Array<[string, [ServiceEntryRecord, string], [ServiceEntryRecord, string]]> = [
  ['earlier creation time first', [stamped('2026-01-01T00:00:00Z', 'z', 'z'), 'z'], [stamped('2026-01-02T00:00:00Z', 'a', 'a'), 'a']],
  ['no timestamp after any timestamp', [stamped(undefined, 'a', 'a'), 'a'], [stamped('2026-01-01T00:00:00Z', 'z', 'z'), 'z']],
  ['same time: namespace decides', [stamped('t', 'ns-1', 'b'), 'h'], [stamped('t', 'ns-2', 'a'), 'h']],
  ['a namespace that is a prefix of another sorts first', [stamped('t', 'ns', 'z'), 'h'], [stamped('t', 'ns-1', 'a'), 'h']],
  ['a name that is a prefix of another sorts first', [stamped('t', 'ns', 'se-1'), 'z.example'], [stamped('t', 'ns', 'se-10'), 'a.example']],
  ['same record: host decides', [stamped('t', 'ns', 'se'), 'a.example'], [stamped('t', 'ns', 'se'), 'b.example']],
  ['a host that is a prefix of another sorts first', [stamped('t', 'ns', 'se'), 'a.example'], [stamped('t', 'ns', 'se'), 'a.example.com']],
  ['identical hosts are equal', [stamped('t', 'ns', 'se'), 'a.example'], [stamped('t', 'ns', 'se'), 'a.example']],
  ['hosts of the very same record object: host decides', [sameRecord, 'b.example'], [sameRecord, 'a.example']],
];
for (const [title, [ra, ha], [rb, hb]] of orderPairs) {
  test(`allocation order without sort keys: ${title}`, () => {
    const keyA = allocationOrder(ra, ha);
    const keyB = allocationOrder(rb, hb);
    const expected = keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
    assert.is(Math.sign(compareAllocationOrder(ra, ha, rb, hb)), expected);
    assert.is(Math.sign(compareAllocationOrder(rb, hb, ra, ha)), -expected);
  });
}

test('VIP texts and keys are written as before (join instead of templates)', () => {
  assert.is(allocationKey('ns-1', 'se-2', 'a.example.com'), 'ns-1/se-2/a.example.com');
  const v4: Array<[number, string]> = [[1, '240.240.0.1'], [256, '240.240.1.0'], [0xfffe, '240.240.255.254']];
  for (const [offset, text] of v4) assert.is(ipv4FromOffset(offset), text);
  const v6: Array<[number, string]> = [[1, '2001:2::1'], [0xffff, '2001:2::ffff'], [0x10000, '2001:2::1:0'], [0x1_0000_0001, '2001:2::1:0:1']];
  for (const [offset, text] of v6) assert.is(ipv6FromOffset(offset), text);
});

test('sequential from 240.240.0.1 / 2001:2::1 in creation-time order', () => {
  const records = [
    se('late', 'n', ['late.internal'], { creationTimestamp: '2024-02-01T00:00:00Z' }),
    se('early', 'n', ['early.internal'], { creationTimestamp: '2024-01-01T00:00:00Z' }),
    se('untimed', 'a', ['untimed.internal']),
  ];
  const { allocations } = allocateVips(records, {});
  assert.equal(allocations['n/early/early.internal'], { v4: '240.240.0.1', v6: '2001:2::1' });
  assert.equal(allocations['n/late/late.internal'], { v4: '240.240.0.2', v6: '2001:2::2' });
  assert.equal(allocations['a/untimed/untimed.internal'], { v4: '240.240.0.3', v6: '2001:2::3' });
});

test('addresses held by spec or status addresses are skipped', () => {
  const records = [
    se('holder', 'n', ['h.internal'], { addresses: ['240.240.0.1', '2001:2::1'] }),
    se('status', 'n', ['s.internal'], { statusAddresses: { 's.internal': ['240.240.0.2', '2001:2::2'] } }),
    se('new', 'n', ['new.internal']),
  ];
  const { allocations } = allocateVips(records, {});
  assert.equal(allocations['n/new/new.internal'], { v4: '240.240.0.3', v6: '2001:2::3' });
});

test('10,000 ServiceEntries get distinct addresses of both families', () => {
  const { allocations } = allocateVips(many(10_000), {});
  const values = Object.values(allocations);
  assert.is(values.length, 10_000);
  assert.is(new Set(values.map((v) => v.v4)).size, 10_000);
  assert.is(new Set(values.map((v) => v.v6)).size, 10_000);
  assert.ok(values.every((v) => v.v4.startsWith('240.240.') && v.v6.startsWith('2001:2::')));
  assert.ok(values.some((v) => v.v6 === '2001:2::2710'), 'hex formatting of the 10,000th address');
});

test('restart with the state file gives the same addresses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-alloc-'));
  try {
    const records = many(10_000);
    // Allocate in one order, then restart with a shuffled input: the state decides, not the order.
    const first = allocateVips(records, {}).allocations;
    await saveVipState(dir, first);
    const loaded = await loadVipState(dir);
    assert.equal(loaded.problems, []);
    const shuffled = [...records].reverse();
    const second = allocateVips(shuffled, loaded.allocations).allocations;
    assert.equal(second, first);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deleting one entry moves no other entry, and a new entry fills a free address', () => {
  const records = many(1_000);
  const before = allocateVips(records, {}).allocations;
  const removed = records.splice(500, 1)[0];
  const after = allocateVips(records, before).allocations;
  for (const [key, vip] of Object.entries(after)) assert.equal(vip, before[key], key);
  assert.is(after[`${removed.namespace}/${removed.name}/${removed.hosts[0]}`], undefined, 'released');
  records.push(se('newcomer', 'z', ['newcomer.internal']));
  const withNew = allocateVips(records, after).allocations;
  assert.equal(withNew['z/newcomer/newcomer.internal'], before[`${removed.namespace}/${removed.name}/${removed.hosts[0]}`]);
});

test('an address taken over by a spec address is reallocated, others stay', () => {
  const records = [se('a', 'n', ['a.internal']), se('b', 'n', ['b.internal'])];
  const before = allocateVips(records, {}).allocations;
  records.push(se('claims', 'n', ['c.internal'], { addresses: [before['n/a/a.internal'].v4] }));
  const after = allocateVips(records, before).allocations;
  assert.equal(after['n/b/b.internal'], before['n/b/b.internal']);
  assert.is.not(after['n/a/a.internal'].v4, before['n/a/a.internal'].v4);
  assert.is(after['n/a/a.internal'].v6, before['n/a/a.internal'].v6);
});

test('IPv4 range exhaustion is reported, IPv6 keeps going', () => {
  const { allocations, exhausted } = allocateVips(many(65_536), {});
  assert.is(exhausted.v4, 2);
  assert.is(exhausted.v6, 0);
  assert.is(Object.values(allocations).filter((v) => v.v4 === '').length, 2);
  assert.ok(!Object.values(allocations).some((v) => v.v4 === '240.240.255.255'), 'broadcast never used');
});

test('a damaged state file is a problem, not a crash, and allocation starts afresh', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-alloc-'));
  try {
    writeFileSync(vipStatePath(dir), '{"version":1,"allocations":{"x/y/z":{"v4":"nope","v6":""}}');
    const broken = await loadVipState(dir);
    assert.is(broken.problems.length, 1);
    assert.match(broken.problems[0].message, /not valid JSON/);
    writeFileSync(vipStatePath(dir), '{"version":1,"allocations":{"x/y/z":{"v4":"nope","v6":""}}}');
    const badEntry = await loadVipState(dir);
    assert.equal(badEntry.allocations, {});
    assert.is(badEntry.problems[0].field, 'allocations.x/y/z');
    await saveVipState(dir, { 'n/a/a.internal': { v4: '240.240.0.1', v6: '2001:2::1' } });
    assert.match(readFileSync(vipStatePath(dir), 'utf8'), /"version": 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the state file made in slices is byte for byte the one-piece text', async () => {
  const cases: Array<Record<string, { v4: string; v6: string }>> = [
    {},
    { 'ns/a/a.internal': { v4: '240.240.0.1', v6: '2001:2::1' } },
    // Unsorted input, an exhausted family, a key JSON must escape.
    { 'z/b/b.internal': { v4: '', v6: '2001:2::2' }, 'a/"q"/x\\y': { v4: '240.240.0.3', v6: '2001:2::3' }, 'm/c/c.internal': { v4: '240.240.0.4', v6: '2001:2::4' } },
  ];
  for (const allocations of cases) {
    for (const perSlice of [1, 2, 5_000]) {
      assert.is(await serializeVipStateInSlices(allocations, perSlice), serializeVipState(allocations), `${Object.keys(allocations).length} entries, ${perSlice} per slice`);
    }
  }
});

test('the event loop runs between the slices of a large state file', async () => {
  const allocations: Record<string, { v4: string; v6: string }> = {};
  for (let i = 0; i < 20_000; i++) allocations[`ns/e${i}/h${i}.internal`] = { v4: '', v6: `2001:2::${i.toString(16)}` };
  let turns = 0;
  const ticker = setInterval(() => turns++, 0);
  const text = await serializeVipStateInSlices(allocations, 1_000);
  clearInterval(ticker);
  assert.is(text, serializeVipState(allocations));
  assert.ok(turns >= 5, `timers ran ${turns} times while 20 slices were written`);
});

test.run();
