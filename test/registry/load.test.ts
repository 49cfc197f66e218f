import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isIgnoredName, listRegistryFiles, readRegistryFile } from '../../src/registry/load';

/** A fresh directory tree per test: `files` maps relative paths to contents. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'meshdns-registry-'));
  for (const [relative, content] of Object.entries(files)) {
    const full = join(root, relative);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return root;
}

const roots: string[] = [];
function withTree(files: Record<string, string>): string {
  const root = tree(files);
  roots.push(root);
  return root;
}
test.after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

const rel = (root: string, files: string[]) => files.map((f) => f.slice(root.length + 1));

test('a directory is walked recursively in name order, taking *.yaml, *.yml, *.json', async () => {
  const root = withTree({ 'b.yaml': '', 'a.yml': '', 'c.json': '', 'z/1.yaml': '', 'm/n/deep.YAML': '', 'readme.md': '', 'notes.txt': '', 'B.yaml': '' });
  const list = await listRegistryFiles([root]);
  assert.equal(rel(root, list.files), ['B.yaml', 'a.yml', 'b.yaml', 'c.json', 'm/n/deep.YAML', 'z/1.yaml']);
  assert.equal(list.hostsFiles, []);
  assert.equal(list.problems, []);
});

test('*.hosts files are listed apart', async () => {
  const root = withTree({ 'svc.yaml': '', 'pinned.hosts': '', 'sub/more.hosts': '' });
  const list = await listRegistryFiles([root]);
  assert.equal(rel(root, list.files), ['svc.yaml']);
  assert.equal(rel(root, list.hostsFiles), ['pinned.hosts', 'sub/more.hosts']);
});

test('hidden files and directories and editor leftovers are skipped', async () => {
  const root = withTree({
    'ok.yaml': '',
    '.hidden.yaml': '',
    '.git/config.yaml': '',
    '.#ok.yaml': '',
    'ok.yaml~': '',
    '#ok.yaml#': '',
    'ok.yaml.swp': '',
    'x.swp': '',
    'ok.yaml.tmp': '',
    'y.tmp': '',
    'ok.yaml.dpkg-new': '',
  });
  const list = await listRegistryFiles([root]);
  assert.equal(rel(root, list.files), ['ok.yaml']);
});

const ignoredNames: Array<[string, boolean]> = [
  ['svc.yaml', false],
  ['.svc.yaml', true],
  ['.#svc.yaml', true],
  ['svc.yaml~', true],
  ['svc.swp', true],
  ['svc.tmp', true],
  ['#svc.yaml#', true],
  ['..data', true],
];
for (const [name, ignored] of ignoredNames) {
  test(`isIgnoredName(${JSON.stringify(name)}) is ${ignored}`, () => assert.is(isIgnoredName(name), ignored));
}

test('a missing path is not an error', async () => {
  const root = withTree({ 'a.yaml': '' });
  const list = await listRegistryFiles([join(root, 'nope'), join(root, 'nope.yaml'), join(root, 'a.yaml', 'below-a-file.yaml'), root]);
  assert.equal(rel(root, list.files), ['a.yaml']);
  assert.equal(list.problems, []);
});

test('a file named directly is taken whatever its extension; a named .hosts file is a hosts file', async () => {
  const root = withTree({ 'registry.txt': '', 'extra.hosts': '' });
  const list = await listRegistryFiles([join(root, 'registry.txt'), join(root, 'extra.hosts')]);
  assert.equal(rel(root, list.files), ['registry.txt']);
  assert.equal(rel(root, list.hostsFiles), ['extra.hosts']);
});

test('paths keep the order given; a file reached twice is listed once', async () => {
  const root = withTree({ 'd1/b.yaml': '', 'd2/a.yaml': '' });
  const list = await listRegistryFiles([join(root, 'd2'), join(root, 'd1'), join(root, 'd2', 'a.yaml'), root]);
  assert.equal(rel(root, list.files), ['d2/a.yaml', 'd1/b.yaml']);
});

test('a ConfigMap mount (..data symlinks) lists each file once, under its visible name', async () => {
  const root = withTree({ '..2025_10_01/svc.yaml': 'a: 1', '..2025_10_01/pins.hosts': '' });
  symlinkSync('..2025_10_01', join(root, '..data'));
  symlinkSync(join('..data', 'svc.yaml'), join(root, 'svc.yaml'));
  symlinkSync(join('..data', 'pins.hosts'), join(root, 'pins.hosts'));
  const list = await listRegistryFiles([root]);
  assert.equal(rel(root, list.files), ['svc.yaml']);
  assert.equal(rel(root, list.hostsFiles), ['pins.hosts']);
});

test('a symlink loop does not hang the walk; a dangling symlink is skipped', async () => {
  const root = withTree({ 'sub/a.yaml': '' });
  symlinkSync('..', join(root, 'sub', 'loop'));
  symlinkSync('missing.yaml', join(root, 'dangling.yaml'));
  const list = await listRegistryFiles([root]);
  assert.equal(rel(root, list.files), ['sub/a.yaml']);
  assert.equal(list.problems, []);
});

test('a path that cannot be read (not merely missing) is a problem naming it', async () => {
  const tooLong = join(tmpdir(), 'x'.repeat(300));
  const list = await listRegistryFiles([tooLong]);
  assert.equal(list.files, []);
  assert.is(list.problems.length, 1);
  assert.is(list.problems[0].file, tooLong);
  assert.match(list.problems[0].message, /cannot read this registry path/);
});

test('readRegistryFile parses a file', async () => {
  const root = withTree({ 'svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.0.0.1}\n---\napiVersion: v1\nkind: Pod\n' });
  const file = join(root, 'svc.yaml');
  const parsed = await readRegistryFile(file);
  assert.equal(parsed.problems, []);
  assert.equal(parsed.value.records.map((r) => [r.source.file, r.namespace, r.name]), [[file, 'shop', 'web']]);
  assert.equal(parsed.value.ignoredKinds, { 'v1/Pod': 1 });
});

test('readRegistryFile of a file that vanished is empty, without problems', async () => {
  const parsed = await readRegistryFile(join(tmpdir(), 'meshdns-does-not-exist', 'x.yaml'));
  assert.equal(parsed, { value: { records: [], endpointSets: [], ignoredKinds: {} }, problems: [] });
});

test('readRegistryFile of a directory is a problem naming it', async () => {
  const root = withTree({ 'd.yaml/inner.yaml': '' });
  const parsed = await readRegistryFile(join(root, 'd.yaml'));
  assert.is(parsed.problems.length, 1);
  assert.is(parsed.problems[0].file, join(root, 'd.yaml'));
  assert.match(parsed.problems[0].message, /cannot read this registry file/);
});

test('readRegistryFile reports a broken document with file and document index', async () => {
  const root = withTree({ 'x.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n---\nkind: [\n' });
  const file = join(root, 'x.yaml');
  const parsed = await readRegistryFile(file);
  assert.equal(parsed.value.records.map((r) => r.name), ['ok']);
  assert.equal(parsed.problems.map((p) => [p.file, p.document]), [[file, 1]]);
});

test.run();
