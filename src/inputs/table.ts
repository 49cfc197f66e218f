import type { Problem } from '../problem';
import { buildNameTable, type NameTable } from '../nametable';
import { allocateVips, type Allocations } from '../registry/allocator';
import { attachEndpoints } from '../registry';
import type { ServiceRecord, EndpointSet } from '../registry/types';
import { normalizedSearchDomains } from '../system/resolvconf/parse';
import type { Snapshot } from './store';

export interface TableBuild {
  table: NameTable;
  allocations: Allocations;
  records: ServiceRecord[];
  problems: Problem[];
}

/** Snapshot → name table (pure): records of every file, endpoints attached, VIPs allocated. */
export function buildTableFromSnapshot(snapshot: Snapshot, previousAllocations: Allocations): TableBuild {
  const records: ServiceRecord[] = [];
  const endpointSets: EndpointSet[] = [];
  for (const slot of snapshot.registry.values()) {
    if (slot.value === undefined) continue;
    records.push(...slot.value.records);
    endpointSets.push(...slot.value.endpointSets);
  }
  const withEndpoints = attachEndpoints(records, endpointSets);
  const problems: Problem[] = [];
  let allocations: Allocations = {};
  if (snapshot.effective.autoAllocate) {
    const result = allocateVips(withEndpoints, previousAllocations);
    allocations = result.allocations;
    if (result.exhausted.v4 > 0 || result.exhausted.v6 > 0) {
      problems.push({
        file: '<allocator>',
        severity: 'warning',
        message: `auto-allocation range full: ${result.exhausted.v4} host(s) without an IPv4 VIP, ${result.exhausted.v6} without an IPv6 VIP; give them spec.addresses`,
      });
    }
  }
  const hostsFiles = [...snapshot.hosts.entries()]
    .filter(([, slot]) => slot.value !== undefined)
    .map(([file, slot]) => ({ file, entries: slot.value ?? [] }));
  const table = buildNameTable({
    records: withEndpoints,
    allocations,
    hostsFiles,
    clusterDomain: snapshot.settings.clusterDomain,
    namespace: snapshot.effective.namespace,
    searchDomains: snapshot.resolvConf ? normalizedSearchDomains(snapshot.resolvConf) : [],
  });
  return { table, allocations, records: withEndpoints, problems };
}
