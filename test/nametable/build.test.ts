import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildNameTable, type TableInputs } from '../support/buildNameTable';
import { allocateVips } from '../support/vipOracle';
import type { ServiceRecord } from '../../src/registry/types';
import { se, svc } from './records';

// The table of Istio's DNS proxy behaviours (docs/ARCHITECTURE.md §2), one row per rule.
// Workload namespace ns1, cluster domain cluster.local, search domains as on a ns1 pod.
const records: ServiceRecord[] = [
  svc('productpage', 'ns1', ['9.9.9.9']),
  svc('reviews', 'ns2', ['10.10.10.10']),
  svc('dual', 'ns1', ['10.1.1.1', 'fd00::1']),
  svc('v6only', 'ns1', ['fd00::2']),
  se('decorated', 'ns1', ['productpage.ns1.svc.cluster.local'], { addresses: ['1.1.1.1'] }), // k8s wins
  se('ext-a', 'ns1', ['www.google.com'], { addresses: ['1.1.1.1'] }),
  se('ext-b', 'ns2', ['www.google.com'], { addresses: ['2.2.2.2'] }), // merged
  se('wild', 'ns1', ['*.wildcard', '*.foo.wildcard'], { addresses: ['10.10.10.10'] }),
  se('wild2', 'ns1', ['*.foo.wildcard'], { addresses: ['10.11.11.11'] }),
  se('address', 'ns1', ['address.internal'], { addresses: ['198.51.100.1'] }),
  // As the registry parses `addresses: [10.0.0.0/24]`: the CIDR is dropped, the declaration kept.
  se('cidr', 'ns1', ['cidr.internal'], { addresses: [], declaresAddresses: true }),
  se('auto', 'ns1', ['auto.internal'], { resolution: 'DNS' }),
  se('optout', 'ns1', ['not-auto.internal'], { resolution: 'DNS', autoAllocate: false }),
  se('status', 'ns1', ['status.internal'], { resolution: 'DNS', statusAddresses: { 'status.internal': ['240.240.0.1', '2001:2::1'] } }),
  se('passthrough', 'ns1', ['pt.internal'], { resolution: 'NONE', endpoints: ['10.2.0.1', '10.2.0.2'] }),
  se('remote', 'ns1', ['details.ns2.svc.cluster.remote'], { addresses: ['11.11.11.11'] }),
  svc('ext', 'ns1', [], { type: 'ExternalName' }),
  svc('headless', 'ns1', [], {
    endpoints: [
      { address: '10.3.0.1', hostname: 'web-0', ready: true },
      { address: '10.3.0.2', hostname: 'web-1', ready: true },
      { address: '10.3.0.3', hostname: 'web-2', ready: false },
    ],
  }),
  svc('headless-empty', 'ns1', [], { endpoints: [] }),
  svc('srv', 'ns1', ['10.4.0.1'], { ports: [{ name: 'http', port: 8080, transport: 'tcp' }, { name: 'dns', port: 53, transport: 'udp' }] }),
];

function inputs(): TableInputs {
  const { allocations } = allocateVips(records, {});
  return {
    records,
    allocations,
    hostsFiles: [{ file: 'hosts', entries: [{ address: '10.99.0.1', names: ['istiod.istio-system.svc'], line: 1 }] }],
    clusterDomain: 'cluster.local',
    namespace: 'ns1',
    searchDomains: ['ns1.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example.'],
  };
}
const table = buildNameTable(inputs());

type Row = [title: string, query: string, expect: { kind?: string; v4?: string[]; v6?: string[]; target?: string } | undefined];
const rows: Row[] = [
  ['FQDN of a Kubernetes service', 'productpage.ns1.svc.cluster.local', { kind: 'name', v4: ['9.9.9.9'] }],
  ['same-namespace short name', 'productpage', { kind: 'name', v4: ['9.9.9.9'] }],
  ['name.ns in the same namespace', 'productpage.ns1', { kind: 'name', v4: ['9.9.9.9'] }],
  ['other-namespace name.ns', 'reviews.ns2', { kind: 'name', v4: ['10.10.10.10'] }],
  ['other-namespace name.ns.svc', 'reviews.ns2.svc', { kind: 'name', v4: ['10.10.10.10'] }],
  ['other-namespace bare name is not a key', 'reviews', undefined],
  ['Kubernetes service beats a ServiceEntry with the same host', 'productpage.ns1.svc.cluster.local', { v4: ['9.9.9.9'] }],
  ['same host in two ServiceEntries merges addresses', 'www.google.com', { kind: 'name', v4: ['1.1.1.1', '2.2.2.2'] }],
  ['dual-stack keeps both families', 'dual', { v4: ['10.1.1.1'], v6: ['fd00::1'] }],
  ['IPv6-only service has no IPv4 (NODATA for A)', 'v6only', { v4: [], v6: ['fd00::2'] }],
  ['wildcard matches a name below the apex', 'a.wildcard', { kind: 'wildcard', v4: ['10.10.10.10'] }],
  ['wildcard does not match its apex', 'wildcard', undefined],
  ['most specific wildcard wins (merged hosts)', 'a.foo.wildcard', { kind: 'wildcard', v4: ['10.10.10.10', '10.11.11.11'] }],
  ['wildcard matches several labels below', 'x.y.wildcard', { kind: 'wildcard', v4: ['10.10.10.10'] }],
  ['ServiceEntry spec.addresses', 'address.internal', { kind: 'name', v4: ['198.51.100.1'], v6: [] }],
  ['CIDR-only ServiceEntry is left out (forwards)', 'cidr.internal', undefined],
  ['auto-allocated VIP pair', 'auto.internal', { kind: 'name', v4: ['240.240.0.2'], v6: ['2001:2::2'] }],
  ['opt-out label: no VIP, left out', 'not-auto.internal', undefined],
  ['status.addresses from istiod used', 'status.internal', { v4: ['240.240.0.1'], v6: ['2001:2::1'] }],
  ['resolution NONE without addresses uses endpoints', 'pt.internal', { v4: ['10.2.0.1', '10.2.0.2'] }],
  ['other cluster domain: FQDN only', 'details.ns2.svc.cluster.remote', { v4: ['11.11.11.11'] }],
  ['other cluster domain: no short form', 'details.ns2', undefined],
  ['ExternalName service not in the table', 'ext.ns1.svc.cluster.local', undefined],
  ['headless service answers ready endpoints', 'headless.ns1.svc.cluster.local', { v4: ['10.3.0.1', '10.3.0.2'] }],
  ['headless per-pod FQDN', 'web-0.headless.ns1.svc.cluster.local', { v4: ['10.3.0.1'] }],
  ['headless per-pod hostname.service short form', 'web-1.headless', { v4: ['10.3.0.2'] }],
  ['headless per-pod hostname.service.ns', 'web-1.headless.ns1', { v4: ['10.3.0.2'] }],
  ['not-ready pod has no name', 'web-2.headless.ns1.svc.cluster.local', undefined],
  ['headless service without endpoints forwards', 'headless-empty.ns1.svc.cluster.local', undefined],
  ['search walk: first search domain', 'auto.internal.ns1.svc.cluster.local', { kind: 'search', target: 'auto.internal', v4: ['240.240.0.2'] }],
  ['search walk: second search domain', 'auto.internal.svc.cluster.local', { kind: 'search', target: 'auto.internal' }],
  ['search walk: last search domain (trailing dot in resolv.conf)', 'auto.internal.corp.example', { kind: 'search', target: 'auto.internal' }],
  ['search walk of a short name is the real FQDN, not a CNAME', 'productpage.ns1.svc.cluster.local', { kind: 'name' }],
  ['search walk through a wildcard keeps the concrete name', 'a.wildcard.ns1.svc.cluster.local', { kind: 'search', target: 'a.wildcard', v4: ['10.10.10.10'] }],
  ['a name already under the search domain is not expanded again', 'productpage.ns1.svc.cluster.local.ns1.svc.cluster.local', undefined],
  ['hosts-file pin', 'istiod.istio-system.svc', { kind: 'name', v4: ['10.99.0.1'] }],
  ['unknown name', 'www.example.org', undefined],
];

for (const [title, query, expect] of rows) {
  test(title, () => {
    const found = table.lookup(query);
    if (expect === undefined) {
      assert.is(found, undefined, `${query} should not be in the table`);
      return;
    }
    assert.ok(found, `${query} should be in the table`);
    if (expect.kind) assert.is(found.kind, expect.kind);
    if (expect.v4) assert.equal([...found.info.v4], expect.v4);
    if (expect.v6) assert.equal([...found.info.v6], expect.v6);
    if (expect.target) {
      assert.is(found.kind, 'search');
      if (found.kind === 'search') assert.is(found.target, expect.target);
    }
  });
}

test('aliases point at their canonical FQDN', () => {
  assert.is(table.lookup('productpage')?.info.canonical, 'productpage.ns1.svc.cluster.local');
  assert.is(table.lookup('reviews.ns2.svc')?.info.canonical, 'reviews.ns2.svc.cluster.local');
});

test('PTR for table addresses names the canonical host', () => {
  assert.is(table.lookupPtr('1.100.51.198.in-addr.arpa'), 'address.internal');
  assert.is(table.lookupPtr('9.9.9.9.in-addr.arpa'), 'productpage.ns1.svc.cluster.local');
  assert.is(table.lookupPtr('2.0.240.240.in-addr.arpa'), 'auto.internal');
  assert.is(
    table.lookupPtr('2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa'),
    'auto.internal',
  );
  assert.is(table.lookupPtr('1.2.3.4.in-addr.arpa'), undefined);
});

test('SRV for named ports, by protocol', () => {
  const http = table.lookupSrv('_http._tcp.srv.ns1.svc.cluster.local');
  assert.is(http?.port.port, 8080);
  assert.is(http?.target, 'srv.ns1.svc.cluster.local');
  assert.is(table.lookupSrv('_dns._udp.srv')?.port.port, 53);
  assert.is(table.lookupSrv('_dns._tcp.srv'), undefined, 'protocol must match');
  assert.is(table.lookupSrv('_nope._tcp.srv'), undefined);
});

test('the table is a pure function of its inputs', () => {
  const again = buildNameTable(inputs());
  assert.equal([...again.entries()].map((e) => [e.name, e.v4, e.v6]), [...table.entries()].map((e) => [e.name, e.v4, e.v6]));
});

test('a name that is both a canonical host and an alias keeps the canonical one', () => {
  const t = buildNameTable({
    ...inputs(),
    records: [svc('db', 'ns1', ['10.0.0.1']), se('pinned', 'ns1', ['db.ns1'], { addresses: ['10.0.0.2'] })],
  });
  assert.equal([...t.lookup('db.ns1')!.info.v4], ['10.0.0.2']);
  assert.equal([...t.lookup('db')!.info.v4], ['10.0.0.1']);
});

test.run();
