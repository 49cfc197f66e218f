import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Problem, formatProblem } from '../../src/problem';
import { parseHostsFile } from '../../src/config';
import { readFixture } from './fixture';

const show = (problems: Problem[]): string => problems.map(formatProblem).join('\n');

test('fixture: comments, tabs, trailing comment, IPv6, case and trailing dot', () => {
  const parsed = parseHostsFile(readFixture('hosts'), 'hosts');
  assert.equal(parsed.problems, [], show(parsed.problems));
  assert.equal(parsed.value, [
    { address: '10.0.0.10', names: ['istiod.istio-system.svc'], line: 2 },
    { address: '10.0.0.11', names: ['pinned.example.com', 'pinned-alias'], line: 3 },
    { address: '2001:db8::20', names: ['v6.example.com'], line: 4 },
  ]);
});

// [what it proves, line, expected entry (address, names)]
const GOOD: Array<[string, string, [string, string[]]]> = [
  ['IPv4 and one name', '192.0.2.1 a.example', ['192.0.2.1', ['a.example']]],
  ['several names', '192.0.2.1 a b c.d', ['192.0.2.1', ['a', 'b', 'c.d']]],
  ['tabs and runs of spaces', '192.0.2.1\t\t a \t b', ['192.0.2.1', ['a', 'b']]],
  ['leading whitespace', '   192.0.2.1 a', ['192.0.2.1', ['a']]],
  ['trailing comment', '192.0.2.1 a # b c', ['192.0.2.1', ['a']]],
  ['comment glued to a name', '192.0.2.1 a#b', ['192.0.2.1', ['a']]],
  ['CRLF', '192.0.2.1 a\r', ['192.0.2.1', ['a']]],
  ['names lowercased', '192.0.2.1 MiXeD.Example', ['192.0.2.1', ['mixed.example']]],
  ['trailing dot stripped', '192.0.2.1 fqdn.example.', ['192.0.2.1', ['fqdn.example']]],
  ['repeated name kept once', '192.0.2.1 a A a.', ['192.0.2.1', ['a']]],
  ['underscore and hyphen allowed', '192.0.2.1 _svc._tcp.my-host', ['192.0.2.1', ['_svc._tcp.my-host']]],
  ['IPv6 loopback', '::1 localhost ip6-localhost', ['::1', ['localhost', 'ip6-localhost']]],
  ['IPv6 canonicalised', '2001:0DB8:0000::0001 v6', ['2001:db8::1', ['v6']]],
  ['IPv4-mapped IPv6', '::ffff:192.0.2.1 mapped', ['::ffff:192.0.2.1', ['mapped']]],
  ['63-character label', `192.0.2.1 ${'a'.repeat(63)}.x`, ['192.0.2.1', [`${'a'.repeat(63)}.x`]]],
  ['253-character name', `192.0.2.1 ${('a'.repeat(49) + '.').repeat(5)}abc`, ['192.0.2.1', [`${('a'.repeat(49) + '.').repeat(5)}abc`]]],
];
for (const [name, line, [address, names]] of GOOD) {
  test(`good: ${name}`, () => {
    const parsed = parseHostsFile(`# first\n${line}\n`, 'hosts');
    assert.equal(parsed.problems, [], show(parsed.problems));
    assert.equal(parsed.value, [{ address, names, line: 2 }]);
  });
}

test('blank and comment-only lines produce nothing', () => {
  const parsed = parseHostsFile('\n   \n# x\n\t# y\r\n', 'hosts');
  assert.equal(parsed, { value: [], problems: [] });
});

// [what it proves, line, names kept (undefined: line dropped), word in the message]
const BAD: Array<[string, string, string[] | undefined, string]> = [
  ['not an address', 'example.com 192.0.2.1', undefined, 'not an IPv4 or IPv6'],
  ['IPv4 with leading zeros', '010.0.0.1 a', undefined, 'not an IPv4 or IPv6'],
  ['IPv4 out of range', '256.0.0.1 a', undefined, 'not an IPv4 or IPv6'],
  ['CIDR', '10.0.0.0/8 a', undefined, 'not an IPv4 or IPv6'],
  ['zone id', 'fe80::1%eth0 router', undefined, 'zone'],
  ['address without names', '192.0.2.1', undefined, 'no names'],
  ['address with only a comment', '192.0.2.1 # nothing', undefined, 'no names'],
  ['bad name dropped, others kept', '192.0.2.1 good bad!name also-good', ['good', 'also-good'], 'may only contain'],
  ['wildcard name', '192.0.2.1 *.example.com', undefined, 'may only contain'],
  ['empty label', '192.0.2.1 a..b', undefined, 'empty label'],
  ['64-character label', `192.0.2.1 ${'a'.repeat(64)}`, undefined, 'at most 63'],
  ['254-character name', `192.0.2.1 ${('a'.repeat(49) + '.').repeat(5)}abcd`, undefined, 'at most 253'],
  ['a lone dot', '192.0.2.1 .', undefined, 'empty name'],
];
for (const [name, line, kept, word] of BAD) {
  test(`bad: ${name}`, () => {
    const parsed = parseHostsFile(`192.0.2.9 first\n${line}\n192.0.2.10 last\n`, 'hosts');
    assert.is(parsed.problems.length, 1, show(parsed.problems));
    const [p] = parsed.problems;
    assert.is(p.file, 'hosts');
    assert.is(p.document, 2);
    assert.ok(p.message.includes(word), p.message);
    const expected = [{ address: '192.0.2.9', names: ['first'], line: 1 }];
    if (kept !== undefined) expected.push({ address: '192.0.2.1', names: kept, line: 2 });
    expected.push({ address: '192.0.2.10', names: ['last'], line: 3 });
    assert.equal(parsed.value, expected);
  });
}

test.run();
