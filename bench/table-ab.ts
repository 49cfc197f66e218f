/**
 * A/B of the name table build in one process, for a loaded machine: two builds of meshdns (two
 * checkouts, each built with `tsc`) are loaded side by side, the same parsed registry is built by
 * each, alternating which goes first, and the full build and a one-file change are timed in wall
 * and CPU time (process CPU: the main thread and V8's GC helpers; far less bent by other load
 * than wall time).
 *
 *   node --expose-gc dist/bench/table-ab.js /path/to/before/dist /path/to/after/dist [entries] [rounds]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseRegistryText } from '../src/registry';
import type { ServiceRecord } from '../src/registry/types';
import type { BuilderInputs, TableBuilder } from '../src/nametable';
import { serviceEntryYaml } from './table-build';

type BuilderClass = new () => TableBuilder;

interface Samples {
  build: number[];
  change: number[];
  cpuBuild: number[];
  cpuChange: number[];
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const list = (a: number[]): string => a.map((x) => x.toFixed(0)).join(' ');

function main(argv: string[]): void {
  const [beforeDist, afterDist] = argv;
  if (beforeDist === undefined || afterDist === undefined) throw new Error('usage: table-ab.js BEFORE_DIST AFTER_DIST [entries] [rounds]');
  const entries = Number(argv[2] ?? 100_000);
  const rounds = Number(argv[3] ?? 6);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  const load = (dist: string): BuilderClass => (require(join(dist, 'src', 'nametable')) as { TableBuilder: BuilderClass }).TableBuilder;
  const variants: Record<'before' | 'after', BuilderClass> = { before: load(beforeDist), after: load(afterDist) };

  const dir = mkdtempSync(join(tmpdir(), 'meshdns-table-ab-'));
  try {
    const files: string[] = [];
    for (let start = 0; start < entries; start += 1000) {
      const docs: string[] = [];
      for (let i = start; i < Math.min(entries, start + 1000); i++) docs.push(serviceEntryYaml(i));
      const file = join(dir, `se-${start}.yaml`);
      writeFileSync(file, docs.join('---\n'));
      files.push(file);
    }
    const records = files.map((f): ServiceRecord[] => [...parseRegistryText(readFileSync(f, 'utf8'), f).value.records]);
    const fileInputs = files.map((file, i) => ({ file, records: records[i], endpointSets: [] }));
    const inputs = (f: typeof fileInputs): BuilderInputs => ({
      files: f,
      hostsFiles: [],
      clusterDomain: 'cluster.local',
      namespace: 'ns-0',
      searchDomains: ['ns-0.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      autoAllocate: true,
    });
    const changedAt = Math.floor(files.length / 2);
    const edited = readFileSync(files[changedAt], 'utf8').replace(/svc-(\d+)-h0\./, 'svc-$1-h0-renamed.');
    const samples: Record<'before' | 'after', Samples> = {
      before: { build: [], change: [], cpuBuild: [], cpuChange: [] },
      after: { build: [], change: [], cpuBuild: [], cpuChange: [] },
    };
    for (let r = 0; r < rounds; r++) {
      for (const name of r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)) {
        gc();
        const builder = new variants[name]();
        let cpu = cpuMs();
        let t = performance.now();
        builder.update(inputs(fileInputs));
        samples[name].build.push(performance.now() - t);
        samples[name].cpuBuild.push(cpuMs() - cpu);
        const reparsed = parseRegistryText(edited, files[changedAt]).value.records;
        const changed = fileInputs.map((f, i) => (i === changedAt ? { ...f, records: [...reparsed] } : f));
        cpu = cpuMs();
        t = performance.now();
        builder.update(inputs(changed));
        samples[name].change.push(performance.now() - t);
        samples[name].cpuChange.push(cpuMs() - cpu);
      }
    }
    for (const name of ['before', 'after'] as const) {
      const s = samples[name];
      console.log(`${name}: CPU ms build ${list(s.cpuBuild)} (median ${median(s.cpuBuild).toFixed(0)}), change ${list(s.cpuChange)} (median ${median(s.cpuChange).toFixed(0)})`);
      console.log(`${name}: wall ms build ${list(s.build)} (median ${median(s.build).toFixed(0)}), change ${list(s.change)} (median ${median(s.change).toFixed(0)})`);
    }
    console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2));
