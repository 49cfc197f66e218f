import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dnsPacket from 'dns-packet';
import * as header from '../../../src/dns/wire/message';
import * as sections from '../../../src/dns/wire/sections';
import { skipName } from '../../../src/dns/wire/names';
import { makeQuery } from '../../helpers/query';
import { a, makeReply, soa } from '../../helpers/replies';

const { sameQuestion, stripOpt, readRcode, isTruncated } = header;
const { findOpt, walkRecords } = sections;

// --- skipName: bounded, never follows pointers ---------------------------------------------------

const bytes = (...b: number[]): Buffer => Buffer.from(b);
const skipRows: Array<{ name: string; msg: Buffer; offset: number; expect: number }> = [
  { name: 'root name is one byte', msg: bytes(0), offset: 0, expect: 1 },
  { name: 'labels then root', msg: bytes(1, 0x61, 2, 0x62, 0x63, 0), offset: 0, expect: 6 },
  { name: 'a pointer ends the name after two bytes', msg: bytes(1, 0x61, 0xc0, 0x00), offset: 0, expect: 4 },
  { name: 'a pointer to itself is not followed (no loop)', msg: bytes(0xc0, 0x00), offset: 0, expect: 2 },
  { name: 'a name running off the end is malformed', msg: bytes(3, 0x61, 0x62), offset: 0, expect: -1 },
  { name: 'a cut pointer is malformed', msg: bytes(1, 0x61, 0xc0), offset: 0, expect: -1 },
  { name: 'label type 0x40 is malformed', msg: bytes(0x41, 0), offset: 0, expect: -1 },
  { name: 'a name over 255 bytes is malformed', msg: Buffer.concat([...Array.from({ length: 5 }, () => Buffer.from([63, ...Buffer.alloc(63, 0x61)])), bytes(0)]), offset: 0, expect: -1 },
];
for (const row of skipRows) test(`skipName: ${row.name}`, () => assert.is(skipName(row.msg, row.offset), row.expect));

// --- records --------------------------------------------------------------------------------------

const query = makeQuery({ name: 'www.example.test' });

test('walkRecords visits every record with its section and type', () => {
  const reply = makeReply(query, { answers: [a('www.example.test', '192.0.2.1', 60)], authorities: [soa('example.test', 60, 30)], opt: true });
  const seen: string[] = [];
  const end = walkRecords(reply, (rr) => seen.push(`${rr.section}:${rr.type}:${reply.readUInt32BE(rr.ttlOffset)}`));
  assert.is(end, reply.length);
  assert.equal(seen, ['answer:1:60', 'authority:6:60', 'additional:41:0']);
});

test('walkRecords reports -1 for a message cut inside a record', () => {
  const reply = makeReply(query, { answers: [a('www.example.test', '192.0.2.1', 60)] });
  assert.is(walkRecords(reply.subarray(0, reply.length - 2), () => undefined), -1);
});

test('walkRecords reports -1 when a count claims more records than there are', () => {
  const reply = makeReply(query, { answers: [a('www.example.test', '192.0.2.1', 60)] });
  reply.writeUInt16BE(2, 6);
  assert.is(walkRecords(reply, () => undefined), -1);
});

test('stripOpt removes the OPT and fixes ARCOUNT; other records stay', () => {
  const reply = makeReply(query, { answers: [a('www.example.test', '192.0.2.1', 60)], opt: true });
  const stripped = stripOpt(reply);
  assert.is(stripped.readUInt16BE(10), 0);
  assert.is(findOpt(stripped), null);
  assert.is(stripped.length, reply.length - 11);
  assert.equal(dnsPacket.decode(stripped).answers?.length, 1);
});

test('stripOpt returns the same buffer when there is no OPT', () => {
  const reply = makeReply(query, { answers: [a('www.example.test', '192.0.2.1', 60)] });
  assert.is(stripOpt(reply), reply);
});

// --- questions ------------------------------------------------------------------------------------

const questionRows: Array<{ name: string; reply: Buffer; same: boolean }> = [
  { name: 'the same question matches', reply: makeReply(query), same: true },
  { name: 'another letter case matches', reply: makeReply(query, { questionName: 'WWW.Example.TEST' }), same: true },
  { name: 'another name does not match', reply: makeReply(query, { questionName: 'www.example.tesu' }), same: false },
  { name: 'another type does not match', reply: makeReply(makeQuery({ name: 'www.example.test', type: 'AAAA' })), same: false },
  { name: 'a reply without question does not match', reply: (() => { const r = makeReply(query); r.writeUInt16BE(0, 4); return r; })(), same: false },
  { name: 'a short reply does not match', reply: makeReply(query).subarray(0, 14), same: false },
];
for (const row of questionRows) test(`sameQuestion: ${row.name}`, () => assert.is(sameQuestion(query.packet, query.questionEnd, row.reply), row.same));

test('header helpers read rcode and TC', () => {
  assert.is(readRcode(makeReply(query, { rcode: 3 })), 3);
  assert.ok(isTruncated(makeReply(query, { truncated: true })));
  assert.not.ok(isTruncated(makeReply(query)));
});

test.run();
