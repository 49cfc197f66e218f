import type { ServicePort, SourceRef } from '../registry/types';

/** Where a name's addresses came from. */
export interface NameOrigin {
  kind: 'Service' | 'ServiceEntry' | 'hosts';
  /** For hosts files the file is `file` and the line is in `document`. */
  source: SourceRef;
  /** How the addresses were obtained: clusterIP, endpoints, spec.addresses, status.addresses, allocated, hosts. */
  via: 'clusterIP' | 'endpoints' | 'spec.addresses' | 'status.addresses' | 'allocated' | 'hosts';
}

/** One entry of the table: everything meshdns answers for a name. */
export interface NameInfo {
  /** The key, lower-case, without trailing dot (`reviews`, `reviews.default`, `*.example.com` …). */
  name: string;
  /** The FQDN this key is a form of (`reviews.default.svc.cluster.local`); equals `name` for FQDNs. */
  canonical: string;
  v4: readonly string[];
  v6: readonly string[];
  /** Named ports, for SRV (`_port._proto.<name>`). */
  ports: readonly ServicePort[];
  origins: readonly NameOrigin[];
}

/** How a query name maps onto the table (docs/ARCHITECTURE.md §2). */
export type Lookup =
  /** The name itself is a key. */
  | { kind: 'name'; info: NameInfo }
  /** Matched `*.<apex>`; answered under the query name. */
  | { kind: 'wildcard'; info: NameInfo }
  /**
   * `<target>.<searchDomain>` where `<target>` resolves (exactly or by wildcard): answered with
   * CNAME query → target, then target's addresses owned by target.
   */
  | { kind: 'search'; info: NameInfo; target: string; searchDomain: string; viaWildcard: boolean };

export interface SrvLookup {
  info: NameInfo;
  /** The owner of the SRV target: the name the service is reached by (the key that matched). */
  target: string;
  port: ServicePort;
}

/** The immutable name table the DNS handlers read. All keys are lower-case without trailing dot. */
export interface NameTable {
  /** Names (keys) in the table, wildcards included, search-suffix forms not counted. */
  readonly size: number;
  readonly searchDomains: readonly string[];
  lookup(name: string): Lookup | undefined;
  /** `_port._proto.<name>` → the named port. */
  lookupSrv(name: string): SrvLookup | undefined;
  /** Reverse name (`1.0.240.240.in-addr.arpa`, ip6.arpa nibbles) → the canonical name owning it. */
  lookupPtr(name: string): string | undefined;
  /** Every key, for `meshdns table`. */
  entries(): IterableIterator<NameInfo>;
}
