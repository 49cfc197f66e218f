// Metrics, health and status against a running service (issue #7): a known sequence of queries
// (local, cached, forwarded, failing upstream), then exact counter values from /metrics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import dgram from 'node:dgram';
import { startHarness, type Harness } from '../support/harness';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fakeUpstream';
import { parsePrometheusText, sampleValue, type Sample } from '../support/promText';
import { ask } from '../dns/client';
import { main } from '../../src/cli';
import { join } from 'node:path';

let h: Harness;
let upstream: FakeUpstream;
let deadPort: number;
let dead: dgram.Socket;

function get(path: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(`http://${h.service.metricsAddress}${path}`, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}
const scrape = async (): Promise<Sample[]> => parsePrometheusText((await get('/metrics')).body);

test('setup', async () => {
  upstream = await startFakeUpstream((q) => (q.name.startsWith('nx') ? { kind: 'nxdomain' } : { kind: 'answer' }));
  dead = dgram.createSocket('udp4');
  await new Promise<void>((r) => dead.bind(0, '127.0.0.1', () => r()));
  deadPort = dead.address().port;
  h = await startHarness({
    resolvConf: 'nameserver 127.0.0.1\n',
    // The silent server first: every forwarded query fails over from it to the working one.
    settings: `upstreams: ["127.0.0.1:${deadPort}", "127.0.0.1:${upstream.port}"]\nforward: {timeout: 150ms, attempts: 1}\nmetrics: "127.0.0.1:0"\n`,
    registry: { 'a.yaml': 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a, namespace: n}\nspec: {hosts: [address.internal], addresses: [198.51.100.1]}\n' },
  });
  assert.match(h.service.metricsAddress, /^127\.0\.0\.1:\d+$/);
});

test('counters after a known sequence of queries are exact', async () => {
  await ask(h.port, 'address.internal', 'A'); // local
  await ask(h.port, 'address.internal', 'AAAA'); // local (NODATA)
  await ask(h.port, 'address.internal', 'A', { transport: 'tcp' }); // local over TCP
  await ask(h.port, 'ext.example', 'A'); // forwarded (after the dead server times out)
  await ask(h.port, 'ext.example', 'A'); // cached
  await ask(h.port, 'nx.example', 'A'); // nxdomain (forwarded)
  const m = await scrape();
  const req = (type: string, protocol: string, outcome: string): number => sampleValue(m, 'meshdns_dns_requests_total', { type, protocol, outcome });
  assert.is(req('A', 'udp', 'local'), 1);
  assert.is(req('AAAA', 'udp', 'local'), 1);
  assert.is(req('A', 'tcp', 'local'), 1);
  assert.is(req('A', 'udp', 'forwarded'), 1);
  assert.is(req('A', 'udp', 'cached'), 1);
  assert.is(req('A', 'udp', 'nxdomain'), 1);
  const dead = `127.0.0.1:${deadPort}`;
  const live = `127.0.0.1:${upstream.port}`;
  assert.is(sampleValue(m, 'meshdns_dns_upstream_requests_total', { upstream: dead }), 2);
  assert.is(sampleValue(m, 'meshdns_dns_upstream_failures_total', { upstream: dead, reason: 'timeout' }), 2);
  assert.is(sampleValue(m, 'meshdns_dns_upstream_requests_total', { upstream: live }), 2);
  assert.is(sampleValue(m, 'meshdns_dns_upstream_request_duration_seconds_count', { upstream: live }), 2);
  assert.is(sampleValue(m, 'meshdns_cache_hits_total'), 1);
  assert.is(sampleValue(m, 'meshdns_table_names'), 1);
  assert.is(sampleValue(m, 'meshdns_table_sources', { kind: 'ServiceEntry' }), 1);
  assert.is(sampleValue(m, 'meshdns_reloads_total'), 1);
  assert.is(sampleValue(m, 'meshdns_reload_errors_total'), 0);
  assert.is(sampleValue(m, 'meshdns_resolvconf_state', { state: 'not-managed' }), 1);
  assert.ok(sampleValue(m, 'meshdns_process_resident_memory_bytes') > 0, 'process metrics');
});

test('answers the native answer store sends (JS never sees them) are counted like the others', async () => {
  const before = sampleValue(await scrape(), 'meshdns_dns_requests_total', { type: 'A', protocol: 'udp', outcome: 'local' });
  for (let i = 0; i < 5; i++) await ask(h.port, 'address.internal', 'A');
  assert.ok((h.service.status().answerStoreReplies as number) > 0, 'the store answered');
  const after = sampleValue(await scrape(), 'meshdns_dns_requests_total', { type: 'A', protocol: 'udp', outcome: 'local' });
  assert.is(after - before, 5);
});

test('malformed packets are counted as formerr/dropped', async () => {
  const s = dgram.createSocket('udp4');
  const hdr = Buffer.alloc(12);
  hdr.writeUInt16BE(0x0100, 2); // QDCOUNT 0 → FORMERR
  await new Promise<void>((r) => s.send(hdr, h.port, '127.0.0.1', () => r()));
  await new Promise((r) => setTimeout(r, 100));
  s.close();
  const m = await scrape();
  assert.is(sampleValue(m, 'meshdns_dns_requests_total', { type: 'other', protocol: 'udp', outcome: 'formerr' }), 1);
});

test('a broken registry file shows in reload error metrics with its file', async () => {
  h.write('registry.d/bad.yaml', 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: b, namespace: n}\nspec: {hosts: [b.internal], addresses: [nope]}\n');
  await h.service.reload('test');
  const m = await scrape();
  assert.is(sampleValue(m, 'meshdns_reload_errors_total'), 1);
  assert.is(sampleValue(m, 'meshdns_last_reload_error_info', { file: join(h.dir, 'registry.d', 'bad.yaml') }), 1);
});

test('/healthz and /readyz', async () => {
  assert.equal(await get('/healthz'), { code: 200, body: 'ok\n' });
  const ready = await get('/readyz');
  assert.is(ready.code, 200);
  assert.match(ready.body, /^ready/);
  assert.is((await get('/nope')).code, 404);
});

test('meshdns status prints a summary of the running service', async () => {
  const out: string[] = [];
  const err: string[] = [];
  // The CLI reads the metrics address from the settings file: point it at the bound port.
  h.write('status.yaml', `metrics: "${h.service.metricsAddress}"\nresolvConf: {path: ./resolv.conf, manage: "false"}\nregistry: [./registry.d]\nstateDir: ./state\n`);
  const code = await main(['status', '--config', join(h.dir, 'status.yaml')], (l) => out.push(l), (l) => err.push(l));
  assert.is(code, 0, err.join('\n'));
  const text = out.join("\n");
  assert.match(text, /^meshdns \d+\.\d+\.\d+ \(pid \d+\), up /);
  assert.match(text, /resolv.conf: not-managed/);
  assert.match(text, new RegExp(`upstreams:   127.0.0.1:${deadPort}, 127.0.0.1:${upstream.port}`));
  assert.match(text, /table:       1 names from 0 Service, 2 ServiceEntry, 0 hosts/);
  assert.match(text, /1 error\(s\)/);
  assert.match(text, /bad\.yaml:0:spec\.addresses\[0\]/);
  assert.match(text, /hit rate 33\.3% \(1\/3\)/); // miss, hit, and the NXDOMAIN miss
  assert.match(text, new RegExp(`failing:     127.0.0.1:${deadPort}: 2 failures \\(2 timeouts\\) of 2`));
});

test('meshdns status without a running service: clear error, exit 3', async () => {
  const err: string[] = [];
  h.write('nobody.yaml', 'metrics: "127.0.0.1:1"\n');
  const code = await main(['status', '--config', join(h.dir, 'nobody.yaml')], () => undefined, (l) => err.push(l));
  assert.is(code, 3);
  assert.match(err.join('\n'), /no running meshdns answers on 127.0.0.1:1/);
});

test('a metrics address in use is a warning: DNS is served anyway', async () => {
  const net = await import('node:net');
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  const other = await startHarness({ resolvConf: 'nameserver 127.0.0.1\n', settings: `metrics: "127.0.0.1:${port}"\n`, registry: { 'a.yaml': 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a, namespace: n}\nspec: {hosts: [address.internal], addresses: [198.51.100.1]}\n' } });
  try {
    assert.is(other.service.metricsAddress, '', 'no metrics server');
    const a = await ask(other.port, 'address.internal', 'A');
    assert.is(a.rcode, 'NOERROR');
  } finally {
    await other.stop();
    blocker.close();
  }
});

test('teardown', async () => {
  await h.stop();
  await upstream.close();
  dead.close();
});

test.run();
