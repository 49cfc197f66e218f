// Starts a real meshdns service (in this process) on a loopback port with inputs written to a
// temp directory, for tests that need the whole query path.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { MeshDnsService } from '../../src/service';

export interface HarnessInputs {
  /** Extra lines of meshdns.yaml (listen, resolvConf, stateDir, bootstrap are set here). */
  settings?: string;
  clusterEnv?: string;
  meshYaml?: string;
  hosts?: string;
  /** resolv.conf content (upstreams + search domains); managed: false. */
  resolvConf: string;
  /** registry files: name → content. */
  registry?: Record<string, string>;
  /** The `registry:` line of meshdns.yaml (default `registry: [./registry.d]`). */
  registrySetting?: string;
  /** UDP engine (default: MESHDNS_UDP_ENGINE, else auto). */
  udpEngine?: 'auto' | 'native' | 'node';
}

export interface Harness {
  dir: string;
  port: number;
  service: MeshDnsService;
  registryDir: string;
  write(relative: string, content: string): void;
  stop(): Promise<void>;
}

export async function startHarness(inputs: HarnessInputs): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-test-'));
  const registryDir = join(dir, 'registry.d');
  mkdirSync(registryDir);
  const write = (relative: string, content: string): void => writeFileSync(join(dir, relative), content);
  write('resolv.conf', inputs.resolvConf);
  if (inputs.clusterEnv !== undefined) write('cluster.env', inputs.clusterEnv);
  if (inputs.meshYaml !== undefined) write('mesh.yaml', inputs.meshYaml);
  if (inputs.hosts !== undefined) write('hosts', inputs.hosts);
  for (const [name, content] of Object.entries(inputs.registry ?? {})) write(join('registry.d', name), content);
  write(
    'meshdns.yaml',
    [
      'listen: ["127.0.0.1:0"]',
      'bootstrap: {clusterEnv: ./cluster.env, meshConfig: ./mesh.yaml, hosts: ./hosts}',
      inputs.registrySetting ?? 'registry: [./registry.d]',
      'resolvConf: {path: ./resolv.conf, manage: "false"}',
      'stateDir: ./state',
      ...(inputs.settings?.includes('metrics:') ? [] : ['metrics: ""']),
      // Tests that are not about the VM's families do not depend on the test host's addresses.
      ...(inputs.settings?.includes('ipFamilies:') ? [] : ['ipFamilies: dual']),
      inputs.settings ?? '',
    ].join('\n') + '\n',
  );
  const service = new MeshDnsService({
    settingsFile: join(dir, 'meshdns.yaml'),
    logger: pino({ level: process.env.MESHDNS_TEST_LOG ?? 'silent' }),
    resolvedUplinksFile: join(dir, 'resolved-uplinks.conf'),
    udpEngine: inputs.udpEngine,
  });
  await service.start();
  const port = service.listenAddresses[0].port;
  return {
    dir,
    port,
    service,
    registryDir,
    write,
    async stop() {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
