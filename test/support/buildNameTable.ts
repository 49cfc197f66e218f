// A one-shot table build for tests and benches: one TableBuilder, one update. The service and
// the CLI always go through TableBuilder (inputs/table.ts), so this lives outside src/.
import type { HostsEntry } from '../../src/config/types';
import { TableBuilder, type NameTable } from '../../src/nametable';
import type { Allocations } from '../../src/registry/allocator';
import type { ServiceRecord } from '../../src/registry/types';

/** Everything the one-shot table is a pure function of. */
export interface TableInputs {
  records: readonly ServiceRecord[];
  /** Local VIPs by `namespace/name/host` (as the VIP state file keeps them). */
  allocations: Readonly<Allocations>;
  hostsFiles: ReadonlyArray<{ file: string; entries: readonly HostsEntry[] }>;
  clusterDomain: string;
  namespace: string;
  searchDomains: readonly string[];
}

/**
 * Build the table in one go (docs/ARCHITECTURE.md §2). Pure: same inputs, same table. The records
 * are taken as they are (endpoints already attached); `allocations` seed the allocator, so the
 * VIPs are the given ones.
 */
export function buildNameTable(inputs: TableInputs): NameTable {
  const builder = new TableBuilder(inputs.allocations);
  return builder.update({
    files: [{ file: '', records: inputs.records, endpointSets: [] }],
    hostsFiles: inputs.hostsFiles,
    clusterDomain: inputs.clusterDomain,
    namespace: inputs.namespace,
    searchDomains: inputs.searchDomains,
    autoAllocate: Object.keys(inputs.allocations).length > 0,
  }).table;
}
