import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalAddress, isFromUpstream } from '../../../src/dns/udp/address';
import { formatHostPort } from '../../../src/config/hostPort';

const rows: Array<{ name: string; address: string; port: number; upstream: { host: string; port: number; family: 4 | 6 }; from: boolean }> = [
  { name: 'same IPv4 and port', address: '127.0.0.1', port: 53, upstream: { host: '127.0.0.1', port: 53, family: 4 }, from: true },
  { name: 'another port', address: '127.0.0.1', port: 5353, upstream: { host: '127.0.0.1', port: 53, family: 4 }, from: false },
  { name: 'another IPv4', address: '127.0.0.2', port: 53, upstream: { host: '127.0.0.1', port: 53, family: 4 }, from: false },
  { name: 'IPv6 spelled differently', address: '::1', port: 53, upstream: { host: '0:0:0:0:0:0:0:1', port: 53, family: 6 }, from: true },
  { name: 'IPv6 upper case', address: '2001:db8::1', port: 53, upstream: { host: '2001:DB8::1', port: 53, family: 6 }, from: true },
  { name: 'another IPv6', address: '2001:db8::2', port: 53, upstream: { host: '2001:db8::1', port: 53, family: 6 }, from: false },
];
for (const row of rows) test(`isFromUpstream: ${row.name}`, () => assert.is(isFromUpstream(row.address, row.port, row.upstream), row.from));

test('canonicalAddress keeps IPv4 and a zone', () => {
  assert.is(canonicalAddress('10.0.0.1'), '10.0.0.1');
  assert.is(canonicalAddress('FE80::1%ETH0'), 'fe80::1%eth0');
});

test('formatHostPort brackets IPv6', () => {
  assert.is(formatHostPort({ host: '::1', port: 53, family: 6 }), '[::1]:53');
  assert.is(formatHostPort({ host: '10.0.0.1', port: 5353, family: 4 }), '10.0.0.1:5353');
});

test.run();
