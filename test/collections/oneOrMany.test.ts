// The one-or-many encoding: one value as itself, more as an array; adding keeps order and
// uniqueness, removing never changes a stored array in place (a caller may be iterating it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contains, countOf, firstOf, onlyOf, valuesOf, withValue, withoutValue, type OneOrMany } from '../../src/collections/oneOrMany';

test('one value is stored as itself; two become an array in order; a duplicate is kept once', () => {
  let s: OneOrMany<string> | undefined = withValue(undefined, 'a');
  assert.is(s, 'a');
  assert.is(onlyOf(s), 'a');
  s = withValue(s, 'a');
  assert.is(s, 'a');
  s = withValue(s, 'b');
  assert.equal(s, ['a', 'b']);
  assert.is(onlyOf(s), undefined);
  s = withValue(s, 'b');
  assert.equal(valuesOf(s), ['a', 'b']);
  assert.is(countOf(s), 2);
  assert.is(firstOf(s), 'a');
  assert.ok(contains(s, 'b'));
  assert.not.ok(contains(s, 'c'));
});

test('removing: back to a single value, then none; the stored array is not changed in place', () => {
  const many: OneOrMany<string> = ['a', 'b', 'c'];
  const two = withoutValue(many, 'b');
  assert.equal(many, ['a', 'b', 'c'], 'untouched');
  assert.equal(two, ['a', 'c']);
  const one = withoutValue(two, 'a');
  assert.is(one, 'c');
  assert.is(withoutValue(one, 'c'), undefined);
  assert.is(withoutValue(one, 'x'), 'c', 'a value not held changes nothing');
  assert.equal(valuesOf(undefined), []);
  assert.is(countOf(undefined), 0);
});

test.run();
