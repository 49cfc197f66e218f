/**
 * One value or several: the encoding behind every one-or-many index of meshdns (a name and the
 * units that offer it, an address and the names holding it, a host and its VIP keys, a key and
 * the units that want it). Almost every such entry has exactly one value, so a single value is
 * stored as itself and only two or more as an array (why: docs/DECISIONS.md, "one-or-many
 * indexes"). Only this file and `CompactMultiMap` know the encoding; everyone else goes through
 * these functions. Values must not be arrays themselves.
 */
export type OneOrMany<V> = V | V[];

/** The values, as a list (a fresh one-element array for a single value). */
export function valuesOf<V>(stored: OneOrMany<V> | undefined): readonly V[] {
  if (stored === undefined) return [];
  return Array.isArray(stored) ? stored : [stored];
}

export function contains<V>(stored: OneOrMany<V> | undefined, value: V): boolean {
  if (stored === undefined) return false;
  return Array.isArray(stored) ? stored.includes(value) : stored === value;
}

export function countOf<V>(stored: OneOrMany<V> | undefined): number {
  if (stored === undefined) return 0;
  return Array.isArray(stored) ? stored.length : 1;
}

/** The first value added (and not removed since). */
export function firstOf<V>(stored: OneOrMany<V>): V {
  return Array.isArray(stored) ? stored[0] : stored;
}

/** The one value, when there is exactly one. */
export function onlyOf<V>(stored: OneOrMany<V> | undefined): V | undefined {
  return stored === undefined || Array.isArray(stored) ? undefined : stored;
}

/** `stored` with `value` added at the end (once); may return `stored` itself, changed in place. */
export function withValue<V>(stored: OneOrMany<V> | undefined, value: V): OneOrMany<V> {
  if (stored === undefined) return value;
  if (Array.isArray(stored)) {
    if (!stored.includes(value)) stored.push(value);
    return stored;
  }
  return stored === value ? stored : [stored, value];
}

/** `stored` without `value`; undefined when none is left. Never changes `stored` in place. */
export function withoutValue<V>(stored: OneOrMany<V> | undefined, value: V): OneOrMany<V> | undefined {
  if (stored === undefined) return undefined;
  if (!Array.isArray(stored)) return stored === value ? undefined : stored;
  if (!stored.includes(value)) return stored;
  const rest = stored.filter((v) => v !== value);
  return rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : rest;
}
