import type { Parsed, Problem } from '../problem';
import type { Resolution, ServiceEntryRecord, ServicePort } from './types';
import { describeValue, detachedText, dropMissingTimestamp, exactList, isPlainObject, own, path } from './fields';
import { canonicalIp, parseAddressOrCidr } from './ip';
import { problemAt, type DocumentRef } from './location';
import { readMetadata } from './metadata';
import { isDns1123Subdomain, isHostname, normalizeServiceEntryHost } from './names';
import { isPortNumber } from './service';
import { readExportTo } from './exportTo';

export const SERVICE_ENTRY_API_VERSIONS = ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'];
// DYNAMIC_DNS (istio/api) answers as DNS does: by the table's addresses, never the endpoints.
const RESOLUTIONS: Resolution[] = ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'];
export const AUTO_ALLOCATE_LABEL = 'networking.istio.io/enable-autoallocate-ip';

/**
 * An Istio `ServiceEntry` → its record. As for Services: a bad value that decides what the entry
 * is (apiVersion, name, resolution, no valid host) drops the record; a bad list item (one host,
 * one address, one port) drops only that item; every defect is a problem.
 */
export function parseServiceEntry(doc: unknown, ref: DocumentRef): Parsed<ServiceEntryRecord | undefined> {
  const problems: Problem[] = [];
  const apiVersion = own(doc, 'apiVersion');
  if (typeof apiVersion !== 'string' || !SERVICE_ENTRY_API_VERSIONS.includes(apiVersion)) {
    problems.push(problemAt(ref, 'apiVersion', `ServiceEntry apiVersion ${describeValue(apiVersion)} is not supported: use one of ${SERVICE_ENTRY_API_VERSIONS.join(', ')}`));
    return { value: undefined, problems };
  }
  const meta = readMetadata(doc, ref, problems, {
    check: isDns1123Subdomain,
    rule: "a ServiceEntry name is a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', at most 253 characters",
  });
  const spec = own(doc, 'spec');
  if (!isPlainObject(spec)) {
    problems.push(problemAt(ref, 'spec', spec === undefined ? 'spec is missing: a ServiceEntry needs spec.hosts' : `spec must be a mapping, not ${describeValue(spec)}`));
    return { value: undefined, problems };
  }
  const hosts = readHosts(own(spec, 'hosts'), ref, problems);
  const resolution = readResolution(own(spec, 'resolution'), ref, problems);
  const declaredAddresses = own(spec, 'addresses');
  const addresses = readAddresses(declaredAddresses, ref, problems);
  const endpoints = readEndpoints(own(spec, 'endpoints'), ref, problems);
  const ports = readPorts(own(spec, 'ports'), ref, problems);
  const statusAddresses = readStatusAddresses(path(doc, 'status', 'addresses'));
  const exportTo = readExportTo(own(spec, 'exportTo'), ref, 'spec.exportTo', problems);
  if (meta === undefined || hosts.length === 0 || resolution === undefined) return { value: undefined, problems };
  const optOut = own(meta.labels, AUTO_ALLOCATE_LABEL);
  const record: ServiceEntryRecord = {
    kind: 'ServiceEntry',
    source: { file: ref.file, document: ref.document, kind: 'ServiceEntry', namespace: meta.namespace, name: meta.name },
    name: meta.name,
    namespace: meta.namespace,
    hosts,
    addresses,
    declaresAddresses: Array.isArray(declaredAddresses) && declaredAddresses.length > 0,
    statusAddresses,
    resolution,
    endpoints,
    ports,
    // Label values are strings, but a hand-written `false` (a YAML boolean) means the same.
    autoAllocate: !(typeof optOut === 'string' || typeof optOut === 'boolean') || String(optOut).toLowerCase() !== 'false',
    creationTimestamp: meta.creationTimestamp, // last: see dropMissingTimestamp
  };
  const kept = dropMissingTimestamp(record);
  if (exportTo !== undefined) kept.exportTo = exportTo;
  return { value: kept, problems };
}

function readHosts(value: unknown, ref: DocumentRef, problems: Problem[]): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    const what = value === undefined || value === null ? 'is missing' : Array.isArray(value) ? 'is empty' : `must be a list, not ${describeValue(value)}`;
    problems.push(problemAt(ref, 'spec.hosts', `spec.hosts ${what}: a ServiceEntry needs at least one host`));
    return [];
  }
  const hosts: string[] = [];
  value.forEach((raw: unknown, i) => {
    const field = `spec.hosts[${i}]`;
    if (typeof raw !== 'string') {
      problems.push(problemAt(ref, field, `host ${describeValue(raw)} must be a string`));
      return;
    }
    const result = normalizeServiceEntryHost(raw);
    if (!result.ok) problems.push(problemAt(ref, field, `host ${describeValue(raw)} ${result.reason}`));
    else if (!hosts.includes(result.host)) hosts.push(detachedText(result.host)); // kept for the table's lifetime
  });
  return exactList(hosts);
}

function readResolution(value: unknown, ref: DocumentRef, problems: Problem[]): Resolution | undefined {
  if (value === undefined || value === null) return 'NONE';
  const found = RESOLUTIONS.find((r) => r === value);
  if (found === undefined) {
    problems.push(problemAt(ref, 'spec.resolution', `resolution ${describeValue(value)} is not one of ${RESOLUTIONS.join(', ')}`));
  }
  return found;
}

/** IPs are kept; a /32 or /128 is its one IP; wider CIDRs are valid but give no DNS answer, so they are skipped. */
function readAddresses(value: unknown, ref: DocumentRef, problems: Problem[]): string[] {
  if (value === undefined || value === null) return NO_ADDRESSES;
  if (!Array.isArray(value)) {
    problems.push(problemAt(ref, 'spec.addresses', `spec.addresses must be a list, not ${describeValue(value)}`));
    return [];
  }
  const addresses: string[] = [];
  value.forEach((raw: unknown, i) => {
    const parsed = typeof raw === 'string' ? parseAddressOrCidr(raw) : undefined;
    if (parsed === undefined) {
      problems.push(problemAt(ref, `spec.addresses[${i}]`, `${describeValue(raw)} is not an IP address or CIDR (e.g. 10.0.0.1 or 10.0.0.0/24)`));
    } else if ((parsed.kind === 'ip' || parsed.single) && !addresses.includes(parsed.ip)) {
      addresses.push(parsed.ip);
    }
  });
  return addresses.length === 0 ? NO_ADDRESSES : exactList(addresses);
}

/** Endpoint IPs only: DNS-name endpoints are resolved by the proxy, unix sockets are not addresses at all. */
function readEndpoints(value: unknown, ref: DocumentRef, problems: Problem[]): string[] {
  if (value === undefined || value === null) return NO_ADDRESSES;
  if (!Array.isArray(value)) {
    problems.push(problemAt(ref, 'spec.endpoints', `spec.endpoints must be a list, not ${describeValue(value)}`));
    return [];
  }
  const addresses: string[] = [];
  value.forEach((entry: unknown, i) => {
    if (!isPlainObject(entry)) {
      problems.push(problemAt(ref, `spec.endpoints[${i}]`, `an endpoint must be a mapping with "address", not ${describeValue(entry)}`));
      return;
    }
    const raw = own(entry, 'address');
    // An endpoint without address (reached through a network gateway) is valid and gives no IP.
    if (raw === undefined || raw === null) return;
    if (typeof raw === 'string' && raw.startsWith('unix://')) return;
    const ip = typeof raw === 'string' ? canonicalIp(raw) : undefined;
    if (ip !== undefined) {
      if (!addresses.includes(ip)) addresses.push(ip);
    } else if (typeof raw !== 'string' || !isHostname((raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase())) {
      problems.push(problemAt(ref, `spec.endpoints[${i}].address`, `${describeValue(raw)} is not an IP address, a DNS name or unix:///path`));
    }
  });
  return addresses.length === 0 ? NO_ADDRESSES : exactList(addresses);
}

function readPorts(value: unknown, ref: DocumentRef, problems: Problem[]): ServicePort[] {
  if (value === undefined || value === null) return NO_PORTS;
  if (!Array.isArray(value)) {
    problems.push(problemAt(ref, 'spec.ports', `spec.ports must be a list, not ${describeValue(value)}`));
    return [];
  }
  const ports: ServicePort[] = [];
  value.forEach((entry: unknown, i) => {
    const field = `spec.ports[${i}]`;
    if (!isPlainObject(entry)) {
      problems.push(problemAt(ref, field, `a port must be a mapping with "number", not ${describeValue(entry)}`));
      return;
    }
    const number = own(entry, 'number');
    if (!isPortNumber(number)) {
      const what = number === undefined ? 'is missing' : `${describeValue(number)} is not a number from 1 to 65535`;
      problems.push(problemAt(ref, `${field}.number`, `port number ${what}`));
      return;
    }
    const name = own(entry, 'name');
    if (name !== undefined && name !== null && typeof name !== 'string') {
      problems.push(problemAt(ref, `${field}.name`, `port name ${describeValue(name)} must be a string`));
      return;
    }
    // Istio protocols (HTTP, TLS, MONGO, …) all ride on TCP but UDP.
    const protocol = own(entry, 'protocol');
    const transport = typeof protocol === 'string' && protocol.toUpperCase() === 'UDP' ? 'udp' : 'tcp';
    ports.push({ name: name ?? '', port: number, transport });
  });
  return sharedPorts(ports);
}

/** Port lists by content. Most entries of a registry declare the same few port lists. */
const portLists = new Map<string, ServicePort[]>();
/** Bound of `portLists`: past it the cache starts over, so a registry of unique lists costs nothing extra. */
const MAX_PORT_LISTS = 4096;

/**
 * One frozen list per distinct port list, shared by the records that declare it: most records
 * of a registry declare the same few lists (docs/DECISIONS.md, "Shared strings and lists").
 */
function sharedPorts(ports: ServicePort[]): ServicePort[] {
  if (ports.length === 0) return NO_PORTS;
  const key = ports.map((p) => `${p.port}/${p.transport}/${p.name}`).join('\u0000');
  let shared = portLists.get(key);
  if (shared === undefined) {
    if (portLists.size >= MAX_PORT_LISTS) portLists.clear();
    shared = Object.freeze(ports.map((p) => Object.freeze({ ...p }))) as ServicePort[];
    portLists.set(key, shared);
  }
  return shared;
}

/**
 * `status.addresses` as istiod's allocator writes them: `[{value, host}]`. Status is written by
 * the control plane, not the user, so entries that are not IPs are skipped rather than reported.
 */
/**
 * The status of the many entries without one, shared: a prototype-less object is a dictionary
 * in V8, a large object to keep once per record.
 */
/** Shared, frozen empty lists: records are never changed once parsed, and most lists are empty. */
const NO_ADDRESSES = Object.freeze([]) as unknown as string[];
const NO_PORTS = Object.freeze([]) as unknown as ServicePort[];

const NO_STATUS_ADDRESSES: Record<string, string[]> = Object.freeze(Object.create(null) as Record<string, string[]>);

function readStatusAddresses(value: unknown): Record<string, string[]> {
  if (!Array.isArray(value) || value.length === 0) return NO_STATUS_ADDRESSES;
  // No prototype: a host called `constructor` must not find Object.prototype.constructor.
  const byHost: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const entry of value as unknown[]) {
    const host = own(entry, 'host');
    const raw = own(entry, 'value');
    if (typeof host !== 'string' || typeof raw !== 'string') continue;
    const ip = canonicalIp(raw);
    const normalized = normalizeServiceEntryHost(host);
    if (ip === undefined || !normalized.ok) continue;
    const list = (byHost[normalized.host] ??= []);
    if (!list.includes(ip)) list.push(ip);
  }
  return byHost;
}
