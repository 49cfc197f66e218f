import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Problem, formatProblem } from '../../src/problem';
import { parseMeshConfig } from '../../src/config';
import { readFixture } from './fixture';

const show = (problems: Problem[]): string => problems.map(formatProblem).join('\n');

test('istioctl mesh.yaml: namespace, capture and auto-allocate from proxyMetadata', () => {
  const parsed = parseMeshConfig(readFixture('mesh.yaml'), 'mesh.yaml');
  assert.equal(parsed.problems, [], show(parsed.problems));
  assert.equal(parsed.value, { namespace: 'vm-namespace', dnsCapture: true, dnsAutoAllocate: true });
});

// [what it proves, yaml, expected]
const GOOD: Array<[string, string, object]> = [
  ['empty file sets nothing', '', {}],
  ['comment-only file sets nothing', '# nothing\n', {}],
  ['no defaultConfig', 'accessLogFile: /dev/stdout\n', {}],
  ['defaultConfig without proxyMetadata', 'defaultConfig:\n  discoveryAddress: istiod:15012\n', {}],
  ['empty proxyMetadata', 'defaultConfig:\n  proxyMetadata: {}\n', {}],
  ['null proxyMetadata', 'defaultConfig:\n  proxyMetadata:\n', {}],
  ['YAML boolean values', 'defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: false\n    ISTIO_META_DNS_AUTO_ALLOCATE: true\n', { dnsCapture: false, dnsAutoAllocate: true }],
  ['quoted string values', 'defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "False"\n', { dnsCapture: false }],
  ['number values 1/0', 'defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: 1\n    ISTIO_META_DNS_AUTO_ALLOCATE: 0\n', { dnsCapture: true, dnsAutoAllocate: false }],
  ['ISTIO_NAMESPACE when POD_NAMESPACE absent', 'defaultConfig:\n  proxyMetadata:\n    ISTIO_NAMESPACE: other\n', { namespace: 'other' }],
  ['ISTIO_NAMESPACE wins', 'defaultConfig:\n  proxyMetadata:\n    ISTIO_NAMESPACE: other\n    POD_NAMESPACE: mine\n', { namespace: 'other' }],
  ['defaultServiceExportTo and discoverySelectors', 'defaultServiceExportTo: ["."]\ndiscoverySelectors:\n- matchLabels: {istio-discovery: enabled}\n- matchExpressions: [{key: env, operator: In, values: [prod]}]\n', { defaultServiceExportTo: ['.'], discoverySelectors: [{ matchLabels: { 'istio-discovery': 'enabled' }, matchExpressions: [] }, { matchLabels: {}, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }] }],
  ['other mesh keys ignored silently', 'trustDomain: x\nenableTracing: true\ndefaultConfig:\n  tracing: {zipkin: {address: z:9411}}\n  proxyMetadata:\n    FOO: {nested: map}\n    ISTIO_META_DNS_CAPTURE: "true"\n', { dnsCapture: true }],
  ['CRLF file', 'defaultConfig:\r\n  proxyMetadata:\r\n    POD_NAMESPACE: crlf\r\n', { namespace: 'crlf' }],
  ['istio ConfigMap with data.mesh', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\ndata:\n  mesh: |\n    defaultConfig:\n      proxyMetadata:\n        ISTIO_META_DNS_AUTO_ALLOCATE: "false"\n', { dnsAutoAllocate: false }],
  ['ConfigMap without data.mesh', 'kind: ConfigMap\ndata: {}\n', {}],
];
for (const [name, yaml, expected] of GOOD) {
  test(`good: ${name}`, () => {
    const parsed = parseMeshConfig(yaml, 'mesh');
    assert.equal(parsed.problems, [], show(parsed.problems));
    assert.equal(parsed.value, expected);
  });
}

// [what it proves, yaml, expected value, field named, word in the message]
const BAD: Array<[string, string, object, string | undefined, string]> = [
  ['YAML syntax error', 'defaultConfig: [\n', {}, undefined, 'invalid YAML'],
  ['top level a list', '- a\n', {}, undefined, 'must be a map'],
  ['defaultConfig not a map', 'defaultConfig: yes\n', {}, 'defaultConfig', 'must be a map'],
  ['proxyMetadata a list', 'defaultConfig:\n  proxyMetadata: [a]\n', {}, 'defaultConfig.proxyMetadata', 'must be a map'],
  ['capture not a boolean word', 'defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: sometimes\n    POD_NAMESPACE: ns\n', { namespace: 'ns' }, 'defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE', 'expected true/false'],
  ['used variable given a map', 'defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_AUTO_ALLOCATE: {a: b}\n', {}, 'defaultConfig.proxyMetadata.ISTIO_META_DNS_AUTO_ALLOCATE', 'expected a string'],
  ['bad namespace', 'defaultConfig:\n  proxyMetadata:\n    POD_NAMESPACE: "No Spaces"\n', {}, 'defaultConfig.proxyMetadata.POD_NAMESPACE', 'namespace'],
  ['ConfigMap data.mesh not a string', 'kind: ConfigMap\ndata:\n  mesh: {a: 1}\n', {}, 'data.mesh', 'YAML string'],
  ['ConfigMap data.mesh broken YAML', 'kind: ConfigMap\ndata:\n  mesh: "a: [\\n"\n', {}, 'data.mesh', 'invalid YAML'],
  ['ConfigMap inner proxyMetadata field named with data.mesh', 'kind: ConfigMap\ndata:\n  mesh: "defaultConfig: {proxyMetadata: {ISTIO_META_DNS_CAPTURE: x}}"\n', {}, 'data.mesh.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE', 'expected'],
];
for (const [name, yaml, expected, field, word] of BAD) {
  test(`bad: ${name}`, () => {
    const parsed = parseMeshConfig(yaml, 'mesh');
    assert.is(parsed.problems.length, 1, show(parsed.problems));
    const [p] = parsed.problems;
    assert.is(p.file, 'mesh');
    assert.is(p.field, field);
    assert.ok(p.message.includes(word), p.message);
    assert.equal(parsed.value, expected);
  });
}

test.run();
