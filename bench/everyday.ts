/**
 * The everyday rows of `npm run bench` (issue 19): what a VM pays when meshdns is mostly idle or
 * at a few thousand queries a second, rather than at peak.
 *
 * - CPU per query at a steady 20k QPS of local answers, meshdns and dnsmasq both running,
 *   measured alternately (m, d, m, d, …) so drift of the shared machine hits both alike.
 * - Idle RSS with the 1,000 local names, after one pass of queries over them and a quiet pause.
 * - Start to first answer on the demo inputs (spawn of `node bin/meshdns.js run` until the first
 *   answer to `address.internal`).
 * - Churn: meshdns' CPU while a file next to its settings file is appended to 1,000 times a second
 *   (idle, and under 20k QPS with p50).
 *
 * With BENCH_BASELINE_ROOT=<another checkout, built> every row also runs that checkout's meshdns,
 * alternated with this one's, for before/after figures in one session.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runDnsperf, type PerfResult } from './dnsperf';
import { localName, meshdnsConfig, type Fixtures } from './fixtures';
import { cpuSeconds, freePort, memory, startProcess, stopProcess, waitUntilAnswering, type Proc } from './procs';

const SERVER_ADDRESS = '127.0.0.2';

export interface EverydayContext {
  work: string;
  fixtures: Fixtures;
  upstream: string;
  /** Starts dnsmasq on the local names (bench/run.ts), cache on. */
  startDnsmasq(name: string): Promise<{ proc: Proc; port: number }>;
}

/** A meshdns build to measure: this checkout, or a baseline one. */
export interface Build {
  label: string;
  root: string;
}

export function builds(thisRoot: string): Build[] {
  const base = process.env.BENCH_BASELINE_ROOT;
  return base === undefined || base === '' ? [{ label: 'meshdns', root: thisRoot }] : [{ label: 'meshdns', root: thisRoot }, { label: 'baseline', root: resolve(base) }];
}

interface Running {
  proc: Proc;
  port: number;
  configDir: string;
}

let serial = 0;

async function startMeshdns(ctx: EverydayContext, build: Build, opts: { registry?: string; bootstrapDir?: string; probe?: string } = {}): Promise<Running> {
  const name = `${build.label}-everyday-${++serial}`;
  const configDir = join(ctx.work, name);
  const stateDir = join(configDir, 'state');
  mkdirSync(stateDir, { recursive: true });
  const port = await freePort(SERVER_ADDRESS);
  const config = meshdnsConfig(configDir, {
    name: 'meshdns',
    listen: `${SERVER_ADDRESS}:${port}`,
    upstream: ctx.upstream,
    cacheEntries: 10000,
    registry: opts.registry ?? ctx.fixtures.registryDir,
    bootstrapDir: opts.bootstrapDir ?? join(ctx.work, 'no-bootstrap'),
    stateDir,
  });
  const since = performance.now();
  const proc = startProcess(name, process.execPath, [join(build.root, 'bin', 'meshdns.js'), 'run', '--config', config], configDir);
  await waitUntilAnswering(proc, SERVER_ADDRESS, port, opts.probe ?? localName(0), { since, intervalMs: 1 });
  return { proc, port, configDir };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function cpuPer100kAt20k(proc: Proc, port: number, queryFile: string, seconds: number): Promise<{ cpuPer100k: number; p50Us?: number; result: PerfResult }> {
  const before = cpuSeconds(proc.pid);
  const result = await runDnsperf({ server: SERVER_ADDRESS, port, queryFile, seconds, qps: 20_000, latency: true });
  const cpu = cpuSeconds(proc.pid) - before;
  if (result.completed === 0) throw new Error(`${proc.name} answered nothing at 20k QPS`);
  return { cpuPer100k: (cpu * 100_000) / result.completed, p50Us: result.p50Us, result };
}

export interface EverydayResult {
  /** CPU s per 100k answers at 20k QPS, per server label, every sample. */
  cpu20k: Record<string, number[]>;
  p50At20k: Record<string, number[]>;
  idleRssMiB: Record<string, number[]>;
  idlePrivateMiB: Record<string, number[]>;
  startMs: Record<string, number[]>;
  /** meshdns CPU (share of one core) with no queries, without and with the sibling churn. */
  idleCpu: Record<string, number[]>;
  churnCpu: Record<string, number[]>;
  /** p50 at 20k QPS while the churn runs. */
  churnP50: Record<string, number[]>;
  load: string;
}

function push(rec: Record<string, number[]>, key: string, v: number | undefined): void {
  if (v !== undefined && Number.isFinite(v)) (rec[key] ??= []).push(v);
}

/** Appends a line to `file` `perSecond` times a second (each append its own open/write/close) until stopped. */
function churn(file: string, perSecond: number): () => void {
  writeFileSync(file, '');
  const started = performance.now();
  let done = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
    for (; done < due; done++) appendFileSync(file, `line ${done}\n`);
  }, 5);
  return () => clearInterval(timer);
}

export async function runEveryday(ctx: EverydayContext, thisRoot: string, opts: { rounds: number; seconds: number; demoDir: string; loadAverage: () => string }): Promise<EverydayResult> {
  const list = builds(thisRoot);
  const out: EverydayResult = { cpu20k: {}, p50At20k: {}, idleRssMiB: {}, idlePrivateMiB: {}, startMs: {}, idleCpu: {}, churnCpu: {}, churnP50: {}, load: opts.loadAverage() };

  // Start to first answer on the demo inputs, alternating builds.
  for (let i = 0; i < opts.rounds * 2 + 1; i++) {
    for (const b of list) {
      const since = performance.now();
      const r = await startMeshdns(ctx, b, { registry: join(opts.demoDir, 'registry'), bootstrapDir: opts.demoDir, probe: 'address.internal' });
      push(out.startMs, b.label, performance.now() - since);
      await stopProcess(r.proc);
    }
  }

  // All servers up at once; each measured in turn.
  const servers: Array<{ label: string; proc: Proc; port: number; configDir?: string }> = [];
  try {
    for (const b of list) {
      const r = await startMeshdns(ctx, b);
      servers.push({ label: b.label, ...r });
    }
    const d = await ctx.startDnsmasq('dnsmasq-everyday');
    servers.push({ label: 'dnsmasq', ...d });
    // One pass over the names (what a day of queries touches), then a quiet pause.
    for (const s of servers) await runDnsperf({ server: SERVER_ADDRESS, port: s.port, queryFile: ctx.fixtures.localQueries, seconds: 0, passes: 1, maxInFlight: 50 });
    await sleep(3000);
    for (const s of servers) {
      const m = memory(s.proc.pid);
      push(out.idleRssMiB, s.label, m.rssMiB);
      push(out.idlePrivateMiB, s.label, m.privateMiB);
    }

    for (let round = 0; round < opts.rounds; round++) {
      for (const s of servers) {
        const m = await cpuPer100kAt20k(s.proc, s.port, ctx.fixtures.localQueries, opts.seconds);
        push(out.cpu20k, s.label, m.cpuPer100k);
        push(out.p50At20k, s.label, m.p50Us);
      }
    }

    // Churn next to the settings file: idle CPU without, then with 1,000 appends a second.
    for (let round = 0; round < opts.rounds; round++) {
      for (const s of servers) {
        if (s.configDir === undefined) continue;
        let before = cpuSeconds(s.proc.pid);
        await sleep(opts.seconds * 1000);
        push(out.idleCpu, s.label, (cpuSeconds(s.proc.pid) - before) / opts.seconds);
        const stop = churn(join(s.configDir, 'app.log'), 1000);
        try {
          await sleep(300);
          before = cpuSeconds(s.proc.pid);
          const t0 = performance.now();
          await sleep(opts.seconds * 1000);
          push(out.churnCpu, s.label, (cpuSeconds(s.proc.pid) - before) / ((performance.now() - t0) / 1000));
          const m = await cpuPer100kAt20k(s.proc, s.port, ctx.fixtures.localQueries, opts.seconds);
          push(out.churnP50, s.label, m.p50Us);
        } finally {
          stop();
        }
      }
    }
  } finally {
    for (const s of servers) await stopProcess(s.proc);
  }
  out.load = `${out.load} / ${opts.loadAverage()}`;
  return out;
}

function cell(rec: Record<string, number[]>, key: string, digits: number, unit = ''): string {
  const xs = rec[key];
  if (xs === undefined || xs.length === 0) return '–';
  return `${median(xs).toFixed(digits)}${unit} (${xs.map((x) => x.toFixed(digits)).join(', ')})`;
}

/** The rows, medians first and every sample in brackets. */
export function formatEveryday(r: EverydayResult): string {
  const labels = Object.keys(r.startMs);
  const cols = [...labels, 'dnsmasq'];
  const ratio = (label: string): string => {
    const m = r.cpu20k[label];
    const d = r.cpu20k.dnsmasq;
    return m && d ? `${(median(m) / median(d)).toFixed(2)}×` : '–';
  };
  const lines = [
    `everyday rows (issue 19), load before/after ${r.load}; medians (samples)`,
    `| row | ${cols.join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
    `| CPU s per 100k answers, local, steady 20k QPS | ${cols.map((c) => cell(r.cpu20k, c, 2)).join(' | ')} |`,
    `| CPU ratio to dnsmasq at 20k QPS (medians) | ${cols.map((c) => (c === 'dnsmasq' ? '1.00×' : ratio(c))).join(' | ')} |`,
    `| p50 µs at 20k QPS | ${cols.map((c) => cell(r.p50At20k, c, 0)).join(' | ')} |`,
    `| idle RSS MiB, 1,000 names, after one pass | ${cols.map((c) => cell(r.idleRssMiB, c, 1)).join(' | ')} |`,
    `| of which private to the process (USS) MiB | ${cols.map((c) => cell(r.idlePrivateMiB, c, 1)).join(' | ')} |`,
    `| start to first answer ms (demo inputs) | ${cols.map((c) => cell(r.startMs, c, 0)).join(' | ')} |`,
    `| idle CPU, % of a core | ${cols.map((c) => cell(scale(r.idleCpu, 100), c, 2)).join(' | ')} |`,
    `| CPU while a sibling of meshdns.yaml is appended 1,000×/s, % of a core | ${cols.map((c) => cell(scale(r.churnCpu, 100), c, 2)).join(' | ')} |`,
    `| p50 µs at 20k QPS during that churn | ${cols.map((c) => cell(r.churnP50, c, 0)).join(' | ')} |`,
  ];
  return lines.join('\n');
}

function scale(rec: Record<string, number[]>, k: number): Record<string, number[]> {
  return Object.fromEntries(Object.entries(rec).map(([key, xs]) => [key, xs.map((x) => x * k)]));
}
