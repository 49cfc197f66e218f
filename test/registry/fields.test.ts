// detachedText and exactList only change how a value is stored, never the value.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detachedText, exactList } from '../../src/registry/fields';

const yaml = 'spec:\n  hosts:\n    - svc-1-h0.ext-1.example.com\n';
const texts: Array<[string, string]> = [
  ['a short text', 'ns-1'],
  ['a host sliced out of a document', yaml.slice(yaml.indexOf('svc-'), yaml.lastIndexOf('\n'))],
  ['a timestamp', '2026-01-01T00:00:00Z'],
  ['text with quotes, backslashes and non-ASCII', 'a "b" \\ c — ünïcødé ✓ 😀'],
  ['the empty text', ''],
];
for (const [title, text] of texts) {
  test(`detachedText keeps the characters: ${title}`, () => assert.is(detachedText(text), text));
}

const lists: Array<[string, unknown[]]> = [
  ['an empty list', []],
  ['one element', ['a']],
  ['several, in order', [3, 1, 2]],
];
for (const [title, list] of lists) {
  test(`exactList keeps the elements: ${title}`, () => {
    const grown: unknown[] = [];
    for (const x of list) grown.push(x);
    const exact = exactList(grown);
    assert.equal(exact, list);
    grown.push('later');
    assert.equal(exact, list, 'a copy: later pushes to the original do not show');
  });
}

test.run();
