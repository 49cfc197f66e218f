import { isIPv4, isIPv6 } from 'node:net';
import type { ServiceEntryRecord, ServiceRecord, VipAllocation } from './types';

/**
 * Local VIP auto-allocation with Istio's v2 semantics (DESIGN §2): one IPv4 from 240.240.0.0/16
 * and one IPv6 from 2001:2::/48 per qualifying ServiceEntry host, handed out sequentially from
 * 240.240.0.1 / 2001:2::1, skipping every address already in use. Pure: the previous allocations
 * come in, the new ones go out; persisting them is `allocatorState.ts`'s job.
 */

/** `namespace/name/host`: the identity an allocation belongs to. */
export type AllocationKey = string;
export type Allocations = Record<AllocationKey, VipAllocation>;

export function allocationKey(namespace: string, name: string, host: string): AllocationKey {
  return `${namespace}/${name}/${host}`;
}

const V4_BASE = ipv4ToInt('240.240.0.0');
/** Usable offsets in 240.240.0.0/16: .0.1 … .255.254 (network and broadcast skipped). */
const V4_MAX_OFFSET = 0xfffe;
/** 2001:2::/48 leaves 80 host bits; offsets beyond 2^48 are never reached in practice. */
const V6_MAX_OFFSET = 2 ** 48 - 1;

export const AUTO_ALLOCATE_V4_CIDR = '240.240.0.0/16';
export const AUTO_ALLOCATE_V6_CIDR = '2001:2::/48';

interface Candidate {
  key: AllocationKey;
  record: ServiceEntryRecord;
  host: string;
  /** Creation time, namespace, name, host joined so one string comparison sorts (see below). */
  order: string;
}

/** Does this host of this ServiceEntry get a local VIP? */
export function qualifiesForAllocation(record: ServiceEntryRecord, host: string): boolean {
  if (record.resolution === 'NONE') return false;
  if (!record.autoAllocate) return false;
  if (record.addresses.length > 0 || record.declaresAddresses === true) return false;
  if (host.startsWith('*')) return false;
  // istiod already allocated this host (status.addresses): use that, do not allocate twice.
  const status = record.statusAddresses[host];
  if (status !== undefined && status.length > 0) return false;
  return true;
}

/**
 * Stable order for first-time allocation: creation time, then namespace, name, host — as one
 * sort key. Objects without a timestamp (hand-written files) sort after the stamped ones ("~"
 * is above every digit); "\u0001" separates fields below every character a name can hold.
 */
function orderKey(record: ServiceEntryRecord, host: string): string {
  return `${record.creationTimestamp ?? '~'}\u0001${record.namespace}\u0001${record.name}\u0001${host}`;
}

export interface AllocationResult {
  allocations: Allocations;
  /** Qualifying hosts left without an address of a family because its range is full. */
  exhausted: { v4: number; v6: number };
}

/**
 * Allocate VIPs for every qualifying ServiceEntry host. Hosts that had an allocation keep it
 * (stable across restarts and unrelated changes) unless a spec/status address now claims it;
 * new hosts get the lowest free addresses in deterministic order. Allocations of hosts that are
 * gone are released.
 */
export function allocateVips(records: readonly ServiceRecord[], previous: Allocations): AllocationResult {
  const usedV4 = new Set<number>();
  const usedV6 = new Set<number>();
  const claim = (ip: string): void => {
    const v4 = v4Offset(ip);
    if (v4 !== undefined) usedV4.add(v4);
    const v6 = v6Offset(ip);
    if (v6 !== undefined) usedV6.add(v6);
  };

  const candidates: Candidate[] = [];
  const seen = new Set<AllocationKey>();
  for (const record of records) {
    if (record.kind === 'Service') {
      record.addresses.forEach(claim);
      continue;
    }
    record.addresses.forEach(claim);
    for (const ips of Object.values(record.statusAddresses)) ips.forEach(claim);
    // Cheap record-level checks first: most hosts of a 100,000-entry registry fail or pass here.
    if (record.resolution === 'NONE' || !record.autoAllocate || record.addresses.length > 0 || record.declaresAddresses === true) continue;
    let hasStatus = false;
    for (const _ in record.statusAddresses) {
      hasStatus = true;
      break;
    }
    for (const host of record.hosts) {
      if (host.startsWith('*')) continue;
      if (hasStatus && !qualifiesForAllocation(record, host)) continue;
      const key = allocationKey(record.namespace, record.name, host);
      if (seen.has(key)) continue;
      seen.add(key);
      candidates.push({ key, record, host, order: orderKey(record, host) });
    }
  }
  candidates.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));

  const v4Of = new Map<AllocationKey, number>();
  const v6Of = new Map<AllocationKey, number>();
  // First pass: keep previous allocations that are still free, in candidate order so that two
  // keys claiming one address (a corrupted state file) resolve deterministically.
  for (const c of candidates) {
    const prev = previous[c.key];
    if (prev === undefined) continue;
    const o4 = v4Offset(prev.v4);
    if (o4 !== undefined && !usedV4.has(o4)) {
      usedV4.add(o4);
      v4Of.set(c.key, o4);
    }
    const o6 = v6Offset(prev.v6);
    if (o6 !== undefined && !usedV6.has(o6)) {
      usedV6.add(o6);
      v6Of.set(c.key, o6);
    }
  }

  const exhausted = { v4: 0, v6: 0 };
  let cursor4 = 1;
  let cursor6 = 1;
  const allocations: Allocations = {};
  for (const c of candidates) {
    let o4 = v4Of.get(c.key);
    if (o4 === undefined) {
      while (cursor4 <= V4_MAX_OFFSET && usedV4.has(cursor4)) cursor4++;
      if (cursor4 <= V4_MAX_OFFSET) {
        o4 = cursor4;
        usedV4.add(cursor4);
      } else exhausted.v4++;
    }
    let o6 = v6Of.get(c.key);
    if (o6 === undefined) {
      while (cursor6 <= V6_MAX_OFFSET && usedV6.has(cursor6)) cursor6++;
      if (cursor6 <= V6_MAX_OFFSET) {
        o6 = cursor6;
        usedV6.add(cursor6);
      } else exhausted.v6++;
    }
    allocations[c.key] = {
      v4: o4 === undefined ? '' : intToIpv4(V4_BASE + o4),
      v6: o6 === undefined ? '' : v6FromOffset(o6),
    };
  }
  return { allocations, exhausted };
}

function ipv4ToInt(ip: string): number {
  const p = ip.split('.');
  return ((Number(p[0]) << 24) >>> 0) + (Number(p[1]) << 16) + (Number(p[2]) << 8) + Number(p[3]);
}

function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Offset of `ip` inside 240.240.0.0/16, or undefined when outside it. */
function v4Offset(ip: string): number | undefined {
  if (!isIPv4(ip)) return undefined;
  const n = ipv4ToInt(ip);
  const off = n - V4_BASE;
  return off >= 0 && off <= 0xffff ? off : undefined;
}

/** The 8 16-bit groups of an IPv6 address (no zone). */
export function ipv6Groups(ip: string): number[] | undefined {
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
function v6Offset(ip: string): number | undefined {
  const g = ipv6Groups(ip);
  if (g === undefined) return undefined;
  if (g[0] !== 0x2001 || g[1] !== 0x0002 || g[2] !== 0 || g[3] !== 0 || g[4] !== 0) return undefined;
  return g[5] * 2 ** 32 + g[6] * 2 ** 16 + g[7];
}

function v6FromOffset(off: number): string {
  const g5 = Math.floor(off / 2 ** 32);
  const g6 = Math.floor(off / 2 ** 16) % 2 ** 16;
  const g7 = off % 2 ** 16;
  const parts = [g5, g6, g7];
  while (parts.length > 1 && parts[0] === 0) parts.shift();
  return `2001:2::${parts.map((p) => p.toString(16)).join(':')}`;
}
