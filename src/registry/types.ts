/** Where a record came from, for `table`, `explain` and error messages. */
export interface SourceRef {
  file: string;
  /** 0-based document index within the file (items of a `kind: List` count as their own documents: `3.1`). */
  document: string;
  kind: string;
  namespace: string;
  name: string;
}

/** A port of a Service or ServiceEntry. Only named ports yield SRV records. */
export interface ServicePort {
  name: string;
  port: number;
  /** Transport for SRV: Kubernetes `protocol` (TCP/UDP/SCTP) or, for ServiceEntry, derived from `protocol` (UDP → udp, else tcp). */
  transport: 'tcp' | 'udp' | 'sctp';
}

export interface ServiceEndpoint {
  /** IPv4 or IPv6 address (validated). */
  address: string;
  /** Pod hostname (StatefulSet pods), used for per-pod names of headless services. */
  hostname?: string;
  ready: boolean;
}

export type ServiceType = 'ClusterIP' | 'Headless' | 'ExternalName';

/** A Kubernetes `v1 Service`. */
export interface KubeServiceRecord {
  kind: 'Service';
  source: SourceRef;
  name: string;
  namespace: string;
  type: ServiceType;
  /** `spec.clusterIPs`, else `spec.clusterIP`; IPs only; empty when headless or ExternalName. */
  addresses: string[];
  ports: ServicePort[];
  /** Ready and not-ready endpoints from EndpointSlices/Endpoints (joined by `attachEndpoints`). */
  endpoints: ServiceEndpoint[];
  creationTimestamp?: string;
  /** The `networking.istio.io/exportTo` annotation, split at commas; absent when not set. */
  exportTo?: readonly string[];
}

export type Resolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'DYNAMIC_DNS';

/** An Istio `ServiceEntry` (networking.istio.io v1, v1beta1, v1alpha3). */
export interface ServiceEntryRecord {
  kind: 'ServiceEntry';
  source: SourceRef;
  name: string;
  namespace: string;
  /** `spec.hosts`, lower-cased, without trailing dot; may contain wildcards (`*.example.com`). */
  hosts: string[];
  /** Usable IPs of `spec.addresses` (CIDRs with a prefix shorter than the full length are dropped). */
  addresses: string[];
  /**
   * True when `spec.addresses` lists anything at all, CIDRs included: such an entry is never
   * auto-allocated even when none of its addresses is usable for DNS (Istio's rule).
   */
  declaresAddresses?: boolean;
  /** `status.addresses` by host (lower-cased): what istiod's allocator wrote. */
  statusAddresses: Record<string, string[]>;
  resolution: Resolution;
  /** Endpoint addresses that are IPs (`spec.endpoints[].address`). */
  endpoints: string[];
  ports: ServicePort[];
  /** False when the label `networking.istio.io/enable-autoallocate-ip` is "false" (any case). */
  autoAllocate: boolean;
  creationTimestamp?: string;
  /** `spec.exportTo`; absent when not set. */
  exportTo?: readonly string[];
}

export type ServiceRecord = KubeServiceRecord | ServiceEntryRecord;

/** Endpoints found in an EndpointSlice or Endpoints object, to be attached to their Service. */
export interface EndpointSet {
  source: SourceRef;
  namespace: string;
  /** The Service they belong to (`kubernetes.io/service-name` label, or the Endpoints' own name). */
  serviceName: string;
  endpoints: ServiceEndpoint[];
}

/** What a registry file holds once parsed. */
export interface RegistryDocuments {
  records: ServiceRecord[];
  endpointSets: EndpointSet[];
  /** Documents of kinds meshdns does not use (counted, logged at debug). */
  ignoredKinds: Record<string, number>;
  /** `v1 Namespace` objects: their labels, for the mesh config's discoverySelectors. */
  namespaces?: NamespaceLabels[];
  /** The cluster the file's Services come from (`# meshdns: cluster=NAME` at the top). */
  cluster?: string;
}

export interface NamespaceLabels {
  source: SourceRef;
  name: string;
  labels: Record<string, string>;
}

/** One locally allocated VIP pair, keyed by `namespace/name/host`. */
export interface VipAllocation {
  v4: string;
  v6: string;
}
