// The service and resolv.conf (docs/ARCHITECTURE.md §4, issue 4): capture after the listeners are bound,
// upstreams and search domains from the saved original, restore on stop, capture switched off
// and on in the mesh config, external rewrites, crash recovery, immutable file. The service must
// listen on port 53 to capture, so this file re-runs itself in private network/mount namespaces.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { MeshDnsService } from '../../src/service';
import { CAPTURE_MARKER_FILE, ResolvConfManager, isOurResolvConf } from '../../src/system/resolvconf';
import { rerunInNamespace } from '../support/namespace';
import { ask, answerLines } from '../dns/client';

const ORIGINAL = 'nameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example. ns1.svc.cluster.local.\noptions ndots:5\n';
const REGISTRY = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: ns1}
spec: {hosts: [db.internal], addresses: [10.20.0.5], resolution: STATIC}
`;

interface Setup {
  dir: string;
  resolvPath: string;
  stateDir: string;
  service(opts?: { watch?: boolean }): MeshDnsService;
  meshCapture(on: boolean): void;
  read(): string;
}

function setup(options: { resolvConf?: string; manage?: string; dir?: string } = {}): Setup {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'meshdns-svc-rc-'));
  mkdirSync(join(dir, 'registry.d'), { recursive: true });
  writeFileSync(join(dir, 'registry.d', 'db.yaml'), REGISTRY);
  const resolvPath = join(dir, 'resolv.conf');
  if (options.resolvConf !== undefined) writeFileSync(resolvPath, options.resolvConf);
  writeFileSync(join(dir, 'cluster.env'), "POD_NAMESPACE='ns1'\n");
  const meshCapture = (on: boolean): void =>
    writeFileSync(join(dir, 'mesh.yaml'), `defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "${on}"\n`);
  meshCapture(true);
  writeFileSync(
    join(dir, 'meshdns.yaml'),
    [
      'listen: ["127.0.0.1:53"]',
      'bootstrap: {clusterEnv: ./cluster.env, meshConfig: ./mesh.yaml, hosts: ./hosts}',
      'registry: [./registry.d]',
      `resolvConf: {path: ./resolv.conf, manage: "${options.manage ?? 'auto'}"}`,
      'stateDir: ./state',
      'metrics: ""',
    ].join('\n') + '\n',
  );
  return {
    dir,
    resolvPath,
    stateDir: join(dir, 'state'),
    service: (opts = {}) =>
      new MeshDnsService({
        settingsFile: join(dir, 'meshdns.yaml'),
        logger: pino({ level: process.env.MESHDNS_TEST_LOG ?? 'silent' }),
        resolvedUplinksFile: join(dir, 'resolved-uplinks.conf'),
        watch: opts.watch ?? false,
        debounceMs: 20,
      }),
    meshCapture,
    read: () => readFileSync(resolvPath, 'utf8'),
  };
}

const hosts = (s: MeshDnsService): string[] => s.upstreams.map((u) => u.host);

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

if (!rerunInNamespace()) {
  test('capture at start: ours written after bind, upstreams and search domains from the original, restored on stop', async () => {
    const s = setup({ resolvConf: ORIGINAL });
    const service = s.service();
    try {
      await service.start();
      assert.is(service.captureState().state, 'captured');
      assert.ok(isOurResolvConf(s.read()));
      assert.match(s.read(), /^nameserver 127\.0\.0\.1$/m);
      assert.equal(hosts(service), ['10.0.0.2', '10.0.0.3'], 'upstreams from the saved original, never 127.0.0.1');
      // A reload re-reads the inputs: resolv.conf is now ours, the original must still be used.
      await service.reload('test');
      assert.equal(hosts(service), ['10.0.0.2', '10.0.0.3']);
      assert.equal(service.currentSnapshot?.resolvConf?.search, ['corp.example.', 'ns1.svc.cluster.local.']);
      // The search walk is answered locally with the original's search domains.
      const a = await ask(53, 'db.internal.corp.example', 'A', { host: '127.0.0.1' });
      assert.ok(answerLines(a).some((l) => l.includes('10.20.0.5')), answerLines(a).join('\n'));
    } finally {
      await service.stop();
    }
    assert.is(s.read(), ORIGINAL, 'original back byte for byte');
    assert.is(service.captureState().state, 'restored');
    assert.not.ok(existsSync(join(s.stateDir, CAPTURE_MARKER_FILE)));
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('symlinked stub resolv.conf: upstreams are the real uplinks; the symlink comes back', async () => {
    const s = setup();
    writeFileSync(join(s.dir, 'stub-resolv.conf'), 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example\n');
    writeFileSync(join(s.dir, 'resolved-uplinks.conf'), 'nameserver 192.0.2.1\nnameserver 192.0.2.2\n');
    symlinkSync('stub-resolv.conf', s.resolvPath);
    const service = s.service();
    try {
      await service.start();
      assert.is(service.captureState().state, 'captured');
      assert.ok(lstatSync(s.resolvPath).isFile());
      assert.equal(hosts(service), ['192.0.2.1', '192.0.2.2']);
    } finally {
      await service.stop();
    }
    assert.is(readlinkSync(s.resolvPath), 'stub-resolv.conf');
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('capture switched off in the mesh config restores; switched on again re-captures', async () => {
    const s = setup({ resolvConf: ORIGINAL });
    const service = s.service();
    try {
      await service.start();
      assert.is(service.captureState().state, 'captured');
      s.meshCapture(false);
      await service.reload('mesh config changed');
      assert.is(service.captureState().state, 'restored');
      assert.is(s.read(), ORIGINAL);
      assert.equal(hosts(service), ['10.0.0.2', '10.0.0.3'], 'not managed: upstreams from the file itself');
      s.meshCapture(true);
      await service.reload('mesh config changed');
      assert.is(service.captureState().state, 'captured');
      assert.ok(isOurResolvConf(s.read()));
      assert.equal(hosts(service), ['10.0.0.2', '10.0.0.3']);
    } finally {
      await service.stop();
    }
    assert.is(s.read(), ORIGINAL);
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('capture switched off by editing the mesh config, seen by the file watcher', async () => {
    const s = setup({ resolvConf: ORIGINAL });
    const service = s.service({ watch: true });
    try {
      await service.start();
      assert.is(service.captureState().state, 'captured');
      s.meshCapture(false);
      await until('restore after the mesh config edit', () => service.captureState().state === 'restored');
      assert.is(s.read(), ORIGINAL);
      s.meshCapture(true);
      await until('capture after the mesh config edit', () => service.captureState().state === 'captured');
      assert.ok(isOurResolvConf(s.read()));
    } finally {
      await service.stop();
    }
    assert.is(s.read(), ORIGINAL);
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('external rewrite while running: new original, new upstreams, ours written again; restore puts back the rewrite', async () => {
    const s = setup({ resolvConf: ORIGINAL });
    const service = s.service();
    const dhcp = '# dhclient\nnameserver 10.9.9.9\nsearch other.example.\n';
    try {
      await service.start();
      writeFileSync(s.resolvPath, dhcp);
      await service.onResolvConfChanged();
      assert.equal(hosts(service), ['10.9.9.9']);
      assert.equal(service.currentSnapshot?.resolvConf?.search, ['other.example.']);
      assert.ok(isOurResolvConf(s.read()));
      assert.match(s.read(), /^search other\.example\.$/m);
      assert.is(service.captureState().externalRewrites, 1);
      await service.onResolvConfChanged(); // our own write: nothing changes
      assert.is(service.captureState().externalRewrites, 1);
    } finally {
      await service.stop();
    }
    assert.is(s.read(), dhcp);
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('external rewrite seen by the file watcher', async () => {
    const s = setup({ resolvConf: ORIGINAL });
    const service = s.service({ watch: true });
    const dhcp = 'nameserver 10.8.8.8\n';
    try {
      await service.start();
      writeFileSync(s.resolvPath, dhcp);
      await until('upstreams follow the rewrite', () => hosts(service).join() === '10.8.8.8');
      await until('ours written again', () => isOurResolvConf(s.read()));
    } finally {
      await service.stop();
    }
    assert.is(s.read(), dhcp);
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('resolvConf.manage "false": the file is left alone even with capture on', async () => {
    const s = setup({ resolvConf: ORIGINAL, manage: 'false' });
    const service = s.service();
    try {
      await service.start();
      assert.is(service.captureState().state, 'not-managed');
      assert.is(s.read(), ORIGINAL);
    } finally {
      await service.stop();
    }
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('missing resolv.conf: ours is written, no upstreams; stop removes it again', async () => {
    const s = setup();
    const service = s.service();
    try {
      await service.start();
      assert.is(service.captureState().state, 'captured');
      assert.ok(isOurResolvConf(s.read()));
      assert.equal(hosts(service), []);
    } finally {
      await service.stop();
    }
    assert.not.ok(existsSync(s.resolvPath));
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('after a crash (marker and our file left behind): start restores, re-captures from the true original', async () => {
    const s = setup({ resolvConf: ORIGINAL });
    // The "previous run": captured, then died without restoring.
    await new ResolvConfManager({ path: s.resolvPath, stateDir: s.stateDir }).capture({ host: '127.0.0.1', port: 53, family: 4 });
    assert.ok(isOurResolvConf(s.read()));
    const service = s.service();
    try {
      await service.start();
      assert.is(service.captureState().state, 'captured');
      assert.equal(hosts(service), ['10.0.0.2', '10.0.0.3'], 'upstreams from the original, not from the leftover file');
    } finally {
      await service.stop();
    }
    assert.is(s.read(), ORIGINAL);
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('a crash leftover is restored at start even when capture is now off', async () => {
    const s = setup({ resolvConf: ORIGINAL, manage: 'false' });
    await new ResolvConfManager({ path: s.resolvPath, stateDir: s.stateDir }).capture({ host: '127.0.0.1', port: 53, family: 4 });
    const service = s.service();
    try {
      await service.start();
      assert.is(s.read(), ORIGINAL);
      assert.is(service.captureState().state, 'not-managed');
    } finally {
      await service.stop();
    }
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('immutable resolv.conf: the service serves, reports the error, does not force', async () => {
    const s = setup({ resolvConf: ORIGINAL, dir: mkdtempSync(join('/var/tmp', 'meshdns-svc-rc-')) });
    const set = spawnSync('chattr', ['+i', s.resolvPath]);
    if (set.status !== 0) {
      rmSync(s.dir, { recursive: true, force: true });
      if (process.env.CI === 'true') throw new Error(`chattr +i failed: ${set.error?.message ?? set.stderr}`);
      console.warn('immutable test not run: chattr +i not possible here');
      return;
    }
    const service = s.service();
    try {
      await service.start();
      const state = service.captureState();
      assert.is(state.state, 'error');
      assert.match(state.error ?? '', /immutable.*chattr -i/);
      assert.is(s.read(), ORIGINAL);
      assert.not.ok(existsSync(join(s.stateDir, CAPTURE_MARKER_FILE)));
      assert.equal(hosts(service), ['10.0.0.2', '10.0.0.3'], 'still forwards for whoever asks it');
      assert.is(service.readiness().ready, false, 'not ready: capture was wanted');
    } finally {
      await service.stop();
      spawnSync('chattr', ['-i', s.resolvPath]);
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  test.run();
}
