// The full GC after a large first load (src/system/memory.ts): it runs only above the threshold,
// and when it runs the garbage is gone (heap in use drops), without `--expose-gc` on the command line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectGarbageIfLarge } from '../../src/system/memory';

function makeGarbage(): void {
  let keep: unknown[] = [];
  for (let i = 0; i < 200_000; i++) keep.push({ i, text: `garbage-${i}`, list: [i, i + 1, i + 2] });
  keep = [];
  void keep;
}

test('below the threshold nothing is collected', async () => {
  assert.is(await collectGarbageIfLarge(Number.MAX_SAFE_INTEGER), false);
});

test('above the threshold a full collection runs and frees the garbage', async () => {
  assert.is((globalThis as { gc?: unknown }).gc, undefined, 'runs without --expose-gc');
  makeGarbage();
  const before = process.memoryUsage().heapUsed;
  assert.is(await collectGarbageIfLarge(0), 'low-memory');
  const after = process.memoryUsage().heapUsed;
  assert.ok(after < before - 10 * 1048576, `heap in use ${Math.round(before / 1048576)} → ${Math.round(after / 1048576)} MiB`);
});

test.run();
