// The saved workload certificate on disk: key and chain are one file (`pair.pem`) replaced with a
// single rename, so a stop or crash in the middle of a save never leaves a key from one pair and a
// certificate from another (found by test/istiod/workloadCert.test.ts: a restart during a renewal
// left a VM without a token unable to connect). key.pem and cert-chain.pem stay for operators.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHAIN_FILE, KEY_FILE, PAIR_FILE, loadCert, makeKeyAndCsr, saveCert, type WorkloadCert } from '../../src/istiod/workloadCert';
import { FakeCa } from '../support/fakeCa';
import { makeTestCa } from '../support/testCa';

const dir = mkdtempSync(join(tmpdir(), 'meshdns-certfiles-'));
const ca = makeTestCa(join(dir, 'ca'));
const fakeCa = new FakeCa({ caKey: ca.caKey, caCert: ca.rootCert, trustDomain: 'cluster.local' });
const IDENTITY = 'spiffe://cluster.local/ns/vm-ns/sa/vm-sa';

async function issue(): Promise<{ keyPem: string; chainPem: string }> {
  const { keyPem, csrPem } = await makeKeyAndCsr(IDENTITY);
  const chain = await fakeCa.sign(csrPem, IDENTITY, 3600);
  if (typeof chain === 'string') throw new Error(chain);
  return { keyPem, chainPem: chain.map((c) => (c.endsWith('\n') ? c : `${c}\n`)).join('') };
}

function usable(loaded: WorkloadCert | string | undefined): WorkloadCert {
  if (loaded === undefined || typeof loaded === 'string') throw new Error(`not a usable pair: ${String(loaded)}`);
  return loaded;
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a save writes the pair file (0600) and the two files Istio names', async () => {
  const certs = join(dir, 'a');
  const { keyPem, chainPem } = await issue();
  await saveCert(certs, keyPem, chainPem);
  assert.is(statSync(join(certs, PAIR_FILE)).mode & 0o777, 0o600);
  assert.is(statSync(join(certs, KEY_FILE)).mode & 0o777, 0o600);
  assert.is(readFileSync(join(certs, CHAIN_FILE), 'utf8'), chainPem);
  assert.is(usable(await loadCert(certs)).identity, IDENTITY);
});

test('a key.pem of the next pair written before its chain (a stop between two renames) does not spoil the saved pair', async () => {
  const certs = join(dir, 'b');
  const first = await issue();
  await saveCert(certs, first.keyPem, first.chainPem);
  const next = await issue();
  writeFileSync(join(certs, KEY_FILE), next.keyPem);
  const loaded = usable(await loadCert(certs));
  assert.is(loaded.chain.toString(), first.chainPem, 'the pair that was saved whole');
});

test('a state dir saved before the pair file: the two files are read', async () => {
  const certs = join(dir, 'c');
  const { keyPem, chainPem } = await issue();
  await saveCert(certs, keyPem, chainPem);
  rmSync(join(certs, PAIR_FILE));
  assert.is(usable(await loadCert(certs)).identity, IDENTITY);
  writeFileSync(join(certs, KEY_FILE), (await issue()).keyPem);
  assert.match(String(await loadCert(certs)), /key does not belong/);
});

test.run();
