/**
 * Instructions per query of a running meshdns, for A/B on a loaded machine: meshdns runs under
 * `valgrind --tool=callgrind --instr-atstart=no`, and instrumentation is switched on with
 * `callgrind_control` only around a fixed dnsperf run, so the count is what the server process
 * spent on those queries. Scenarios: local answers and cache hits (3 passes over the 1,000 names
 * each, after a warm pass), and forwarding without a cache (unique names for 20 s). unbound on
 * 127.0.0.3 is the upstream, as in `npm run bench`.
 *
 *   node dist/bench/callgrind-queries.js /path/to/checkout-a [/path/to/checkout-b ...]
 *
 * Each argument is a checkout built with `tsc` (its `bin/meshdns.js` is run).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { localName, meshdnsConfig, unboundConf, writeFixtures } from './fixtures';
import { freePort, startProcess, stopAll, stopProcess, waitUntilAnswering } from './procs';
import { runDnsperf, type PerfOptions } from './dnsperf';

const SERVER = '127.0.0.2';
const UPSTREAM = '127.0.0.3';
const UNBOUND = process.env.UNBOUND ?? '/usr/sbin/unbound';

/** The `totals:` of the newest callgrind dump of `outFile`. */
function lastDumpTotal(outFile: string): number {
  const dir = join(outFile, '..');
  const prefix = basename(outFile);
  const newest = readdirSync(dir)
    .filter((f) => f.startsWith(`${prefix}.`))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  const m = newest === undefined ? null : readFileSync(newest, 'utf8').match(/^totals: (\d+)/m);
  return m === null ? NaN : Number(m[1]);
}

async function measure(pid: number, outFile: string, label: string, perf: PerfOptions): Promise<string> {
  const control = (...args: string[]): void => void execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });
  control('-z');
  control('-i', 'on');
  const r = await runDnsperf(perf);
  control('-i', 'off');
  control(`--dump=${label}`);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const ir = lastDumpTotal(outFile);
  const sent = r.completed + r.lost;
  return `${label.padEnd(28)} ${String(r.completed).padStart(6)} answered, ${r.lost} lost, ${(ir / sent / 1000).toFixed(1)}k instructions per query sent`;
}

async function main(checkouts: string[]): Promise<void> {
  if (checkouts.length === 0) throw new Error('usage: callgrind-queries.js CHECKOUT [CHECKOUT ...]');
  const work = mkdtempSync(join(tmpdir(), 'meshdns-callgrind-'));
  const fixtures = writeFixtures(work);
  const upstreamPort = await freePort(UPSTREAM);
  const unbound = startProcess('unbound', UNBOUND, ['-d', '-c', unboundConf(work, UPSTREAM, upstreamPort)]);
  await waitUntilAnswering(unbound, UPSTREAM, upstreamPort, fixtures.forwardedProbe);
  const lines: string[] = [];
  for (const [n, checkout] of checkouts.entries()) {
    for (const cacheEntries of [10_000, 0]) {
      const name = `${n}-${basename(checkout)}-${cacheEntries === 0 ? 'nocache' : 'cache'}`;
      const port = await freePort(SERVER);
      const stateDir = join(work, `state-${name}`);
      mkdirSync(stateDir, { recursive: true });
      const config = meshdnsConfig(work, { name, listen: `${SERVER}:${port}`, upstream: `${UPSTREAM}:${upstreamPort}`, cacheEntries, registry: fixtures.registryDir, bootstrapDir: join(work, 'no-bootstrap'), stateDir });
      const outFile = join(work, `callgrind-${name}.out`);
      const proc = startProcess(name, 'valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outFile}`, process.execPath, join(checkout, 'bin', 'meshdns.js'), 'run', '--config', config], work);
      await waitUntilAnswering(proc, SERVER, port, localName(0), { timeoutMs: 600_000 });
      const perf = (queryFile: string, passes: number): PerfOptions => ({ server: SERVER, port, queryFile, seconds: 0, passes, maxInFlight: 20, clients: 1 });
      if (cacheEntries > 0) {
        await runDnsperf(perf(fixtures.localQueries, 1));
        await runDnsperf(perf(fixtures.forwardedQueries, 1));
        lines.push(await measure(proc.pid, outFile, `${name} local`, perf(fixtures.localQueries, 3)));
        lines.push(await measure(proc.pid, outFile, `${name} cached`, perf(fixtures.forwardedQueries, 3)));
      } else {
        await runDnsperf({ ...perf(fixtures.uniqueQueries, 1), passes: undefined, seconds: 3 });
        lines.push(await measure(proc.pid, outFile, `${name} not cached`, { ...perf(fixtures.uniqueQueries, 1), passes: undefined, seconds: 20 }));
      }
      await stopProcess(proc, 20_000);
    }
  }
  await stopAll();
  rmSync(work, { recursive: true, force: true });
  for (const line of lines) console.log(line);
}

main(process.argv.slice(2)).catch(async (err: unknown) => {
  console.error(err);
  await stopAll();
  process.exitCode = 1;
});
