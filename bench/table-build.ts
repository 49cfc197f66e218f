/**
 * `npm run bench:table`: how long the name table takes to build, and how much heap it holds, for
 * 10,000 and 100,000 ServiceEntries of 3 hosts each (issue 2: 100,000 in < 2 s, < 400 MB heap).
 *
 * Stages timed separately, each on the output of the previous one, as the service runs them:
 *   parse    registry YAML text (generated files of 1,000 entries each) → ServiceRecords
 *   build    one TableBuilder.update over every file, VIP allocation included (most entries
 *            are auto-allocated), as the service's first load runs it
 *   change   a second update with one file re-parsed and changed, as a reload runs it
 * Heap is measured after a forced GC (`node --expose-gc`) with the table and records alive.
 *
 * Options: `--sizes 10000,100000` (default), `--keep` keeps the generated files.
 * Profile a run: `node --expose-gc --cpu-prof --cpu-prof-dir=bench/.build/prof dist/bench/table-build.js --sizes 100000`
 * then `node dist/bench/cpuprofile-top.js bench/.build/prof/<file>.cpuprofile`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseRegistryText } from '../src/registry';
import type { ServiceRecord } from '../src/registry/types';
import { TableBuilder, type BuilderInputs } from '../src/nametable';
import { ScopeFilter, type ScopeSettings } from '../src/nametable/scope';

const ENTRIES_PER_FILE = 1000;
const HOSTS_PER_ENTRY = 3;
/** One entry in five declares spec.addresses; the rest are auto-allocated (the common case). */
const WITH_ADDRESSES_EVERY = 5;
const NAMESPACES = 20;

/** Host `h` of entry `i` (the scale row of bench/run.ts queries these names). */
export function serviceEntryHost(i: number, h: number): string {
  return `svc-${i}-h${h}.ext-${i % 97}.example.com`;
}

export function serviceEntryYaml(i: number): string {
  const ns = `ns-${i % NAMESPACES}`;
  const hosts = Array.from({ length: HOSTS_PER_ENTRY }, (_, h) => `    - ${serviceEntryHost(i, h)}`).join('\n');
  const addresses =
    i % WITH_ADDRESSES_EVERY === 0
      ? `  addresses:\n    - 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`
      : '';
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: se-${i}
  namespace: ${ns}
  creationTimestamp: "2026-01-01T00:00:00Z"
spec:
  hosts:
${hosts}
${addresses}  ports:
    - name: http
      number: 80
      protocol: HTTP
    - name: tcp
      number: 9000
      protocol: TCP
  resolution: ${i % WITH_ADDRESSES_EVERY === 0 ? 'STATIC' : 'DNS'}
  location: MESH_EXTERNAL
`;
}

function writeRegistry(dir: string, entries: number): string[] {
  const files: string[] = [];
  for (let start = 0; start < entries; start += ENTRIES_PER_FILE) {
    const docs: string[] = [];
    for (let i = start; i < Math.min(entries, start + ENTRIES_PER_FILE); i++) docs.push(serviceEntryYaml(i));
    const file = join(dir, `se-${start}.yaml`);
    writeFileSync(file, docs.join('---\n'));
    files.push(file);
  }
  return files;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

const mib = (bytes: number): string => (bytes / 1048576).toFixed(0);
const ms = (t: number): string => t.toFixed(0);

interface Result {
  entries: number;
  hosts: number;
  parseMs: number;
  allocateMs: number;
  buildMs: number;
  changeMs: number;
  tableSize: number;
  exhaustedV4: number;
  heapBefore: number;
  /** Heap after each stage (forced GC, earlier stages' output still alive). */
  heapRecords: number;
  heapAllocations: number;
  heapAfter: number;
  rss: number;
  problems: number;
}

function measure(entries: number, keep: boolean): Result {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-bench-table-'));
  try {
    const files = writeRegistry(dir, entries);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;

    let t = performance.now();
    const records: ServiceRecord[] = [];
    const perFile: ServiceRecord[][] = [];
    let problems = 0;
    for (const file of files) {
      const parsed = parseRegistryText(readFileSync(file, 'utf8'), file);
      problems += parsed.problems.length;
      perFile.push(parsed.value ? [...parsed.value.records] : []);
      if (parsed.value) for (const r of parsed.value.records) records.push(r);
    }
    const parseMs = performance.now() - t;
    gc();
    const heapRecords = process.memoryUsage().heapUsed;

    // The service's path: one TableBuilder, a full build (allocation included), then one file
    // changed and applied incrementally (issue #6: ≤ 200 ms on 100,000 entries).
    const fileInputs = files.map((file, i) => ({ file, records: perFile[i], endpointSets: [] as never[] }));
    const inputs = (f: typeof fileInputs): BuilderInputs => ({
      files: f,
      hostsFiles: [],
      clusterDomain: 'cluster.local',
      namespace: 'ns-0',
      searchDomains: ['ns-0.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      autoAllocate: true,
    });
    // As the service does (inputs/table.ts): what the VM may see is decided first (issue 17).
    const scope = new ScopeFilter();
    const scopeSettings: ScopeSettings = { namespace: 'ns-0', clusterId: '', clusterDomain: 'cluster.local', defaultExportTo: ['*'], discoverySelectors: undefined, meshConfigFile: 'mesh' };
    const scoped = (f: typeof fileInputs): typeof fileInputs => scope.apply(f, scopeSettings) as typeof fileInputs;
    const builder = new TableBuilder();
    t = performance.now();
    const full = builder.update(inputs(scoped(fileInputs)));
    const buildMs = performance.now() - t;
    const allocateMs = 0;
    gc();
    const heapAllocations = process.memoryUsage().heapUsed;
    // One file edited: its text re-parsed (as the service does) and applied.
    const changedIndex = Math.floor(files.length / 2);
    const editedText = readFileSync(files[changedIndex], 'utf8').replace(/svc-(\d+)-h0\./, 'svc-$1-h0-renamed.');
    t = performance.now();
    const reparsed = parseRegistryText(editedText, files[changedIndex]).value.records;
    const changedFiles = fileInputs.map((f, i) => (i === changedIndex ? { ...f, records: reparsed } : f));
    const parsedMs = performance.now() - t;
    const change = builder.update(inputs(scoped(changedFiles)));
    const changeMs = performance.now() - t;
    if (process.env.BENCH_DEBUG) console.log(`change: parse ${parsedMs.toFixed(1)} ms, update ${(changeMs - parsedMs).toFixed(1)} ms, +${change.added} -${change.removed} ~${change.changed}`);
    const table = change.table;
    const allocation = { exhausted: full.exhausted };
    gc();
    const mem = process.memoryUsage();
    // Keep everything alive until measured.
    const hosts = records.reduce((n, r) => n + (r.kind === 'ServiceEntry' ? r.hosts.length : 0), 0);
    return {
      entries,
      hosts,
      parseMs,
      allocateMs,
      buildMs,
      changeMs,
      tableSize: table.size,
      exhaustedV4: allocation.exhausted.v4,
      heapBefore,
      heapRecords,
      heapAllocations,
      heapAfter: mem.heapUsed,
      rss: mem.rss,
      problems,
    };
  } finally {
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function main(argv: string[]): number {
  const sizesArg = argv.indexOf('--sizes');
  const sizes = sizesArg >= 0 ? argv[sizesArg + 1].split(',').map(Number) : [10_000, 100_000];
  const keep = argv.includes('--keep');
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    console.log('note: run with node --expose-gc for heap figures after a full GC');
  }
  console.log(`node ${process.version}; ${HOSTS_PER_ENTRY} hosts per ServiceEntry, 1 in ${WITH_ADDRESSES_EVERY} with spec.addresses, the rest auto-allocated`);
  const header = ['entries', 'hosts', 'names', 'parse ms', 'build ms (alloc incl.)', '1-file change ms', 'heap MiB (table alive)', 'records MiB', 'table MiB', 'RSS MiB', 'v4 exhausted', 'problems'];
  const rows: string[][] = [];
  for (const n of sizes) {
    const r = measure(n, keep);
    rows.push([
      String(r.entries),
      String(r.hosts),
      String(r.tableSize),
      ms(r.parseMs),
      ms(r.buildMs),
      ms(r.changeMs),
      mib(r.heapAfter),
      mib(r.heapRecords - r.heapBefore),
      mib(r.heapAfter - r.heapRecords),
      mib(r.rss),
      String(r.exhaustedV4),
      String(r.problems),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log('targets: 100,000 entries built (allocation included) < 2000 ms, heap < 400 MiB (issue 2); a single-file change applied < 200 ms (issue 6)');
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
