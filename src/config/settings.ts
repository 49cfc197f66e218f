import { isIP } from 'node:net';
import { Parsed, Problem } from '../problem';
import { Check, accept, describeValue, isMap, refuse } from './check';
import { parseBooleanWord } from './booleanWord';
import { isNamespaceName, normalizeDnsName } from './dnsName';
import { parseDuration } from './duration';
import { IpPort, formatHostPort, parseEndpoint, parseIpPort } from './hostPort';
import { IpFamiliesSetting, LogLevel, RegistrySource, ResolvConfManage, Settings } from './types';
import { loadYamlDocument } from './yamlDocument';

/** The settings of docs/ARCHITECTURE.md §6 when `meshdns.yaml` sets nothing. A fresh object on every call. */
export function defaultSettings(): Settings {
  return {
    listen: [{ host: '127.0.0.1', port: 53, family: 4 }],
    clusterDomain: 'cluster.local',
    namespace: '',
    bootstrap: {
      clusterEnv: '/var/lib/istio/envoy/cluster.env',
      meshConfig: '/etc/istio/config/mesh',
      hosts: '/var/lib/istio/envoy/hosts',
    },
    registry: ['/etc/meshdns/registry.d'],
    registrySources: [{ path: '/etc/meshdns/registry.d' }],
    ipFamilies: 'auto',
    resolvConf: { path: '/etc/resolv.conf', manage: 'auto' },
    stateDir: '/var/lib/meshdns',
    upstreams: [],
    allowFrom: [],
    forward: { timeoutMs: 2000, attempts: 2, parallel: false },
    cache: { maxEntries: 10000 },
    autoAllocate: true,
    ttl: 30,
    metrics: '127.0.0.1:15054',
    log: { level: 'info' },
    istiod: { enabled: 'auto', address: '', serverName: '', rootCert: '/etc/certs/root-cert.pem', token: '/var/run/secrets/tokens/istio-token', istioVersion: '' },
    explicit: new Set<string>(),
  };
}

/**
 * Validates `meshdns.yaml`. Every key is optional; a key with a null value (`namespace:`) means
 * "not set". Unknown keys at any level and bad values are problems naming the dotted key; a
 * broken key keeps its default, so the returned settings are always usable. `explicit` lists the
 * dotted keys the file set successfully (what wins over cluster.env and the mesh config).
 */
export function parseSettings(text: string, file: string): Parsed<Settings> {
  const settings = defaultSettings();
  const explicit = new Set<string>();
  const loaded = loadYamlDocument(text, file);
  const problems: Problem[] = [...loaded.problems];
  const root = loaded.value;
  if (root === undefined || root === null) {
    // Empty file, only comments, or unreadable YAML: all defaults.
  } else if (!isMap(root)) {
    problems.push(problem(file, undefined, `the settings file must be a map of keys (e.g. "listen:"), got ${describeValue(root)}`));
  } else {
    walkSection(root, '', settings, explicit, problems, file);
    problems.push(...openResolverProblems(settings, file));
  }
  return { value: { ...settings, explicit }, problems };
}

type Issue = { field: string; message: string };

/** One leaf key of the settings file: how to read it and where it goes. */
interface Rule {
  key: string;
  /** Reads `raw` (never null) into `settings`; returns the issues instead when it is bad. */
  apply(raw: unknown, settings: Settings): Issue[];
}

function rule<T>(key: string, read: (raw: unknown, key: string) => Check<T> | Issue[], assign: (s: Settings, v: T) => void): Rule {
  return {
    key,
    apply(raw, settings) {
      const result = read(raw, key);
      if (Array.isArray(result)) return result;
      if (!result.ok) return [{ field: key, message: result.reason }];
      assign(settings, result.value);
      return [];
    },
  };
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MAX_TTL = 2_147_483_647;

const RULES: readonly Rule[] = [
  rule('listen', (raw, key) => readList(raw, key, readListenAddress, { nonEmpty: true, unique: true }), (s, v) => (s.listen = v)),
  rule('clusterDomain', readDomain, (s, v) => (s.clusterDomain = v)),
  rule('namespace', readNamespace, (s, v) => (s.namespace = v)),
  rule('bootstrap.clusterEnv', readPath, (s, v) => (s.bootstrap.clusterEnv = v)),
  rule('bootstrap.meshConfig', readPath, (s, v) => (s.bootstrap.meshConfig = v)),
  rule('bootstrap.hosts', readPath, (s, v) => (s.bootstrap.hosts = v)),
  rule('registry', (raw, key) => readList(raw, key, readRegistrySource, { nonEmpty: false, unique: false }), (s, v) => {
    s.registry = v.map((r) => r.path);
    s.registrySources = v;
  }),
  rule('resolvConf.path', readPath, (s, v) => (s.resolvConf.path = v)),
  rule('resolvConf.manage', readManage, (s, v) => (s.resolvConf.manage = v)),
  rule('stateDir', readPath, (s, v) => (s.stateDir = v)),
  rule('upstreams', (raw, key) => readList(raw, key, readUpstream, { nonEmpty: false, unique: false }), (s, v) => (s.upstreams = v)),
  rule('allowFrom', (raw, key) => readList(raw, key, readNetwork, { nonEmpty: false, unique: true }), (s, v) => (s.allowFrom = v)),
  rule('forward.timeout', parseDuration, (s, v) => (s.forward.timeoutMs = v)),
  rule('forward.attempts', (raw) => readInteger(raw, 1, 10), (s, v) => (s.forward.attempts = v)),
  rule('forward.parallel', readBoolean, (s, v) => (s.forward.parallel = v)),
  rule('cache.maxEntries', (raw) => readInteger(raw, 0, Number.MAX_SAFE_INTEGER), (s, v) => (s.cache.maxEntries = v)),
  rule('ipFamilies', readIpFamilies, (s, v) => (s.ipFamilies = v)),
  rule('autoAllocate', readBoolean, (s, v) => (s.autoAllocate = v)),
  rule('ttl', (raw) => readInteger(raw, 0, MAX_TTL), (s, v) => (s.ttl = v)),
  rule('metrics', readMetrics, (s, v) => (s.metrics = v)),
  rule('log.level', readLogLevel, (s, v) => (s.log.level = v)),
  rule('istiod.enabled', readManage, (s, v) => (s.istiod.enabled = v)),
  rule('istiod.address', readIstiodAddress, (s, v) => (s.istiod.address = v)),
  rule('istiod.serverName', readServerName, (s, v) => (s.istiod.serverName = v)),
  rule('istiod.rootCert', readPath, (s, v) => (s.istiod.rootCert = v)),
  rule('istiod.token', readPath, (s, v) => (s.istiod.token = v)),
  rule('istiod.istioVersion', readIstioVersion, (s, v) => (s.istiod.istioVersion = v)),
];

/** Every dotted key the settings file knows, in the order of docs/ARCHITECTURE.md §6. */
export const SETTINGS_KEYS: readonly string[] = RULES.map((r) => r.key);

function walkSection(map: Record<string, unknown>, prefix: string, settings: Settings, explicit: Set<string>, problems: Problem[], file: string): void {
  for (const key of Object.keys(map)) {
    const dotted = prefix === '' ? key : `${prefix}.${key}`;
    const raw = map[key];
    const leaf = RULES.find((r) => r.key === dotted);
    if (leaf !== undefined) {
      if (raw === null) continue;
      const issues = leaf.apply(raw, settings);
      if (issues.length === 0) explicit.add(dotted);
      for (const issue of issues) problems.push(problem(file, issue.field, issue.message));
    } else if (isSection(dotted)) {
      if (raw === null) continue;
      if (!isMap(raw)) {
        problems.push(problem(file, dotted, `must be a map with keys ${knownKeysUnder(dotted).join(', ')}, got ${describeValue(raw)}`));
        continue;
      }
      walkSection(raw, dotted, settings, explicit, problems, file);
    } else {
      problems.push(problem(file, dotted, unknownKeyMessage(key, prefix)));
    }
  }
}

function isSection(dotted: string): boolean {
  return RULES.some((r) => r.key.startsWith(dotted + '.'));
}

/** The keys one level below `prefix` ('' for the top level). */
function knownKeysUnder(prefix: string): string[] {
  const start = prefix === '' ? 0 : prefix.length + 1;
  const keys = RULES.filter((r) => prefix === '' || r.key.startsWith(prefix + '.')).map((r) => r.key.slice(start).split('.')[0]);
  return [...new Set(keys)];
}

function unknownKeyMessage(key: string, prefix: string): string {
  const known = knownKeysUnder(prefix);
  const where = prefix === '' ? '' : ` in ${prefix}`;
  const guess = closestKey(key, known);
  const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
  return `unknown key ${JSON.stringify(key)}${where}${hint}; known keys: ${known.join(', ')}`;
}

function closestKey(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function problem(file: string, field: string | undefined, message: string): Problem {
  return field === undefined ? { file, message, severity: 'error' } : { file, field, message, severity: 'error' };
}

// ---- value readers ----

interface ListOptions {
  nonEmpty: boolean;
  unique: boolean;
}

/** A list (or a single value standing for a one-item list); one bad item breaks the whole key. */
function readList<T>(raw: unknown, key: string, readItem: (raw: unknown) => Check<T>, options: ListOptions): Check<T[]> | Issue[] {
  const items = Array.isArray(raw) ? raw : [raw];
  if (options.nonEmpty && items.length === 0) return refuse('needs at least one entry');
  const issues: Issue[] = [];
  const values: T[] = [];
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const field = Array.isArray(raw) ? `${key}[${index}]` : key;
    const read = readItem(item);
    if (!read.ok) {
      issues.push({ field, message: read.reason });
      return;
    }
    const identity = JSON.stringify(read.value);
    if (options.unique && seen.has(identity)) {
      issues.push({ field, message: `duplicate entry ${describeValue(item)}` });
      return;
    }
    seen.add(identity);
    values.push(read.value);
  });
  return issues.length > 0 ? issues : accept(values);
}

function readString(raw: unknown): Check<string> {
  return typeof raw === 'string' ? accept(raw) : refuse(`expected a string, got ${describeValue(raw)}`);
}

function readListenAddress(raw: unknown): Check<IpPort> {
  const text = readString(raw);
  if (!text.ok) return text;
  const address = parseIpPort(text.value, { defaultPort: 53, minPort: 0 });
  return address.ok ? address : refuse(`${address.reason} (expected "IP", "IP:port" or "[IPv6]:port")`);
}

function readUpstream(raw: unknown): Check<IpPort> {
  const text = readString(raw);
  if (!text.ok) return text;
  const address = parseIpPort(text.value, { defaultPort: 53, minPort: 1 });
  return address.ok ? address : refuse(`${address.reason} (expected "IP", "IP:port" or "[IPv6]:port")`);
}

function readDomain(raw: unknown): Check<string> {
  const text = readString(raw);
  if (!text.ok) return text;
  const name = normalizeDnsName(text.value.trim());
  return name.ok ? name : refuse(`not a DNS domain: ${name.reason}`);
}

function readNamespace(raw: unknown): Check<string> {
  const text = readString(raw);
  if (!text.ok) return text;
  const name = text.value.trim();
  if (name === '' || isNamespaceName(name)) return accept(name);
  return refuse(`${describeValue(raw)} is not a Kubernetes namespace name (lowercase letters, digits and "-", at most 63)`);
}

function readPath(raw: unknown): Check<string> {
  const text = readString(raw);
  if (!text.ok) return text;
  if (text.value.trim() === '') return refuse('expected a path, got an empty string');
  if (text.value.includes('\0')) return refuse('a path cannot contain a NUL character');
  return text;
}

const IP_FAMILIES: readonly IpFamiliesSetting[] = ['auto', 'ipv4', 'ipv6', 'dual'];

function readIpFamilies(raw: unknown): Check<IpFamiliesSetting> {
  const found = typeof raw === 'string' ? IP_FAMILIES.find((f) => f === raw.trim().toLowerCase()) : undefined;
  return found === undefined ? refuse(`expected one of ${IP_FAMILIES.join(', ')}, got ${describeValue(raw)}`) : accept(found);
}

/** A registry path, or `{path, cluster}`: the Kubernetes cluster its Services come from. */
function readRegistrySource(raw: unknown): Check<RegistrySource> {
  if (!isMap(raw)) {
    const path = readPath(raw);
    return path.ok ? accept({ path: path.value }) : refuse(`${path.reason} (or a map {path, cluster})`);
  }
  const unknown = Object.keys(raw).filter((k) => k !== 'path' && k !== 'cluster');
  if (unknown.length > 0) return refuse(`unknown key ${JSON.stringify(unknown[0])} in a registry entry; known keys: path, cluster`);
  const path = readPath(raw.path);
  if (!path.ok) return refuse(`path: ${path.reason}`);
  if (raw.cluster === undefined || raw.cluster === null) return accept({ path: path.value });
  if (typeof raw.cluster !== 'string' || raw.cluster.trim() === '') return refuse(`cluster: expected a cluster name (CLUSTER_ID), got ${describeValue(raw.cluster)}`);
  return accept({ path: path.value, cluster: raw.cluster.trim() });
}

function readManage(raw: unknown): Check<ResolvConfManage> {
  if (typeof raw === 'string' && raw.trim().toLowerCase() === 'auto') return accept('auto');
  const flag = parseBooleanWord(raw);
  if (flag !== undefined) return accept(flag ? 'true' : 'false');
  return refuse(`expected auto, true or false, got ${describeValue(raw)}`);
}

function readBoolean(raw: unknown): Check<boolean> {
  const flag = parseBooleanWord(raw);
  return flag === undefined ? refuse(`expected true or false, got ${describeValue(raw)}`) : accept(flag);
}

function readInteger(raw: unknown, min: number, max: number): Check<number> {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    return refuse(`expected a whole number from ${min} to ${max}, got ${describeValue(raw)}`);
  }
  return accept(raw);
}

function readMetrics(raw: unknown): Check<string> {
  if (raw === false) return accept('');
  const text = readString(raw);
  if (!text.ok) return refuse(`expected "host:port" or "" (off), got ${describeValue(raw)}`);
  if (text.value.trim() === '') return accept('');
  const endpoint = parseEndpoint(text.value);
  return endpoint.ok ? endpoint : refuse(`${endpoint.reason} (expected "host:port", or "" to turn metrics off)`);
}

/** `10.0.0.0/8`, `fd00::/8` or a single IP (a /32 or /128). */
function readNetwork(raw: unknown): Check<string> {
  const text = readString(raw);
  if (!text.ok) return refuse(`expected a network like "10.0.0.0/8" or an IP, got ${describeValue(raw)}`);
  const [ip, bits, extra] = text.value.trim().split('/');
  const family = isIP(ip);
  const max = family === 4 ? 32 : 128;
  if (family === 0 || extra !== undefined) return refuse(`"${text.value}" is not a network like "10.0.0.0/8" or an IP`);
  if (bits === undefined) return accept(`${ip}/${max}`);
  if (!/^\d+$/.test(bits) || Number(bits) > max) return refuse(`"${text.value}": the prefix length must be 0–${max}`);
  return accept(`${ip}/${Number(bits)}`);
}

function isLoopback(host: string): boolean {
  return host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** A listener beyond loopback without `allowFrom` would make meshdns an open resolver. */
function openResolverProblems(settings: Settings, file: string): Problem[] {
  if (settings.allowFrom.length > 0) return [];
  const exposed = settings.listen.filter((l) => !isLoopback(l.host));
  if (exposed.length === 0) return [];
  const where = exposed.map(formatHostPort).join(', ');
  return [
    problem(
      file,
      'allowFrom',
      `listen ${where} is not loopback: set allowFrom to the client networks allowed to query (e.g. ["10.0.0.0/8"]), or meshdns would be an open resolver`,
    ),
  ];
}

/** `host:port` of istiod, or "" for the mesh config's discoveryAddress. */
function readIstiodAddress(raw: unknown): Check<string> {
  const text = readString(raw);
  if (!text.ok) return text;
  if (text.value.trim() === '') return accept('');
  const endpoint = parseEndpoint(text.value);
  return endpoint.ok ? endpoint : refuse(`${endpoint.reason} (expected "host:port", e.g. "istiod.istio-system.svc:15012")`);
}

/**
 * An Istio release as istiod parses it (`major.minor[.patch]`, an optional `-suffix` such as
 * `-dev`), or "" for the bootstrap files' version. istiod reads a missing or unparsable version
 * as the newest release, so a typo would silently change what it sends: refused here.
 */
function readIstioVersion(raw: unknown): Check<string> {
  // YAML reads 1.20 as the number 1.2: a version must be quoted.
  if (typeof raw === 'number') return refuse(`quote the version ("${raw}"): YAML reads an unquoted 1.20 as the number 1.2`);
  const text = readString(raw);
  if (!text.ok) return text;
  const value = text.value.trim();
  if (value === '') return accept('');
  return ISTIO_VERSION_PATTERN.test(value) ? accept(value) : refuse(`expected an Istio version like "1.24.1" or "1.24", got ${describeValue(raw)}`);
}

/** What `istiod.istioVersion` accepts. */
const ISTIO_VERSION_PATTERN = /^[1-9][0-9]*\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?(-[0-9A-Za-z][0-9A-Za-z.-]*)?$/;

function readServerName(raw: unknown): Check<string> {
  const text = readString(raw);
  if (!text.ok) return text;
  if (text.value.trim() === '') return accept('');
  const name = normalizeDnsName(text.value.trim());
  return name.ok ? name : refuse(`not a DNS name: ${name.reason}`);
}

function readLogLevel(raw: unknown): Check<LogLevel> {
  const text = readString(raw);
  const level = text.ok ? LOG_LEVELS.find((l) => l === text.value.trim().toLowerCase()) : undefined;
  return level === undefined ? refuse(`expected one of ${LOG_LEVELS.join(', ')}, got ${describeValue(raw)}`) : accept(level);
}
