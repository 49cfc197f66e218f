import type { VipAllocation } from './types';
import type { AllocationKey } from './allocator';
import { ipv4Offset, ipv6Offset, ipv4FromOffset, ipv6FromOffset, V4_MAX_OFFSET, V6_MAX_OFFSET } from './allocator';
import { OffsetTable } from './offsetTable';

/** One family's address space: who claims or holds each offset, and the lowest maybe-free one. */
class Space<Key = AllocationKey> {
  /** Offsets claimed by spec/status/clusterIP addresses, with how many records claim them. */
  readonly claimed = new OffsetTable<number>();
  /** Offsets handed out, and to whom. */
  readonly owner = new OffsetTable<Key>();
  private low = 1;

  constructor(private readonly max: number) {}

  isFree(o: number): boolean {
    return !this.claimed.has(o) && !this.owner.has(o);
  }

  /** Claim an address someone declared; returns the key that held it as a VIP, if any. */
  claim(o: number): Key | undefined {
    this.claimed.set(o, (this.claimed.get(o) ?? 0) + 1);
    const holder = this.owner.get(o);
    if (holder !== undefined) this.owner.delete(o);
    return holder;
  }

  unclaim(o: number): void {
    const n = this.claimed.get(o) ?? 0;
    if (n <= 1) {
      this.claimed.delete(o);
      if (o < this.low) this.low = o;
    } else this.claimed.set(o, n - 1);
  }

  take(o: number, key: Key): void {
    this.owner.set(o, key);
  }

  /** The lowest free offset, taken for `key`; undefined when the range is full. */
  takeLowest(key: Key): number | undefined {
    while (this.low <= this.max && !this.isFree(this.low)) this.low++;
    if (this.low > this.max) return undefined;
    const o = this.low++;
    this.owner.set(o, key);
    return o;
  }

  release(o: number, key: Key): void {
    if (this.owner.get(o) !== key) return;
    this.owner.delete(o);
    if (o < this.low) this.low = o;
  }
}

/**
 * The rules both allocators share (docs/ARCHITECTURE.md §2): declared addresses are never handed out, hints
 * are taken where still free, the lowest free address otherwise, and a family whose range is
 * full is left empty and counted. `Holder` is what an address is held by (the table builder's
 * per-key object for `SlotAllocator`; the tests' string-keyed oracle extends it too); each
 * subclass keeps what a holder holds in its own way.
 */
export abstract class AddressSpaces<Holder> {
  private readonly v4 = new Space<Holder>(V4_MAX_OFFSET);
  private readonly v6 = new Space<Holder>(V6_MAX_OFFSET);
  exhausted = { v4: 0, v6: 0 };

  /** Declared addresses (spec/status/clusterIP) of a record now in use; returns the holders they displaced. */
  claim(addresses: readonly string[]): Holder[] {
    const displaced: Holder[] = [];
    for (const a of addresses) {
      const o4 = ipv4Offset(a);
      if (o4 !== undefined) {
        const k = this.v4.claim(o4);
        if (k !== undefined) displaced.push(k);
      }
      const o6 = ipv6Offset(a);
      if (o6 !== undefined) {
        const k = this.v6.claim(o6);
        if (k !== undefined) displaced.push(k);
      }
    }
    return displaced;
  }

  unclaim(addresses: readonly string[]): void {
    for (const a of addresses) {
      const o4 = ipv4Offset(a);
      if (o4 !== undefined) this.v4.unclaim(o4);
      const o6 = ipv6Offset(a);
      if (o6 !== undefined) this.v6.unclaim(o6);
    }
  }

  /** The offsets of `hint` that are still free, taken for `holder`. */
  protected takeFreeOffsets(holder: Holder, hint: VipAllocation): Hinted {
    const h4 = ipv4Offset(hint.v4);
    const h6 = ipv6Offset(hint.v6);
    const o4 = h4 !== undefined && this.v4.isFree(h4) ? h4 : undefined;
    const o6 = h6 !== undefined && this.v6.isFree(h6) ? h6 : undefined;
    if (o4 !== undefined) this.v4.take(o4, holder);
    if (o6 !== undefined) this.v6.take(o6, holder);
    return { o4, o6 };
  }

  /**
   * Writes into `into` the texts `holder` ends up with: its hinted offsets, else the lowest free
   * ones ('' when a range is full). Into the caller's object: a build allocates one per key.
   */
  protected completeInto(holder: Holder, hinted: Hinted | undefined, into: { v4: string | undefined; v6: string }): void {
    const o4 = hinted?.o4 ?? this.v4.takeLowest(holder);
    const o6 = hinted?.o6 ?? this.v6.takeLowest(holder);
    if (o4 === undefined) this.exhausted.v4++;
    if (o6 === undefined) this.exhausted.v6++;
    into.v4 = o4 === undefined ? '' : ipv4FromOffset(o4);
    into.v6 = o6 === undefined ? '' : ipv6FromOffset(o6);
  }

  /** Frees what `holder` held (the offsets are read back from the texts; '' = a full range). */
  protected releaseTexts(holder: Holder, vip: VipAllocation): void {
    if (vip.v4 !== '') this.v4.release(ipv4Offset(vip.v4)!, holder);
    else this.exhausted.v4 = Math.max(0, this.exhausted.v4 - 1);
    if (vip.v6 !== '') this.v6.release(ipv6Offset(vip.v6)!, holder);
    else this.exhausted.v6 = Math.max(0, this.exhausted.v6 - 1);
  }
}

/** Offsets taken for a key by `takeHint`, waiting for `allocate` (within one update). */
export interface Hinted {
  o4: number | undefined;
  o6: number | undefined;
}

/**
 * What `SlotAllocator` keeps for one key, on the caller's own per-key object (no key → VIP map):
 * the held texts, `v4` undefined while the slot holds nothing ('' for a family whose range was
 * full, as in VipAllocation).
 */
export interface VipSlot {
  v4: string | undefined;
  v6: string;
}

/**
 * The VIP allocator as a long-lived state machine, for keys that are objects of the caller's (the
 * table builder's per-key entry), so a reload that changes one file touches only that file's
 * hosts: declared addresses are never handed out, a key keeps its VIP until it goes away, a freed
 * address is the next one handed out, and hints (the persisted state) are honoured when still
 * free. What a key holds is written onto the key itself (no key → VIP map; see DECISIONS). A
 * released slot is cleared (`v4` undefined) and may be allocated again.
 */
export class SlotAllocator<S extends VipSlot> extends AddressSpaces<S> {
  private readonly hinted = new Map<S, Hinted>();

  /** Does `slot` hold a VIP? */
  holds(slot: S): boolean {
    return slot.v4 !== undefined;
  }

  /**
   * First pass of an update: take the hinted (previously held) addresses of `slot` where they
   * are still free. A family whose hint is taken by now is filled by `allocate` in the second
   * pass, after every hint had its chance.
   */
  takeHint(slot: S, hint: VipAllocation): void {
    if (slot.v4 !== undefined || this.hinted.has(slot)) return;
    this.hinted.set(slot, this.takeFreeOffsets(slot, hint));
  }

  /** Second pass: the lowest free addresses for whatever `slot` does not hold yet (a no-op when it holds a VIP). */
  allocate(slot: S): void {
    if (slot.v4 !== undefined) return;
    const hinted = this.hinted.get(slot);
    if (hinted !== undefined) this.hinted.delete(slot);
    this.complete(slot, hinted);
  }

  /** `allocate` for a slot the caller knows holds nothing, not even a hint taken in the first pass. */
  allocateNew(slot: S): void {
    this.complete(slot, undefined);
  }

  private complete(slot: S, hinted: Hinted | undefined): void {
    this.completeInto(slot, hinted, slot);
  }

  /** Free `slot`'s addresses and clear it; returns what it held (a hint for a re-add in the same update). */
  release(slot: S): VipAllocation | undefined {
    const v4 = slot.v4;
    if (v4 === undefined) return undefined;
    const held = { v4, v6: slot.v6 };
    this.releaseTexts(slot, held);
    slot.v4 = undefined;
    slot.v6 = '';
    return held;
  }
}
