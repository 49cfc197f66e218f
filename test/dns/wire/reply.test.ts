import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fc from 'fast-check';
import * as dnsPacket from 'dns-packet';
import type { Lookup, NameInfo, SrvLookup } from '../../../src/nametable/types';
import type { Query } from '../../../src/dns/types';
import {
  errorReply,
  formerrFromPacket,
  localAnswer,
  nodata,
  precomputeAnswers,
  ptrAnswer,
  Rcode,
  srvAnswer,
} from '../../../src/dns/wire';
import { decode, nameInfo, optOf, parsed, queryPacket, type Decoded, type QuerySpec } from './fixtures';

const TTL = 30;
const RD = dnsPacket.RECURSION_DESIRED;
const CD = dnsPacket.CHECKING_DISABLED;

interface SimpleRecord {
  name: string;
  type: string;
  ttl?: number;
  data: unknown;
}
const records = (list: dnsPacket.Answer[] | undefined): SimpleRecord[] =>
  (list ?? [])
    .filter((r) => r.type !== 'OPT')
    .map((r) => ({ name: r.name, type: r.type, ttl: (r as { ttl?: number }).ttl, data: (r as { data?: unknown }).data }));

/** Header and question checks every local reply must pass. */
function checkCommon(reply: Buffer, query: Query, expect: { aa: boolean; rcode: string }): Decoded {
  const message = decode(reply);
  assert.is(message.id, query.id, 'client ID');
  assert.is(message.flag_qr, true, 'QR');
  assert.is(message.flag_aa, expect.aa, 'AA');
  assert.is(message.flag_ra, true, 'RA');
  assert.is(message.flag_tc, false, 'TC');
  assert.is(message.flag_rd, (query.flags & RD) !== 0, 'RD copied');
  assert.is(message.flag_cd, (query.flags & CD) !== 0, 'CD copied');
  assert.is(message.rcode, expect.rcode, 'rcode');
  assert.equal(message.questions, [{ name: query.name === '' ? '.' : query.name, type: dnsPacket.decode(query.packet).questions?.[0]?.type, class: 'IN' }], 'question echoed in the client case');
  // The question bytes are the client's own.
  assert.equal(reply.subarray(12, query.questionEnd), query.packet.subarray(12, query.questionEnd));
  const opt = optOf(message);
  assert.is(opt !== undefined, query.edns !== null, 'OPT iff the query had EDNS');
  if (opt && query.edns) {
    assert.is(opt.udpPayloadSize, 1232);
    assert.is(opt.ednsVersion, 0);
    assert.is(opt.flag_do, query.edns.dnssecOk, 'DO echoed');
  }
  return message;
}

const address = nameInfo('address.internal', ['240.240.0.1'], ['2001:2::1']);
const twoV4 = nameInfo('reviews.default.svc.cluster.local', ['10.96.0.10', '10.96.0.11'], []);
const wildcard = nameInfo('*.wild.example', ['192.0.2.7'], []);
const auto = nameInfo('auto.internal', ['240.240.0.2'], ['2001:2::2']);
const v6only = nameInfo('six.internal', [], ['2001:db8::6', '2001:db8::7']);

interface AnswerRow {
  what: string;
  spec: QuerySpec;
  lookup: Lookup;
  answers: SimpleRecord[];
  /** Exact size, counted by hand. */
  size?: number;
}
const answerRows: AnswerRow[] = [
  {
    what: 'A for a name: owner is the query name in the client case',
    spec: { name: 'AdDrEsS.InTeRnAl' },
    lookup: { kind: 'name', info: address },
    answers: [{ name: 'AdDrEsS.InTeRnAl', type: 'A', ttl: TTL, data: '240.240.0.1' }],
    // header 12 + question (1+7+1+8+1 + 4 = 22) + A (2+10+4 = 16)
    size: 50,
  },
  {
    what: 'AAAA for a name',
    spec: { name: 'address.internal', type: 'AAAA' },
    lookup: { kind: 'name', info: address },
    answers: [{ name: 'address.internal', type: 'AAAA', ttl: TTL, data: '2001:2::1' }],
    size: 12 + 22 + 28,
  },
  {
    what: 'A with two addresses, in table order',
    spec: { name: 'reviews.default.svc.cluster.local' },
    lookup: { kind: 'name', info: twoV4 },
    answers: [
      { name: 'reviews.default.svc.cluster.local', type: 'A', ttl: TTL, data: '10.96.0.10' },
      { name: 'reviews.default.svc.cluster.local', type: 'A', ttl: TTL, data: '10.96.0.11' },
    ],
  },
  {
    what: 'wildcard: answered under the query name, never a * owner',
    spec: { name: 'Api.Wild.Example' },
    lookup: { kind: 'wildcard', info: wildcard },
    answers: [{ name: 'Api.Wild.Example', type: 'A', ttl: TTL, data: '192.0.2.7' }],
  },
  {
    what: 'NODATA: AAAA for a name with only IPv4 is NOERROR with no answer',
    spec: { name: 'reviews.default.svc.cluster.local', type: 'AAAA' },
    lookup: { kind: 'name', info: twoV4 },
    answers: [],
  },
  {
    what: 'NODATA: A for a name with only IPv6',
    spec: { name: 'six.internal' },
    lookup: { kind: 'name', info: v6only },
    answers: [],
  },
  {
    what: 'search: CNAME query → target (lower case), then A owned by the target',
    spec: { name: 'Auto.Internal.ns.svc.cluster.local' },
    lookup: { kind: 'search', info: auto, target: 'auto.internal', searchDomain: 'ns.svc.cluster.local', viaWildcard: false },
    answers: [
      { name: 'Auto.Internal.ns.svc.cluster.local', type: 'CNAME', ttl: TTL, data: 'auto.internal' },
      { name: 'auto.internal', type: 'A', ttl: TTL, data: '240.240.0.2' },
    ],
    // 12 + question (36 + 4) + CNAME (12 + 15) + A 16
    size: 95,
  },
  {
    what: 'search: AAAA owned by the target',
    spec: { name: 'auto.internal.example.com', type: 'AAAA' },
    lookup: { kind: 'search', info: auto, target: 'auto.internal', searchDomain: 'example.com', viaWildcard: false },
    answers: [
      { name: 'auto.internal.example.com', type: 'CNAME', ttl: TTL, data: 'auto.internal' },
      { name: 'auto.internal', type: 'AAAA', ttl: TTL, data: '2001:2::2' },
    ],
  },
  {
    what: 'search: target without an address of the family → the CNAME alone',
    spec: { name: 'reviews.default.svc.cluster.local.corp', type: 'AAAA' },
    lookup: { kind: 'search', info: twoV4, target: 'reviews.default.svc.cluster.local', searchDomain: 'corp', viaWildcard: false },
    answers: [{ name: 'reviews.default.svc.cluster.local.corp', type: 'CNAME', ttl: TTL, data: 'reviews.default.svc.cluster.local' }],
  },
  {
    what: 'search via a wildcard: the target is the matched name, not the * key',
    spec: { name: 'API.wild.example.corp' },
    lookup: { kind: 'search', info: wildcard, target: 'api.wild.example', searchDomain: 'corp', viaWildcard: true },
    answers: [
      { name: 'API.wild.example.corp', type: 'CNAME', ttl: TTL, data: 'api.wild.example' },
      { name: 'api.wild.example', type: 'A', ttl: TTL, data: '192.0.2.7' },
    ],
  },
  {
    what: 'search with qtype CNAME: the CNAME alone',
    spec: { name: 'auto.internal.corp', type: 'CNAME' },
    lookup: { kind: 'search', info: auto, target: 'auto.internal', searchDomain: 'corp', viaWildcard: false },
    answers: [{ name: 'auto.internal.corp', type: 'CNAME', ttl: TTL, data: 'auto.internal' }],
  },
  {
    what: 'EDNS with DO: OPT 1232 with DO echoed; CD copied',
    spec: { name: 'address.internal', flags: RD | CD, edns: { size: 4096, dnssecOk: true } },
    lookup: { kind: 'name', info: address },
    answers: [{ name: 'address.internal', type: 'A', ttl: TTL, data: '240.240.0.1' }],
    size: 50 + 11,
  },
  {
    what: 'RD clear in the query stays clear',
    spec: { name: 'address.internal', flags: 0 },
    lookup: { kind: 'name', info: address },
    answers: [{ name: 'address.internal', type: 'A', ttl: TTL, data: '240.240.0.1' }],
  },
];
for (const row of answerRows) {
  test(`localAnswer: ${row.what}`, () => {
    const query = parsed(row.spec);
    const reply = localAnswer(query, row.lookup, TTL);
    const message = checkCommon(reply, query, { aa: true, rcode: 'NOERROR' });
    assert.equal(records(message.answers), row.answers);
    assert.equal(records(message.authorities), []);
    if (row.size !== undefined) assert.is(reply.length, row.size, 'size');
  });
}

test('size: A answer for foo.example is 45 bytes (56 with EDNS), as small as dnsmasq\'s', () => {
  const info = nameInfo('foo.example', ['10.0.0.1']);
  // 12 header + 17 question (1+3+1+7+1 + 4) + 16 answer (pointer 2 + 10 + 4)
  assert.is(localAnswer(parsed({ name: 'foo.example' }), { kind: 'name', info }, TTL).length, 45);
  assert.is(localAnswer(parsed({ name: 'foo.example', edns: { size: 1232 } }), { kind: 'name', info }, TTL).length, 56);
});

const compressionRows: Array<[string, QuerySpec, Lookup]> = [
  ['one A', { name: 'foo.example' }, { kind: 'name', info: nameInfo('foo.example', ['10.0.0.1']) }],
  ['ten A', { name: 'headless.ns.svc.cluster.local' }, { kind: 'name', info: nameInfo('headless.ns.svc.cluster.local', Array.from({ length: 10 }, (_, i) => `10.1.0.${i + 1}`)) }],
  ['search CNAME + A', { name: 'auto.internal.ns.svc.cluster.local' }, { kind: 'search', info: auto, target: 'auto.internal', searchDomain: 'ns.svc.cluster.local', viaWildcard: false }],
];
for (const [what, spec, lookup] of compressionRows) {
  test(`size: compressed answer (${what}) is smaller than dns-packet's uncompressed encoding of the same records`, () => {
    const query = parsed(spec);
    const ours = localAnswer(query, lookup, TTL);
    const message = decode(ours);
    const theirs = dnsPacket.encode({ ...message, type: 'response' });
    assert.equal(records(dnsPacket.decode(theirs).answers), records(message.answers));
    assert.ok(ours.length < theirs.length, `${ours.length} < ${theirs.length}`);
  });
}

test('precomputeAnswers: memoized per NameInfo and TTL; answers share the precomputed bytes unchanged', () => {
  const info = nameInfo('memo.internal', ['10.9.9.9'], ['2001:db8::9']);
  const first = precomputeAnswers(info, TTL);
  assert.is(precomputeAnswers(info, TTL), first, 'same object for the same info and TTL');
  assert.is(first.a.count, 1);
  assert.is(first.a.bytes.length, 16);
  assert.is(first.aaaa.bytes.length, 28);
  assert.equal(first.a.bytes.subarray(0, 2), Buffer.from([0xc0, 0x0c]), 'owner pointer 0xC00C');
  const snapshot = Buffer.from(first.a.bytes);
  // A search answer re-points owners in its copy, never in the shared bytes.
  localAnswer(parsed({ name: 'memo.internal.corp' }), { kind: 'search', info, target: 'memo.internal', searchDomain: 'corp', viaWildcard: false }, TTL);
  assert.equal(first.a.bytes, snapshot);
  const later = decode(localAnswer(parsed({ name: 'memo.internal' }), { kind: 'name', info }, TTL));
  assert.is(later.answers?.[0]?.name, 'memo.internal');
  const other = precomputeAnswers(info, 60);
  assert.is.not(other, first, 'another TTL is recomputed');
  assert.is(other.a.bytes.readUInt32BE(6), 60);
});

test('precomputeAnswers: an address of the wrong family throws a RangeError naming it', () => {
  assert.throws(() => precomputeAnswers(nameInfo('bad.internal', ['2001:db8::1']), TTL), (e: unknown) => e instanceof RangeError && /2001:db8::1/.test(String(e)));
});

test('ptrAnswer: reverse name → target, owner is the query name', () => {
  const query = parsed({ name: '2.0.240.240.IN-ADDR.ARPA', type: 'PTR', edns: { size: 1232 } });
  const reply = ptrAnswer(query, 'auto.internal', TTL);
  const message = checkCommon(reply, query, { aa: true, rcode: 'NOERROR' });
  assert.equal(records(message.answers), [{ name: '2.0.240.240.IN-ADDR.ARPA', type: 'PTR', ttl: TTL, data: 'auto.internal' }]);
});

const srvRows: Array<[string, QuerySpec, SrvLookup, SimpleRecord[], SimpleRecord[]]> = [
  [
    'SRV with both families of the target in the additional section',
    { name: '_HTTP._tcp.auto.internal', type: 'SRV', edns: { size: 1232 } },
    { info: auto, target: 'auto.internal', port: { name: 'http', port: 8080, transport: 'tcp' } },
    [{ name: '_HTTP._tcp.auto.internal', type: 'SRV', ttl: TTL, data: { priority: 0, weight: 100, port: 8080, target: 'auto.internal' } }],
    [
      { name: 'auto.internal', type: 'A', ttl: TTL, data: '240.240.0.2' },
      { name: 'auto.internal', type: 'AAAA', ttl: TTL, data: '2001:2::2' },
    ],
  ],
  [
    'SRV for a short name targets that name; IPv4 only',
    { name: '_grpc._tcp.reviews', type: 'SRV' },
    { info: twoV4, target: 'reviews', port: { name: 'grpc', port: 9080, transport: 'tcp' } },
    [{ name: '_grpc._tcp.reviews', type: 'SRV', ttl: TTL, data: { priority: 0, weight: 100, port: 9080, target: 'reviews' } }],
    [
      { name: 'reviews', type: 'A', ttl: TTL, data: '10.96.0.10' },
      { name: 'reviews', type: 'A', ttl: TTL, data: '10.96.0.11' },
    ],
  ],
];
for (const [what, spec, srv, answers, additionals] of srvRows) {
  test(`srvAnswer: ${what}`, () => {
    const query = parsed(spec);
    const message = checkCommon(srvAnswer(query, srv, TTL), query, { aa: true, rcode: 'NOERROR' });
    assert.equal(records(message.answers), answers);
    assert.equal(records(message.additionals), additionals);
  });
}

test('nodata: NOERROR, AA, empty sections, question echoed', () => {
  const query = parsed({ name: 'Known.Internal', type: 'MX', edns: { size: 1232 } });
  const message = checkCommon(nodata(query), query, { aa: true, rcode: 'NOERROR' });
  assert.equal(records(message.answers), []);
});

const errorRows: Array<[string, number, QuerySpec]> = [
  ['SERVFAIL', Rcode.SERVFAIL, { name: 'Up.Stream.Down' }],
  ['REFUSED', Rcode.REFUSED, { name: 'zone.example', type: 'AXFR' }],
  ['NXDOMAIN', Rcode.NXDOMAIN, { name: 'nope.internal', edns: { size: 4096 } }],
  ['NOTIMP', Rcode.NOTIMP, { name: 'x.example' }],
  ['FORMERR', Rcode.FORMERR, { name: 'x.example', edns: { size: 512, dnssecOk: true } }],
];
for (const [rcodeName, rcode, spec] of errorRows) {
  test(`errorReply: ${rcodeName} with the question echoed, AA=0`, () => {
    const query = parsed(spec);
    const message = checkCommon(errorReply(query, rcode), query, { aa: false, rcode: rcodeName });
    assert.equal(records(message.answers), []);
  });
}

test('errorReply: BADVERS puts its upper bits in the OPT', () => {
  const query = parsed({ name: 'x.example', edns: { size: 1232 } });
  const reply = errorReply(query, Rcode.BADVERS);
  const message = checkCommon(reply, query, { aa: false, rcode: 'NOERROR' });
  assert.is(optOf(message)?.extendedRcode, 1);
});

test('formerrFromPacket: header echoed with QR, RA, FORMERR and no sections', () => {
  const packet = queryPacket({ id: 0xabcd, name: 'x.example', flags: RD | CD });
  const reply = formerrFromPacket(packet);
  assert.ok(reply);
  if (!reply) return;
  assert.is(reply.length, 12);
  const message = decode(reply);
  assert.is(message.id, 0xabcd);
  assert.is(message.rcode, 'FORMERR');
  assert.equal([message.flag_qr, message.flag_ra, message.flag_rd, message.flag_cd, message.flag_aa], [true, true, true, true, false]);
  assert.equal(message.questions, []);
});

test('formerrFromPacket: nothing for a packet without a header or for a response', () => {
  assert.is(formerrFromPacket(Buffer.alloc(11)), null);
  assert.is(formerrFromPacket(dnsPacket.encode({ type: 'response', id: 1, questions: [] })), null);
});

test('property: local answers for any name and letter case decode, echo the case, and own their records right', () => {
  const label = fc.stringMatching(/^[a-zA-Z0-9-]{1,20}$/);
  const name = fc.array(label, { minLength: 1, maxLength: 6 }).map((labels) => labels.join('.'));
  const v4 = fc.array(fc.ipV4(), { maxLength: 20 });
  const v6 = fc.array(fc.ipV6(), { maxLength: 10 });
  fc.assert(
    fc.property(name, v4, v6, fc.constantFrom<'A' | 'AAAA'>('A', 'AAAA'), fc.boolean(), fc.boolean(), (qname, a, aaaa, type, edns, search) => {
      const info: NameInfo = nameInfo('target.internal', a, aaaa);
      const lookup: Lookup = search
        ? { kind: 'search', info, target: 'target.internal', searchDomain: 'x', viaWildcard: false }
        : { kind: 'name', info };
      const query = parsed({ name: qname, type, edns: edns ? { size: 1232 } : undefined });
      const message = checkCommon(localAnswer(query, lookup, TTL), query, { aa: true, rcode: 'NOERROR' });
      const owner = search ? 'target.internal' : qname;
      const expected = (type === 'A' ? a : aaaa).length;
      const got = records(message.answers).filter((r) => r.type === type);
      assert.is(got.length, expected);
      for (const r of got) assert.is(r.name, owner);
    }),
    { numRuns: 500 },
  );
});

test.run();
