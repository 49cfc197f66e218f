import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { dump, loadAll } from 'js-yaml';
import { parseRegistryText } from '../../src/registry/parseFile';
import { splitDocuments } from '../../src/registry/documents';
import type { Parsed } from '../../src/problem';
import type { RegistryDocuments } from '../../src/registry/types';
import { registryFixture, sampleFixture } from './fixturePaths';

const FILE = 'fuzz.yaml';
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** What every result must satisfy, whatever the input: a Parsed value, located problems, sane records. */
function checkInvariants(result: Parsed<RegistryDocuments>): void {
  assert.ok(Array.isArray(result.problems));
  assert.ok(Array.isArray(result.value.records));
  assert.ok(Array.isArray(result.value.endpointSets));
  assert.type(result.value.ignoredKinds, 'object');
  for (const p of result.problems) {
    assert.is(p.file, FILE);
    assert.type(p.message, 'string');
    assert.ok(p.message.length > 0, 'problem without message');
    assert.ok(Number.isInteger(p.document) && (p.document as number) >= 0, `problem without document: ${JSON.stringify(p)}`);
  }
  for (const r of result.value.records) {
    assert.is(r.source.file, FILE);
    assert.ok(r.name.length > 0 && r.namespace.length > 0);
    const addresses = r.kind === 'Service' ? r.addresses : [...r.addresses, ...r.endpoints, ...Object.values(r.statusAddresses).flat()];
    for (const a of addresses) assert.ok(isIP(a) !== 0, `not an IP: ${a}`);
    for (const port of r.ports) assert.ok(Number.isInteger(port.port) && port.port >= 1 && port.port <= 65535);
    if (r.kind === 'ServiceEntry') assert.ok(r.hosts.length > 0);
  }
  for (const s of result.value.endpointSets) for (const e of s.endpoints) assert.ok(isIP(e.address) !== 0);
  for (const count of Object.values(result.value.ignoredKinds)) assert.ok(Number.isInteger(count) && count > 0);
}

function parseAndCheck(text: string): void {
  checkInvariants(parseRegistryText(text, FILE));
}

const fixtures = [
  sampleFixture('storefront.yaml'),
  sampleFixture('serviceentry-shapes.yaml'),
  sampleFixture('serviceentry-status.yaml'),
  sampleFixture('line-echo.yaml'),
  registryFixture('kubectl-get-services-serviceentries.yaml'),
  registryFixture('kubectl-get-endpointslices-endpoints.json'),
].map((f) => f.text);

/** Characters that matter to YAML and JSON structure, to make mutations bite. */
const structural = fc.constantFrom(':', '-', '[', ']', '{', '}', '#', "'", '"', '\n', '\t', ' ', '*', '&', '!', '|', '>', '---\n', '...\n', ',', '%', '@', '\\', '\u0000', '\uFEFF');

type Mutation = (text: string) => string;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.nat({ max: 200 })).map(([at, length]): Mutation => (t) => {
    const start = at % (t.length + 1);
    return t.slice(0, start) + t.slice(start + length);
  }),
  fc.tuple(fc.nat(), fc.oneof(structural, fc.string({ maxLength: 20 }))).map(([at, insert]): Mutation => (t) => {
    const start = at % (t.length + 1);
    return t.slice(0, start) + insert + t.slice(start);
  }),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]): Mutation => (t) => {
    const lines = t.split('\n');
    const i = a % lines.length;
    const j = b % lines.length;
    [lines[i], lines[j]] = [lines[j], lines[i]];
    return lines.join('\n');
  }),
  fc.tuple(fc.nat(), fc.constantFrom('10.0.0.1', '999.1.1.1', 'None', '*.x', 'a*b', '0', '-1', '70000', 'UDP', 'List', 'null', '~', '[]', '{}', 'FALSE')).map(
    ([at, word]): Mutation => (t) => {
      // Replace one scalar value: after some ": ".
      const positions = [...t.matchAll(/: /g)].map((m) => (m.index ?? 0) + 2);
      if (positions.length === 0) return t;
      const start = positions[at % positions.length];
      const end = t.indexOf('\n', start);
      return t.slice(0, start) + word + (end < 0 ? '' : t.slice(end));
    },
  ),
);

test('random strings never throw and give located problems', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => parseAndCheck(text)), { numRuns: RUNS });
  fc.assert(fc.property(fc.array(fc.oneof(structural, fc.string({ maxLength: 8 })), { maxLength: 80 }), (parts) => parseAndCheck(parts.join(''))), { numRuns: RUNS });
});

test('random JSON values, as JSON and as YAML, never throw', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
      parseAndCheck(JSON.stringify(value) ?? '');
      parseAndCheck(dump(value, { skipInvalid: true }));
    }),
    { numRuns: RUNS },
  );
});

/** Objects shaped like the manifests meshdns reads, with random values where the fields go. */
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('10.0.0.1', 'None', '2001:db8::1', '10.0.0.0/24', 'a.example.com', '*.example.com', 'DNS', 'STATIC', 'UDP', 'ExternalName', 'false'));
const listOf = (arb: fc.Arbitrary<unknown>) => fc.oneof(fc.array(arb, { maxLength: 4 }), anyValue);
const metadata = fc.record(
  {
    name: fc.oneof(fc.constantFrom('web', 'a-b', 'Bad', '1x', ''), anyValue),
    namespace: fc.oneof(fc.constantFrom('default', 'ns', 'NS'), anyValue),
    labels: fc.oneof(fc.dictionary(fc.constantFrom('kubernetes.io/service-name', 'networking.istio.io/enable-autoallocate-ip', 'app'), anyValue), anyValue),
    creationTimestamp: fc.oneof(fc.constant('2025-01-01T00:00:00Z'), anyValue),
  },
  { requiredKeys: [] },
);
const manifest = fc.record(
  {
    apiVersion: fc.constantFrom('v1', 'networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3', 'networking.istio.io/v9', 'discovery.k8s.io/v1', 'apps/v1'),
    kind: fc.constantFrom('Service', 'ServiceEntry', 'EndpointSlice', 'Endpoints', 'Deployment', 'List'),
    metadata: fc.oneof(metadata, anyValue),
    spec: fc.oneof(
      fc.record(
        {
          type: anyValue,
          clusterIP: anyValue,
          clusterIPs: listOf(anyValue),
          ports: listOf(fc.record({ name: anyValue, port: fc.oneof(fc.integer({ min: -5, max: 70000 }), anyValue), number: fc.integer({ min: -5, max: 70000 }), protocol: anyValue }, { requiredKeys: [] })),
          hosts: listOf(fc.oneof(fc.constantFrom('a.example.com', '*.x.io', '*', 'x*y', 'A.B.', ''), anyValue)),
          addresses: listOf(anyValue),
          resolution: anyValue,
          endpoints: listOf(fc.record({ address: anyValue }, { requiredKeys: [] })),
        },
        { requiredKeys: [] },
      ),
      anyValue,
    ),
    status: fc.record({ addresses: listOf(fc.record({ host: anyValue, value: anyValue }, { requiredKeys: [] })) }, { requiredKeys: [] }),
    endpoints: listOf(fc.record({ addresses: listOf(anyValue), conditions: fc.record({ ready: anyValue }, { requiredKeys: [] }), hostname: anyValue }, { requiredKeys: [] })),
    subsets: listOf(fc.record({ addresses: listOf(fc.record({ ip: anyValue, hostname: anyValue }, { requiredKeys: [] })), notReadyAddresses: listOf(anyValue) }, { requiredKeys: [] })),
    items: listOf(anyValue),
    addressType: fc.constantFrom('IPv4', 'IPv6', 'FQDN'),
  },
  { requiredKeys: ['apiVersion', 'kind'] },
);

test('random manifest-shaped objects never throw; problems carry document indices', () => {
  fc.assert(
    fc.property(fc.array(manifest, { minLength: 1, maxLength: 5 }), fc.boolean(), (docs, asList) => {
      const text = asList ? JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }) : docs.map((d) => dump(d, { skipInvalid: true })).join('---\n');
      parseAndCheck(text);
    }),
    { numRuns: RUNS },
  );
});

test('mutations of the fixture files never throw', () => {
  fc.assert(
    fc.property(fc.constantFrom(...fixtures), fc.array(mutation, { minLength: 1, maxLength: 4 }), (text, mutations) => {
      parseAndCheck(mutations.reduce((t, m) => m(t), text));
    }),
    { numRuns: RUNS },
  );
});

/**
 * The document splitter cuts YAML at `---` lines itself (so one bad document spares the others);
 * whenever js-yaml's own loadAll accepts a text, the split must give the same documents at the
 * same indices.
 */
test('the document split agrees with js-yaml loadAll wherever loadAll succeeds', () => {
  const yamlDoc = fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => dump(v, { skipInvalid: true })), fc.constantFrom('', '# only a comment\n', 'a: |\n  x\n  ---\n  y\n', '... \n', "k: 'multi\n  line'\n"));
  const separator = fc.constantFrom('---\n', '--- \n', '---\r\n', '\n---\n', '...\n---\n', '---\n# c\n');
  const generated = fc.tuple(fc.constantFrom('', '---\n', '# head\n', '%YAML 1.2\n---\n'), fc.array(fc.tuple(yamlDoc, separator), { maxLength: 5 }), fc.constantFrom('', '---\n', '\n'));
  const mutatedFixture = fc.tuple(fc.constantFrom(...fixtures.filter((t) => !t.trimStart().startsWith('{'))), fc.array(mutation, { maxLength: 3 })).map(([t, ms]) => ms.reduce((acc, m) => m(acc), t));
  fc.assert(
    fc.property(
      fc.oneof(generated.map(([head, docs, tail]) => head + docs.map(([d, s]) => d + s).join('') + tail), mutatedFixture),
      (text) => {
        let reference: unknown[];
        try {
          reference = loadAll(text);
        } catch {
          return; // loadAll refuses it: nothing to compare with.
        }
        const first = text.replace(/^\uFEFF/, '').trimStart().charAt(0);
        const listLike = reference.some((d) => typeof (d as { kind?: unknown } | null)?.kind === 'string' && String((d as { kind: string }).kind).endsWith('List'));
        if (first === '[' || first === '{' || listLike) return; // JSON arrays and lists are split further on purpose.
        const expected = reference.map((doc, i) => ({ index: String(i), doc })).filter(({ doc }) => doc !== null && doc !== undefined);
        const split = splitDocuments(text, FILE);
        assert.equal(split.problems, [], text);
        assert.equal(split.value, expected, text);
      },
    ),
    { numRuns: RUNS },
  );
});

test.run();
