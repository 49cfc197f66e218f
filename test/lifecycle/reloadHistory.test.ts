// ReloadHistory: counts reloads and those with errors (warnings are not errors), remembers the
// file of the last error, and a silent re-check neither counts nor replaces the last reload —
// unless there is none yet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ReloadHistory, type ReloadSummary } from '../../src/lifecycle';
import type { Problem } from '../../src/problem';

const summary = (problems: Problem[]): ReloadSummary => ({ names: 1, added: 0, removed: 0, changed: 0, problems, ms: 1 });
const warning: Problem = { file: '/etc/meshdns.yaml', field: 'listen', severity: 'warning', message: 'restart' };
const error: Problem = { file: '/reg/a.yaml', message: 'broken' };

test('counts, errors and the last error file', () => {
  const h = new ReloadHistory();
  h.count([warning], false);
  assert.equal([h.total, h.withErrors, h.lastErrorFile], [1, 0, undefined], 'a warning is not an error');
  h.count([warning, error], false);
  assert.equal([h.total, h.withErrors, h.lastErrorFile], [2, 1, '/reg/a.yaml']);
  h.count([], false);
  assert.equal([h.total, h.withErrors, h.lastErrorFile], [3, 1, undefined], 'fixed: no last error file');
  h.count([error], true);
  assert.is(h.total, 3, 'a silent re-check is not counted');
});

test('a silent re-check is the last reload only when there is none', () => {
  const h = new ReloadHistory();
  const first = summary([]);
  h.remember(first, true);
  assert.is(h.last?.summary, first);
  const second = summary([error]);
  h.remember(second, false);
  h.remember(summary([]), true);
  assert.is(h.last?.summary, second);
});

test.run();
