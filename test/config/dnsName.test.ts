import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isNamespaceName, normalizeDnsName } from '../../src/config';

const NAMES: Array<[string, string | undefined]> = [
  ['example.com', 'example.com'], ['Example.COM.', 'example.com'], ['localhost', 'localhost'], ['_srv._tcp.x', '_srv._tcp.x'],
  ['a-b.c', 'a-b.c'], ['1.2.3.4', '1.2.3.4'], ['', undefined], ['.', undefined], ['a..b', undefined], ['.a', undefined],
  ['a.b..', undefined], ['*.x', undefined], ['a b', undefined], ['ü.x', undefined], ['a/b', undefined],
  ['a'.repeat(63), 'a'.repeat(63)], ['a'.repeat(64), undefined],
  [('a'.repeat(62) + '.').repeat(4) + 'a', ('a'.repeat(62) + '.').repeat(4) + 'a'], // 253 characters
  [('a'.repeat(62) + '.').repeat(4) + 'ab', undefined], // 254 characters
  [('A'.repeat(62) + '.').repeat(4) + 'a.', ('a'.repeat(62) + '.').repeat(4) + 'a'], // 253 plus the root dot
];
for (const [input, expected] of NAMES) {
  test(`dns name ${JSON.stringify(input.length > 30 ? input.slice(0, 30) + '…' : input)} → ${expected === undefined ? 'refused' : 'ok'}`, () => {
    const result = normalizeDnsName(input);
    if (expected === undefined) assert.not.ok(result.ok);
    else assert.equal(result, { ok: true, value: expected });
  });
}

const NAMESPACES: Array<[string, boolean]> = [
  ['default', true], ['vm-namespace', true], ['a', true], ['1abc', true], ['a'.repeat(63), true],
  ['', false], ['-a', false], ['a-', false], ['A', false], ['a.b', false], ['a_b', false], ['a'.repeat(64), false],
];
for (const [input, ok] of NAMESPACES) {
  test(`namespace ${JSON.stringify(input.slice(0, 20))} ${ok ? 'valid' : 'invalid'}`, () => {
    assert.is(isNamespaceName(input), ok);
  });
}

test.run();
