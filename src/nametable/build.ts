/**
 * The name table (docs/ARCHITECTURE.md §2) kept between reloads. Each update takes the whole
 * input and re-derives only what changed: the units (records, hosts files) that came or went,
 * and those whose VIPs moved; then the names they touch are merged again. A full build is the
 * same steps from empty. The rules are in derive.ts, merging in merge.ts, VIP ownership in
 * registry/vipOwnership.ts.
 */
import type { HostsEntry } from '../config/types';
import type { Allocations } from '../registry/allocator';
import { VipOwnership } from '../registry/vipOwnership';
import { BOTH_FAMILIES, deriveNames, normalizeName, type NameContext } from './derive';
import type { VmFamilies } from './ipFamily';
import { MergedNames } from './merge';
import { MapNameTable } from './table';
import type { NameInfo, NameTable } from './types';
import { NO_CONTRIBUTIONS, UnitTracker, compareUnits, type RegistryFileInput, type Unit } from './units';

export type { RegistryFileInput } from './units';

export interface BuilderInputs {
  files: readonly RegistryFileInput[];
  hostsFiles: ReadonlyArray<{ file: string; entries: readonly HostsEntry[] }>;
  clusterDomain: string;
  /** The workload's namespace: Kubernetes services there are also reachable by their bare name. */
  namespace: string;
  /** Search domains of the original resolv.conf, in order. */
  searchDomains: readonly string[];
  /** Local VIP allocation on (docs/ARCHITECTURE.md §2). */
  autoAllocate: boolean;
  /** The VM's IP families (issue 17): a single-stack VM gets no service address of the other. Default both. */
  families?: VmFamilies;
}

export interface BuildResult {
  table: NameTable;
  /** Names (keys) that appeared, disappeared or changed their answer in this update. */
  added: number;
  removed: number;
  changed: number;
  /** True when VIP allocations changed (the state file needs saving). */
  allocationsChanged: boolean;
  /** Entries created by this update: new objects, so answer bytes memoized for older ones do not apply. */
  fresh: NameInfo[];
  exhausted: { v4: number; v6: number };
}

/**
 * Keeps the table between reloads. `update` takes the whole input each time but only re-derives
 * what changed: records are compared by identity (the input store hands back the same parsed
 * objects for files that did not change).
 */
export class TableBuilder {
  private units = new UnitTracker();
  private names = new MergedNames();
  private readonly vips: VipOwnership<Unit>;
  /** Cluster domain, namespace and auto-allocation as last built: a change of them starts over. */
  private globals = '';

  /** `hints`: the persisted allocations, honoured where still free (stable VIPs across restarts). */
  constructor(hints: Allocations = {}) {
    this.vips = new VipOwnership<Unit>(hints, compareUnits);
  }

  /** Current VIP allocations, for the state file. */
  allocations(): Allocations {
    return this.vips.allocations();
  }

  update(inputs: BuilderInputs): BuildResult {
    const families = inputs.families ?? BOTH_FAMILIES;
    const context: NameContext = { clusterDomain: normalizeName(inputs.clusterDomain), namespace: inputs.namespace, families };
    const globals = `${context.clusterDomain}|${inputs.namespace}|${inputs.autoAllocate}|${families.v4}|${families.v6}`;
    if (globals !== this.globals) {
      // Keep VIPs across a reset (e.g. the workload namespace changed): they become hints.
      this.vips.reset();
      this.units = new UnitTracker();
      this.names = new MergedNames();
      this.globals = globals;
    }
    // A first build needs no change tracking: every name is new, every wanted key goes to its
    // first wanter.
    const fromEmpty = this.units.size === 0;
    const { added, removed } = this.units.diff(inputs.files, inputs.hostsFiles);

    // Units whose names are derived again: the new ones, and those whose VIPs move.
    const toDerive = new Set<Unit>(added);
    const dirty = new Set<string>();
    this.vips.begin(fromEmpty, (unit) => toDerive.add(unit));
    for (const unit of removed) {
      this.dropNames(unit, dirty);
      this.vips.unitRemoved(unit, inputs.autoAllocate);
    }
    // Declared addresses first: a VIP they now collide with moves.
    for (const unit of added) this.vips.claimDeclared(unit);
    if (inputs.autoAllocate) for (const unit of added) this.vips.unitWants(unit);
    const allocationsChanged = this.vips.finish(inputs.autoAllocate);

    for (const unit of toDerive) this.deriveNames(unit, context, fromEmpty ? undefined : dirty);

    const fresh: NameInfo[] = [];
    const counts = this.names.remerge(dirty, fresh, fromEmpty);
    const searchDomains = inputs.searchDomains.map(normalizeName).filter((d) => d !== '');
    return {
      table: new MapNameTable(this.names.exact, this.names.wildcards, this.names.addresses, searchDomains),
      ...counts,
      allocationsChanged,
      fresh,
      exhausted: this.vips.exhausted,
    };
  }

  /** `unit`'s names as the rules give them now (a unit sees only the VIPs it owns). */
  private deriveNames(unit: Unit, context: NameContext, dirty: Set<string> | undefined): void {
    if (unit.contributions.length > 0) this.dropNames(unit, dirty);
    const record = unit.record;
    const derived = deriveNames(unit, context, (host) => (record?.kind === 'ServiceEntry' ? this.vips.heldVip(unit, record, host) : undefined));
    // An exact-size copy: the table keeps it for its lifetime.
    unit.contributions = derived.length === 0 ? NO_CONTRIBUTIONS : derived.slice();
    for (const c of unit.contributions) {
      this.names.sources.add(c.name, unit);
      dirty?.add(c.name);
    }
  }

  /** `unit` no longer offers its names. */
  private dropNames(unit: Unit, dirty: Set<string> | undefined): void {
    for (const c of unit.contributions) {
      this.names.sources.remove(c.name, unit);
      dirty?.add(c.name);
    }
    unit.contributions = NO_CONTRIBUTIONS;
  }
}
