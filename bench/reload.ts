/**
 * `npm run bench:reload` (issue #4): a registry of 10,000 ServiceEntries in 100 files, one file
 * rewritten every 100 ms for 60 s while a client queries at a steady rate. Prints the reload
 * latency (write → new address served, median and max), query failures (must be 0) and the
 * RSS at start and end. Loopback only; every process it starts is stopped by PID.
 * Options: `--seconds N`, `--entries N`, `--qps N`.
 */
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { dnsQuery, startProcess, stopAll, stopProcess, waitUntilAnswering, type Proc } from './procs';

const FILES = 100;
let lastServer: Proc | undefined;

function arg(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
}

function entryYaml(i: number, generation: number): string {
  // Host h0 of every entry carries an address that encodes the file's generation, so a
  // client can tell which version of the file is being served.
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se-${i}, namespace: ns-${i % 20}}
spec:
  hosts: [svc-${i}.churn.internal, svc-${i}-b.churn.internal, svc-${i}-c.churn.internal]
  addresses: [10.${(generation >> 8) & 255}.${generation & 255}.${(i % 250) + 1}]
  resolution: STATIC
`;
}

function writeFile(dir: string, file: number, perFile: number, generation: number): void {
  const docs: string[] = [];
  for (let i = file * perFile; i < (file + 1) * perFile; i++) docs.push(entryYaml(i, generation));
  const path = join(dir, `churn-${String(file).padStart(3, '0')}.yaml`);
  // An editor-style atomic save: the watcher must see it as one change.
  writeFileSync(`${path}.tmp`, docs.join('---\n'));
  renameSync(`${path}.tmp`, path);
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

/** A steady query load: `qps` queries a second for names of untouched files; counts failures. */
function steadyLoad(port: number, qps: number, names: string[]): { stop(): Promise<{ sent: number; failed: number }> } {
  const sock = createSocket('udp4');
  const pending = new Map<number, number>();
  let sent = 0;
  let failed = 0;
  let nextId = 1;
  sock.on('message', (msg) => {
    const id = msg.readUInt16BE(0);
    if (!pending.has(id)) return;
    pending.delete(id);
    const rcode = msg[3] & 15;
    const answers = msg.readUInt16BE(6);
    if (rcode !== 0 || answers === 0) failed++;
  });
  const perTick = Math.max(1, Math.round(qps / 100));
  const timer = setInterval(() => {
    const now = performance.now();
    for (const [id, at] of pending) {
      if (now - at > 2000) {
        pending.delete(id);
        failed++;
      }
    }
    for (let i = 0; i < perTick; i++) {
      const id = nextId;
      nextId = nextId === 65535 ? 1 : nextId + 1;
      pending.set(id, now);
      sock.send(dnsQuery(names[sent % names.length], id), port, '127.0.0.1');
      sent++;
    }
  }, 10);
  return {
    async stop() {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 2100));
      failed += pending.size;
      sock.close();
      return { sent, failed };
    },
  };
}

/** Polls `name` until it answers with `address`; resolves with the ms since `since`. */
function servedAt(port: number, name: string, address: string, since: number, timeoutMs = 5000): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const sock = createSocket('udp4');
    let id = 1;
    const expected = Buffer.from(address.split('.').map(Number));
    const poll = setInterval(() => sock.send(dnsQuery(name, (id = (id % 60000) + 1)), port, '127.0.0.1'), 5);
    const giveUp = setTimeout(() => {
      clearInterval(poll);
      sock.close();
      reject(new Error(`${name} not ${address} after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('message', (msg) => {
      if (msg.readUInt16BE(6) > 0 && msg.subarray(msg.length - 4).equals(expected)) {
        clearInterval(poll);
        clearTimeout(giveUp);
        sock.close();
        resolvePromise(performance.now() - since);
      }
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const seconds = arg(argv, '--seconds', 60);
  const entries = arg(argv, '--entries', 10_000);
  const qps = arg(argv, '--qps', 2000);
  const perFile = Math.ceil(entries / FILES);
  const root = resolve(__dirname, '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-bench-reload-'));
  let server: Proc | undefined;
  try {
    const registry = join(dir, 'registry.d');
    mkdirSync(registry);
    for (let f = 0; f < FILES; f++) writeFile(registry, f, perFile, 1);
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
    const port = 20000 + Math.floor(Math.random() * 20000);
    writeFileSync(
      join(dir, 'meshdns.yaml'),
      `listen: ["127.0.0.1:${port}"]\nregistry: [${registry}]\nresolvConf: {path: ${join(dir, 'resolv.conf')}, manage: "false"}\nstateDir: ${join(dir, 'state')}\nmetrics: ""\nbootstrap: {clusterEnv: ${join(dir, 'none')}, meshConfig: ${join(dir, 'none')}, hosts: ${join(dir, 'none')}}\nlog: {level: info}\n`,
    );
    server = lastServer = startProcess('meshdns', process.execPath, [join(root, 'bin', 'meshdns.js'), 'run', '--config', join(dir, 'meshdns.yaml')]);
    await waitUntilAnswering(server, '127.0.0.1', port, 'svc-0.churn.internal', { timeoutMs: 60_000 });
    const rssStart = rssMiB(server.pid);
    // Load on names of the second half of the files; the churn rewrites the first half.
    const stableNames = Array.from({ length: 500 }, (_, k) => `svc-${Math.floor(entries / 2) + k}.churn.internal`);
    const load = steadyLoad(port, qps, stableNames);
    const latencies: number[] = [];
    const started = performance.now();
    let generation = 1;
    let tick = 0;
    while (performance.now() - started < seconds * 1000) {
      const file = tick % Math.floor(FILES / 2);
      generation++;
      const t0 = performance.now();
      writeFile(registry, file, perFile, generation);
      const i = file * perFile;
      const expect = `10.${(generation >> 8) & 255}.${generation & 255}.${(i % 250) + 1}`;
      latencies.push(await servedAt(port, `svc-${i}.churn.internal`, expect, t0));
      tick++;
      const wait = 100 - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const { sent, failed } = await load.stop();
    const rssEnd = rssMiB(server.pid);
    latencies.sort((a, b) => a - b);
    const median = latencies[Math.floor(latencies.length / 2)];
    const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
    console.log(`meshdns reload churn, ${new Date().toISOString()}, node ${process.version}`);
    console.log(`${entries} ServiceEntries (3 hosts each) in ${FILES} files; one file (${perFile} entries) rewritten every 100 ms for ${seconds} s; ${qps} QPS steady load`);
    console.log('| changes | reload latency median | p99 | max | queries | failed | RSS start | RSS end |');
    console.log('|---|---|---|---|---|---|---|---|');
    console.log(
      `| ${latencies.length} | ${median.toFixed(1)} ms | ${p99.toFixed(1)} ms | ${latencies[latencies.length - 1].toFixed(1)} ms | ${sent} | ${failed} | ${rssStart.toFixed(0)} MiB | ${rssEnd.toFixed(0)} MiB |`,
    );
    if (failed > 0) console.log(`FAILED QUERIES: ${failed} (must be 0)`);
    return 0;
  } finally {
    if (server !== undefined) await stopProcess(server);
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (err: Error) => {
    console.error(`bench:reload broken: ${err.message}`);
    if (lastServer !== undefined) console.error(lastServer.output().slice(-1500));
    await stopAll();
    process.exit(1);
  },
);
