/**
 * Integer offset → value, for the VIP allocator's address spaces. The allocator hands out
 * offsets sequentially from 1, so almost every offset in use is small: those live in an array
 * slot each (no hashing, which was a large share of a table build with Maps). The rare far offset (a persisted hint or a declared address high in 2001:2::/48)
 * goes to a Map, so the array never grows beyond `denseLimit` slots.
 */
export class OffsetTable<V> {
  private readonly dense: Array<V | undefined> = [];
  private readonly sparse = new Map<number, V>();

  /** `denseLimit`: offsets below it are array slots (the array grows up to the highest one used). */
  constructor(private readonly denseLimit = 1 << 20) {}

  get(offset: number): V | undefined {
    return offset < this.denseLimit ? this.dense[offset] : this.sparse.get(offset);
  }

  has(offset: number): boolean {
    return this.get(offset) !== undefined;
  }

  set(offset: number, value: V): void {
    if (offset >= this.denseLimit) {
      this.sparse.set(offset, value);
      return;
    }
    // Fill any gap with explicit holes-as-undefined so the array keeps fast (non-dictionary) elements.
    while (this.dense.length < offset) this.dense.push(undefined);
    this.dense[offset] = value;
  }

  delete(offset: number): void {
    if (offset >= this.denseLimit) this.sparse.delete(offset);
    else if (offset < this.dense.length) this.dense[offset] = undefined;
  }
}
