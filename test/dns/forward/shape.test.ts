import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dnsPacket from 'dns-packet';
import { buildServfail, buildUpstreamQuery, shapeForClient } from '../../../src/dns/forward';
import { MakeQueryOptions, makeQuery } from '../../helpers/query';
import { ReplySpec, a, makeReply } from '../../helpers/replies';

type Decoded = dnsPacket.DecodedPacket & { rcode?: string; flag_rd?: boolean; flag_ra?: boolean; flag_cd?: boolean };
const optOf = (d: dnsPacket.DecodedPacket): dnsPacket.OptAnswer | undefined =>
  (d.additionals ?? []).find((r) => r.type === 'OPT') as dnsPacket.OptAnswer | undefined;
const many = (n: number): dnsPacket.Answer[] => Array.from({ length: n }, (_, i) => a('x.test', `10.0.0.${i}`, 60));

// --- the query sent upstream ---------------------------------------------------------------------

const upstreamRows: Array<{ name: string; query: MakeQueryOptions; size: number; dnssecOk: boolean }> = [
  { name: 'a query without EDNS gets an OPT with 1232 and DO=0', query: { name: 'x.test' }, size: 1232, dnssecOk: false },
  { name: 'a 4096 EDNS query is lowered to 1232, DO kept', query: { name: 'x.test', edns: { udpPayloadSize: 4096, dnssecOk: true } }, size: 1232, dnssecOk: true },
  { name: 'a 512 EDNS query is raised to 1232', query: { name: 'x.test', edns: { udpPayloadSize: 512 } }, size: 1232, dnssecOk: false },
];
for (const row of upstreamRows) {
  test(`upstream query: ${row.name}`, () => {
    const query = makeQuery(row.query);
    const sent = dnsPacket.decode(buildUpstreamQuery(query));
    const opt = optOf(sent);
    assert.ok(opt);
    assert.is(opt.udpPayloadSize, row.size);
    assert.is((opt.flags & dnsPacket.DNSSEC_OK) !== 0, row.dnssecOk);
    assert.is(sent.additionals?.length, 1);
    assert.equal(sent.questions, dnsPacket.decode(query.packet).questions);
  });
}

test('upstream query: the client packet is not modified', () => {
  const query = makeQuery({ name: 'x.test', edns: { udpPayloadSize: 4096 } });
  const before = Buffer.from(query.packet);
  buildUpstreamQuery(query);
  assert.ok(query.packet.equals(before));
});

// --- the reply to the client ---------------------------------------------------------------------

interface FitRow {
  name: string;
  query: MakeQueryOptions;
  reply: ReplySpec;
  expect: { opt: boolean; tc: boolean; answers: number; maxLength: number };
}

const fitRows: FitRow[] = [
  { name: 'a small reply to a plain client loses its OPT', query: { name: 'x.test' }, reply: { answers: many(1), opt: true }, expect: { opt: false, tc: false, answers: 1, maxLength: 512 } },
  { name: 'a small reply to an EDNS client keeps its OPT', query: { name: 'x.test', edns: {} }, reply: { answers: many(1), opt: true }, expect: { opt: true, tc: false, answers: 1, maxLength: 512 } },
  { name: 'an EDNS client gets an OPT even if the reply had none', query: { name: 'x.test', edns: {} }, reply: { answers: many(1) }, expect: { opt: true, tc: false, answers: 1, maxLength: 512 } },
  // Records are 22 bytes (x.test uncompressed, 10 fixed, 4 rdata) after a 24-byte header and question.
  { name: 'over 512 bytes for a plain UDP client: TC=1, the 22 records that fit, no OPT', query: { name: 'x.test' }, reply: { answers: many(30), opt: true }, expect: { opt: false, tc: true, answers: 22, maxLength: 512 } },
  { name: 'over the EDNS size: TC=1, the 25 records that fit beside an OPT', query: { name: 'x.test', edns: { udpPayloadSize: 600 } }, reply: { answers: many(30), opt: true }, expect: { opt: true, tc: true, answers: 25, maxLength: 600 } },
  { name: 'under the EDNS size: untouched', query: { name: 'x.test', edns: { udpPayloadSize: 1232 } }, reply: { answers: many(30), opt: true }, expect: { opt: true, tc: false, answers: 30, maxLength: 1232 } },
  { name: 'a TCP client gets everything', query: { name: 'x.test', transport: 'tcp' }, reply: { answers: many(200) }, expect: { opt: false, tc: false, answers: 200, maxLength: 65535 } },
];

for (const row of fitRows) {
  test(`shapeForClient: ${row.name}`, () => {
    const query = makeQuery({ ...row.query, id: 0xbeef });
    const upstreamReply = makeReply({ ...query, id: 0x1111 }, row.reply);
    const out = shapeForClient(upstreamReply, query);
    const d = dnsPacket.decode(out);
    assert.is(d.id, 0xbeef);
    assert.is(optOf(d) !== undefined, row.expect.opt);
    assert.is(Boolean(d.flag_tc), row.expect.tc);
    assert.is(d.answers?.length, row.expect.answers);
    assert.ok(out.length <= row.expect.maxLength, `${out.length} bytes`);
    assert.is(d.questions?.[0].name, 'x.test');
  });
}

// --- SERVFAIL ------------------------------------------------------------------------------------

test('SERVFAIL copies ID, question and RD; sets QR and RA; no OPT for a plain client', () => {
  const query = makeQuery({ name: 'Mixed.Case.test', type: 'AAAA', id: 77 });
  const d = dnsPacket.decode(buildServfail(query)) as Decoded;
  assert.is(d.id, 77);
  assert.is(d.type, 'response');
  assert.is(d.rcode, 'SERVFAIL');
  assert.ok(d.flag_rd && d.flag_ra);
  assert.equal(d.questions, [{ name: 'Mixed.Case.test', type: 'AAAA', class: 'IN' }]);
  assert.is(d.additionals?.length, 0);
});

test('SERVFAIL without RD in the query has RD clear', () => {
  const d = dnsPacket.decode(buildServfail(makeQuery({ name: 'x.test', rd: false }))) as Decoded;
  assert.not.ok(d.flag_rd);
});

test('SERVFAIL for an EDNS client carries an OPT with its DO bit', () => {
  const d = dnsPacket.decode(buildServfail(makeQuery({ name: 'x.test', edns: { dnssecOk: true } })));
  const opt = optOf(d);
  assert.ok(opt);
  assert.ok((opt.flags & dnsPacket.DNSSEC_OK) !== 0);
});

test.run();
