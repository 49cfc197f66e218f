import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attachEndpoints } from '../../src/registry/attach';
import type { EndpointSet, KubeServiceRecord, ServiceEndpoint, ServiceEntryRecord, ServiceRecord } from '../../src/registry/types';

function service(name: string, namespace: string, endpoints: ServiceEndpoint[] = []): KubeServiceRecord {
  return {
    kind: 'Service',
    source: { file: 'f', document: '0', kind: 'Service', namespace, name },
    name,
    namespace,
    type: 'Headless',
    addresses: [],
    ports: [],
    endpoints,
  };
}

const entry: ServiceEntryRecord = {
  kind: 'ServiceEntry',
  source: { file: 'f', document: '1', kind: 'ServiceEntry', namespace: 'db', name: 'mysql' },
  name: 'mysql',
  namespace: 'db',
  hosts: ['mysql'],
  addresses: [],
  statusAddresses: {},
  resolution: 'STATIC',
  endpoints: ['10.9.9.9'],
  ports: [],
  autoAllocate: true,
};

function endpointSet(namespace: string, serviceName: string, endpoints: ServiceEndpoint[], name = serviceName): EndpointSet {
  return { source: { file: 'e', document: '0', kind: 'EndpointSlice', namespace, name }, namespace, serviceName, endpoints };
}

interface Row {
  name: string;
  records: ServiceRecord[];
  sets: EndpointSet[];
  expected: ServiceRecord[];
}

const a = { address: '10.0.0.1', hostname: 'mysql-0', ready: true };
const b = { address: '10.0.0.2', hostname: 'mysql-1', ready: false };
const c = { address: '10.0.0.3', ready: true };

const rows: Row[] = [
  { name: 'a set attaches to the Service of the same namespace and name', records: [service('mysql', 'db')], sets: [endpointSet('db', 'mysql', [a, b])], expected: [service('mysql', 'db', [a, b])] },
  { name: 'a set of another namespace does not attach', records: [service('mysql', 'db')], sets: [endpointSet('other', 'mysql', [a])], expected: [service('mysql', 'db')] },
  { name: 'a set of another service does not attach', records: [service('mysql', 'db')], sets: [endpointSet('db', 'postgres', [a])], expected: [service('mysql', 'db')] },
  {
    name: 'several slices of one service are merged in order',
    records: [service('mysql', 'db')],
    sets: [endpointSet('db', 'mysql', [a], 'mysql-1'), endpointSet('db', 'mysql', [b, c], 'mysql-2')],
    expected: [service('mysql', 'db', [a, b, c])],
  },
  {
    name: 'an address in a slice and in the Endpoints object appears once',
    records: [service('mysql', 'db')],
    sets: [endpointSet('db', 'mysql', [a, b]), { ...endpointSet('db', 'mysql', [a, b]), source: { file: 'e', document: '1', kind: 'Endpoints', namespace: 'db', name: 'mysql' } }],
    expected: [service('mysql', 'db', [a, b])],
  },
  {
    name: 'a duplicate is ready if any copy is ready, and keeps the first hostname given',
    records: [service('mysql', 'db')],
    sets: [endpointSet('db', 'mysql', [{ address: '10.0.0.2', ready: false }]), endpointSet('db', 'mysql', [{ address: '10.0.0.2', hostname: 'mysql-1', ready: true }])],
    expected: [service('mysql', 'db', [{ address: '10.0.0.2', hostname: 'mysql-1', ready: true }])],
  },
  { name: 'a ServiceEntry of the same name is left alone', records: [entry], sets: [endpointSet('db', 'mysql', [a])], expected: [entry] },
  { name: 'no sets: Services come back unchanged in content', records: [service('mysql', 'db', [a])], sets: [], expected: [service('mysql', 'db', [a])] },
];

for (const row of rows) {
  test(row.name, () => {
    assert.equal(attachEndpoints(row.records, row.sets), row.expected);
  });
}

test('pure: neither the records nor the sets are changed', () => {
  const records = [service('mysql', 'db', [{ address: '10.0.0.2', ready: false }])];
  const sets = [endpointSet('db', 'mysql', [{ address: '10.0.0.2', hostname: 'h', ready: true }, c])];
  const before = JSON.stringify({ records, sets });
  const result = attachEndpoints(records, sets);
  assert.is(JSON.stringify({ records, sets }), before);
  assert.is.not(result[0], records[0]);
  assert.is((result[0] as KubeServiceRecord).endpoints.length, 2);
});

test.run();
