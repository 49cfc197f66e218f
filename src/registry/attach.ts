import type { EndpointSet, ServiceEndpoint, ServiceRecord } from './types';

/**
 * Gives each Kubernetes Service the endpoints of the EndpointSlices/Endpoints with its namespace
 * and name. Pure: new Service records come back, inputs are untouched. Several slices of one
 * service are merged; an address seen twice appears once (ready if any copy is ready, with the
 * first hostname given), since a slice and an Endpoints object usually mirror each other.
 */
export function attachEndpoints(records: readonly ServiceRecord[], sets: readonly EndpointSet[]): ServiceRecord[] {
  const byService = new Map<string, ServiceEndpoint[]>();
  for (const set of sets) {
    const key = serviceKey(set.namespace, set.serviceName);
    const list = byService.get(key) ?? [];
    list.push(...set.endpoints);
    byService.set(key, list);
  }
  return records.map((record) => {
    if (record.kind !== 'Service') return record;
    const extra = byService.get(serviceKey(record.namespace, record.name)) ?? [];
    return { ...record, endpoints: mergeEndpoints([...record.endpoints, ...extra]) };
  });
}

function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** One entry per address, in first-seen order. */
export function mergeEndpoints(endpoints: readonly ServiceEndpoint[]): ServiceEndpoint[] {
  const byAddress = new Map<string, ServiceEndpoint>();
  for (const endpoint of endpoints) {
    const seen = byAddress.get(endpoint.address);
    if (seen === undefined) {
      byAddress.set(endpoint.address, { ...endpoint });
      continue;
    }
    seen.ready = seen.ready || endpoint.ready;
    if (seen.hostname === undefined && endpoint.hostname !== undefined) seen.hostname = endpoint.hostname;
  }
  return [...byAddress.values()];
}
