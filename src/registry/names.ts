/** DNS-1035 label: what Kubernetes requires of a Service name. */
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 label: namespaces, host labels, pod hostnames. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL = 63;
const MAX_NAME = 253;

export function isDns1035Label(text: string): boolean {
  return text.length <= MAX_LABEL && DNS1035_LABEL.test(text);
}

export function isDns1123Label(text: string): boolean {
  return text.length <= MAX_LABEL && DNS1123_LABEL.test(text);
}

/** DNS-1123 subdomain: object names of most kinds (ServiceEntry, EndpointSlice). */
export function isDns1123Subdomain(text: string): boolean {
  return text.length > 0 && text.length <= MAX_NAME && text.split('.').every(isDns1123Label);
}

/** A dotted name of DNS-1123 labels: `api.example.com`, `mongodb`, `10.0.0.1`. */
export function isHostname(text: string): boolean {
  return isDns1123Subdomain(text);
}

/**
 * A name from its labels. `join` makes one flat string; a template literal makes a chain of V8
 * cons strings (a node per `+`, plus the pieces), and these names live as long as the
 * table or an index does: several per Service (docs/DECISIONS.md, "Names built flat").
 */
export function dotted(...labels: string[]): string {
  return labels.join('.');
}

/** A Kubernetes Service's FQDN, `name.namespace.svc.<cluster domain>`. */
export function serviceFqdn(name: string, namespace: string, clusterDomain: string): string {
  return dotted(name, namespace, 'svc', clusterDomain);
}

export type HostResult = { ok: true; host: string } | { ok: false; reason: string };

/**
 * A ServiceEntry host as the name table keys it: lower-case, no trailing dot. A wildcard is
 * allowed only as the whole leftmost label (`*.example.com`) or as `*` alone, as Istio validates.
 */
export function normalizeServiceEntryHost(raw: string): HostResult {
  const host = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  if (host === '') return { ok: false, reason: 'is empty' };
  if (host.length > MAX_NAME) return { ok: false, reason: `is longer than ${MAX_NAME} characters` };
  if (host === '*') return { ok: true, host };
  const rest = host.startsWith('*.') ? host.slice(2) : host;
  if (rest.includes('*')) {
    return { ok: false, reason: "has a '*' that is not the whole leftmost label: write a wildcard as *.example.com" };
  }
  if (!isHostname(rest)) {
    return { ok: false, reason: "is not a DNS name: use labels of a-z, 0-9 and '-' (at most 63 characters each) joined by dots" };
  }
  return { ok: true, host };
}
