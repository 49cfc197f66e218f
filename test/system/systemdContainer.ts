// A throwaway Debian 12 system with systemd as PID 1, for the tests under real systemd
// (boots with --register=no --keep-unit in a cgroup of its own; see docs/ARCHITECTURE.md §10). The root filesystem is built once with
// debootstrap and cached under /var/cache/meshdns-test (a tarball, plus its unpacked copy);
// every boot uses --volatile=overlay, so the cached root stays pristine and is reused.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const CACHE_DIR = process.env.MESHDNS_TEST_CACHE ?? '/var/cache/meshdns-test';
/** In the root from debootstrap (--include) and from apt inside it. */
const DEBOOTSTRAP_INCLUDE = ['systemd', 'systemd-sysv', 'dbus', 'iproute2', 'procps'];
const APT_PACKAGES = ['nodejs', 'dnsmasq-base'];
const ROOT_KEY = `bookworm-${createHash('sha256').update(JSON.stringify([DEBOOTSTRAP_INCLUDE, APT_PACKAGES])).digest('hex').slice(0, 10)}`;
/** Host tool → the Debian package that has it. */
export const HOST_TOOLS: Record<string, string> = {
  debootstrap: 'debootstrap',
  'systemd-nspawn': 'systemd-container',
  nsenter: 'util-linux',
  'dpkg-deb': 'dpkg',
  zstd: 'zstd',
};

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function missingTools(tools: string[]): string[] {
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { env: { PATH: SYSTEM_PATH } }).status !== 0);
}

export type Log = (line: string) => void;

/** Times a step and logs "name: 1.23 s". */
export async function timed<T>(log: Log, name: string, work: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    log(`${name}: ${((Date.now() - started) / 1000).toFixed(2)} s`);
  }
}

function run(cmd: string, args: string[], options: { timeoutMs?: number; input?: string } = {}): string {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive' },
    timeout: options.timeoutMs ?? 600_000,
    input: options.input,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}, signal ${r.signal}`}):\n${r.stdout}\n${r.stderr}`.trim());
  }
  return r.stdout;
}

/** The Debian mirror the host uses (so debootstrap goes where apt goes), else deb.debian.org. */
export function debianMirror(): string {
  if (process.env.MESHDNS_TEST_MIRROR) return process.env.MESHDNS_TEST_MIRROR;
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f)) : [])];
  for (const file of files) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    // deb822 (URIs: …) or one-line (deb URI suite …), a URI ending in /debian
    const m = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+bookworm\s/m.exec(text);
    if (m !== null) return m[1];
  }
  return 'http://deb.debian.org/debian';
}

/**
 * The unpacked root filesystem: reused when present, unpacked from the cached tarball when
 * only that is there, else built (debootstrap + apt, ~70 s) and cached as both.
 */
export function ensureRootFilesystem(log: Log): string {
  const dir = join(CACHE_DIR, ROOT_KEY);
  const tarball = `${dir}.tar.zst`;
  const ready = `${dir}.ready`;
  if (existsSync(ready) && existsSync(dir)) return dir;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  if (existsSync(tarball)) {
    const started = Date.now();
    mkdirSync(tmp);
    run('tar', ['--zstd', '-xpf', tarball, '-C', tmp]);
    log(`root filesystem restored from ${tarball} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else {
    const started = Date.now();
    const mirror = debianMirror();
    log(`building the Debian 12 root filesystem (debootstrap from ${mirror}); cached afterwards in ${CACHE_DIR}`);
    run('debootstrap', ['--variant=minbase', `--include=${DEBOOTSTRAP_INCLUDE.join(',')}`, 'bookworm', tmp, mirror]);
    run('chroot', [tmp, 'apt-get', 'install', '-y', '--no-install-recommends', ...APT_PACKAGES]);
    run('chroot', [tmp, 'apt-get', 'clean']);
    run('tar', ['--zstd', '-cpf', `${tarball}.part`, '-C', tmp, '.']);
    renameSync(`${tarball}.part`, tarball);
    log(`root filesystem built and cached in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  renameSync(tmp, dir);
  writeFileSync(ready, `${new Date().toISOString()}\n`);
  return dir;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A booted container: commands run inside with nsenter into all of PID 1's namespaces. */
export class Container {
  private constructor(
    readonly nspawnPid: number,
    readonly pid1: number,
    private readonly cgroups: string[],
    private readonly exited: Promise<void>,
  ) {}

  /**
   * Boot `root` with systemd as PID 1: private network (loopback only), an overlay over the
   * root (changes vanish at exit), `binds` read-only (host dir → container dir).
   */
  static async boot(root: string, binds: Record<string, string>, log: Log): Promise<Container> {
    const name = `meshdns-test-${process.pid}`;
    // --keep-unit needs the nspawn process in a cgroup of its own (the host's PID 1 is not systemd).
    const cgroups = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']
      .filter((base) => existsSync(join(base, 'cgroup.procs')))
      .map((base) => join(base, name));
    for (const cg of cgroups) mkdirSync(cg, { recursive: true });
    const args = [
      '-q', '-D', root, '-b', '-M', 'meshdnstest', '--register=no', '--keep-unit', '--link-journal=no',
      '--console=read-only', '--private-network', '--volatile=overlay',
      ...Object.entries(binds).map(([host, inside]) => `--bind-ro=${host}:${inside}`),
    ];
    const script = `${cgroups.map((cg) => `echo $BASHPID > ${cg}/cgroup.procs`).join('; ')}; exec systemd-nspawn ${args.map((a) => `'${a}'`).join(' ')}`;
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    let done = false;
    void exited.then(() => (done = true));
    const deadline = Date.now() + 60_000;
    let pid1 = 0;
    while (pid1 === 0) {
      if (done) throw new Error(`systemd-nspawn exited before the container booted:\n${output}`);
      if (Date.now() > deadline) throw new Error(`container did not start within 60 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
      pid1 = findChild(child.pid!, 'systemd');
    }
    const container = new Container(child.pid!, pid1, cgroups, exited);
    // The first `systemd` child may still be setting up its namespaces: ask until it answers.
    const state = await waitFor(
      () => {
        const r = container.exec('systemctl is-system-running --wait', 120_000).stdout.trim();
        return r === 'running' || r === 'degraded' ? r : undefined;
      },
      deadline,
      () => `container did not reach running within 60 s:\n${output}`,
    );
    log(`container booted (systemd ${state}, PID 1 = host PID ${pid1})`);
    return container;
  }

  /** Run a shell script inside; never throws. */
  exec(script: string, timeoutMs = 60_000): ExecResult {
    const r = spawnSync('nsenter', ['-t', String(this.pid1), '-a', '--', '/bin/sh', '-c', script], {
      encoding: 'utf8',
      env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' },
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
  }

  /** Run a shell script inside; throws with its output when it fails. */
  sh(script: string, timeoutMs = 60_000): string {
    const r = this.exec(script, timeoutMs);
    if (r.code !== 0) throw new Error(`in the container, exit ${r.code}: ${script}\n${r.stdout}\n${r.stderr}`.trim());
    return r.stdout;
  }

  /** Write a file inside (through the shell, so no host path is involved). */
  writeFile(path: string, content: string | Buffer): void {
    const b64 = Buffer.from(content).toString('base64');
    this.sh(`mkdir -p "$(dirname '${path}')" && echo '${b64}' | base64 -d > '${path}'`);
  }

  /** Halt (SIGTERM to nspawn: a clean shutdown; a second one after 20 s is immediate). */
  async stop(): Promise<void> {
    try {
      process.kill(this.nspawnPid, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(this.nspawnPid, 'SIGTERM');
      } catch {
        // already gone
      }
    }, 20_000);
    await this.exited;
    clearTimeout(timer);
    // Our cgroups, deepest first, or empty ones pile up in the host's hierarchy.
    for (const cg of this.cgroups) {
      spawnSync('find', [cg, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { env: { PATH: SYSTEM_PATH } });
    }
  }
}

async function waitFor<T>(probe: () => T | undefined, deadline: number, failure: () => string): Promise<T> {
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(failure());
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The first child of `pid` whose command name is `comm` (0 when none yet). */
function findChild(pid: number, comm: string): number {
  let children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text !== '') children.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    return 0;
  }
  children = children.filter((c) => {
    try {
      return readFileSync(`/proc/${c}/comm`, 'utf8').trim() === comm;
    } catch {
      return false;
    }
  });
  return children[0] ?? 0;
}
