import type { Problem } from '../problem';
import { TableBuilder, type BuilderInputs, type BuildResult, type NameTable, type RegistryFileInput } from '../nametable';
import type { Allocations } from '../registry/allocator';
import { normalizedSearchDomains } from '../config/resolvConf';
import type { Snapshot } from './store';

export interface TableBuild {
  table: NameTable;
  /** The builder's allocations (computed on call: O(table)). */
  allocations(): Allocations;
  /** Service records in use (every registry file's last good content). */
  recordCount: number;
  result: BuildResult;
  problems: Problem[];
}

/** Adds sources beyond the registry files (istiod) to the files' records, which it may shadow. */
export type RegistrySources = (files: readonly RegistryFileInput[], clusterDomain: string) => RegistryFileInput[];

/** The builder's view of a snapshot: every registry file's records in order, hosts files, globals. */
export function builderInputs(snapshot: Snapshot, sources?: RegistrySources): BuilderInputs {
  const files: BuilderInputs['files'][number][] = [];
  for (const [file, slot] of snapshot.registry) {
    if (slot.value !== undefined) files.push({ file, records: slot.value.records, endpointSets: slot.value.endpointSets });
  }
  // Sources beyond the files (istiod's name table): docs/DECISIONS.md "istiod precedence".
  const combined = sources === undefined ? files : sources(files, snapshot.settings.clusterDomain);
  const hostsFiles = [...snapshot.hosts.entries()]
    .filter(([, slot]) => slot.value !== undefined)
    .map(([file, slot]) => ({ file, entries: slot.value ?? [] }));
  return {
    files: combined,
    hostsFiles,
    clusterDomain: snapshot.settings.clusterDomain,
    namespace: snapshot.effective.namespace,
    searchDomains: snapshot.resolvConf ? normalizedSearchDomains(snapshot.resolvConf) : [],
    autoAllocate: snapshot.effective.autoAllocate,
  };
}

/**
 * Snapshot → name table. With a long-lived `builder` (the service) only what changed since its
 * last update is re-derived; without one (the CLI) the table is built from scratch, with the
 * persisted allocations as hints so the VIPs are the served ones.
 */
export function buildTableFromSnapshot(
  snapshot: Snapshot,
  previousAllocations: Allocations,
  builder = new TableBuilder(previousAllocations),
  sources?: RegistrySources,
): TableBuild {
  const inputs = builderInputs(snapshot, sources);
  const result = builder.update(inputs);
  const problems: Problem[] = [];
  if (result.exhausted.v4 > 0 || result.exhausted.v6 > 0) {
    problems.push({
      file: '<allocator>',
      severity: 'warning',
      message: `auto-allocation range full: ${result.exhausted.v4} host(s) without an IPv4 VIP, ${result.exhausted.v6} without an IPv6 VIP; give them spec.addresses`,
    });
  }
  const recordCount = inputs.files.reduce((n, f) => n + f.records.length, 0);
  return { table: result.table, allocations: () => builder.allocations(), recordCount, result, problems };
}
