// respond(): the one way every transport answers. A synchronous reply is sent at once (through
// `send`, never `later`); a promise's reply through the sender `later` gave when the handler
// returned; null sends nothing; a throw or a rejection goes to `fail`; `finish` runs exactly
// once in every case.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { respond, type ReplyWriter } from '../../src/dns/respond';
import type { Reply } from '../../src/dns/types';

interface Log {
  events: string[];
  writer: ReplyWriter;
}

function recorder(): Log {
  const events: string[] = [];
  return {
    events,
    writer: {
      send: (reply) => events.push(`send ${reply.toString()}`),
      fail: (err) => events.push(`fail ${(err as Error).message}`),
      later: () => {
        events.push('later');
        return (reply) => events.push(`late ${reply.toString()}`);
      },
      finish: () => events.push('finish'),
    },
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const cases: Array<[string, (packet: Buffer, remote: string) => Reply | Promise<Reply>, string[]]> = [
  ['a synchronous reply is sent at once', (p) => Buffer.from(`re:${p.toString()}`), ['send re:q', 'finish']],
  ['a synchronous null sends nothing', () => null, ['finish']],
  [
    'a throw fails the query, nothing is sent',
    () => {
      throw new Error('boom');
    },
    ['fail boom', 'finish'],
  ],
  ['a promised reply goes through the late sender', async (p) => Buffer.from(`re:${p.toString()}`), ['later', 'late re:q', 'finish']],
  ['a promised null sends nothing', async () => null, ['later', 'finish']],
  ['a rejection fails the query', () => Promise.reject(new Error('gone')), ['later', 'fail gone', 'finish']],
];

for (const [title, handle, expected] of cases) {
  test(title, async () => {
    const log = recorder();
    respond(handle, Buffer.from('q'), '192.0.2.1', log.writer);
    await settle();
    assert.equal(log.events, expected);
  });
}

test('without `later` a promised reply goes through `send`; without `finish` nothing breaks', async () => {
  const sent: string[] = [];
  respond(async () => Buffer.from('x'), Buffer.from('q'), '', { send: (r) => sent.push(r.toString()), fail: () => assert.unreachable() });
  await settle();
  assert.equal(sent, ['x']);
});

test('the handler gets the packet and the remote address', () => {
  let seen = '';
  respond((p, remote) => ((seen = `${p.toString()} from ${remote}`), null), Buffer.from('q'), '192.0.2.7', recorder().writer);
  assert.is(seen, 'q from 192.0.2.7');
});

test.run();
