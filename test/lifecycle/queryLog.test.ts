// QueryLog: counts every query unless metrics are off; logs a line per query only while the level
// is debug; SIGUSR2 toggles between the configured level and debug.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pino from 'pino';
import { Writable } from 'node:stream';
import { QueryLog } from '../../src/lifecycle';
import type { QueryOutcome } from '../../src/dns/pipeline';

function logger(level: string): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level }, stream), lines };
}

const outcome = { transport: 'udp', answeredBy: 'mesh', reply: Buffer.from([0, 0, 0x81, 0x80]) } as unknown as QueryOutcome;

test('counted unless metrics are off; no per-query line at info', () => {
  const { log, lines } = logger('info');
  let counted = 0;
  const q = new QueryLog(log, () => counted++);
  q.configure(true);
  q.observe(outcome);
  assert.is(counted, 1);
  q.configure(false);
  q.observe(outcome);
  assert.is(counted, 1, 'metrics off: not counted');
  assert.not.ok(q.countingQueries);
  assert.equal(lines.filter((l) => l.msg === 'query'), []);
});

test('SIGUSR2 switches per-query lines on and back to the configured level', async () => {
  const { log, lines } = logger('warn');
  const q = new QueryLog(log, () => undefined);
  q.configure(true);
  assert.not.ok(q.debugging);
  q.toggleDebug('warn');
  assert.ok(q.debugging);
  assert.is(log.level, 'debug');
  q.observe(outcome);
  assert.is(lines.filter((l) => l.msg === 'query').length, 1);
  q.toggleDebug('warn');
  assert.is(log.level, 'warn');
  assert.not.ok(q.debugging);
  q.observe(outcome);
  assert.is(lines.filter((l) => l.msg === 'query').length, 1, 'no line once back at warn');
  q.toggleDebug('debug');
  q.toggleDebug('debug');
  assert.is(log.level, 'info', 'configured debug: the toggle goes to info');
});

test.run();
