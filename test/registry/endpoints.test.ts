import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { load } from 'js-yaml';
import { parseEndpointSlice, parseEndpoints } from '../../src/registry/endpoints';
import type { EndpointSet, ServiceEndpoint } from '../../src/registry/types';

const REF = { file: 'ep.yaml', document: '4' };

function set(kind: string, name: string, serviceName: string, endpoints: ServiceEndpoint[], namespace = 'db'): EndpointSet {
  return { source: { file: 'ep.yaml', document: '4', kind, namespace, name }, namespace, serviceName, endpoints };
}

function slice(body: string, labels = '{kubernetes.io/service-name: mysql}', apiVersion = 'discovery.k8s.io/v1'): unknown {
  return load(`apiVersion: ${apiVersion}\nkind: EndpointSlice\naddressType: IPv4\nmetadata: {name: mysql-abc, namespace: db, labels: ${labels}}\n${body}`);
}

function endpointsObject(body: string, metadata = '{name: mysql, namespace: db}'): unknown {
  return load(`apiVersion: v1\nkind: Endpoints\nmetadata: ${metadata}\n${body}`);
}

interface Row {
  name: string;
  parse: typeof parseEndpointSlice;
  input: unknown;
  value: EndpointSet | undefined;
  problems?: Array<{ field: string; message: RegExp; severity?: 'warning' }>;
}

const rows: Row[] = [
  {
    name: 'slice: the service-name label names the Service; ready and hostname are read',
    parse: parseEndpointSlice,
    input: slice('endpoints: [{addresses: [10.0.0.1], conditions: {ready: true}, hostname: mysql-0}, {addresses: [10.0.0.2], conditions: {ready: false}, hostname: mysql-1}]'),
    value: set('EndpointSlice', 'mysql-abc', 'mysql', [
      { address: '10.0.0.1', hostname: 'mysql-0', ready: true },
      { address: '10.0.0.2', hostname: 'mysql-1', ready: false },
    ]),
  },
  {
    name: 'slice: a missing ready condition means ready (API: unknown is ready)',
    parse: parseEndpointSlice,
    input: slice('endpoints: [{addresses: [10.0.0.1]}, {addresses: [10.0.0.2], conditions: {}}, {addresses: [10.0.0.3], conditions: {ready: null}}]'),
    value: set('EndpointSlice', 'mysql-abc', 'mysql', [
      { address: '10.0.0.1', ready: true },
      { address: '10.0.0.2', ready: true },
      { address: '10.0.0.3', ready: true },
    ]),
  },
  {
    name: 'slice: every address of an endpoint is taken, IPv6 canonical',
    parse: parseEndpointSlice,
    input: slice('endpoints: [{addresses: ["FD00::0:7", "fd00::8"]}]'),
    value: set('EndpointSlice', 'mysql-abc', 'mysql', [
      { address: 'fd00::7', ready: true },
      { address: 'fd00::8', ready: true },
    ]),
  },
  { name: 'slice: v1beta1 is read too', parse: parseEndpointSlice, input: slice('endpoints: [{addresses: [10.0.0.1]}]', undefined, 'discovery.k8s.io/v1beta1'), value: set('EndpointSlice', 'mysql-abc', 'mysql', [{ address: '10.0.0.1', ready: true }]) },
  {
    name: 'slice: another apiVersion is a problem',
    parse: parseEndpointSlice,
    input: slice('endpoints: []', undefined, 'discovery.k8s.io/v2'),
    value: undefined,
    problems: [{ field: 'apiVersion', message: /not supported/ }],
  },
  { name: 'slice: no endpoints is an empty set', parse: parseEndpointSlice, input: slice('endpoints: null'), value: set('EndpointSlice', 'mysql-abc', 'mysql', []) },
  {
    name: 'slice: an FQDN slice holds names, not IPs, and gives nothing',
    parse: parseEndpointSlice,
    input: load('apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: FQDN\nmetadata: {name: x, namespace: db, labels: {kubernetes.io/service-name: mysql}}\nendpoints: [{addresses: [db.example.com]}]'),
    value: set('EndpointSlice', 'x', 'mysql', []),
  },
  {
    name: 'slice: a bad address is a problem naming endpoints[i].addresses[j]; the others stay',
    parse: parseEndpointSlice,
    input: slice('endpoints: [{addresses: [10.0.0.1, 10.0.0.999]}]'),
    value: set('EndpointSlice', 'mysql-abc', 'mysql', [{ address: '10.0.0.1', ready: true }]),
    problems: [{ field: 'endpoints[0].addresses[1]', message: /"10.0.0.999" is not an IP address/ }],
  },
  {
    name: 'slice: a hostname that is not a DNS label is a warning and left out',
    parse: parseEndpointSlice,
    input: slice('endpoints: [{addresses: [10.0.0.1], hostname: My_Pod}]'),
    value: set('EndpointSlice', 'mysql-abc', 'mysql', [{ address: '10.0.0.1', ready: true }]),
    problems: [{ field: 'endpoints[0].hostname', message: /"My_Pod" is not a DNS-1123 label/, severity: 'warning' }],
  },
  {
    name: 'slice: without the service-name label it belongs to no Service (warning)',
    parse: parseEndpointSlice,
    input: slice('endpoints: [{addresses: [10.0.0.1]}]', '{app: mysql}'),
    value: undefined,
    problems: [{ field: 'metadata.labels[kubernetes.io/service-name]', message: /belong to no Service/, severity: 'warning' }],
  },
  {
    name: 'slice: missing namespace is "default"',
    parse: parseEndpointSlice,
    input: load('apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, labels: {kubernetes.io/service-name: web}}\nendpoints: [{addresses: [10.0.0.1]}]'),
    value: set('EndpointSlice', 's', 'web', [{ address: '10.0.0.1', ready: true }], 'default'),
  },
  {
    name: 'Endpoints: addresses are ready, notReadyAddresses are not; hostnames kept',
    parse: parseEndpoints,
    input: endpointsObject('subsets: [{addresses: [{ip: 10.0.0.1, hostname: mysql-0}], notReadyAddresses: [{ip: 10.0.0.2, hostname: mysql-1}]}, {addresses: [{ip: 10.0.0.3}]}]'),
    value: set('Endpoints', 'mysql', 'mysql', [
      { address: '10.0.0.1', hostname: 'mysql-0', ready: true },
      { address: '10.0.0.2', hostname: 'mysql-1', ready: false },
      { address: '10.0.0.3', ready: true },
    ]),
  },
  { name: 'Endpoints: no subsets is an empty set', parse: parseEndpoints, input: endpointsObject(''), value: set('Endpoints', 'mysql', 'mysql', []) },
  {
    name: 'Endpoints: a bad ip is a problem naming subsets[i].addresses[j].ip',
    parse: parseEndpoints,
    input: endpointsObject('subsets: [{addresses: [{ip: 10.0.0.1}, {ip: nope}]}]'),
    value: set('Endpoints', 'mysql', 'mysql', [{ address: '10.0.0.1', ready: true }]),
    problems: [{ field: 'subsets[0].addresses[1].ip', message: /"nope" is not an IP address/ }],
  },
  {
    name: 'Endpoints: a name that cannot be a Service name drops the set',
    parse: parseEndpoints,
    input: endpointsObject('subsets: []', '{name: my.service}'),
    value: undefined,
    problems: [{ field: 'metadata.name', message: /is not valid/ }],
  },
];

for (const row of rows) {
  test(row.name, () => {
    const parsed = row.parse(row.input, REF);
    assert.equal(parsed.value, row.value);
    const expected = row.problems ?? [];
    assert.is(parsed.problems.length, expected.length, JSON.stringify(parsed.problems));
    expected.forEach((want, i) => {
      const got = parsed.problems[i];
      assert.equal({ file: got.file, document: got.document, field: got.field }, { file: 'ep.yaml', document: 4, field: want.field });
      assert.match(got.message, want.message);
      assert.is(got.severity, want.severity);
    });
  });
}

test.run();
