// The registry fields issue 17 reads: spec.exportTo, the networking.istio.io/exportTo annotation,
// resolution DYNAMIC_DNS, v1 Namespace labels and the file's cluster marker.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRegistryText } from '../../src/registry';
import { formatProblem } from '../../src/problem';

const SE = (spec: string): string => `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: e, namespace: team-a}\nspec: ${spec}\n`;

test('ServiceEntry spec.exportTo is kept; absent when not set', () => {
  const parsed = parseRegistryText(SE('{hosts: [a.example], exportTo: [".", vm-ns]}') + '---\n' + SE('{hosts: [b.example]}'), 'r.yaml');
  assert.equal(parsed.problems, []);
  assert.equal(parsed.value.records[0].exportTo, ['.', 'vm-ns']);
  assert.not.ok('exportTo' in parsed.value.records[1]);
});

test('a bad exportTo item is an error naming the field; the rest is kept', () => {
  const parsed = parseRegistryText(SE('{hosts: [a.example], exportTo: ["*", "Not A Namespace"]}'), 'r.yaml');
  assert.equal(parsed.problems.map((p) => formatProblem(p)), ['r.yaml:0:spec.exportTo[1]: "Not A Namespace" is not ".", "*", "~" or a namespace name']);
  assert.equal(parsed.value.records[0].exportTo, ['*']);
});

test('the Service annotation is split at commas', () => {
  const text = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: team-a\n  annotations: {networking.istio.io/exportTo: " team-b ,vm-ns"}\nspec: {clusterIP: 10.0.0.1}\n';
  const parsed = parseRegistryText(text, 'r.yaml');
  assert.equal(parsed.problems, []);
  assert.equal(parsed.value.records[0].exportTo, ['team-b', 'vm-ns']);
});

test('resolution DYNAMIC_DNS is accepted', () => {
  const parsed = parseRegistryText(SE('{hosts: [d.example], addresses: [10.0.0.9], resolution: DYNAMIC_DNS}'), 'r.yaml');
  assert.equal(parsed.problems, []);
  assert.is(parsed.value.records.length, 1);
  assert.is(parsed.value.records[0].kind === 'ServiceEntry' && parsed.value.records[0].resolution, 'DYNAMIC_DNS');
});

test('Namespace objects give their labels; the cluster marker names the file\'s cluster', () => {
  const text = '# exported from the west cluster\n# meshdns: cluster=west\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio-discovery: enabled, tier: 1}}\n';
  const parsed = parseRegistryText(text, 'r.yaml');
  assert.equal(parsed.problems, []);
  assert.is(parsed.value.cluster, 'west');
  assert.equal(parsed.value.namespaces?.map((n) => [n.name, n.labels]), [['shop', { 'istio-discovery': 'enabled', tier: '1' }]]);
  assert.is(parseRegistryText('apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n# meshdns: cluster=late\n', 'r.yaml').value.cluster, undefined, 'only the opening comments count');
});

test.run();
