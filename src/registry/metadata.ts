import type { Problem } from '../problem';
import { describeValue, isPlainObject, own, timestampText } from './fields';
import { problemAt, type DocumentRef } from './location';
import { isDns1123Label } from './names';

export interface Metadata {
  name: string;
  /** `default` when the manifest has none, as `kubectl apply` would put it there. */
  namespace: string;
  labels: Record<string, unknown>;
  creationTimestamp?: string;
}

export interface NameRule {
  check: (name: string) => boolean;
  /** What a valid name looks like, for the message. */
  rule: string;
}

/** Namespace texts seen so far, so that every record of a namespace holds the same string. */
const namespaces = new Map<string, string>();
/** Bound on `namespaces`: past it, a new namespace keeps its own copy (correct, just not shared). */
const MAX_SHARED_NAMESPACES = 10_000;

/**
 * One string per namespace: YAML parsing makes a new string for every occurrence, and the
 * service keeps every record (the cost: docs/DECISIONS.md, "Shared strings and lists").
 */
function sharedNamespace(namespace: string): string {
  const known = namespaces.get(namespace);
  if (known !== undefined) return known;
  if (namespaces.size < MAX_SHARED_NAMESPACES) namespaces.set(namespace, namespace);
  return namespace;
}

/**
 * `metadata` of any object: name (required, checked with `nameRule`), namespace (a DNS-1123
 * label), labels, creationTimestamp. Undefined, with problems, when the object has no usable identity.
 */
export function readMetadata(doc: unknown, ref: DocumentRef, problems: Problem[], nameRule: NameRule): Metadata | undefined {
  const metadata = own(doc, 'metadata');
  if (!isPlainObject(metadata)) {
    const what = metadata === undefined ? 'is missing' : `must be a mapping, not ${describeValue(metadata)}`;
    problems.push(problemAt(ref, 'metadata', `metadata ${what}: every object needs metadata.name`));
    return undefined;
  }
  const name = own(metadata, 'name');
  let ok = true;
  if (typeof name !== 'string' || !nameRule.check(name)) {
    const what = name === undefined ? 'is missing' : `${describeValue(name)} is not valid`;
    problems.push(problemAt(ref, 'metadata.name', `metadata.name ${what}: ${nameRule.rule}`));
    ok = false;
  }
  const namespace = own(metadata, 'namespace') ?? 'default';
  if (typeof namespace !== 'string' || !isDns1123Label(namespace)) {
    problems.push(
      problemAt(ref, 'metadata.namespace', `metadata.namespace ${describeValue(namespace)} is not valid: a namespace is a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)`),
    );
    ok = false;
  }
  const labels = own(metadata, 'labels');
  if (labels !== undefined && labels !== null && !isPlainObject(labels)) {
    problems.push(problemAt(ref, 'metadata.labels', `metadata.labels must be a mapping, not ${describeValue(labels)}`));
  }
  if (!ok || typeof name !== 'string' || typeof namespace !== 'string') return undefined;
  const result: Metadata = { name, namespace: sharedNamespace(namespace), labels: isPlainObject(labels) ? labels : {} };
  const created = own(metadata, 'creationTimestamp');
  const creationTimestamp = timestampText(created);
  if (creationTimestamp !== undefined) result.creationTimestamp = creationTimestamp;
  else if (created !== undefined && created !== null) {
    problems.push(problemAt(ref, 'metadata.creationTimestamp', `metadata.creationTimestamp ${describeValue(created)} is not a timestamp; it is ignored`, 'warning'));
  }
  return result;
}
