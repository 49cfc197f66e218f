// ProblemLog: a problem is logged once while it persists, again after it went away and came back;
// warnings at warn, the rest at error, each as `file:document:field: message`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProblemLog } from '../../src/lifecycle';
import type { Problem } from '../../src/problem';

function sink(): { lines: string[]; warn: (f: object, m: string) => void; error: (f: object, m: string) => void } {
  const lines: string[] = [];
  return { lines, warn: (_f, m) => lines.push(`warn ${m}`), error: (_f, m) => lines.push(`error ${m}`) };
}

const broken: Problem = { file: '/reg/a.yaml', document: 2, field: 'spec.hosts', message: 'required' };
const restart: Problem = { file: '/etc/meshdns.yaml', field: 'listen', severity: 'warning', message: 'changed, but takes effect only after a restart' };

test('each problem once while it persists; again when it comes back', () => {
  const log = sink();
  const problems = new ProblemLog(log);
  problems.report([broken, restart]);
  problems.report([broken, restart]);
  assert.equal(log.lines, ['error /reg/a.yaml:2:spec.hosts: required', 'warn /etc/meshdns.yaml:-:listen: changed, but takes effect only after a restart']);
  problems.report([restart]);
  problems.report([broken, restart]);
  assert.is(log.lines.length, 3, 'the fixed-then-broken file is reported again');
  assert.is(log.lines[2], 'error /reg/a.yaml:2:spec.hosts: required');
});

test.run();
