// The VIP state file in the running service (docs/ARCHITECTURE.md §2: a host keeps its VIP across restarts):
// a VIP handed out while serving is saved, also when the service stops before the batched save
// ran; and a reload that leaves every VIP where it was does not rewrite the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { MeshDnsService } from '../../src/service';
import { startHarness, type Harness } from '../support/harness';
import { ask, answerLines } from '../dns/client';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fakeUpstream';

const autoEntry = (name: string): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: ns1}
spec: {hosts: [${name}.internal], resolution: DNS}
`;
const staticEntry = (ip: string): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: fixed, namespace: ns1}
spec: {hosts: [fixed.internal], addresses: [${ip}]}
`;

let upstream: FakeUpstream;

/** Inputs of every service here: names not in the table go to a fake upstream on loopback. */
function inputs(registry: Record<string, string>): Parameters<typeof startHarness>[0] {
  return { resolvConf: 'nameserver 127.0.0.1\n', settings: `upstreams: ["127.0.0.1:${upstream.port}"]\n`, registry };
}

async function served(port: number, name: string, want?: string): Promise<string> {
  const started = Date.now();
  for (;;) {
    const lines = answerLines(await ask(port, name, 'A', { timeoutMs: 1000 }).catch(() => ({ msg: {} }) as Awaited<ReturnType<typeof ask>>));
    if (lines.length === 1 && (want === undefined || lines[0].endsWith(` ${want}`))) return lines[0].split(' ')[2];
    if (Date.now() - started > 3000) throw new Error(`${name} not served (${lines.join(',')})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function stateFile(h: Harness): string {
  return join(h.dir, 'state', 'vips.json');
}

function savedV4(h: Harness, key: string): string | undefined {
  const state = JSON.parse(readFileSync(stateFile(h), 'utf8')) as { allocations: Record<string, { v4: string }> };
  return state.allocations[key]?.v4;
}

test('setup: a fake upstream', async () => {
  upstream = await startFakeUpstream(() => ({ kind: 'nxdomain' }));
});

test('a VIP handed out just before stop is saved, and a restart serves the same one', async () => {
  const h = await startHarness(inputs({ 'a.yaml': autoEntry('a') }));
  try {
    const vipA = await served(h.port, 'a.internal');
    h.write(join('registry.d', 'b.yaml'), autoEntry('b'));
    const vipB = await served(h.port, 'b.internal');
    assert.is.not(vipB, vipA);
    await h.service.stop(); // before the batched save (1 s) has run
    assert.is(savedV4(h, 'ns1/a/a.internal'), vipA);
    assert.is(savedV4(h, 'ns1/b/b.internal'), vipB);
    // A restart with b listed first would hand it 240.240.0.1 without the saved state.
    rmSync(join(h.registryDir, 'a.yaml'));
    h.write(join('registry.d', '0-first.yaml'), autoEntry('c'));
    const again = new MeshDnsService({ settingsFile: join(h.dir, 'meshdns.yaml'), logger: pino({ level: 'silent' }), resolvedUplinksFile: join(h.dir, 'none.conf') });
    await again.start();
    try {
      assert.is(await served(again.listenAddresses[0].port, 'b.internal'), vipB);
    } finally {
      await again.stop();
    }
  } finally {
    rmSync(h.dir, { recursive: true, force: true });
  }
});

test('a reload that moves no VIP leaves the state file alone', async () => {
  const h = await startHarness(inputs({ 'a.yaml': autoEntry('a'), 'fixed.yaml': staticEntry('198.51.100.1') }));
  try {
    await served(h.port, 'a.internal');
    const savedAt = statSync(stateFile(h)).mtimeMs;
    // Re-parsed with the same content (new objects: a's key is released and taken again) and a
    // changed file that holds no VIP.
    h.write(join('registry.d', 'a.yaml'), autoEntry('a'));
    h.write(join('registry.d', 'fixed.yaml'), staticEntry('198.51.100.2'));
    await served(h.port, 'fixed.internal', '198.51.100.2');
    await new Promise((r) => setTimeout(r, 1500)); // past the batched save's delay
    assert.is(statSync(stateFile(h)).mtimeMs, savedAt, 'vips.json was rewritten');
    // A new VIP is saved.
    h.write(join('registry.d', 'b.yaml'), autoEntry('b'));
    const vipB = await served(h.port, 'b.internal');
    await new Promise((r) => setTimeout(r, 1500));
    assert.is(savedV4(h, 'ns1/b/b.internal'), vipB);
  } finally {
    await h.stop();
  }
});

test('teardown', async () => {
  await upstream.close();
});

test.run();
