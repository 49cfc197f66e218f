import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dnsPacket from 'dns-packet';
import type { Upstream } from '../../../src/config/types';
import { createForwardHandler, ForwardOptions, ForwardStats, UpstreamOutcome } from '../../../src/dns/forward';
import type { Next } from '../../../src/dns/types';
import { Behaviour, FakeAction, FakeUpstream, ReceivedQuery, startFakeUpstream } from '../../helpers/fakeUpstream';
import { MakeQueryOptions, makeQuery } from '../../helpers/query';

const endOfChain: Next = async () => null;
const always = (action: FakeAction): Behaviour => () => action;
const CLIENT_ID = 0x4242;

interface Outcome {
  reply: dnsPacket.DecodedPacket;
  raw: Buffer;
  /** Queries each fake server received, in server order. */
  received: ReceivedQuery[][];
  elapsedMs: number;
  stats: ForwardStats;
  results: Array<{ upstream: Upstream; outcome: UpstreamOutcome }>;
}

interface Row {
  name: string;
  /** One behaviour per upstream server, in order. */
  servers: Behaviour[];
  query?: Partial<MakeQueryOptions>;
  options?: Partial<ForwardOptions>;
  expect: (o: Outcome) => void;
}

const answersOf = (reply: dnsPacket.DecodedPacket): string[] =>
  (reply.answers ?? []).map((a) => String((a as { data: unknown }).data));
const transports = (received: ReceivedQuery[]): string[] => received.map((q) => q.transport);
const rcodeOf = (reply: dnsPacket.DecodedPacket): string | undefined => (reply as { rcode?: string }).rcode;
const hasOpt = (reply: dnsPacket.DecodedPacket): boolean => (reply.additionals ?? []).some((a) => a.type === 'OPT');

const rows: Row[] = [
  {
    name: 'an upstream answer passes through with the client ID and question',
    servers: [always({ kind: 'answer' })],
    query: { name: 'Web.Example.com' },
    expect: ({ reply, received }) => {
      assert.is(reply.id, CLIENT_ID);
      assert.is(rcodeOf(reply), 'NOERROR');
      assert.equal(answersOf(reply), ['192.0.2.1']);
      assert.is(reply.questions?.[0].name, 'Web.Example.com');
      assert.is(received[0].length, 1);
    },
  },
  {
    name: 'the upstream query advertises EDNS 1232 though the client sent no OPT',
    servers: [always({ kind: 'answer' })],
    expect: ({ received }) => {
      assert.is(received[0][0].ednsUdpSize, 1232);
      assert.is(received[0][0].dnssecOk, false);
    },
  },
  {
    name: "the client's EDNS size is rewritten to 1232 and its DO bit kept",
    servers: [always({ kind: 'answer' })],
    query: { edns: { udpPayloadSize: 4096, dnssecOk: true } },
    expect: ({ received, reply }) => {
      assert.is(received[0][0].ednsUdpSize, 1232);
      assert.is(received[0][0].dnssecOk, true);
      assert.ok(hasOpt(reply), 'an EDNS client gets an OPT back');
    },
  },
  {
    name: 'a client without EDNS gets no OPT back, though the upstream sent one',
    servers: [always({ kind: 'answer' })],
    expect: ({ raw, reply }) => {
      assert.is(raw.readUInt16BE(10), 0, 'ARCOUNT');
      assert.not.ok(hasOpt(reply));
      assert.equal(answersOf(reply), ['192.0.2.1']);
    },
  },
  {
    name: 'the upstream query carries a fresh ID, not the client one',
    servers: [always({ kind: 'answer' })],
    expect: ({ received }) => assert.is.not(received[0][0].id, CLIENT_ID),
  },
  {
    name: 'silence ends in SERVFAIL after timeout x attempts, with the question and RD copied',
    servers: [always({ kind: 'silent' })],
    query: { name: 'Quiet.Example' },
    options: { timeoutMs: 150, attempts: 2 },
    expect: ({ reply, received, elapsedMs, stats }) => {
      assert.is(rcodeOf(reply), 'SERVFAIL');
      assert.is(reply.id, CLIENT_ID);
      assert.is(reply.questions?.[0].name, 'Quiet.Example');
      assert.ok(reply.flag_rd && reply.flag_ra && reply.flag_qr);
      assert.is(received[0].length, 2);
      assert.ok(elapsedMs >= 280 && elapsedMs < 700, `took ${elapsedMs} ms`);
      assert.is(stats.upstreams[0].timeouts, 2);
      assert.is(stats.exhausted, 1);
    },
  },
  {
    name: 'SERVFAIL for an EDNS client carries an OPT with its DO bit',
    servers: [always({ kind: 'silent' })],
    query: { edns: { dnssecOk: true } },
    options: { timeoutMs: 50, attempts: 1 },
    expect: ({ reply }) => {
      assert.is(rcodeOf(reply), 'SERVFAIL');
      const opt = (reply.additionals ?? []).find((a) => a.type === 'OPT') as dnsPacket.OptAnswer | undefined;
      assert.ok(opt);
      assert.ok((opt.flags & dnsPacket.DNSSEC_OK) !== 0);
    },
  },
  {
    name: 'TC=1 over UDP is retried over TCP with the same server and the full answer returned',
    servers: [always({ kind: 'truncate-udp' })],
    expect: ({ reply, received }) => {
      assert.equal(transports(received[0]), ['udp', 'tcp']);
      assert.not.ok(reply.flag_tc);
      assert.equal(answersOf(reply), ['192.0.2.1']);
    },
  },
  {
    name: 'a TCP client is forwarded over TCP and gets a 100-record answer whole',
    servers: [always({ kind: 'giant', count: 100 })],
    query: { transport: 'tcp' },
    expect: ({ reply, received }) => {
      assert.equal(transports(received[0]), ['tcp']);
      assert.is(reply.answers?.length, 100);
    },
  },
  {
    name: 'a 100-record answer is fetched over TCP but truncated (TC=1) to the first records that fit for a 512-byte UDP client',
    servers: [always({ kind: 'giant', count: 100 })],
    expect: ({ reply, raw, received }) => {
      assert.equal(transports(received[0]), ['udp', 'tcp']);
      assert.ok(reply.flag_tc);
      // 27-byte records (example.com uncompressed, 10 fixed, 4 rdata) after a 29-byte header and question.
      assert.equal(answersOf(reply), Array.from({ length: 17 }, (_, i) => `10.0.0.${i}`));
      assert.ok(raw.length <= 512);
      assert.is(reply.questions?.[0].name, 'example.com');
    },
  },
  {
    name: 'a 40-record answer (about 1100 bytes) fits a 1232-byte EDNS client unchanged',
    servers: [always({ kind: 'giant', count: 40 })],
    query: { edns: { udpPayloadSize: 1232 } },
    expect: ({ reply, raw }) => {
      assert.not.ok(reply.flag_tc);
      assert.is(reply.answers?.length, 40);
      assert.ok(raw.length > 512 && raw.length <= 1232);
    },
  },
  {
    name: 'a reply with a wrong ID is ignored and the real one accepted',
    servers: [always({ kind: 'wrong-id-first' })],
    expect: ({ reply, stats }) => {
      assert.equal(answersOf(reply), ['192.0.2.1']);
      assert.is(stats.ignoredReplies, 1);
    },
  },
  {
    name: 'a reply for another question is ignored and the real one accepted',
    servers: [always({ kind: 'wrong-question-first' })],
    expect: ({ reply, stats }) => {
      assert.equal(answersOf(reply), ['192.0.2.1']);
      assert.is(stats.ignoredReplies, 1);
    },
  },
  {
    name: 'a reply from another source port is ignored and the real one accepted',
    servers: [always({ kind: 'wrong-source-first' })],
    expect: ({ reply, stats }) => {
      assert.equal(answersOf(reply), ['192.0.2.1']);
      assert.is(stats.ignoredReplies, 1);
    },
  },
  {
    name: 'SERVFAIL from server 1 fails over to server 2',
    servers: [always({ kind: 'servfail' }), always({ kind: 'answer' })],
    expect: ({ reply, received, stats, results }) => {
      assert.equal(answersOf(reply), ['192.0.2.1']);
      assert.equal([received[0].length, received[1].length], [1, 1]);
      assert.is(stats.upstreams[0].failures, 1);
      assert.equal(results.map((r) => r.outcome), ['servfail', 'success']);
    },
  },
  {
    name: 'REFUSED from server 1 fails over to server 2',
    servers: [always({ kind: 'refused' }), always({ kind: 'answer' })],
    expect: ({ reply, results }) => {
      assert.equal(answersOf(reply), ['192.0.2.1']);
      assert.equal(results.map((r) => r.outcome), ['refused', 'success']);
    },
  },
  {
    name: 'a silent server 1 fails over to server 2 after one timeout',
    servers: [always({ kind: 'silent' }), always({ kind: 'answer' })],
    options: { timeoutMs: 100 },
    expect: ({ reply, elapsedMs, results }) => {
      assert.equal(answersOf(reply), ['192.0.2.1']);
      assert.ok(elapsedMs >= 90 && elapsedMs < 400, `took ${elapsedMs} ms`);
      assert.equal(results.map((r) => r.outcome), ['timeout', 'success']);
    },
  },
  {
    name: 'NXDOMAIN is an answer: passed through, no failover',
    servers: [always({ kind: 'nxdomain' }), always({ kind: 'answer' })],
    expect: ({ reply, received }) => {
      assert.is(rcodeOf(reply), 'NXDOMAIN');
      assert.is(reply.authorities?.[0]?.type, 'SOA');
      assert.is(received[1].length, 0);
    },
  },
  {
    name: 'tries are bounded by attempts x servers, then SERVFAIL',
    servers: [always({ kind: 'servfail' }), always({ kind: 'refused' })],
    options: { attempts: 3 },
    expect: ({ reply, received }) => {
      assert.is(rcodeOf(reply), 'SERVFAIL');
      assert.equal([received[0].length, received[1].length], [3, 3]);
    },
  },
  {
    name: 'parallel mode asks every server at once and the first answer wins',
    servers: [
      always({ kind: 'answer', records: [{ type: 'A', name: 'example.com', ttl: 60, data: '192.0.2.111' }], delayMs: 400 }),
      always({ kind: 'answer', records: [{ type: 'A', name: 'example.com', ttl: 60, data: '192.0.2.222' }] }),
    ],
    options: { parallel: true },
    expect: ({ reply, received, elapsedMs }) => {
      assert.equal(answersOf(reply), ['192.0.2.222']);
      assert.equal([received[0].length, received[1].length], [1, 1]);
      assert.ok(elapsedMs < 300, `took ${elapsedMs} ms`);
    },
  },
  {
    name: 'parallel mode skips a SERVFAIL and takes the other server answer',
    servers: [always({ kind: 'servfail' }), always({ kind: 'answer', delayMs: 50 })],
    options: { parallel: true },
    expect: ({ reply }) => assert.equal(answersOf(reply), ['192.0.2.1']),
  },
  {
    name: 'parallel mode with every server silent ends in SERVFAIL after attempts rounds',
    servers: [always({ kind: 'silent' }), always({ kind: 'silent' })],
    options: { parallel: true, timeoutMs: 100, attempts: 2 },
    expect: ({ reply, received, elapsedMs }) => {
      assert.is(rcodeOf(reply), 'SERVFAIL');
      assert.equal([received[0].length, received[1].length], [2, 2]);
      assert.ok(elapsedMs >= 180 && elapsedMs < 500, `took ${elapsedMs} ms`);
    },
  },
];

async function withServers<T>(behaviours: Behaviour[], body: (fakes: FakeUpstream[]) => Promise<T>): Promise<T> {
  const fakes = await Promise.all(behaviours.map((b) => startFakeUpstream(b)));
  try {
    return await body(fakes);
  } finally {
    await Promise.all(fakes.map((f) => f.close()));
  }
}

for (const row of rows) {
  test(row.name, () =>
    withServers(row.servers, async (fakes) => {
      const results: Outcome['results'] = [];
      const handler = createForwardHandler({
        upstreams: () => fakes.map((f) => f.upstream),
        timeoutMs: 500,
        onUpstreamResult: (upstream, outcome) => results.push({ upstream, outcome }),
        ...row.options,
      });
      try {
        const query = makeQuery({ name: 'example.com', id: CLIENT_ID, ...row.query });
        const started = performance.now();
        const raw = await handler.handle(query, endOfChain);
        const elapsedMs = performance.now() - started;
        assert.ok(raw !== null, 'the forwarder always answers');
        row.expect({ reply: dnsPacket.decode(raw), raw, received: fakes.map((f) => f.received), elapsedMs, stats: handler.stats(), results });
      } finally {
        await handler.close();
      }
    }),
  );
}

test('source ports and IDs vary across 50 exchanges', () =>
  withServers([always({ kind: 'answer' })], async ([fake]) => {
    const handler = createForwardHandler({ upstreams: () => [fake.upstream] });
    try {
      for (let i = 0; i < 50; i++) await handler.handle(makeQuery({ name: `n${i}.example`, id: CLIENT_ID }), endOfChain);
      const ports = new Set(fake.received.map((q) => q.sourcePort));
      const ids = new Set(fake.received.map((q) => q.id));
      assert.is(fake.received.length, 50);
      assert.ok(ports.size >= 5, `only ${ports.size} distinct source ports`);
      assert.ok(ids.size >= 45, `only ${ids.size} distinct IDs`);
      assert.not.ok(ids.has(CLIENT_ID) && ids.size === 1);
    } finally {
      await handler.close();
    }
  }),
);

test('sockets are replaced after maxUsesPerSocket, so ports keep changing', () =>
  withServers([always({ kind: 'answer' })], async ([fake]) => {
    const handler = createForwardHandler({ upstreams: () => [fake.upstream], udp: { socketsPerFamily: 1, maxUsesPerSocket: 5 } });
    try {
      for (let i = 0; i < 20; i++) await handler.handle(makeQuery({ name: `p${i}.example` }), endOfChain);
      const ports = fake.received.map((q) => q.sourcePort);
      assert.is(new Set(ports.slice(0, 5)).size, 1, 'one socket serves 5 exchanges');
      assert.ok(new Set(ports).size >= 3, `ports: ${ports.join(',')}`);
    } finally {
      await handler.close();
    }
  }),
);

test('beyond maxInFlight a query gets SERVFAIL at once and is not sent upstream', () =>
  withServers([always({ kind: 'silent' })], async ([fake]) => {
    const handler = createForwardHandler({ upstreams: () => [fake.upstream], maxInFlight: 1, timeoutMs: 200, attempts: 1 });
    try {
      const first = handler.handle(makeQuery({ name: 'slow.example' }), endOfChain);
      const started = performance.now();
      const second = await handler.handle(makeQuery({ name: 'extra.example' }), endOfChain);
      assert.ok(performance.now() - started < 50);
      assert.is(rcodeOf(dnsPacket.decode(second as Buffer)), 'SERVFAIL');
      assert.is(handler.stats().rejected, 1);
      assert.is(handler.stats().inFlight, 1);
      await first;
      assert.equal(fake.received.map((q) => q.name), ['slow.example']);
      assert.is(handler.stats().inFlight, 0);
    } finally {
      await handler.close();
    }
  }),
);

test('no upstreams configured: SERVFAIL', async () => {
  const handler = createForwardHandler({ upstreams: () => [] });
  const reply = await handler.handle(makeQuery({ name: 'x.example' }), endOfChain);
  assert.is(rcodeOf(dnsPacket.decode(reply as Buffer)), 'SERVFAIL');
  await handler.close();
});

test('the upstream list is read per query, so it can change live', () =>
  withServers([always({ kind: 'answer' }), always({ kind: 'answer' })], async ([a, b]) => {
    let current = [a.upstream];
    const handler = createForwardHandler({ upstreams: () => current });
    try {
      await handler.handle(makeQuery({ name: 'one.example' }), endOfChain);
      current = [b.upstream];
      await handler.handle(makeQuery({ name: 'two.example' }), endOfChain);
      assert.equal(a.received.map((q) => q.name), ['one.example']);
      assert.equal(b.received.map((q) => q.name), ['two.example']);
      assert.equal(handler.stats().upstreams.map((u) => u.requests), [1, 1]);
    } finally {
      await handler.close();
    }
  }),
);

test('concurrent queries to one server each get their own answer', () =>
  withServers([(q) => ({ kind: 'answer', records: [{ type: 'A', name: q.name, ttl: 60, data: `192.0.2.${Number(q.name.split('.')[0].slice(1))}` }], delayMs: Math.floor(Math.random() * 30) })], async ([fake]) => {
    const handler = createForwardHandler({ upstreams: () => [fake.upstream] });
    try {
      const replies = await Promise.all(
        Array.from({ length: 100 }, (_, i) => handler.handle(makeQuery({ name: `h${i % 250}.example`, id: i }), endOfChain)),
      );
      replies.forEach((raw, i) => {
        const reply = dnsPacket.decode(raw as Buffer);
        assert.is(reply.id, i);
        assert.equal(answersOf(reply), [`192.0.2.${i % 250}`]);
      });
    } finally {
      await handler.close();
    }
  }),
);

test.run();
