/**
 * Istio's name rules (docs/ARCHITECTURE.md §2, docs/istio-dns-parity.md), as pure functions:
 * one record or hosts file → the names it offers and what each answers. Read this file first;
 * how the contributions of one name are merged is merge.ts, and keeping them up to date across
 * reloads is build.ts.
 */
import type { HostsEntry } from '../config/types';
import { statusAddressesOf } from '../registry/allocator';
import { dotted, serviceFqdn } from '../registry/names';
import type { KubeServiceRecord, ServiceEntryRecord, ServicePort, ServiceRecord, SourceRef, VipAllocation } from '../registry/types';
import type { NameInfo, NameOrigin } from './types';
import { forVm, type VmFamilies } from './ipFamily';

/** No family restriction (a dual-stack VM, or none known). */
export const BOTH_FAMILIES: VmFamilies = { v4: true, v6: true };

/** Precedence when sources claim one name: hosts-file pins > Kubernetes > ServiceEntry > alias. */
export const RANK_HOSTS = 3;
export const RANK_SERVICE = 2;
export const RANK_SERVICE_ENTRY = 1;
export const RANK_ALIAS = 0;

/**
 * One name offered by one record or hosts file, shaped as the NameInfo it becomes when it is the
 * name's only source (most names have one, and then the contribution itself is the entry).
 * A short form (alias) has `canonical !== name` and no addresses of its own.
 */
export type Contribution = NameInfo;

export function isAlias(c: Contribution): boolean {
  return c.canonical !== c.name;
}

/** Precedence of a source's own names (its short forms rank RANK_ALIAS); `undefined`: a hosts file. */
export function sourceRank(record: ServiceRecord | undefined): number {
  if (record === undefined) return RANK_HOSTS;
  return record.kind === 'Service' ? RANK_SERVICE : RANK_SERVICE_ENTRY;
}

/** Shared by the many sources and names that have none. */
export const NONE: readonly string[] = Object.freeze([]);
const NO_PORTS: readonly ServicePort[] = Object.freeze([]);

/** Lower-case, no trailing dot. Registry hosts already are: they are returned as they are, not copied. */
export function normalizeName(name: string): string {
  const lower = /[A-Z]/.test(name) ? name.toLowerCase() : name;
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

interface Families {
  v4: readonly string[];
  v6: readonly string[];
}

const NO_ADDRESSES: Families = { v4: NONE, v6: NONE };

/**
 * An array of exactly `list`'s elements: arrays grown by `push` keep spare capacity, which the
 * table would hold for its lifetime.
 */
export function exactCopy(list: readonly string[]): readonly string[] {
  return list.length === 0 ? NONE : list.slice();
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
  const forms = [dotted(shortName, namespace), dotted(shortName, namespace, 'svc')];
  if (namespace === workloadNamespace) forms.push(shortName);
  return forms.map((name) => nameInfo(name, fqdn, NO_ADDRESSES, NO_PORTS, origins));
}

export function kubeContributions(svc: KubeServiceRecord, clusterDomain: string, workloadNamespace: string, vm: VmFamilies = BOTH_FAMILIES): Contribution[] {
  if (svc.type === 'ExternalName') return [];
  const out: Contribution[] = [];
  const fqdn = serviceFqdn(svc.name, svc.namespace, clusterDomain);
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
    const podFqdn = dotted(ep.hostname, svc.name, svc.namespace, 'svc', clusterDomain);
    const pod = splitFamilies([ep.address]);
    if (hasAddress(pod)) out.push(nameInfo(podFqdn, podFqdn, pod, svc.ports, origins), ...aliases(podFqdn, dotted(ep.hostname, svc.name), svc.namespace, workloadNamespace, origins));
  }
  return out;
}

/**
 * The names of a ServiceEntry: each host with its addresses in Istio's order of preference
 * (spec.addresses, status.addresses, a VIP this unit holds, NONE's endpoints); a host without
 * any usable address is left out (the name forwards).
 */
export function serviceEntryContributions(record: ServiceEntryRecord, vipOf: (host: string) => VipAllocation | undefined, vm: VmFamilies = BOTH_FAMILIES): Contribution[] {
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

export function hostsContributions(file: string, entries: readonly HostsEntry[]): Contribution[] {
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

/** What the rules read besides the record: the cluster domain and the workload's namespace. */
export interface NameContext {
  clusterDomain: string;
  /** The workload's namespace: Kubernetes services there are also reachable by their bare name. */
  namespace: string;
  /** The VM's IP families (issue 17): a single-stack VM gets no service address of the other. */
  families: VmFamilies;
}

/** Where names come from: a registry record (endpoints attached), or else a hosts file. */
export interface NameSource {
  readonly record?: ServiceRecord;
  readonly hosts?: { file: string; entries: readonly HostsEntry[] };
}

/**
 * Every name `source` offers. `vipOf(host)`: the VIP this source holds for a ServiceEntry host,
 * if any (a locally allocated VIP is used only by the record it was allocated to).
 */
export function deriveNames(source: NameSource, context: NameContext, vipOf: (host: string) => VipAllocation | undefined): Contribution[] {
  const record = source.record;
  if (record === undefined) return source.hosts === undefined ? [] : hostsContributions(source.hosts.file, source.hosts.entries);
  if (record.kind === 'Service') return kubeContributions(record, context.clusterDomain, context.namespace, context.families);
  return serviceEntryContributions(record, vipOf, context.families);
}
