// One fuzzing campaign against a real `meshdns run` process: batches of hostile packets over
// UDP and TCP, each followed by a good query that must get the right answer in time. Used by
// test/hostile/fuzz.test.ts (short mode) and bench/fuzz.ts (`npm run fuzz`, long mode).
import net from 'node:net';
import http from 'node:http';
import dgram from 'node:dgram';
import { ask, answerLines, encodeQuery, decodeAnswer, type Answer } from '../dns/client';
import { startChaosUpstream, type ChaosAction } from './chaosUpstream';
import { startMeshDnsProcess, type MeshDnsProcess } from './meshdnsProcess';
import { parsePrometheusText } from './promText';
import { blastTcp, blastUdp, lyingTcpFrame, samplePackets, slowDripQuery, type FuzzKind } from './wireFuzz';

export const FUZZ_REGISTRY = {
  'svc.yaml': `
apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: vm-ns}
spec: {clusterIP: 10.96.12.34, ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external-address, namespace: vm-ns}
spec: {hosts: [address.internal, "*.wild.internal"], addresses: [198.51.100.1], ports: [{name: http, number: 80, protocol: HTTP}]}
`,
};

export interface CampaignOptions {
  packets: number;
  seed: number;
  /** UDP packets per batch (a health check follows each batch). */
  batchSize?: number;
  /** Every n-th batch also goes over TCP (as `tcpBatchSize` frames on one connection). */
  tcpEvery?: number;
  tcpBatchSize?: number;
  /** A health check not answered within this is a hang. */
  checkTimeoutMs?: number;
  /** Progress line every n packets (long mode). */
  progressEvery?: number;
  log?: (line: string) => void;
}

export interface CampaignResult {
  seed: number;
  packetsSent: number;
  udpPackets: number;
  tcpPackets: number;
  /** Queries meshdns counted (meshdns_dns_requests_total): what actually reached its parser. */
  serverCounted: number;
  replies: number;
  malformedReplies: number;
  byKind: Partial<Record<FuzzKind, number>>;
  healthChecks: number;
  durationMs: number;
  rssStartMb: number;
  rssPeakMb: number;
  rssEndMb: number;
  fdsStart: number;
  fdsEnd: number;
  /** Slow-drip clients answered correctly, lying frames sent. */
  slowDrip: number;
  lyingFrames: number;
  /** Empty when meshdns stayed up and right; else what went wrong. */
  failures: string[];
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export function scrape(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(`http://${address}/metrics`, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

export async function countedRequests(metricsAddress: string): Promise<number> {
  const samples = parsePrometheusText(await scrape(metricsAddress));
  return samples.filter((s) => s.name === 'meshdns_dns_requests_total').reduce((a, s) => a + s.value, 0);
}

/**
 * A UDP exchange that, like a real stub resolver, takes only the reply with its ID and question:
 * a fresh client socket can be handed an ephemeral port a fuzz socket just used, and a late
 * reply to a fuzz packet must not be mistaken for the health check's answer.
 */
export function askMatching(port: number, name: string, type: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const id = Math.floor(Math.random() * 0x10000);
    const query = encodeQuery(name, type, { id });
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('message', (msg) => {
      if (msg.length < 12 || msg.readUInt16BE(0) !== id) return;
      let a: Answer;
      try {
        a = decodeAnswer(msg);
      } catch {
        return;
      }
      if (a.msg.questions?.[0]?.name.toLowerCase() !== name.toLowerCase()) return;
      clearTimeout(timer);
      sock.close();
      resolve(a);
    });
    sock.send(query, port, '127.0.0.1');
  });
}

/** The good query after every batch: a mesh name with a known answer. */
export async function healthCheck(port: number, transport: 'udp' | 'tcp', timeoutMs: number): Promise<string | null> {
  const name = 'productpage.vm-ns.svc.cluster.local';
  try {
    const a = transport === 'udp' ? await askMatching(port, name, 'A', timeoutMs) : await ask(port, name, 'A', { transport, timeoutMs });
    const lines = answerLines(a);
    if (a.rcode !== 'NOERROR' || lines.join() !== `A ${name} 10.96.12.34`) return `wrong answer over ${transport}: ${a.rcode} ${lines.join()}`;
    return null;
  } catch (e) {
    return `no answer over ${transport}: ${(e as Error).message}`;
  }
}

export async function runFuzzCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const batchSize = options.batchSize ?? 500;
  const tcpEvery = options.tcpEvery ?? 5;
  const tcpBatchSize = options.tcpBatchSize ?? 200;
  const checkTimeoutMs = options.checkTimeoutMs ?? 3000;
  const log = options.log ?? (() => undefined);
  // Forwarded fuzz queries meet an upstream that misbehaves too.
  const upstream = await startChaosUpstream(() => {
    const r = Math.random();
    const action: ChaosAction = r < 0.7 ? { kind: 'answer' } : r < 0.8 ? { kind: 'silent' } : r < 0.9 ? { kind: 'garbage' } : { kind: 'servfail' };
    return action;
  });
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  let meshdns: MeshDnsProcess | undefined;
  const started = Date.now();
  const result: CampaignResult = {
    seed: options.seed,
    packetsSent: 0,
    udpPackets: 0,
    tcpPackets: 0,
    serverCounted: 0,
    replies: 0,
    malformedReplies: 0,
    byKind: {},
    healthChecks: 0,
    durationMs: 0,
    rssStartMb: 0,
    rssPeakMb: 0,
    rssEndMb: 0,
    fdsStart: 0,
    fdsEnd: 0,
    slowDrip: 0,
    lyingFrames: 0,
    failures: [],
  };
  const mb = (b: number): number => Math.round((b / 1048576) * 10) / 10;
  try {
    meshdns = await startMeshDnsProcess({
      resolvConf: 'nameserver 127.0.0.1\nsearch vm-ns.svc.cluster.local svc.cluster.local cluster.local\n',
      clusterEnv: "POD_NAMESPACE='vm-ns'\n",
      registry: FUZZ_REGISTRY,
      settings: [`upstreams: ["127.0.0.1:${upstream.port}"]`, 'forward: {timeout: 300ms, attempts: 2}', `metrics: "${metricsAddress}"`].join('\n'),
    });
    const port = meshdns.port;
    const first = await healthCheck(port, 'udp', checkTimeoutMs);
    if (first !== null) throw new Error(`before fuzzing: ${first}`);
    result.rssStartMb = mb(meshdns.rss());
    result.fdsStart = meshdns.fds();
    result.rssPeakMb = result.rssStartMb;
    let batch = 0;
    let nextProgress = options.progressEvery ?? Infinity;
    while (result.packetsSent < options.packets) {
      const n = Math.min(batchSize, options.packets - result.packetsSent);
      const packets = samplePackets(n, options.seed + batch);
      for (const p of packets) result.byKind[p.kind] = (result.byKind[p.kind] ?? 0) + 1;
      const useTcp = batch % tcpEvery === tcpEvery - 1;
      let check;
      if (useTcp) {
        // Over TCP in a few connections (the server hangs up on broken frames, ending a connection early).
        const chunks: Array<typeof packets> = [];
        for (let i = 0; i < packets.length; i += tcpBatchSize) chunks.push(packets.slice(i, i + tcpBatchSize));
        const checks = await Promise.all(chunks.map((c) => blastTcp(port, c)));
        check = checks.reduce((a, c) => ({ replies: a.replies + c.replies, malformed: a.malformed + c.malformed, byRcode: {} }));
        result.tcpPackets += n;
      } else {
        check = await blastUdp(port, packets);
        result.udpPackets += n;
      }
      result.packetsSent += n;
      result.replies += check.replies;
      result.malformedReplies += check.malformed;
      if (check.malformed > 0) result.failures.push(`batch ${batch} (seed ${options.seed + batch}): ${check.malformed} replies without a response header`);
      const problem = await healthCheck(port, batch % 10 === 9 ? 'tcp' : 'udp', checkTimeoutMs);
      result.healthChecks++;
      if (problem !== null) {
        result.failures.push(`after batch ${batch} (seed ${options.seed + batch}): ${problem}`);
        if (meshdns.exit() !== null) break;
      }
      result.rssPeakMb = Math.max(result.rssPeakMb, mb(meshdns.rss()));
      if (result.packetsSent >= nextProgress) {
        nextProgress += options.progressEvery ?? Infinity;
        log(`${result.packetsSent} packets, ${Math.round((Date.now() - started) / 1000)} s, rss ${mb(meshdns.rss())} MB, fds ${meshdns.fds()}`);
      }
      batch++;
    }

    // Framing abuse: huge and lying length prefixes, zero-length frames.
    const lies: Array<[number, number]> = [[0xffff, 10], [0xffff, 0], [0xfffe, 4000], [40, 20], [0, 0], [1, 1], [11, 11]];
    for (const [length, sent] of lies) await lyingTcpFrame(port, length, sent);
    result.lyingFrames = lies.length;
    // Slow-drip clients: a byte every 50 ms, several at once; each must still get its answer.
    const drips = await Promise.allSettled(
      Array.from({ length: 8 }, () => slowDripQuery(port, encodeQuery('productpage', 'A'), 50, 15_000)),
    );
    for (const d of drips) {
      if (d.status === 'rejected') result.failures.push(`slow drip: ${(d.reason as Error).message}`);
      else if (answerLines(decodeAnswer(d.value)).join() !== 'A productpage 10.96.12.34') result.failures.push(`slow drip: wrong answer ${answerLines(decodeAnswer(d.value)).join()}`);
      else result.slowDrip++;
    }
    for (const t of ['udp', 'tcp'] as const) {
      const last = await healthCheck(port, t, checkTimeoutMs);
      if (last !== null) result.failures.push(`at the end: ${last}`);
    }
    if (meshdns.exit() !== null) result.failures.push(`meshdns exited: ${JSON.stringify(meshdns.exit())}\n${meshdns.output().slice(-3000)}`);
    else {
      result.serverCounted = await countedRequests(metricsAddress);
      result.rssEndMb = mb(meshdns.rss());
      result.fdsEnd = meshdns.fds();
      if (/"level":(50|60)/.test(meshdns.output())) result.failures.push(`meshdns logged errors:\n${meshdns.output().split('\n').filter((l) => /"level":(50|60)/.test(l)).slice(0, 5).join('\n')}`);
    }
  } finally {
    result.durationMs = Date.now() - started;
    await meshdns?.stop();
    await upstream.close();
  }
  return result;
}
