// Memory after a large first load (src/system/memory.ts): the start-up collection runs only above
// its threshold, frees the garbage without `--expose-gc` on the command line, and gives back the
// young generation that the load grew; after `holdYoungGeneration` the young generation stays
// at its size however many objects survive.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getHeapSpaceStatistics } from 'node:v8';
import { SettleAfterChanges, collectGarbageIfLarge, collectWhenSettled, holdYoungGeneration, releaseYoungGeneration } from '../../src/system/memory';

const MiB = 1048576;

function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? NaN;
}

/**
 * Allocates `count` objects, keeping one in `keepEvery` alive and the last `window` alive for a
 * while (survivors are what grows the young generation).
 */
function churn(count: number, keepEvery: number, window = 100_000): unknown[] {
  const kept: unknown[] = [];
  let recent: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const o = { i, text: `garbage-${i}`, list: [i, i + 1, i + 2] };
    recent.push(o);
    if (i % keepEvery === 0) kept.push(o);
    if (recent.length > window) recent = [];
  }
  return kept;
}

test('below the threshold nothing is collected', async () => {
  assert.is(await collectGarbageIfLarge(Number.MAX_SAFE_INTEGER), false);
});

test('above the threshold a low-memory collection frees the garbage and shrinks the young generation', async () => {
  assert.is((globalThis as { gc?: unknown }).gc, undefined, 'runs without --expose-gc');
  churn(2_000_000, 1);
  const grown = youngGenerationBytes();
  assert.ok(grown >= 8 * MiB, `the load grew the young generation (${grown / MiB} MiB)`);
  const before = process.memoryUsage().heapUsed;
  assert.is(await collectGarbageIfLarge(0), 'low-memory');
  const after = process.memoryUsage().heapUsed;
  assert.ok(after < before - 10 * MiB, `heap in use ${Math.round(before / MiB)} → ${Math.round(after / MiB)} MiB`);
  assert.ok(youngGenerationBytes() <= grown / 4, `young generation ${grown / MiB} → ${youngGenerationBytes() / MiB} MiB`);
});

test('after holdYoungGeneration, survivors no longer grow the young generation', () => {
  holdYoungGeneration();
  churn(1_000_000, Infinity, 10); // scavenges without survivors: both semi-spaces committed again
  const held = youngGenerationBytes();
  const kept = churn(2_000_000, 1);
  assert.ok(kept.length > 0);
  assert.is(youngGenerationBytes(), held, `young generation ${held / MiB} → ${youngGenerationBytes() / MiB} MiB`);
});

test('after releaseYoungGeneration (a reload), survivors grow it again', () => {
  const held = youngGenerationBytes();
  releaseYoungGeneration();
  const kept = churn(2_000_000, 1);
  assert.ok(kept.length > 0);
  assert.ok(youngGenerationBytes() > held, `young generation ${held / MiB} → ${youngGenerationBytes() / MiB} MiB`);
  holdYoungGeneration();
});

test('collectWhenSettled: after the delay, a small heap gives back the young generation the start grew (issue 19)', async () => {
  releaseYoungGeneration();
  churn(2_000_000, 1); // what a start does: survivors grow the young generation
  holdYoungGeneration();
  const grown = youngGenerationBytes();
  assert.ok(grown >= 8 * MiB, `grown to ${grown / MiB} MiB`);
  let after = -1;
  const keepAlive = setTimeout(() => undefined, 10_000); // the collection's own timer does not hold the process
  await new Promise<void>((resolve) => collectWhenSettled(50, Number.MAX_SAFE_INTEGER, () => ((after = youngGenerationBytes()), resolve())));
  clearTimeout(keepAlive);
  assert.ok(after >= 0 && after <= grown / 4, `young generation ${grown / MiB} → ${after / MiB} MiB`);
});

test('collectWhenSettled: nothing for a heap above its bound, nothing once cancelled', async () => {
  let ran = 0;
  collectWhenSettled(10, 0, () => ran++);
  collectWhenSettled(10, Number.MAX_SAFE_INTEGER, () => ran++)();
  await new Promise((r) => setTimeout(r, 200));
  assert.is(ran, 0);
});

test('SettleAfterChanges: once changes stop, garbage that grew RSS is collected (once per quiet period); not for a small heap or small growth (issue 15)', async () => {
  const runs: number[] = [];
  const settle = new SettleAfterChanges({ quietMs: 100, minHeapBytes: 0, growthBytes: 8 * MiB, afterwards: (ms) => runs.push(ms) });
  // Garbage that outlives the young generation, as a push's decode and rebuild does.
  let kept: unknown[] | undefined = churn(600_000, 2);
  kept = undefined;
  assert.is(kept, undefined);
  const grown = process.memoryUsage.rss();
  settle.changed();
  await new Promise((r) => setTimeout(r, 50));
  settle.changed(); // a second change restarts the quiet period: one collection for both
  await new Promise((r) => setTimeout(r, 60));
  assert.is(runs.length, 0, 'not while changes go on');
  await new Promise((r) => setTimeout(r, 400));
  assert.is(runs.length, 1, 'one collection once quiet');
  assert.ok(process.memoryUsage.rss() < grown, `RSS ${(process.memoryUsage.rss() / MiB).toFixed(0)} MiB < ${(grown / MiB).toFixed(0)} MiB`);
  settle.changed();
  await new Promise((r) => setTimeout(r, 400));
  assert.is(runs.length, 1, 'RSS did not grow since: no second collection');

  const small = new SettleAfterChanges({ quietMs: 10, minHeapBytes: Number.MAX_SAFE_INTEGER, growthBytes: 0, afterwards: () => runs.push(-1) });
  small.changed();
  const cancelled = new SettleAfterChanges({ quietMs: 10, minHeapBytes: 0, growthBytes: 0, afterwards: () => runs.push(-2) });
  cancelled.changed();
  cancelled.cancel();
  await new Promise((r) => setTimeout(r, 200));
  assert.is(runs.length, 1, 'a small heap and a cancelled settle do nothing');
});

test.run();
