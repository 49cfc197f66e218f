import type { Parsed, Problem } from '../problem';
import type { EndpointSet, ServiceEndpoint } from './types';
import { describeValue, isPlainObject, own } from './fields';
import { canonicalIp } from './ip';
import { problemAt, type DocumentRef } from './location';
import { readMetadata, type Metadata } from './metadata';
import { isDns1123Label, isDns1123Subdomain, isDns1035Label } from './names';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const ENDPOINT_SLICE_API_VERSIONS = ['discovery.k8s.io/v1', 'discovery.k8s.io/v1beta1'];

const SUBDOMAIN_RULE = {
  check: isDns1123Subdomain,
  rule: "an object name is a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', at most 253 characters",
};

/**
 * A `discovery.k8s.io/v1 EndpointSlice` → the endpoints of the Service named by its
 * `kubernetes.io/service-name` label. `conditions.ready` missing means ready, as the API says
 * ("unknown state … should be interpreted as ready"). FQDN slices carry names, not IPs: skipped.
 */
export function parseEndpointSlice(doc: unknown, ref: DocumentRef): Parsed<EndpointSet | undefined> {
  const problems: Problem[] = [];
  const apiVersion = own(doc, 'apiVersion');
  if (typeof apiVersion !== 'string' || !ENDPOINT_SLICE_API_VERSIONS.includes(apiVersion)) {
    problems.push(problemAt(ref, 'apiVersion', `EndpointSlice apiVersion ${describeValue(apiVersion)} is not supported: use discovery.k8s.io/v1`));
    return { value: undefined, problems };
  }
  const meta = readMetadata(doc, ref, problems, SUBDOMAIN_RULE);
  if (meta === undefined) return { value: undefined, problems };
  const serviceName = own(meta.labels, SERVICE_NAME_LABEL);
  if (typeof serviceName !== 'string' || !isDns1035Label(serviceName)) {
    // A slice of a custom controller is legitimate, but without the label it belongs to no Service.
    problems.push(
      problemAt(ref, `metadata.labels[${SERVICE_NAME_LABEL}]`, `EndpointSlice has no valid label ${SERVICE_NAME_LABEL}: without it the endpoints belong to no Service and are not used`, 'warning'),
    );
    return { value: undefined, problems };
  }
  const endpoints: ServiceEndpoint[] = [];
  const addressType = own(doc, 'addressType');
  const list = own(doc, 'endpoints');
  if (addressType === 'FQDN' || list === undefined || list === null) return { value: endpointSet(ref, meta, serviceName, endpoints, 'EndpointSlice'), problems };
  if (!Array.isArray(list)) {
    problems.push(problemAt(ref, 'endpoints', `endpoints must be a list, not ${describeValue(list)}`));
    return { value: endpointSet(ref, meta, serviceName, endpoints, 'EndpointSlice'), problems };
  }
  list.forEach((entry: unknown, i) => {
    const field = `endpoints[${i}]`;
    if (!isPlainObject(entry)) {
      problems.push(problemAt(ref, field, `an endpoint must be a mapping with "addresses", not ${describeValue(entry)}`));
      return;
    }
    const ready = own(own(entry, 'conditions'), 'ready');
    const hostname = readHostname(own(entry, 'hostname'), ref, `${field}.hostname`, problems);
    const addresses = own(entry, 'addresses');
    if (!Array.isArray(addresses)) {
      problems.push(problemAt(ref, `${field}.addresses`, `addresses must be a list of IPs, not ${describeValue(addresses)}`));
      return;
    }
    addresses.forEach((raw: unknown, j) => {
      const ip = readIp(raw, ref, `${field}.addresses[${j}]`, problems);
      if (ip !== undefined) endpoints.push(endpoint(ip, hostname, ready !== false));
    });
  });
  return { value: endpointSet(ref, meta, serviceName, endpoints, 'EndpointSlice'), problems };
}

/** A `v1 Endpoints` object (named after its Service): `addresses` are ready, `notReadyAddresses` are not. */
export function parseEndpoints(doc: unknown, ref: DocumentRef): Parsed<EndpointSet | undefined> {
  const problems: Problem[] = [];
  const meta = readMetadata(doc, ref, problems, {
    check: isDns1035Label,
    rule: 'an Endpoints object has the name of its Service, a DNS-1035 label',
  });
  if (meta === undefined) return { value: undefined, problems };
  const endpoints: ServiceEndpoint[] = [];
  const subsets = own(doc, 'subsets');
  if (subsets !== undefined && subsets !== null && !Array.isArray(subsets)) {
    problems.push(problemAt(ref, 'subsets', `subsets must be a list, not ${describeValue(subsets)}`));
  }
  (Array.isArray(subsets) ? subsets : []).forEach((subset: unknown, i) => {
    for (const [key, ready] of [['addresses', true], ['notReadyAddresses', false]] as const) {
      const field = `subsets[${i}].${key}`;
      const list = own(subset, key);
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) {
        problems.push(problemAt(ref, field, `${key} must be a list, not ${describeValue(list)}`));
        continue;
      }
      list.forEach((address: unknown, j) => {
        const hostname = readHostname(own(address, 'hostname'), ref, `${field}[${j}].hostname`, problems);
        const ip = readIp(own(address, 'ip'), ref, `${field}[${j}].ip`, problems);
        if (ip !== undefined) endpoints.push(endpoint(ip, hostname, ready));
      });
    }
  });
  return { value: endpointSet(ref, meta, meta.name, endpoints, 'Endpoints'), problems };
}

function readIp(raw: unknown, ref: DocumentRef, field: string, problems: Problem[]): string | undefined {
  const ip = typeof raw === 'string' ? canonicalIp(raw) : undefined;
  if (ip === undefined) problems.push(problemAt(ref, field, `${describeValue(raw)} is not an IP address`));
  return ip;
}

/** Pod hostnames become DNS labels (`hostname.service.ns.svc…`), so they must be one. */
function readHostname(raw: unknown, ref: DocumentRef, field: string, problems: Problem[]): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'string' && isDns1123Label(raw)) return raw;
  problems.push(problemAt(ref, field, `hostname ${describeValue(raw)} is not a DNS-1123 label; the per-pod name is left out`, 'warning'));
  return undefined;
}

function endpoint(address: string, hostname: string | undefined, ready: boolean): ServiceEndpoint {
  return hostname === undefined ? { address, ready } : { address, hostname, ready };
}

function endpointSet(ref: DocumentRef, meta: Metadata, serviceName: string, endpoints: ServiceEndpoint[], kind: string): EndpointSet {
  return {
    source: { file: ref.file, document: ref.document, kind, namespace: meta.namespace, name: meta.name },
    namespace: meta.namespace,
    serviceName,
    endpoints,
  };
}
