import { ChildProcess, spawn } from 'child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { Upstream } from '../../src/config/types';
import { getFreePort } from './ports';

/**
 * A real dnsmasq on 127.0.0.1:<free port>, as an upstream for tests. Throws when dnsmasq is
 * missing: tests that need it must fail, not skip.
 *
 * What dnsmasq answers (checked against dnsmasq 2.90):
 * - names from `hosts` with TTL `--local-ttl` (300); a name with only an A gets NOERROR
 *   without answers (NODATA) for AAAA — with no SOA, so RFC 2308 caches must not keep it;
 * - names under `localDomains` that are not in `hosts`: NXDOMAIN, also without SOA;
 * - with `authZone`, it is authoritative for that zone on 127.0.0.1: NXDOMAIN/NODATA come
 *   with the zone's SOA (TTL and MINIMUM = `ttl`), and every other name is REFUSED.
 */

export const DNSMASQ_BINARY = process.env.DNSMASQ ?? '/usr/sbin/dnsmasq';

export interface DnsmasqOptions {
  /** hosts(5) lines, e.g. "192.0.2.10 web.test". */
  hosts?: string[];
  /** Domains answered only from local data (unknown names: NXDOMAIN). */
  localDomains?: string[];
  authZone?: { zone: string; records: Array<{ name: string; address: string }>; ttl?: number };
  extraArgs?: string[];
}

export interface Dnsmasq {
  port: number;
  upstream: Upstream;
  /** Queries dnsmasq logged (optionally only for `name`, case-insensitive, no trailing dot). */
  queriesSeen(name?: string): number;
  /** Waits until at least `count` queries (for `name`) were logged, or `timeoutMs`; returns the count. */
  waitForQueries(count: number, name?: string, timeoutMs?: number): Promise<number>;
  log(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startDnsmasq(options: DnsmasqOptions = {}): Promise<Dnsmasq> {
  if (!existsSync(DNSMASQ_BINARY)) {
    throw new Error(`dnsmasq not found at ${DNSMASQ_BINARY} (Debian: apt-get install dnsmasq-base)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-dnsmasq-'));
  const hostsFile = join(dir, 'hosts');
  writeFileSync(hostsFile, (options.hosts ?? []).map((l) => `${l}\n`).join(''));
  let lastError: Error | null = null;
  for (let tries = 0; tries < 5; tries++) {
    const port = await getFreePort();
    try {
      return await launch(port, dir, hostsFile, options);
    } catch (error) {
      lastError = error as Error; // most likely the port was taken in between: try another
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error('dnsmasq did not start');
}

function launch(port: number, dir: string, hostsFile: string, options: DnsmasqOptions): Promise<Dnsmasq> {
  const args = [
    '--no-daemon',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    `--addn-hosts=${hostsFile}`,
    '--listen-address=127.0.0.1',
    `--port=${port}`,
    '--bind-interfaces',
    '--log-queries',
    '--log-facility=-',
    '--local-ttl=300',
    '--pid-file=',
  ];
  for (const domain of options.localDomains ?? []) args.push(`--local=/${domain}/`);
  if (options.authZone !== undefined) {
    const { zone, records, ttl = 300 } = options.authZone;
    args.push(`--auth-server=ns.${zone},127.0.0.1`, `--auth-zone=${zone}`, `--auth-ttl=${ttl}`);
    for (const r of records) args.push(`--host-record=${r.name},${r.address}`);
  }
  args.push(...(options.extraArgs ?? []));

  const child = spawn(DNSMASQ_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        running.delete(child);
        rmSync(dir, { recursive: true, force: true });
        resolve();
        return;
      }
      child.once('exit', () => {
        running.delete(child);
        rmSync(dir, { recursive: true, force: true });
        resolve();
      });
      child.kill('SIGTERM');
    });

  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      void stop();
      reject(new Error(`dnsmasq did not become ready within 5 s; output:\n${output}`));
    }, 5000);
    const onExit = (code: number | null): void => {
      clearTimeout(deadline);
      running.delete(child);
      reject(new Error(`dnsmasq exited (${code}) during start; output:\n${output}`));
    };
    child.once('exit', onExit);
    child.once('error', onExit);
    // dnsmasq binds its sockets before it reads the hosts file, so this line means "serving".
    const poll = setInterval(() => {
      if (!output.includes(`read ${hostsFile}`)) return;
      clearInterval(poll);
      clearTimeout(deadline);
      child.off('exit', onExit);
      const queriesSeen = (name?: string): number => {
        const wanted = name?.toLowerCase().replace(/\.$/, '');
        let count = 0;
        for (const m of output.matchAll(/: (?:query|auth)\[[A-Za-z0-9]+\] (\S+) from /g)) {
          if (wanted === undefined || m[1].toLowerCase() === wanted) count++;
        }
        return count;
      };
      resolve({
        port,
        upstream: { host: '127.0.0.1', port, family: 4 },
        queriesSeen,
        async waitForQueries(count: number, name?: string, timeoutMs = 1000): Promise<number> {
          // dnsmasq writes its log asynchronously: a query may show up a few ms after the answer.
          const until = Date.now() + timeoutMs;
          while (queriesSeen(name) < count && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
          return queriesSeen(name);
        },
        log: () => output,
        stop,
      });
    }, 10);
    child.once('exit', () => clearInterval(poll));
  });
}
