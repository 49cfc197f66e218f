/**
 * Safe reads from parsed YAML/JSON: only own properties count, so keys such as `constructor`
 * or `__proto__` in a manifest never reach into Object.prototype.
 */
export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function own(value: unknown, key: string): unknown {
  if (!isPlainObject(value)) return undefined;
  return Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
}

/** A nested read: `path(doc, 'metadata', 'name')`. */
export function path(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) current = own(current, key);
  return current;
}

/** Strings shorter than this are copied by V8 when sliced; longer ones point into their source. */
const SHORTEST_SLICE = 13;

/**
 * `text` as a string of its own. The YAML parser hands out slices of the document text, and a
 * slice keeps its whole document alive: a record that keeps a host name or a timestamp would
 * keep its YAML text (docs/DECISIONS.md, "Shared strings and lists"). A JSON round trip is the cheapest
 * plain-JS way to get a fresh flat copy (an engine detail, measured by `npm run bench:table`).
 */
export function detachedText(text: string): string {
  return text.length < SHORTEST_SLICE ? text : (JSON.parse(JSON.stringify(text)) as string);
}

/**
 * `list` in an array of exactly its length. Arrays grown by push keep spare slots (17 for the
 * first element); records keep their lists as long as they are in use.
 */
export function exactList<T>(list: T[]): T[] {
  return list.length === 0 ? [] : list.slice();
}

/** YAML timestamps (unquoted) arrive as Date under js-yaml's default schema; keep the RFC 3339 text. */
export function timestampText(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return detachedText(value);
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().replace('.000Z', 'Z');
  return undefined;
}

/** A short rendering of a bad value for messages, never the whole object. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * `record` without its `creationTimestamp` key when the value is undefined. Records spell the
 * key as the *last* property of their literal: a property added after the literal would give
 * each record a separate property array, while deleting
 * a literal's last property is V8's fast path back to the shape without it.
 */
export function dropMissingTimestamp<T extends { creationTimestamp?: string }>(record: T): T {
  if (record.creationTimestamp === undefined) delete record.creationTimestamp;
  return record;
}
