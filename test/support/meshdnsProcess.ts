// Runs meshdns as a separate process (the real `meshdns run`), so hostile tests can watch its
// memory and descriptors from outside and a crash shows up as an exit instead of killing the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { openFdCount, rssBytes } from './fd';
import { repoRoot } from './namespace';
import { withPortRetry } from './listenRetry';

export interface MeshDnsProcessInputs {
  /** Extra lines of meshdns.yaml. */
  settings?: string;
  clusterEnv?: string;
  hosts?: string;
  resolvConf: string;
  registry?: Record<string, string>;
  /** Extra node flags for the child (e.g. --max-old-space-size=...). */
  nodeFlags?: string[];
  /** A word in `settings` replaced by the absolute path of the temp resolv.conf. */
  resolvConfPathToken?: string;
}

export interface MeshDnsProcess {
  readonly pid: number;
  readonly port: number;
  readonly dir: string;
  readonly registryDir: string;
  readonly child: ChildProcess;
  /** Output so far (pino JSON lines and stderr), for failure messages. */
  output(): string;
  /** null while running. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
  rss(): number;
  fds(): number;
  write(relative: string, content: string): void;
  /** SIGTERM, wait for the exit (SIGKILL after 5 s), remove the temp dir. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The same, but the temp dir stays (to inspect resolv.conf afterwards); stop() removes it. */
  stopKeepingDir(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The entry script next to this file (.ts under tsx, .js under dist/). */
function entry(): string {
  return join(__dirname, `meshdnsMain${extname(__filename)}`);
}

export function startMeshDnsProcess(inputs: MeshDnsProcessInputs, startTimeoutMs = 20_000): Promise<MeshDnsProcess> {
  return withPortRetry(() => startOnce(inputs, startTimeoutMs));
}

async function startOnce(inputs: MeshDnsProcessInputs, startTimeoutMs: number): Promise<MeshDnsProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-proc-'));
  const registryDir = join(dir, 'registry.d');
  mkdirSync(registryDir);
  const write = (relative: string, content: string): void => writeFileSync(join(dir, relative), content);
  write('resolv.conf', inputs.resolvConf);
  write('cluster.env', inputs.clusterEnv ?? '');
  if (inputs.hosts !== undefined) write('hosts', inputs.hosts);
  for (const [name, content] of Object.entries(inputs.registry ?? {})) write(join('registry.d', name), content);
  write(
    'meshdns.yaml',
    [
      ...(inputs.settings?.includes('listen:') ? [] : ['listen: ["127.0.0.1:0"]']),
      `bootstrap: {clusterEnv: ${dir}/cluster.env, meshConfig: ${dir}/mesh.yaml, hosts: ${dir}/hosts}`,
      `registry: [${registryDir}]`,
      ...(inputs.settings?.includes('resolvConf:') ? [] : [`resolvConf: {path: ${dir}/resolv.conf, manage: "false"}`]),
      `stateDir: ${dir}/state`,
      ...(inputs.settings?.includes('metrics:') ? [] : ['metrics: ""']),
      'log: {level: info}',
      inputs.resolvConfPathToken === undefined ? inputs.settings ?? '' : (inputs.settings ?? '').split(inputs.resolvConfPathToken).join(join(dir, 'resolv.conf')),
    ].join('\n') + '\n',
  );
  const child = spawn(process.execPath, [...process.execArgv, ...(inputs.nodeFlags ?? []), entry(), 'run', '--config', join(dir, 'meshdns.yaml')], {
    // From the checkout, so `--import tsx` resolves when the tests run from source.
    cwd: repoRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitedPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  // Keep only the tail: a long soak logs a line per reload.
  const append = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stderr!.on('data', append);
  let serving = false;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`meshdns did not start within ${startTimeoutMs} ms:\n${out}`)), startTimeoutMs);
    let pending = '';
    child.stdout!.on('data', (d: Buffer) => {
      append(d);
      pending += d.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.includes('meshdns serving')) continue;
        try {
          const parsed = JSON.parse(line) as { listen?: string[] };
          const m = /:(\d+)$/.exec(parsed.listen?.[0] ?? '');
          if (m !== null) {
            clearTimeout(timer);
            serving = true;
            resolve(Number(m[1]));
          }
        } catch {
          /* not JSON */
        }
      }
    });
    void exitedPromise.then((e) => {
      clearTimeout(timer);
      if (serving) return; // a later exit is the caller's business
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`meshdns exited (${e.code ?? e.signal}) before serving:\n${out}`));
    });
  });
  async function stopKeepingDir(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (exited === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitedPromise;
      clearTimeout(killer);
    }
    return exitedPromise;
  }
  return {
    pid: child.pid!,
    port,
    dir,
    registryDir,
    child,
    output: () => out,
    exit: () => exited,
    rss: () => rssBytes(child.pid!),
    fds: () => openFdCount(child.pid!),
    write,
    stopKeepingDir,
    async stop() {
      await stopKeepingDir();
      rmSync(dir, { recursive: true, force: true });
      return exitedPromise;
    },
  };
}
