/**
 * The outcome of validating one value: the normalised value, or the reason it was refused.
 * Small validators return this so the caller decides where the problem is reported.
 */
export type Check<T> = { ok: true; value: T } | { ok: false; reason: string };

export function accept<T>(value: T): Check<T> {
  return { ok: true, value };
}

export function refuse(reason: string): Check<never> {
  return { ok: false, reason };
}

/** A short, quoted rendering of a raw value for error messages ("got 'abc'", "got a map"). */
export function describeValue(raw: unknown): string {
  if (raw === null || raw === undefined) return 'nothing';
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object') return 'a map';
  if (typeof raw === 'string') {
    const shown = raw.length > 60 ? raw.slice(0, 57) + '...' : raw;
    return JSON.stringify(shown);
  }
  return String(raw);
}

/** A YAML mapping (not a list, not null). */
export function isMap(raw: unknown): raw is Record<string, unknown> {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw);
}
