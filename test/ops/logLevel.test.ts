// `log: {level: warn}` holds from the very first line: the start's own info lines ("table
// loaded", "meshdns serving") are not written, while the service answers (the real `meshdns run`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig';
import { repoRoot } from '../support/namespace';
import { freePort } from '../support/fuzzCampaign';

test('log level warn: no info lines at start, names answered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-loglevel-'));
  const port = await freePort();
  writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
  writeFileSync(join(dir, 'hosts'), '198.51.100.7 pinned.internal\n');
  writeFileSync(
    join(dir, 'meshdns.yaml'),
    [
      `listen: ["127.0.0.1:${port}"]`,
      `bootstrap: {clusterEnv: ${dir}/cluster.env, meshConfig: ${dir}/mesh.yaml, hosts: ${dir}/hosts}`,
      `registry: [${dir}/registry.d]`,
      `resolvConf: {path: ${dir}/resolv.conf, manage: "false"}`,
      `stateDir: ${dir}/state`,
      'metrics: ""',
      'log: {level: warn}',
    ].join('\n') + '\n',
  );
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'meshdns.js'), 'run', '--config', join(dir, 'meshdns.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const deadline = Date.now() + 15_000;
    let answers: string[] = [];
    while (answers.length === 0) {
      if (Date.now() > deadline) throw new Error(`meshdns did not answer:\n${out}`);
      answers = await dig({ port, name: 'pinned.internal', type: 'A', timeoutSeconds: 1 })
        .then((r) => r.answers.map((a) => a.data))
        .catch(() => []);
    }
    assert.equal(answers, ['198.51.100.7']);
    await new Promise((r) => setTimeout(r, 300));
    const infoLines = out.split('\n').filter((l) => /"level":30/.test(l));
    assert.equal(infoLines, [], 'no info line with log level warn');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
