/**
 * `npm run bench`: meshdns against dnsmasq on loopback, one server at a time, with dnsperf.
 *
 * Scenarios (issue 3, issue 6): local answers (max QPS; latency at 50k QPS offered; CPU at 20k),
 * forwarded with a cache (max; 20k), forwarded without a cache (unique names; max; 20k), RSS,
 * meshdns' start-to-serving time on the demo inputs, and the scale row: meshdns serving 100,000
 * ServiceEntries (300,000 names) — time to serve, local max QPS on 10,000 names spread over the
 * table (compared with meshdns' own 1,000-name figure), RSS while serving. Both servers forward to the same
 * unbound upstream. Prints one table and writes bench/.build/last-run.json.
 *
 * Exits non-zero only when the run is broken (a server or dnsperf failed), never because a
 * figure is poor.
 *
 * Options: --quick (2 s runs, for trying the harness), --repeat N (N rounds, medians),
 * --scale-only (only the 100,000-entry scale row), --only ID[,ID] (only these scenarios),
 * --profile [uncached] (only: meshdns under local-answer load, or forwarding without a cache, with
 * `node --cpu-prof`; prints the top self-time functions; the profile stays in bench/.build/prof).
 * --everyday (only the everyday rows of bench/everyday.ts: CPU per query at 20k QPS against dnsmasq,
 * idle RSS, start to first answer, sibling-file churn; BENCH_BASELINE_ROOT adds another checkout).
 * `npm run bench -- --repeat 3` passes options through npm.
 * Env: BENCH_MAX_SECONDS (default 8), BENCH_FIXED_SECONDS (default 5).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runDnsperf, DNSPERF, type PerfOptions, type PerfResult } from './dnsperf';
import { localName, meshdnsConfig, unboundConf, writeFixtures, type Fixtures } from './fixtures';
import { cpuSeconds, freePort, memory, startProcess, stopAll, stopProcess, waitUntilAnswering, type Proc } from './procs';
import { summarizeFile } from './cpuprofile-top';
import { serviceEntryHost, serviceEntryYaml } from './table-build';
import { formatEveryday, runEveryday, type EverydayResult } from './everyday';

const ROOT = resolve(__dirname, '..', '..');
const MESHDNS_BIN = join(ROOT, 'bin', 'meshdns.js');
const DEMO_DIR = join(ROOT, 'examples', 'demo');
const SERVER_ADDRESS = '127.0.0.2';
const UPSTREAM_ADDRESS = '127.0.0.3';
const DNSMASQ = process.env.DNSMASQ ?? '/usr/sbin/dnsmasq';
const UNBOUND = process.env.UNBOUND ?? '/usr/sbin/unbound';

const quick = process.argv.includes('--quick');
const MAX_SECONDS = quick ? 2 : Number(process.env.BENCH_MAX_SECONDS ?? 8);
const FIXED_SECONDS = quick ? 2 : Number(process.env.BENCH_FIXED_SECONDS ?? 5);
const onlyArg = process.argv.indexOf('--only');
/** `--only id,id`: just these scenarios (ids: local-max, local-50k, …; see SCENARIOS), no scale row or start time. */
const ONLY = onlyArg >= 0 ? new Set(process.argv[onlyArg + 1].split(',')) : undefined;
const repeatArg = process.argv.indexOf('--repeat');
const REPEAT = repeatArg >= 0 ? Math.max(1, Number(process.argv[repeatArg + 1]) || 1) : 1;

/** Other work on the machine skews every figure: printed with the results. */
function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

type ServerKind = 'meshdns' | 'dnsmasq';

interface Measurement {
  qps: number;
  lossPct: number;
  /** Share of answers that were not NOERROR (REFUSED/SERVFAIL from a forwarder at its limit). */
  notNoerrorPct: number;
  p50Us?: number;
  p99Us?: number;
  cpuPer100k: number;
  rssMiB: number;
}

interface Scenario {
  id: string;
  title: string;
  phase: 'cached' | 'uncached';
  queryFile: (f: Fixtures) => string;
  qps?: number;
  seconds: () => number;
  latency: boolean;
}

const SCENARIOS: Scenario[] = [
  { id: 'local-max', title: 'local answers, max QPS', phase: 'cached', queryFile: (f) => f.localQueries, seconds: () => MAX_SECONDS, latency: false },
  { id: 'local-50k', title: 'local answers, 50k QPS offered', phase: 'cached', queryFile: (f) => f.localQueries, qps: 50_000, seconds: () => FIXED_SECONDS, latency: true },
  { id: 'local-20k', title: 'local answers, 20k QPS offered', phase: 'cached', queryFile: (f) => f.localQueries, qps: 20_000, seconds: () => FIXED_SECONDS, latency: true },
  { id: 'cached-max', title: 'forwarded, cached, max QPS', phase: 'cached', queryFile: (f) => f.forwardedQueries, seconds: () => MAX_SECONDS, latency: false },
  { id: 'cached-20k', title: 'forwarded, cached, 20k QPS offered', phase: 'cached', queryFile: (f) => f.forwardedQueries, qps: 20_000, seconds: () => FIXED_SECONDS, latency: true },
  { id: 'uncached-max', title: 'forwarded, not cached, max QPS', phase: 'uncached', queryFile: (f) => f.uniqueQueries, seconds: () => MAX_SECONDS, latency: false },
  { id: 'uncached-20k', title: 'forwarded, not cached, 20k QPS offered', phase: 'uncached', queryFile: (f) => f.uniqueQueries, qps: 20_000, seconds: () => FIXED_SECONDS, latency: true },
];

/** The scale row: 100,000 ServiceEntries of 3 hosts (bench/table-build.ts's entries). */
const SCALE_ENTRIES = quick ? 20_000 : 100_000;
const SCALE_QUERY_NAMES = 10_000;
const SCALE_SCENARIO: Scenario = {
  id: 'scale-local-max',
  title: `local answers, ${SCALE_ENTRIES / 1000}k ServiceEntries, max QPS`,
  phase: 'cached',
  queryFile: () => '',
  seconds: () => MAX_SECONDS,
  latency: false,
};

interface ServerHandle {
  proc: Proc;
  port: number;
}

interface Context {
  work: string;
  fixtures: Fixtures;
  upstream: string;
}

async function startMeshdns(
  ctx: Context,
  name: string,
  cacheEntries: number,
  extraNodeArgs: string[] = [],
  scale?: { registryDir: string; probe: string },
): Promise<ServerHandle> {
  const port = await freePort(SERVER_ADDRESS);
  const stateDir = join(ctx.work, `state-${name}`);
  mkdirSync(stateDir, { recursive: true });
  const config = meshdnsConfig(ctx.work, {
    name,
    listen: `${SERVER_ADDRESS}:${port}`,
    upstream: ctx.upstream,
    cacheEntries,
    registry: scale?.registryDir ?? ctx.fixtures.registryDir,
    bootstrapDir: join(ctx.work, 'no-bootstrap'),
    stateDir,
  });
  const proc = startProcess(name, process.execPath, [...extraNodeArgs, MESHDNS_BIN, 'run', '--config', config], ctx.work);
  await waitUntilAnswering(proc, SERVER_ADDRESS, port, scale?.probe ?? localName(0), { timeoutMs: scale === undefined ? 15_000 : 120_000 });
  return { proc, port };
}

async function startDnsmasq(ctx: Context, name: string, cacheSize: number): Promise<ServerHandle> {
  const port = await freePort(SERVER_ADDRESS);
  const [upAddr, upPort] = ctx.upstream.split(':');
  const proc = startProcess(name, DNSMASQ, [
    '--no-daemon',
    '--conf-file=/dev/null',
    '--pid-file=',
    '--no-resolv',
    '--no-hosts',
    `--addn-hosts=${ctx.fixtures.hostsFile}`,
    `--server=${upAddr}#${upPort}`,
    `--listen-address=${SERVER_ADDRESS}`,
    `--port=${port}`,
    '--bind-interfaces',
    `--cache-size=${cacheSize}`,
    '--local-ttl=30',
  ]);
  await waitUntilAnswering(proc, SERVER_ADDRESS, port, localName(0));
  return { proc, port };
}

async function measure(server: ServerHandle, scenario: Scenario, fixtures: Fixtures): Promise<Measurement> {
  const opts: PerfOptions = {
    server: SERVER_ADDRESS,
    port: server.port,
    queryFile: scenario.queryFile(fixtures),
    seconds: scenario.seconds(),
    qps: scenario.qps,
    latency: scenario.latency,
  };
  const cpuBefore = cpuSeconds(server.proc.pid);
  const r = await runDnsperf(opts);
  const cpu = cpuSeconds(server.proc.pid) - cpuBefore;
  if (server.proc.exited()) throw new Error(`${server.proc.name} died during "${scenario.title}":\n${server.proc.output()}`);
  if (r.completed === 0) throw new Error(`${server.proc.name} answered no query in "${scenario.title}"`);
  return toMeasurement(r, cpu, memory(server.proc.pid).rssMiB);
}

function toMeasurement(r: PerfResult, cpu: number, rssMiB: number): Measurement {
  const noerror = r.rcodes.NOERROR ?? 0;
  return {
    // Only good answers count: a forwarder that refuses past its limit is not faster for it.
    qps: r.completed > 0 ? (r.qps * noerror) / r.completed : 0,
    lossPct: r.sent > 0 ? (100 * r.lost) / r.sent : 0,
    notNoerrorPct: r.completed > 0 ? (100 * (r.completed - noerror)) / r.completed : 0,
    p50Us: r.p50Us,
    p99Us: r.p99Us,
    cpuPer100k: r.completed > 0 ? (cpu * 100_000) / r.completed : NaN,
    rssMiB,
  };
}

type Results = Record<string, Partial<Record<ServerKind, Measurement>>>;
/** Every repetition's measurements, before the medians are taken. */
type Samples = Record<string, Partial<Record<ServerKind, Measurement[]>>>;

/** Field by field median over repetitions (the notes: differences under ~15% are noise here). */
function medians(samples: Samples): Results {
  const out: Results = {};
  for (const [id, byKind] of Object.entries(samples)) {
    out[id] = {};
    for (const kind of ['meshdns', 'dnsmasq'] as const) {
      const ms = byKind[kind];
      if (!ms || ms.length === 0) continue;
      const pick = (f: (m: Measurement) => number | undefined): number | undefined => {
        const xs = ms.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x));
        return xs.length === 0 ? undefined : median(xs);
      };
      out[id][kind] = {
        qps: pick((m) => m.qps) ?? 0,
        lossPct: pick((m) => m.lossPct) ?? 0,
        notNoerrorPct: pick((m) => m.notNoerrorPct) ?? 0,
        p50Us: pick((m) => m.p50Us),
        p99Us: pick((m) => m.p99Us),
        cpuPer100k: pick((m) => m.cpuPer100k) ?? NaN,
        rssMiB: pick((m) => m.rssMiB) ?? NaN,
      };
    }
  }
  return out;
}

async function runPhase(ctx: Context, kind: ServerKind, phase: Scenario['phase'], samples: Samples, peaks: Record<string, number>): Promise<void> {
  const cacheOn = phase === 'cached';
  const name = `${kind}-${phase}`;
  const t0 = performance.now();
  const server =
    kind === 'meshdns' ? await startMeshdns(ctx, name, cacheOn ? 10000 : 0) : await startDnsmasq(ctx, name, cacheOn ? 10000 : 0);
  process.stderr.write(`${name}: serving after ${(performance.now() - t0).toFixed(0)} ms (pid ${server.proc.pid})\n`);
  try {
    // Forwarding must work before it is measured.
    await waitUntilAnswering(server.proc, SERVER_ADDRESS, server.port, ctx.fixtures.forwardedProbe, { timeoutMs: 5000 });
    if (cacheOn) {
      // Warm the cache: one pass over the forwarded names.
      await runDnsperf({ server: SERVER_ADDRESS, port: server.port, queryFile: ctx.fixtures.forwardedQueries, seconds: 0, passes: 1, maxInFlight: 50 });
    }
    for (const s of SCENARIOS.filter((x) => x.phase === phase && (ONLY === undefined || ONLY.has(x.id)))) {
      const m = await measure(server, s, ctx.fixtures);
      ((samples[s.id] ??= {})[kind] ??= []).push(m);
      process.stderr.write(`  ${kind} ${s.title}: ${m.qps.toFixed(0)} QPS, loss ${m.lossPct.toFixed(2)}%, p50/p99 ${m.p50Us ?? '-'}/${m.p99Us ?? '-'} µs, ${m.cpuPer100k.toFixed(2)} CPU s/100k\n`);
    }
    peaks[name] = Math.max(peaks[name] ?? 0, memory(server.proc.pid).hwmMiB);
  } finally {
    await stopProcess(server.proc);
  }
}

/** The scale registry (100 files of 1,000 entries) and a query file of names spread over it. */
function writeScaleFixtures(work: string): { registryDir: string; queries: string } {
  const registryDir = join(work, 'scale-registry');
  mkdirSync(registryDir, { recursive: true });
  for (let start = 0; start < SCALE_ENTRIES; start += 1000) {
    const docs: string[] = [];
    for (let i = start; i < start + 1000; i++) docs.push(serviceEntryYaml(i));
    writeFileSync(join(registryDir, `se-${start}.yaml`), docs.join('---\n'));
  }
  const stride = SCALE_ENTRIES / SCALE_QUERY_NAMES;
  const lines: string[] = [];
  for (let j = 0; j < SCALE_QUERY_NAMES; j++) lines.push(`${serviceEntryHost(j * stride, j % 3)} ${j % 10 === 9 ? 'AAAA' : 'A'}`);
  const queries = join(work, 'scale-queries.txt');
  writeFileSync(queries, `${lines.join('\n')}\n`);
  return { registryDir, queries };
}

interface ScaleResult {
  measurement: Measurement;
  startToServingMs: number;
  peakRssMiB: number;
}

/** meshdns on the 100,000-entry registry: time to serve, local max QPS, RSS while serving. */
async function scalePhase(ctx: Context): Promise<ScaleResult> {
  const fixtures = writeScaleFixtures(ctx.work);
  const t0 = performance.now();
  const server = await startMeshdns(ctx, 'meshdns-scale', 10000, [], { registryDir: fixtures.registryDir, probe: serviceEntryHost(0, 0) });
  const startToServingMs = performance.now() - t0;
  process.stderr.write(`meshdns-scale: serving ${SCALE_ENTRIES} entries after ${startToServingMs.toFixed(0)} ms (pid ${server.proc.pid})\n`);
  try {
    // One pass first, as the 1,000-name run's earlier scenarios warm its process.
    await runDnsperf({ server: SERVER_ADDRESS, port: server.port, queryFile: fixtures.queries, seconds: 0, passes: 1, maxInFlight: 50 });
    const measurement = await measure(server, { ...SCALE_SCENARIO, queryFile: () => fixtures.queries }, ctx.fixtures);
    process.stderr.write(`  meshdns ${SCALE_SCENARIO.title}: ${measurement.qps.toFixed(0)} QPS, ${measurement.cpuPer100k.toFixed(2)} CPU s/100k, RSS ${measurement.rssMiB.toFixed(0)} MiB\n`);
    return { measurement, startToServingMs, peakRssMiB: memory(server.proc.pid).hwmMiB };
  } finally {
    await stopProcess(server.proc);
  }
}

/**
 * Local max QPS of the Node floor (bench/node-floor.ts). Its answers carry no records, so the
 * readiness probe only waits for the port; the figure is a reference, not a competitor.
 */
async function nodeFloor(ctx: Context): Promise<Measurement> {
  const port = await freePort(SERVER_ADDRESS);
  const proc = startProcess('node-floor', process.execPath, [join(__dirname, 'node-floor.js'), SERVER_ADDRESS, String(port)]);
  try {
    await waitUntilAnswering(proc, SERVER_ADDRESS, port, localName(0), { anyAnswer: true });
    const s = SCENARIOS[0];
    return await measure({ proc, port }, s, ctx.fixtures);
  } finally {
    await stopProcess(proc);
  }
}

/** Spawn → first answered query, on the demo inputs (median of `runs`). */
async function startToServing(ctx: Context, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const port = await freePort(SERVER_ADDRESS);
    const stateDir = join(ctx.work, `state-demo-${i}`);
    mkdirSync(stateDir, { recursive: true });
    const config = meshdnsConfig(ctx.work, {
      name: `demo-${i}`,
      listen: `${SERVER_ADDRESS}:${port}`,
      upstream: ctx.upstream,
      cacheEntries: 10000,
      registry: join(DEMO_DIR, 'registry'),
      bootstrapDir: DEMO_DIR,
      stateDir,
    });
    const since = performance.now();
    const proc = startProcess(`meshdns-demo-${i}`, process.execPath, [MESHDNS_BIN, 'run', '--config', config], ctx.work);
    try {
      times.push(await waitUntilAnswering(proc, SERVER_ADDRESS, port, 'address.internal', { since, intervalMs: 1 }));
    } finally {
      await stopProcess(proc);
    }
  }
  return times;
}

function nodeBareStartMs(): number {
  const t = performance.now();
  execFileSync(process.execPath, ['-e', '0']);
  return performance.now() - t;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);
}

function pair(a: number | undefined, b: number | undefined, digits = 0): string {
  return `${fmt(a, digits)} / ${fmt(b, digits)}`;
}

export function formatTable(results: Results): string {
  const header = ['scenario', 'meshdns QPS', 'dnsmasq QPS', 'ratio', 'p50 µs m/d', 'p99 µs m/d', 'CPU s/100k m/d', 'CPU ratio', 'RSS MiB m/d', 'loss % m/d', 'not NOERROR % m/d'];
  const rows = SCENARIOS.map((s) => {
    const m = results[s.id]?.meshdns;
    const d = results[s.id]?.dnsmasq;
    const ratio = m && d && d.qps > 0 ? m.qps / d.qps : undefined;
    const cpuRatio = m && d && d.cpuPer100k > 0 ? m.cpuPer100k / d.cpuPer100k : undefined;
    return [
      s.title,
      fmt(m?.qps),
      fmt(d?.qps),
      ratio === undefined ? '–' : `${ratio.toFixed(2)}×`,
      pair(m?.p50Us, d?.p50Us),
      pair(m?.p99Us, d?.p99Us),
      pair(m?.cpuPer100k, d?.cpuPer100k, 2),
      cpuRatio === undefined ? '–' : `${cpuRatio.toFixed(2)}×`,
      pair(m?.rssMiB, d?.rssMiB),
      pair(m?.lossPct, d?.lossPct, 2),
      pair(m?.notNoerrorPct, d?.notNoerrorPct, 2),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? '-' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`, ...rows.map(line)].join('\n');
}

async function setup(): Promise<Context> {
  for (const tool of [DNSPERF, DNSMASQ, UNBOUND]) {
    try {
      execFileSync('test', ['-x', tool]);
    } catch {
      throw new Error(`${tool} is missing: apt-get install dnsperf dnsmasq-base unbound`);
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'meshdns-bench-'));
  const fixtures = writeFixtures(work);
  return { work, fixtures, upstream: '' };
}

async function startUpstream(ctx: Context): Promise<Proc> {
  const port = await freePort(UPSTREAM_ADDRESS);
  const conf = unboundConf(ctx.work, UPSTREAM_ADDRESS, port);
  const proc = startProcess('unbound', UNBOUND, ['-d', '-c', conf]);
  await waitUntilAnswering(proc, UPSTREAM_ADDRESS, port, ctx.fixtures.forwardedProbe);
  ctx.upstream = `${UPSTREAM_ADDRESS}:${port}`;
  return proc;
}

async function benchmark(ctx: Context): Promise<void> {
  await startUpstream(ctx);
  const samples: Samples = {};
  const peaks: Record<string, number> = {};
  const started = performance.now();
  const loadBefore = loadAverage();
  for (let round = 1; round <= REPEAT; round++) {
    if (REPEAT > 1) process.stderr.write(`round ${round} of ${REPEAT}\n`);
    // Alternate the servers so that slow drift of the machine hits both alike.
    for (const phase of ['cached', 'uncached'] as const) {
      if (ONLY !== undefined && !SCENARIOS.some((x) => x.phase === phase && ONLY.has(x.id))) continue;
      await runPhase(ctx, 'meshdns', phase, samples, peaks);
      await runPhase(ctx, 'dnsmasq', phase, samples, peaks);
    }
  }
  const results = medians(samples);
  if (ONLY !== undefined) {
    console.log(`load ${loadBefore} / ${loadAverage()}\n${formatTable(results)}`);
    return;
  }
  const scale = await scalePhase(ctx);
  const floor = await nodeFloor(ctx);
  const starts = await startToServing(ctx, 5);
  const everyday = await everydayRows(ctx);
  const bare = median([nodeBareStartMs(), nodeBareStartMs(), nodeBareStartMs()]);

  const table = formatTable(results);
  const lines = [
    '',
    `meshdns vs dnsmasq, ${new Date().toISOString()}, node ${process.version}, dnsperf -c 4 -q 300, 1,000 local names (10% AAAA), upstream unbound`,
    `m/d = meshdns / dnsmasq; ${REPEAT > 1 ? `medians of ${REPEAT} rounds; ` : ''}QPS counts NOERROR answers only; p50/p99 from dnsperf -v at a fixed offered rate; load average before/after: ${loadBefore} / ${loadAverage()}`,
    table,
    '',
    `scale: ${SCALE_ENTRIES.toLocaleString('en')} ServiceEntries (${(SCALE_ENTRIES * 3).toLocaleString('en')} names): serving ${(scale.startToServingMs / 1000).toFixed(1)} s after spawn; local max ${fmt(scale.measurement.qps)} QPS on ${SCALE_QUERY_NAMES.toLocaleString('en')} names spread over the table = ${fmt(scale.measurement.qps / (results['local-max']?.meshdns?.qps ?? NaN), 2)}× the 1,000-name figure; ${scale.measurement.cpuPer100k.toFixed(2)} CPU s/100k; RSS while serving ${fmt(scale.measurement.rssMiB)} MiB (peak ${fmt(scale.peakRssMiB)} MiB)`,
    `Node floor (UDP echo in Node, no DNS work, bench/node-floor.ts), local max: ${floor.qps.toFixed(0)} QPS, ${floor.cpuPer100k.toFixed(2)} CPU s/100k, RSS ${floor.rssMiB.toFixed(0)} MiB`,
    `peak RSS (VmHWM) MiB: ${Object.entries(peaks).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`,
    `meshdns start to serving (demo inputs, spawn → first answer): median ${median(starts).toFixed(0)} ms (runs: ${starts.map((t) => t.toFixed(0)).join(', ')} ms); bare \`node -e 0\`: ${bare.toFixed(0)} ms`,
    '',
    formatEveryday(everyday),
    `total ${((performance.now() - started) / 1000).toFixed(0)} s`,
  ];
  console.log(lines.join('\n'));
  const out = join(ROOT, 'bench', '.build');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'last-run.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, repeat: REPEAT, results, samples, peaks, scale, nodeFloor: floor, startToServingMs: starts, nodeBareStartMs: bare, everyday }, null, 2));
}

/** The rows of bench/everyday.ts (issue 19); dnsmasq serves the same 1,000 names from its hosts file. */
function everydayRows(ctx: Context): Promise<EverydayResult> {
  return runEveryday(
    { ...ctx, startDnsmasq: (name) => startDnsmasq(ctx, name, 10000) },
    ROOT,
    { rounds: Number(process.env.BENCH_EVERYDAY_ROUNDS ?? (quick ? 1 : 3)), seconds: FIXED_SECONDS, demoDir: DEMO_DIR, loadAverage },
  );
}

/** `--everyday`: only those rows (to work on idle and everyday cost). */
async function everydayOnly(ctx: Context): Promise<void> {
  await startUpstream(ctx);
  const r = await everydayRows(ctx);
  console.log(formatEveryday(r));
  const out = join(ROOT, 'bench', '.build');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'everyday.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, ...r }, null, 2));
}

/** `--scale-only`: only the scale row (to work on memory and build time). */
async function scaleOnly(ctx: Context): Promise<void> {
  await startUpstream(ctx);
  const scale = await scalePhase(ctx);
  const m = scale.measurement;
  console.log(
    `scale: ${SCALE_ENTRIES} ServiceEntries: serving ${(scale.startToServingMs / 1000).toFixed(1)} s after spawn; local max ${fmt(m.qps)} QPS, ${m.cpuPer100k.toFixed(2)} CPU s/100k, RSS ${fmt(m.rssMiB)} MiB (peak ${fmt(scale.peakRssMiB)} MiB); load ${loadAverage()}`,
  );
}

/** `--profile` profiles local answers; `--profile uncached` forwarding without a cache. */
async function profile(ctx: Context, what: 'local' | 'uncached'): Promise<void> {
  await startUpstream(ctx);
  const dir = join(ROOT, 'bench', '.build', 'prof');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const server = await startMeshdns(ctx, 'meshdns-profiled', what === 'local' ? 10000 : 0, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  try {
    const queryFile = what === 'local' ? ctx.fixtures.localQueries : ctx.fixtures.uniqueQueries;
    const r = await runDnsperf({ server: SERVER_ADDRESS, port: server.port, queryFile, seconds: MAX_SECONDS });
    console.log(`profiled meshdns (${what}): ${r.qps.toFixed(0)} QPS with the profiler on, lost ${r.lost}, CPU ${cpuSeconds(server.proc.pid).toFixed(2)} s in total`);
  } finally {
    await stopProcess(server.proc);
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile written in ${dir}: did meshdns exit cleanly on SIGTERM?`);
  console.log(`${join(dir, files[0])}\n${summarizeFile(join(dir, files[0]), 20)}`);
}

async function main(): Promise<number> {
  let ctx: Context | undefined;
  const onSignal = (): void => {
    void stopAll().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    ctx = await setup();
    const p = process.argv.indexOf('--profile');
    if (p >= 0) await profile(ctx, process.argv[p + 1] === 'uncached' ? 'uncached' : 'local');
    else if (process.argv.includes('--scale-only')) await scaleOnly(ctx);
    else if (process.argv.includes('--everyday')) await everydayOnly(ctx);
    else await benchmark(ctx);
    return 0;
  } catch (err) {
    console.error(`bench: broken run: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await stopAll();
    if (ctx) rmSync(ctx.work, { recursive: true, force: true });
  }
}

if (require.main === module) void main().then((code) => (process.exitCode = code));
