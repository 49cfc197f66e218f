import { fromBinary } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { NameTableSchema, type NameTable, type NameTable_NameInfo } from './gen/istio/networking/nds/v1/nds_pb';
import type { KubeServiceRecord, ServiceEntryRecord, ServiceRecord, SourceRef } from '../registry/types';
import { normalizeServiceEntryHost, isDns1123Label, isDns1123Subdomain } from '../registry/names';
import { canonicalIp } from '../registry/ip';

export const NAME_TABLE_TYPE = 'type.googleapis.com/istio.networking.nds.v1.NameTable';

/** The pseudo-file name of istiod's records in the table builder, `meshdns table` and `explain`. */
export const ISTIOD_SOURCE_FILE = 'istiod';

/** The resources of one push, decoded into one table (istiod sends one; several are merged). */
export function decodeNameTables(resources: readonly Any[]): { ok: true; table: NameTable } | { ok: false; error: string } {
  const merged: Record<string, NameTable_NameInfo> = {};
  let first: NameTable | undefined;
  for (const [i, any] of resources.entries()) {
    if (any.typeUrl !== NAME_TABLE_TYPE) return { ok: false, error: `resource ${i}: type ${JSON.stringify(any.typeUrl)}, expected ${NAME_TABLE_TYPE}` };
    let table: NameTable;
    try {
      table = fromBinary(NameTableSchema, any.value);
    } catch (err) {
      return { ok: false, error: `resource ${i}: cannot decode the NameTable: ${(err as Error).message}` };
    }
    if (first === undefined) first = table;
    else Object.assign(merged, table.table);
  }
  if (first === undefined) return { ok: true, table: fromBinary(NameTableSchema, new Uint8Array()) };
  if (resources.length > 1) first.table = Object.assign(first.table, merged);
  return { ok: true, table: first };
}

interface Converted {
  /** What the record was made from: an unchanged entry keeps its record object (the builder re-derives only new objects). */
  key: string;
  record: ServiceRecord;
}

/**
 * NameTable → the table builder's records (docs/ARCHITECTURE.md "istiod"). A `Kubernetes` entry
 * whose host is `<shortname>.<namespace>.svc.<domain>` becomes a Service with those addresses, so
 * the builder gives it Kubernetes short names (`name`, `name.namespace`); every other entry is a
 * ServiceEntry host with its addresses declared (istiod allocated them: meshdns allocates none).
 * Records are reused across pushes for entries that did not change.
 */
export class NameTableRecords {
  private previous = new Map<string, Converted>();

  convert(table: NameTable, clusterDomain: string): { ok: true; records: ServiceRecord[] } | { ok: false; error: string } {
    const next = new Map<string, Converted>();
    const records: ServiceRecord[] = [];
    const errors: string[] = [];
    const hosts = Object.keys(table.table).sort();
    for (const rawHost of hosts) {
      const info = table.table[rawHost];
      const key = `${info.registry}|${info.shortname}|${info.namespace}|${info.ips.join(',')}`;
      const host = rawHost.toLowerCase().replace(/\.$/, '');
      const known = this.previous.get(host);
      if (known !== undefined && known.key === key) {
        next.set(host, known);
        records.push(known.record);
        continue;
      }
      const record = toRecord(rawHost, info, clusterDomain, errors);
      if (record === undefined) continue;
      if (next.has(host)) continue; // the same host twice (case, trailing dot): first wins
      next.set(host, { key, record });
      records.push(record);
    }
    if (errors.length > 0) {
      return { ok: false, error: `${errors.length} unusable entr${errors.length === 1 ? 'y' : 'ies'}: ${errors.slice(0, 3).join('; ')}${errors.length > 3 ? '; …' : ''}` };
    }
    this.previous = next;
    return { ok: true, records };
  }
}

function toRecord(rawHost: string, info: NameTable_NameInfo, clusterDomain: string, errors: string[]): ServiceRecord | undefined {
  const host = normalizeServiceEntryHost(rawHost);
  if (!host.ok) {
    errors.push(`host ${JSON.stringify(rawHost)} ${host.reason}`);
    return undefined;
  }
  const addresses: string[] = [];
  for (const ip of info.ips) {
    const canonical = canonicalIp(ip);
    if (canonical === undefined) {
      errors.push(`host ${host.host}: ${JSON.stringify(ip)} is not an IP address`);
      return undefined;
    }
    addresses.push(canonical);
  }
  const source = (kind: string, namespace: string, name: string): SourceRef => ({ file: ISTIOD_SOURCE_FILE, document: host.host, kind, namespace, name });
  if (
    info.registry === 'Kubernetes' &&
    info.shortname !== '' &&
    isDns1123Label(info.namespace) &&
    isDns1123Subdomain(info.shortname) &&
    host.host === `${info.shortname}.${info.namespace}.svc.${clusterDomain}`
  ) {
    const service: KubeServiceRecord = { kind: 'Service', source: source('Service', info.namespace, info.shortname), name: info.shortname, namespace: info.namespace, type: 'ClusterIP', addresses, ports: [], endpoints: [] };
    return service;
  }
  const entry: ServiceEntryRecord = {
    kind: 'ServiceEntry',
    source: source('ServiceEntry', info.namespace, host.host),
    name: host.host,
    namespace: info.namespace,
    hosts: [host.host],
    addresses,
    declaresAddresses: true,
    statusAddresses: {},
    resolution: 'STATIC',
    endpoints: [],
    ports: [],
    autoAllocate: false,
  };
  return entry;
}
