import type { ServiceRecord } from '../registry/types';

/**
 * One host, several records (issue 17): which one the VM's proxy gets, as Istio's sidecar scope
 * picks it. Pure. A candidate is a visible record offering the host, with the cluster its file
 * names ('' for the VM's own cluster).
 */
export interface Candidate {
  record: ServiceRecord;
  cluster: string;
}

/** The winning side of a contested host: records of this namespace (and, for Services, cluster) keep it. */
export interface Decision {
  namespace: string;
  /** The cluster of the winning Services ('' own); only Services are compared on it. */
  cluster: string;
  winner: Candidate;
}

/**
 * - Services of the VM's own cluster first: a same-named Service of another cluster loses (with
 *   none of its own, the first other cluster by name keeps it).
 * - Then across namespaces, one namespace wins: a Kubernetes Service before any ServiceEntry,
 *   then the oldest `creationTimestamp` (none: last, as for VIP allocation), then Istio's service
 *   name (a Service's name; a ServiceEntry's host, equal here), then namespace.
 * Records of the winning namespace all keep the host: same-namespace duplicates merge as before.
 * Undefined when there is no contest (one namespace, one cluster).
 */
export function decide(candidates: readonly Candidate[]): Decision | undefined {
  if (candidates.length < 2) return undefined;
  const first = candidates[0];
  if (candidates.every((c) => c.record.namespace === first.record.namespace && c.cluster === first.cluster)) return undefined;
  let best = candidates[0];
  for (let i = 1; i < candidates.length; i++) if (compareCandidates(candidates[i], best) < 0) best = candidates[i];
  return { namespace: best.record.namespace, cluster: best.cluster, winner: best };
}

/** Does `c` keep the host under `decision`? */
export function keeps(c: Candidate, decision: Decision | undefined): boolean {
  if (decision === undefined) return true;
  if (c.record.namespace !== decision.namespace) return false;
  return c.record.kind !== 'Service' || decision.winner.record.kind !== 'Service' || c.cluster === decision.cluster;
}

export function compareCandidates(a: Candidate, b: Candidate): number {
  const aService = a.record.kind === 'Service';
  const bService = b.record.kind === 'Service';
  if (aService && bService && a.cluster !== b.cluster) {
    if (a.cluster === '') return -1;
    if (b.cluster === '') return 1;
    return a.cluster < b.cluster ? -1 : 1;
  }
  if (aService !== bService) return aService ? -1 : 1;
  return (
    compareText(a.record.creationTimestamp ?? '~', b.record.creationTimestamp ?? '~') ||
    compareText(istioName(a.record), istioName(b.record)) ||
    compareText(a.record.namespace, b.record.namespace) ||
    compareText(a.record.name, b.record.name)
  );
}

/** Istio names a ServiceEntry's service after its host; for one contested host those are equal. */
function istioName(r: ServiceRecord): string {
  return r.kind === 'Service' ? r.name : '';
}

function compareText(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}
