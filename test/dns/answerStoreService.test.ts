// The native answer store inside the running service (issue 19): queries it answers never reach
// the fast path, so the service must empty it itself when the table changes (a file reload) and
// when per-query debug logging starts; answers are the same bytes as the general path's; dig
// and kdig as the clients.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHarness, type Harness } from '../support/harness';
import { dig } from '../helpers/dig';
import { ask } from './client';

let h: Harness;

const entry = (address: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: web, namespace: n}\nspec: {hosts: [web.mesh.internal], addresses: [${address}]}\n`;

const storeReplies = (): number => h.service.status().answerStoreReplies as number;

async function addressOf(name = 'web.mesh.internal'): Promise<string[]> {
  // +nocookie: an OPT with a cookie option is not the hot shape (the general path answers it).
  const r = await dig({ port: h.port, name, type: 'A', extraArgs: ['+nocookie'] });
  assert.is(r.status, 'NOERROR');
  return r.answers.map((a) => a.data);
}

test.before(async () => {
  h = await startHarness({ resolvConf: 'nameserver 127.0.0.1\n', udpEngine: 'native', registry: { 'web.yaml': entry('198.51.100.1') } });
});
test.after(() => h.stop());

test('the second query for a name is answered from the store, with the bytes of the first', async () => {
  assert.is(storeReplies(), 0);
  const first = await ask(h.port, 'Web.Mesh.Internal', 'A');
  assert.is(storeReplies(), 1, 'the fast path put its template in the store');
  const second = await ask(h.port, 'Web.Mesh.Internal', 'A');
  assert.equal(second.raw.subarray(2), first.raw.subarray(2), 'same reply but the ID');
  assert.equal(await addressOf(), ['198.51.100.1']);
  // kdig (no EDNS by default) prints names in lower case; the case itself is asserted with `ask` above.
  for (let i = 0; i < 2; i++) {
    const k = await dig({ port: h.port, name: 'WEB.mesh.internal', type: 'A', tool: 'kdig' });
    assert.equal(k.answers.map((a) => [a.name, a.data]), [['web.mesh.internal.', '198.51.100.1']]);
  }
  assert.is(storeReplies(), 2, 'A without EDNS (ask and kdig share it) and A with a bare OPT (dig +nocookie)');
});

test('after a reload the store answers the new address, never the old one', async () => {
  assert.equal(await addressOf(), ['198.51.100.1']);
  assert.ok(storeReplies() > 0);
  h.write('registry.d/web.yaml', entry('198.51.100.2'));
  const deadline = Date.now() + 10_000;
  while ((await addressOf())[0] !== '198.51.100.2') {
    if (Date.now() > deadline) throw new Error('the changed address was never answered (a stale stored reply?)');
    await new Promise((r) => setTimeout(r, 20));
  }
  for (let i = 0; i < 5; i++) assert.equal(await addressOf(), ['198.51.100.2']);
  assert.ok(storeReplies() > 0, 'the new template is in the store again');
});

test('per-query debug logging (SIGUSR2) empties the store and keeps it empty until it ends', async () => {
  await addressOf();
  assert.ok(storeReplies() > 0);
  h.service.toggleDebug();
  try {
    assert.is(storeReplies(), 0, 'emptied at once: every query must reach the pipeline to be logged');
    for (let i = 0; i < 3; i++) assert.equal(await addressOf(), ['198.51.100.2']);
    assert.is(storeReplies(), 0);
  } finally {
    h.service.toggleDebug();
  }
  await addressOf();
  assert.ok(storeReplies() > 0, 'back in use after debug logging ends');
});

test.run();
