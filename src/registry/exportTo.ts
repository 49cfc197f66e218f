import type { Problem } from '../problem';
import { describeValue } from './fields';
import { problemAt, type DocumentRef } from './location';
import { isDns1123Label } from './names';

export const EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';

/**
 * `spec.exportTo` of a ServiceEntry or the exportTo annotation of a Service (already split):
 * `.` (own namespace), `*` (all), `~` (none) or namespace names. Undefined when not set; a bad
 * item is a problem and is left out (a list left empty is as if not set: the mesh default).
 */
export function readExportTo(value: unknown, ref: DocumentRef, field: string, problems: Problem[]): readonly string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    problems.push(problemAt(ref, field, `exportTo must be a list of namespaces, ".", "*" or "~", not ${describeValue(value)}`));
    return undefined;
  }
  const out: string[] = [];
  value.forEach((raw: unknown, i) => {
    const item = typeof raw === 'string' ? raw.trim() : raw;
    if (item === '' && typeof raw === 'string') return; // `a,,b` or a trailing comma
    if (typeof item === 'string' && (item === '.' || item === '*' || item === '~' || isDns1123Label(item))) {
      if (!out.includes(item)) out.push(item);
    } else problems.push(problemAt(ref, `${field}[${i}]`, `${describeValue(raw)} is not ".", "*", "~" or a namespace name`));
  });
  return out.length === 0 ? undefined : out;
}
