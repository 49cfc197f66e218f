import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CoarseTimer } from '../../../src/dns/forward';

function fakeClock(): { timer: CoarseTimer; at: (ms: number) => void; fired: string[]; schedule: (label: string, delay: number) => { cancel(): void } } {
  let now = 0;
  const fired: string[] = [];
  const timer = new CoarseTimer({ now: () => now, tickMs: 1_000_000 }); // sweeps driven by hand
  return {
    timer,
    fired,
    at: (ms) => {
      now = ms;
      timer.sweep();
    },
    schedule: (label, delay) => timer.schedule(delay, () => fired.push(label)),
  };
}

const rows: Array<{ name: string; run: (c: ReturnType<typeof fakeClock>) => void; fired: string[] }> = [
  {
    name: 'nothing fires before its deadline',
    run: (c) => {
      c.schedule('a', 100);
      c.at(99);
    },
    fired: [],
  },
  {
    name: 'a callback fires once at its deadline',
    run: (c) => {
      c.schedule('a', 100);
      c.at(100);
      c.at(500);
    },
    fired: ['a'],
  },
  {
    name: 'a cancelled callback never fires',
    run: (c) => {
      c.schedule('a', 100).cancel();
      c.at(200);
    },
    fired: [],
  },
  {
    name: 'different delays fire in their own time',
    run: (c) => {
      c.schedule('slow', 300);
      c.schedule('fast', 100);
      c.at(150);
      c.at(350);
    },
    fired: ['fast', 'slow'],
  },
  {
    name: 'same-delay callbacks fire in scheduling order',
    run: (c) => {
      c.schedule('first', 100);
      c.at(10);
      c.schedule('second', 100);
      c.at(105);
      c.at(115);
    },
    fired: ['first', 'second'],
  },
];

for (const row of rows) {
  test(row.name, () => {
    const c = fakeClock();
    row.run(c);
    assert.equal(c.fired, row.fired);
    c.timer.stop();
  });
}

test('pending counts live callbacks only', () => {
  const c = fakeClock();
  const h = c.schedule('a', 100);
  c.schedule('b', 100);
  assert.is(c.timer.pending, 2);
  h.cancel();
  h.cancel();
  assert.is(c.timer.pending, 1);
  c.at(100);
  assert.is(c.timer.pending, 0);
});

test('with the real clock a 50 ms deadline fires within a few ticks', async () => {
  const timer = new CoarseTimer({ tickMs: 10 });
  // The timer is unref'd (sockets keep a forwarding process alive); here a plain timeout does.
  const keepAlive = setTimeout(() => undefined, 1000);
  const started = performance.now();
  const elapsed = await new Promise<number>((resolve) => timer.schedule(50, () => resolve(performance.now() - started)));
  clearTimeout(keepAlive);
  assert.ok(elapsed >= 45 && elapsed < 150, `fired after ${elapsed} ms`);
});

test('many entries with one delay are all fired', () => {
  const c = fakeClock();
  for (let i = 0; i < 5000; i++) c.schedule(String(i), 100 + (i % 3));
  c.at(200);
  assert.is(c.fired.length, 5000);
});

test.run();
