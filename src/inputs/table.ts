import type { Problem } from '../problem';
import { TableBuilder, type BuilderInputs, type BuildResult, type NameTable, type RegistryFileInput } from '../nametable';
import type { Allocations } from '../registry/allocator';
import { normalizedSearchDomains } from '../config/resolvConf';
import type { Snapshot } from './store';
import { ScopeFilter, type ScopeFileInput } from '../nametable/scope';

export interface TableBuild {
  table: NameTable;
  /** The builder's allocations (computed on call: O(table)). */
  allocations(): Allocations;
  /** Service records in use (every registry file's last good content). */
  recordCount: number;
  result: BuildResult;
  problems: Problem[];
  /** Why records offering a name are not served (exportTo, discoverySelectors, lost to another namespace or cluster). */
  scope: { describe(name: string): string[] };
}

/** Adds sources beyond the registry files (istiod) to the files' records, which it may shadow. */
export type RegistrySources = (files: readonly RegistryFileInput[], clusterDomain: string) => RegistryFileInput[];

/** One scope filter per long-lived builder: both keep state between reloads. */
const scopes = new WeakMap<TableBuilder, ScopeFilter>();

/** The cluster a registry file's Services come from: its own marker, else its registry source's. */
function clusterOfFile(snapshot: Snapshot, file: string, marker: string | undefined): string | undefined {
  if (marker !== undefined) return marker;
  let best: { path: string; cluster?: string } | undefined;
  for (const source of snapshot.settings.registrySources) {
    const inside = file === source.path || file.startsWith(source.path.endsWith('/') ? source.path : `${source.path}/`);
    if (inside && (best === undefined || source.path.length > best.path.length)) best = source;
  }
  return best?.cluster;
}

/**
 * The builder's view of a snapshot: every registry file's records in order (less what the VM's
 * proxy would not get: `scope`), then the sources beyond the files (istiod, whose table istiod
 * already scoped for this proxy), hosts files, globals.
 */
export function builderInputs(snapshot: Snapshot, sources?: RegistrySources, scope = new ScopeFilter()): BuilderInputs {
  const scoped: ScopeFileInput[] = [];
  for (const [file, slot] of snapshot.registry) {
    const v = slot.value;
    if (v === undefined) continue;
    const cluster = clusterOfFile(snapshot, file, v.cluster);
    scoped.push({ file, records: v.records, endpointSets: v.endpointSets, ...(cluster === undefined ? {} : { cluster }), ...(v.namespaces === undefined ? {} : { namespaces: v.namespaces }) });
  }
  const e = snapshot.effective;
  const files = scope.apply(scoped, {
    namespace: e.namespace,
    clusterId: e.clusterId,
    clusterDomain: snapshot.settings.clusterDomain,
    defaultExportTo: e.defaultExportTo,
    discoverySelectors: e.discoverySelectors,
    meshConfigFile: snapshot.settings.bootstrap.meshConfig,
  });
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
    families: { v4: e.families.v4, v6: e.families.v6 },
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
  let scope = scopes.get(builder);
  if (scope === undefined) scopes.set(builder, (scope = new ScopeFilter()));
  const inputs = builderInputs(snapshot, sources, scope);
  const result = builder.update(inputs);
  const problems: Problem[] = [...scope.problems()];
  if (result.exhausted.v4 > 0 || result.exhausted.v6 > 0) {
    problems.push({
      file: '<allocator>',
      severity: 'warning',
      message: `auto-allocation range full: ${result.exhausted.v4} host(s) without an IPv4 VIP, ${result.exhausted.v6} without an IPv6 VIP; give them spec.addresses`,
    });
  }
  const recordCount = inputs.files.reduce((n, f) => n + f.records.length, 0);
  const described = scope;
  return { table: result.table, allocations: () => builder.allocations(), recordCount, result, problems, scope: { describe: (name) => described.describe(name) } };
}
