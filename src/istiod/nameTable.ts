import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { Any } from '@bufbuild/protobuf/wkt';
import { NameTable_NameInfoSchema, type NameTable_NameInfo } from './gen/istio/networking/nds/v1/nds_pb';
import type { KubeServiceRecord, ServiceEntryRecord, ServiceRecord, SourceRef } from '../registry/types';
import { normalizeServiceEntryHost, isDns1123Label, isDns1123Subdomain } from '../registry/names';
import { canonicalIp } from '../registry/ip';

export const NAME_TABLE_TYPE = 'type.googleapis.com/istio.networking.nds.v1.NameTable';

/** The pseudo-file name of istiod's records in the table builder, `meshdns table` and `explain`. */
export const ISTIOD_SOURCE_FILE = 'istiod';

/**
 * The NameTable bytes of one push: the resources' values, concatenated (serialized NameTables
 * concatenate into their merge: map entries of later ones win). Each resource must be a NameTable.
 */
export function nameTableBytes(resources: readonly Any[]): { ok: true; bytes: Uint8Array } | { ok: false; error: string } {
  for (const [i, any] of resources.entries()) {
    if (any.typeUrl !== NAME_TABLE_TYPE) return { ok: false, error: `resource ${i}: type ${JSON.stringify(any.typeUrl)}, expected ${NAME_TABLE_TYPE}` };
  }
  if (resources.length === 1) return { ok: true, bytes: resources[0].value };
  return { ok: true, bytes: Buffer.concat(resources.map((r) => r.value)) };
}

const MAP_ENTRY_KEY = 1;
const MAP_ENTRY_VALUE = 2;
const TABLE_FIELD = 1;

/**
 * Walks `NameTable.table` (map<string, NameInfo>) with the library's wire reader, handing each
 * host with the position of its NameInfo's bytes in `bytes`, undecoded: an entry that did not
 * change since the last push is recognized by its bytes, so a push of 100,000 names with a few
 * changes decodes a few NameInfos (bench/RESULTS.md "istiod push"). Nothing is allocated per
 * entry but the host string. Throws on malformed input.
 */
export function forEachEntry(bytes: Uint8Array, visit: (host: string, start: number, end: number) => void): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field !== TABLE_FIELD || wire !== WireType.LengthDelimited) {
      reader.skip(wire, field);
      continue;
    }
    // The entry is read in place (no reader per entry: 100,000 of them).
    const end = reader.uint32() + reader.pos;
    if (end > reader.len) throw new Error('premature end of a table entry');
    let host = '';
    let infoStart = 0;
    let infoEnd = 0;
    while (reader.pos < end) {
      const [f, w] = reader.tag();
      if (f === MAP_ENTRY_KEY && w === WireType.LengthDelimited) host = reader.string();
      else if (f === MAP_ENTRY_VALUE && w === WireType.LengthDelimited) {
        const length = reader.uint32();
        infoStart = reader.pos;
        infoEnd = infoStart + length;
        if (infoEnd > end) throw new Error('premature end of a NameInfo');
        reader.pos = infoEnd;
      } else reader.skip(w, f);
    }
    if (reader.pos !== end) throw new Error('a table entry overruns its length');
    visit(host, infoStart, infoEnd);
  }
}

/** `text` (one char per byte) equals `bytes[start, end)`. */
function sameBytes(text: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

interface Converted {
  /**
   * The NameInfo bytes the record was made from, one char per byte (a string rather than a
   * view, which would keep the whole push's message alive): an unchanged entry keeps its record
   * object (the builder re-derives only new objects).
   */
  key: string;
  record: ServiceRecord;
}

/**
 * NameTable → the table builder's records (docs/ARCHITECTURE.md §11). A `Kubernetes` entry
 * whose host is `<shortname>.<namespace>.svc.<domain>` becomes a Service with those addresses, so
 * the builder gives it Kubernetes short names (`name`, `name.namespace`); every other entry is a
 * ServiceEntry host with its addresses declared (istiod allocated them: meshdns allocates none).
 * Records are reused across pushes for entries that did not change.
 */
export class NameTableRecords {
  private previous = new Map<string, Converted>();
  private previousDomain = '';

  convert(bytes: Uint8Array, clusterDomain: string): { ok: true; records: ServiceRecord[] } | { ok: false; error: string } {
    const next = new Map<string, Converted>();
    const errors: string[] = [];
    const reuse = clusterDomain === this.previousDomain;
    try {
      const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      forEachEntry(bytes, (rawHost, start, end) => {
        // Keyed as the table keys it: case and a trailing dot do not make another host. A later
        // entry for a host replaces an earlier one (protobuf map semantics; merged resources).
        const host = /[A-Z]|\.$/.test(rawHost) ? rawHost.toLowerCase().replace(/\.$/, '') : rawHost;
        const known = reuse ? this.previous.get(host) : undefined;
        if (known !== undefined && sameBytes(known.key, bytes, start, end)) {
          next.set(host, known);
          return;
        }
        const infoBytes = bytes.subarray(start, end);
        const key = whole.toString('latin1', start, end);
        let info: NameTable_NameInfo;
        try {
          info = fromBinary(NameTable_NameInfoSchema, infoBytes);
        } catch (err) {
          errors.push(`host ${JSON.stringify(rawHost)}: cannot decode its NameInfo: ${(err as Error).message}`);
          return;
        }
        const record = toRecord(rawHost, info, clusterDomain, errors);
        if (record !== undefined) next.set(host, { key, record });
      });
    } catch (err) {
      return { ok: false, error: `cannot decode the NameTable: ${(err as Error).message}` };
    }
    if (errors.length > 0) {
      return { ok: false, error: `${errors.length} unusable entr${errors.length === 1 ? 'y' : 'ies'}: ${errors.slice(0, 3).join('; ')}${errors.length > 3 ? '; …' : ''}` };
    }
    const records: ServiceRecord[] = [];
    for (const converted of next.values()) records.push(converted.record);
    this.previous = next;
    this.previousDomain = clusterDomain;
    return { ok: true, records };
  }
}

/**
 * NDS carries neither ports nor endpoints: every record istiod pushes shares these two (frozen,
 * so a write would throw rather than reach every record), instead of two fresh arrays a record.
 */
const NO_PORTS = Object.freeze([]) as unknown as never[];
const NO_ENDPOINTS = Object.freeze([]) as unknown as never[];

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
    const service: KubeServiceRecord = { kind: 'Service', source: source('Service', info.namespace, info.shortname), name: info.shortname, namespace: info.namespace, type: 'ClusterIP', addresses, ports: NO_PORTS, endpoints: NO_ENDPOINTS };
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
    endpoints: NO_ENDPOINTS,
    ports: NO_PORTS,
    autoAllocate: false,
  };
  return entry;
}
