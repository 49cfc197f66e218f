import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDuration } from '../../src/config';

// [input, milliseconds or undefined for refused]
const ROWS: Array<[unknown, number | undefined]> = [
  ['2s', 2000], ['500ms', 500], ['1.5s', 1500], ['.5s', 500], ['1m', 60_000], ['1m30s', 90_000], ['1h', 3_600_000],
  ['2', 2000], ['0.25', 250], [' 2s ', 2000], [2, 2000], [0.001, 1], [1.5, 1500],
  ['0s', undefined], [0, undefined], [-1, undefined], ['-1s', undefined], ['2 s', undefined], ['2sec', undefined],
  ['s', undefined], ['', undefined], ['1.s', undefined], ['2s3', undefined], [true, undefined], [null, undefined],
  [{}, undefined], [Infinity, undefined], [NaN, undefined], ['0.0001s', undefined], ['25d', undefined], [3_000_000, undefined],
];
for (const [input, expected] of ROWS) {
  test(`duration ${JSON.stringify(input) ?? String(input)} → ${expected ?? 'refused'}`, () => {
    const result = parseDuration(input);
    if (expected === undefined) assert.not.ok(result.ok);
    else assert.equal(result, { ok: true, value: expected });
  });
}

test.run();
