import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { load } from 'js-yaml';
import { parseServiceEntry } from '../../src/registry/serviceEntry';
import type { ServiceEntryRecord } from '../../src/registry/types';

const REF = { file: 'se.yaml', document: '1' };

function base(overrides: Partial<ServiceEntryRecord>): ServiceEntryRecord {
  return {
    kind: 'ServiceEntry',
    source: { file: 'se.yaml', document: '1', kind: 'ServiceEntry', namespace: 'ext', name: 'api' },
    name: 'api',
    namespace: 'ext',
    hosts: ['api.example.com'],
    addresses: [],
    declaresAddresses: false,
    statusAddresses: {},
    resolution: 'DNS',
    endpoints: [],
    ports: [],
    autoAllocate: true,
    ...overrides,
  };
}

/** A ServiceEntry of the given spec (YAML flow text) and extra top-level YAML. */
function doc(spec: string, extra = '', apiVersion = 'networking.istio.io/v1', metadata = '{name: api, namespace: ext}'): unknown {
  return load(`apiVersion: ${apiVersion}\nkind: ServiceEntry\nmetadata: ${metadata}\nspec: ${spec}\n${extra}`);
}

const HOST = 'hosts: [api.example.com], resolution: DNS';

interface Row {
  name: string;
  input: unknown;
  record: ServiceEntryRecord | undefined;
  problems?: Array<{ field: string; message: RegExp }>;
}

const rows: Row[] = [
  { name: 'apiVersion v1 is read', input: doc(`{${HOST}}`), record: base({}) },
  { name: 'apiVersion v1beta1 is read', input: doc(`{${HOST}}`, '', 'networking.istio.io/v1beta1'), record: base({}) },
  { name: 'apiVersion v1alpha3 is read', input: doc(`{${HOST}}`, '', 'networking.istio.io/v1alpha3'), record: base({}) },
  {
    name: 'another apiVersion is a problem',
    input: doc(`{${HOST}}`, '', 'networking.istio.io/v2'),
    record: undefined,
    problems: [{ field: 'apiVersion', message: /"networking.istio.io\/v2" is not supported/ }],
  },
  { name: 'missing namespace is "default"', input: doc(`{${HOST}}`, '', undefined, '{name: api}'), record: base({ namespace: 'default', source: { ...base({}).source, namespace: 'default' } }) },
  { name: 'hosts are lower-cased and lose a trailing dot', input: doc('{hosts: [API.Example.COM.], resolution: DNS}'), record: base({}) },
  { name: 'a repeated host appears once', input: doc('{hosts: [api.example.com, API.example.com], resolution: DNS}'), record: base({}) },
  { name: 'a wildcard leftmost label is allowed', input: doc('{hosts: ["*.example.com"], resolution: DNS}'), record: base({ hosts: ['*.example.com'] }) },
  { name: 'a lone * is allowed', input: doc('{hosts: ["*"], resolution: NONE}'), record: base({ hosts: ['*'], resolution: 'NONE' }) },
  { name: 'a short (single-label) host is allowed', input: doc('{hosts: [mongodb], resolution: DNS}'), record: base({ hosts: ['mongodb'] }) },
  {
    name: 'a wildcard inside a label is a problem naming spec.hosts[i]; the other hosts stay',
    input: doc('{hosts: [api.example.com, "a*.example.com"], resolution: DNS}'),
    record: base({}),
    problems: [{ field: 'spec.hosts[1]', message: /"a\*.example.com" has a '\*' that is not the whole leftmost label/ }],
  },
  {
    name: 'a wildcard that is not leftmost is a problem',
    input: doc('{hosts: ["api.*.com", api.example.com], resolution: DNS}'),
    record: base({}),
    problems: [{ field: 'spec.hosts[0]', message: /not the whole leftmost label/ }],
  },
  {
    name: 'a host with an underscore or space is a problem',
    input: doc('{hosts: [api.example.com, "bad_host.example.com", "a b"], resolution: DNS}'),
    record: base({}),
    problems: [
      { field: 'spec.hosts[1]', message: /is not a DNS name/ },
      { field: 'spec.hosts[2]', message: /is not a DNS name/ },
    ],
  },
  {
    name: 'a host that is not a string is a problem',
    input: doc('{hosts: [api.example.com, 42], resolution: DNS}'),
    record: base({}),
    problems: [{ field: 'spec.hosts[1]', message: /42 must be a string/ }],
  },
  {
    name: 'no valid host at all drops the record',
    input: doc('{hosts: ["-bad-"], resolution: DNS}'),
    record: undefined,
    problems: [{ field: 'spec.hosts[0]', message: /is not a DNS name/ }],
  },
  { name: 'missing hosts drop the record', input: doc('{resolution: DNS}'), record: undefined, problems: [{ field: 'spec.hosts', message: /spec.hosts is missing/ }] },
  { name: 'empty hosts drop the record', input: doc('{hosts: [], resolution: DNS}'), record: undefined, problems: [{ field: 'spec.hosts', message: /spec.hosts is empty/ }] },
  { name: 'missing spec drops the record', input: load('apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: api}'), record: undefined, problems: [{ field: 'spec', message: /spec is missing/ }] },
  { name: 'missing resolution is NONE', input: doc('{hosts: [api.example.com]}'), record: base({ resolution: 'NONE' }) },
  { name: 'resolution STATIC', input: doc('{hosts: [api.example.com], resolution: STATIC}'), record: base({ resolution: 'STATIC' }) },
  { name: 'resolution DNS_ROUND_ROBIN', input: doc('{hosts: [api.example.com], resolution: DNS_ROUND_ROBIN}'), record: base({ resolution: 'DNS_ROUND_ROBIN' }) },
  {
    name: 'an unknown resolution drops the record (it decides allocation)',
    input: doc('{hosts: [api.example.com], resolution: dns}'),
    record: undefined,
    problems: [{ field: 'spec.resolution', message: /"dns" is not one of NONE, STATIC, DNS, DNS_ROUND_ROBIN/ }],
  },
  { name: 'IP addresses are kept', input: doc(`{${HOST}, addresses: [10.1.0.1, "2001:db8::1"]}`), record: base({ addresses: ['10.1.0.1', '2001:db8::1'], declaresAddresses: true }) },
  { name: 'a /32 CIDR counts as its IP', input: doc(`{${HOST}, addresses: [10.1.0.1/32]}`), record: base({ addresses: ['10.1.0.1'], declaresAddresses: true }) },
  { name: 'a /128 CIDR counts as its IP', input: doc(`{${HOST}, addresses: ["2001:db8::1/128"]}`), record: base({ addresses: ['2001:db8::1'], declaresAddresses: true }) },
  { name: 'a /24 CIDR is skipped silently, but still declares addresses', input: doc(`{${HOST}, addresses: [192.192.192.192/24]}`), record: base({ declaresAddresses: true }) },
  { name: 'an IPv6 /64 CIDR is skipped silently', input: doc(`{${HOST}, addresses: ["2001:db8::/64", 10.0.0.1]}`), record: base({ addresses: ['10.0.0.1'], declaresAddresses: true }) },
  {
    name: 'a garbage address is a problem naming spec.addresses[i]',
    input: doc(`{${HOST}, addresses: [10.0.0.1, not-an-ip, 10.0.0.0/33]}`),
    record: base({ addresses: ['10.0.0.1'], declaresAddresses: true }),
    problems: [
      { field: 'spec.addresses[1]', message: /"not-an-ip" is not an IP address or CIDR/ },
      { field: 'spec.addresses[2]', message: /"10.0.0.0\/33" is not an IP address or CIDR/ },
    ],
  },
  {
    name: 'endpoint IPs are kept; DNS names and unix sockets are not IPs and are left out without a problem',
    input: doc('{hosts: [api.example.com], resolution: STATIC, endpoints: [{address: 10.2.0.1}, {address: us.foo.bar.com}, {address: "unix:///var/run/x.sock"}, {address: "2001:db8::2"}, {address: 10.2.0.1}, {network: remote}]}'),
    record: base({ resolution: 'STATIC', endpoints: ['10.2.0.1', '2001:db8::2'] }),
  },
  {
    name: 'a garbage endpoint address is a problem',
    input: doc('{hosts: [api.example.com], resolution: STATIC, endpoints: [{address: "bad address!"}]}'),
    record: base({ resolution: 'STATIC' }),
    problems: [{ field: 'spec.endpoints[0].address', message: /is not an IP address, a DNS name or unix/ }],
  },
  {
    name: 'ports: UDP becomes udp, every other protocol tcp',
    input: doc(`{${HOST}, ports: [{number: 53, name: dns, protocol: UDP}, {number: 443, name: https, protocol: TLS}, {number: 27018, name: mongo, protocol: MONGO}, {number: 80}]}`),
    record: base({
      ports: [
        { name: 'dns', port: 53, transport: 'udp' },
        { name: 'https', port: 443, transport: 'tcp' },
        { name: 'mongo', port: 27018, transport: 'tcp' },
        { name: '', port: 80, transport: 'tcp' },
      ],
    }),
  },
  {
    name: 'a port without a valid number is a problem and dropped',
    input: doc(`{${HOST}, ports: [{name: x, number: 70000}, {name: y}]}`),
    record: base({}),
    problems: [
      { field: 'spec.ports[0].number', message: /70000 is not a number from 1 to 65535/ },
      { field: 'spec.ports[1].number', message: /port number is missing/ },
    ],
  },
  {
    name: 'opt-out label "false" turns auto-allocation off',
    input: doc(`{${HOST}}`, '', undefined, '{name: api, namespace: ext, labels: {networking.istio.io/enable-autoallocate-ip: "false"}}'),
    record: base({ autoAllocate: false }),
  },
  {
    name: 'opt-out label "FALSE" (any case) turns auto-allocation off',
    input: doc(`{${HOST}}`, '', undefined, '{name: api, namespace: ext, labels: {networking.istio.io/enable-autoallocate-ip: "FALSE"}}'),
    record: base({ autoAllocate: false }),
  },
  {
    name: 'opt-out label "true" leaves auto-allocation on',
    input: doc(`{${HOST}}`, '', undefined, '{name: api, namespace: ext, labels: {networking.istio.io/enable-autoallocate-ip: "true"}}'),
    record: base({}),
  },
  {
    name: 'other labels leave auto-allocation on',
    input: doc(`{${HOST}}`, '', undefined, '{name: api, namespace: ext, labels: {app: "false"}}'),
    record: base({}),
  },
  {
    name: 'status.addresses are grouped by lower-cased host; non-IP values are skipped',
    input: doc(
      '{hosts: [api.example.com, db.example.com], resolution: DNS}',
      'status: {addresses: [{host: API.example.com, value: 240.240.0.1}, {host: api.example.com, value: "2001:2::1"}, {host: db.example.com, value: 240.240.0.2}, {host: db.example.com, value: pending}, {value: 240.240.0.9}, {host: api.example.com, value: 240.240.0.1}]}',
    ),
    record: base({ hosts: ['api.example.com', 'db.example.com'], statusAddresses: { 'api.example.com': ['240.240.0.1', '2001:2::1'], 'db.example.com': ['240.240.0.2'] } }),
  },
  {
    name: 'creationTimestamp is kept',
    input: doc(`{${HOST}}`, '', undefined, '{name: api, namespace: ext, creationTimestamp: "2025-03-04T05:06:07Z"}'),
    record: base({ creationTimestamp: '2025-03-04T05:06:07Z' }),
  },
  {
    name: 'a missing name drops the record',
    input: doc(`{${HOST}}`, '', undefined, '{namespace: ext}'),
    record: undefined,
    problems: [{ field: 'metadata.name', message: /metadata.name is missing/ }],
  },
];

for (const row of rows) {
  test(row.name, () => {
    const parsed = parseServiceEntry(row.input, REF);
    // statusAddresses has no prototype (see readStatusAddresses): compare its entries.
    const value = parsed.value === undefined ? undefined : { ...parsed.value, statusAddresses: { ...parsed.value.statusAddresses } };
    assert.equal(value, row.record);
    const expected = row.problems ?? [];
    assert.is(parsed.problems.length, expected.length, JSON.stringify(parsed.problems));
    expected.forEach((want, i) => {
      const got = parsed.problems[i];
      assert.equal({ file: got.file, document: got.document, field: got.field }, { file: 'se.yaml', document: 1, field: want.field });
      assert.match(got.message, want.message);
    });
  });
}

test('a host named like an Object.prototype member has no status addresses', () => {
  const parsed = parseServiceEntry(doc('{hosts: [constructor], resolution: DNS}'), REF);
  assert.is(parsed.value?.statusAddresses['constructor'], undefined);
});

// Records share storage for equal port lists and empty lists; the values stay what was declared.
function entryWithPorts(name: string, ports: string): ServiceEntryRecord {
  const doc = load(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: ext}
spec:
  hosts: [${name}.example.com]
  resolution: DNS
  ports: ${ports}
`);
  const parsed = parseServiceEntry(doc, REF);
  assert.equal(parsed.problems, []);
  return parsed.value!;
}

const http = '[{name: http, number: 80, protocol: HTTP}, {name: dns, number: 53, protocol: UDP}]';
const sharing: Array<[string, string, string, boolean]> = [
  ['equal port lists are one shared list', http, http, true],
  ['another port number is another list', http, '[{name: http, number: 8080, protocol: HTTP}, {name: dns, number: 53, protocol: UDP}]', false],
  ['another transport is another list', http, '[{name: http, number: 80, protocol: HTTP}, {name: dns, number: 53, protocol: TCP}]', false],
  ['another name is another list', http, '[{name: web, number: 80, protocol: HTTP}, {name: dns, number: 53, protocol: UDP}]', false],
  ['the same ports in another order is another list', http, '[{name: dns, number: 53, protocol: UDP}, {name: http, number: 80, protocol: HTTP}]', false],
];
for (const [title, portsA, portsB, shared] of sharing) {
  test(`port lists: ${title}`, () => {
    const a = entryWithPorts('a', portsA);
    const b = entryWithPorts('b', portsB);
    assert.is(a.ports === b.ports, shared);
    assert.equal(b.ports, entryWithPorts('c', portsB).ports, 'the values are the declared ones');
    assert.ok(Object.isFrozen(a.ports), 'a shared list cannot be changed through one record');
  });
}

test('port lists: the declared values come through', () => {
  assert.equal(entryWithPorts('a', http).ports, [
    { name: 'http', port: 80, transport: 'tcp' },
    { name: 'dns', port: 53, transport: 'udp' },
  ]);
  assert.equal(entryWithPorts('a', '[]').ports, []);
  assert.equal(entryWithPorts('a', http).addresses, []);
});

test.run();
