// CompactMultiMap: one value stored as itself, several as a list; `add` says whether the key is new
// (the table build relies on it: from empty, a VIP key's first wanter is its winner).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CompactMultiMap } from '../../src/collections/compactMultiMap';

type Step = ['add', string, number, boolean] | ['remove', string, number];
const cases: Array<[string, Step[], Record<string, number[]>, string[]]> = [
  ['the first value of a key is new; its value is stored as itself', [['add', 'a', 1, true]], { a: [1] }, ['a']],
  ['a second value of a key is not new; both are kept in order', [['add', 'a', 1, true], ['add', 'a', 2, false]], { a: [1, 2] }, ['a']],
  ['the same value twice is kept once', [['add', 'a', 1, true], ['add', 'a', 1, false]], { a: [1] }, ['a']],
  ['a third value joins the list, once', [['add', 'a', 1, true], ['add', 'a', 2, false], ['add', 'a', 3, false], ['add', 'a', 2, false]], { a: [1, 2, 3] }, ['a']],
  ['removing the only value removes the key', [['add', 'a', 1, true], ['remove', 'a', 1]], { a: [] }, []],
  ['removing one of two leaves the other', [['add', 'a', 1, true], ['add', 'a', 2, false], ['remove', 'a', 1]], { a: [2] }, ['a']],
  ['a key removed and added again is new again, and last in key order', [['add', 'a', 1, true], ['add', 'b', 2, true], ['remove', 'a', 1], ['add', 'a', 3, true]], { a: [3], b: [2] }, ['b', 'a']],
  ['removing a value a key does not hold changes nothing', [['add', 'a', 1, true], ['remove', 'a', 9], ['remove', 'z', 1]], { a: [1], z: [] }, ['a']],
];

for (const [title, steps, expected, keys] of cases) {
  test(title, () => {
    const map = new CompactMultiMap<number>();
    for (const step of steps) {
      if (step[0] === 'add') assert.is(map.add(step[1], step[2]), step[3], `add ${step[1]} ${step[2]}`);
      else map.remove(step[1], step[2]);
    }
    for (const [key, values] of Object.entries(expected)) {
      assert.equal([...map.get(key)], values, `values of ${key}`);
      const raw = map.raw(key);
      if (values.length === 1) assert.is(raw, values[0], 'one value is stored as itself');
      if (values.length === 0) assert.is(raw, undefined);
    }
    assert.equal([...map.keys()], keys);
    const walked: string[] = [];
    map.forEachStored((stored, key) => {
      walked.push(key);
      assert.is(stored, map.raw(key), 'forEachStored hands out the stored form');
    });
    assert.equal(walked, keys, 'forEachStored walks the keys in key order');
  });
}

test.run();
