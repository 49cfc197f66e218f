import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseBooleanWord } from '../../src/config';

const ROWS: Array<[unknown, boolean | undefined]> = [
  [true, true], [false, false], [1, true], [0, false],
  ['true', true], ['TRUE', true], ['True', true], ['t', true], ['1', true], ['yes', true], ['YES', true], [' true ', true],
  ['false', false], ['FALSE', false], ['f', false], ['0', false], ['no', false], ['No', false],
  ['', undefined], ['on', undefined], ['off', undefined], ['2', undefined], [2, undefined], ['enabled', undefined],
  [null, undefined], [undefined, undefined], [{}, undefined], [[], undefined],
];
for (const [input, expected] of ROWS) {
  test(`boolean word ${JSON.stringify(input) ?? 'undefined'} → ${String(expected)}`, () => {
    assert.is(parseBooleanWord(input), expected);
  });
}

test.run();
