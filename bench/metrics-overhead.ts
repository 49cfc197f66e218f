/**
 * `npm run bench:metrics` (issue #7): what the metrics cost. The same meshdns serves the bench's
 * 1,000 local names twice, once with `metrics: ""` (no counting, no endpoint) and once with
 * metrics on and /metrics scraped every second, under dnsperf: max QPS and CPU per 100k queries
 * at a fixed 20k QPS, alternating the two configurations `--rounds` times. Loopback only.
 */
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runDnsperf } from './dnsperf';
import { writeFixtures, meshdnsConfig } from './fixtures';
import { cpuSeconds, freePort, startProcess, stopAll, stopProcess, waitUntilAnswering } from './procs';

const SERVER = '127.0.0.2';

async function scrapeLoop(address: string, stop: { done: boolean }): Promise<number> {
  let scrapes = 0;
  while (!stop.done) {
    await new Promise<void>((r) => {
      http.get(`http://${address}/metrics`, (res) => {
        res.resume();
        res.on('end', () => r());
      }).on('error', () => r());
    });
    scrapes++;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return scrapes;
}

async function measure(config: string, port: number, queries: string, metricsAddress: string | undefined): Promise<{ maxQps: number; cpuPer100k: number }> {
  const root = resolve(__dirname, '..', '..');
  const server = startProcess('meshdns', process.execPath, [join(root, 'bin', 'meshdns.js'), 'run', '--config', config]);
  try {
    await waitUntilAnswering(server, SERVER, port, 'svc-0.bench.internal', { timeoutMs: 30_000 });
    const stop = { done: false };
    const scraping = metricsAddress === undefined ? Promise.resolve(0) : scrapeLoop(metricsAddress, stop);
    const max = await runDnsperf({ server: SERVER, port, queryFile: queries, seconds: 8 });
    const cpu0 = cpuSeconds(server.pid);
    const fixed = await runDnsperf({ server: SERVER, port, queryFile: queries, seconds: 8, qps: 20_000 });
    const cpu = cpuSeconds(server.pid) - cpu0;
    stop.done = true;
    await scraping;
    return { maxQps: max.qps, cpuPer100k: (cpu / fixed.completed) * 100_000 };
  } finally {
    await stopProcess(server);
  }
}

async function main(argv: string[]): Promise<number> {
  const i = argv.indexOf('--rounds');
  const rounds = i >= 0 ? Number(argv[i + 1]) : 3;
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-bench-metrics-'));
  try {
    const fx = writeFixtures(dir);
    const port = await freePort(SERVER);
    const metricsPort = await freePort('127.0.0.1');
    const base = meshdnsConfig(dir, { name: 'off', listen: `${SERVER}:${port}`, upstream: '127.0.0.1:9', cacheEntries: 10000, registry: fx.registryDir, bootstrapDir: dir, stateDir: join(dir, 'state') });
    const on = join(dir, 'on.yaml');
    writeFileSync(on, readFileSync(base, 'utf8').replace('metrics: ""', `metrics: "127.0.0.1:${metricsPort}"`));
    const results: Record<'off' | 'on', Array<{ maxQps: number; cpuPer100k: number }>> = { off: [], on: [] };
    for (let r = 0; r < rounds; r++) {
      results.off.push(await measure(base, port, fx.localQueries, undefined));
      results.on.push(await measure(on, port, fx.localQueries, `127.0.0.1:${metricsPort}`));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const off = { qps: median(results.off.map((x) => x.maxQps)), cpu: median(results.off.map((x) => x.cpuPer100k)) };
    const onM = { qps: median(results.on.map((x) => x.maxQps)), cpu: median(results.on.map((x) => x.cpuPer100k)) };
    console.log(`metrics overhead, local answers, ${rounds} alternating rounds (medians), ${new Date().toISOString()}`);
    console.log('| metrics | max QPS | CPU s/100k at 20k QPS |');
    console.log('|---|---:|---:|');
    console.log(`| off (metrics: "") | ${off.qps.toFixed(0)} | ${off.cpu.toFixed(2)} |`);
    console.log(`| on, scraped every 1 s | ${onM.qps.toFixed(0)} | ${onM.cpu.toFixed(2)} |`);
    console.log(`| on / off | ${(onM.qps / off.qps).toFixed(3)}× | ${(onM.cpu / off.cpu).toFixed(3)}× |`);
    return 0;
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (err: Error) => {
    console.error(`bench:metrics broken: ${err.message}`);
    await stopAll();
    process.exit(1);
  },
);
