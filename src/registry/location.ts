import type { Problem } from '../problem';

/**
 * Where a document sits in its file. `document` is the registry's index string: "3" for the
 * fourth document, "3.1" for the second item of a `kind: List` in it (see `SourceRef.document`).
 */
export interface DocumentRef {
  file: string;
  document: string;
}

/**
 * `Problem.document` is a number, so a List item's position moves into the field path:
 * index "3.1" + field "spec.hosts[0]" → document 3, field "items[1].spec.hosts[0]".
 */
export function problemAt(ref: DocumentRef, field: string, message: string, severity?: Problem['severity']): Problem {
  const [head, ...itemIndices] = ref.document.split('.');
  const document = Number(head);
  const itemPath = itemIndices.map((i) => `items[${i}]`).join('.');
  const fullField = [itemPath, field].filter((part) => part !== '').join('.');
  const problem: Problem = { file: ref.file, document: Number.isInteger(document) ? document : 0, message };
  if (fullField !== '') problem.field = fullField;
  if (severity !== undefined) problem.severity = severity;
  return problem;
}
