// Small builders of registry records for name-table tests (the registry parsers are tested on
// real manifests elsewhere; here the rules of the table are the subject).
import type { KubeServiceRecord, ServiceEntryRecord, ServiceEndpoint, ServicePort } from '../../src/registry/types';

export function svc(
  name: string,
  namespace: string,
  addresses: string[],
  opts: { type?: KubeServiceRecord['type']; endpoints?: ServiceEndpoint[]; ports?: ServicePort[] } = {},
): KubeServiceRecord {
  return {
    kind: 'Service',
    source: { file: 'svc.yaml', document: '0', kind: 'Service', namespace, name },
    name,
    namespace,
    type: opts.type ?? (addresses.length === 0 ? 'Headless' : 'ClusterIP'),
    addresses,
    ports: opts.ports ?? [],
    endpoints: opts.endpoints ?? [],
  };
}

export function se(
  name: string,
  namespace: string,
  hosts: string[],
  opts: Partial<Omit<ServiceEntryRecord, 'kind' | 'name' | 'namespace' | 'hosts' | 'source'>> = {},
): ServiceEntryRecord {
  return {
    kind: 'ServiceEntry',
    source: { file: 'se.yaml', document: '0', kind: 'ServiceEntry', namespace, name },
    name,
    namespace,
    hosts,
    addresses: opts.addresses ?? [],
    declaresAddresses: opts.declaresAddresses ?? (opts.addresses ?? []).length > 0,
    statusAddresses: opts.statusAddresses ?? {},
    resolution: opts.resolution ?? 'STATIC',
    endpoints: opts.endpoints ?? [],
    ports: opts.ports ?? [],
    autoAllocate: opts.autoAllocate ?? true,
    creationTimestamp: opts.creationTimestamp,
  };
}
