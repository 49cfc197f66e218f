import type { Parsed, Problem } from '../problem';
import type { KubeServiceRecord, ServicePort, ServiceType } from './types';
import { describeValue, dropMissingTimestamp, isPlainObject, own } from './fields';
import { canonicalIp } from './ip';
import { problemAt, type DocumentRef } from './location';
import { readMetadata } from './metadata';
import { isDns1035Label } from './names';
import { EXPORT_TO_ANNOTATION, readExportTo } from './exportTo';

const KUBE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const KUBE_PROTOCOLS: Record<string, ServicePort['transport']> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/**
 * A `v1 Service` → its record. A bad value that decides what the service is (name, namespace,
 * type) drops the record; a bad list item (one clusterIP, one port) drops only that item. Either
 * way every defect is a problem, so the caller can keep the file's last good content.
 */
export function parseService(doc: unknown, ref: DocumentRef): Parsed<KubeServiceRecord | undefined> {
  const problems: Problem[] = [];
  const meta = readMetadata(doc, ref, problems, {
    check: isDns1035Label,
    rule: "a Service name is a DNS-1035 label: lower-case letters, digits and '-', starting with a letter, at most 63 characters",
  });
  const spec = own(doc, 'spec');
  if (spec !== undefined && !isPlainObject(spec)) {
    problems.push(problemAt(ref, 'spec', `spec must be a mapping, not ${describeValue(spec)}`));
    return { value: undefined, problems };
  }
  const type = readType(spec, ref, problems);
  if (meta === undefined || type === undefined) return { value: undefined, problems };
  const headless = type === 'ClusterIP' && isHeadless(spec);
  const record: KubeServiceRecord = {
    kind: 'Service',
    source: { file: ref.file, document: ref.document, kind: 'Service', namespace: meta.namespace, name: meta.name },
    name: meta.name,
    namespace: meta.namespace,
    type: headless ? 'Headless' : type,
    addresses: type === 'ExternalName' || headless ? [] : readClusterIps(spec, ref, problems),
    ports: readPorts(own(spec, 'ports'), ref, problems),
    endpoints: [],
    creationTimestamp: meta.creationTimestamp, // last: see dropMissingTimestamp
  };
  const kept = dropMissingTimestamp(record);
  const annotation = own(own(own(doc, 'metadata'), 'annotations'), EXPORT_TO_ANNOTATION);
  // The annotation's value is one string: namespaces, ".", "*" or "~", separated by commas.
  const exportTo = readExportTo(typeof annotation === 'string' ? annotation.split(',') : annotation, ref, `metadata.annotations.${EXPORT_TO_ANNOTATION}`, problems);
  if (exportTo !== undefined) kept.exportTo = exportTo;
  return { value: kept, problems };
}

/** NodePort and LoadBalancer services have a cluster IP too: for DNS they are ClusterIP. */
function readType(spec: unknown, ref: DocumentRef, problems: Problem[]): Exclude<ServiceType, 'Headless'> | undefined {
  const type = own(spec, 'type');
  if (type === undefined || type === null) return 'ClusterIP';
  if (typeof type !== 'string' || !KUBE_TYPES.includes(type)) {
    problems.push(problemAt(ref, 'spec.type', `unknown Service type ${describeValue(type)}: use one of ${KUBE_TYPES.join(', ')}`));
    return undefined;
  }
  return type === 'ExternalName' ? 'ExternalName' : 'ClusterIP';
}

function isHeadless(spec: unknown): boolean {
  const clusterIPs = own(spec, 'clusterIPs');
  if (Array.isArray(clusterIPs) && clusterIPs.length > 0) return clusterIPs[0] === 'None';
  return own(spec, 'clusterIP') === 'None';
}

/** `spec.clusterIPs` (dual stack) wins over `spec.clusterIP`, as the API server keeps them in step. */
function readClusterIps(spec: unknown, ref: DocumentRef, problems: Problem[]): string[] {
  const clusterIPs = own(spec, 'clusterIPs');
  const clusterIP = own(spec, 'clusterIP');
  const candidates: Array<{ field: string; value: unknown }> = [];
  if (Array.isArray(clusterIPs) && clusterIPs.length > 0) {
    clusterIPs.forEach((value: unknown, i) => candidates.push({ field: `spec.clusterIPs[${i}]`, value }));
  } else {
    if (clusterIPs !== undefined && clusterIPs !== null && !Array.isArray(clusterIPs)) {
      problems.push(problemAt(ref, 'spec.clusterIPs', `spec.clusterIPs must be a list of IPs, not ${describeValue(clusterIPs)}`));
    }
    if (clusterIP !== undefined && clusterIP !== null) candidates.push({ field: 'spec.clusterIP', value: clusterIP });
  }
  const addresses: string[] = [];
  for (const { field, value } of candidates) {
    // "" is a manifest written before the API server assigned an IP: nothing to serve yet.
    if (value === '') continue;
    const ip = typeof value === 'string' ? canonicalIp(value) : undefined;
    if (ip === undefined) {
      problems.push(problemAt(ref, field, `${describeValue(value)} is not an IP address: write an IPv4 or IPv6 address, or "None" (first entry only) for a headless service`));
    } else if (!addresses.includes(ip)) {
      addresses.push(ip);
    }
  }
  return addresses;
}

function readPorts(ports: unknown, ref: DocumentRef, problems: Problem[]): ServicePort[] {
  if (ports === undefined || ports === null) return [];
  if (!Array.isArray(ports)) {
    problems.push(problemAt(ref, 'spec.ports', `spec.ports must be a list, not ${describeValue(ports)}`));
    return [];
  }
  const result: ServicePort[] = [];
  ports.forEach((entry: unknown, i) => {
    const field = `spec.ports[${i}]`;
    if (!isPlainObject(entry)) {
      problems.push(problemAt(ref, field, `a port must be a mapping with "port", not ${describeValue(entry)}`));
      return;
    }
    const port = own(entry, 'port');
    if (!isPortNumber(port)) {
      const what = port === undefined ? 'is missing' : `${describeValue(port)} is not a number from 1 to 65535`;
      problems.push(problemAt(ref, `${field}.port`, `port ${what}`));
      return;
    }
    const protocol = own(entry, 'protocol') ?? 'TCP';
    const transport = typeof protocol === 'string' ? KUBE_PROTOCOLS[protocol] : undefined;
    if (transport === undefined) {
      problems.push(problemAt(ref, `${field}.protocol`, `protocol ${describeValue(protocol)} is not TCP, UDP or SCTP`));
      return;
    }
    const name = own(entry, 'name');
    if (name !== undefined && name !== null && typeof name !== 'string') {
      problems.push(problemAt(ref, `${field}.name`, `port name ${describeValue(name)} must be a string`));
      return;
    }
    result.push({ name: name ?? '', port, transport });
  });
  return result;
}

export function isPortNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

