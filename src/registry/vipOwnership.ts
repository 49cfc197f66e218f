import { CompactMultiMap } from '../collections/compactMultiMap';
import { contains, firstOf, valuesOf, withValue, withoutValue, type OneOrMany } from '../collections/oneOrMany';
import { allocatableHosts, allocationKey, compareAllocationOrder, declaredAddresses, type Allocations } from './allocator';
import { SlotAllocator, type VipSlot } from './vipAllocator';
import type { ServiceEntryRecord, ServiceRecord, VipAllocation } from './types';

/**
 * Who owns which local VIP (docs/ARCHITECTURE.md §2), kept across reloads beside the allocator.
 * A VIP key is `namespace/name/host`; the records that name it *want* it (a record given twice
 * wants it twice), and the first of them in input order *owns* it and holds its VIP. A key's
 * VIP survives a change of its wanters: a reload that re-parses a file hands each key its VIP
 * back. The table builder tells this what changed and re-derives the names of every record
 * whose VIPs moved (`rederive`).
 *
 * `W` is the builder's per-record object (a "unit"): anything that carries its record.
 */
export interface Wanter {
  readonly record?: ServiceRecord;
}

/** One VIP key: the allocator writes the VIP it holds onto it (`VipSlot`). */
export interface VipKey<W> extends VipSlot {
  /** The units that want the key; undefined once none does (the key is dropped). */
  wanters: OneOrMany<W> | undefined;
  /** The wanter it was allocated to; undefined while it holds no VIP. */
  owner: W | undefined;
}

/** The record of an indexed key (indexed keys have wanters, and wanters have records). */
function recordOf<W extends Wanter>(key: VipKey<W>): ServiceRecord {
  return firstOf(key.wanters!).record!;
}

/** Is `key` (a key of some host) the key of `record` for that host? Every wanter of a key is the same record. */
function isKeyOf<W extends Wanter>(key: VipKey<W>, record: ServiceEntryRecord): boolean {
  const r = recordOf(key);
  return r === record || (r.namespace === record.namespace && r.name === record.name);
}

/** A VIP key to hand out in this update, to the unit that wins it. */
interface PendingAllocation<W> {
  key: VipKey<W>;
  unit: W;
  record: ServiceEntryRecord;
  host: string;
  /** What the key held before, taken as its hint: its VIP released in this update, else the state file's. */
  hint: VipAllocation | undefined;
  /** The hint is a VIP released in this update, not the state file's. */
  hintReleased: boolean;
}

/** One update's bookkeeping (see `begin`). */
interface Pass<W> {
  fromEmpty: boolean;
  rederive: (unit: W) => void;
  /** VIPs released in this update, by `namespace/name/host` (a re-added key gets its VIP back). */
  released: Map<string, VipAllocation>;
  /** Keys whose owner must be decided again (a wanter came or went, or its VIP was claimed), with their host. */
  affected: Map<VipKey<W>, string>;
  toAllocate: Array<PendingAllocation<W>>;
}

export class VipOwnership<W extends Wanter> {
  private allocator = new SlotAllocator<VipKey<W>>();
  /** host → the VIP keys of that host (normally one; more when several records name the host). */
  private keysByHost = new CompactMultiMap<VipKey<W>>();
  /** VIPs to keep where still free: the persisted state, used by the first update only. */
  private hints: Map<string, VipAllocation>;
  private pass: Pass<W> | undefined;

  /** `inputOrder`: which of two wanters comes first in the input (it owns a key both want). */
  constructor(
    hints: Allocations,
    private readonly inputOrder: (a: W, b: W) => number,
  ) {
    this.hints = new Map(Object.entries(hints));
  }

  get exhausted(): { v4: number; v6: number } {
    return { ...this.allocator.exhausted };
  }

  /** Current VIP allocations, for the state file. */
  allocations(): Allocations {
    const out: Allocations = {};
    this.keysByHost.forEach((key, host) => {
      if (key.v4 !== undefined) out[this.keyText(key, host)] = { v4: key.v4, v6: key.v6 };
    });
    return out;
  }

  /** Forget every key, keeping their VIPs as hints (the builder starts over). */
  reset(): void {
    for (const [key, vip] of Object.entries(this.allocations())) this.hints.set(key, vip);
    this.allocator = new SlotAllocator<VipKey<W>>();
    this.keysByHost = new CompactMultiMap();
  }

  /** The VIP `unit` holds for `record`'s `host`, if it owns that key. */
  heldVip(unit: W, record: ServiceEntryRecord, host: string): VipAllocation | undefined {
    const key = this.findKey(record, host);
    return key !== undefined && key.owner === unit ? (key as VipAllocation) : undefined;
  }

  /**
   * Start an update: `fromEmpty` when nothing is known yet (every wanted key goes to its first
   * wanter, no change tracking); `rederive(unit)` is called for each unit whose VIPs change.
   */
  begin(fromEmpty: boolean, rederive: (unit: W) => void): void {
    this.pass = { fromEmpty, rederive, released: new Map(), affected: new Map(), toAllocate: [] };
  }

  /** `unit` is gone (or will come back as a new unit): it wants nothing, and releases what it owned. */
  unitRemoved(unit: W, autoAllocate: boolean): void {
    const pass = this.current();
    const wanted = this.wantedKeys(unit, autoAllocate);
    for (const [key, host] of wanted) {
      if (contains(key.wanters, unit)) {
        key.wanters = withoutValue(key.wanters, unit);
        if (key.wanters === undefined) this.keysByHost.remove(host, key); // `findKey` will not return it
      }
      pass.affected.set(key, host);
    }
    for (const [key, host] of wanted) if (key.owner === unit) this.release(key, host);
    if (unit.record !== undefined) this.allocator.unclaim(declaredAddresses(unit.record));
  }

  /** `unit`'s declared addresses are in use: a VIP they collide with moves (its owner is re-derived). */
  claimDeclared(unit: W): void {
    const pass = this.current();
    if (unit.record === undefined) return;
    for (const displaced of this.allocator.claim(declaredAddresses(unit.record))) {
      const owner = displaced.owner;
      if (owner === undefined) continue;
      const host = this.hostOf(displaced, owner.record as ServiceEntryRecord);
      this.release(displaced, host);
      pass.affected.set(displaced, host);
      pass.rederive(owner); // its answer loses the claimed address, whoever gets the key next
    }
  }

  /** A new `unit` wants the keys of its record's allocatable hosts. */
  unitWants(unit: W): void {
    const pass = this.current();
    const record = unit.record;
    if (record === undefined || record.kind !== 'ServiceEntry') return;
    for (const host of allocatableHosts(record)) {
      let key = this.findKey(record, host);
      const first = key === undefined;
      if (key === undefined) {
        key = { v4: undefined, v6: '', wanters: unit, owner: undefined };
        this.keysByHost.add(host, key);
      } else key.wanters = withValue(key.wanters, unit);
      if (!pass.fromEmpty) pass.affected.set(key, host);
      // From empty, units come in input order, so a key's first wanter is its winner.
      else if (first) pass.toAllocate.push({ key, unit, record, host, hint: undefined, hintReleased: false });
    }
  }

  /**
   * Decide every affected key's owner and hand out VIPs. Returns whether the state file needs
   * saving: it is only rewritten when what it would say changed (a key that is new or got
   * another VIP, a persisted key nobody took again, or a released key left without its VIP), so
   * a reload that gave every key its VIP back does not rewrite it.
   */
  finish(autoAllocate: boolean): boolean {
    const pass = this.current();
    let changed = false;
    if (autoAllocate) {
      this.decideOwners(pass);
      changed = this.allocate(pass);
    } else if (pass.released.size > 0) changed = true;
    this.pass = undefined;
    // After the first update the persisted state has done its job; later re-adds use `released`.
    this.hints = new Map();
    return changed;
  }

  /** Each affected key goes to its first wanter in input order; a unit that loses or gains a key is re-derived. */
  private decideOwners(pass: Pass<W>): void {
    for (const [key, host] of pass.affected) {
      let winner: W | undefined;
      for (const u of valuesOf(key.wanters)) if (winner === undefined || this.inputOrder(u, winner) < 0) winner = u;
      const owner = pass.fromEmpty ? undefined : key.owner;
      if (owner === winner) continue; // an owner holds a VIP (cleared on release)
      if (owner !== undefined) {
        this.release(key, host);
        pass.rederive(owner);
      }
      if (winner !== undefined) {
        pass.rederive(winner);
        pass.toAllocate.push({ key, unit: winner, record: winner.record as ServiceEntryRecord, host, hint: undefined, hintReleased: false });
      }
    }
  }

  /** Hints (a released key's previous VIP, the persisted state) first, then the lowest free. */
  private allocate(pass: Pass<W>): boolean {
    const { toAllocate, released } = pass;
    if (toAllocate.length > 1) toAllocate.sort((a, b) => compareAllocationOrder(a.record, a.host, b.record, b.host));
    // Key strings only when there is something to look up (no string per key in a plain build).
    if (released.size > 0 || this.hints.size > 0) {
      for (const a of toAllocate) {
        const text = allocationKey(a.record.namespace, a.record.name, a.host);
        const releasedVip = released.get(text);
        const hint = releasedVip ?? this.hints.get(text);
        if (hint === undefined) continue;
        this.allocator.takeHint(a.key, hint);
        a.hint = hint;
        a.hintReleased = releasedVip !== undefined;
      }
    }
    let changed = false;
    let regained = 0;
    let keptHints = 0;
    for (const a of toAllocate) {
      const key = a.key;
      const before = a.hint;
      // A key without a hint holds nothing yet: the allocator need not look it up.
      if (before !== undefined) this.allocator.allocate(key);
      else this.allocator.allocateNew(key);
      key.owner = a.unit;
      if (before === undefined || before.v4 !== key.v4 || before.v6 !== key.v6) changed = true;
      else if (a.hintReleased) regained++;
      else keptHints++;
    }
    if (regained !== released.size || keptHints !== this.hints.size) changed = true;
    return changed;
  }

  /**
   * Free `key`'s VIP. Not a change yet: a released key usually gets its VIP back in this same
   * update (a re-parsed file's records are new objects); see `allocate`.
   */
  private release(key: VipKey<W>, host: string): void {
    const owner = key.owner;
    const vip = this.allocator.release(key);
    key.owner = undefined;
    // A key holds a VIP only while it has an owner, whose record names the key.
    if (vip !== undefined && owner?.record !== undefined) this.current().released.set(allocationKey(owner.record.namespace, owner.record.name, host), vip);
  }

  /** The keys `unit` wants (those of its record's allocatable hosts), with their hosts. */
  private wantedKeys(unit: W, autoAllocate: boolean): Array<readonly [VipKey<W>, string]> {
    const record = unit.record;
    if (!autoAllocate || record === undefined || record.kind !== 'ServiceEntry') return [];
    const keys: Array<readonly [VipKey<W>, string]> = [];
    for (const host of allocatableHosts(record)) {
      const key = this.findKey(record, host);
      if (key !== undefined && contains(key.wanters, unit)) keys.push([key, host]);
    }
    return keys;
  }

  /** The host of `key`, one of `record`'s (the record of a unit that wants it). */
  private hostOf(key: VipKey<W>, record: ServiceEntryRecord): string {
    for (const host of allocatableHosts(record)) if (this.findKey(record, host) === key) return host;
    throw new Error(`VIP ownership: no host of ${record.namespace}/${record.name} has this VIP key`);
  }

  /** The key of `record`'s `host`, if some unit wants it. */
  private findKey(record: ServiceEntryRecord, host: string): VipKey<W> | undefined {
    return this.keysByHost.find(host, isKeyOf, record);
  }

  /** The `namespace/name/host` string of `key`, as the state file and hints have it. */
  private keyText(key: VipKey<W>, host: string): string {
    const r = this.recordOf(key);
    return allocationKey(r.namespace, r.name, host);
  }

  private recordOf(key: VipKey<W>): ServiceRecord {
    return recordOf(key);
  }

  private current(): Pass<W> {
    if (this.pass === undefined) throw new Error('VIP ownership: no update under way (call begin first)');
    return this.pass;
  }
}
