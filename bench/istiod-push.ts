/**
 * `npm run bench:istiod` (issue 15): meshdns (its own process, as installed) fed by a fake
 * istiod (test/support/fakeIstiod.ts: grpc over TLS, CA made here) with a 100,000-name table,
 * then a second 100,000-name push (1% of the addresses changed; `--changed N`) while dnsperf
 * offers 20,000 QPS of mesh names that stay. Prints push → served (the changed name answers its new address) and
 * push → ACK, dnsperf's lost and non-NOERROR answers (must be 0), RSS before, after and peak.
 * Loopback only; every process it starts is stopped by PID. Options: `--names N`, `--qps N`, `--changed N`.
 */
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cpuSeconds, dnsQuery, freePort, startProcess, stopAll, stopProcess, waitUntilAnswering, type Proc } from './procs';
import { runDnsperf } from './dnsperf';
import { FakeIstiod, type FakeTable } from '../test/support/fakeIstiod';
import { makeTestCa, makeToken } from '../test/support/testCa';

function arg(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
}

/** `names` Kubernetes services; the first `changed` of them at generation `generation`'s addresses, the rest at generation 1's. */
function table(names: number, generation: number, changed = names): FakeTable {
  const t: FakeTable = {};
  for (let i = 0; i < names; i++) {
    const g = i < changed ? generation : 1;
    t[`svc-${i}.ns-${i % 50}.svc.cluster.local`] = { ips: [`10.${g}.${(i >> 8) & 255}.${i & 255}`], registry: 'Kubernetes', shortname: `svc-${i}`, namespace: `ns-${i % 50}` };
  }
  return t;
}

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

/** Polls `name` until it answers `address`; resolves with the ms since `since`. */
function servedAt(port: number, name: string, address: string, since: number, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const sock = createSocket('udp4');
    let id = 1;
    const expected = Buffer.from(address.split('.').map(Number));
    const poll = setInterval(() => sock.send(dnsQuery(name, (id = (id % 60000) + 1)), port, '127.0.0.1'), 2);
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
  const names = arg(argv, '--names', 100_000);
  const qps = arg(argv, '--qps', 20_000);
  // istiod re-sends the whole table at every push; by default 1% of it changed.
  const changed = arg(argv, '--changed', Math.ceil(names / 100));
  const root = resolve(__dirname, '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-bench-istiod-'));
  let server: Proc | undefined;
  const ca = makeTestCa(join(dir, 'ca'));
  const token = makeToken({ sub: 'system:serviceaccount:vm-ns:vm-sa', exp: Math.floor(Date.now() / 1000) + 3600 });
  const istiod = new FakeIstiod({ key: ca.serverKey, cert: ca.serverCert, token, clusterId: 'Kubernetes', nodeId: /^sidecar~/ });
  try {
    const istiodPort = await istiod.start();
    istiod.setCurrent(table(names, 1));
    const port = await freePort('127.0.0.1');
    writeFileSync(join(dir, 'cluster.env'), "POD_NAMESPACE='vm-ns'\nSERVICE_ACCOUNT='vm-sa'\n");
    writeFileSync(join(dir, 'mesh.yaml'), `defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:${istiodPort}\n`);
    writeFileSync(join(dir, 'hosts'), '127.0.0.1 istiod.istio-system.svc\n');
    writeFileSync(join(dir, 'istio-token'), token);
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
    mkdirSync(join(dir, 'registry.d'));
    writeFileSync(
      join(dir, 'meshdns.yaml'),
      [
        `listen: ["127.0.0.1:${port}"]`,
        `bootstrap: {clusterEnv: ${join(dir, 'cluster.env')}, meshConfig: ${join(dir, 'mesh.yaml')}, hosts: ${join(dir, 'hosts')}}`,
        `registry: [${join(dir, 'registry.d')}]`,
        `resolvConf: {path: ${join(dir, 'resolv.conf')}, manage: "false"}`,
        `stateDir: ${join(dir, 'state')}`,
        'metrics: ""',
        `istiod: {rootCert: ${ca.rootCertFile}, token: ${join(dir, 'istio-token')}}`,
        'log: {level: info}',
      ].join('\n') + '\n',
    );
    server = startProcess('meshdns', process.execPath, [join(root, 'bin', 'meshdns.js'), 'run', '--config', join(dir, 'meshdns.yaml')]);
    await waitUntilAnswering(server, '127.0.0.1', port, `svc-${names - 1}.ns-${(names - 1) % 50}.svc.cluster.local`, { timeoutMs: 120_000 });
    await new Promise((r) => setTimeout(r, 3000)); // the first push's save and collection settle
    const rssBefore = status(server.pid, 'VmRSS');
    // Load: names that stay in the second push (their addresses change; every answer must be NOERROR).
    const queryFile = join(dir, 'queries.txt');
    writeFileSync(queryFile, Array.from({ length: 5000 }, (_, k) => `svc-${(k * 17) % names}.ns-${((k * 17) % names) % 50}.svc.cluster.local A`).join('\n') + '\n');
    const load = runDnsperf({ server: '127.0.0.1', port, queryFile, seconds: 8, qps });
    await new Promise((r) => setTimeout(r, 2000));
    const load1 = loadavg()[0];
    const probe = changed - 1;
    const next = table(names, 2, changed);
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const push = istiod.push(next);
    const pushedMs = performance.now() - t0;
    const acked = istiod.answerTo(push.nonces[0], 30_000).then(() => performance.now() - t0);
    const served = await servedAt(port, `svc-${probe}.ns-${probe % 50}.svc.cluster.local`, `10.2.${(probe >> 8) & 255}.${probe & 255}`, t0);
    const ackMs = await acked;
    // CPU of meshdns from the push to the ACK, the 20k QPS it answered meanwhile included: less
    // bent by a loaded machine than wall time.
    const cpuMs = (cpuSeconds(server.pid) - cpu0) * 1000;
    const rssAfter = status(server.pid, 'VmRSS');
    // Still under load: once pushes have been quiet for 2 s meshdns returns what the push left.
    await new Promise((r) => setTimeout(r, 4000));
    const rssSettled = status(server.pid, 'VmRSS');
    const result = await load;
    const rssPeak = status(server.pid, 'VmHWM');
    const notOk = Object.entries(result.rcodes).filter(([k]) => k !== 'NOERROR').reduce((n, [, v]) => n + v, 0);
    console.log(`meshdns istiod push, ${new Date().toISOString()}, node ${process.version}, load average ${load1.toFixed(2)}`);
    console.log(`${names} names pushed again, ${changed} of them with a new address, during ${qps} QPS offered by dnsperf (8 s)`);
    console.log('| encode+send (fake) | push → served | push → ACK | meshdns CPU push → ACK | queries | lost | not NOERROR | RSS before | RSS at the ACK | RSS 4 s later | RSS peak |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    console.log(
      `| ${pushedMs.toFixed(0)} ms | ${served.toFixed(0)} ms | ${ackMs.toFixed(0)} ms | ${cpuMs.toFixed(0)} ms | ${result.completed} (${result.qps.toFixed(0)}/s) | ${result.lost} | ${notOk} | ${rssBefore.toFixed(0)} MiB | ${rssAfter.toFixed(0)} MiB | ${rssSettled.toFixed(0)} MiB | ${rssPeak.toFixed(0)} MiB |`,
    );
    for (const line of server.output().split('\n')) if (line.includes('from istiod applied') || line.includes('memory the last table changes')) console.log(`meshdns: ${line}`);
    return result.lost + notOk === 0 ? 0 : 1;
  } finally {
    if (server !== undefined) await stopProcess(server);
    await istiod.close();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (err: Error) => {
    console.error(`bench:istiod broken: ${err.message}`);
    await stopAll();
    process.exit(1);
  },
);
