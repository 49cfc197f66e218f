// The watcher follows symbolic links (issue 19 kept every live-reload case while watching only the
// names that matter): Kubernetes' ConfigMap `..data` swap for a file and for a registry directory,
// and a link into another directory (as /etc/resolv.conf → /run/systemd/resolve/stub-resolv.conf).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputWatcher, type WatchTarget } from '../../src/system/watch';

async function withWatcher(
  targets: (dir: string) => WatchTarget[],
  prepare: (dir: string) => void,
  fn: (dir: string, next: () => Promise<string[]>) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-watchlinks-'));
  prepare(dir);
  const queue: string[][] = [];
  let waiter: ((paths: string[]) => void) | undefined;
  const watcher = new InputWatcher({
    debounceMs: 50,
    onChange: (_kinds, paths) => {
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w([...paths]);
      } else queue.push([...paths]);
    },
  });
  await watcher.setTargets(targets(dir));
  const next = (): Promise<string[]> =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('no change reported within 3 s')), 3000);
          waiter = (p) => {
            clearTimeout(t);
            resolve(p);
          };
        });
  try {
    await fn(dir, next);
  } finally {
    await watcher.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the kubelet's atomic writer does: new timestamped dir, `..data_tmp` link, rename over `..data`, old dir removed. */
function configMapSwap(mount: string, from: string, to: string, files: Record<string, string>): void {
  mkdirSync(join(mount, to));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(mount, to, name), text);
  symlinkSync(to, join(mount, '..data_tmp'));
  renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(join('..data', name), join(mount, name));
    } catch {
      /* the visible link exists already */
    }
  }
  rmSync(join(mount, from), { recursive: true, force: true });
}

function configMapMount(mount: string, files: Record<string, string>): void {
  mkdirSync(join(mount, '..2025_a'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(mount, '..2025_a', name), text);
  symlinkSync('..2025_a', join(mount, '..data'));
  for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(mount, name));
}

test('a ConfigMap-mounted file: each `..data` swap is a change, again and again', async () => {
  await withWatcher(
    (dir) => [{ path: join(dir, 'istio', 'mesh'), kind: 'inputs', recursive: false }],
    (dir) => configMapMount(join(dir, 'istio'), { mesh: 'defaultConfig: {}\n' }),
    async (dir, next) => {
      const mount = join(dir, 'istio');
      configMapSwap(mount, '..2025_a', '..2025_b', { mesh: 'defaultConfig: {b: 1}\n' });
      assert.ok((await next()).some((p) => p.endsWith('..data')));
      configMapSwap(mount, '..2025_b', '..2025_c', { mesh: 'defaultConfig: {c: 1}\n' });
      await next();
      // A write into the directory the link now points at (not what the kubelet does, but a link is a link).
      writeFileSync(join(mount, '..2025_c', 'mesh'), 'defaultConfig: {d: 1}\n');
      assert.ok((await next()).some((p) => p.endsWith(join('..2025_c', 'mesh'))));
    },
  );
});

test('a ConfigMap-mounted registry directory: a swap that changes and adds files is a change', async () => {
  await withWatcher(
    (dir) => [{ path: join(dir, 'registry.d'), kind: 'inputs', recursive: true }],
    (dir) => configMapMount(join(dir, 'registry.d'), { 'a.yaml': 'kind: x\n' }),
    async (dir, next) => {
      const mount = join(dir, 'registry.d');
      configMapSwap(mount, '..2025_a', '..2025_b', { 'a.yaml': 'kind: y\n', 'b.yaml': 'kind: z\n' });
      await next();
      writeFileSync(join(mount, '..2025_b', 'b.yaml'), 'kind: w\n');
      assert.ok((await next()).some((p) => p.endsWith('b.yaml')));
    },
  );
});

test('a link into another directory: an edit there, a replacement there and a re-pointed link are changes', async () => {
  await withWatcher(
    (dir) => [{ path: join(dir, 'etc', 'resolv.conf'), kind: 'resolvConf', recursive: false }],
    (dir) => {
      mkdirSync(join(dir, 'etc'));
      mkdirSync(join(dir, 'run'));
      writeFileSync(join(dir, 'run', 'stub-resolv.conf'), 'nameserver 127.0.0.53\n');
      writeFileSync(join(dir, 'run', 'other.conf'), 'nameserver 127.0.0.9\n');
      symlinkSync(join(dir, 'run', 'stub-resolv.conf'), join(dir, 'etc', 'resolv.conf'));
    },
    async (dir, next) => {
      writeFileSync(join(dir, 'run', 'stub-resolv.conf'), 'nameserver 127.0.0.54\n');
      assert.ok((await next()).some((p) => p.endsWith('stub-resolv.conf')));
      writeFileSync(join(dir, 'run', '.tmp'), 'nameserver 127.0.0.55\n');
      renameSync(join(dir, 'run', '.tmp'), join(dir, 'run', 'stub-resolv.conf'));
      await next();
      unlinkSync(join(dir, 'etc', 'resolv.conf'));
      symlinkSync(join(dir, 'run', 'other.conf'), join(dir, 'etc', 'resolv.conf'));
      await next();
      // Now the other file is the one read.
      writeFileSync(join(dir, 'run', 'other.conf'), 'nameserver 127.0.0.10\n');
      assert.ok((await next()).some((p) => p.endsWith('other.conf')));
    },
  );
});

test('a directory removed and created again: files in the new one are seen', async () => {
  await withWatcher(
    (dir) => [{ path: join(dir, 'conf', 'meshdns.yaml'), kind: 'inputs', recursive: false }],
    (dir) => {
      mkdirSync(join(dir, 'conf'));
      writeFileSync(join(dir, 'conf', 'meshdns.yaml'), 'a: 1\n');
    },
    async (dir, next) => {
      rmSync(join(dir, 'conf'), { recursive: true });
      await next();
      mkdirSync(join(dir, 'conf'));
      await next().catch(() => undefined); // the directory alone may or may not be reported
      writeFileSync(join(dir, 'conf', 'meshdns.yaml'), 'a: 2\n');
      assert.ok((await next()).some((p) => p.endsWith('meshdns.yaml')));
    },
  );
});

test.run();
