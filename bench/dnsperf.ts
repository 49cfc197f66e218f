/**
 * Run Debian's dnsperf and read its summary. With `latency: true` it runs verbose (`-v`: one
 * line per answer with its latency) and the lines are folded into a histogram on the fly, for
 * p50/p99 — this dnsperf (2.10) prints only average and standard deviation otherwise.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const DNSPERF = process.env.DNSPERF ?? '/usr/bin/dnsperf';

export interface PerfOptions {
  server: string;
  port: number;
  queryFile: string;
  seconds: number;
  /** Offered rate (-Q); undefined = as fast as the server answers, bounded by `maxInFlight`. */
  qps?: number;
  /** -q: in-flight cap (300 keeps dnsperf's start burst from overflowing socket buffers). */
  maxInFlight?: number;
  clients?: number;
  /** -n: passes over the query file (instead of running for `seconds`). */
  passes?: number;
  latency?: boolean;
}

export interface PerfResult {
  sent: number;
  completed: number;
  lost: number;
  runSeconds: number;
  /** Completed queries per second, as dnsperf reports it. */
  qps: number;
  rcodes: Record<string, number>;
  avgLatencyUs: number;
  p50Us?: number;
  p99Us?: number;
}

/** Histogram with 1 µs buckets up to 100 ms, then one overflow bucket. */
class LatencyHistogram {
  private readonly buckets = new Uint32Array(100_001);
  private count = 0;
  add(us: number): void {
    this.buckets[Math.min(this.buckets.length - 1, Math.max(0, Math.round(us)))]++;
    this.count++;
  }
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const want = Math.ceil(p * this.count);
    let seen = 0;
    for (let us = 0; us < this.buckets.length; us++) {
      seen += this.buckets[us];
      if (seen >= want) return us;
    }
    return this.buckets.length - 1;
  }
}

export function dnsperfArgs(o: PerfOptions): string[] {
  const args = ['-s', o.server, '-p', String(o.port), '-d', o.queryFile, '-c', String(o.clients ?? 4), '-q', String(o.maxInFlight ?? 300), '-t', '2'];
  if (o.passes !== undefined) args.push('-n', String(o.passes));
  else args.push('-l', String(o.seconds));
  if (o.qps !== undefined) args.push('-Q', String(o.qps));
  if (o.latency) args.push('-v');
  return args;
}

export function runDnsperf(o: PerfOptions): Promise<PerfResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(DNSPERF, dnsperfArgs(o), { stdio: ['ignore', 'pipe', 'pipe'] });
    const hist = new LatencyHistogram();
    const summary: string[] = [];
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      // Verbose answer lines: "> NOERROR name A 0.000123"
      if (line.charCodeAt(0) === 62) {
        const lat = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (Number.isFinite(lat)) hist.add(lat * 1e6);
        return;
      }
      summary.push(line);
    });
    child.on('error', (err) => reject(new Error(`cannot run ${DNSPERF}: ${err.message} (install Debian's dnsperf)`)));
    child.on('close', (code) => {
      const text = summary.join('\n');
      if (code !== 0) return reject(new Error(`dnsperf exited with ${code}:\n${stderr}\n${text.slice(-2000)}`));
      const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
      const rcodes: Record<string, number> = {};
      const rcodeLine = /Response codes:\s+(.*)/.exec(text)?.[1] ?? '';
      for (const m of rcodeLine.matchAll(/([A-Z]+) (\d+)/g)) rcodes[m[1]] = Number(m[2]);
      const result: PerfResult = {
        sent: num(/Queries sent:\s+(\d+)/),
        completed: num(/Queries completed:\s+(\d+)/),
        lost: num(/Queries lost:\s+(\d+)/),
        runSeconds: num(/Run time \(s\):\s+([\d.]+)/),
        qps: num(/Queries per second:\s+([\d.]+)/),
        rcodes,
        avgLatencyUs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1e6,
        p50Us: hist.percentile(0.5),
        p99Us: hist.percentile(0.99),
      };
      if (!Number.isFinite(result.completed) || !Number.isFinite(result.qps)) {
        return reject(new Error(`could not read dnsperf's summary:\n${text.slice(-2000)}\n${stderr}`));
      }
      resolve(result);
    });
  });
}
