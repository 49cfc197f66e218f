// What independent DNS test suites (EDNS compliance testers, Istio's and ztunnel's proxy tables)
// and real resolver libraries check (issue 18), through the real server: dig and kdig over UDP and
// TCP, against meshdns on the native UDP engine (the fast path answers local and cached A/AAAA)
// and on Node's dgram (general path only), with a real dnsmasq as the upstream.
//
// 1. A cached reply carries the RD and CD bits of the query it answers, not of the query that
//    filled the cache (a hit after a miss with other flags).
// 2. NOTIMP (opcode ≠ QUERY) sets no RA, RD, CD or AD.
// 3. A truncated UDP reply keeps the whole records that fit (29 of a 60-address name), local and
//    forwarded, fresh and cached.
// 4. EDNS and header corner cases that pass and must keep passing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHarness, type Harness, type HarnessInputs } from '../support/harness';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq';
import { dig, type DigOptions, type DigResult } from '../helpers/dig';
import { encodeQuery, sendRaw } from './client';

const BIG = 'big.ns1.svc.cluster.local';
const bigAddresses = Array.from({ length: 60 }, (_, i) => `10.60.0.${i + 1}`);
const manyAddresses = Array.from({ length: 60 }, (_, i) => `198.18.0.${i + 1}`);
/** Names with 60 addresses at the upstream, one per test that needs a fresh cache entry. */
const MANY = ['many1', 'many2', 'many3', 'many4', 'many5', 'many6'].map((n) => `${n}.upstream.test`);

const registry = {
  'big.yaml': `
apiVersion: v1
kind: Service
metadata: {name: big, namespace: ns1}
spec: {clusterIP: None, ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: big-1, namespace: ns1, labels: {kubernetes.io/service-name: big}}
addressType: IPv4
endpoints:
${bigAddresses.map((a) => `- {addresses: [${a}], conditions: {ready: true}}`).join('\n')}
`,
  'entries.yaml': `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: address, namespace: ns1}
spec: {hosts: [address.internal], addresses: [198.51.100.1]}
`,
};

let upstream: Dnsmasq;
const servers: Record<'native' | 'node', Harness> = {} as Record<'native' | 'node', Harness>;
const engines = ['native', 'node'] as const;

test.before(async () => {
  upstream = await startDnsmasq({
    hosts: ['192.0.2.10 web.upstream.test', ...MANY.flatMap((name) => manyAddresses.map((a) => `${a} ${name}`))],
    localDomains: ['upstream.test'],
    // Any name under flags.upstream.test answers 192.0.2.50 (TTL 300): fresh names for cache rows.
    extraArgs: ['--address=/flags.upstream.test/192.0.2.50'],
  });
  const inputs: HarnessInputs = {
    resolvConf: 'nameserver 127.0.0.1\nsearch ns1.svc.cluster.local svc.cluster.local cluster.local\n',
    settings: `upstreams: ["127.0.0.1:${upstream.port}"]\n`,
    clusterEnv: "POD_NAMESPACE='ns1'\n",
    registry,
  };
  // The native engine is asked for explicitly: a missing addon fails here instead of falling back.
  servers.native = await startHarness({ ...inputs, udpEngine: 'native' });
  servers.node = await startHarness({ ...inputs, udpEngine: 'node' });
});
test.after(async () => {
  await servers.native?.stop();
  await servers.node?.stop();
  await upstream.stop();
});

/**
 * dig sends a COOKIE option by default, and a query with EDNS options never takes the fast path:
 * without it, dig's queries are the shape glibc and musl send (EDNS without options, or none).
 */
const ask = (engine: 'native' | 'node', options: Omit<DigOptions, 'port'>): Promise<DigResult> =>
  dig({ ...options, port: servers[engine].port, extraArgs: [...((options.tool ?? 'dig') === 'dig' ? ['+nocookie'] : []), ...(options.extraArgs ?? [])] });
const data = (r: DigResult): string[] => r.answers.map((a) => a.data);

// ---------------------------------------------------------------- 1. flags of cached replies

interface FlagCase {
  title: string;
  first: Pick<DigOptions, 'recurse' | 'cd'>;
  second: Pick<DigOptions, 'recurse' | 'cd'>;
}
const flagCases: FlagCase[] = [
  { title: '+norec miss, then +rec hit: RD set', first: { recurse: false }, second: { recurse: true } },
  { title: '+rec miss, then +norec hit: RD clear', first: { recurse: true }, second: { recurse: false } },
  { title: '+cd miss, then +nocd hit: CD clear', first: { cd: true }, second: { cd: false } },
  { title: '+nocd miss, then +cd hit: CD set', first: { cd: false }, second: { cd: true } },
];
const expectFlags = (r: DigResult, asked: Pick<DigOptions, 'recurse' | 'cd'>, what: string): void => {
  assert.is(r.flags.includes('rd'), asked.recurse ?? true, `${what}: RD as asked (${r.flags.join(' ')})\n${r.raw}`);
  assert.is(r.flags.includes('cd'), asked.cd ?? false, `${what}: CD as asked (${r.flags.join(' ')})\n${r.raw}`);
};

let fresh = 0;
for (const engine of engines) {
  for (const transport of ['udp', 'tcp'] as const) {
    flagCases.forEach((c, i) => {
      // dig sends EDNS and kdig does not: on the native engine over UDP both shapes reach the fast path.
      const tool = (i + (transport === 'tcp' ? 1 : 0)) % 2 === 0 ? 'dig' : 'kdig';
      test(`cache flags, ${engine} ${transport.toUpperCase()} ${tool}: ${c.title}`, async () => {
        const name = `c${fresh++}-${engine}-${transport}.flags.upstream.test`;
        const miss = await ask(engine, { tool, name, tcp: transport === 'tcp', ...c.first });
        assert.equal(data(miss), ['192.0.2.50'], miss.raw);
        expectFlags(miss, c.first, 'the miss');
        const seen = await upstream.waitForQueries(1, name);
        const hit = await ask(engine, { tool, name, tcp: transport === 'tcp', ...c.second });
        assert.equal(data(hit), ['192.0.2.50'], hit.raw);
        expectFlags(hit, c.second, 'the hit');
        await new Promise((r) => setTimeout(r, 50));
        assert.is(upstream.queriesSeen(name), seen, 'the second query was a cache hit');
      });
    });
  }
}

test('cache flags: a hit asked with the Z bit has it clear (and dnsmasq, which echoes Z, is not asked again)', async () => {
  for (const engine of engines) {
    for (const tcp of [false, true]) {
      const name = `z${fresh++}.flags.upstream.test`;
      const miss = await ask(engine, { name, tcp, extraArgs: ['+zflag'] });
      const hit = await ask(engine, { name, tcp, extraArgs: ['+zflag'] });
      for (const r of [miss, hit]) {
        assert.equal(data(r), ['192.0.2.50']);
        assert.not.match(r.raw, /MBZ/, `${engine} tcp=${tcp}: Z clear\n${r.raw}`);
      }
    }
  }
});

// ---------------------------------------------------------------- 2. NOTIMP

for (const engine of engines) {
  for (const tcp of [false, true]) {
    for (const [opcode, name] of [['15', 'address.internal'], ['status', 'web.upstream.test']] as const) {
      test(`NOTIMP, ${engine} ${tcp ? 'TCP' : 'UDP'}: opcode ${opcode} with RD, CD and AD asked → only QR set`, async () => {
        const r = await ask(engine, { name, tcp, cd: true, extraArgs: [`+opcode=${opcode}`, '+adflag'] });
        assert.is(r.status, 'NOTIMP', r.raw);
        assert.equal(r.flags, ['qr'], r.raw);
        assert.is(r.answers.length, 0);
      });
    }
  }
}

// ---------------------------------------------------------------- 3. truncation keeps records

/** Whole 16-byte A records (owner a pointer) that fit after header, question and (with EDNS) an 11-byte OPT. */
const fitting = (name: string, limit: number, edns: boolean): number => Math.floor((limit - (12 + name.length + 2 + 4) - (edns ? 11 : 0)) / 16);

function assertTruncated(r: DigResult, name: string, all: string[], limit: number, edns: boolean): void {
  assert.is(r.status, 'NOERROR', r.raw);
  assert.ok(r.flags.includes('tc'), `TC set: ${r.flags.join(' ')}`);
  const got = data(r);
  assert.is(got.length, fitting(name, limit, edns), `whole records that fit in ${limit} bytes\n${r.raw}`);
  assert.ok(got.length >= 28, 'musl gets about 29 addresses');
  assert.ok(got.every((a) => all.includes(a)) && new Set(got).size === got.length, 'distinct addresses of the name');
  assert.ok(r.size !== null && r.size <= limit, `${r.size} bytes`);
  assert.is(r.ednsUdpSize !== null, edns, 'OPT iff the query had EDNS');
}

for (const engine of engines) {
  for (const tool of ['dig', 'kdig'] as const) {
    test(`truncation, ${engine} ${tool}: a 60-address local name over UDP without EDNS keeps the 29 that fit, TC=1`, async () => {
      const r = await ask(engine, { tool, name: BIG, edns: false, ignoreTruncation: true });
      assertTruncated(r, BIG, bigAddresses, 512, false);
    });
    test(`truncation, ${engine} ${tool}: a 60-address local name over UDP with EDNS 512 keeps what fits beside the OPT`, async () => {
      const r = await ask(engine, { tool, name: BIG, bufsize: 512, ignoreTruncation: true });
      assertTruncated(r, BIG, bigAddresses, 512, true);
    });
  }

  test(`truncation, ${engine}: a 60-address forwarded name over UDP without EDNS keeps the 29 that fit (miss), then the same from the cache`, async () => {
    const name = engine === 'native' ? MANY[0] : MANY[1];
    const miss = await ask(engine, { name, edns: false, ignoreTruncation: true });
    assertTruncated(miss, name, manyAddresses, 512, false);
    // A truncated reply is not cached; the full one fetched over TCP is, and a UDP hit is cut the same way.
    const full = await ask(engine, { tool: 'kdig', name, tcp: true });
    assert.is(full.answers.length, 60, full.raw);
    const seen = upstream.queriesSeen(name);
    for (const tool of ['dig', 'kdig'] as const) {
      const hit = await ask(engine, { tool, name, edns: false, ignoreTruncation: true });
      assertTruncated(hit, name, manyAddresses, 512, false);
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.is(upstream.queriesSeen(name), seen, 'the UDP queries after the TCP one were cache hits');
  });

  test(`truncation, ${engine}: a 60-address forwarded name over UDP with EDNS 512 keeps what fits beside the OPT`, async () => {
    const name = engine === 'native' ? MANY[2] : MANY[3];
    const r = await ask(engine, { tool: 'kdig', name, bufsize: 512, ignoreTruncation: true });
    assertTruncated(r, name, manyAddresses, 512, true);
  });

  for (const [title, options] of [
    ['UDP with EDNS 1232: all 60, no TC', { bufsize: 1232 }],
    ['TCP without EDNS: all 60', { tcp: true, edns: false }],
    ['TCP with EDNS 512 (the EDNS size is for UDP): all 60', { tcp: true, bufsize: 512 }],
  ] as const) {
    for (const [name, all] of [[BIG, bigAddresses], [MANY[4], manyAddresses]] as const) {
      test(`no truncation, ${engine} ${name}: ${title}`, async () => {
        for (const tool of ['dig', 'kdig'] as const) {
          const r = await ask(engine, { tool, name, ...options });
          assert.is(r.status, 'NOERROR', r.raw);
          assert.not.ok(r.flags.includes('tc'), r.flags.join(' '));
          assert.equal([...data(r)].sort(), [...all].sort(), r.raw);
        }
      });
    }
  }
}

// ---------------------------------------------------------------- 4. what passes must keep passing

const names = [
  ['local', 'address.internal', '198.51.100.1'],
  ['forwarded', 'web.upstream.test', '192.0.2.10'],
] as const;

for (const engine of engines) {
  for (const tcp of [false, true]) {
    const via = `${engine} ${tcp ? 'TCP' : 'UDP'}`;
    for (const [kind, name, address] of names) {
      test(`EDNS version 1 → BADVERS with an OPT (${via}, ${kind}, dig and kdig)`, async () => {
        for (const tool of ['dig', 'kdig'] as const) {
          const r = await ask(engine, { tool, name, tcp, ednsVersion: 1 });
          assert.is(r.status, 'BADVERS', r.raw);
          assert.ok(r.ednsUdpSize !== null, `an OPT carries the extended rcode\n${r.raw}`);
          assert.is(r.answers.length, 0);
        }
      });
      test(`an unknown EDNS option and unknown EDNS flags are ignored, not echoed (${via}, ${kind})`, async () => {
        const r = await ask(engine, { name, tcp, extraArgs: ['+ednsopt=65001:abcd', '+ednsflags=0x80'] });
        assert.is(r.status, 'NOERROR', r.raw);
        assert.equal(data(r), [address]);
        assert.is(r.optLines.length, 1, `only the EDNS line, no option:\n${r.optLines.join('\n')}`);
        assert.not.match(r.optLines.join('\n'), /MBZ|65001/);
      });
      test(`TC set in a query is not an error (${via}, ${kind}, dig and kdig)`, async () => {
        for (const tool of ['dig', 'kdig'] as const) {
          const r = await ask(engine, { tool, name, tcp, extraArgs: ['+tcflag'] });
          assert.is(r.status, 'NOERROR', r.raw);
          assert.equal(data(r), [address]);
          assert.not.ok(r.flags.includes('tc'));
        }
      });
      test(`the DO bit is echoed (${via}, ${kind}, dig and kdig)`, async () => {
        for (const tool of ['dig', 'kdig'] as const) {
          const r = await ask(engine, { tool, name, tcp, dnssec: true });
          assert.is(r.status, 'NOERROR', r.raw);
          assert.equal(r.ednsFlags, ['do'], r.raw);
          const plain = await ask(engine, { tool, name, tcp, edns: true });
          assert.equal(plain.ednsFlags, [], plain.raw);
        }
      });
      test(`the Z bit is ignored and clear in the answer (${via}, ${kind}, dig and kdig)`, async () => {
        for (const tool of ['dig', 'kdig'] as const) {
          const r = await ask(engine, { tool, name, tcp, extraArgs: ['+zflag'] });
          assert.is(r.status, 'NOERROR', r.raw);
          assert.equal(data(r), [address]);
        }
        // Checked on the bytes: kdig prints no Z, dig prints "MBZ".
        const packet = encodeQuery(name, 'A', { edns: 1232 });
        packet[3] |= 0x40;
        const reply = await sendRaw(servers[engine].port, packet, { transport: tcp ? 'tcp' : 'udp' });
        assert.is(reply[3] & 0x40, 0, 'Z clear');
        assert.is(reply[3] & 0x0f, 0, 'NOERROR');
      });
    }
  }
}

test('the native server answers local UDP queries through the fast path (templates are made)', async () => {
  const before = servers.native.service.status().fastPathTemplates as number;
  await ask('native', { name: 'address.internal', type: 'AAAA' });
  assert.ok((servers.native.service.status().fastPathTemplates as number) > before);
  assert.is(servers.node.service.status().fastPathTemplates, 0, 'Node dgram: general path only');
});

test.run();
