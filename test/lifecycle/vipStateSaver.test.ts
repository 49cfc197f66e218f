// VipStateSaver: saves run one after another; scheduled saves within the quiet time make one
// save into the latest directory; flush writes a scheduled save at once and waits for it; a
// failed save is a Problem naming the directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VipStateSaver } from '../../src/lifecycle';
import type { Allocations } from '../../src/registry/allocator';
import type { Problem } from '../../src/problem';

const ALLOCATIONS: Allocations = { 'ns/se/a.example': { v4: '240.240.0.1', v6: '2001:2::f0f0:1' } };

function recorder(delayMs = 0): { writes: string[]; active: number; maxActive: number; write: (dir: string) => Promise<void> } {
  const r = {
    writes: [] as string[],
    active: 0,
    maxActive: 0,
    write: async (dir: string): Promise<void> => {
      r.active++;
      r.maxActive = Math.max(r.maxActive, r.active);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      r.writes.push(dir);
      r.active--;
    },
  };
  return r;
}

test('saves asked for together run one after another, in order', async () => {
  const r = recorder(20);
  const saver = new VipStateSaver({ allocations: () => ALLOCATIONS, onError: () => assert.unreachable(), write: r.write });
  const results = await Promise.all([saver.save('/a'), saver.save('/b'), saver.save('/c')]);
  assert.equal(results, [undefined, undefined, undefined]);
  assert.equal(r.writes, ['/a', '/b', '/c']);
  assert.is(r.maxActive, 1, 'never two writes at once');
});

test('scheduled saves within the quiet time make one save into the latest directory', async () => {
  const r = recorder();
  const saver = new VipStateSaver({ allocations: () => ALLOCATIONS, onError: () => assert.unreachable(), write: r.write, delayMs: 30 });
  saver.schedule('/old');
  saver.schedule('/new');
  assert.equal(r.writes, [], 'nothing written at once');
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(r.writes, ['/new']);
});

test('flush writes a scheduled save at once and waits for it', async () => {
  const r = recorder(10);
  const saver = new VipStateSaver({ allocations: () => ALLOCATIONS, onError: () => assert.unreachable(), write: r.write, delayMs: 60_000 });
  saver.schedule('/state');
  await saver.flush();
  assert.equal(r.writes, ['/state']);
  await saver.flush();
  assert.equal(r.writes, ['/state'], 'nothing left to write');
});

test('a failed save is a Problem naming the directory; a scheduled one goes to onError', async () => {
  const errors: Problem[] = [];
  const saver = new VipStateSaver({
    allocations: () => ALLOCATIONS,
    onError: (p) => errors.push(p),
    write: async () => {
      throw new Error('read-only file system');
    },
  });
  const p = await saver.save('/ro');
  assert.is(p?.file, '/ro');
  assert.match(p!.message, /cannot save VIP allocations: read-only file system/);
  saver.schedule('/ro2');
  await saver.flush();
  assert.is(errors.length, 1);
  assert.is(errors[0].file, '/ro2');
});

test('the allocations are read when the save starts', async () => {
  let current: Allocations = {};
  const seen: Allocations[] = [];
  const saver = new VipStateSaver({ allocations: () => current, onError: () => undefined, write: async (_d, a) => void seen.push(a) });
  current = ALLOCATIONS;
  await saver.save('/s');
  assert.equal(seen, [ALLOCATIONS]);
});

test.run();
