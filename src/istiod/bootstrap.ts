import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import type { Problem } from '../problem';
import { describeValue, isMap } from '../config/check';
import { loadYamlDocument } from '../config/yamlDocument';
import type { IstiodSettings } from '../config/types';

/**
 * What istiod needs to know about this proxy, from the files `istioctl x workload entry
 * configure` writes (cluster.env, mesh config) — docs/ARCHITECTURE.md §11. Pure: the files'
 * contents come in, the node id, metadata and connection target come out.
 */

/** Node metadata values: istiod reads booleans and numbers from strings, LABELS is a map. */
export type MetadataValue = string | Readonly<Record<string, string>>;

export interface ProxyNode {
  id: string;
  /** Envoy's service cluster: `<service>.<namespace>`. */
  cluster: string;
  metadata: Readonly<Record<string, MetadataValue>>;
  /** The `clusterid` header of every call. */
  clusterId: string;
  namespace: string;
}

/** The parts of the mesh config istiod connection uses. */
export interface MeshDefaults {
  discoveryAddress?: string;
  /** The mesh's `trustDomain` (SPIFFE identities); cluster.local when unset. */
  trustDomain: string;
  proxyMetadata: Record<string, string>;
}

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** Metadata that would make istiod create or require a WorkloadEntry: never sent. */
const NEVER_SENT = new Set(['AUTO_REGISTER_GROUP', 'WORKLOAD_ENTRY']);

/** `defaultConfig.discoveryAddress` and `defaultConfig.proxyMetadata` (strings) of a mesh config or `istio` ConfigMap. */
export function meshDefaults(text: string | undefined, file: string): { value: MeshDefaults; problems: Problem[] } {
  const none = { value: { proxyMetadata: {}, trustDomain: DEFAULT_TRUST_DOMAIN }, problems: [] };
  if (text === undefined) return none;
  const loaded = loadYamlDocument(text, file);
  let root = loaded.value;
  if (loaded.problems.length > 0) return { value: { proxyMetadata: {}, trustDomain: DEFAULT_TRUST_DOMAIN }, problems: loaded.problems };
  if (isMap(root) && root.kind === 'ConfigMap' && isMap(root.data) && typeof root.data.mesh === 'string') root = loadYamlDocument(root.data.mesh, file).value;
  const trustDomain = isMap(root) && typeof root.trustDomain === 'string' && root.trustDomain.trim() !== '' ? root.trustDomain.trim() : DEFAULT_TRUST_DOMAIN;
  if (!isMap(root) || !isMap(root.defaultConfig)) return { value: { proxyMetadata: {}, trustDomain }, problems: [] };
  const dc = root.defaultConfig;
  const proxyMetadata: Record<string, string> = {};
  const problems: Problem[] = [];
  if (isMap(dc.proxyMetadata)) {
    for (const [k, v] of Object.entries(dc.proxyMetadata)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') proxyMetadata[k] = String(v);
    }
  }
  let discoveryAddress: string | undefined;
  if (typeof dc.discoveryAddress === 'string' && dc.discoveryAddress.trim() !== '') discoveryAddress = dc.discoveryAddress.trim();
  else if (dc.discoveryAddress !== undefined && dc.discoveryAddress !== null) {
    problems.push({ file, field: 'defaultConfig.discoveryAddress', message: `expected "host:port", got ${describeValue(dc.discoveryAddress)}`, severity: 'error' });
  }
  return { value: { discoveryAddress, proxyMetadata, trustDomain }, problems };
}

/**
 * The first non-internal IPv4 (else IPv6) address of this machine. Listing interfaces needs a
 * netlink socket, which the systemd unit's RestrictAddressFamilies= forbids: then loopback.
 */
export function defaultInstanceIp(): string {
  try {
    const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []).filter((a) => !a.internal);
    return (all.find((a) => a.family === 'IPv4') ?? all.find((a) => a.family === 'IPv6'))?.address ?? '127.0.0.1';
  } catch {
    return '127.0.0.1';
  }
}

/** The source address the kernel picks toward `ip` (a connected UDP socket sends nothing): the instance IP istiod sees. */
export function localAddressToward(ip: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(isIP(ip) === 6 ? 'udp6' : 'udp4');
    const done = (address: string | undefined): void => {
      socket.close();
      resolve(address);
    };
    socket.on('error', () => done(undefined));
    socket.connect(port, ip, () => {
      try {
        done(socket.address().address);
      } catch {
        done(undefined);
      }
    });
  });
}

export interface NodeInputs {
  clusterEnv: Readonly<Record<string, string>>;
  proxyMetadata: Readonly<Record<string, string>>;
  clusterDomain: string;
  /** The namespace meshdns settled on (settings > cluster.env > mesh config). */
  namespace: string;
  instanceIp?: string;
  hostname?: string;
  clusterEnvFile: string;
  /** `istiod.istioVersion` (validated by the settings parser); empty: the bootstrap files'. */
  istioVersion?: string;
}

/**
 * The node istiod sees: id `sidecar~<IP>~<name>.<ns>~<ns>.svc.<domain>` and metadata from
 * every `ISTIO_META_*` variable (cluster.env over proxyMetadata, as the agent's environment
 * overrides the mesh defaults), plus what the agent always sends. Every value a string.
 */
export function proxyNode(input: NodeInputs): { value: ProxyNode | undefined; problems: Problem[] } {
  const env: Record<string, string> = { ...input.proxyMetadata, ...input.clusterEnv };
  const problems: Problem[] = [];
  const file = input.clusterEnvFile;
  const namespace = input.namespace;
  if (namespace === '') {
    problems.push({ file, field: 'POD_NAMESPACE', message: 'no namespace for the istiod node id: set POD_NAMESPACE in cluster.env or namespace: in meshdns.yaml', severity: 'error' });
    return { value: undefined, problems };
  }
  const ip = nonEmpty(env.INSTANCE_IP) ?? input.instanceIp ?? defaultInstanceIp();
  if (isIP(ip) === 0) {
    problems.push({ file, field: 'INSTANCE_IP', message: `${JSON.stringify(ip)} is not an IP address`, severity: 'error' });
    return { value: undefined, problems };
  }
  const podName = nonEmpty(env.POD_NAME) ?? input.hostname ?? osHostname();
  const metadata: Record<string, MetadataValue> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('ISTIO_META_')) continue;
    const name = key.slice('ISTIO_META_'.length);
    if (name === '' || NEVER_SENT.has(name) || value === '') continue;
    metadata[name] = value;
  }
  const labels = nonEmpty(env.ISTIO_METAJSON_LABELS);
  if (labels !== undefined) {
    const parsed = parseLabels(labels);
    if (parsed === undefined) problems.push({ file, field: 'ISTIO_METAJSON_LABELS', message: 'expected a JSON object of string labels; labels not sent', severity: 'warning' });
    else metadata.LABELS = parsed;
  }
  metadata.NAMESPACE = namespace;
  metadata.CLUSTER_ID = nonEmpty(env.ISTIO_META_CLUSTER_ID) ?? 'Kubernetes';
  metadata.INSTANCE_IPS = nonEmpty(env.ISTIO_META_INSTANCE_IPS) ?? ip;
  const version = istioVersionOf(input);
  if (version !== undefined) metadata.ISTIO_VERSION = version;
  else delete metadata.ISTIO_VERSION;
  // The setting is validated by the settings parser; the bootstrap files' value is sent as it is.
  if (version !== undefined && nonEmpty(input.istioVersion) === undefined && !ISTIOD_READS_VERSION.test(version.replace(/^release-/, ''))) {
    problems.push({
      file,
      field: 'ISTIO_VERSION',
      message: `${JSON.stringify(version)} (cluster.env or the mesh config proxyMetadata) is not a version istiod reads (major.minor[.patch]): it takes the proxy for the newest release; set istiod.istioVersion in meshdns.yaml`,
      severity: 'warning',
    });
  }
  const serviceAccount = nonEmpty(env.SERVICE_ACCOUNT);
  if (serviceAccount !== undefined) metadata.SERVICE_ACCOUNT = serviceAccount;
  // istiod sends the name table only to a proxy that captures DNS, and allocates VIPs for it.
  metadata.DNS_CAPTURE = 'true';
  metadata.DNS_AUTO_ALLOCATE = nonEmpty(env.ISTIO_META_DNS_AUTO_ALLOCATE) ?? 'true';
  const service = nonEmpty(env.CANONICAL_SERVICE) ?? nonEmpty(env.ISTIO_SERVICE) ?? podName;
  return {
    value: {
      id: `sidecar~${ip}~${podName}.${namespace}~${namespace}.svc.${input.clusterDomain}`,
      cluster: `${service}.${namespace}`,
      metadata,
      clusterId: metadata.CLUSTER_ID as string,
      namespace,
    },
    problems,
  };
}

/**
 * The `ISTIO_VERSION` metadata: the setting, else cluster.env's, else the mesh config
 * proxyMetadata's (`ISTIO_META_ISTIO_VERSION`, or `ISTIO_VERSION` as the agent's environment
 * names it). istiod reads a missing one as the newest release (docs/DECISIONS.md).
 */
export function istioVersionOf(input: Pick<NodeInputs, 'istioVersion' | 'clusterEnv' | 'proxyMetadata'>): string | undefined {
  const e = input.clusterEnv;
  const m = input.proxyMetadata;
  return nonEmpty(input.istioVersion) ?? nonEmpty(e.ISTIO_META_ISTIO_VERSION) ?? nonEmpty(e.ISTIO_VERSION) ?? nonEmpty(m.ISTIO_META_ISTIO_VERSION) ?? nonEmpty(m.ISTIO_VERSION);
}

/** The start istiod's ParseIstioVersion accepts (after a `release-` prefix); anything else reads as the newest release. */
const ISTIOD_READS_VERSION = /^[1-9][0-9]*\.[0-9]+/;

function parseLabels(text: string): Record<string, string> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (!isMap(value)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') return undefined;
      out[k] = v;
    }
    return out;
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Where to connect: settings, else the mesh config's discoveryAddress; TLS name: settings, ISTIOD_SAN, the host. */
export function istiodTarget(settings: IstiodSettings, mesh: MeshDefaults, clusterEnv: Readonly<Record<string, string>>): { host: string; port: number; serverName: string } | undefined {
  const address = settings.address !== '' ? settings.address : mesh.discoveryAddress;
  if (address === undefined) return undefined;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (m === null) return undefined;
  const host = m[1];
  const serverName = settings.serverName !== '' ? settings.serverName : (nonEmpty(clusterEnv.ISTIOD_SAN) ?? host);
  return { host, port: Number(m[2]), serverName };
}
