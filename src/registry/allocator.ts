import { isIPv4, isIPv6 } from 'node:net';
import type { ServiceEntryRecord, ServiceRecord, VipAllocation } from './types';

/**
 * Local VIP auto-allocation with Istio's v2 semantics (docs/ARCHITECTURE.md §2): one IPv4 from 240.240.0.0/16
 * and one IPv6 from 2001:2::/48 per qualifying ServiceEntry host, handed out sequentially from
 * 240.240.0.1 / 2001:2::1, skipping every address already in use. Pure: the previous allocations
 * come in, the new ones go out; persisting them is `allocatorState.ts`'s job.
 */

/** `namespace/name/host`: the identity an allocation belongs to. */
export type AllocationKey = string;
export type Allocations = Record<AllocationKey, VipAllocation>;

export function allocationKey(namespace: string, name: string, host: string): AllocationKey {
  // join, not a template: a template builds a rope of concatenations that the key keeps (and
  // map lookups flatten again); join writes one flat string. One key per allocatable host.
  return [namespace, name, host].join('/');
}

const V4_BASE = ipv4ToInt('240.240.0.0');
/** Usable offsets in 240.240.0.0/16: .0.1 … .255.254 (network and broadcast skipped). */
export const V4_MAX_OFFSET = 0xfffe;
/** 2001:2::/48 leaves 80 host bits; offsets beyond 2^48 are never reached in practice. */
export const V6_MAX_OFFSET = 2 ** 48 - 1;

/** Does this host of this ServiceEntry get a local VIP? */
export function qualifiesForAllocation(record: ServiceEntryRecord, host: string): boolean {
  return recordQualifies(record) && hostQualifies(record, host);
}

/** The record-level half: resolution, opt-out label, declared addresses. */
function recordQualifies(record: ServiceEntryRecord): boolean {
  return record.resolution !== 'NONE' && record.autoAllocate && record.addresses.length === 0 && record.declaresAddresses !== true;
}

/** The host-level half: no wildcard, and istiod has not allocated it already (status.addresses). */
function hostQualifies(record: ServiceEntryRecord, host: string): boolean {
  if (host.startsWith('*')) return false;
  const status = statusAddressesOf(record, host);
  return status === undefined || status.length === 0;
}

/**
 * `status.addresses` of one host. Most records have none, and indexing an empty object with a
 * host string is not free (the engine looks the text up among its interned strings), and this
 * runs for every host of a build. So an empty map is checked first.
 */
export function statusAddressesOf(record: ServiceEntryRecord, host: string): readonly string[] | undefined {
  return hasKeys(record.statusAddresses) ? record.statusAddresses[host] : undefined;
}

function hasKeys(object: object): boolean {
  for (const key in object) if (Object.prototype.hasOwnProperty.call(object, key)) return true;
  return false;
}

/**
 * Compares two hosts in first-time allocation order without building their sort keys: the
 * same result as comparing the sort keys of the tests' oracle (fields are compared one by one, a field that is a
 * prefix of the other sorting first, as "\u0001" does in the key), for fields free of "\u0000"
 * and "\u0001" (Kubernetes names and timestamps are).
 */
export function compareAllocationOrder(a: ServiceEntryRecord, hostA: string, b: ServiceEntryRecord, hostB: string): number {
  if (a === b) return compareText(hostA, hostB); // hosts of one record: only the host differs
  return (
    compareText(a.creationTimestamp ?? '~', b.creationTimestamp ?? '~') ||
    compareText(a.namespace, b.namespace) ||
    compareText(a.name, b.name) ||
    compareText(hostA, hostB)
  );
}

function compareText(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** Addresses a record declares (spec, status, clusterIP): never handed out as VIPs. */
export function declaredAddresses(record: ServiceRecord): string[] {
  if (record.kind === 'Service') return record.addresses;
  const out = [...record.addresses];
  for (const host in record.statusAddresses) out.push(...record.statusAddresses[host]);
  return out;
}

/** The hosts of a record that get a local VIP (docs/ARCHITECTURE.md §2 qualification). */
export function allocatableHosts(record: ServiceRecord): string[] {
  // Record-level checks once, not per host: most records stop here.
  if (record.kind === 'Service' || !recordQualifies(record)) return [];
  return record.hosts.filter((host) => hostQualifies(record, host));
}

function ipv4ToInt(ip: string): number {
  const p = ip.split('.');
  return ((Number(p[0]) << 24) >>> 0) + (Number(p[1]) << 16) + (Number(p[2]) << 8) + Number(p[3]);
}

function intToIpv4(n: number): string {
  // One flat string (see allocationKey): VIP texts live as long as the table.
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Offset of `ip` inside 240.240.0.0/16, or undefined when outside it. */
export function ipv4Offset(ip: string): number | undefined {
  if (!isIPv4(ip)) return undefined;
  const n = ipv4ToInt(ip);
  const off = n - V4_BASE;
  return off >= 0 && off <= 0xffff ? off : undefined;
}

/** The 8 16-bit groups of an IPv6 address (no zone). */
function ipv6Groups(ip: string): number[] | undefined {
  if (!isIPv6(ip)) return undefined;
  let text = ip.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4tail) {
    const n = ipv4ToInt(v4tail[1]);
    text = text.slice(0, -v4tail[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const groups = [...h, ...Array(fill).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 ? groups : undefined;
}

/** Offset of `ip` inside 2001:2::/48 (low 48 bits only; higher host bits → not ours). */
export function ipv6Offset(ip: string): number | undefined {
  const g = ipv6Groups(ip);
  if (g === undefined) return undefined;
  if (g[0] !== 0x2001 || g[1] !== 0x0002 || g[2] !== 0 || g[3] !== 0 || g[4] !== 0) return undefined;
  return g[5] * 2 ** 32 + g[6] * 2 ** 16 + g[7];
}

export function ipv6FromOffset(off: number): string {
  const g5 = Math.floor(off / 2 ** 32);
  const g6 = Math.floor(off / 2 ** 16) % 2 ** 16;
  const g7 = off % 2 ** 16;
  // `2001:2::` + the groups from the first non-zero one, written by one join so the text is one
  // flat string (see allocationKey), with one array per call (one call per allocated VIP).
  if (g5 !== 0) return ['2001', '2', '', g5.toString(16), g6.toString(16), g7.toString(16)].join(':');
  if (g6 !== 0) return ['2001', '2', '', g6.toString(16), g7.toString(16)].join(':');
  return ['2001', '2', '', g7.toString(16)].join(':');
}

export function ipv4FromOffset(off: number): string {
  return intToIpv4(V4_BASE + off);
}
