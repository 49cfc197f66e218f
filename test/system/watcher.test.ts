import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputWatcher, type WatchKind } from '../../src/system/watch';

interface Seen {
  kinds: WatchKind[];
  paths: string[];
}

async function withWatcher(fn: (dir: string, next: () => Promise<Seen>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-watch-'));
  const queue: Seen[] = [];
  let waiter: ((s: Seen) => void) | undefined;
  const watcher = new InputWatcher({
    debounceMs: 50,
    onChange: (kinds, paths) => {
      const seen = { kinds: [...kinds], paths: [...paths] };
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w(seen);
      } else queue.push(seen);
    },
  });
  await watcher.setTargets([
    { path: join(dir, 'cluster.env'), kind: 'inputs', recursive: false },
    { path: join(dir, 'later', 'registry.d'), kind: 'inputs', recursive: true },
    { path: join(dir, 'resolv.conf'), kind: 'resolvConf', recursive: false },
  ]);
  const next = (): Promise<Seen> =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('no change reported within 3 s')), 3000);
          waiter = (s) => {
            clearTimeout(t);
            resolve(s);
          };
        });
  try {
    await fn(dir, next);
  } finally {
    await watcher.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a file missing at start is seen when created, changed and removed', async () => {
  await withWatcher(async (dir, next) => {
    writeFileSync(join(dir, 'cluster.env'), "POD_NAMESPACE='a'\n");
    assert.equal((await next()).kinds, ['inputs']);
    writeFileSync(join(dir, 'cluster.env'), "POD_NAMESPACE='b'\n");
    assert.equal((await next()).kinds, ['inputs']);
    unlinkSync(join(dir, 'cluster.env'));
    assert.equal((await next()).kinds, ['inputs']);
  });
});

test('a registry directory created after start, and files in it, are seen', async () => {
  await withWatcher(async (dir, next) => {
    mkdirSync(join(dir, 'later', 'registry.d'), { recursive: true });
    await next();
    writeFileSync(join(dir, 'later', 'registry.d', 'a.yaml'), 'kind: x\n');
    const seen = await next();
    assert.ok(seen.paths.some((p) => p.endsWith('a.yaml')), seen.paths.join(','));
    mkdirSync(join(dir, 'later', 'registry.d', 'sub'));
    await next().catch(() => undefined); // a bare directory may or may not be reported
    writeFileSync(join(dir, 'later', 'registry.d', 'sub', 'b.yaml'), 'kind: x\n');
    assert.ok((await next()).paths.some((p) => p.endsWith('b.yaml')));
  });
});

test("an editor's atomic save (write temp, rename into place) is one change", async () => {
  await withWatcher(async (dir, next) => {
    mkdirSync(join(dir, 'later', 'registry.d'), { recursive: true });
    await next();
    const tmp = join(dir, 'later', 'registry.d', '.a.yaml.swp');
    writeFileSync(tmp, 'kind: y\n');
    renameSync(tmp, join(dir, 'later', 'registry.d', 'a.yaml'));
    const seen = await next();
    assert.ok(seen.paths.some((p) => p.endsWith('a.yaml')));
  });
});

test('resolv.conf changes are reported as their own kind; unrelated files are not reported', async () => {
  await withWatcher(async (dir, next) => {
    writeFileSync(join(dir, 'unrelated.txt'), 'x');
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
    const seen = await next();
    assert.equal(seen.kinds, ['resolvConf']);
    assert.ok(!seen.paths.some((p) => p.endsWith('unrelated.txt')));
  });
});

test.run();
