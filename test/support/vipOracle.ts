// Test oracles for VIP allocation, kept out of src/: a string-keyed allocator (`VipAllocator`)
// and a one-shot `allocateVips` built on it. The service allocates through the table builder's
// `SlotAllocator`; the property tests check that it agrees with these at every step.
import type { ServiceEntryRecord, ServiceRecord, VipAllocation } from '../../src/registry/types';
import { allocatableHosts, allocationKey, declaredAddresses, type AllocationKey, type Allocations } from '../../src/registry/allocator';
import { AddressSpaces, type Hinted } from '../../src/registry/vipAllocator';

/**
 * What a key holds: its texts and its owner. It is itself the VipAllocation handed out (one
 * object per key, 240,000 at 100k entries, so it carries nothing else: the offsets are read
 * back from the texts on the rare release). Never changed once made; a new one replaces it.
 */
interface Held<Owner> extends VipAllocation {
  /** Who the VIP was allocated to (see `allocate`). */
  readonly owner: Owner | undefined;
}

/**
 * The VIP allocator as a long-lived state machine, so a reload that changes one file touches
 * only that file's hosts (docs/ARCHITECTURE.md §2 semantics, the same as `allocateVips`): addresses declared
 * anywhere are never handed out, a host keeps its VIP until it goes away, a freed address is
 * the next one handed out, and hints (the persisted state) are honoured when still free.
 */
export class VipAllocator<Owner = undefined> extends AddressSpaces<AllocationKey> {
  private readonly held = new Map<AllocationKey, Held<Owner>>();
  private readonly hinted = new Map<AllocationKey, Hinted>();

  get(key: AllocationKey): VipAllocation | undefined {
    return this.held.get(key);
  }

  /** Who `key`'s VIP was allocated to; undefined when it holds none. */
  ownerOf(key: AllocationKey): Owner | undefined {
    return this.held.get(key)?.owner;
  }

  /**
   * First pass of an update: take the hinted (previously held) addresses of `key` where they are
   * still free. A family whose hint is taken by now is filled by `allocate` in the second pass,
   * after every hint had its chance.
   */
  takeHint(key: AllocationKey, hint: VipAllocation): void {
    if (this.held.has(key) || this.hinted.has(key)) return;
    this.hinted.set(key, this.takeFreeOffsets(key, hint));
  }

  /**
   * Second pass: the lowest free addresses for whatever `key` does not hold yet. `owner` is
   * remembered with the VIP (the table builder's record), so no second key → owner map is needed.
   */
  allocate(key: AllocationKey, owner?: Owner): VipAllocation {
    const known = this.held.get(key);
    if (known !== undefined) return known;
    const hinted = this.hinted.get(key);
    if (hinted !== undefined) this.hinted.delete(key);
    return this.complete(key, hinted, owner);
  }

  /**
   * `allocate` for a key the caller knows holds nothing, not even a hint taken in the first
   * pass: the lowest free addresses, without looking the key up.
   */
  allocateNew(key: AllocationKey, owner?: Owner): VipAllocation {
    return this.complete(key, undefined, owner);
  }

  private complete(key: AllocationKey, hinted: Hinted | undefined, owner: Owner | undefined): VipAllocation {
    const done = { v4: '', v6: '', owner };
    this.completeInto(key, hinted, done);
    this.held.set(key, done);
    return done;
  }

  /** Free `key`'s addresses; returns what it held (a hint for a re-add in the same update). */
  release(key: AllocationKey): VipAllocation | undefined {
    const h = this.held.get(key);
    if (h === undefined) return undefined;
    this.releaseTexts(key, h);
    this.held.delete(key);
    return h;
  }

  get size(): number {
    return this.held.size;
  }

  /** Every allocation, for the state file. */
  toRecord(): Allocations {
    const out: Allocations = {};
    // Plain pairs: the state file is their JSON.
    for (const [key, h] of this.held) out[key] = { v4: h.v4, v6: h.v6 };
    return out;
  }
}

interface Candidate {
  key: AllocationKey;
  record: ServiceEntryRecord;
  host: string;
  /** Creation time, namespace, name, host joined so one string comparison sorts (see below). */
  order: string;
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
  const allocator = new VipAllocator();
  const candidates: Candidate[] = [];
  const seen = new Set<AllocationKey>();
  for (const record of records) {
    allocator.claim(declaredAddresses(record));
    if (record.kind !== 'ServiceEntry') continue;
    for (const host of allocatableHosts(record)) {
      const key = allocationKey(record.namespace, record.name, host);
      if (seen.has(key)) continue;
      seen.add(key);
      candidates.push({ key, record, host, order: orderKey(record, host) });
    }
  }
  candidates.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  // Hints first, in candidate order, so two keys hinting one address (a corrupted state file)
  // resolve deterministically; then the lowest free addresses for everything still missing.
  for (const c of candidates) {
    const hint = previous[c.key];
    if (hint !== undefined) allocator.takeHint(c.key, hint);
  }
  const allocations: Allocations = {};
  for (const c of candidates) {
    const vip = allocator.allocate(c.key);
    allocations[c.key] = { v4: vip.v4, v6: vip.v6 };
  }
  return { allocations, exhausted: { ...allocator.exhausted } };
}

/** Sort key of a first-time allocation (see `orderKey`). */
export function allocationOrder(record: ServiceEntryRecord, host: string): string {
  return orderKey(record, host);
}

