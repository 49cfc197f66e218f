import { valuesOf, withValue, withoutValue, type OneOrMany } from './oneOrMany';

/**
 * A key → values multimap for indexes where almost every key has exactly one value: the one
 * generic index type of meshdns (see oneOrMany.ts for the encoding, which stays in here).
 */
export class CompactMultiMap<V, K = string> {
  private readonly map = new Map<K, OneOrMany<V>>();

  get size(): number {
    return this.map.size;
  }

  /** Adds `value` under `key` (once); true when `key` had no value before. */
  add(key: K, value: V): boolean {
    const cur = this.map.get(key);
    const next = withValue(cur, value);
    if (next !== cur) this.map.set(key, next);
    return cur === undefined;
  }

  remove(key: K, value: V): void {
    const cur = this.map.get(key);
    const next = withoutValue(cur, value);
    if (next === cur) return;
    if (next === undefined) this.map.delete(key);
    else this.map.set(key, next);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** The stored form (one value, several, or none), for hot loops that must not allocate. */
  raw(key: K): OneOrMany<V> | undefined {
    return this.map.get(key);
  }

  /** Every key, in the order it was first added (and not removed since). */
  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  /** Every key with its stored form (see `raw`), in key order, without a lookup per key. */
  forEachStored(visit: (stored: OneOrMany<V>, key: K) => void): void {
    this.map.forEach(visit);
  }

  /** Calls `visit` for each value of `key`, in the order added (without building a list). */
  forEachOf(key: K, visit: (value: V) => void): void {
    const cur = this.map.get(key);
    if (cur === undefined) return;
    if (Array.isArray(cur)) for (const v of cur) visit(v);
    else visit(cur);
  }

  /** Calls `visit` for every (value, key), keys in key order. */
  forEach(visit: (value: V, key: K) => void): void {
    this.map.forEach((cur, key) => {
      if (Array.isArray(cur)) for (const v of cur) visit(v, key);
      else visit(cur, key);
    });
  }

  /** The first value of `key` that `predicate(value, arg)` accepts (`arg` spares a closure per call in hot loops). */
  find<A>(key: K, predicate: (value: V, arg: A) => boolean, arg: A): V | undefined {
    const cur = this.map.get(key);
    if (cur === undefined) return undefined;
    if (!Array.isArray(cur)) return predicate(cur, arg) ? cur : undefined;
    for (const v of cur) if (predicate(v, arg)) return v;
    return undefined;
  }

  /** Every key with its value when it has exactly one (undefined when several), in key order. */
  forEachKey(visit: (key: K, only: V | undefined) => void): void {
    this.map.forEach((cur, key) => visit(key, Array.isArray(cur) ? undefined : cur));
  }

  /** The values of `key`. */
  get(key: K): readonly V[] {
    return valuesOf(this.map.get(key));
  }

  clear(): void {
    this.map.clear();
  }
}
