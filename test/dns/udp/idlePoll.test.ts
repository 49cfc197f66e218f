// skipIdleTimePoll (native/udp_batch.c, issue 19): libuv stops timing the loop's idle part, which
// is what made it poll twice per wake-up (once without waiting, once waiting). Proven on the
// metric itself: after the call, an idle loop no longer accumulates idle time. The syscalls saved
// per query are counted by `npm run bench` (bench/RESULTS.md).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { performance } from 'node:perf_hooks';
import { loadUdpBatch } from '../../../src/dns/udp/binding';

const idleMsOver = async (ms: number): Promise<number> => {
  const before = performance.eventLoopUtilization();
  await new Promise((r) => setTimeout(r, ms));
  return performance.eventLoopUtilization(before).idle;
};

test('after skipIdleTimePoll the loop no longer measures idle time (no non-waiting poll first)', async () => {
  const addon = loadUdpBatch();
  if (!('binding' in addon)) {
    assert.ok(process.env.CI !== 'true', `the addon is required when CI=true: ${addon.error}`);
    return;
  }
  const idleBefore = await idleMsOver(200);
  assert.ok(idleBefore > 100, `libuv measured idle time before (${idleBefore.toFixed(1)} ms of 200)`);
  assert.is(addon.binding.skipIdleTimePoll(), true, 'this libuv is one the addon knows');
  const idleAfter = await idleMsOver(200);
  assert.ok(idleAfter < 5, `no idle time measured after (${idleAfter.toFixed(1)} ms)`);
});

test.run();
