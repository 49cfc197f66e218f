// The UDP fast path (issue #6) against the general path: for every row of the parity table, in
// many query variants (ID, letter case, RD, CD, EDNS with and without DO), the fast path either
// declines (the row is not a local A/AAAA answer) or writes exactly the bytes the general path
// (parse → guard → meshTable) produces. Then the same end to end: raw replies of a service on the
// native engine (fast path on) equal those of a service on Node's dgram (general path only).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dnsPacket from 'dns-packet';
import { createFastPath, type FastPath } from '../../src/dns/fastPath';
import { createPipeline } from '../../src/dns/pipeline';
import { createGuardHandler } from '../../src/dns/guardHandler';
import { createMeshHandler } from '../../src/dns/meshHandler';
import type { Handler } from '../../src/dns/types';
import type { NameTable } from '../../src/nametable/types';
import { sendRaw } from './client';
import { rows, startParityServers, type ParityServers, type Row } from './parityRows';

let servers: ParityServers;
let native: ParityServers['native'];
let dgram: ParityServers['dgram'];

test.before(async () => {
  servers = await startParityServers();
  ({ native, dgram } = servers);
});
test.after(() => servers.stop());

interface Variant {
  id: number;
  upper: boolean[];
  rd: boolean;
  cd: boolean;
  edns?: { size: number; dnssecOk: boolean };
}

/** Deterministic variants: every combination of RD, CD and EDNS state, with changing IDs and case. */
function variants(name: string): Variant[] {
  const out: Variant[] = [];
  const ednsStates = [undefined, { size: 1232, dnssecOk: false }, { size: 4096, dnssecOk: true }, { size: 512, dnssecOk: false }];
  let seed = 7;
  const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (const rd of [true, false]) {
    for (const cd of [false, true]) {
      for (const edns of ednsStates) {
        out.push({ id: next() & 0xffff, upper: [...name].map(() => (next() & 4) !== 0), rd, cd, edns });
      }
    }
  }
  return out;
}

function queryBytes(row: Row, v: Variant): Buffer {
  const name = [...row.name].map((c, i) => (v.upper[i] ? c.toUpperCase() : c.toLowerCase())).join('');
  const packet: dnsPacket.Packet = {
    type: 'query',
    id: v.id,
    flags: (v.rd ? dnsPacket.RECURSION_DESIRED : 0) | (v.cd ? dnsPacket.CHECKING_DISABLED : 0),
    questions: [{ name, type: (row.type ?? 'A') as dnsPacket.RecordType, class: 'IN' }],
  };
  if (v.edns !== undefined) {
    packet.additionals = [
      { type: 'OPT', name: '.', udpPayloadSize: v.edns.size, flags: v.edns.dnssecOk ? dnsPacket.DNSSEC_OK : 0 } as unknown as dnsPacket.Answer,
    ];
  }
  return dnsPacket.encode(packet);
}

/** The general path as the chain runs it before the cache: guard → meshTable; null = not answered locally. */
function generalPath(table: NameTable): (packet: Buffer) => Buffer | null {
  const notLocal: Handler = { name: 'end', handle: () => null };
  const pipeline = createPipeline([createGuardHandler(), createMeshHandler({ table: () => table, ttl: () => 30 }), notLocal]);
  return (packet) => {
    const reply = pipeline(packet, 'udp');
    if (reply instanceof Promise) throw new Error('the local chain went asynchronous');
    return reply;
  };
}

function fastPathFor(table: NameTable): { fast: FastPath; answered: number[] } {
  const answered: number[] = [];
  const fast = createFastPath({ table: () => table, ttl: () => 30, enabled: () => true, onAnswered: (t) => answered.push(t) });
  return { fast, answered };
}

/** Runs the fast path on `packet` placed at an offset in a shared slot, as the batch listener does. */
function runFast(fast: FastPath, packet: Buffer): Buffer | null {
  const inData = Buffer.alloc(4096, 0xee);
  const out = Buffer.alloc(4096, 0xdd);
  packet.copy(inData, 1000);
  const written = fast.answer(inData, 1000, packet.length, out, 2000);
  return written === 0 ? null : Buffer.from(out.subarray(2000, 2000 + written));
}

const localTypes = new Set(['A', 'AAAA']);

for (const row of rows) {
  test(`fast path = general path, #${row.n} ${row.title}`, () => {
    const table = native.service.table!;
    const general = generalPath(table);
    const { fast, answered } = fastPathFor(table);
    let fastAnswers = 0;
    for (const v of variants(row.name)) {
      const packet = queryBytes(row, v);
      const expected = general(packet);
      const got = runFast(fast, packet);
      if (got === null) {
        // Declining is always correct; but a local A/AAAA answer that fits 512 bytes must be taken.
        const mustTake = expected !== null && localTypes.has(row.type ?? 'A') && expected.length <= 512 && row.rotates !== true;
        assert.not.ok(mustTake, `fast path declined a local answer (variant ${JSON.stringify(v)})`);
        continue;
      }
      fastAnswers++;
      assert.not.ok(row.rotates, 'a rotating answer (several addresses) never comes from a template');
      assert.ok(expected !== null, 'fast path answered a query the general path does not answer locally');
      assert.equal(got.toString('hex'), expected!.toString('hex'), `variant ${JSON.stringify(v)}`);
    }
    assert.is(answered.length, fastAnswers, 'every fast answer is counted');
    if (!localTypes.has(row.type ?? 'A')) assert.is(fastAnswers, 0, 'only A/AAAA take the fast path');
  });
}

test('the fast path declines malformed and unusual shapes the general path must judge', () => {
  const table = native.service.table!;
  const { fast } = fastPathFor(table);
  const good = queryBytes({ n: 'x', title: '', name: 'productpage', expect: { answers: [] } }, { id: 1, upper: [], rd: true, cd: false });
  assert.ok(runFast(fast, good) !== null, 'the plain query is taken');
  const cases: Array<[string, (b: Buffer) => Buffer]> = [
    ['a response (QR=1)', (b) => ((b[2] |= 0x80), b)],
    ['opcode NOTIFY', (b) => ((b[2] |= 4 << 3), b)],
    ['two questions', (b) => ((b[5] = 2), b)],
    ['an answer record count', (b) => ((b[7] = 1), b)],
    ['an OPT count without an OPT', (b) => ((b[11] = 1), b)],
    ['trailing bytes', (b) => Buffer.concat([b, Buffer.from([0])])],
    ['cut short', (b) => b.subarray(0, b.length - 2)],
    ['class CH', (b) => ((b[b.length - 1] = 3), b)],
    ['a label with a dot in it', (b) => ((b[15] = 0x2e), b)],
    ['a compression pointer as the name', (b) => Buffer.concat([b.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])])],
  ];
  for (const [what, mutate] of cases) {
    assert.is(runFast(fast, mutate(Buffer.from(good))), null, what);
  }
  const withOption = dnsPacket.encode({
    type: 'query',
    id: 2,
    questions: [{ name: 'productpage', type: 'A', class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 10, data: Buffer.alloc(8, 1) }] } as unknown as dnsPacket.Answer],
  });
  assert.is(runFast(fast, withOption), null, 'an OPT with options (a cookie)');
});

test('a new table (reload) replaces the templates', () => {
  const table = native.service.table!;
  let current: NameTable | undefined = table;
  const fast = createFastPath({ table: () => current, ttl: () => 30, enabled: () => true, onAnswered: () => undefined });
  const packet = queryBytes({ n: 'x', title: '', name: 'productpage', expect: { answers: [] } }, { id: 1, upper: [], rd: true, cd: false });
  assert.ok(runFast(fast, packet) !== null);
  assert.is(fast.size, 1);
  current = dgram.service.table; // another table object
  assert.ok(runFast(fast, packet) !== null);
  assert.is(fast.size, 1, 'templates of the old table were dropped');
  current = undefined;
  assert.is(runFast(fast, packet), null, 'no table: the general path forwards');
});

test('the fast path stands aside while it is disabled (per-query debug logging)', () => {
  const fast = createFastPath({ table: () => native.service.table, ttl: () => 30, enabled: () => false, onAnswered: () => undefined });
  const packet = queryBytes({ n: 'x', title: '', name: 'productpage', expect: { answers: [] } }, { id: 1, upper: [], rd: true, cd: false });
  assert.is(runFast(fast, packet), null);
});

for (const row of rows) {
  if (row.only === 'tcp') continue;
  test(`native engine (fast path) and dgram (general path) send the same bytes, #${row.n}`, async () => {
    // Twice: the first query builds the template, the second is answered from it.
    for (const v of variants(row.name).slice(0, 4)) {
      const packet = queryBytes(row, v);
      const [fromNative, fromDgram] = await Promise.all([sendRaw(native.port, packet), sendRaw(dgram.port, packet)]);
      if (row.rotates === true) {
        // Both rotate (each server its own turn): the same records, the same length.
        assert.equal(answerSet(fromNative), answerSet(fromDgram), `variant ${JSON.stringify(v)}`);
        continue;
      }
      assert.equal(fromNative.toString('hex'), fromDgram.toString('hex'), `variant ${JSON.stringify(v)}`);
    }
  });
}

function answerSet(reply: Buffer): string[] {
  const msg = dnsPacket.decode(reply);
  return (msg.answers ?? []).map((a) => `${a.type} ${a.name} ${JSON.stringify((a as { data?: unknown }).data)}`).sort();
}

test('the end-to-end runs above went through the fast path', () => {
  const status = native.service.status() as { udpEngine: string; fastPathTemplates: number; answerStoreReplies: number };
  assert.is(status.udpEngine, 'native');
  assert.ok(status.fastPathTemplates > 5, `${status.fastPathTemplates} templates`);
  // The repeated variants of those rows were answered by the native answer store: same bytes.
  assert.ok(status.answerStoreReplies > 5, `${status.answerStoreReplies} replies in the native answer store`);
});

test.run();
