// Runs shell scripts (or this test process itself) in private mount + network + pid namespaces:
// /etc/resolv.conf can be bind-mounted or overlaid and 127.0.0.1:53 bound without touching the
// host's. The pid namespace guarantees cleanup: when its first process exits, the kernel kills
// everything started inside (meshdns, dnsmasq), even after a failed assertion.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const UNSHARE_ARGS = ['--mount', '--net', '--pid', '--fork', '--mount-proc', '--propagation', 'private'];

export interface NamespaceRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface NamespaceOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** The checkout root (where package.json is), from the test file's location in test/ or dist/test/. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** Fails (never skips) without unshare or root: these tests prove behaviour with the real resolver. */
export function assertNamespacesAvailable(): void {
  const probe = spawnSync('unshare', [...UNSHARE_ARGS, '--', 'true'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(`cannot create namespaces with unshare (needs root or CAP_SYS_ADMIN, util-linux): ${probe.error?.message ?? probe.stderr.trim()}`);
  }
}

/**
 * Run `script` with sh inside fresh namespaces; loopback is brought up first and `set -e` is on.
 * Resolves with the exit code and output; rejects only when unshare cannot be started.
 */
export function runInNamespace(script: string, options: NamespaceOptions = {}): Promise<NamespaceRun> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolvePromise, reject) => {
    const child = spawn('unshare', [...UNSHARE_ARGS, '--', 'sh', '-c', `set -e\nip link set lo up\n${script}`], {
      cwd: options.cwd ?? repoRoot(),
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[namespace] timed out after ${timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

export const IN_NAMESPACE_ENV = 'MESHDNS_TEST_IN_NAMESPACE';

/**
 * For in-process tests that must bind port 53: re-run this test file inside fresh namespaces
 * (same node flags, stdio passed through) and return true in the outer process, whose exit
 * code becomes the inner one. Inside the namespace it returns false and the tests run.
 */
export function rerunInNamespace(): boolean {
  if (process.env[IN_NAMESPACE_ENV] === '1') return false;
  assertNamespacesAvailable();
  const child = spawn(
    'unshare',
    [...UNSHARE_ARGS, '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, ...process.execArgv, process.argv[1], ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, [IN_NAMESPACE_ENV]: '1' } },
  );
  child.once('close', (code, signal) => {
    process.exitCode = code ?? (signal !== null ? 1 : 0);
  });
  return true;
}
