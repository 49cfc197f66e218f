// ResolvConfCapture on real files at temp paths: follows the wanted state at each sync, reads
// upstreams from the saved original while captured, adopts a rewrite by someone else (counted),
// tells its own write apart, and reports restored after a restore.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResolvConfCapture } from '../../src/lifecycle';
import type { Snapshot } from '../../src/inputs';
import type { ListenAddress } from '../../src/config/types';

const LISTEN: ListenAddress = { host: '127.0.0.1', port: 53, family: 4 };
const ORIGINAL = 'nameserver 10.0.0.2\nsearch corp.example\n';

/** The parts of a snapshot capture reads: where resolv.conf and the state are, and whether to manage it. */
function snapshot(dir: string, manage: 'true' | 'false'): Snapshot {
  const settings = { resolvConf: { path: join(dir, 'resolv.conf'), manage }, stateDir: join(dir, 'state') };
  return { settings, effective: { settings, dnsCapture: false }, resolvConf: undefined } as unknown as Snapshot;
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

test('capture, our own write, a rewrite adopted, switch off', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-capture-'));
  try {
    mkdirSync(join(dir, 'state'));
    const path = join(dir, 'resolv.conf');
    writeFileSync(path, ORIGINAL);
    const capture = new ResolvConfCapture(quiet);
    assert.is(capture.state().state, 'not-managed');

    await capture.sync(snapshot(dir, 'true'), LISTEN);
    assert.equal(capture.state(), { state: 'captured', externalRewrites: 0 });
    assert.match(readFileSync(path, 'utf8'), /^nameserver 127\.0\.0\.1$/m);
    const seen = capture.withCapturedOriginal(snapshot(dir, 'true'));
    assert.equal(seen.resolvConf?.nameservers, ['10.0.0.2'], 'upstreams come from the saved original');

    assert.is(await capture.fileChanged(), 'ours', 'our own file: nothing to re-read');
    writeFileSync(path, 'nameserver 10.0.0.9\n');
    assert.is(await capture.fileChanged(), 'reload');
    assert.is(capture.state().externalRewrites, 1, 'the rewrite is counted');
    assert.equal(capture.withCapturedOriginal(snapshot(dir, 'true')).resolvConf?.nameservers, ['10.0.0.9'], 'and becomes the original');

    await capture.sync(snapshot(dir, 'false'), LISTEN);
    assert.is(capture.state().state, 'restored');
    assert.is(readFileSync(path, 'utf8'), 'nameserver 10.0.0.9\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a capture that fails is an error state, logged once per distinct error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-capture-'));
  try {
    const errors: string[] = [];
    const capture = new ResolvConfCapture({ ...quiet, error: (_f: object, m: string) => void errors.push(m) });
    // resolv.conf is a directory: capture cannot take it over.
    mkdirSync(join(dir, 'resolv.conf'));
    const snap = snapshot(dir, 'true');
    await capture.sync(snap, LISTEN);
    await capture.sync(snap, LISTEN);
    assert.is(capture.state().state, 'error');
    assert.ok(capture.state().error !== undefined);
    assert.is(errors.length, 1, errors.join('\n'));
    assert.match(errors[0], /resolv\.conf not captured; serving without it/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
