import type { HostsEntry } from '../config/types';
import { allocatableHosts, allocationKey, compareAllocationOrder, declaredAddresses, statusAddressesOf, type Allocations } from '../registry/allocator';
import { SlotAllocator, type VipSlot } from '../registry/vipAllocator';
import { mergeEndpoints } from '../registry/attach';
import type { EndpointSet, KubeServiceRecord, ServiceEntryRecord, ServicePort, ServiceRecord, SourceRef, VipAllocation } from '../registry/types';
import type { Lookup, NameInfo, NameOrigin, NameTable, SrvLookup } from './types';
import { addressOfReverseName } from './reverse';
import { CompactMultiMap } from './multiMap';
import { forVm, type VmFamilies } from './ipFamily';

/**
 * The name table (docs/ARCHITECTURE.md §2) is kept by a `TableBuilder` that applies Istio's rules per
 * *contribution* — one name offered by one record or hosts file — and merges the contributions
 * of a name. A full build adds every record; a reload that changed one file removes that file's
 * old records and adds its new ones, re-merging only the names they touch, so applying a change
 * costs O(change), not O(table) (issue #6: a single-file change on a 100,000-entry registry).
 */

/** One registry file's parsed content, in input order. */
export interface RegistryFileInput {
  file: string;
  records: readonly ServiceRecord[];
  endpointSets: readonly EndpointSet[];
}

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

/** Precedence when sources claim one name: hosts-file pins > Kubernetes > ServiceEntry > alias. */
const RANK_HOSTS = 3;
const RANK_SERVICE = 2;
const RANK_SERVICE_ENTRY = 1;
const RANK_ALIAS = 0;

/**
 * One name offered by one unit, shaped as the NameInfo it becomes when it is the name's only
 * source: most names have one, and serving the contribution itself saves an object per name.
 * A short form (alias) has `canonical !== name` and no addresses of its own.
 */
type Contribution = NameInfo;

function isAlias(c: Contribution): boolean {
  return c.canonical !== c.name;
}

/** A record (with its endpoints attached) or a hosts file: what contributions come from. */
interface Unit {
  /**
   * Input order (file index, file, position in the file), by which merges and allocations go:
   * see `compareUnits`. Numbers, not a sort-key string: 100,000 such strings were 13 MiB.
   */
  fileIndex: number;
  file: string;
  position: number;
  record?: ServiceRecord;
  hosts?: { file: string; entries: readonly HostsEntry[] };
  contributions: readonly Contribution[];
  /**
   * The update that last saw this unit in the input (mark and sweep), negated once that update
   * queued it to derive its names again (fields cost 0.8 MiB each at 100,000 units). Declared
   * addresses are not kept (they are `declaredAddresses(record)`), nor the endpoint signature
   * (`TableBuilder.signatures`), nor the rank (`unitRank`).
   */
  seen: number;
}

/**
 * One VIP key (`namespace/name/host`, docs/ARCHITECTURE.md §2) that some unit wants, and the allocator's slot
 * for it: the VIP it holds is written onto it. There is no key string: the host is the record's
 * own string, and namespace/name are those of the wanting units' record (every wanter of a key
 * is the same record, given twice). `builder.vipKeys` finds keys by host; `allocations()` builds
 * the `namespace/name/host` strings only for the state file. At 240,000 keys the strings, the
 * key → wanters and key → VIP maps and a VIP object per key this replaces were ~35 MiB.
 */
interface VipKey extends VipSlot {
  // No `host` (8 B a key): whoever holds a key got it by host (`vipKeys`, a record's hosts).
  /**
   * The units that want the key, and the one it was allocated to (a wanter; none while the key
   * holds no VIP). Almost always one unit that wants it and, while the key holds a VIP, owns it:
   * stored as that unit alone (8 B a key less than two fields). Otherwise a `KeyHolders`.
   * Read with `wantersOf` and `ownerOf`, written with `setHolders` after the VIP changed.
   */
  holders: Unit | KeyHolders;
}

/** A key's wanters and owner when they are not one unit that owns the key iff it holds a VIP. */
class KeyHolders {
  constructor(
    /** In no order; never empty while the key is indexed (NO_WANTERS once dropped). */
    readonly wanters: Unit | Unit[],
    readonly owner: Unit | undefined,
  ) {}
}

function wantersOf(key: VipKey): Unit | Unit[] {
  const h = key.holders;
  return h instanceof KeyHolders ? h.wanters : h;
}

function ownerOf(key: VipKey): Unit | undefined {
  const h = key.holders;
  if (h instanceof KeyHolders) return h.owner;
  return key.v4 !== undefined ? h : undefined;
}

/** Set `key`'s wanters and owner; call it whenever either or the key's VIP (held or not) changed. */
function setHolders(key: VipKey, wanters: Unit | Unit[], owner: Unit | undefined): void {
  key.holders = !Array.isArray(wanters) && owner === (key.v4 !== undefined ? wanters : undefined) ? wanters : new KeyHolders(wanters, owner);
}

function hasWanter(key: VipKey, unit: Unit): boolean {
  const w = wantersOf(key);
  return Array.isArray(w) ? w.includes(unit) : w === unit;
}

function addWanter(key: VipKey, unit: Unit): void {
  const w = wantersOf(key);
  if (Array.isArray(w)) {
    if (!w.includes(unit)) setHolders(key, [...w, unit], ownerOf(key));
  } else if (w !== unit) setHolders(key, [w, unit], ownerOf(key));
}

/** Removes `unit` from the wanters; false when it was the only one (the caller drops the key). */
function removeWanter(key: VipKey, unit: Unit): boolean {
  const w = wantersOf(key);
  if (!Array.isArray(w)) return w !== unit;
  const rest = w.filter((u) => u !== unit);
  if (rest.length === 0) return false;
  setHolders(key, rest.length === 1 ? rest[0] : rest, ownerOf(key));
  return true;
}

function firstWanter(key: VipKey): Unit {
  const w = wantersOf(key);
  return Array.isArray(w) ? w[0] : w;
}

/** Is `key` the key of `record`'s `host` (`host` being the key's own)? */
function isKeyOf(key: VipKey, record: ServiceEntryRecord): boolean {
  const r = firstWanter(key).record!;
  return r === record || (r.namespace === record.namespace && r.name === record.name);
}

/** The `namespace/name/host` string of `key`, as the state file and hints have it. */
function keyText(key: VipKey, host: string): string {
  const r = firstWanter(key).record!;
  return allocationKey(r.namespace, r.name, host);
}

/** Shared by the many units and names that have none: at 300,000 names every empty array counts. */
const NONE: readonly string[] = Object.freeze([]);
const NO_PORTS: readonly ServicePort[] = Object.freeze([]);
const NO_CONTRIBUTIONS: readonly Contribution[] = Object.freeze([]);
/** The wanters of a key no unit wants any more (dropped from the index). */
const NO_WANTERS = Object.freeze([]) as unknown as Unit[];

function rankOf(unit: Unit, c: Contribution): number {
  return isAlias(c) ? RANK_ALIAS : unitRank(unit);
}

/** Precedence of a unit's own names (its short forms rank RANK_ALIAS). */
function unitRank(unit: Unit): number {
  if (unit.record === undefined) return RANK_HOSTS;
  return unit.record.kind === 'Service' ? RANK_SERVICE : RANK_SERVICE_ENTRY;
}

/** Lower-case, no trailing dot. Registry hosts already are: they are returned as they are, not copied. */
function normalizeName(name: string): string {
  const lower = /[A-Z]/.test(name) ? name.toLowerCase() : name;
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

interface Families {
  v4: readonly string[];
  v6: readonly string[];
}

const NO_ADDRESSES: Families = { v4: NONE, v6: NONE };

/**
 * An array of exactly `list`'s elements. Arrays grown by `push` keep spare capacity (17 slots
 * for one element), which the table would hold for its lifetime: tens of MiB at 300,000 names.
 */
function exactCopy(list: readonly string[]): readonly string[] {
  return list.length === 0 ? NONE : list.slice();
}

function exactContributions(list: readonly Contribution[]): readonly Contribution[] {
  return list.length === 0 ? NO_CONTRIBUTIONS : list.slice();
}

/** Scratch lists of `splitFamilies`, reused so that splitting allocates only its results. */
const scratchV4: string[] = [];
const scratchV6: string[] = [];

/**
 * Addresses reach the table already validated and in canonical form (the registry, hosts and
 * allocator all canonicalize), so the family is a character test, not a parse. Each family is
 * deduplicated, in input order, in an array of exact size (NONE when empty).
 */
function splitFamilies(addresses: readonly string[]): Families {
  if (addresses.length === 0) return NO_ADDRESSES;
  if (addresses.length === 1) {
    const a = addresses[0];
    if (a === '') return NO_ADDRESSES;
    return a.includes(':') ? { v4: NONE, v6: [a] } : { v4: [a], v6: NONE };
  }
  scratchV4.length = 0;
  scratchV6.length = 0;
  for (const a of addresses) {
    if (a.includes(':')) {
      if (!scratchV6.includes(a)) scratchV6.push(a);
    } else if (a !== '' && !scratchV4.includes(a)) scratchV4.push(a);
  }
  return { v4: exactCopy(scratchV4), v6: exactCopy(scratchV6) };
}

/** A locally allocated pair as families (either may be missing when its range is full). */
function vipFamilies(vip: VipAllocation): Families {
  return { v4: vip.v4 === '' ? NONE : [vip.v4], v6: vip.v6 === '' ? NONE : [vip.v6] };
}

function hasAddress(f: Families): boolean {
  return f.v4.length > 0 || f.v6.length > 0;
}

function nameInfo(name: string, canonical: string, families: Families, ports: readonly ServicePort[], origins: readonly NameOrigin[]): Contribution {
  // One literal shape for every entry keeps the table's objects monomorphic.
  return { name, canonical, v4: families.v4, v6: families.v6, ports, origins };
}

/** Kubernetes short forms: `name.ns`, `name.ns.svc`, and `name` in the workload's namespace. */
function aliases(fqdn: string, shortName: string, namespace: string, workloadNamespace: string, origins: readonly NameOrigin[]): Contribution[] {
  const forms = [`${shortName}.${namespace}`, `${shortName}.${namespace}.svc`];
  if (namespace === workloadNamespace) forms.push(shortName);
  return forms.map((name) => nameInfo(name, fqdn, NO_ADDRESSES, NO_PORTS, origins));
}

function kubeContributions(svc: KubeServiceRecord, clusterDomain: string, workloadNamespace: string, vm: VmFamilies): Contribution[] {
  if (svc.type === 'ExternalName') return [];
  const out: Contribution[] = [];
  const fqdn = `${svc.name}.${svc.namespace}.svc.${clusterDomain}`;
  if (svc.type === 'ClusterIP') {
    const origins: readonly NameOrigin[] = [{ kind: 'Service', source: svc.source, via: 'clusterIP' }];
    const families = forVm(splitFamilies(svc.addresses), vm);
    if (hasAddress(families)) out.push(nameInfo(fqdn, fqdn, families, svc.ports, origins), ...aliases(fqdn, svc.name, svc.namespace, workloadNamespace, origins));
    return out;
  }
  const origins: readonly NameOrigin[] = [{ kind: 'Service', source: svc.source, via: 'endpoints' }];
  const ready = svc.endpoints.filter((e) => e.ready);
  const families = splitFamilies(ready.map((e) => e.address));
  if (hasAddress(families)) out.push(nameInfo(fqdn, fqdn, families, svc.ports, origins), ...aliases(fqdn, svc.name, svc.namespace, workloadNamespace, origins));
  // Per-pod names of a headless service (StatefulSet pods): hostname.service.ns.svc.<domain>.
  for (const ep of ready) {
    if (ep.hostname === undefined || ep.hostname === '') continue;
    const podFqdn = `${ep.hostname}.${svc.name}.${svc.namespace}.svc.${clusterDomain}`;
    const pod = splitFamilies([ep.address]);
    if (hasAddress(pod)) out.push(nameInfo(podFqdn, podFqdn, pod, svc.ports, origins), ...aliases(podFqdn, `${ep.hostname}.${svc.name}`, svc.namespace, workloadNamespace, origins));
  }
  return out;
}

/**
 * The names of a ServiceEntry: each host with its addresses in Istio's order of preference
 * (spec.addresses, status.addresses, a VIP this unit holds, NONE's endpoints); a host without
 * any usable address is left out (the name forwards).
 */
function serviceEntryContributions(record: ServiceEntryRecord, vipOf: (host: string) => VipAllocation | undefined, vm: VmFamilies): Contribution[] {
  const out: Contribution[] = [];
  // One origins list per record and way of addressing, shared by its hosts; spec addresses and
  // endpoints are the same for every host, so they are split once.
  const originsFor: Partial<Record<NameOrigin['via'], readonly NameOrigin[]>> = {};
  const originsOf = (via: NameOrigin['via']): readonly NameOrigin[] => (originsFor[via] ??= [{ kind: 'ServiceEntry', source: record.source, via }]);
  let recordWide: Families | undefined;
  for (const rawHost of record.hosts) {
    const host = normalizeName(rawHost);
    let via: NameOrigin['via'];
    let families: Families | undefined;
    let status: readonly string[] | undefined;
    let vip: VipAllocation | undefined;
    if (record.addresses.length > 0) {
      via = 'spec.addresses';
      families = recordWide ??= forVm(splitFamilies(record.addresses), vm);
    } else if ((status = statusAddressesOf(record, host)) !== undefined && status.length > 0) {
      via = 'status.addresses';
      families = forVm(splitFamilies(status), vm);
    } else if ((vip = host.startsWith('*') ? undefined : vipOf(host)) !== undefined && (vip.v4 !== '' || vip.v6 !== '')) {
      via = 'allocated';
      families = forVm(vipFamilies(vip), vm, false);
    } else if (record.resolution === 'NONE' && record.endpoints.length > 0) {
      via = 'endpoints';
      families = recordWide ??= splitFamilies(record.endpoints);
    } else continue; // no usable address: the name forwards
    if (hasAddress(families)) out.push(nameInfo(host, host, families, record.ports, originsOf(via)));
  }
  return out;
}

function hostsContributions(file: string, entries: readonly HostsEntry[]): Contribution[] {
  const out: Contribution[] = [];
  for (const entry of entries) {
    const source: SourceRef = { file, document: String(entry.line), kind: 'hosts', namespace: '', name: entry.names[0] ?? '' };
    const origins: readonly NameOrigin[] = [{ kind: 'hosts', source, via: 'hosts' }];
    const families = splitFamilies([entry.address]);
    if (!hasAddress(families)) continue;
    for (const n of entry.names) {
      const name = normalizeName(n);
      out.push(nameInfo(name, name, families, NO_PORTS, origins));
    }
  }
  return out;
}

/** Merge the contributions of one canonical name: the highest rank wins; equal ranks merge in input order. */
function mergeCanonical(name: string, contributions: ReadonlyArray<readonly [Unit, Contribution]>): NameInfo | undefined {
  let top = 0;
  for (const [u, c] of contributions) top = Math.max(top, rankOf(u, c));
  if (top === RANK_ALIAS) return undefined;
  const winners = contributions.filter(([u, c]) => rankOf(u, c) === top);
  // The usual case, one source: its contribution is the entry.
  if (winners.length === 1) return winners[0][1];
  winners.sort(byOrder);
  const v4: string[] = [];
  const v6: string[] = [];
  const ports: ServicePort[] = [];
  const origins: NameOrigin[] = [];
  for (const [, c] of winners) {
    for (const a of c.v4) if (!v4.includes(a)) v4.push(a);
    for (const a of c.v6) if (!v6.includes(a)) v6.push(a);
    for (const p of c.ports) if (!ports.some((q) => q.name === p.name && q.transport === p.transport)) ports.push(p);
    for (const o of c.origins) if (!origins.includes(o)) origins.push(o);
  }
  return { name, canonical: name, v4: exactCopy(v4), v6: exactCopy(v6), ports: ports.slice(), origins: origins.slice() };
}

const BOTH_FAMILIES: VmFamilies = { v4: true, v6: true };

/** Hosts files come after every registry file (their index is offset by this). */
const HOSTS_FILE_INDEX = 2 ** 40;

/** Input order: file index, then file name (a kept unit may carry an older index), then position. */
function compareUnits(a: Unit, b: Unit): number {
  if (a.fileIndex !== b.fileIndex) return a.fileIndex - b.fileIndex;
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.position - b.position;
}

function byOrder(a: readonly [Unit, Contribution], b: readonly [Unit, Contribution]): number {
  return compareUnits(a[0], b[0]);
}

/** A VIP key to hand out in this update, to the unit that wins it. */
interface PendingAllocation {
  key: VipKey;
  unit: Unit;
  record: ServiceEntryRecord;
  host: string;
  /**
   * What the key held before, taken as its hint in the first pass: its VIP released in this
   * update, else the state file's; undefined when it holds nothing yet.
   */
  hint: VipAllocation | undefined;
  /** The hint is a VIP released in this update, not the state file's. */
  hintReleased: boolean;
}

/** The first-time allocation order (creation time, namespace, name, host). */
function byAllocationOrder(a: PendingAllocation, b: PendingAllocation): number {
  return compareAllocationOrder(a.record, a.host, b.record, b.host);
}


/** A registry file's parsed records as last seen, and the units kept for them. */
interface FileUnits {
  records: readonly ServiceRecord[];
  units: Unit[];
  /** Services take endpoints from other files, so their units are checked one by one. */
  hasServices: boolean;
  /** The update that last saw the file. */
  generation: number;
}

/**
 * Whether a registry file is unchanged as a whole: the very same parsed array as in the last
 * update (the input store hands back the same objects for an unchanged file), seen in that
 * update, and without Services (whose endpoints may have changed in another file). Then all
 * its units stay, and a reload that changed one file of a hundred looks at that one file only.
 */
function keptWhole(before: FileUnits | undefined, records: readonly ServiceRecord[], generation: number): before is FileUnits {
  return before !== undefined && before.records === records && !before.hasServices && before.generation === generation - 1;
}

/**
 * The contribution offering `name` when it is the only one (one unit offers it, once): the
 * case of almost every name, answered without building the list `contributionsOf` gives.
 * `cur` is the name's units (`raw(name)`), which the caller has at hand.
 */
function soleContribution(name: string, cur: Unit | Unit[] | undefined): Contribution | undefined {
  if (cur === undefined || Array.isArray(cur)) return undefined;
  let found: Contribution | undefined;
  for (const c of cur.contributions) {
    if (c.name !== name) continue;
    if (found !== undefined) return undefined;
    found = c;
  }
  return found;
}

/**
 * name → the units that offer it. Almost every name is offered by one unit, once, as a name of
 * its own, and its table entry (`exact`) is then that very contribution: the unit of such a
 * *solo* name is found from the entry (`unitOf`), so only the other names are kept here (at
 * 300,000 names a second Map of every name was 14 MiB). `others` holds a name that is not solo
 * (several units, short forms, wildcards, no entry), and any name whose units changed in the
 * current update until `settle` (null: no unit left). Lookups read `exact` only, as before.
 */
class UnitIndex {
  private readonly others = new Map<string, Unit | Unit[] | null>();
  /** A first build's names in the order first offered, until `settle`d (see `beginFirstBuild`). */
  private fresh: CompactMultiMap<Unit> | undefined;

  constructor(
    private readonly exact: ReadonlyMap<string, NameInfo>,
    private readonly unitOf: (c: Contribution) => Unit,
  ) {}

  /**
   * A first build (the table is empty): names are gathered in a plain multimap, walked by
   * `forEachFresh`, and each `settle`d; `endFirstBuild` drops the multimap.
   */
  beginFirstBuild(): void {
    this.fresh = new CompactMultiMap();
  }

  forEachFresh(visit: (units: Unit | Unit[], name: string) => void): void {
    this.fresh?.forEachStored(visit);
  }

  endFirstBuild(): void {
    this.fresh = undefined;
  }

  /** The units offering `name`: one as itself, several as a list. */
  raw(name: string): Unit | Unit[] | undefined {
    const v = this.others.get(name);
    if (v !== undefined) return v ?? undefined;
    if (this.fresh !== undefined) return this.fresh.raw(name);
    const e = this.exact.get(name);
    return e === undefined ? undefined : this.unitOf(e);
  }

  add(name: string, unit: Unit): void {
    if (this.fresh !== undefined) {
      this.fresh.add(name, unit);
      return;
    }
    const v = this.others.get(name);
    if (v === undefined) {
      const e = this.exact.get(name); // a solo name's entry, or none
      if (e === undefined) this.others.set(name, unit);
      else {
        const owner = this.unitOf(e);
        this.others.set(name, owner === unit ? unit : [owner, unit]);
      }
    } else if (v === null) this.others.set(name, unit);
    else if (Array.isArray(v)) {
      if (!v.includes(unit)) v.push(unit);
    } else if (v !== unit) this.others.set(name, [v, unit]);
  }

  /** `unit` no longer offers `name` (call it before the unit's contributions are replaced). */
  remove(name: string, unit: Unit): void {
    const v = this.others.get(name);
    if (v === undefined) {
      if (this.exact.has(name)) this.others.set(name, null); // a solo name: `unit` was its only unit
    } else if (Array.isArray(v)) {
      const rest = v.filter((u) => u !== unit);
      this.others.set(name, rest.length === 0 ? null : rest.length === 1 ? rest[0] : rest);
    } else if (v === unit) this.others.set(name, null);
  }

  /**
   * `name`'s units are `units` and its `exact` entry is now `entry` (undefined for wildcards,
   * whose entries are elsewhere): keep the name here unless it is solo or gone.
   */
  settle(name: string, units: Unit | Unit[] | undefined, entry: NameInfo | undefined): void {
    if (entry !== undefined && units !== undefined && !Array.isArray(units) && name.charCodeAt(0) !== 42 && entry === soleContribution(name, units)) {
      if (this.fresh === undefined) this.others.delete(name);
      return;
    }
    if (units === undefined && entry === undefined) {
      if (this.fresh === undefined) this.others.delete(name);
      return;
    }
    this.others.set(name, units ?? null);
  }

  /** Every (unit, contribution) offering `name`. */
  contributionsOf(name: string): Array<readonly [Unit, Contribution]> {
    const out: Array<readonly [Unit, Contribution]> = [];
    const cur = this.raw(name);
    if (cur === undefined) return out;
    if (Array.isArray(cur)) {
      for (const u of cur) for (const c of u.contributions) if (c.name === name) out.push([u, c]);
    } else for (const c of cur.contributions) if (c.name === name) out.push([cur, c]);
    return out;
  }
}

/** address → the canonical names holding it. */
class AddressIndex {
  private readonly byAddress = new CompactMultiMap<string>();
  private built = false;

  /**
   * `table`: the canonical entries it indexes. The index is built from them on the first reverse
   * lookup, and only from then on kept up to date by updates: a build of 300,000 names does not
   * pay ~0.3 s (365,000 insertions) for an index many workloads never query; the first PTR
   * query after a build pays it once.
   */
  constructor(private readonly table: ReadonlyMap<string, NameInfo>) {}

  /** The canonical name `name` now holds `info`'s addresses. */
  addName(name: string, info: NameInfo): void {
    if (!this.built) return;
    for (const a of info.v4) this.byAddress.add(a, name);
    for (const a of info.v6) this.byAddress.add(a, name);
  }

  /** The canonical name `name` no longer holds `info`'s addresses. */
  removeName(name: string, info: NameInfo): void {
    if (!this.built) return;
    for (const a of info.v4) this.byAddress.remove(a, name);
    for (const a of info.v6) this.byAddress.remove(a, name);
  }

  /** The PTR owner: the smallest name holding the address (order-independent, so stable). */
  owner(address: string): string | undefined {
    this.build();
    const names = this.byAddress.get(address);
    return names.length === 0 ? undefined : names.reduce((a, b) => (b < a ? b : a));
  }

  private build(): void {
    if (this.built) return;
    this.built = true;
    for (const [name, info] of this.table) if (info.canonical === name) this.addName(name, info);
  }
}

/**
 * Keeps the table between reloads. `update` takes the whole input each time but only re-derives
 * what changed: records are compared by identity (the input store hands back the same parsed
 * objects for files that did not change).
 */
export class TableBuilder {
  private units = new Map<object, Unit>();
  /** Registry files as last seen, so an unchanged one is kept without a lookup per record. */
  private fileUnits = new Map<string, FileUnits>();
  private generation = 0;
  private readonly exact = new Map<string, NameInfo>();
  private index = new UnitIndex(this.exact, (c) => this.unitOf(c));
  private readonly wildcards = new Map<string, NameInfo>();
  private addresses = new AddressIndex(this.exact);
  /** canonical name → alias names that currently point at it. */
  private aliasesOf = new Map<string, Set<string>>();
  /** VIPs, written onto their keys. */
  private allocator = new SlotAllocator<VipKey>();
  /** host → the VIP keys of that host (normally one; more when several records name the host). */
  private vipKeys = new CompactMultiMap<VipKey>();
  private globals = '';
  /** VIPs to keep where still free (a Map: a 240,000-key object is slow to look up by computed keys). */
  private hints: Map<string, VipAllocation>;
  private readonly endpointSetIds = new WeakMap<EndpointSet, number>();
  /** Units' endpoint signatures (see `endpointSignature`) where not empty: Services with endpoint sets. */
  private readonly signatures = new WeakMap<Unit, string>();
  private nextEndpointSetId = 1;

  /** `hints`: the persisted allocations, honoured where still free (stable VIPs across restarts). */
  constructor(hints: Allocations = {}) {
    this.hints = new Map(Object.entries(hints));
  }

  /**
   * The unit a table entry that is a contribution comes from: searched among the units of its
   * source's file (at most a few thousand), else among all. Needed only when a second unit comes
   * to offer a solo name (see `UnitIndex`), or a short form's candidates are listed.
   */
  private unitOf(c: Contribution): Unit {
    const file = c.origins[0]?.source.file;
    const units = file === undefined ? undefined : this.fileUnits.get(file)?.units;
    if (units !== undefined) for (const u of units) if (u.contributions.includes(c)) return u;
    for (const u of this.units.values()) if (u.contributions.includes(c)) return u;
    throw new Error(`name table: no unit offers ${c.name}`);
  }

  /** Current VIP allocations, for the state file. */
  allocations(): Allocations {
    const out: Allocations = {};
    // Plain pairs: the state file is their JSON.
    this.vipKeys.forEachStored((stored, host) => {
      if (Array.isArray(stored)) {
        for (const key of stored) if (key.v4 !== undefined) out[keyText(key, host)] = { v4: key.v4, v6: key.v6 };
      } else if (stored.v4 !== undefined) out[keyText(stored, host)] = { v4: stored.v4, v6: stored.v6 };
    });
    return out;
  }

  /**
   * The VIP keys `unit` qualifies for (it holds them unless an earlier record wants the same):
   * those of its record's allocatable hosts, found by host (no list of keys kept per unit).
   * `autoAllocate` is the builder's setting (a change of it resets the builder).
   */
  private wantedKeys(unit: Unit, autoAllocate: boolean): Array<readonly [VipKey, string]> {
    const record = unit.record;
    if (!autoAllocate || record === undefined || record.kind !== 'ServiceEntry') return [];
    const keys: Array<readonly [VipKey, string]> = [];
    for (const host of allocatableHosts(record)) {
      const key = this.findKey(record, host);
      if (key !== undefined && hasWanter(key, unit)) keys.push([key, host]);
    }
    return keys;
  }

  /** The host of `key`, one of `record`'s (the record of a unit that wants it). */
  private hostOf(key: VipKey, record: ServiceEntryRecord): string {
    for (const host of allocatableHosts(record)) if (this.findKey(record, host) === key) return host;
    throw new Error(`name table: no host of ${record.namespace}/${record.name} has this VIP key`);
  }

  /** The VIP `unit` holds for `host`, if any: the key of its record's host, if it owns that key. */
  private heldVip(unit: Unit, record: ServiceEntryRecord, host: string): VipAllocation | undefined {
    const key = this.findKey(record, host);
    return key !== undefined && ownerOf(key) === unit ? (key as VipAllocation) : undefined;
  }

  /** The key of `record`'s `host`, if some unit wants it. */
  private findKey(record: ServiceEntryRecord, host: string): VipKey | undefined {
    const stored = this.vipKeys.raw(host);
    if (stored === undefined) return undefined;
    if (!Array.isArray(stored)) return isKeyOf(stored, record) ? stored : undefined;
    return stored.find((key) => isKeyOf(key, record));
  }

  private reset(): void {
    // Keep VIPs across a reset (e.g. the workload namespace changed): they become hints.
    for (const [key, vip] of Object.entries(this.allocations())) this.hints.set(key, vip);
    this.units = new Map();
    this.fileUnits = new Map();
    this.exact.clear();
    this.index = new UnitIndex(this.exact, (c) => this.unitOf(c));
    this.wildcards.clear();
    this.addresses = new AddressIndex(this.exact);
    this.aliasesOf = new Map();
    this.allocator = new SlotAllocator<VipKey>();
    this.vipKeys = new CompactMultiMap();
  }

  private endpointSignature(sets: readonly EndpointSet[] | undefined): string {
    if (sets === undefined) return '';
    return sets
      .map((s) => {
        let id = this.endpointSetIds.get(s);
        if (id === undefined) {
          id = this.nextEndpointSetId++;
          this.endpointSetIds.set(s, id);
        }
        return id;
      })
      .join(',');
  }

  update(inputs: BuilderInputs): BuildResult {
    const clusterDomain = normalizeName(inputs.clusterDomain);
    const vm = inputs.families ?? BOTH_FAMILIES;
    const globals = `${clusterDomain}|${inputs.namespace}|${inputs.autoAllocate}|${vm.v4}|${vm.v6}`;
    if (globals !== this.globals) {
      this.reset();
      this.globals = globals;
    }

    // Endpoints of headless services may live in other files than their Service.
    const endpointsByService = new Map<string, EndpointSet[]>();
    for (const f of inputs.files) {
      for (const set of f.endpointSets) {
        const key = `${set.namespace}/${set.serviceName}`;
        const list = endpointsByService.get(key);
        if (list === undefined) endpointsByService.set(key, [set]);
        else list.push(set);
      }
    }

    // A first build (nothing derived yet) needs no change tracking: every name the index ends
    // up with is new, in the order it was first offered (remerge walks the index), and every
    // wanted key goes to its first wanter (queued as it is wanted). No dirty/affected Sets.
    const fromEmpty = this.units.size === 0;

    // Which units are new, which are gone: identity of the parsed objects, plus endpoint sets.
    const generation = ++this.generation;
    const added: Unit[] = [];
    const removedUnits: Unit[] = [];
    inputs.files.forEach((f, fileIndex) => {
      const before = this.fileUnits.get(f.file);
      if (keptWhole(before, f.records, generation)) {
        for (const unit of before.units) unit.seen = generation;
        before.generation = generation;
        return;
      }
      const units: Unit[] = [];
      this.fileUnits.set(f.file, { records: f.records, units, hasServices: f.records.some((r) => r.kind === 'Service'), generation });
      f.records.forEach((record, i) => {
        const sets = record.kind === 'Service' ? endpointsByService.get(`${record.namespace}/${record.name}`) : undefined;
        const signature = this.endpointSignature(sets);
        const known = this.units.get(record);
        if (known !== undefined && known.seen === generation) {
          units.push(known); // the same object twice (here or in another file): once is enough
          return;
        }
        if (known !== undefined && (this.signatures.get(known) ?? '') === signature) {
          known.seen = generation;
          units.push(known);
          return;
        }
        if (known !== undefined) removedUnits.push(known); // its endpoints changed: derive it again
        let attached: ServiceRecord = record;
        if (record.kind === 'Service' && sets !== undefined) {
          attached = { ...record, endpoints: mergeEndpoints([...record.endpoints, ...sets.flatMap((s) => s.endpoints)]) };
        }
        const unit: Unit = { fileIndex, file: f.file, position: i, record: attached, contributions: NO_CONTRIBUTIONS, seen: generation };
        if (signature !== '') this.signatures.set(unit, signature);
        this.units.set(record, unit);
        units.push(unit);
        added.push(unit);
      });
    });
    for (const [file, entry] of this.fileUnits) if (entry.generation !== generation) this.fileUnits.delete(file);
    inputs.hostsFiles.forEach((h, i) => {
      const known = this.units.get(h.entries);
      if (known !== undefined) {
        known.seen = generation;
        return;
      }
      const unit: Unit = { fileIndex: HOSTS_FILE_INDEX + i, file: h.file, position: 0, hosts: h, contributions: NO_CONTRIBUTIONS, seen: generation };
      this.units.set(h.entries, unit);
      added.push(unit);
    });
    const removed: Unit[] = removedUnits;
    for (const [key, unit] of this.units) {
      if (unit.seen !== generation) {
        removed.push(unit);
        this.units.delete(key);
      }
    }

    const dirty = new Set<string>();
    /** VIPs released in this update, by `namespace/name/host` (a re-added key gets its VIP back). */
    const released = new Map<string, VipAllocation>();
    let allocationsChanged = false;
    /** Keys whose owner must be decided again (a wanter came or went, or its VIP was claimed). */
    const affectedKeys = new Map<VipKey, string>(); // → its host
    // Units whose names must be derived again, each once (marked with this generation).
    const toDerive: Unit[] = [];
    const derive = (unit: Unit): void => {
      // Only units seen in this update are derived: `seen` is free to carry the mark.
      if (unit.seen === -generation) return;
      unit.seen = -generation;
      toDerive.push(unit);
    };
    for (const unit of added) derive(unit);
    if (fromEmpty) this.index.beginFirstBuild();
    const dropContributions = (unit: Unit): void => {
      for (const c of unit.contributions) {
        this.index.remove(c.name, unit);
        dirty.add(c.name);
      }
      unit.contributions = NO_CONTRIBUTIONS;
    };
    const releaseKey = (key: VipKey, host: string): void => {
      const owner = ownerOf(key);
      const wanters = wantersOf(key);
      const vip = this.allocator.release(key);
      setHolders(key, wanters, undefined);
      // A key holds a VIP only while it has an owner, whose record names the key. Not a change
      // yet: a released key usually gets its VIP back in this same update (a re-parsed file's
      // records are new objects); see the check after allocating.
      if (vip !== undefined) released.set(allocationKey(owner!.record!.namespace, owner!.record!.name, host), vip);
    };

    for (const unit of removed) {
      dropContributions(unit);
      const wantedKeys = this.wantedKeys(unit, inputs.autoAllocate);
      for (const [key, host] of wantedKeys) {
        if (hasWanter(key, unit) && !removeWanter(key, unit)) {
          setHolders(key, NO_WANTERS, ownerOf(key)); // no longer indexed: `findKey` will not return it
          this.vipKeys.remove(host, key);
        }
        affectedKeys.set(key, host);
      }
      for (const [key, host] of wantedKeys) if (ownerOf(key) === unit) releaseKey(key, host);
      if (unit.record !== undefined) this.allocator.unclaim(declaredAddresses(unit.record));
    }

    // Declared addresses first: a VIP they now collide with moves (its owner is re-derived).
    for (const unit of added) {
      if (unit.record === undefined) continue;
      for (const displacedKey of this.allocator.claim(declaredAddresses(unit.record))) {
        const owner = ownerOf(displacedKey);
        if (owner === undefined) continue;
        const host = this.hostOf(displacedKey, owner.record as ServiceEntryRecord);
        releaseKey(displacedKey, host);
        affectedKeys.set(displacedKey, host);
        derive(owner); // its answer loses the claimed address, whoever gets the key next
      }
    }

    if (inputs.autoAllocate) {
      const toAllocate: PendingAllocation[] = [];
      // Who wants which VIP: the new units' qualifying hosts.
      for (const unit of added) {
        const record = unit.record;
        if (record === undefined || record.kind !== 'ServiceEntry') continue;
        const hosts = allocatableHosts(record);
        if (hosts.length === 0) continue;
        for (let i = 0; i < hosts.length; i++) {
          const host = hosts[i];
          let key = this.findKey(record, host);
          const firstWanter = key === undefined;
          if (key === undefined) {
            key = { v4: undefined, v6: '', holders: unit }; // wanted by `unit`, holds nothing yet
            this.vipKeys.add(host, key);
          } else addWanter(key, unit);
          if (!fromEmpty) affectedKeys.set(key, host);
          // From empty, units come in input order, so a key's first wanter is its winner.
          else if (firstWanter) toAllocate.push({ key, unit, record, host, hint: undefined, hintReleased: false });
        }
      }
      // Each affected key goes to its first wanter in input order (the same record a fresh build
      // would pick); a unit that loses or gains a key is re-derived.
      for (const [key, host] of affectedKeys) {
        let winner: Unit | undefined;
        const wanters = wantersOf(key);
        if (Array.isArray(wanters)) {
          for (const u of wanters) if (winner === undefined || compareUnits(u, winner) < 0) winner = u;
        } else winner = wanters;
        const owner = fromEmpty ? undefined : ownerOf(key);
        if (owner === winner) continue; // an owner holds a VIP (cleared on release)
        if (owner !== undefined) {
          releaseKey(key, host);
          derive(owner);
        }
        if (winner !== undefined) {
          derive(winner);
          const record = winner.record as ServiceEntryRecord;
          toAllocate.push({ key, unit: winner, record, host, hint: undefined, hintReleased: false });
        }
      }
      if (toAllocate.length > 1) toAllocate.sort(byAllocationOrder);
      // Hints (a released key's previous VIP, the persisted state) first, then the lowest free.
      // Key strings only when there is something to look up (no string per key in a plain build).
      const lookUp = released.size > 0 || this.hints.size > 0;
      const texts = lookUp ? toAllocate.map((a) => allocationKey(a.record.namespace, a.record.name, a.host)) : undefined;
      if (texts !== undefined) {
        toAllocate.forEach((a, i) => {
          const releasedVip = released.get(texts[i]);
          const hint = releasedVip ?? this.hints.get(texts[i]);
          if (hint === undefined) return;
          this.allocator.takeHint(a.key, hint);
          a.hint = hint;
          a.hintReleased = releasedVip !== undefined;
        });
      }
      // The state file is only rewritten when what it would say changed: a key that is new or
      // got another VIP, a persisted key nobody took again, or a released key left without its
      // VIP (a rewrite of 240,000 allocations costs hundreds of ms, so a reload that gave every
      // key its VIP back must not cause one).
      let regained = 0;
      let keptHints = 0;
      for (const a of toAllocate) {
        const key = a.key;
        const before = a.hint;
        // A key without a hint holds nothing yet: the allocator need not look it up.
        if (before !== undefined) this.allocator.allocate(key);
        else this.allocator.allocateNew(key);
        setHolders(key, wantersOf(key), a.unit);
        if (before === undefined || before.v4 !== key.v4 || before.v6 !== key.v6) allocationsChanged = true;
        else if (a.hintReleased) regained++;
        else keptHints++;
      }
      if (regained !== released.size || keptHints !== this.hints.size) allocationsChanged = true;
    } else if (released.size > 0) allocationsChanged = true;

    // Contributions of the new and re-derived units (a unit only sees the VIPs it owns).
    for (const unit of toDerive) {
      if (unit.contributions.length > 0) dropContributions(unit); // a new unit has none yet
      const record = unit.record;
      let derived: Contribution[];
      if (record === undefined) derived = hostsContributions(unit.hosts!.file, unit.hosts!.entries);
      else if (record.kind === 'Service') derived = kubeContributions(record, clusterDomain, inputs.namespace, vm);
      else {
        derived = serviceEntryContributions(record, (host) => this.heldVip(unit, record, host), vm);
      }
      unit.contributions = exactContributions(derived);
      for (const c of unit.contributions) {
        this.index.add(c.name, unit);
        if (!fromEmpty) dirty.add(c.name);
      }
    }
    // After the first update the persisted state has done its job; later re-adds use `released`.
    this.hints = new Map();

    const fresh: NameInfo[] = [];
    const counts = this.remerge(dirty, fresh, fromEmpty);
    return {
      table: new MapNameTable(this.exact, this.wildcards, this.addresses, inputs.searchDomains.map(normalizeName).filter((d) => d !== '')),
      ...counts,
      allocationsChanged,
      fresh,
      exhausted: { ...this.allocator.exhausted },
    };
  }

  /** Re-merge the dirty names (canonical names first, then the aliases that depend on them). */
  private remerge(dirty: Iterable<string>, fresh: NameInfo[], fromEmpty: boolean): { added: number; removed: number; changed: number } {
    let added = 0;
    let removed = 0;
    let changed = 0;
    const count = (before: NameInfo | undefined, after: NameInfo | undefined): void => {
      if (after !== undefined && after !== before) fresh.push(after);
      if (before === undefined && after !== undefined) added++;
      else if (before !== undefined && after === undefined) removed++;
      else if (before !== undefined && after !== undefined && !sameAnswer(before, after)) changed++;
    };
    const aliasNames = new Set<string>();
    /** One dirty canonical name; `stored` is its index entry when the caller already has it. */
    const remergeName = (name: string, stored: Unit | Unit[] | undefined): void => {
      if (name === '*') {
        // A bare `*` host would capture every query; Istio's proxy ignores it too.
        this.index.settle(name, stored, undefined);
        return;
      }
      const sole = soleContribution(name, stored);
      let canonical: NameInfo | undefined;
      if (sole !== undefined) {
        // One source: it is the entry, unless it is a short form.
        canonical = isAlias(sole) ? undefined : sole;
        if (isAlias(sole)) aliasNames.add(name);
      } else {
        const contributions = this.index.contributionsOf(name);
        canonical = mergeCanonical(name, contributions);
        // Alias contributions of this name (it may be a short form, now or before).
        for (const [, c] of contributions) if (isAlias(c)) aliasNames.add(name);
      }
      if (name.startsWith('*.')) {
        const apex = name.slice(2);
        const before = this.wildcards.get(apex);
        if (canonical === undefined) this.wildcards.delete(apex);
        else this.wildcards.set(apex, canonical);
        this.index.settle(name, stored, undefined); // its entry is in `wildcards`
        count(before, canonical);
        return;
      }
      // From empty, no canonical name was in the table before (each dirty name comes once).
      const before = fromEmpty ? undefined : this.exact.get(name);
      const beforeWasCanonical = before !== undefined && before.canonical === name;
      if (canonical === undefined && !beforeWasCanonical) {
        this.index.settle(name, stored, before);
        if (before !== undefined) aliasNames.add(name); // an alias whose sources changed
        return;
      }
      if (beforeWasCanonical) this.addresses.removeName(name, before);
      if (canonical === undefined) {
        this.exact.delete(name);
        aliasNames.add(name); // an alias may take over the spelling
      } else {
        this.exact.set(name, canonical);
        this.addresses.addName(name, canonical);
      }
      this.index.settle(name, stored, canonical);
      count(before, canonical);
      // Short forms of this canonical name follow it.
      const shortForms = fromEmpty ? undefined : this.aliasesOf.get(name); // none yet from empty
      if (shortForms !== undefined) for (const alias of shortForms) aliasNames.add(alias);
    };
    // From empty, every indexed name is dirty: walk the index itself (no lookup per name).
    if (fromEmpty) {
      this.index.forEachFresh((stored, name) => remergeName(name, stored));
      this.index.endFirstBuild();
    } else for (const name of dirty) remergeName(name, this.index.raw(name));
    for (const alias of aliasNames) {
      const before = this.exact.get(alias);
      if (before !== undefined && before.canonical === alias) continue; // a canonical name beats an alias
      // The first short form (in input order) whose canonical name is in the table wins.
      const units = this.index.raw(alias);
      const candidates = this.index
        .contributionsOf(alias)
        .filter(([, c]) => isAlias(c))
        .sort(byOrder);
      let after: NameInfo | undefined;
      for (const [, c] of candidates) {
        const target = this.exact.get(c.canonical);
        if (target !== undefined && target.canonical === c.canonical) {
          // Unchanged short forms keep their object (and with it their precomputed answer bytes).
          after =
            before !== undefined && before.canonical === target.canonical && sameAnswer(before, target) && before.origins === target.origins
              ? before
              : { name: alias, canonical: target.canonical, v4: target.v4, v6: target.v6, ports: target.ports, origins: target.origins };
          break;
        }
      }
      if (before !== undefined && before.canonical !== alias) this.aliasesOf.get(before.canonical)?.delete(alias);
      if (after === undefined) this.exact.delete(alias);
      else this.exact.set(alias, after);
      this.index.settle(alias, units, after);
      if (after !== undefined) {
        let set = this.aliasesOf.get(after.canonical);
        if (set === undefined) this.aliasesOf.set(after.canonical, (set = new Set()));
        set.add(alias);
      }
      count(before, after);
    }
    return { added, removed, changed };
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameAnswer(a: NameInfo, b: NameInfo): boolean {
  return sameList(a.v4, b.v4) && sameList(a.v6, b.v6) && a.ports.length === b.ports.length && a.ports.every((p, i) => p.port === b.ports[i].port && p.name === b.ports[i].name);
}

/** Everything the one-shot table is a pure function of (tests, `meshdns table`). */
export interface TableInputs {
  records: readonly ServiceRecord[];
  /** Local VIPs by `namespace/name/host` (as the VIP state file keeps them). */
  allocations: Readonly<Allocations>;
  hostsFiles: ReadonlyArray<{ file: string; entries: readonly HostsEntry[] }>;
  clusterDomain: string;
  namespace: string;
  searchDomains: readonly string[];
}

/**
 * Build the table in one go (docs/ARCHITECTURE.md §2). Pure: same inputs, same table. The records are taken
 * as they are (endpoints already attached); `allocations` seed the allocator, so the VIPs are
 * the given ones.
 */
export function buildNameTable(inputs: TableInputs): NameTable {
  const builder = new TableBuilder(inputs.allocations);
  return builder.update({
    files: [{ file: '', records: inputs.records, endpointSets: [] }],
    hostsFiles: inputs.hostsFiles,
    clusterDomain: inputs.clusterDomain,
    namespace: inputs.namespace,
    searchDomains: inputs.searchDomains,
    autoAllocate: Object.keys(inputs.allocations).length > 0,
  }).table;
}

class MapNameTable implements NameTable {
  readonly size: number;

  constructor(
    private readonly exact: ReadonlyMap<string, NameInfo>,
    private readonly wildcards: ReadonlyMap<string, NameInfo>,
    private readonly addresses: AddressIndex,
    readonly searchDomains: readonly string[],
  ) {
    this.size = exact.size + wildcards.size;
  }

  /** Most specific `*.apex` first: walk the name's suffixes from the longest proper one. */
  private matchWildcard(name: string): NameInfo | undefined {
    if (this.wildcards.size === 0) return undefined;
    let dot = name.indexOf('.');
    while (dot !== -1) {
      const info = this.wildcards.get(name.slice(dot + 1));
      if (info !== undefined) return info;
      dot = name.indexOf('.', dot + 1);
    }
    return undefined;
  }

  lookup(name: string): Lookup | undefined {
    const info = this.exact.get(name);
    if (info !== undefined) return { kind: 'name', info };
    const wild = this.matchWildcard(name);
    if (wild !== undefined) return { kind: 'wildcard', info: wild };
    // `X.<search domain>` for X in the table: the resolver's search walk, answered locally.
    for (const domain of this.searchDomains) {
      if (name.length <= domain.length + 1 || !name.endsWith(domain) || name.charCodeAt(name.length - domain.length - 1) !== 46) continue;
      const target = name.slice(0, name.length - domain.length - 1);
      // A name already under this search domain is not expanded again (Istio's rule): the
      // doubled form `x.ns.svc.cluster.local.ns.svc.cluster.local` goes upstream (NXDOMAIN).
      if (target.endsWith(domain) && target.charCodeAt(target.length - domain.length - 1) === 46) continue;
      const direct = this.exact.get(target);
      if (direct !== undefined) return { kind: 'search', info: direct, target, searchDomain: domain, viaWildcard: false };
      const viaWildcard = this.matchWildcard(target);
      if (viaWildcard !== undefined) return { kind: 'search', info: viaWildcard, target, searchDomain: domain, viaWildcard: true };
    }
    return undefined;
  }

  lookupSrv(name: string): SrvLookup | undefined {
    // `_port._proto.<name>`
    if (name.charCodeAt(0) !== 95) return undefined;
    const d1 = name.indexOf('.');
    if (d1 < 2 || name.charCodeAt(d1 + 1) !== 95) return undefined;
    const d2 = name.indexOf('.', d1 + 1);
    if (d2 < 0) return undefined;
    const portName = name.slice(1, d1);
    const proto = name.slice(d1 + 2, d2);
    const rest = name.slice(d2 + 1);
    const found = this.lookup(rest);
    if (found === undefined) return undefined;
    const port = found.info.ports.find((p) => p.name.toLowerCase() === portName && p.transport === proto);
    if (port === undefined) return undefined;
    // The SRV target must resolve on its own: the FQDN, or the concrete name a wildcard matched.
    const target =
      found.kind === 'wildcard' ? rest : found.kind === 'search' && found.viaWildcard ? found.target : found.info.canonical;
    return { info: found.info, target, port };
  }

  lookupPtr(name: string): string | undefined {
    const address = addressOfReverseName(name);
    return address === undefined ? undefined : this.addresses.owner(address);
  }

  *entries(): IterableIterator<NameInfo> {
    yield* this.exact.values();
    yield* this.wildcards.values();
  }
}
