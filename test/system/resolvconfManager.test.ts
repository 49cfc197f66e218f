// ResolvConfManager against real files at temp paths (docs/ARCHITECTURE.md §4): every lifecycle case without
// a running service. The namespace tests prove the same with glibc's resolver.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImmutableFileError, ResolvConfManager, CAPTURE_MARKER_FILE, ORIGINAL_COPY_FILE, isOurResolvConf } from '../../src/system/resolvconf';
import type { ListenAddress } from '../../src/config/types';

const LISTEN: ListenAddress = { host: '127.0.0.1', port: 53, family: 4 };
const ORIGINAL = '# written by DHCP\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch ns1.svc.cluster.local. corp.example.\noptions ndots:5 timeout:1\n';

interface Fixture {
  dir: string;
  path: string;
  stateDir: string;
  manager(): ResolvConfManager;
  read(): string;
  markerExists(): boolean;
}

function fixture(base = tmpdir()): Fixture {
  const dir = mkdtempSync(join(base, 'meshdns-rc-'));
  mkdirSync(join(dir, 'etc'));
  const path = join(dir, 'etc', 'resolv.conf');
  const stateDir = join(dir, 'state');
  return {
    dir,
    path,
    stateDir,
    manager: () => new ResolvConfManager({ path, stateDir }),
    read: () => readFileSync(path, 'utf8'),
    markerExists: () => existsSync(join(stateDir, CAPTURE_MARKER_FILE)),
  };
}

function cleanup(f: Fixture): void {
  rmSync(f.dir, { recursive: true, force: true });
}

test('plain file: saved before the change, ours written, original back byte for byte with its mode', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL, { mode: 0o640 });
    const inodeBefore = statSync(f.path).ino;
    const m = f.manager();
    await m.capture(LISTEN);
    assert.ok(m.captured);
    const ours = f.read();
    assert.ok(isOurResolvConf(ours));
    assert.match(ours, /^nameserver 127\.0\.0\.1$/m);
    assert.not.match(ours, /10\.0\.0\.2/, 'the original nameservers are not in our file');
    assert.is(statSync(f.path).mode & 0o777, 0o640, 'our file keeps the original mode');
    assert.is.not(statSync(f.path).ino, inodeBefore, 'written by rename (atomic), not in place');
    assert.is(readFileSync(join(f.stateDir, ORIGINAL_COPY_FILE), 'utf8'), ORIGINAL, 'readable copy of the original in the state dir');
    assert.ok(f.markerExists());
    assert.equal(m.original()?.nameservers, ['10.0.0.2', '10.0.0.3'], 'upstreams come from the original');
    assert.is(await m.restore(), 'restored');
    assert.is(f.read(), ORIGINAL);
    assert.is(statSync(f.path).mode & 0o777, 0o640);
    assert.not.ok(f.markerExists(), 'state removed after restore');
    assert.not.ok(existsSync(join(f.stateDir, ORIGINAL_COPY_FILE)));
  } finally {
    cleanup(f);
  }
});

test('search with trailing dots, domain and options lines are carried over unchanged', async () => {
  const f = fixture();
  try {
    const original = 'nameserver 10.0.0.2\ndomain old.example\nsearch a.example. b.example.\noptions ndots:5\noptions edns0 trust-ad\n';
    writeFileSync(f.path, original);
    const m = f.manager();
    await m.capture(LISTEN);
    const kept = f.read().split('\n').filter((l) => /^(search|domain|options)/.test(l));
    assert.equal(kept, ['domain old.example', 'search a.example. b.example.', 'options ndots:5', 'options edns0 trust-ad']);
    assert.equal(m.original()?.search, ['a.example.', 'b.example.'], 'trailing dots kept in the parsed original');
    await m.restore();
    assert.is(f.read(), original);
  } finally {
    cleanup(f);
  }
});

test('symlink (systemd-resolved stub): replaced by a file, put back as the same symlink; the target untouched', async () => {
  const f = fixture();
  try {
    mkdirSync(join(f.dir, 'run', 'resolve'), { recursive: true });
    const stub = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example.\n';
    const target = join(f.dir, 'run', 'resolve', 'stub-resolv.conf');
    writeFileSync(target, stub);
    symlinkSync('../run/resolve/stub-resolv.conf', f.path);
    const m = f.manager();
    await m.capture(LISTEN);
    assert.ok(lstatSync(f.path).isFile(), 'the link was replaced by a regular file');
    assert.match(f.read(), /^search corp\.example\.$/m);
    assert.equal(m.original()?.nameservers, ['127.0.0.53'], 'the stub is the original (chooseUpstreams swaps in the uplinks)');
    assert.is(readFileSync(target, 'utf8'), stub);
    assert.is(await m.restore(), 'restored');
    assert.ok(lstatSync(f.path).isSymbolicLink());
    assert.is(readlinkSync(f.path), '../run/resolve/stub-resolv.conf', 'same link text, relative as it was');
    assert.is(readFileSync(target, 'utf8'), stub);
  } finally {
    cleanup(f);
  }
});

test('dangling symlink: captured (no upstreams), put back dangling', async () => {
  const f = fixture();
  try {
    symlinkSync('/nonexistent/meshdns-test/stub-resolv.conf', f.path);
    const m = f.manager();
    await m.capture(LISTEN);
    assert.equal(m.original()?.nameservers, []);
    await m.restore();
    assert.is(readlinkSync(f.path), '/nonexistent/meshdns-test/stub-resolv.conf');
  } finally {
    cleanup(f);
  }
});

test('missing file: ours is written (no upstreams), and restore removes it again', async () => {
  const f = fixture();
  try {
    const m = f.manager();
    await m.capture(LISTEN);
    assert.ok(isOurResolvConf(f.read()));
    assert.equal(m.original()?.nameservers, []);
    const marker = JSON.parse(readFileSync(join(f.stateDir, CAPTURE_MARKER_FILE), 'utf8'));
    assert.is(marker.original.kind, 'absent', 'the marker records that there was no file');
    assert.is(await m.restore(), 'restored');
    assert.not.ok(existsSync(f.path));
  } finally {
    cleanup(f);
  }
});

test('restore leaves a file that is no longer ours alone, and clears the state', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL);
    const m = f.manager();
    await m.capture(LISTEN);
    writeFileSync(f.path, 'nameserver 192.0.2.99\n');
    assert.is(await m.restore(), 'not-ours');
    assert.is(f.read(), 'nameserver 192.0.2.99\n');
    assert.not.ok(f.markerExists());
    assert.not.ok(m.captured);
  } finally {
    cleanup(f);
  }
});

test('handleChange: our own write is "ours"; an external rewrite becomes the new original and ours is written again', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL);
    const m = f.manager();
    await m.capture(LISTEN);
    assert.is(await m.handleChange(), 'ours');
    const dhcp = '# NetworkManager\nnameserver 10.9.9.9\nsearch new.example.\n';
    writeFileSync(f.path, dhcp);
    assert.is(await m.handleChange(), 'adopted');
    assert.equal(m.original()?.nameservers, ['10.9.9.9'], 'upstreams follow the rewrite');
    const ours = f.read();
    assert.ok(isOurResolvConf(ours), 'ours written again');
    assert.match(ours, /^search new\.example\.$/m, 'with the new search line');
    assert.is(readFileSync(join(f.stateDir, ORIGINAL_COPY_FILE), 'utf8'), dhcp);
    assert.is(await m.handleChange(), 'ours');
    assert.is(await m.restore(), 'restored');
    assert.is(f.read(), dhcp, 'restore puts back the newest original');
  } finally {
    cleanup(f);
  }
});

test('handleChange: our file deleted or edited is written again; the original is kept', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL);
    const m = f.manager();
    await m.capture(LISTEN);
    rmSync(f.path);
    assert.is(await m.handleChange(), 'rewritten');
    assert.ok(isOurResolvConf(f.read()));
    writeFileSync(f.path, f.read() + 'nameserver 10.1.1.1\n');
    assert.is(await m.handleChange(), 'rewritten');
    assert.not.match(f.read(), /10\.1\.1\.1/);
    assert.equal(m.original()?.nameservers, ['10.0.0.2', '10.0.0.3']);
    await m.restore();
    assert.is(f.read(), ORIGINAL);
  } finally {
    cleanup(f);
  }
});

test('crash (marker left, file ours): the next start restores the original', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL, { mode: 0o600 });
    await f.manager().capture(LISTEN); // this "process" dies without restoring
    const next = f.manager();
    assert.is(await next.recoverAtStart(), 'restored');
    assert.is(f.read(), ORIGINAL);
    assert.is(statSync(f.path).mode & 0o777, 0o600);
    assert.not.ok(f.markerExists());
    assert.is(await next.recoverAtStart(), 'nothing', 'idempotent');
  } finally {
    cleanup(f);
  }
});

test('stopped in the middle of writing the original back in place (torn file): the next start finishes it', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL);
    const m = f.manager();
    await m.capture(LISTEN);
    const ours = f.read();
    // What a kill between the in-place write and the truncate leaves: the original's bytes over
    // the start of ours, the rest of ours after them (not recognisably ours any more).
    const torn = Buffer.concat([Buffer.from(ORIGINAL), Buffer.from(ours).subarray(ORIGINAL.length)]).toString();
    assert.ok(torn.length > ORIGINAL.length && !isOurResolvConf(torn), 'the torn file is neither');
    // The marker as restore() leaves it just before writing the original back.
    const markerFile = join(f.stateDir, CAPTURE_MARKER_FILE);
    const marker = JSON.parse(readFileSync(markerFile, 'utf8')) as Record<string, unknown>;
    const restoring = { ...marker, restoring: true, replacingBase64: Buffer.from(ours).toString('base64') };
    writeFileSync(markerFile, JSON.stringify(restoring));
    writeFileSync(f.path, torn);
    assert.is(await f.manager().recoverAtStart(), 'restored');
    assert.is(f.read(), ORIGINAL);
    assert.not.ok(f.markerExists());
    // Stopped while restoring, then someone else wrote the file before the next start: theirs stays.
    await f.manager().capture(LISTEN);
    writeFileSync(markerFile, JSON.stringify(restoring));
    writeFileSync(f.path, 'nameserver 192.0.2.99\n');
    assert.is(await f.manager().recoverAtStart(), 'kept-current');
    assert.is(f.read(), 'nameserver 192.0.2.99\n');
    // Without the flag the same torn file looks like someone else's: kept, and the original lost.
    await f.manager().capture(LISTEN);
    writeFileSync(markerFile, JSON.stringify(marker));
    writeFileSync(f.path, torn);
    assert.is(await f.manager().recoverAtStart(), 'kept-current');
  } finally {
    cleanup(f);
  }
});

test('restore() saves the marker as "restoring" before it writes the original back', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL);
    const m = f.manager();
    await m.capture(LISTEN);
    const markerFile = join(f.stateDir, CAPTURE_MARKER_FILE);
    // The order that matters, seen from the file system: when resolv.conf first changes, the marker says restoring.
    const store = (m as unknown as { store: { write(marker: { restoring?: boolean }): Promise<void> } }).store;
    const write = store.write.bind(store);
    const seen: Array<{ restoring: boolean | undefined; fileIsOriginal: boolean }> = [];
    store.write = async (marker) => {
      seen.push({ restoring: marker.restoring, fileIsOriginal: f.read() === ORIGINAL });
      await write(marker);
      assert.is((JSON.parse(readFileSync(markerFile, 'utf8')) as { restoring?: boolean }).restoring, true);
    };
    assert.is(await m.restore(), 'restored');
    assert.equal(seen, [{ restoring: true, fileIsOriginal: false }], 'marked before the original was written');
    assert.is(f.read(), ORIGINAL);
    assert.not.ok(f.markerExists());
  } finally {
    cleanup(f);
  }
});

test('crash then capture without explicit recovery: the saved original is used, never our own file', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL);
    await f.manager().capture(LISTEN);
    const next = f.manager();
    await next.capture(LISTEN);
    assert.equal(next.original()?.nameservers, ['10.0.0.2', '10.0.0.3']);
    assert.is(readFileSync(join(f.stateDir, ORIGINAL_COPY_FILE), 'utf8'), ORIGINAL);
    await next.restore();
    assert.is(f.read(), ORIGINAL);
  } finally {
    cleanup(f);
  }
});

test('crash, then someone replaced the file while meshdns was down: theirs is kept', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL);
    await f.manager().capture(LISTEN);
    writeFileSync(f.path, 'nameserver 192.0.2.50\n');
    assert.is(await f.manager().recoverAtStart(), 'kept-current');
    assert.is(f.read(), 'nameserver 192.0.2.50\n');
    assert.not.ok(f.markerExists());
  } finally {
    cleanup(f);
  }
});

test('crash symlink case: the next start puts the symlink back', async () => {
  const f = fixture();
  try {
    writeFileSync(join(f.dir, 'stub'), 'nameserver 127.0.0.53\n');
    symlinkSync('../stub', f.path);
    await f.manager().capture(LISTEN);
    assert.is(await f.manager().recoverAtStart(), 'restored');
    assert.is(readlinkSync(f.path), '../stub');
  } finally {
    cleanup(f);
  }
});

test('our own file without a saved original is refused (it must never become the "original")', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL);
    await f.manager().capture(LISTEN);
    rmSync(f.stateDir, { recursive: true }); // someone wiped the state dir
    const ours = f.read();
    await f.manager().capture(LISTEN).then(
      () => assert.unreachable('capture must refuse'),
      (err: Error) => assert.match(err.message, /written by meshdns but .* holds no saved original/),
    );
    assert.is(f.read(), ours);
    assert.not.ok(f.markerExists());
  } finally {
    cleanup(f);
  }
});

test('a damaged marker is an error that says what to do; the file is untouched', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL);
    mkdirSync(f.stateDir);
    writeFileSync(join(f.stateDir, CAPTURE_MARKER_FILE), '{"version":1,');
    await f.manager().recoverAtStart().then(
      () => assert.unreachable('must throw'),
      (err: Error) => assert.match(err.message, /damaged.*put it back by hand/),
    );
    assert.is(f.read(), ORIGINAL);
  } finally {
    cleanup(f);
  }
});

test('a listen port other than 53 is refused before anything is saved or written', async () => {
  const f = fixture();
  try {
    writeFileSync(f.path, ORIGINAL);
    const m = f.manager();
    await m.capture({ host: '127.0.0.1', port: 5353, family: 4 }).then(
      () => assert.unreachable('must refuse'),
      (err: Error) => assert.match(err.message, /only uses port 53/),
    );
    assert.is(f.read(), ORIGINAL);
    assert.not.ok(f.markerExists());
    assert.not.ok(m.captured);
  } finally {
    cleanup(f);
  }
});

/** A directory whose filesystem supports chattr +i (ext4 /var/tmp or /tmp; tmpfs does not). */
function immutableCapableDir(): string | undefined {
  for (const base of ['/var/tmp', tmpdir()]) {
    const probe = mkdtempSync(join(base, 'meshdns-attr-'));
    const file = join(probe, 'f');
    writeFileSync(file, '');
    const set = spawnSync('chattr', ['+i', file]);
    spawnSync('chattr', ['-i', file]);
    rmSync(probe, { recursive: true, force: true });
    if (set.status === 0) return base;
  }
  return undefined;
}

test('immutable file (chattr +i): refused with a clear error, nothing forced, no state left', async () => {
  const base = immutableCapableDir();
  if (base === undefined) {
    const why = 'chattr +i is not possible here (needs root, e2fsprogs and a filesystem with attributes)';
    if (process.env.CI === 'true') throw new Error(why);
    console.warn(`immutable test not run: ${why}`);
    return;
  }
  const f = fixture(base);
  try {
    writeFileSync(f.path, ORIGINAL);
    assert.is(spawnSync('chattr', ['+i', f.path]).status, 0);
    const m = f.manager();
    let error: unknown;
    await m.capture(LISTEN).catch((e: unknown) => (error = e));
    assert.instance(error, ImmutableFileError);
    assert.match((error as Error).message, /is immutable \(chattr \+i\)/);
    assert.match((error as Error).message, new RegExp(`chattr -i ${f.path.replace(/[.]/g, '\\.')}`), 'says how to fix it');
    assert.is(f.read(), ORIGINAL);
    assert.not.ok(m.captured);
    assert.not.ok(f.markerExists(), 'the saved state is removed again: nothing was captured');
  } finally {
    spawnSync('chattr', ['-i', f.path]);
    cleanup(f);
  }
});

test.run();
