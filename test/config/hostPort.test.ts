import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseEndpoint, parseIpPort } from '../../src/config';

const DNS = { defaultPort: 53, minPort: 1 };

// [input, expected "host|port|family" or undefined for refused]
const IP_PORT: Array<[string, string | undefined]> = [
  ['192.0.2.1', '192.0.2.1|53|4'],
  ['192.0.2.1:5353', '192.0.2.1|5353|4'],
  ['[2001:db8::1]:5353', '2001:db8::1|5353|6'],
  ['[2001:db8::1]', '2001:db8::1|53|6'],
  ['2001:db8::1', '2001:db8::1|53|6'],
  ['2001:DB8:0:0::1', '2001:db8::1|53|6'],
  ['::', '::|53|6'],
  [' 127.0.0.1:53 ', '127.0.0.1|53|4'],
  ['192.0.2.1:0', undefined],
  ['192.0.2.1:65536', undefined],
  ['192.0.2.1:', undefined],
  ['192.0.2.1:+53', undefined],
  ['[192.0.2.1]:53', '192.0.2.1|53|4'],
  ['[2001:db8::1]x', undefined],
  ['[2001:db8::1', undefined],
  ['2001:db8::1:53x', undefined],
  ['fe80::1%eth0', undefined],
  ['localhost:53', undefined],
  ['', undefined],
];
for (const [input, expected] of IP_PORT) {
  test(`ip:port ${JSON.stringify(input)} → ${expected ?? 'refused'}`, () => {
    const result = parseIpPort(input, DNS);
    if (expected === undefined) return assert.not.ok(result.ok, JSON.stringify(result));
    assert.ok(result.ok, JSON.stringify(result));
    if (result.ok) assert.is(`${result.value.host}|${result.value.port}|${result.value.family}`, expected);
  });
}

test('minPort 0 allows an ephemeral listen port', () => {
  assert.equal(parseIpPort('127.0.0.1:0', { defaultPort: 53, minPort: 0 }), { ok: true, value: { host: '127.0.0.1', port: 0, family: 4 } });
});

const ENDPOINTS: Array<[string, boolean]> = [
  ['127.0.0.1:15054', true], ['[::1]:15054', true], ['localhost:15054', true], ['0.0.0.0:0', true],
  ['127.0.0.1', false], ['localhost', false], [':15054', false], ['bad host:1', false], ['[::1]', false], ['127.0.0.1:x', false],
];
for (const [input, ok] of ENDPOINTS) {
  test(`endpoint ${JSON.stringify(input)} ${ok ? 'accepted' : 'refused'}`, () => {
    assert.is(parseEndpoint(input).ok, ok);
  });
}

test.run();
