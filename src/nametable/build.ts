import type { HostsEntry } from '../config/types';
import type { KubeServiceRecord, ServiceEntryRecord, ServicePort, ServiceRecord, SourceRef, VipAllocation } from '../registry/types';
import type { Lookup, NameInfo, NameOrigin, NameTable, SrvLookup } from './types';
import { addressOfReverseName } from './reverse';

/** Everything the table is a pure function of. */
export interface TableInputs {
  records: readonly ServiceRecord[];
  /** Local VIPs by `namespace/name/host` (see registry/allocator). */
  allocations: Readonly<Record<string, VipAllocation>>;
  hostsFiles: ReadonlyArray<{ file: string; entries: readonly HostsEntry[] }>;
  clusterDomain: string;
  /** The workload's namespace: Kubernetes services there are also reachable by their bare name. */
  namespace: string;
  /** Search domains of the original resolv.conf, in order. */
  searchDomains: readonly string[];
}

/** Precedence when two sources claim one name: hosts-file pins > Kubernetes > ServiceEntry. */
const RANK: Record<NameOrigin['kind'], number> = { hosts: 3, Service: 2, ServiceEntry: 1 };

interface MutableEntry {
  name: string;
  canonical: string;
  v4: string[];
  v6: string[];
  ports: readonly ServicePort[];
  origins: NameOrigin[];
  rank: number;
  /** `ports` is still the record's own array (shared, not copied until a merge changes it). */
  sharedPorts: boolean;
}

function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Addresses reach the table already validated and in canonical form (the registry, hosts and
 * allocator all canonicalize), so the family is a character test, not a parse: this runs for
 * every address of a 300,000-name table.
 */
function splitFamilies(addresses: readonly string[]): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const a of addresses) {
    if (a.includes(':')) {
      if (!v6.includes(a)) v6.push(a);
    } else if (a !== '' && !v4.includes(a)) v4.push(a);
  }
  return { v4, v6 };
}

/**
 * Collects canonical names with Istio's merge rules: the same host from two ServiceEntries
 * merges addresses; a Kubernetes Service replaces ServiceEntry addresses; a hosts-file pin
 * replaces both (an operator's explicit choice).
 */
class CanonicalNames {
  readonly byName = new Map<string, MutableEntry>();

  add(name: string, addresses: readonly string[], ports: readonly ServicePort[], origin: NameOrigin): void {
    const { v4, v6 } = splitFamilies(addresses);
    if (v4.length === 0 && v6.length === 0) return;
    const rank = RANK[origin.kind];
    const existing = this.byName.get(name);
    if (existing === undefined || rank > existing.rank) {
      this.byName.set(name, { name, canonical: name, v4, v6, ports, origins: [origin], rank, sharedPorts: true });
      return;
    }
    if (rank < existing.rank) return;
    for (const a of v4) if (!existing.v4.includes(a)) existing.v4.push(a);
    for (const a of v6) if (!existing.v6.includes(a)) existing.v6.push(a);
    for (const p of ports) {
      if (existing.ports.some((q) => q.name === p.name && q.transport === p.transport)) continue;
      if (existing.sharedPorts) {
        existing.ports = [...existing.ports];
        existing.sharedPorts = false;
      }
      (existing.ports as ServicePort[]).push(p);
    }
    existing.origins.push(origin);
  }
}

/** A Kubernetes-style name whose short forms exist (`name.ns`, `name.ns.svc`, `name`). */
interface KubeName {
  fqdn: string;
  shortName: string;
  namespace: string;
}

function serviceEntryAddresses(
  record: ServiceEntryRecord,
  host: string,
  allocations: TableInputs['allocations'],
): { addresses: string[]; via: NameOrigin['via'] } | undefined {
  if (record.addresses.length > 0) return { addresses: record.addresses, via: 'spec.addresses' };
  const status = record.statusAddresses[host];
  if (status !== undefined && status.length > 0) return { addresses: status, via: 'status.addresses' };
  const vip = allocations[`${record.namespace}/${record.name}/${host}`];
  if (vip !== undefined && !host.startsWith('*')) {
    const addresses = [vip.v4, vip.v6].filter((a) => a !== '');
    if (addresses.length > 0) return { addresses, via: 'allocated' };
  }
  if (record.resolution === 'NONE' && record.endpoints.length > 0) return { addresses: record.endpoints, via: 'endpoints' };
  return undefined;
}

function addKubeService(
  svc: KubeServiceRecord,
  clusterDomain: string,
  names: CanonicalNames,
  kubeNames: KubeName[],
): void {
  if (svc.type === 'ExternalName') return;
  const fqdn = `${svc.name}.${svc.namespace}.svc.${clusterDomain}`;
  if (svc.type === 'ClusterIP') {
    names.add(fqdn, svc.addresses, svc.ports, { kind: 'Service', source: svc.source, via: 'clusterIP' });
  } else {
    const ready = svc.endpoints.filter((e) => e.ready);
    names.add(fqdn, ready.map((e) => e.address), svc.ports, { kind: 'Service', source: svc.source, via: 'endpoints' });
    // Per-pod names of a headless service (StatefulSet pods): hostname.service.ns.svc.<domain>.
    for (const ep of ready) {
      if (ep.hostname === undefined || ep.hostname === '') continue;
      const podFqdn = `${ep.hostname}.${svc.name}.${svc.namespace}.svc.${clusterDomain}`;
      names.add(podFqdn, [ep.address], svc.ports, { kind: 'Service', source: svc.source, via: 'endpoints' });
      kubeNames.push({ fqdn: podFqdn, shortName: `${ep.hostname}.${svc.name}`, namespace: svc.namespace });
    }
  }
  kubeNames.push({ fqdn, shortName: svc.name, namespace: svc.namespace });
}

function hostsSource(file: string, entry: HostsEntry): SourceRef {
  return { file, document: String(entry.line), kind: 'hosts', namespace: '', name: entry.names[0] ?? '' };
}

/** Build the immutable table (DESIGN §2). Pure: same inputs, same table. */
export function buildNameTable(inputs: TableInputs): NameTable {
  const clusterDomain = normalizeName(inputs.clusterDomain);
  const names = new CanonicalNames();
  const kubeNames: KubeName[] = [];

  for (const record of inputs.records) {
    if (record.kind === 'Service') {
      addKubeService(record, clusterDomain, names, kubeNames);
      continue;
    }
    // One origin object per record and way of addressing, shared by its hosts.
    const originFor: Partial<Record<NameOrigin['via'], NameOrigin>> = {};
    for (const rawHost of record.hosts) {
      const host = normalizeName(rawHost);
      const found = serviceEntryAddresses(record, host, inputs.allocations);
      if (found === undefined) continue; // no usable address: the name forwards
      const origin = (originFor[found.via] ??= { kind: 'ServiceEntry', source: record.source, via: found.via });
      names.add(host, found.addresses, record.ports, origin);
    }
  }
  for (const { file, entries } of inputs.hostsFiles) {
    for (const entry of entries) {
      for (const n of entry.names) {
        names.add(normalizeName(n), [entry.address], [], { kind: 'hosts', source: hostsSource(file, entry), via: 'hosts' });
      }
    }
  }

  const exact = new Map<string, NameInfo>();
  const wildcards = new Map<string, NameInfo>(); // apex → info of `*.apex`
  const ptr = new Map<string, string>(); // address → the first canonical name holding it

  // Input order is deterministic (files sorted, documents in order), so first-wins rules for PTR
  // owners and alias collisions are too, without sorting 300,000 names. The entries themselves
  // become the NameInfo objects (no copies: at this scale every allocation shows in the GC).
  for (const [name, entry] of names.byName) {
    if (name === '*') continue; // a bare `*` host would capture every query; Istio's proxy ignores it too
    if (name.startsWith('*.')) {
      wildcards.set(name.slice(2), entry);
      continue;
    }
    exact.set(name, entry);
    for (const a of entry.v4) if (!ptr.has(a)) ptr.set(a, name);
    for (const a of entry.v6) if (!ptr.has(a)) ptr.set(a, name);
  }

  // Short forms of Kubernetes names: `name.ns`, `name.ns.svc`, and `name` in the workload's
  // namespace. A canonical name always beats an alias with the same spelling.
  const svcLabel = 'svc';
  const aliases: Array<[string, string]> = [];
  for (const k of kubeNames) {
    if (!exact.has(k.fqdn)) continue;
    aliases.push([`${k.shortName}.${k.namespace}`, k.fqdn]);
    aliases.push([`${k.shortName}.${k.namespace}.${svcLabel}`, k.fqdn]);
    if (k.namespace === inputs.namespace) aliases.push([k.shortName, k.fqdn]);
  }
  for (const [alias, fqdn] of aliases) {
    if (exact.has(alias)) continue;
    const target = exact.get(fqdn)!;
    exact.set(alias, { name: alias, canonical: target.canonical, v4: target.v4, v6: target.v6, ports: target.ports, origins: target.origins });
  }

  const searchDomains = inputs.searchDomains.map(normalizeName).filter((d) => d !== '');
  return new MapNameTable(exact, wildcards, ptr, searchDomains);
}

class MapNameTable implements NameTable {
  readonly size: number;

  constructor(
    private readonly exact: ReadonlyMap<string, NameInfo>,
    private readonly wildcards: ReadonlyMap<string, NameInfo>,
    private readonly ptr: ReadonlyMap<string, string>,
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
    return address === undefined ? undefined : this.ptr.get(address);
  }

  *entries(): IterableIterator<NameInfo> {
    yield* this.exact.values();
    yield* this.wildcards.values();
  }
}
