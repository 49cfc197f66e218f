import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRegistryText } from '../../src/registry/parseFile';
import type { KubeServiceRecord, RegistryDocuments, ServiceEntryRecord, ServicePort, ServiceRecord } from '../../src/registry/types';
import { registryFixture, sampleFixture } from './fixturePaths';

/** Records without `source.file` (the absolute fixture path differs per checkout) and with plain statusAddresses. */
function plain(records: ServiceRecord[]): unknown[] {
  return records.map((r) => {
    const { file: _file, ...source } = r.source;
    return r.kind === 'ServiceEntry' ? { ...r, source, statusAddresses: { ...r.statusAddresses } } : { ...r, source };
  });
}

const http9080: ServicePort[] = [{ name: 'http', port: 9080, transport: 'tcp' }];

function svc(name: string, namespace: string, document: string, rest: Partial<KubeServiceRecord> = {}): unknown {
  return { kind: 'Service', source: { document, kind: 'Service', namespace, name }, name, namespace, type: 'ClusterIP', addresses: [], ports: [], endpoints: [], ...rest };
}

function se(name: string, namespace: string, document: string, rest: Partial<ServiceEntryRecord>): unknown {
  return {
    kind: 'ServiceEntry',
    source: { document, kind: 'ServiceEntry', namespace, name },
    name,
    namespace,
    hosts: [],
    addresses: [],
    declaresAddresses: false,
    statusAddresses: {},
    resolution: 'NONE',
    endpoints: [],
    ports: [],
    autoAllocate: true,
    ...rest,
  };
}

const http8080: ServicePort[] = [{ name: 'http', port: 8080, transport: 'tcp' }];

test('storefront.yaml: 4 Services in "default", ServiceAccounts and Deployments counted', () => {
  const { file, text } = sampleFixture('storefront.yaml');
  const parsed = parseRegistryText(text, file);
  assert.equal(parsed.problems, []);
  assert.equal(plain(parsed.value.records), [
    svc('inventory', 'default', '0', { ports: http8080 }),
    svc('pricing', 'default', '3', { ports: http8080 }),
    svc('basket', 'default', '6', { ports: http8080 }),
    svc('storefront', 'default', '11', { ports: http8080 }),
  ]);
  assert.equal(parsed.value.ignoredKinds, { 'v1/ServiceAccount': 4, 'apps/v1/Deployment': 6 });
  assert.equal(parsed.value.endpointSets, []);
  assert.is(parsed.value.records[0].source.file, file);
});

test('line-echo.yaml: two named TCP ports without a protocol field', () => {
  const { file, text } = sampleFixture('line-echo.yaml');
  const parsed = parseRegistryText(text, file);
  assert.equal(parsed.problems, []);
  assert.equal(plain(parsed.value.records), [
    svc('line-echo', 'default', '0', {
      ports: [
        { name: 'tcp-main', port: 7000, transport: 'tcp' },
        { name: 'tcp-alt', port: 7001, transport: 'tcp' },
      ],
    }),
  ]);
  assert.equal(parsed.value.ignoredKinds, { 'apps/v1/Deployment': 1 });
});

for (const sample of ['probe', 'toolbox']) {
  test(`${sample}.yaml: the Service is document 1, after its ServiceAccount`, () => {
    const { file, text } = sampleFixture(`${sample}.yaml`);
    const parsed = parseRegistryText(text, file);
    assert.equal(parsed.problems, []);
    assert.equal(plain(parsed.value.records), [svc(sample, 'default', '1', { ports: [{ name: 'http', port: 80, transport: 'tcp' }] })]);
    assert.equal(parsed.value.ignoredKinds, { 'v1/ServiceAccount': 1, 'apps/v1/Deployment': 1 });
  });
}

test('serviceentry-shapes.yaml: v1, v1beta1, v1alpha3; CIDR VIP skipped, unix and DNS endpoints left out, opt-out label', () => {
  const { file, text } = sampleFixture('serviceentry-shapes.yaml');
  const parsed = parseRegistryText(text, file);
  assert.equal(parsed.problems, []);
  assert.equal(plain(parsed.value.records), [
    se('billing-workload', 'partners', '1', { hosts: ['billing.partners'], resolution: 'STATIC', endpoints: ['10.40.0.9'], ports: [{ name: 'tcp-billing', port: 1300, transport: 'tcp' }] }),
    se('cache-cluster', 'partners', '2', {
      hosts: ['cache.partners.example'],
      declaresAddresses: true,
      resolution: 'STATIC',
      endpoints: ['203.0.113.21', '203.0.113.22'],
      ports: [{ name: 'redis', port: 6380, transport: 'tcp' }],
    }),
    se('public-apis', 'partners', '4', {
      hosts: ['maps.example.org', 'weather.example.org', 'news.example.org'],
      resolution: 'DNS',
      ports: [{ name: 'tls', port: 443, transport: 'tcp' }],
    }),
    se('any-cdn', 'partners', '6', { hosts: ['*.cdn.example.net'], resolution: 'NONE', ports: [{ name: 'http', port: 80, transport: 'tcp' }] }),
    se('local-agent-socket', 'partners', '7', { hosts: ['agent.socket.local'], resolution: 'STATIC', ports: [{ name: 'http', port: 8101, transport: 'tcp' }] }),
    se('regional-gateway', 'partners', '8', { hosts: ['gateway.partners.example'], resolution: 'DNS', ports: [{ name: 'https', port: 8443, transport: 'tcp' }] }),
    se('pinned-vip', 'partners', '9', {
      hosts: ['pinned.partners.example'],
      addresses: ['198.51.100.40'],
      declaresAddresses: true,
      resolution: 'STATIC',
      endpoints: ['198.51.100.41'],
      ports: [{ name: 'http', port: 8080, transport: 'tcp' }],
      autoAllocate: false,
    }),
  ]);
  assert.equal(parsed.value.ignoredKinds, {
    'networking.istio.io/v1/Sidecar': 1,
    'networking.istio.io/v1/DestinationRule': 1,
    'networking.istio.io/v1/VirtualService': 1,
  });
});

test('serviceentry-status.yaml: status.addresses by host, namespace "default"', () => {
  const { file, text } = sampleFixture('serviceentry-status.yaml');
  const parsed = parseRegistryText(text, file);
  assert.equal(parsed.problems, []);
  assert.equal(plain(parsed.value.records), [
    se('allocated-by-istiod', 'default', '0', {
      hosts: ['ledger.partners.example'],
      statusAddresses: { 'ledger.partners.example': ['240.240.0.7', '2001:2::7'] },
      ports: [{ name: 'tcp', port: 5432, transport: 'tcp' }],
    }),
  ]);
});

test('kubectl get services,serviceentries -A -o yaml (kind: List with server-side fields)', () => {
  const { file, text } = registryFixture('kubectl-get-services-serviceentries.yaml');
  const parsed = parseRegistryText(text, file);
  assert.equal(parsed.problems, []);
  assert.equal(parsed.value.ignoredKinds, {});
  assert.equal(plain(parsed.value.records), [
    svc('kubernetes', 'default', '0.0', { addresses: ['10.96.0.1'], ports: [{ name: 'https', port: 443, transport: 'tcp' }], creationTimestamp: '2025-10-02T08:14:31Z' }),
    svc('kube-dns', 'kube-system', '0.1', {
      addresses: ['10.96.0.10'],
      ports: [
        { name: 'dns', port: 53, transport: 'udp' },
        { name: 'dns-tcp', port: 53, transport: 'tcp' },
        { name: 'metrics', port: 9153, transport: 'tcp' },
      ],
      creationTimestamp: '2025-10-02T08:14:33Z',
    }),
    svc('ratings', 'bookinfo', '0.2', { addresses: ['10.96.141.7', 'fd00:10:96::8d07'], ports: http9080, creationTimestamp: '2025-10-03T11:02:07Z' }),
    svc('mysql', 'bookinfo', '0.3', { type: 'Headless', ports: [{ name: 'mysql', port: 3306, transport: 'tcp' }], creationTimestamp: '2025-10-03T11:05:40Z' }),
    svc('istio-ingressgateway', 'istio-system', '0.4', {
      addresses: ['10.96.200.15'],
      ports: [
        { name: 'status-port', port: 15021, transport: 'tcp' },
        { name: 'http2', port: 80, transport: 'tcp' },
      ],
      creationTimestamp: '2025-10-03T11:07:12Z',
    }),
    svc('legacy-db', 'bookinfo', '0.5', { type: 'ExternalName', creationTimestamp: '2025-10-03T11:09:00Z' }),
    se('external-api', 'bookinfo', '0.6', {
      hosts: ['api.external.example.com'],
      resolution: 'DNS',
      statusAddresses: { 'api.external.example.com': ['240.240.0.3', '2001:2::3'] },
      ports: [{ name: 'https', port: 443, transport: 'tcp' }],
      creationTimestamp: '2025-10-04T09:00:00Z',
    }),
    se('no-vip', 'bookinfo', '0.7', {
      hosts: ['static.example.org'],
      resolution: 'STATIC',
      endpoints: ['192.0.2.10', '2001:db8::10'],
      ports: [{ name: 'dns', port: 53, transport: 'udp' }],
      autoAllocate: false,
      creationTimestamp: '2025-10-04T09:10:00Z',
    }),
    se('partner-vips', 'istio-system', '0.8', {
      hosts: ['partner.example.net', '*.partner.example.net'],
      addresses: ['10.200.0.10'],
      declaresAddresses: true,
      resolution: 'DNS',
      ports: [{ name: 'http', port: 80, transport: 'tcp' }],
      creationTimestamp: '2025-10-04T09:20:00Z',
      exportTo: ['*'],
    }),
  ]);
});

test('kubectl get endpointslices,endpoints -o json: slices and Endpoints of the headless service', () => {
  const { file, text } = registryFixture('kubectl-get-endpointslices-endpoints.json');
  const parsed = parseRegistryText(text, file);
  assert.equal(parsed.problems, []);
  assert.equal(parsed.value.records, []);
  assert.equal(
    parsed.value.endpointSets.map((s) => ({ document: s.source.document, kind: s.source.kind, name: s.source.name, namespace: s.namespace, serviceName: s.serviceName, endpoints: s.endpoints })),
    [
      {
        document: '0.0',
        kind: 'EndpointSlice',
        name: 'mysql-7xk2p',
        namespace: 'bookinfo',
        serviceName: 'mysql',
        endpoints: [
          { address: '10.244.1.17', hostname: 'mysql-0', ready: true },
          { address: '10.244.2.23', hostname: 'mysql-1', ready: false },
        ],
      },
      { document: '0.1', kind: 'EndpointSlice', name: 'mysql-q9w4z', namespace: 'bookinfo', serviceName: 'mysql', endpoints: [{ address: '10.244.3.9', hostname: 'mysql-2', ready: true }] },
      {
        document: '0.2',
        kind: 'Endpoints',
        name: 'mysql',
        namespace: 'bookinfo',
        serviceName: 'mysql',
        endpoints: [
          { address: '10.244.1.17', hostname: 'mysql-0', ready: true },
          { address: '10.244.2.23', hostname: 'mysql-1', ready: false },
        ],
      },
    ],
  );
});

interface Row {
  name: string;
  text: string;
  records: Array<{ kind: string; name: string; document: string }>;
  endpointSets?: number;
  ignoredKinds?: RegistryDocuments['ignoredKinds'];
  problems?: Array<{ document: number; field?: string; message: RegExp }>;
}

const SVC = (name: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\n`;
const SE = (name: string, host = 'a.example.com') => `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ${name}}\nspec: {hosts: [${host}]}\n`;

const rows: Row[] = [
  {
    name: 'dispatch: Service, ServiceEntry, EndpointSlice, Endpoints; other kinds counted by apiVersion/kind',
    text: [SVC('a'), SE('b'), 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: a-1, labels: {kubernetes.io/service-name: a}}\nendpoints: []\n', 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: a}\n', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n', 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: k}\n'].join('---\n'),
    records: [
      { kind: 'Service', name: 'a', document: '0' },
      { kind: 'ServiceEntry', name: 'b', document: '1' },
    ],
    endpointSets: 2,
    ignoredKinds: { 'v1/ConfigMap': 2, 'serving.knative.dev/v1/Service': 1 },
  },
  {
    name: 'a document without kind is a problem; the others still come through',
    text: `${SVC('a')}---\napiVersion: v1\nmetadata: {name: x}\n---\n${SVC('b')}`,
    records: [
      { kind: 'Service', name: 'a', document: '0' },
      { kind: 'Service', name: 'b', document: '2' },
    ],
    problems: [{ document: 1, field: 'kind', message: /has no kind/ }],
  },
  {
    name: 'a document without apiVersion is a problem',
    text: 'kind: Service\nmetadata: {name: a}\n',
    records: [],
    problems: [{ document: 0, field: 'apiVersion', message: /has no apiVersion/ }],
  },
  {
    name: 'a document that is not a mapping is a problem',
    text: `just a string\n---\n${SVC('b')}`,
    records: [{ kind: 'Service', name: 'b', document: '1' }],
    problems: [{ document: 0, message: /must be a Kubernetes object/ }],
  },
  {
    name: 'a ServiceEntry of an unsupported version is a problem, not ignored',
    text: SE('a').replace('/v1', '/v1alpha2'),
    records: [],
    problems: [{ document: 0, field: 'apiVersion', message: /not supported/ }],
  },
  {
    name: 'a YAML syntax error in document 2 keeps documents 0 and 1',
    text: `${SVC('a')}---\n${SE('b')}---\napiVersion: v1\nkind: Service\nmetadata: {name: [c}\n`,
    records: [
      { kind: 'Service', name: 'a', document: '0' },
      { kind: 'ServiceEntry', name: 'b', document: '1' },
    ],
    problems: [{ document: 2, message: /^YAML syntax error at line 12, column \d+/ }],
  },
  {
    name: 'problems of a List item carry the document number and items[i] in the field',
    text: `apiVersion: v1\nkind: List\nitems:\n- ${SE('a').trimEnd().split('\n').join('\n  ')}\n- ${SE('b', '"bad_host"').trimEnd().split('\n').join('\n  ')}\n`,
    records: [{ kind: 'ServiceEntry', name: 'a', document: '0.0' }],
    problems: [{ document: 0, field: 'items[1].spec.hosts[0]', message: /"bad_host" is not a DNS name/ }],
  },
  {
    name: 'a List item without kind is a problem at items[i].kind',
    text: 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, metadata: {name: x}}\n',
    records: [],
    problems: [{ document: 0, field: 'items[0].kind', message: /has no kind/ }],
  },
  {
    name: 'a JSON file with a List of Services',
    text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'j', namespace: 'n' }, spec: { clusterIP: '10.0.0.1' } }] }),
    records: [{ kind: 'Service', name: 'j', document: '0.0' }],
  },
  {
    name: 'a JSON syntax error is one problem at document 0 with its position',
    text: '{"apiVersion": "v1", "kind": "Service",\n "metadata": {"name": "x"}\n',
    records: [],
    problems: [{ document: 0, message: /^JSON syntax error at line 3, column 1/ }],
  },
  { name: 'an empty file is empty, without problems', text: '', records: [] },
  {
    name: 'problems are reported in document order',
    text: `apiVersion: v1\n---\nkey: [\n---\n${SVC('Bad')}`,
    records: [],
    problems: [
      { document: 0, field: 'kind', message: /has no kind/ },
      { document: 1, message: /YAML syntax error/ },
      { document: 2, field: 'metadata.name', message: /"Bad" is not valid/ },
    ],
  },
];

for (const row of rows) {
  test(row.name, () => {
    const parsed = parseRegistryText(row.text, 'registry.yaml');
    assert.equal(
      parsed.value.records.map((r) => ({ kind: r.kind, name: r.name, document: r.source.document })),
      row.records,
    );
    assert.is(parsed.value.endpointSets.length, row.endpointSets ?? 0);
    assert.equal(parsed.value.ignoredKinds, row.ignoredKinds ?? {});
    const expected = row.problems ?? [];
    assert.is(parsed.problems.length, expected.length, JSON.stringify(parsed.problems));
    expected.forEach((want, i) => {
      const got = parsed.problems[i];
      assert.is(got.file, 'registry.yaml');
      assert.is(got.document, want.document);
      assert.is(got.field, want.field);
      assert.match(got.message, want.message);
    });
  });
}

test.run();
