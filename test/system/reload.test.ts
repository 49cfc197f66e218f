// Live reload (issue #4): registry files added, changed, broken, fixed, deleted and renamed into
// place while a client queries in a loop: every query answered, new names within 1 s.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renameSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fakeUpstream';
import { ask, answerLines } from '../dns/client';

const stable = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: stable, namespace: ns1}
spec: {hosts: [stable.internal], addresses: [198.51.100.1]}
`;
const entry = (host: string, ip: string): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${host.replace(/\./g, '-')}, namespace: ns1}
spec: {hosts: [${host}], addresses: [${ip}]}
`;

let h: Harness;
let upstream: FakeUpstream;
let looping = true;
let loopStats = { sent: 0, failed: 0, errors: [] as string[] };
let loop: Promise<void>;

/** Polls until `name` resolves to `ip` (or to nothing when ip is null); returns the ms it took. */
async function servedWithin(name: string, ip: string | null, limitMs = 1000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const a = await ask(h.port, name, 'A');
    const ips = (a.msg.answers ?? []).map((r) => (r as { data: string }).data);
    if (ip === null ? a.rcode === 'NXDOMAIN' : ips.length === 1 && ips[0] === ip) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`${name} not ${ip ?? 'gone'} after ${limitMs} ms (got ${a.rcode} ${ips.join(',')})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('setup: service with a stable name and a client querying in a loop', async () => {
  upstream = await startFakeUpstream(() => ({ kind: 'nxdomain' }));
  h = await startHarness({
    resolvConf: 'nameserver 127.0.0.1\n',
    settings: `upstreams: ["127.0.0.1:${upstream.port}"]\ncache: {maxEntries: 0}\n`,
    clusterEnv: "POD_NAMESPACE='ns1'\n",
    registry: { 'stable.yaml': stable },
  });
  loop = (async () => {
    while (looping) {
      loopStats.sent++;
      try {
        const a = await ask(h.port, 'stable.internal', 'A', { timeoutMs: 1000, transport: loopStats.sent % 2 === 0 ? 'tcp' : 'udp' });
        if (answerLines(a)[0] !== 'A stable.internal 198.51.100.1') {
          loopStats.failed++;
          loopStats.errors.push(`${a.rcode} ${answerLines(a).join(',')}`);
        }
      } catch (e) {
        loopStats.failed++;
        loopStats.errors.push((e as Error).message);
      }
    }
  })();
  assert.is(h.service.table?.lookup('stable.internal')?.info.v4[0], '198.51.100.1');
});

const file = (): string => join(h.registryDir, 'new.yaml');

test('added file: its name is served within 1 s', async () => {
  writeFileSync(file(), entry('new.internal', '10.0.0.1'));
  await servedWithin('new.internal', '10.0.0.1');
});

test('changed file: the new address within 1 s', async () => {
  writeFileSync(file(), entry('new.internal', '10.0.0.2'));
  await servedWithin('new.internal', '10.0.0.2');
});

test('broken file: the last good content keeps serving, the problem is reported', async () => {
  writeFileSync(file(), 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nspec: {hosts: [new.internal], addresses: [not-an-ip\n');
  const deadline = Date.now() + 1500;
  while (Date.now() < deadline && !(h.service.lastReload?.summary.problems.some((p) => p.file === file()) ?? false)) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const problems = h.service.lastReload?.summary.problems.filter((p) => p.file === file()) ?? [];
  assert.ok(problems.length > 0, 'the broken file is reported');
  await servedWithin('new.internal', '10.0.0.2', 100);
});

test('fixed file: served within 1 s', async () => {
  writeFileSync(file(), entry('new.internal', '10.0.0.3'));
  await servedWithin('new.internal', '10.0.0.3');
});

test("editor's atomic save (temp file renamed into place)", async () => {
  const tmp = join(h.registryDir, '.new.yaml.tmp');
  writeFileSync(tmp, entry('new.internal', '10.0.0.4'));
  renameSync(tmp, file());
  await servedWithin('new.internal', '10.0.0.4');
});

test('a directory created inside the registry, with a file in it', async () => {
  mkdirSync(join(h.registryDir, 'team-a'));
  writeFileSync(join(h.registryDir, 'team-a', 'x.yaml'), entry('team-a.internal', '10.0.1.1'));
  await servedWithin('team-a.internal', '10.0.1.1');
});

test('deleted file: its name is gone (forwarded, NXDOMAIN) within 1 s', async () => {
  unlinkSync(file());
  await servedWithin('new.internal', null);
});

test('namespace change in cluster.env moves the short names', async () => {
  writeFileSync(join(h.registryDir, 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns2}\nspec: {clusterIP: 10.0.2.1}\n');
  await servedWithin('web.ns2', '10.0.2.1');
  const before = await ask(h.port, 'web', 'A');
  assert.is(before.rcode, 'NXDOMAIN', 'bare name only in the workload namespace');
  h.write('cluster.env', "POD_NAMESPACE='ns2'\n");
  await servedWithin('web', '10.0.2.1');
});

test('every query of the loop was answered correctly', async () => {
  looping = false;
  await loop;
  assert.ok(loopStats.sent > 50, `only ${loopStats.sent} queries sent`);
  assert.is(loopStats.failed, 0, loopStats.errors.slice(0, 5).join('; '));
});

test('teardown', async () => {
  await h.stop();
  await upstream.close();
});

test.run();
