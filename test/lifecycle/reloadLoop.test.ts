// ReloadLoop: one reload at a time; requests during a run make exactly one more run, under the
// latest reason; `force` reaches the next run only; the hooks bracket each burst of runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ReloadLoop } from '../../src/lifecycle';

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

test('requests during a run coalesce into one more run under the latest reason', async () => {
  const runs: string[] = [];
  const first = gate();
  const loop = new ReloadLoop<string>({
    runOnce: async (reason) => {
      runs.push(reason);
      if (runs.length === 1) await first.wait;
      return reason;
    },
  });
  const a = loop.run('start');
  assert.ok(loop.busy);
  const b = loop.run('files changed');
  const c = loop.run('SIGHUP');
  first.open();
  const results = await Promise.all([a, b, c]);
  assert.equal(runs, ['start', 'SIGHUP'], 'two runs: the first, then one under the latest reason');
  assert.equal(results, ['SIGHUP', 'SIGHUP', 'SIGHUP'], 'every caller gets the run that covered its request');
  assert.not.ok(loop.busy);
  assert.is(await loop.run('later'), 'later', 'a request after the burst runs anew');
});

test('force applies to the next run, once', async () => {
  const forced: boolean[] = [];
  const loop = new ReloadLoop<void>({ runOnce: async (_reason, force) => void forced.push(force) });
  await loop.run('SIGHUP', { force: true });
  await loop.run('files changed');
  assert.equal(forced, [true, false]);
});

test('the hooks bracket a burst of runs, also when a run fails', async () => {
  const events: string[] = [];
  const loop = new ReloadLoop<void>({
    runOnce: async (reason) => {
      events.push(reason);
      if (reason === 'bad') throw new Error('broken');
    },
    beforeRuns: () => events.push('before'),
    afterRuns: () => events.push('after'),
  });
  await loop.run('one');
  await loop.run('bad').catch(() => events.push('failed'));
  assert.equal(events, ['before', 'one', 'after', 'before', 'bad', 'after', 'failed']);
});

test.run();
