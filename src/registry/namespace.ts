import type { Parsed, Problem } from '../problem';
import type { NamespaceLabels } from './types';
import { problemAt, type DocumentRef } from './location';
import { readMetadata } from './metadata';
import { isDns1123Label } from './names';

/**
 * A `v1 Namespace` → its labels, which the mesh config's discoverySelectors match (issue 17).
 * Label values that are not strings are taken as their text (a hand-written `true`).
 */
export function parseNamespace(doc: unknown, ref: DocumentRef): Parsed<NamespaceLabels | undefined> {
  const problems: Problem[] = [];
  const meta = readMetadata(doc, ref, problems, {
    check: isDns1123Label,
    rule: "a Namespace name is a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters",
  });
  if (meta === undefined) return { value: undefined, problems };
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(meta.labels)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') labels[key] = String(value);
    else problems.push(problemAt(ref, `metadata.labels.${key}`, 'a label value must be a string; this label is ignored', 'warning'));
  }
  return { value: { source: { file: ref.file, document: ref.document, kind: 'Namespace', namespace: meta.name, name: meta.name }, name: meta.name, labels }, problems };
}
