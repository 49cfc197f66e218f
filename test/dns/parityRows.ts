// The Istio parity table (docs/ARCHITECTURE.md §2–3, issue #3): the query → answer vectors of Istio's own DNS
// proxy test (docs/istio-dns-parity.md, rows numbered as there), restated for meshdns's inputs,
// plus rows for what meshdns does beyond Istio. Shared by parity.test.ts (every row over every
// transport and UDP engine) and fastPath.test.ts (the fast path's bytes equal the general path's).
import * as assert from 'uvu/assert';
import type * as dnsPacket from 'dns-packet';
import { startHarness, type Harness, type HarnessInputs } from '../support/harness';
import { startFakeUpstream, type Behaviour, type FakeUpstream } from '../helpers/fakeUpstream';
import { answerLines, type Answer } from './client';

export const registry = {
  'services.yaml': `
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: productpage, namespace: ns1}, spec: {clusterIP: 9.9.9.9, ports: [{name: http, port: 9080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: example, namespace: ns2}, spec: {clusterIP: 10.10.10.10}}
- {apiVersion: v1, kind: Service, metadata: {name: svc-with-alt, namespace: ns1}, spec: {clusterIP: 15.15.15.15}}
`,
  'entries.yaml': `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: google, namespace: ns1}
spec: {hosts: [www.google.com], addresses: [1.1.1.1], resolution: STATIC, ports: [{name: https, number: 443, protocol: TLS}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: details-remote, namespace: ns2}
spec: {hosts: [details.ns2.svc.cluster.remote], addresses: [11.11.11.11, 12.12.12.12, 13.13.13.13, 14.14.14.14], resolution: STATIC}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: svc-with-alt-mcs, namespace: ns1}
spec: {hosts: [svc-with-alt.ns1.svc.clusterset.local], addresses: [15.15.15.15], resolution: STATIC}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: localhosts, namespace: ns1}
spec: {hosts: [ipv6.localhost], addresses: ["2001:db8::ff00:42:8329"], resolution: STATIC}
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: dual, namespace: ns1}
spec: {hosts: [dual.localhost], addresses: [2.2.2.2, "2001:db8::ff00:42:8329"], resolution: STATIC}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ipv4, namespace: ns1}
spec: {hosts: [ipv4.localhost], addresses: [2.2.2.2], resolution: STATIC}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wild-b, namespace: ns1}
spec: {hosts: ["*.b.wildcard"], addresses: [11.11.11.11], resolution: STATIC}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wild, namespace: ns1}
spec: {hosts: ["*.wildcard"], addresses: [10.10.10.10], resolution: STATIC}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mesh-company, namespace: ns1}
spec: {hosts: ["*.svc.mesh.company.net"], addresses: [10.1.2.3], resolution: STATIC}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: example-localhost, namespace: ns1}
spec: {hosts: [example.localhost.], addresses: [3.3.3.3], resolution: STATIC}
`,
};


/** The scripted upstream for the forwarded rows. */
export const parityUpstream: Behaviour = (q) => {
  const name = q.name.toLowerCase();
  if (name === 'www.bing.com') return { kind: 'answer', records: [{ type: 'A', name: q.name, ttl: 60, data: '1.1.1.1' }] };
  if (name === 'giant' || name === 'giant-tc') return { kind: 'giant', count: 64 };
  if (name === 'known-txt.example' || (name === 'www.google.com' && q.type === 'TXT')) {
    return { kind: 'answer', records: [{ type: 'TXT', name: q.name, ttl: 60, data: 'from-upstream' } as dnsPacket.Answer] };
  }
  return { kind: 'nxdomain' };
};

/** meshdns's inputs for the table, given the upstream's port. */
export function parityInputs(upstreamPort: number): HarnessInputs {
  return {
    resolvConf: `nameserver 127.0.0.1\nsearch ns1.svc.cluster.local svc.cluster.local cluster.local corp.example.\noptions ndots:5\n`,
    settings: `upstreams: ["127.0.0.1:${upstreamPort}"]\ncache: {maxEntries: 0}\n`,
    clusterEnv: `POD_NAMESPACE='ns1'\n`,
    registry,
  };
}

/** The parity table served twice: on the native UDP engine (fast path on) and on Node's dgram. */
export interface ParityServers {
  upstream: FakeUpstream;
  native: Harness;
  dgram: Harness;
  stop(): Promise<void>;
}

export async function startParityServers(): Promise<ParityServers> {
  const upstream = await startFakeUpstream(parityUpstream);
  // The native engine is asked for explicitly: a missing addon fails here instead of falling back.
  const native = await startHarness({ ...parityInputs(upstream.port), udpEngine: 'native' });
  const dgram = await startHarness({ ...parityInputs(upstream.port), udpEngine: 'node' });
  return {
    upstream,
    native,
    dgram,
    async stop() {
      await native.stop();
      await dgram.stop();
      await upstream.close();
    },
  };
}

export type Expect =
  | { answers: string[]; rcode?: string; aa?: boolean }
  | { rcode: string; empty: true }
  | { check: (a: Answer, transport: 'udp' | 'tcp') => void };

export interface Row {
  n: string;
  title: string;
  name: string;
  type?: string;
  edns?: number;
  only?: 'udp' | 'tcp';
  /** Several addresses of the asked type: the order rotates per answer (issue 17), never the fast path. */
  rotates?: boolean;
  expect: Expect;
}

export const A = (owner: string, ip: string): string => `A ${owner} ${ip}`;
export const AAAA = (owner: string, ip: string): string => `AAAA ${owner} ${ip}`;
export const CNAME = (owner: string, target: string): string => `CNAME ${owner} ${target}`;
const sixtyFour = (a: Answer): void => {
  assert.is(a.rcode, 'NOERROR');
  assert.is(a.msg.answers?.length, 64);
  assert.is(a.flags.tc, false);
};

export const rows: Row[] = [
  { n: '1', title: 'ServiceEntry host', name: 'www.google.com', expect: { answers: [A('www.google.com', '1.1.1.1')], aa: true } },
  { n: '2', title: 'ServiceEntry host through the first search domain', name: 'www.google.com.ns1.svc.cluster.local', expect: { answers: [CNAME('www.google.com.ns1.svc.cluster.local', 'www.google.com'), A('www.google.com', '1.1.1.1')] } },
  { n: '3', title: 'unknown name forwarded', name: 'www.bing.com', expect: { answers: [A('www.bing.com', '1.1.1.1')], aa: false } },
  { n: '4', title: 'Kubernetes FQDN', name: 'productpage.ns1.svc.cluster.local', expect: { answers: [A('productpage.ns1.svc.cluster.local', '9.9.9.9')] } },
  { n: '5', title: 'FQDN + its own search domain is not expanded (forwarded, NXDOMAIN)', name: 'productpage.ns1.svc.cluster.local.ns1.svc.cluster.local', expect: { rcode: 'NXDOMAIN', empty: true } },
  { n: '6', title: 'name.ns', name: 'productpage.ns1', expect: { answers: [A('productpage.ns1', '9.9.9.9')] } },
  { n: '7', title: 'same-namespace short name', name: 'productpage', expect: { answers: [A('productpage', '9.9.9.9')] } },
  { n: '8', title: 'name.ns through a search domain', name: 'productpage.ns1.ns1.svc.cluster.local', expect: { answers: [CNAME('productpage.ns1.ns1.svc.cluster.local', 'productpage.ns1'), A('productpage.ns1', '9.9.9.9')] } },
  { n: '9', title: 'search-domain name without the family: NODATA', name: 'productpage.ns1.ns1.svc.cluster.local', type: 'AAAA', expect: { answers: [] } },
  { n: '10', title: 'other namespace name.ns', name: 'example.ns2', expect: { answers: [A('example.ns2', '10.10.10.10')] } },
  { n: '11', title: 'other namespace FQDN', name: 'example.ns2.svc.cluster.local', expect: { answers: [A('example.ns2.svc.cluster.local', '10.10.10.10')] } },
  { n: '12', title: 'other namespace name.ns.svc', name: 'example.ns2.svc', expect: { answers: [A('example.ns2.svc', '10.10.10.10')] } },
  { n: '13', title: 'other namespace bare name forwarded (NXDOMAIN)', name: 'example', expect: { rcode: 'NXDOMAIN', empty: true } },
  { n: '14', title: 'alt service short name', name: 'svc-with-alt', expect: { answers: [A('svc-with-alt', '15.15.15.15')] } },
  { n: '15', title: 'alt service name.ns', name: 'svc-with-alt.ns1', expect: { answers: [A('svc-with-alt.ns1', '15.15.15.15')] } },
  { n: '16', title: 'alt service name.ns.svc', name: 'svc-with-alt.ns1.svc', expect: { answers: [A('svc-with-alt.ns1.svc', '15.15.15.15')] } },
  { n: '17', title: 'alt service FQDN', name: 'svc-with-alt.ns1.svc.cluster.local', expect: { answers: [A('svc-with-alt.ns1.svc.cluster.local', '15.15.15.15')] } },
  { n: '18', title: 'alt host (clusterset.local)', name: 'svc-with-alt.ns1.svc.clusterset.local', expect: { answers: [A('svc-with-alt.ns1.svc.clusterset.local', '15.15.15.15')] } },
  {
    n: '19–20',
    title: 'other cluster domain FQDN: all four addresses, in an order that rotates per answer (Istio shuffles)',
    name: 'details.ns2.svc.cluster.remote',
    rotates: true,
    expect: {
      check: (a) => {
        assert.is(a.rcode, 'NOERROR');
        const lines = answerLines(a);
        assert.equal([...lines].sort(), ['11.11.11.11', '12.12.12.12', '13.13.13.13', '14.14.14.14'].map((ip) => A('details.ns2.svc.cluster.remote', ip)));
        // A rotation of the table order: each address is followed by the next one, cyclically.
        const order = ['11.11.11.11', '12.12.12.12', '13.13.13.13', '14.14.14.14'];
        const first = order.findIndex((ip) => lines[0].endsWith(` ${ip}`));
        assert.equal(lines, order.map((_, i) => A('details.ns2.svc.cluster.remote', order[(first + i) % 4])));
      },
    },
  },
  { n: '21', title: 'other cluster domain has no short form (forwarded)', name: 'details.ns2', expect: { rcode: 'NXDOMAIN', empty: true } },
  { n: '22', title: 'dual-stack, A only', name: 'dual.localhost', expect: { answers: [A('dual.localhost', '2.2.2.2')] } },
  { n: '23', title: 'wildcard answered under the query name', name: 'foo.wildcard', expect: { answers: [A('foo.wildcard', '10.10.10.10')] } },
  { n: '24', title: 'most specific wildcard wins', name: 'a.b.wildcard', expect: { answers: [A('a.b.wildcard', '11.11.11.11')] } },
  {
    n: '25',
    title: 'wildcard through a search domain: CNAME to the concrete name (never a * owner)',
    name: 'foo.wildcard.ns1.svc.cluster.local',
    expect: { answers: [CNAME('foo.wildcard.ns1.svc.cluster.local', 'foo.wildcard'), A('foo.wildcard', '10.10.10.10')] },
  },
  { n: '26', title: 'wildcard one label below', name: 'foo.svc.mesh.company.net', expect: { answers: [A('foo.svc.mesh.company.net', '10.1.2.3')] } },
  { n: '27', title: 'wildcard several labels below', name: 'foo.foons.svc.mesh.company.net', expect: { answers: [A('foo.foons.svc.mesh.company.net', '10.1.2.3')] } },
  {
    n: '28',
    title: 'multi-label wildcard through a search domain',
    name: 'foo.svc.mesh.company.net.ns1.svc.cluster.local',
    expect: { answers: [CNAME('foo.svc.mesh.company.net.ns1.svc.cluster.local', 'foo.svc.mesh.company.net'), A('foo.svc.mesh.company.net', '10.1.2.3')] },
  },
  { n: '29', title: 'dual-stack, AAAA only', name: 'dual.localhost', type: 'AAAA', expect: { answers: [AAAA('dual.localhost', '2001:db8::ff00:42:8329')] } },
  { n: '30', title: 'IPv6-only name, A: NODATA (not NXDOMAIN)', name: 'ipv6.localhost', expect: { answers: [], rcode: 'NOERROR', aa: true } },
  { n: '31', title: 'IPv4-only name, AAAA: NODATA (not NXDOMAIN)', name: 'ipv4.localhost', type: 'AAAA', expect: { answers: [], rcode: 'NOERROR', aa: true } },
  {
    n: '32',
    title: 'giant upstream answer over UDP without EDNS: TC=1 with the whole records that fit in 512 bytes',
    name: 'giant',
    only: 'udp',
    expect: {
      check: (a) => {
        assert.is(a.flags.tc, true);
        assert.ok(a.raw.length <= 512, `${a.raw.length} bytes`);
        // Istio's agent (and dnsmasq) keep what fits: stubs that never retry over TCP (musl) use it.
        assert.ok((a.msg.answers?.length ?? 0) >= 20, `${a.msg.answers?.length} records kept`);
        assert.ok(a.raw.length > 512 - 16, 'no room left for one more A record');
      },
    },
  },
  { n: '33', title: 'giant upstream answer over TCP: complete', name: 'giant', only: 'tcp', expect: { check: sixtyFour } },
  { n: '34', title: 'giant upstream answer with EDNS 65535: complete', name: 'giant', edns: 65535, expect: { check: sixtyFour } },
  { n: '35', title: 'upstream truncation retried over TCP: complete with EDNS', name: 'giant-tc', edns: 65535, expect: { check: sixtyFour } },
  { n: '36', title: 'host written with a trailing dot', name: 'example.localhost', expect: { answers: [A('example.localhost', '3.3.3.3')] } },
  // Beyond Istio.
  { n: 'B1', title: 'every search domain, not only the first (second)', name: 'www.google.com.svc.cluster.local', expect: { answers: [CNAME('www.google.com.svc.cluster.local', 'www.google.com'), A('www.google.com', '1.1.1.1')] } },
  { n: 'B2', title: 'every search domain (third)', name: 'www.google.com.cluster.local', expect: { answers: [CNAME('www.google.com.cluster.local', 'www.google.com'), A('www.google.com', '1.1.1.1')] } },
  { n: 'B3', title: 'every search domain (one written with a trailing dot)', name: 'productpage.corp.example', expect: { answers: [CNAME('productpage.corp.example', 'productpage'), A('productpage', '9.9.9.9')] } },
  { n: 'B4', title: 'PTR for a table address', name: '1.1.1.1.in-addr.arpa', type: 'PTR', expect: { answers: ['PTR 1.1.1.1.in-addr.arpa www.google.com'] } },
  {
    n: 'B5',
    title: 'PTR for an IPv6 table address held by two names: the smallest name',
    name: '9.2.3.8.2.4.0.0.0.0.f.f.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
    type: 'PTR',
    expect: { answers: ['PTR 9.2.3.8.2.4.0.0.0.0.f.f.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa dual.localhost'] },
  },
  { n: 'B6', title: 'unknown reverse name forwarded', name: '4.3.2.1.in-addr.arpa', type: 'PTR', expect: { rcode: 'NXDOMAIN', empty: true } },
  {
    n: 'B7',
    title: 'SRV for a named port',
    name: '_http._tcp.productpage',
    type: 'SRV',
    expect: { answers: [`SRV _http._tcp.productpage ${JSON.stringify({ priority: 0, weight: 100, port: 9080, target: 'productpage.ns1.svc.cluster.local' })}`] },
  },
  { n: 'B8', title: 'other qtype for a known name is forwarded', name: 'www.google.com', type: 'TXT', expect: { check: (a) => assert.is(a.flags.aa, false) } },
  {
    n: 'B9',
    title: 'letter case of the question echoed in question and owner (0x20)',
    name: 'WwW.GoOgLe.CoM',
    expect: {
      check: (a) => {
        assert.is(a.msg.questions?.[0].name, 'WwW.GoOgLe.CoM');
        assert.equal(answerLines(a), [A('WwW.GoOgLe.CoM', '1.1.1.1')]);
      },
    },
  },
  {
    n: 'B10',
    title: 'local answers: TTL 30, AA=1, RA=1',
    name: 'productpage',
    expect: {
      check: (a) => {
        assert.is((a.msg.answers?.[0] as { ttl?: number } | undefined)?.ttl, 30);
        assert.is(a.flags.aa, true);
        assert.is(a.flags.ra, true);
      },
    },
  },
];

