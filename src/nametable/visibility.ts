import type { LabelSelector } from '../config/types';
import type { ServiceRecord } from '../registry/types';

/**
 * What a proxy in the VM's namespace may see (issue 17; docs/istio-dns-parity.md): a record is
 * hidden by its exportTo (or the mesh default) or, for Kubernetes Services, by the mesh
 * config's discoverySelectors. Pure; `scope.ts` applies it per record.
 */
export interface VisibilityContext {
  /** The VM's namespace. */
  namespace: string;
  /** The mesh config's `defaultServiceExportTo` (`["*"]` when it sets none). */
  defaultExportTo: readonly string[];
  /** Non-empty selectors, applied only when namespace labels are known (else undefined). */
  discoverySelectors: readonly LabelSelector[] | undefined;
  /** Labels of the namespaces that have a Namespace object in the registry. */
  namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** Why a record is hidden from the VM, in words for `explain`; undefined when it is visible. */
export function hiddenBy(record: ServiceRecord, ctx: VisibilityContext): string | undefined {
  const own = record.exportTo;
  const exportTo = own ?? ctx.defaultExportTo;
  if (!exportedTo(exportTo, record.namespace, ctx.namespace)) {
    const where = own === undefined ? "the mesh config's defaultServiceExportTo" : record.kind === 'Service' ? 'annotation networking.istio.io/exportTo' : 'spec.exportTo';
    return `not exported to the VM's namespace ${ctx.namespace} (${where}: [${exportTo.join(', ')}])`;
  }
  if (record.kind === 'Service' && ctx.discoverySelectors !== undefined) {
    const labels = ctx.namespaceLabels.get(record.namespace) ?? {};
    if (!ctx.discoverySelectors.some((s) => selectorMatches(s, labels))) {
      const known = ctx.namespaceLabels.has(record.namespace) ? '' : ' (no Namespace object in the registry: matched with no labels)';
      return `namespace ${record.namespace} is not selected by the mesh config's discoverySelectors${known}`;
    }
  }
  return undefined;
}

/** Istio's exportTo: `*` all, `.` the object's own namespace, `~` none, else the listed namespaces. */
export function exportedTo(exportTo: readonly string[], objectNamespace: string, clientNamespace: string): boolean {
  for (const e of exportTo) {
    if (e === '*' || e === clientNamespace) return true;
    if (e === '.' && objectNamespace === clientNamespace) return true;
  }
  return false;
}

/** Does `selector` match a namespace with these labels (Kubernetes' rules)? */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}
