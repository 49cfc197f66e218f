import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dnsPacket from 'dns-packet';
import { CoarseTimer, ExchangeResult, buildUpstreamQuery, tcpExchange } from '../../../src/dns/forward';
import { FakeAction, startFakeUpstream } from '../../helpers/fakeUpstream';
import { getFreePort } from '../../helpers/ports';
import { makeQuery } from '../../helpers/query';

const query = makeQuery({ name: 'tcp.test', id: 0x0202 });
const packet = buildUpstreamQuery(query);
packet.writeUInt16BE(0x7777, 0);
const timer = new CoarseTimer({ tickMs: 10 });

interface Row {
  name: string;
  action: FakeAction;
  timeoutMs?: number;
  expect: (r: ExchangeResult) => void;
}

const rows: Row[] = [
  {
    name: 'an answer comes back framed',
    action: { kind: 'answer' },
    expect: (r) => {
      assert.is(r.kind, 'reply');
      if (r.kind === 'reply') assert.equal((dnsPacket.decode(r.packet).answers ?? []).map((a) => (a as { data: unknown }).data), ['192.0.2.1']);
    },
  },
  { name: 'a large answer arrives whole', action: { kind: 'giant', count: 2000 }, expect: (r) => assert.is(r.kind === 'reply' && dnsPacket.decode(r.packet).answers?.length, 2000) },
  { name: 'a frame with a wrong ID is skipped and the right one taken', action: { kind: 'wrong-id-first' }, expect: (r) => assert.is(r.kind === 'reply' && r.packet.readUInt16BE(0), 0x7777) },
  { name: 'a frame for another question is skipped', action: { kind: 'wrong-question-first' }, expect: (r) => assert.is(r.kind === 'reply' && dnsPacket.decode(r.packet).questions?.[0].name, 'tcp.test') },
  { name: 'silence ends in a timeout', action: { kind: 'silent' }, timeoutMs: 100, expect: (r) => assert.is(r.kind, 'timeout') },
];

for (const row of rows) {
  test(row.name, async () => {
    const fake = await startFakeUpstream(() => row.action);
    try {
      row.expect(await tcpExchange(fake.upstream, packet, query.questionEnd, row.timeoutMs ?? 1000, timer));
      assert.equal(fake.received.map((q) => q.transport), ['tcp']);
    } finally {
      await fake.close();
    }
  });
}

test('a refused connection is an error', async () => {
  const port = await getFreePort();
  const result = await tcpExchange({ host: '127.0.0.1', port, family: 4 }, packet, query.questionEnd, 1000, timer);
  assert.is(result.kind, 'error');
});

test('an abort ends it as cancelled', async () => {
  const fake = await startFakeUpstream(() => ({ kind: 'silent' }));
  try {
    const controller = new AbortController();
    const pending = tcpExchange(fake.upstream, packet, query.questionEnd, 5000, timer, controller.signal);
    setTimeout(() => controller.abort(), 20);
    assert.is((await pending).kind, 'cancelled');
  } finally {
    await fake.close();
  }
});

test.run();
