// VipAllocator: allocateNew (the table build's path for keys that hold nothing) hands out
// exactly what allocate does, and the owner given is the one remembered.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VipAllocator } from '../../src/registry/vipAllocator';

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

test.run();
