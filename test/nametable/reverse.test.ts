import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addressOfReverseName } from '../../src/nametable';
import { reverseName } from '../../src/dns/wire';

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

test('round trip with the wire reverseName for canonical addresses', () => {
  for (const ip of ['10.0.0.1', '2001:db8::ff00:42:8329', 'fd00::1', '2001:2::1:0:0', '::1', '1::']) {
    assert.is(addressOfReverseName(reverseName(ip)), ip);
  }
});

test('IPv6 reverse names give RFC 5952 text (longest zero run, first on a tie, never a single group)', () => {
  assert.is(addressOfReverseName(reverseName('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.is(addressOfReverseName(reverseName('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
  assert.is(addressOfReverseName(reverseName('0:0:0:0:0:0:0:0')), '::');
});

test.run();
