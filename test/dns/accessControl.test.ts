import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createClientFilter, refuseClient } from '../../src/dns/accessControl';
import { parseSettings } from '../../src/config';
import type { ListenAddress } from '../../src/config/types';
import { encodeQuery, decodeAnswer } from './client';

const lo: ListenAddress = { host: '127.0.0.1', port: 53, family: 4 };
const any4: ListenAddress = { host: '0.0.0.0', port: 53, family: 4 };

test('loopback-only listeners need no per-packet check', () => {
  assert.is(createClientFilter([lo, { host: '::1', port: 53, family: 6 }], []), undefined);
});

const rows: Array<[string, string, boolean]> = [
  ['loopback is always allowed', '127.0.0.1', true],
  ['IPv6 loopback is always allowed', '::1', true],
  ['inside allowFrom', '10.1.2.3', true],
  ['single IP in allowFrom', '192.0.2.7', true],
  ['outside allowFrom', '10.2.0.1', false],
  ['IPv4-mapped address is judged as IPv4', '::ffff:10.1.0.9', true],
  ['IPv6 inside allowFrom', 'fd00::5', true],
  ['IPv6 outside', '2001:db8::1', false],
  ['garbage source', 'nope', false],
];
const filter = createClientFilter([any4], ['10.1.0.0/16', '192.0.2.7/32', 'fd00::/8'])!;
for (const [title, address, expected] of rows) test(title, () => assert.is(filter(address), expected));

test('a refused client gets REFUSED with its ID and question', () => {
  const reply = refuseClient(encodeQuery('x.example', 'A', { id: 4242 }), 'udp');
  const a = decodeAnswer(reply!);
  assert.is(a.rcode, 'REFUSED');
  assert.is(a.msg.id, 4242);
  assert.is(a.msg.questions?.[0].name, 'x.example');
  assert.is(refuseClient(Buffer.from([1, 2]), 'udp'), null);
});

test('settings: a non-loopback listener without allowFrom is an error naming allowFrom', () => {
  const bad = parseSettings('listen: ["0.0.0.0:53"]\n', 'm.yaml');
  assert.equal(bad.problems.map((p) => p.field), ['allowFrom']);
  assert.match(bad.problems[0].message, /open resolver/);
  const ok = parseSettings('listen: ["0.0.0.0:53"]\nallowFrom: ["10.0.0.0/8", "fd00::1"]\n', 'm.yaml');
  assert.equal(ok.problems, []);
  assert.equal(ok.value.allowFrom, ['10.0.0.0/8', 'fd00::1/128']);
  assert.equal(parseSettings('allowFrom: ["10.0.0.0/33"]\n', 'm.yaml').problems.map((p) => p.field), ['allowFrom[0]']);
  assert.equal(parseSettings('listen: ["127.0.0.2:53", "[::1]:53"]\n', 'm.yaml').problems, []);
});

test.run();
