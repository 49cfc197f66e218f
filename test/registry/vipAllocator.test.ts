// VipAllocator: allocateNew (the table build's path for keys that hold nothing) hands out
// exactly what allocate does, and the owner given is the one remembered.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { SlotAllocator, type VipSlot } from '../../src/registry/vipAllocator';
import { VipAllocator } from '../support/vipOracle';

type Op = ['allocate' | 'allocateNew', string] | ['claim', string] | ['release', string];
const scenarios: Array<[string, Op[]]> = [
  ['sequential keys', [['allocate', 'a'], ['allocate', 'b'], ['allocate', 'c']]],
  ['a claimed address is skipped', [['claim', '240.240.0.2'], ['allocate', 'a'], ['allocate', 'b']]],
  ['a released address is handed out next', [['allocate', 'a'], ['allocate', 'b'], ['release', 'a'], ['allocate', 'c']]],
];

function run(ops: Op[], fresh: boolean): Record<string, { v4: string; v6: string }> {
  const allocator = new VipAllocator<string>();
  for (const [op, arg] of ops) {
    if (op === 'claim') allocator.claim([arg]);
    else if (op === 'release') allocator.release(arg);
    else if (fresh) allocator.allocateNew(arg, `owner of ${arg}`);
    else allocator.allocate(arg, `owner of ${arg}`);
  }
  return allocator.toRecord();
}

for (const [title, ops] of scenarios) {
  test(`allocateNew hands out what allocate does: ${title}`, () => {
    assert.equal(run(ops, true), run(ops, false));
  });
}

test('the owner is remembered with the VIP and forgotten with it', () => {
  const allocator = new VipAllocator<string>();
  const vip = allocator.allocateNew('a', 'unit-a');
  assert.equal({ v4: vip.v4, v6: vip.v6 }, { v4: '240.240.0.1', v6: '2001:2::1' });
  assert.is(allocator.ownerOf('a'), 'unit-a');
  assert.is(allocator.ownerOf('b'), undefined);
  allocator.release('a');
  assert.is(allocator.ownerOf('a'), undefined);
});

test('toRecord gives plain pairs (the state file is their JSON)', () => {
  const allocator = new VipAllocator<string>();
  allocator.allocateNew('a', 'unit-a');
  assert.is(JSON.stringify(allocator.toRecord()), '{"a":{"v4":"240.240.0.1","v6":"2001:2::1"}}');
});

test('a hint still free is honoured; a taken one falls back to the lowest free address', () => {
  const allocator = new VipAllocator<string>();
  allocator.takeHint('a', { v4: '240.240.0.9', v6: '2001:2::9' });
  allocator.takeHint('b', { v4: '240.240.0.9', v6: '2001:2::a' }); // v4 already taken by a's hint
  assert.equal({ ...allocator.allocate('a', 'A') }, { v4: '240.240.0.9', v6: '2001:2::9', owner: 'A' });
  const b = allocator.allocate('b', 'B');
  assert.equal({ v4: b.v4, v6: b.v6 }, { v4: '240.240.0.1', v6: '2001:2::a' });
});

test('release frees both offsets: they are handed out again, lowest first', () => {
  const allocator = new VipAllocator<string>();
  allocator.allocateNew('a');
  allocator.allocateNew('b');
  allocator.release('a');
  const c = allocator.allocateNew('c');
  assert.equal({ v4: c.v4, v6: c.v6 }, { v4: '240.240.0.1', v6: '2001:2::1' });
  assert.is(allocator.get('a'), undefined);
});

test('releasing a key left without an IPv4 VIP (range full) lowers the exhausted count', () => {
  const allocator = new VipAllocator<string>();
  allocator.claim(Array.from({ length: 0xfffe }, (_, i) => `240.240.${(i + 1) >> 8}.${(i + 1) & 255}`));
  const vip = allocator.allocateNew('a');
  assert.is(vip.v4, '');
  assert.is(allocator.exhausted.v4, 1);
  allocator.release('a');
  assert.is(allocator.exhausted.v4, 0);
  assert.is(allocator.exhausted.v6, 0);
});

// SlotAllocator (the table builder's: VIPs written onto per-key objects) follows the same rules
// as the string-keyed VipAllocator: after any sequence of claims, hints, allocations and
// releases both hold the same VIPs, displace the same keys and count the same exhaustion.
const keys = ['a', 'b', 'c', 'd'];
const opArb = fc.oneof(
  fc.tuple(fc.constant('claim' as const), fc.constantFrom('240.240.0.1', '240.240.0.2', '240.240.0.3', '2001:2::1', '2001:2::2', '10.0.0.1')),
  fc.tuple(fc.constant('unclaim' as const), fc.constantFrom('240.240.0.1', '240.240.0.2', '2001:2::1')),
  fc.tuple(fc.constant('hint' as const), fc.constantFrom(...keys), fc.constantFrom('240.240.0.1', '240.240.0.3', '240.240.0.9'), fc.constantFrom('2001:2::1', '2001:2::3', '2001:2::9')),
  fc.tuple(fc.constant('allocate' as const), fc.constantFrom(...keys)),
  fc.tuple(fc.constant('release' as const), fc.constantFrom(...keys)),
);

test('SlotAllocator holds what VipAllocator holds after any sequence of operations', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
      const byKey = new VipAllocator<string>();
      const bySlot = new SlotAllocator<VipSlot & { key: string }>();
      const slots = new Map(keys.map((k) => [k, { key: k, v4: undefined as string | undefined, v6: '' }]));
      for (const op of ops) {
        if (op[0] === 'claim') {
          assert.equal(bySlot.claim([op[1]]).map((s) => s.key), byKey.claim([op[1]]));
        } else if (op[0] === 'unclaim') {
          byKey.unclaim([op[1]]);
          bySlot.unclaim([op[1]]);
        } else if (op[0] === 'hint') {
          byKey.takeHint(op[1], { v4: op[2], v6: op[3] });
          bySlot.takeHint(slots.get(op[1])!, { v4: op[2], v6: op[3] });
        } else if (op[0] === 'allocate') {
          const vip = byKey.allocate(op[1]);
          const slot = slots.get(op[1])!;
          bySlot.allocate(slot);
          assert.equal({ v4: slot.v4, v6: slot.v6 }, { v4: vip.v4, v6: vip.v6 });
        } else {
          const a = byKey.release(op[1]);
          const b = bySlot.release(slots.get(op[1])!);
          assert.equal(b, a === undefined ? undefined : { v4: a.v4, v6: a.v6 });
        }
        for (const k of keys) {
          const held = byKey.get(k);
          const slot = slots.get(k)!;
          assert.is(bySlot.holds(slot), held !== undefined);
          if (held !== undefined) assert.equal({ v4: slot.v4, v6: slot.v6 }, { v4: held.v4, v6: held.v6 });
        }
        assert.equal(bySlot.exhausted, byKey.exhausted);
      }
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );
});

test('SlotAllocator.allocateNew hands out what allocate does, and release clears the slot', () => {
  const allocator = new SlotAllocator<VipSlot>();
  const a: VipSlot = { v4: undefined, v6: '' };
  const b: VipSlot = { v4: undefined, v6: '' };
  allocator.allocateNew(a);
  allocator.allocate(b);
  assert.equal({ ...a }, { v4: '240.240.0.1', v6: '2001:2::1' });
  assert.equal({ ...b }, { v4: '240.240.0.2', v6: '2001:2::2' });
  assert.equal(allocator.release(a), { v4: '240.240.0.1', v6: '2001:2::1' });
  assert.equal({ ...a }, { v4: undefined, v6: '' });
  assert.is(allocator.holds(a), false);
  assert.is(allocator.release(a), undefined);
  allocator.allocate(a);
  assert.equal({ ...a }, { v4: '240.240.0.1', v6: '2001:2::1' }, 'a released address is handed out again');
});

test.run();
