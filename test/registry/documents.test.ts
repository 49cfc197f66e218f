import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadAll } from 'js-yaml';
import { splitDocuments } from '../../src/registry/documents';
import { registryFixture, sampleFixture } from './fixturePaths';

const FILE = '/etc/meshdns/registry.d/test.yaml';

interface Row {
  name: string;
  text: string;
  docs: Array<{ index: string; doc: unknown }>;
  /** Expected problems: document index and a fragment of the message (and the field, if any). */
  problems?: Array<{ document: number; message: RegExp; field?: string }>;
}

const rows: Row[] = [
  { name: 'a single document is document 0', text: 'a: 1\n', docs: [{ index: '0', doc: { a: 1 } }] },
  {
    name: 'multi-document YAML counts documents from 0',
    text: 'a: 1\n---\nb: 2\n---\nc: 3\n',
    docs: [{ index: '0', doc: { a: 1 } }, { index: '1', doc: { b: 2 } }, { index: '2', doc: { c: 3 } }],
  },
  { name: 'a leading --- does not make an empty document 0', text: '---\na: 1\n---\nb: 2\n', docs: [{ index: '0', doc: { a: 1 } }, { index: '1', doc: { b: 2 } }] },
  { name: 'comments before the first --- belong to document 0', text: '# licence\n# more\n---\na: 1\n', docs: [{ index: '0', doc: { a: 1 } }] },
  { name: 'a trailing --- adds nothing', text: 'a: 1\n---\n', docs: [{ index: '0', doc: { a: 1 } }] },
  { name: 'a trailing --- with comments adds nothing', text: 'a: 1\n---\n# end\n', docs: [{ index: '0', doc: { a: 1 } }] },
  {
    name: 'empty documents are skipped but keep their index',
    text: 'a: 1\n---\n---\n# only a comment\n---\nb: 2\n',
    docs: [{ index: '0', doc: { a: 1 } }, { index: '3', doc: { b: 2 } }],
  },
  { name: 'an empty file has no documents', text: '', docs: [] },
  { name: 'a file of comments has no documents', text: '# nothing here\n\n', docs: [] },
  { name: 'the ... end marker ends a document', text: 'a: 1\n...\n---\nb: 2\n', docs: [{ index: '0', doc: { a: 1 } }, { index: '1', doc: { b: 2 } }] },
  { name: 'CRLF line endings work', text: 'a: 1\r\n---\r\nb: 2\r\n', docs: [{ index: '0', doc: { a: 1 } }, { index: '1', doc: { b: 2 } }] },
  { name: 'a byte order mark is ignored', text: '\uFEFFa: 1\n', docs: [{ index: '0', doc: { a: 1 } }] },
  { name: '--- inside an indented block scalar is text, not a marker', text: 'a: |\n  x\n  ---\n  y\n', docs: [{ index: '0', doc: { a: 'x\n---\ny\n' } }] },
  { name: 'content on the --- line belongs to that document', text: 'a: 1\n--- {b: 2}\n', docs: [{ index: '0', doc: { a: 1 } }, { index: '1', doc: { b: 2 } }] },
  {
    name: 'a YAML syntax error in document 2 keeps documents 0 and 1 (and later ones)',
    text: 'a: 1\n---\nb: 2\n---\nc: [1, 2\nd: 4\n---\ne: 5\n',
    docs: [{ index: '0', doc: { a: 1 } }, { index: '1', doc: { b: 2 } }, { index: '3', doc: { e: 5 } }],
    problems: [{ document: 2, message: /^YAML syntax error at line \d+, column \d+: / }],
  },
  {
    name: 'a YAML error names the line in the whole file, not in the document',
    text: 'a: 1\n---\nb: 2\n---\nc: 1\n  bad indentation: 2\n',
    docs: [{ index: '0', doc: { a: 1 } }, { index: '1', doc: { b: 2 } }],
    problems: [{ document: 2, message: /^YAML syntax error at line 6, column \d+: bad indentation/ }],
  },
  {
    name: 'duplicate keys are a syntax problem',
    text: 'a: 1\na: 2\n',
    docs: [],
    problems: [{ document: 0, message: /duplicated mapping key/ }],
  },
  { name: 'JSON object is one document', text: '  {"a": 1}\n', docs: [{ index: '0', doc: { a: 1 } }] },
  { name: 'a JSON array is one document per element', text: '[{"a": 1}, null, {"b": 2}]', docs: [{ index: '0', doc: { a: 1 } }, { index: '2', doc: { b: 2 } }] },
  {
    name: 'a JSON syntax error names line and column',
    text: '{\n  "a": 1,\n  "b" 2\n}\n',
    docs: [],
    problems: [{ document: 0, message: /^JSON syntax error at line 3, column 7: / }],
  },
  {
    name: 'truncated JSON points at the end',
    text: '{\n  "a": [1,\n',
    docs: [],
    problems: [{ document: 0, message: /^JSON syntax error at line 3, column 1: / }],
  },
  { name: 'flow-style YAML that is not JSON is still read as YAML', text: '{a: 1}\n---\n{b: 2}\n', docs: [{ index: '0', doc: { a: 1 } }, { index: '1', doc: { b: 2 } }] },
  {
    name: 'kind: List is flattened into its items as "doc.item"',
    text: 'x: 0\n---\napiVersion: v1\nkind: List\nitems:\n- {kind: A, apiVersion: v1}\n- {kind: B, apiVersion: v1}\n',
    docs: [{ index: '0', doc: { x: 0 } }, { index: '1.0', doc: { kind: 'A', apiVersion: 'v1' } }, { index: '1.1', doc: { kind: 'B', apiVersion: 'v1' } }],
  },
  {
    name: 'a typed list (ServiceList) gives its items kind and apiVersion when they lack them',
    text: 'apiVersion: v1\nkind: ServiceList\nitems:\n- metadata: {name: a}\n- {kind: Service, apiVersion: v1, metadata: {name: b}}\n',
    docs: [
      { index: '0.0', doc: { kind: 'Service', metadata: { name: 'a' }, apiVersion: 'v1' } },
      { index: '0.1', doc: { kind: 'Service', apiVersion: 'v1', metadata: { name: 'b' } } },
    ],
  },
  { name: 'an empty List gives nothing', text: 'apiVersion: v1\nkind: List\nitems: []\n', docs: [] },
  { name: 'null list items are skipped but keep their index', text: 'kind: List\nitems:\n- null\n- {a: 1}\n', docs: [{ index: '0.1', doc: { a: 1 } }] },
  {
    name: 'a List whose items are not a list is a problem',
    text: 'kind: List\nitems: 3\n',
    docs: [],
    problems: [{ document: 0, field: 'items', message: /not a list/ }],
  },
  {
    name: 'a List inside a List is a problem naming the item',
    text: 'kind: List\nitems:\n- {a: 1}\n- {kind: List, items: []}\n',
    docs: [{ index: '0.0', doc: { a: 1 } }],
    problems: [{ document: 0, field: 'items[1]', message: /List inside a List/ }],
  },
  { name: 'a kind ending in List without items is a plain document', text: 'kind: PlayList\nspec: {}\n', docs: [{ index: '0', doc: { kind: 'PlayList', spec: {} } }] },
  { name: 'unquoted timestamps stay values (Date), not errors', text: 't: 2024-01-02T03:04:05Z\n', docs: [{ index: '0', doc: { t: new Date('2024-01-02T03:04:05Z') } }] },
  { name: 'JS-specific YAML tags are refused (safe schema)', text: 'a: !!js/function "function(){}"\n', docs: [], problems: [{ document: 0, message: /unknown tag/ }] },
];

for (const row of rows) {
  test(row.name, () => {
    const parsed = splitDocuments(row.text, FILE);
    assert.equal(parsed.value, row.docs);
    const expected = row.problems ?? [];
    assert.is(parsed.problems.length, expected.length, JSON.stringify(parsed.problems));
    expected.forEach((want, i) => {
      const got = parsed.problems[i];
      assert.is(got.file, FILE);
      assert.is(got.document, want.document);
      assert.is(got.field, want.field);
      assert.match(got.message, want.message);
    });
  });
}

test('document indices match js-yaml loadAll on the sample manifests and the List fixture', () => {
  for (const { file, text } of [sampleFixture('storefront.yaml'), sampleFixture('serviceentry-shapes.yaml'), sampleFixture('line-echo.yaml'), registryFixture('kubectl-get-services-serviceentries.yaml')]) {
    const reference = loadAll(text)
      .map((doc, index) => ({ index: String(index), doc }))
      .filter(({ doc }) => doc !== null && doc !== undefined)
      .flatMap(({ index, doc }) => {
        const items = (doc as { kind?: unknown; items?: unknown }).kind === 'List' ? ((doc as { items: unknown[] }).items) : undefined;
        return items === undefined ? [{ index, doc }] : items.map((item, i) => ({ index: `${index}.${i}`, doc: item }));
      });
    const parsed = splitDocuments(text, file);
    assert.equal(parsed.problems, []);
    assert.equal(parsed.value, reference, file);
  }
});

test('storefront.yaml has 14 documents (4 Services, 4 ServiceAccounts, 6 Deployments) indexed 0..13', () => {
  const { file, text } = sampleFixture('storefront.yaml');
  const parsed = splitDocuments(text, file);
  assert.equal(
    parsed.value.map((d) => d.index),
    Array.from({ length: 14 }, (_, i) => String(i)),
  );
});

test.run();
