import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeName, readName, reverseName, skipName, ipv4Bytes, ipv6Bytes } from '../../../src/dns/wire';
import * as fc from 'fast-check';
import { readQuestionName, readUncompressedName } from '../../../src/dns/wire/names';
import { rdataOf } from './fixtures';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const reverseRows: Array<[string, string, string]> = [
  ['IPv4 octets reversed under in-addr.arpa', '240.240.0.1', '1.0.240.240.in-addr.arpa'],
  ['IPv4 zero address', '0.0.0.0', '0.0.0.0.in-addr.arpa'],
  [
    'IPv6 compressed form expanded to 32 nibbles',
    '2001:2::1',
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa',
  ],
  [
    'IPv6 upper-case hex comes out lower-case',
    '2001:DB8::ABCD',
    'd.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
  ],
  ['IPv6 loopback', '::1', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa'],
  [
    'IPv6 with embedded IPv4',
    '::ffff:10.0.0.1',
    '1.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa',
  ],
  [
    'IPv6 full form without ::',
    '2001:db8:1:2:3:4:5:6',
    '6.0.0.0.5.0.0.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
  ],
];
for (const [what, ip, expected] of reverseRows) {
  test(`reverseName: ${what}`, () => assert.is(reverseName(ip), expected));
}

for (const bad of ['', 'example.com', '256.0.0.1', '1.2.3', '1::2::3', '2001:db8:::1', '1:2:3:4:5:6:7:8:9', '12345::1']) {
  test(`reverseName: "${bad}" is not an address and throws a RangeError naming it`, () => {
    assert.throws(() => reverseName(bad), (e: unknown) => e instanceof RangeError && e.message.includes(`"${bad}"`));
  });
}

test('ipv4Bytes/ipv6Bytes: bytes match dns-packet\'s A/AAAA encoding', () => {
  for (const ip of ['10.1.2.3', '255.255.255.255']) {
    assert.equal(ipv4Bytes(ip), rdataOf('A', ip), ip);
  }
  for (const ip of ['2001:db8::1', '::', 'fe80::1:2', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8']) {
    assert.equal(ipv6Bytes(ip), rdataOf('AAAA', ip), ip);
  }
  assert.is(ipv4Bytes('::1'), null);
  assert.is(ipv6Bytes('10.0.0.1'), null);
});

const encodeRows: Array<[string, string, string]> = [
  ['two labels', 'foo.example', '03666f6f 076578616d706c65 00'],
  ['a trailing dot changes nothing', 'foo.example.', '03666f6f 076578616d706c65 00'],
  ['the empty name is the root', '', '00'],
  ['"." is the root', '.', '00'],
  ['letter case is kept', 'AbC', '03416243 00'],
  ['\\. is a dot inside a label', 'a\\.b.c', '03612e62 0163 00'],
  ['\\DDD is a decimal byte', 'a\\000\\255', '036100ff 00'],
  ['\\\\ is a backslash', 'a\\\\', '02615c 00'],
  ['a label of exactly 63 bytes', 'x'.repeat(63), '3f' + '78'.repeat(63) + '00'],
];
for (const [what, name, wire] of encodeRows) {
  test(`encodeName: ${what}`, () => assert.equal(encodeName(name), hex(wire)));
}

const encodeErrors: Array<[string, string]> = [
  ['label longer than 63', 'x'.repeat(64) + '.com'],
  ['name longer than 255', Array(64).fill('abc').join('.')],
  ['empty label in the middle', 'a..b'],
  ['leading dot', '.a'],
  ['non-ASCII (must be punycode)', 'bücher.example'],
  ['\\DDD above 255', 'a\\300'],
  ['dangling backslash', 'a\\'],
];
for (const [what, name] of encodeErrors) {
  test(`encodeName: ${what} throws a RangeError`, () => {
    assert.throws(() => encodeName(name), (e: unknown) => e instanceof RangeError);
  });
}

test('readName: decodes what encodeName wrote, escapes and all', () => {
  for (const name of ['foo.example', 'AdDrEsS.InTeRnAl', 'a\\.b.c', 'x\\000y\\255', 'back\\\\slash', '*.wild', '']) {
    const wire = encodeName(name);
    const read = readName(Buffer.concat([Buffer.from([9, 9]), wire]), 2);
    assert.equal(read, { ok: true, name, end: 2 + wire.length }, name);
  }
});

test('readName: a space and DEL are escaped as \\DDD', () => {
  assert.equal(readName(hex('03 612062 01 7f 00'), 0), { ok: true, name: 'a\\032b.\\127', end: 7 });
});

test('readName: follows a pointer, end is just past the pointer', () => {
  // "example" at 0, then "foo" + pointer to 0 at 9.
  const buf = hex('076578616d706c6500 03666f6f c000');
  assert.equal(readName(buf, 9), { ok: true, name: 'foo.example', end: 15 });
});

const readErrors: Array<[string, Buffer, number, RegExp]> = [
  ['a pointer to itself (loop)', hex('c000'), 0, /loop|255/],
  ['two pointers to each other (loop)', hex('c002 c000'), 0, /loop|255/],
  ['a loop through labels is stopped by the 255-byte limit', hex('0161 c000'), 0, /255/],
  ['a pointer past the end', hex('c0ff'), 0, /past the end/],
  ['a cut-off pointer', hex('01 61 c0'), 0, /cut off/],
  ['a label past the end', hex('05 6162'), 0, /past the end/],
  ['no root byte', hex('01 61'), 0, /past the end/],
  ['label length 64 (type bits 01)', hex('40' + '61'.repeat(64) + '00'), 0, /63/],
  ['label type bits 10', hex('80 00'), 0, /63/],
  ['a name of 256 wire bytes', hex(('3f' + '61'.repeat(63)).repeat(4) + '00'), 0, /255/],
];
for (const [what, buf, offset, message] of readErrors) {
  test(`readName: ${what} → error value, no throw`, () => {
    const read = readName(buf, offset);
    assert.is(read.ok, false);
    if (!read.ok) assert.match(read.error, message);
  });
}

test('readName: a chain of 129 pointers exceeds the hop limit', () => {
  const buf = Buffer.alloc(2 * 130);
  for (let i = 0; i < 129; i++) buf.writeUInt16BE(0xc000 | ((i + 1) * 2), i * 2);
  buf[129 * 2] = 0; // root at the end of the chain
  const read = readName(buf, 0);
  assert.is(read.ok, false);
  if (!read.ok) assert.match(read.error, /too many compression pointers/);
  // 128 hops are fine.
  assert.equal(readName(buf, 2), { ok: true, name: '', end: 4 });
});

test('readUncompressedName: refuses a pointer', () => {
  const read = readUncompressedName(hex('03666f6f c000'), 0);
  assert.is(read.ok, false);
});

const skipRows: Array<[string, Buffer, number]> = [
  ['root', hex('00'), 1],
  ['labels', hex('03666f6f 00 ff'), 5],
  ['a pointer ends the name without being followed', hex('03666f6f c000 ff'), 6],
  ['a self-pointer is just two bytes', hex('c000'), 2],
  ['cut-off labels', hex('03666f'), -1],
  ['cut-off pointer', hex('c0'), -1],
  ['reserved label type', hex('4000'), -1],
  ['over 255 bytes', hex(('3f' + '61'.repeat(63)).repeat(4) + '00'), -1],
];
for (const [what, buf, end] of skipRows) {
  test(`skipName: ${what}`, () => assert.is(skipName(buf, 0), end));
}

const questionNameRows: Array<[string, string]> = [
  ['mixed case: key lower-cased', '07 416444724573 73 00'.replace(/ /g, '')],
  ['lower case only: key is the same string', '03 666f6f 03 626172 00'],
  ['escapes take the slow path', '03 412e42 02 00ff 00'],
  ['root', '00'],
  ['pointer is refused', '03 666f6f c000'],
  ['label type 01 is refused', '41 00'],
  ['cut off', '05 6162'],
];
for (const [what, wire] of questionNameRows) {
  test(`readQuestionName: ${what} — same as readUncompressedName + toLowerCase`, () => {
    const buf = hex(wire);
    const slow = readUncompressedName(buf, 0);
    const fast = readQuestionName(buf, 0);
    assert.is(fast.ok, slow.ok);
    if (fast.ok && slow.ok) assert.equal(fast, { ok: true, name: slow.name, key: slow.name.toLowerCase(), end: slow.end });
  });
}

test('property: readQuestionName agrees with readUncompressedName + toLowerCase on arbitrary bytes', () => {
  const label = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_*-]{1,63}$/).map((t) => Buffer.concat([Buffer.from([t.length]), Buffer.from(t, 'latin1')])),
    fc.uint8Array({ minLength: 1, maxLength: 70 }).map((b) => Buffer.from(b)),
  );
  fc.assert(
    fc.property(fc.array(label, { maxLength: 8 }), fc.uint8Array({ maxLength: 3 }), (labels, tail) => {
      const buf = Buffer.concat([...labels, Buffer.from(tail)]);
      const slow = readUncompressedName(buf, 0);
      const fast = readQuestionName(buf, 0);
      if (slow.ok) assert.equal(fast, { ok: true, name: slow.name, key: slow.name.toLowerCase(), end: slow.end });
      else assert.is(fast.ok, false);
    }),
    { numRuns: 3000 },
  );
});

test.run();
