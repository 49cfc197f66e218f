import type { Parsed, Problem } from '../problem';
import type { RegistryDocuments } from './types';
import { splitDocuments } from './documents';
import { parseEndpointSlice, parseEndpoints } from './endpoints';
import { describeValue, isPlainObject, own } from './fields';
import { problemAt, type DocumentRef } from './location';
import { parseService } from './service';
import { parseServiceEntry } from './serviceEntry';
import { parseNamespace } from './namespace';

/**
 * The text of one registry file → its Services, ServiceEntries and endpoint sets. Pure and total:
 * it never throws; each document stands alone, so a broken one becomes a problem and the rest
 * still come through. Kinds meshdns does not use are counted by `apiVersion/kind`.
 */
export function parseRegistryText(text: string, file: string): Parsed<RegistryDocuments> {
  const result: RegistryDocuments = { records: [], endpointSets: [], ignoredKinds: {} };
  const problems: Problem[] = [];
  let split;
  try {
    split = splitDocuments(text, file);
  } catch (error) {
    // splitDocuments catches parser errors itself; this is the last line of defence.
    return { value: result, problems: [{ file, document: 0, message: `cannot read this file: ${errorText(error)}` }] };
  }
  problems.push(...split.problems);
  const cluster = clusterMarker(text);
  if (cluster !== undefined) result.cluster = cluster;
  for (const { index, doc } of split.value) {
    const ref: DocumentRef = { file, document: index };
    try {
      problems.push(...parseDocument(doc, ref, result));
    } catch (error) {
      problems.push(problemAt(ref, '', `cannot read this document: ${errorText(error)}`));
    }
  }
  // Syntax problems come from the split, the rest per document: report them in file order.
  problems.sort((a, b) => (a.document ?? 0) - (b.document ?? 0));
  return { value: result, problems };
}

function parseDocument(doc: unknown, ref: DocumentRef, into: RegistryDocuments): Problem[] {
  if (!isPlainObject(doc)) {
    return [problemAt(ref, '', `a document must be a Kubernetes object (a mapping with apiVersion and kind), not ${describeValue(doc)}`)];
  }
  const kind = own(doc, 'kind');
  const apiVersion = own(doc, 'apiVersion');
  if (kind === undefined || kind === null || kind === '') {
    return [problemAt(ref, 'kind', 'the document has no kind: every manifest needs apiVersion and kind (e.g. v1 Service)')];
  }
  if (typeof kind !== 'string') return [problemAt(ref, 'kind', `kind must be a string, not ${describeValue(kind)}`)];
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    return [problemAt(ref, 'apiVersion', `the ${kind} has no apiVersion: every manifest needs apiVersion and kind`)];
  }
  if (apiVersion === 'v1' && kind === 'Service') {
    return collect(parseService(doc, ref), (record) => into.records.push(record));
  }
  if (apiVersion.startsWith('networking.istio.io/') && kind === 'ServiceEntry') {
    return collect(parseServiceEntry(doc, ref), (record) => into.records.push(record));
  }
  if (apiVersion === 'v1' && kind === 'Namespace') {
    return collect(parseNamespace(doc, ref), (ns) => (into.namespaces ??= []).push(ns));
  }
  if (apiVersion.startsWith('discovery.k8s.io/') && kind === 'EndpointSlice') {
    return collect(parseEndpointSlice(doc, ref), (set) => into.endpointSets.push(set));
  }
  if (apiVersion === 'v1' && kind === 'Endpoints') {
    return collect(parseEndpoints(doc, ref), (set) => into.endpointSets.push(set));
  }
  const key = `${apiVersion}/${kind}`;
  into.ignoredKinds[key] = (Object.prototype.hasOwnProperty.call(into.ignoredKinds, key) ? into.ignoredKinds[key] : 0) + 1;
  return [];
}

/** `# meshdns: cluster=NAME` among the comment lines that open the file (issue 17). */
const CLUSTER_MARKER = /^#\s*meshdns:\s*cluster\s*=\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*$/;

function clusterMarker(text: string): string | undefined {
  for (const raw of text.split('\n', 50)) {
    const line = raw.trim();
    if (line === '' || line === '---') continue;
    if (!line.startsWith('#')) return undefined;
    const found = CLUSTER_MARKER.exec(line);
    if (found !== null) return found[1];
  }
  return undefined;
}

function collect<T>(parsed: { value: T | undefined; problems: Problem[] }, keep: (value: T) => void): Problem[] {
  if (parsed.value !== undefined) keep(parsed.value);
  return parsed.problems;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
