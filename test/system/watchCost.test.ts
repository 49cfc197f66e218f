// Issue 19: meshdns must not wake for files it does not read. Work is counted (events, stats,
// re-plans, reloads), never timed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { InputWatcher, type WatchCounters } from '../../src/system/watch';
import { REGISTRY_TREE_RULES } from '../../src/registry';
import { MeshDnsService } from '../../src/service';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('1,000 writes to a sibling of a watched file (and to a log file in a registry directory): no change, no stat, every event dropped on its name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-watchcost-'));
  mkdirSync(join(dir, 'registry.d'));
  writeFileSync(join(dir, 'meshdns.yaml'), 'listen: ["127.0.0.1:0"]\n');
  writeFileSync(join(dir, 'registry.d', 'a.yaml'), 'kind: x\n');
  writeFileSync(join(dir, 'app.log'), '');
  writeFileSync(join(dir, 'registry.d', 'notes.log'), '');
  let changes = 0;
  const watcher = new InputWatcher({ debounceMs: 20, onChange: () => changes++ });
  try {
    await watcher.setTargets([
      { path: join(dir, 'meshdns.yaml'), kind: 'inputs', recursive: false },
      { path: join(dir, 'resolv.conf'), kind: 'resolvConf', recursive: false },
      { path: join(dir, 'registry.d'), kind: 'inputs', recursive: true, rules: REGISTRY_TREE_RULES },
    ]);
    const before: WatchCounters = { ...watcher.counters };
    for (let i = 0; i < 1000; i++) {
      appendFileSync(join(dir, 'app.log'), `line ${i}\n`);
      appendFileSync(join(dir, 'registry.d', 'notes.log'), `line ${i}\n`);
      // Let the events arrive as they would from another process, not merged into one.
      if (i % 50 === 49) await sleep(1);
    }
    await sleep(200);
    const c = watcher.counters;
    assert.is(changes, 0, 'no change reported');
    assert.ok(c.events - before.events >= 20, `the writes were seen by the kernel watch (${c.events - before.events} events)`);
    assert.is(c.dropped - before.dropped, c.events - before.events, 'every event dropped');
    assert.is(c.probes - before.probes, 0, 'no stat of the sibling');
    assert.is(c.replans - before.replans, 0, 'no re-plan');
    // The watch is alive: a write to a file that is read is reported.
    writeFileSync(join(dir, 'meshdns.yaml'), 'listen: ["127.0.0.1:1"]\n');
    await sleep(200);
    assert.is(changes, 1);
  } finally {
    await watcher.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the service with resolvConf.path /dev/null: writes to /dev/null and to a sibling of meshdns.yaml cause no reload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-devnull-'));
  mkdirSync(join(dir, 'registry.d'));
  writeFileSync(join(dir, 'registry.d', 'a.yaml'), 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a, namespace: ns1}\nspec: {hosts: [a.internal], addresses: [198.51.100.1]}\n');
  writeFileSync(join(dir, 'app.log'), '');
  writeFileSync(
    join(dir, 'meshdns.yaml'),
    [
      'listen: ["127.0.0.1:0"]',
      'bootstrap: {clusterEnv: ./cluster.env, meshConfig: ./mesh.yaml, hosts: ./hosts}',
      'registry: [./registry.d]',
      'resolvConf: {path: /dev/null, manage: "false"}',
      'upstreams: ["127.0.0.1:9"]',
      'stateDir: ./state',
      'metrics: ""',
    ].join('\n') + '\n',
  );
  const service = new MeshDnsService({
    settingsFile: join(dir, 'meshdns.yaml'),
    logger: pino({ level: 'silent' }),
    resolvedUplinksFile: join(dir, 'resolved-uplinks.conf'),
    debounceMs: 20,
  });
  await service.start();
  const reloads = (): number => (service.status().reloads as { total: number }).total;
  try {
    const before = reloads();
    for (let i = 0; i < 200; i++) {
      writeFileSync('/dev/null', `write ${i}\n`);
      appendFileSync(join(dir, 'app.log'), `line ${i}\n`);
      if (i % 20 === 19) await sleep(5);
    }
    await sleep(300);
    assert.is(reloads(), before, 'no reload');
    // The watcher is alive: a registry change reloads.
    writeFileSync(join(dir, 'registry.d', 'b.yaml'), 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: b, namespace: ns1}\nspec: {hosts: [b.internal], addresses: [198.51.100.2]}\n');
    for (let i = 0; i < 100 && reloads() === before; i++) await sleep(20);
    assert.is(reloads(), before + 1);
    assert.ok(service.table?.lookup('b.internal') !== undefined);
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
