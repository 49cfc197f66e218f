import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalIp, parseAddressOrCidr, type AddressOrCidr } from '../../src/registry/ip';

const canonical: Array<[string, string, string | undefined]> = [
  ['an IPv4 address is itself', '10.1.2.3', '10.1.2.3'],
  ['IPv4 with a leading zero is refused (ambiguous octal)', '010.1.2.3', undefined],
  ['IPv4 out of range is refused', '10.1.2.256', undefined],
  ['IPv6 is compressed and lower-cased', '2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
  ['IPv6 :: stays ::', '::', '::'],
  ['IPv4-mapped IPv6 is written in hex', '::ffff:1.2.3.4', '::ffff:102:304'],
  ['a zone index is refused (DNS cannot carry it)', 'fe80::1%eth0', undefined],
  ['a host name is not an IP', 'example.com', undefined],
  ['surrounding spaces are refused', ' 10.0.0.1', undefined],
  ['an empty string is not an IP', '', undefined],
];
for (const [name, input, expected] of canonical) test(`canonicalIp: ${name}`, () => assert.is(canonicalIp(input), expected));

const cidrs: Array<[string, string, AddressOrCidr | undefined]> = [
  ['a plain IP', '10.0.0.1', { kind: 'ip', ip: '10.0.0.1' }],
  ['a /32 is a single address', '10.0.0.1/32', { kind: 'cidr', ip: '10.0.0.1', prefix: 32, single: true }],
  ['a /24 is a range', '192.192.192.192/24', { kind: 'cidr', ip: '192.192.192.192', prefix: 24, single: false }],
  ['a /128 is a single address', '2001:DB8::1/128', { kind: 'cidr', ip: '2001:db8::1', prefix: 128, single: true }],
  ['an IPv6 /64 is a range', '2001:db8::/64', { kind: 'cidr', ip: '2001:db8::', prefix: 64, single: false }],
  ['a /33 for IPv4 is refused', '10.0.0.0/33', undefined],
  ['a prefix that is not a number is refused', '10.0.0.0/x', undefined],
  ['an empty prefix is refused', '10.0.0.0/', undefined],
  ['a signed prefix is refused', '10.0.0.0/+8', undefined],
  ['garbage is refused', 'not-an-ip', undefined],
];
for (const [name, input, expected] of cidrs) test(`parseAddressOrCidr: ${name}`, () => assert.equal(parseAddressOrCidr(input), expected));

test.run();
