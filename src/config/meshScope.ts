import type { Problem } from '../problem';
import { describeValue, isMap } from './check';
import type { BootstrapValues, LabelSelector } from './types';

/**
 * The mesh config's visibility settings (issue 17): `defaultServiceExportTo` (the exportTo of
 * Services and ServiceEntries that set none) and `discoverySelectors` (label selectors on
 * namespaces: Kubernetes Services of other namespaces are not discovered). A bad value is a
 * problem naming the field and is ignored (Istio's defaults apply).
 */
export function readMeshScope(meshConfig: Record<string, unknown>, prefix: string, file: string): { value: BootstrapValues; problems: Problem[] } {
  const value: BootstrapValues = {};
  const problems: Problem[] = [];
  const fail = (field: string, message: string): void => {
    problems.push({ file, field: `${prefix}${field}`, message: `${message}; ignored`, severity: 'error' });
  };
  const exportTo = meshConfig.defaultServiceExportTo;
  if (exportTo !== undefined && exportTo !== null) {
    if (!Array.isArray(exportTo) || !exportTo.every((e) => typeof e === 'string' && e.trim() !== '')) {
      fail('defaultServiceExportTo', `expected a list of namespaces, ".", "*" or "~", got ${describeValue(exportTo)}`);
    } else value.defaultServiceExportTo = exportTo.map((e: string) => e.trim());
  }
  const selectors = meshConfig.discoverySelectors;
  if (selectors !== undefined && selectors !== null) {
    if (!Array.isArray(selectors)) fail('discoverySelectors', `expected a list of label selectors, got ${describeValue(selectors)}`);
    else {
      const read: LabelSelector[] = [];
      selectors.forEach((raw: unknown, i) => {
        const selector = readSelector(raw);
        if (typeof selector === 'string') fail(`discoverySelectors[${i}]`, selector);
        else read.push(selector);
      });
      if (read.length === selectors.length) value.discoverySelectors = read;
    }
  }
  return { value, problems };
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** A LabelSelector, or the reason it is not one. */
function readSelector(raw: unknown): LabelSelector | string {
  if (!isMap(raw)) return `expected a label selector (matchLabels, matchExpressions), got ${describeValue(raw)}`;
  const unknown = Object.keys(raw).filter((k) => k !== 'matchLabels' && k !== 'matchExpressions');
  if (unknown.length > 0) return `unknown key ${JSON.stringify(unknown[0])}; a label selector has matchLabels and matchExpressions`;
  const selector: LabelSelector = { matchLabels: {}, matchExpressions: [] };
  const labels = raw.matchLabels;
  if (labels !== undefined && labels !== null) {
    if (!isMap(labels)) return `matchLabels must be a map, got ${describeValue(labels)}`;
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return `matchLabels.${k}: expected a string, got ${describeValue(v)}`;
      selector.matchLabels[k] = String(v);
    }
  }
  const expressions = raw.matchExpressions;
  if (expressions !== undefined && expressions !== null) {
    if (!Array.isArray(expressions)) return `matchExpressions must be a list, got ${describeValue(expressions)}`;
    for (const [i, e] of expressions.entries()) {
      const operator = isMap(e) ? OPERATORS.find((o) => o === e.operator) : undefined;
      if (!isMap(e) || typeof e.key !== 'string' || operator === undefined) {
        return `matchExpressions[${i}]: expected {key, operator: ${OPERATORS.join('|')}, values}`;
      }
      const values = e.values ?? [];
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) return `matchExpressions[${i}].values: expected a list of strings`;
      selector.matchExpressions.push({ key: e.key, operator, values: values as string[] });
    }
  }
  return selector;
}
