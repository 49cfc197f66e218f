// The input store keeps each file's last good content (docs/ARCHITECTURE.md §1).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputStore, nextSlot, buildTableFromSnapshot } from '../../src/inputs';

const good = (host: string, ip: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x, namespace: n}\nspec: {hosts: [${host}], addresses: [${ip}]}\n`;
const broken = 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x, namespace: n}\nspec: {hosts: [b.internal], addresses: [nope]}\n';

function setup(): { dir: string; store: InputStore; reg: string } {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-store-'));
  mkdirSync(join(dir, 'r'));
  writeFileSync(join(dir, 'm.yaml'), 'registry: [./r]\nresolvConf: {path: ./resolv.conf, manage: "false"}\nstateDir: ./s\nbootstrap: {clusterEnv: ./cluster.env, meshConfig: ./mesh.yaml, hosts: ./hosts}\n');
  return { dir, store: new InputStore({ settingsFile: join(dir, 'm.yaml') }), reg: join(dir, 'r') };
}

const names = (snap: Awaited<ReturnType<InputStore['load']>>): string[] =>
  [...buildTableFromSnapshot(snap, {}).table.entries()].map((e) => `${e.name}=${e.v4.join(',')}`).sort();

test('a broken file keeps its last good content; the other files are unaffected', async () => {
  const { dir, store, reg } = setup();
  try {
    writeFileSync(join(reg, 'a.yaml'), good('a.internal', '10.0.0.1'));
    writeFileSync(join(reg, 'b.yaml'), good('b.internal', '10.0.0.2'));
    assert.equal(names(await store.load()), ['a.internal=10.0.0.1', 'b.internal=10.0.0.2']);
    writeFileSync(join(reg, 'b.yaml'), broken);
    writeFileSync(join(reg, 'a.yaml'), good('a.internal', '10.0.0.9'));
    const snap = await store.load();
    assert.equal(names(snap), ['a.internal=10.0.0.9', 'b.internal=10.0.0.2']);
    assert.is(snap.registry.get(join(reg, 'b.yaml'))?.stale, true);
    assert.ok(snap.problems.some((p) => p.file === join(reg, 'b.yaml') && p.field === 'spec.addresses[0]'));
    writeFileSync(join(reg, 'b.yaml'), good('b.internal', '10.0.0.3'));
    assert.equal(names(await store.load()), ['a.internal=10.0.0.9', 'b.internal=10.0.0.3']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('broken at first sight: what did parse is served', async () => {
  const { dir, store, reg } = setup();
  try {
    writeFileSync(join(reg, 'mixed.yaml'), good('ok.internal', '10.0.0.1') + '---\n' + broken);
    const snap = await store.load();
    assert.equal(names(snap), ['ok.internal=10.0.0.1']);
    assert.is(snap.problems.length > 0, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing files are not errors; a deleted file drops its names', async () => {
  const { dir, store, reg } = setup();
  try {
    const empty = await store.load();
    assert.equal(empty.problems, []);
    writeFileSync(join(reg, 'a.yaml'), good('a.internal', '10.0.0.1'));
    assert.equal(names(await store.load()), ['a.internal=10.0.0.1']);
    unlinkSync(join(reg, 'a.yaml'));
    assert.equal(names(await store.load()), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a broken settings file keeps the running settings', async () => {
  const { dir, store } = setup();
  try {
    writeFileSync(join(dir, 'm.yaml'), 'registry: [./r]\nresolvConf: {path: ./resolv.conf, manage: "false"}\nstateDir: ./s\nttl: 7\nbootstrap: {clusterEnv: ./cluster.env, meshConfig: ./mesh.yaml, hosts: ./hosts}\n');
    assert.is((await store.load()).settings.ttl, 7);
    writeFileSync(join(dir, 'm.yaml'), 'ttl: [\n');
    const snap = await store.load();
    assert.is(snap.settings.ttl, 7);
    assert.ok(snap.problems.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const slotRows: Array<[string, Parameters<typeof nextSlot<number>>, { value: number | undefined; stale: boolean }]> = [
  ['clean parse replaces', [{ value: 1, problems: [], stale: false, exists: true }, { value: 2, problems: [] }], { value: 2, stale: false }],
  ['broken parse keeps previous', [{ value: 1, problems: [], stale: false, exists: true }, { value: 2, problems: [{ file: 'f', message: 'm' }] }], { value: 1, stale: true }],
  ['still broken stays on the last good', [{ value: 1, problems: [{ file: 'f', message: 'm' }], stale: true, exists: true }, { value: 3, problems: [{ file: 'f', message: 'm2' }] }], { value: 1, stale: true }],
  ['warnings do not count as broken', [{ value: 1, problems: [], stale: false, exists: true }, { value: 2, problems: [{ file: 'f', message: 'w', severity: 'warning' }] }], { value: 2, stale: false }],
  ['read error keeps previous', [{ value: 1, problems: [], stale: false, exists: true }, undefined, { file: 'f', message: 'EACCES' }], { value: 1, stale: true }],
];
for (const [title, args, expected] of slotRows) {
  test(`nextSlot: ${title}`, () => {
    const slot = nextSlot(...args);
    assert.is(slot.value, expected.value);
    assert.is(slot.stale, expected.stale);
  });
}

test.run();
