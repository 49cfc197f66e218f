/** A `host:port` the server listens on (UDP and TCP). */
export interface ListenAddress {
  host: string;
  port: number;
  family: 4 | 6;
}

/** An upstream resolver to forward to. */
export interface Upstream {
  host: string;
  port: number;
  family: 4 | 6;
}

export interface RegistrySource {
  path: string;
  cluster?: string;
}

export type IpFamiliesSetting = 'auto' | 'ipv4' | 'ipv6' | 'dual';

/** A Kubernetes label selector (mesh config `discoverySelectors`). */
export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values: string[] }>;
}

/** Which address families the VM can use, and what decided it (for `check` and `explain`). */
export interface IpFamilies {
  v4: boolean;
  v6: boolean;
  why: string;
}

export type ResolvConfManage = 'auto' | 'true' | 'false';
/** `istiod.enabled`: auto = on when the token and root certificate files exist. */
export type IstiodEnabled = 'auto' | 'true' | 'false';

/** The `istiod:` block (README "Names from istiod"): where the name table comes from over xDS (src/istiod/). */
export interface IstiodSettings {
  enabled: IstiodEnabled;
  /** `host:port`; empty: the mesh config's `defaultConfig.discoveryAddress`. */
  address: string;
  /** TLS name to verify; empty: cluster.env ISTIOD_SAN, else the host of the address. */
  serverName: string;
  rootCert: string;
  token: string;
  /**
   * `ISTIO_VERSION` sent in the node metadata; empty: cluster.env's, else the mesh config
   * proxyMetadata's (`ISTIO_META_ISTIO_VERSION` or `ISTIO_VERSION`), else none.
   */
  istioVersion: string;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The settings file (`meshdns.yaml`, docs/ARCHITECTURE.md §6) after validation and defaults. */
export interface Settings {
  listen: ListenAddress[];
  clusterDomain: string;
  /** Empty: take POD_NAMESPACE / ISTIO_NAMESPACE from cluster.env. */
  namespace: string;
  bootstrap: { clusterEnv: string; meshConfig: string; hosts: string };
  registry: string[];
  /** The same paths with the cluster each names (`registry: [{path, cluster}]`); undefined: the VM's own. */
  registrySources: RegistrySource[];
  /** The VM's IP families (`auto`: from cluster.env's ISTIO_SVC_IP / INSTANCE_IPS, else the host's addresses). */
  ipFamilies: IpFamiliesSetting;
  resolvConf: { path: string; manage: ResolvConfManage };
  stateDir: string;
  upstreams: Upstream[];
  /**
   * Client networks allowed to query (CIDRs or IPs). Loopback is always allowed; a listen address
   * that is not loopback requires this list, so meshdns is never an open resolver by accident.
   */
  allowFrom: string[];
  forward: { timeoutMs: number; attempts: number; parallel: boolean };
  cache: { maxEntries: number };
  autoAllocate: boolean;
  ttl: number;
  /** Empty string: metrics server off. */
  metrics: string;
  log: { level: LogLevel };
  istiod: IstiodSettings;
  /** Keys the settings file actually set (for precedence over cluster.env / mesh config). */
  explicit: ReadonlySet<string>;
}

/** Values istioctl writes into cluster.env / the mesh config's proxyMetadata that meshdns uses. */
export interface BootstrapValues {
  namespace?: string;
  dnsCapture?: boolean;
  dnsAutoAllocate?: boolean;
  /** CLUSTER_ID / ISTIO_META_CLUSTER_ID. */
  clusterId?: string;
  /** ISTIO_SVC_IP and INSTANCE_IPS, valid IPs only. */
  instanceIps?: string[];
  /** Mesh config only: `defaultServiceExportTo`. */
  defaultServiceExportTo?: string[];
  /** Mesh config only: `discoverySelectors` (an empty list selects every namespace). */
  discoverySelectors?: LabelSelector[];
}

/** One line of a hosts(5) file. */
export interface HostsEntry {
  address: string;
  names: string[];
  /** 1-based line number, for `table` and errors. */
  line: number;
}

/**
 * The effective configuration after precedence: settings file > cluster.env > mesh config > defaults.
 */
export interface EffectiveConfig {
  settings: Settings;
  namespace: string;
  dnsCapture: boolean;
  autoAllocate: boolean;
  /** The VM's cluster ('' when neither cluster.env nor the mesh config names it). */
  clusterId: string;
  families: IpFamilies;
  /** `defaultServiceExportTo` of the mesh config (Istio's default: `*`). */
  defaultExportTo: readonly string[];
  /** `discoverySelectors` of the mesh config; undefined or empty: every namespace. */
  discoverySelectors: readonly LabelSelector[] | undefined;
}
