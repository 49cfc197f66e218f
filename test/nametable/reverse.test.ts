import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addressOfReverseName, compressIpv6, reversePointerName } from '../../src/nametable';

const rows: Array<[string, string | undefined]> = [
  ['1.0.240.240.in-addr.arpa', '240.240.0.1'],
  ['1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa', '2001:2::1'],
  ['0.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa', '2001:2::1:0'],
  ['01.0.240.240.in-addr.arpa', undefined],
  ['256.0.240.240.in-addr.arpa', undefined],
  ['0.240.240.in-addr.arpa', undefined],
  ['1.0.0.2.ip6.arpa', undefined],
  ['www.example.com', undefined],
];
for (const [name, expected] of rows) test(`reverse name ${name}`, () => assert.is(addressOfReverseName(name), expected));

test('round trip with reversePointerName for canonical addresses', () => {
  for (const ip of ['10.0.0.1', '2001:db8::ff00:42:8329', 'fd00::1', '2001:2::1:0:0', '::1', '1::']) {
    assert.is(addressOfReverseName(reversePointerName(ip)!), ip);
  }
});

test('compressIpv6 follows RFC 5952 (longest zero run, first on a tie, never a single group)', () => {
  assert.is(compressIpv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1');
  assert.is(compressIpv6([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]), '2001:db8:0:1:1:1:1:1');
  assert.is(compressIpv6([0, 0, 0, 0, 0, 0, 0, 0]), '::');
});

test.run();
