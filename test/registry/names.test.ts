import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDns1035Label, isDns1123Label, isDns1123Subdomain, normalizeServiceEntryHost } from '../../src/registry/names';

const labels: Array<[string, string, boolean, boolean]> = [
  // name, input, DNS-1035, DNS-1123
  ['lower-case letters and digits', 'web1', true, true],
  ['inner hyphen', 'my-svc', true, true],
  ['leading digit: 1123 only', '1web', false, true],
  ['leading hyphen', '-web', false, false],
  ['trailing hyphen', 'web-', false, false],
  ['upper case', 'Web', false, false],
  ['underscore', 'my_svc', false, false],
  ['63 characters', 'a'.repeat(63), true, true],
  ['64 characters', 'a'.repeat(64), false, false],
  ['empty', '', false, false],
];
for (const [name, input, is1035, is1123] of labels) {
  test(`labels: ${name}`, () => {
    assert.is(isDns1035Label(input), is1035);
    assert.is(isDns1123Label(input), is1123);
  });
}

test('subdomains: dotted labels up to 253 characters', () => {
  assert.ok(isDns1123Subdomain('a.b-c.d1'));
  assert.not.ok(isDns1123Subdomain('a..b'));
  assert.not.ok(isDns1123Subdomain(`${'a'.repeat(63)}.`.repeat(4) + 'a'));
});

const hosts: Array<[string, string, string | RegExp]> = [
  ['lower-cased', 'API.Example.COM', 'api.example.com'],
  ['trailing dot stripped', 'api.example.com.', 'api.example.com'],
  ['wildcard leftmost label kept', '*.Example.com', '*.example.com'],
  ['lone wildcard kept', '*', '*'],
  ['single label kept', 'mongodb', 'mongodb'],
  ['partial wildcard refused', 'a*.example.com', /not the whole leftmost label/],
  ['inner wildcard refused', 'api.*.com', /not the whole leftmost label/],
  ['double wildcard refused', '*.*.com', /not the whole leftmost label/],
  ['empty refused', '', /is empty/],
  ['a lone dot refused', '.', /is empty/],
  ['underscore refused', 'a_b.com', /is not a DNS name/],
  ['empty label refused', 'a..com', /is not a DNS name/],
  ['too long refused', `${'a'.repeat(60)}.`.repeat(5) + 'com', /longer than 253/],
];
for (const [name, input, expected] of hosts) {
  test(`ServiceEntry host: ${name}`, () => {
    const result = normalizeServiceEntryHost(input);
    if (typeof expected === 'string') assert.equal(result, { ok: true, host: expected });
    else {
      assert.is(result.ok, false);
      if (!result.ok) assert.match(result.reason, expected);
    }
  });
}

test.run();
