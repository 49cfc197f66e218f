// OffsetTable: the allocator's offset → holder store behaves as a Map on both sides of its
// dense limit (array slots below, a Map above).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OffsetTable } from '../../src/registry/offsetTable';

type Step = ['set', number, string] | ['delete', number];
const LIMIT = 8;
const cases: Array<[string, Step[], Array<[number, string | undefined]>]> = [
  ['a set offset reads back; an unset one is undefined', [['set', 1, 'a']], [[1, 'a'], [0, undefined], [2, undefined]]],
  ['a gap below the limit reads as unset', [['set', 5, 'e']], [[5, 'e'], [3, undefined], [4, undefined]]],
  ['an offset at the limit is kept (in the sparse part)', [['set', LIMIT, 'x']], [[LIMIT, 'x'], [LIMIT - 1, undefined]]],
  ['a far offset (2^48 - 1) is kept', [['set', 2 ** 48 - 1, 'far']], [[2 ** 48 - 1, 'far'], [2 ** 48 - 2, undefined]]],
  ['delete frees a dense offset', [['set', 2, 'b'], ['delete', 2]], [[2, undefined]]],
  ['delete frees a sparse offset', [['set', 100, 'c'], ['delete', 100]], [[100, undefined]]],
  ['delete of an offset never set is harmless', [['delete', 3], ['delete', 1000]], [[3, undefined], [1000, undefined]]],
  ['set again replaces the holder', [['set', 1, 'a'], ['set', 1, 'b'], ['set', 99, 'c'], ['set', 99, 'd']], [[1, 'b'], [99, 'd']]],
];

for (const [title, steps, expected] of cases) {
  test(title, () => {
    const table = new OffsetTable<string>(LIMIT);
    const model = new Map<number, string>();
    for (const step of steps) {
      if (step[0] === 'set') {
        table.set(step[1], step[2]);
        model.set(step[1], step[2]);
      } else {
        table.delete(step[1]);
        model.delete(step[1]);
      }
    }
    for (const [offset, value] of expected) {
      assert.is(table.get(offset), value, `offset ${offset}`);
      assert.is(table.has(offset), value !== undefined, `has ${offset}`);
      assert.is(model.get(offset), value, `model agrees at ${offset}`);
    }
  });
}

test.run();
