/**
 * A key → values multimap for indexes where almost every key has exactly one value (a name and
 * the record that offers it; an address and the name that holds it): a single value is stored
 * as itself, more as an array. At 300,000 keys that saves an array per entry.
 */
export class CompactMultiMap<V> {
  protected readonly map = new Map<string, V | V[]>();

  /** Adds `value` under `key`; true when `key` had no value before. */
  add(key: string, value: V): boolean {
    const cur = this.map.get(key);
    if (cur === undefined) {
      this.map.set(key, value);
      return true;
    }
    if (Array.isArray(cur)) {
      if (!cur.includes(value)) cur.push(value);
    } else if (cur !== value) this.map.set(key, [cur, value]);
    return false;
  }

  remove(key: string, value: V): void {
    const cur = this.map.get(key);
    if (cur === value) this.map.delete(key);
    else if (Array.isArray(cur)) {
      const rest = cur.filter((v) => v !== value);
      if (rest.length === 0) this.map.delete(key);
      else this.map.set(key, rest.length === 1 ? rest[0] : rest);
    }
  }

  /** The stored form (one value, several, or none), for hot loops that must not allocate. */
  raw(key: string): V | V[] | undefined {
    return this.map.get(key);
  }

  /** Every key, in the order it was first added (and not removed since). */
  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  /** Every key with its stored form (see `raw`), in key order, without a lookup per key. */
  forEachStored(visit: (stored: V | V[], key: string) => void): void {
    this.map.forEach(visit);
  }

  /** The values of `key`. */
  get(key: string): readonly V[] {
    const cur = this.map.get(key);
    if (cur === undefined) return [];
    return Array.isArray(cur) ? cur : [cur];
  }
}
