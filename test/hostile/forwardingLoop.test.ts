// Forwarding loop (issue 8): meshdns's upstream is a real dnsmasq whose own upstream is meshdns.
// A name neither knows must end SERVFAIL within timeout × attempts (plus slack), with a bounded
// number of queries on both sides — the loop is cut, not amplified.
import { test } from 'uvu';
import http from 'node:http';
import * as assert from 'uvu/assert';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq';
import { startMeshDnsProcess, type MeshDnsProcess } from '../support/meshdnsProcess';
import { countedRequests, freePort, healthCheck, FUZZ_REGISTRY } from '../support/fuzzCampaign';
import { sleep } from '../support/fd';
import { ask } from '../dns/client';

const TIMEOUT_MS = 500;
const ATTEMPTS = 2;

let dnsmasq: Dnsmasq | undefined;
let m: MeshDnsProcess | undefined;

test('start dnsmasq (upstream: meshdns) and meshdns (upstream: dnsmasq)', async () => {
    for (let tries = 0; m === undefined && tries < 5; tries++) {
      // meshdns's port is chosen first so dnsmasq can point at it.
      const port = await freePort();
      await dnsmasq?.stop();
      dnsmasq = await startDnsmasq({ extraArgs: [`--server=127.0.0.1#${port}`] });
      const metrics = `127.0.0.1:${await freePort()}`;
      m = await startMeshDnsProcess({
        resolvConf: 'nameserver 127.0.0.1\n',
        clusterEnv: "POD_NAMESPACE='vm-ns'\n",
        registry: FUZZ_REGISTRY,
        settings: `listen: ["127.0.0.1:${port}"]\nupstreams: ["127.0.0.1:${dnsmasq.port}"]\nforward: {timeout: ${TIMEOUT_MS}ms, attempts: ${ATTEMPTS}}\nmetrics: "${metrics}"`,
      }).catch(() => undefined);
      if (m !== undefined) (m as MeshDnsProcess & { metricsAddress?: string }).metricsAddress = metrics;
    }
    assert.ok(m !== undefined && dnsmasq !== undefined, 'meshdns and dnsmasq started');
});

for (const [name, transport] of [['loop.example', 'udp'], ['loop2.example', 'tcp']] as const) {
  test(`${transport}: a query looping meshdns → dnsmasq → meshdns ends SERVFAIL in time, and the loop dies out`, async () => {
      assert.ok(m !== undefined && dnsmasq !== undefined);
      const metrics = (m as MeshDnsProcess & { metricsAddress: string }).metricsAddress;
      const before = await countedRequests(metrics);
      const started = performance.now();
      const a = await ask(m.port, name, 'A', { transport, timeoutMs: 10_000 });
      const elapsed = performance.now() - started;
      assert.is(a.rcode, 'SERVFAIL', `${name} over ${transport}`);
      assert.ok(elapsed <= TIMEOUT_MS * ATTEMPTS + 400, `${transport}: SERVFAIL after ${elapsed.toFixed(0)} ms (bound ${TIMEOUT_MS} × ${ATTEMPTS})`);
      // The loop must die out: the counts settle (no change for 2 s) within 15 s.
      let seenByDnsmasq = -1;
      let stableSince = performance.now();
      const settleStart = performance.now();
      while (performance.now() - stableSince < 2000) {
        assert.ok(performance.now() - settleStart < 15_000, `dnsmasq still sees queries for ${name} after 15 s: ${dnsmasq.queriesSeen(name)}`);
        const now = dnsmasq.queriesSeen(name);
        if (now !== seenByDnsmasq) {
          seenByDnsmasq = now;
          stableSince = performance.now();
        }
        await sleep(250);
      }
      const seenByMeshdns = (await countedRequests(metrics)) - before;
      console.log(`loop over ${transport}: SERVFAIL after ${elapsed.toFixed(0)} ms; dnsmasq saw ${seenByDnsmasq} queries, meshdns ${seenByMeshdns}`);
      // meshdns probes its upstreams at start: dnsmasq sends the probe back, so it is found to
      // loop and taken out of use — the looping name is then not forwarded at all (0 is best).
      assert.ok(seenByDnsmasq >= 0 && seenByDnsmasq <= 12, `dnsmasq saw ${seenByDnsmasq} queries for ${name}`);
      assert.ok(seenByMeshdns <= 13, `meshdns received ${seenByMeshdns} queries`);
      assert.is(await healthCheck(m.port, 'udp', 1000), null, 'mesh names still answered');
  });
}

test('the looping upstream is reported (metrics) and no longer used', async () => {
  assert.ok(m !== undefined && dnsmasq !== undefined);
  const metrics = (m as MeshDnsProcess & { metricsAddress: string }).metricsAddress;
  const text = await new Promise<string>((resolve, reject) => {
    http.get(`http://${metrics}/metrics`, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  assert.match(text, new RegExp(`meshdns_dns_upstream_looping\\{upstream="127.0.0.1:${dnsmasq.port}"\\} 1`));
});

test('stop', async () => {
  await m?.stop();
  await dnsmasq?.stop();
});

test.run();
