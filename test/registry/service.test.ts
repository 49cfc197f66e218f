import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { load } from 'js-yaml';
import { parseService } from '../../src/registry/service';
import type { KubeServiceRecord } from '../../src/registry/types';

const REF = { file: 'svc.yaml', document: '2' };

/** A Service manifest from YAML text, so rows read like the files users write. */
function parse(yaml: string) {
  return parseService(load(yaml), REF);
}

function base(overrides: Partial<KubeServiceRecord>): KubeServiceRecord {
  const name = overrides.name ?? 'web';
  const namespace = overrides.namespace ?? 'shop';
  return {
    kind: 'Service',
    source: { file: 'svc.yaml', document: '2', kind: 'Service', namespace, name },
    name,
    namespace,
    type: 'ClusterIP',
    addresses: [],
    ports: [],
    endpoints: [],
    ...overrides,
  };
}

interface Row {
  name: string;
  yaml: string;
  record: KubeServiceRecord | undefined;
  problems?: Array<{ field: string; message: RegExp; severity?: 'warning' }>;
}

const rows: Row[] = [
  {
    name: 'clusterIP gives the address, ports default to TCP',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.0.0.5, ports: [{name: http, port: 80}]}',
    record: base({ addresses: ['10.0.0.5'], ports: [{ name: 'http', port: 80, transport: 'tcp' }] }),
  },
  {
    name: 'missing namespace is "default"',
    yaml: 'metadata: {name: web}\nspec: {clusterIP: 10.0.0.5}',
    record: base({ namespace: 'default', addresses: ['10.0.0.5'] }),
  },
  {
    name: 'clusterIPs (dual stack) are preferred over clusterIP',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.0.0.9, clusterIPs: [10.0.0.5, "fd00::5"]}',
    record: base({ addresses: ['10.0.0.5', 'fd00::5'] }),
  },
  {
    name: 'IPv6 addresses are written in canonical form',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {clusterIPs: ["FD00:0:0:0::0005"]}',
    record: base({ addresses: ['fd00::5'] }),
  },
  {
    name: 'clusterIP None is headless, without addresses',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {clusterIP: None, clusterIPs: [None], ports: [{name: db, port: 3306}]}',
    record: base({ type: 'Headless', ports: [{ name: 'db', port: 3306, transport: 'tcp' }] }),
  },
  {
    name: 'clusterIP None without clusterIPs is headless too',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {clusterIP: None}',
    record: base({ type: 'Headless' }),
  },
  {
    name: 'ExternalName is typed ExternalName and has no addresses',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {type: ExternalName, externalName: db.example.com, clusterIP: 10.0.0.1}',
    record: base({ type: 'ExternalName' }),
  },
  {
    name: 'LoadBalancer and NodePort are ClusterIP for DNS',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {type: LoadBalancer, clusterIP: 10.0.0.7}',
    record: base({ addresses: ['10.0.0.7'] }),
  },
  {
    name: 'an empty clusterIP (not yet assigned) gives no address and no problem',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {clusterIP: ""}',
    record: base({}),
  },
  {
    name: 'no spec at all is a ClusterIP service without addresses',
    yaml: 'metadata: {name: web, namespace: shop}',
    record: base({}),
  },
  {
    name: 'a bad IP in clusterIPs is a problem naming its index; the good one stays',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {clusterIPs: [10.0.0.5, not-an-ip]}',
    record: base({ addresses: ['10.0.0.5'] }),
    problems: [{ field: 'spec.clusterIPs[1]', message: /"not-an-ip" is not an IP address/ }],
  },
  {
    name: 'a bad clusterIP is a problem',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.0.0.256}',
    record: base({}),
    problems: [{ field: 'spec.clusterIP', message: /is not an IP address/ }],
  },
  {
    name: 'UDP and SCTP protocols map to their transports',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {ports: [{name: dns, port: 53, protocol: UDP}, {name: s, port: 9, protocol: SCTP}, {port: 10, protocol: TCP}]}',
    record: base({ ports: [{ name: 'dns', port: 53, transport: 'udp' }, { name: 's', port: 9, transport: 'sctp' }, { name: '', port: 10, transport: 'tcp' }] }),
  },
  {
    name: 'a port out of range is a problem and is dropped',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {ports: [{name: a, port: 0}, {name: b, port: 65536}, {name: c, port: 65535}, {name: d, port: "80"}]}',
    record: base({ ports: [{ name: 'c', port: 65535, transport: 'tcp' }] }),
    problems: [
      { field: 'spec.ports[0].port', message: /from 1 to 65535/ },
      { field: 'spec.ports[1].port', message: /from 1 to 65535/ },
      { field: 'spec.ports[3].port', message: /from 1 to 65535/ },
    ],
  },
  {
    name: 'an unknown protocol is a problem',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {ports: [{name: a, port: 80, protocol: tcp}]}',
    record: base({}),
    problems: [{ field: 'spec.ports[0].protocol', message: /not TCP, UDP or SCTP/ }],
  },
  {
    name: 'creationTimestamp is kept (quoted, as kubectl prints it)',
    yaml: 'metadata: {name: web, namespace: shop, creationTimestamp: "2025-01-02T03:04:05Z"}',
    record: base({ creationTimestamp: '2025-01-02T03:04:05Z' }),
  },
  {
    name: 'an unquoted creationTimestamp (a YAML timestamp) is kept as RFC 3339 text',
    yaml: 'metadata: {name: web, namespace: shop, creationTimestamp: 2025-01-02T03:04:05Z}',
    record: base({ creationTimestamp: '2025-01-02T03:04:05Z' }),
  },
  {
    name: 'a missing name drops the record',
    yaml: 'metadata: {namespace: shop}\nspec: {clusterIP: 10.0.0.5}',
    record: undefined,
    problems: [{ field: 'metadata.name', message: /is missing: a Service name is a DNS-1035 label/ }],
  },
  {
    name: 'a name that is not a DNS-1035 label (starts with a digit) drops the record',
    yaml: 'metadata: {name: 1web}',
    record: undefined,
    problems: [{ field: 'metadata.name', message: /"1web" is not valid/ }],
  },
  {
    name: 'an upper-case name drops the record',
    yaml: 'metadata: {name: Web}',
    record: undefined,
    problems: [{ field: 'metadata.name', message: /"Web" is not valid/ }],
  },
  {
    name: 'a name longer than 63 characters drops the record',
    yaml: `metadata: {name: ${'a'.repeat(64)}}`,
    record: undefined,
    problems: [{ field: 'metadata.name', message: /is not valid/ }],
  },
  {
    name: 'a bad namespace drops the record',
    yaml: 'metadata: {name: web, namespace: Shop_1}',
    record: undefined,
    problems: [{ field: 'metadata.namespace', message: /"Shop_1" is not valid/ }],
  },
  {
    name: 'no metadata drops the record',
    yaml: 'spec: {clusterIP: 10.0.0.5}',
    record: undefined,
    problems: [{ field: 'metadata', message: /metadata is missing/ }],
  },
  {
    name: 'an unknown type drops the record',
    yaml: 'metadata: {name: web}\nspec: {type: Magic}',
    record: undefined,
    problems: [{ field: 'spec.type', message: /unknown Service type "Magic"/ }],
  },
  {
    name: 'a spec that is not a mapping drops the record',
    yaml: 'metadata: {name: web}\nspec: [1]',
    record: undefined,
    problems: [{ field: 'spec', message: /must be a mapping/ }],
  },
  {
    name: 'ports that are not a list are a problem',
    yaml: 'metadata: {name: web, namespace: shop}\nspec: {ports: 80}',
    record: base({}),
    problems: [{ field: 'spec.ports', message: /must be a list/ }],
  },
  {
    name: 'a creationTimestamp that is not a timestamp is a warning and left out',
    yaml: 'metadata: {name: web, namespace: shop, creationTimestamp: 12}',
    record: base({}),
    problems: [{ field: 'metadata.creationTimestamp', message: /not a timestamp/, severity: 'warning' }],
  },
];

for (const row of rows) {
  test(row.name, () => {
    const parsed = parseService(load(row.yaml), REF);
    assert.equal(parsed.value, row.record);
    const expected = row.problems ?? [];
    assert.is(parsed.problems.length, expected.length, JSON.stringify(parsed.problems));
    expected.forEach((want, i) => {
      const got = parsed.problems[i];
      assert.equal({ file: got.file, document: got.document, field: got.field }, { file: 'svc.yaml', document: 2, field: want.field });
      assert.match(got.message, want.message);
      assert.is(got.severity, want.severity);
    });
  });
}

test('a List item reports its position in the field path (document 3, items[1].…)', () => {
  const parsed = parseService({ metadata: { name: 'web' }, spec: { clusterIPs: ['x'] } }, { file: 'list.yaml', document: '3.1' });
  assert.equal(parsed.problems.map((p) => [p.document, p.field]), [[3, 'items[1].spec.clusterIPs[0]']]);
  assert.is(parsed.value?.source.document, '3.1');
});

test('keys named after Object.prototype members are not read from the prototype', () => {
  const parsed = parse('metadata: {name: web}\nspec: {}');
  assert.equal(parsed.value?.ports, []);
  const doc = JSON.parse('{"metadata": {"name": "web", "__proto__": {"namespace": "evil"}}}') as unknown;
  assert.is(parseService(doc, REF).value?.namespace, 'default');
});

test.run();
