// sd_notify (docs/ARCHITECTURE.md §5): message formatting, watchdog interval per sd_watchdog_enabled(3),
// ordering of queued messages, and the no-op path without $NOTIFY_SOCKET. The real thing —
// systemd receiving these — is proven in systemd.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SystemdNotifier,
  formatStatus,
  notifyArgv,
  notifyAssignments,
  oneLine,
  spawnSystemdNotify,
  watchdogIntervalMs,
  type NotifyFields,
} from '../../src/system/sdnotify';

const assignmentRows: Array<[string, NotifyFields, string[]]> = [
  ['ready alone', { ready: true }, ['READY=1']],
  ['ready with status', { ready: true, status: 'serving 3 names' }, ['READY=1', 'STATUS=serving 3 names']],
  ['reloading carries MONOTONIC_USEC', { reloading: true, monotonicUsec: 123456789n }, ['RELOADING=1', 'MONOTONIC_USEC=123456789']],
  ['stopping', { stopping: true }, ['STOPPING=1']],
  ['watchdog ping', { watchdog: true }, ['WATCHDOG=1']],
  ['false flags are not sent', { ready: false, watchdog: false, stopping: false, reloading: false }, []],
  ['status is flattened to one line', { status: 'a\nb\tc  d' }, ['STATUS=a b c d']],
  ['empty status is still sent (clears it)', { status: '' }, ['STATUS=']],
];
for (const [name, fields, expected] of assignmentRows) {
  test(`assignments: ${name}`, () => assert.equal(notifyAssignments(fields), expected));
}

test('argv names the main pid first, so systemd attributes the message to it', () => {
  assert.equal(notifyArgv({ ready: true }, 4242), ['--pid=4242', 'READY=1']);
});

test('oneLine cuts long text with an ellipsis', () => {
  const cut = oneLine('x'.repeat(500), 50);
  assert.is(cut.length, 50);
  assert.ok(cut.endsWith('…'));
});

const watchdogRows: Array<[string, NodeJS.ProcessEnv, number | undefined]> = [
  ['no WATCHDOG_USEC: no watchdog', {}, undefined],
  ['half of WATCHDOG_USEC, in ms', { WATCHDOG_USEC: '10000000' }, 5000],
  ['WATCHDOG_PID naming us: watchdog on', { WATCHDOG_USEC: '4000000', WATCHDOG_PID: '77' }, 2000],
  ['WATCHDOG_PID naming another process: not ours', { WATCHDOG_USEC: '4000000', WATCHDOG_PID: '78' }, undefined],
  ['garbage WATCHDOG_USEC: off', { WATCHDOG_USEC: '10s' }, undefined],
  ['zero WATCHDOG_USEC: off', { WATCHDOG_USEC: '0' }, undefined],
  ['garbage WATCHDOG_PID: off', { WATCHDOG_USEC: '4000000', WATCHDOG_PID: 'x' }, undefined],
  ['tiny WATCHDOG_USEC still pings (>= 1 ms)', { WATCHDOG_USEC: '1' }, 1],
];
for (const [name, env, expected] of watchdogRows) {
  test(`watchdog: ${name}`, () => assert.is(watchdogIntervalMs(env, 77), expected));
}

const statusRows: Array<[string, Parameters<typeof formatStatus>[0], string]> = [
  ['before the first load', { names: 0, upstreams: [] }, 'serving 0 names; no upstreams; not loaded yet'],
  [
    'after a reload',
    { names: 1, upstreams: ['127.0.0.2:53', '[::1]:53'], lastReload: { at: new Date(2024, 0, 1, 9, 5, 7), added: 1, removed: 2, changed: 3, errors: 1 } },
    'serving 1 name; upstreams 127.0.0.2:53 [::1]:53; last reload 09:05:07 +1 -2 ~3, 1 error',
  ],
  [
    'istiod live: the last push time, before the upstreams',
    { names: 3, upstreams: ['10.0.0.2:53'], istiod: { state: 'live', at: new Date(2024, 0, 1, 9, 4, 59) }, lastReload: { at: new Date(2024, 0, 1, 9, 5, 0), added: 3, removed: 0, changed: 0, errors: 0 } },
    'serving 3 names; istiod live, last push 09:04:59; upstreams 10.0.0.2:53; last reload 09:05:00 +3 -0 ~0, 0 errors',
  ],
  ['istiod stale', { names: 3, upstreams: [], istiod: { state: 'stale', at: new Date(2024, 0, 1, 23, 0, 1) } }, 'serving 3 names; istiod stale since 23:00:01; no upstreams; not loaded yet'],
  ['istiod never received', { names: 0, upstreams: [], istiod: { state: 'never' } }, 'serving 0 names; istiod never received; no upstreams; not loaded yet'],
  [
    'istiod survives the 200-character cut (a long upstream list is what is cut)',
    { names: 9, upstreams: Array.from({ length: 20 }, (_, i) => `10.0.0.${i}:53`), istiod: { state: 'live', at: new Date(2024, 0, 1, 1, 2, 3) } },
    `serving 9 names; istiod live, last push 01:02:03; upstreams ${Array.from({ length: 20 }, (_, i) => `10.0.0.${i}:53`).join(' ')}; not loaded yet`.slice(0, 199) + '…',
  ],
];
for (const [name, summary, expected] of statusRows) {
  test(`status line: ${name}`, () => assert.is(formatStatus(summary), expected));
}

test('no $NOTIFY_SOCKET: every call is a no-op and no watchdog starts', async () => {
  const calls: string[][] = [];
  const n = new SystemdNotifier({ env: { WATCHDOG_USEC: '1000000' }, pid: 1, run: async (argv) => (calls.push(argv), undefined) });
  assert.is(n.enabled, false);
  await n.notify({ ready: true, status: 'x' });
  assert.is(n.startWatchdog(), false);
  assert.equal(calls, []);
});

test('messages are sent one at a time, in the order asked, even when a send is slow', async () => {
  const log: string[] = [];
  let active = 0;
  const n = new SystemdNotifier({
    env: { NOTIFY_SOCKET: '/run/x' },
    pid: 9,
    run: async (argv) => {
      active++;
      assert.is(active, 1, 'two sends overlapped');
      await new Promise((r) => setTimeout(r, argv.includes('RELOADING=1') ? 30 : 1));
      log.push(argv.slice(1).join(' '));
      active--;
      return undefined;
    },
  });
  await Promise.all([n.notify({ reloading: true }), n.notify({ ready: true }), n.notify({ stopping: true })]);
  assert.equal(log, ['RELOADING=1', 'READY=1', 'STOPPING=1']);
});

test('a failing sender is reported once per distinct error, and later messages still go out', async () => {
  const errors: string[] = [];
  let sent = 0;
  const n = new SystemdNotifier({
    env: { NOTIFY_SOCKET: '/run/x' },
    pid: 9,
    onError: (m) => errors.push(m),
    run: async () => (++sent <= 3 ? 'boom' : undefined),
  });
  for (let i = 0; i < 4; i++) await n.notify({ watchdog: true });
  assert.is(sent, 4);
  assert.equal(errors, ['boom']);
});

test('watchdog pings from a timer at half the interval, and stop ends them', async () => {
  const pings: number[] = [];
  const n = new SystemdNotifier({
    env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '40000' },
    pid: 9,
    run: async () => (pings.push(Date.now()), undefined),
  });
  assert.is(n.watchdogIntervalMs, 20);
  assert.ok(n.startWatchdog());
  await new Promise((r) => setTimeout(r, 130));
  n.stopWatchdog();
  const count = pings.length;
  assert.ok(count >= 4 && count <= 8, `pings: ${count}`);
  await new Promise((r) => setTimeout(r, 60));
  assert.is(pings.length, count, 'pinged after stop');
});

test('a blocked event loop sends no watchdog pings', async () => {
  const pings: number[] = [];
  const n = new SystemdNotifier({
    env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '20000' },
    pid: 9,
    run: async () => (pings.push(Date.now()), undefined),
  });
  n.startWatchdog();
  await new Promise((r) => setTimeout(r, 5));
  const before = pings.length;
  const until = Date.now() + 150;
  while (Date.now() < until) {
    // busy: the loop is blocked
  }
  assert.is(pings.length, before);
  n.stopWatchdog();
});

test('the real runner passes argv and env to the systemd-notify on PATH', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-sdnotify-'));
  const out = join(dir, 'out');
  writeFileSync(join(dir, 'systemd-notify'), `#!/bin/sh\necho "$NOTIFY_SOCKET $*" > ${out}\n`);
  chmodSync(join(dir, 'systemd-notify'), 0o755);
  const error = await spawnSystemdNotify(['--pid=5', 'READY=1'], { PATH: dir, NOTIFY_SOCKET: '/run/s' });
  assert.is(error, undefined);
  assert.is(readFileSync(out, 'utf8'), '/run/s --pid=5 READY=1\n');
});

test('the real runner turns a missing binary and a failing exit into error texts', async () => {
  const missing = await spawnSystemdNotify(['READY=1'], { PATH: '/nonexistent' });
  assert.match(missing ?? '', /cannot run systemd-notify/);
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-sdnotify-'));
  writeFileSync(join(dir, 'systemd-notify'), '#!/bin/sh\necho "No such file" >&2\nexit 1\n');
  chmodSync(join(dir, 'systemd-notify'), 0o755);
  const failed = await spawnSystemdNotify(['READY=1'], { PATH: dir });
  assert.match(failed ?? '', /exited 1: No such file/);
});

test.run();
