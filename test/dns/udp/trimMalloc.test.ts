// trimNativeHeap (native/udp_batch.c trimMalloc): after Node freed many C-heap buffers, their
// pages go back to the OS. The addon is required when CI=true (the test command builds it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadUdpBatch, trimNativeHeap } from '../../../src/dns/udp/binding';
import { collectGarbageIfLarge } from '../../../src/system/memory';

function residentKiB(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1]);
}

test('the addon is there when CI=true', () => {
  const addon = loadUdpBatch();
  if (process.env.CI === 'true') assert.ok('binding' in addon, 'error' in addon ? addon.error : '');
});

test('freed C-heap buffers go back to the OS', async () => {
  if (!('binding' in loadUdpBatch())) return;
  // 60 MiB of 4 KiB buffers, each its own malloc (allocUnsafeSlow: outside Node's pool).
  let buffers: Buffer[] = [];
  for (let i = 0; i < 15_000; i++) buffers.push(Buffer.allocUnsafeSlow(4096).fill(i & 0xff));
  const full = residentKiB();
  buffers = [];
  await collectGarbageIfLarge(0); // frees them (free(), but glibc keeps the pages)
  const freed = residentKiB();
  assert.is(trimNativeHeap(), true, 'malloc_trim released pages');
  const trimmed = residentKiB();
  assert.ok(trimmed < freed - 20 * 1024, `RSS ${full} KiB full, ${freed} KiB after free, ${trimmed} KiB after trim`);
});

test.run();
