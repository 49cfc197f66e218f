import { promises as fs } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { create } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import * as grpc from '@grpc/grpc-js';
import { NodeSchema } from './gen/envoy/config/core/v3/base_pb';
import { DiscoveryRequestSchema, type DiscoveryRequest, type DiscoveryResponse } from './gen/envoy/service/discovery/v3/discovery_pb';
import { StatusSchema } from './gen/google/rpc/status_pb';
import type { RegistryFileInput } from '../nametable';
import type { ServiceRecord } from '../registry/types';
import type { HostsEntry, IstiodSettings, Upstream } from '../config/types';
import { Backoff } from './backoff';
import { localAddressToward, meshDefaults, istiodTarget, proxyNode, type ProxyNode } from './bootstrap';
import { openAds, type AdsConnection, type ClientIdentity, type IstiodEndpoint } from './channel';
import { loadLastTable, saveLastTable } from './lastTable';
import { nameTableBytes, ISTIOD_SOURCE_FILE, NameTableRecords, NAME_TABLE_TYPE } from './nameTable';
import { resolveIstiodHost } from './resolveHost';
import { RegistryShadow, hostsOf } from './precedence';
import { readToken, tokenProblem, type TokenInfo } from './token';
import { CertKeeper, NoCredentialError } from './certKeeper';
import { certsDir, spiffeId } from './workloadCert';

/** What the service hands over at every reload: the inputs of the next connect. */
export interface IstiodContext {
  settings: IstiodSettings;
  stateDir: string;
  clusterDomain: string;
  namespace: string;
  clusterEnv: Readonly<Record<string, string>>;
  clusterEnvFile: string;
  meshConfigFile: string;
  /** The bootstrap hosts file's entries. */
  hosts: readonly HostsEntry[];
  /** The original upstream servers (never meshdns itself). */
  upstreams: readonly Upstream[];
}

export interface IstiodSourceOptions {
  log: Logger;
  /** Swap the new records into the served table; resolves once they are served (then the push is ACKed). */
  apply(reason: string): Promise<void>;
  /** Test hook: reconnect delays. */
  backoff?: Backoff;
  /** The table state or istiod's version changed (live, stale, never, off): STATUS= is refreshed. */
  onChange?(): void;
}

export type TableState = 'live' | 'stale' | 'never';

/** What STATUS= says about istiod (src/system/sdnotify/message.ts). */
export interface IstiodSummary {
  state: TableState;
  /** live: the last accepted push; stale: since when. */
  at?: Date;
}

export interface IstiodStats {
  connected: boolean;
  pushes: number;
  nacks: number;
  reconnects: number;
  lastPushSeconds: number | undefined;
  tableNames: number;
  /** The workload certificate's notAfter (seconds since the epoch), when there is one. */
  certExpirySeconds: number | undefined;
}

/** A stream that delivered an accepted push and stayed up this long resets the backoff. */
const HEALTHY_STREAM_MS = 5_000;

/**
 * istiod as a source of the name table (docs/ARCHITECTURE.md §11): keeps one ADS stream
 * subscribed to NDS, turns accepted pushes into registry records for the table builder,
 * ACKs/NACKs them, saves the last accepted one and reconnects with backoff.
 */
export class IstiodSource {
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly converter = new NameTableRecords();
  private context: IstiodContext | undefined;
  private records: ServiceRecord[] | undefined;
  private files: RegistryFileInput[] = [];
  private readonly shadow = new RegistryShadow();
  private clusterDomain = 'cluster.local';
  private connection: AdsConnection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private connectedFlag = false;
  /** A push arrived on the current stream (the table is live). */
  private liveFlag = false;
  private staleSince: number | undefined;
  private version = '';
  private lastPushAt: number | undefined;
  private readonly counts = { pushes: 0, nacks: 0, reconnects: 0 };
  private lastProblem: string | undefined;
  private work: Promise<void> = Promise.resolve();
  private saving: Promise<void> = Promise.resolve();
  private address = '';
  private keeper: CertKeeper | undefined;
  /** Set while neither the token nor the certificate can be used (said in /readyz and status). */
  private credentialProblem: string | undefined;
  /** istiod's own version, from the responses' control_plane.identifier (when istiod sets it). */
  private controlPlaneVersion: string | undefined;
  /**
   * Bumped when the source is switched off or reconnects on new settings: a connect, stream or
   * push begun before is abandoned (it must neither retry nor touch the table).
   */
  private epoch = 0;

  constructor(private readonly options: IstiodSourceOptions) {
    this.log = options.log.child({ source: 'istiod' });
    this.backoff = options.backoff ?? new Backoff();
  }

  /** Called at every reload: the next connect uses these inputs. */
  setContext(context: IstiodContext): void {
    this.context = context;
    if (context.clusterDomain !== this.clusterDomain) {
      this.clusterDomain = context.clusterDomain;
      if (this.records !== undefined) this.shadow.setHosts(hostsOf(this.records, this.clusterDomain));
    }
  }

  /**
   * The table builder's registry inputs with istiod's: the registry files less the hosts istiod
   * names (precedence.ts), then istiod's records as one more file.
   */
  combine(registry: readonly RegistryFileInput[], clusterDomain: string): RegistryFileInput[] {
    if (this.records === undefined) return registry.slice();
    return [...this.shadow.apply(registry, clusterDomain), ...this.files];
  }

  /** Serve the table saved by the last run until istiod answers. */
  async loadSaved(stateDir: string, clusterDomain: string): Promise<void> {
    try {
      const saved = await loadLastTable(stateDir);
      if (saved === undefined) return;
      this.clusterDomain = clusterDomain;
      const converted = this.converter.convert(saved.bytes, clusterDomain);
      if (!converted.ok) throw new Error(converted.error);
      this.setRecords(converted.records);
      this.version = saved.version;
      this.lastPushAt = saved.receivedAt;
      this.staleSince = Date.now();
      this.changed();
      this.log.info({ names: converted.records.length, version: saved.version, receivedAt: new Date(saved.receivedAt).toISOString() }, 'serving the last name table saved from istiod until istiod answers');
    } catch (err) {
      this.log.warn(`cannot read the saved istiod name table in ${stateDir}: ${(err as Error).message}; waiting for istiod`);
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  get started(): boolean {
    return this.running;
  }

  async stop(): Promise<void> {
    this.halt();
    await this.work;
    await this.saving;
  }

  /**
   * Switched off by a settings reload (docs/ARCHITECTURE.md §11 "Off and on"): the stream is
   * closed, no reconnect, and istiod's names leave the table at the caller's rebuild. Does not wait
   * for a push being applied (this runs inside that very reload); the push is abandoned. The saved
   * table stays on disk for the next turn-on.
   */
  disable(): void {
    this.halt();
    this.setRecords(undefined);
    this.staleSince = undefined;
    this.credentialProblem = undefined;
    this.lastProblem = undefined;
    this.changed();
  }

  /** New connection settings (address, TLS name, root certificate, token, version): a new stream now. */
  reconnect(why: string): void {
    if (!this.running) return;
    this.log.info(`istiod settings changed (${why}); reconnecting`);
    this.halt();
    this.backoff.reset();
    this.running = true;
    this.connect();
  }

  private halt(): void {
    this.epoch++;
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const connection = this.connection;
    this.connection = undefined;
    connection?.close();
    this.connectedFlag = false;
    if (this.liveFlag) {
      this.staleSince = Date.now();
      this.changed();
    }
    this.liveFlag = false;
    this.keeper?.stop();
    this.keeper = undefined;
  }

  /** For STATUS=: the table state and its time. */
  summary(): IstiodSummary {
    const state = this.tableState;
    if (state === 'live' && this.lastPushAt !== undefined) return { state, at: new Date(this.lastPushAt) };
    if (state === 'stale' && this.staleSince !== undefined) return { state, at: new Date(this.staleSince) };
    return { state };
  }

  private changed(): void {
    this.options.onChange?.();
  }

  get tableState(): TableState {
    if (this.records === undefined) return 'never';
    return this.liveFlag ? 'live' : 'stale';
  }

  /** One phrase for /readyz and STATUS=: live, stale since when, or never received. */
  describeTable(): string {
    const state = this.tableState;
    if (state === 'live') return `istiod table live (${this.records?.length ?? 0} hosts)`;
    const why = this.credentialProblem === undefined ? '' : `: ${this.credentialProblem}`;
    if (state === 'stale') return `istiod table stale since ${new Date(this.staleSince ?? Date.now()).toISOString()}${why}`;
    return `istiod table never received${why}`;
  }

  status(): Record<string, unknown> {
    return {
      table: this.tableState,
      ...(this.tableState === 'stale' && this.staleSince !== undefined ? { staleSince: new Date(this.staleSince).toISOString() } : {}),
      connected: this.connectedFlag,
      address: this.address,
      istiodVersion: this.controlPlaneVersion ?? null,
      version: this.version,
      lastPush: this.lastPushAt === undefined ? null : new Date(this.lastPushAt).toISOString(),
      names: this.records?.length ?? 0,
      pushes: this.counts.pushes,
      nacks: this.counts.nacks,
      reconnects: this.counts.reconnects,
      lastError: this.lastProblem ?? null,
      certificate: this.keeper?.status() ?? null,
    };
  }

  stats(): IstiodStats {
    return {
      connected: this.connectedFlag,
      ...this.counts,
      lastPushSeconds: this.lastPushAt === undefined ? undefined : this.lastPushAt / 1000,
      tableNames: this.records?.length ?? 0,
      certExpirySeconds: this.keeper?.current === undefined ? undefined : this.keeper.current.notAfter / 1000,
    };
  }

  private setRecords(records: ServiceRecord[] | undefined): void {
    this.records = records;
    this.files = records === undefined ? [] : [{ file: ISTIOD_SOURCE_FILE, records, endpointSets: [] }];
    this.shadow.setHosts(records === undefined ? new Set() : hostsOf(records, this.clusterDomain));
  }

  /** A problem with the connection: logged when it differs from the last one, not at every retry. */
  private report(message: string, level: 'warn' | 'error' = 'warn'): void {
    if (message !== this.lastProblem) this.log[level](message);
    this.lastProblem = message;
  }

  private retry(epoch: number): void {
    if (!this.running || epoch !== this.epoch || this.timer !== undefined) return;
    const delay = this.backoff.next();
    this.log.debug({ delayMs: delay }, 'reconnecting to istiod');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.counts.reconnects++;
      this.connect();
    }, delay);
    this.timer.unref();
  }

  private connect(): void {
    const epoch = this.epoch;
    this.prepare().then(
      (ready) => {
        if (epoch !== this.epoch) return;
        if (ready === undefined || !this.running) return this.retry(epoch);
        this.openStream(ready.endpoint, ready.identity, ready.node);
      },
      (err: Error) => {
        if (epoch !== this.epoch) return;
        if (err instanceof NoCredentialError) this.credentialProblem = err.message;
        this.report(err.message, err instanceof NoCredentialError ? 'error' : 'warn');
        this.retry(epoch);
      },
    );
  }

  /** Everything a connect needs, read afresh: the token file (rotation), root certificate, address. */
  private async prepare(): Promise<{ endpoint: IstiodEndpoint; identity: ClientIdentity; node: ProxyNode } | undefined> {
    const ctx = this.context;
    if (ctx === undefined) return undefined;
    const meshText = await fs.readFile(ctx.meshConfigFile, 'utf8').catch(() => undefined);
    const mesh = meshDefaults(meshText, ctx.meshConfigFile).value;
    const target = istiodTarget(ctx.settings, mesh, ctx.clusterEnv);
    if (target === undefined) throw new Error(`no istiod address: set istiod.address in meshdns.yaml or defaultConfig.discoveryAddress in ${ctx.meshConfigFile}`);
    const ip = await resolveIstiodHost(target.host, ctx.hosts, ctx.upstreams);
    const instanceIp = await localAddressToward(ip, target.port);
    const node = proxyNode({ clusterEnv: ctx.clusterEnv, proxyMetadata: mesh.proxyMetadata, clusterDomain: ctx.clusterDomain, namespace: ctx.namespace, clusterEnvFile: ctx.clusterEnvFile, instanceIp, istioVersion: ctx.settings.istioVersion });
    if (node.value === undefined) throw new Error(node.problems.map((p) => p.message).join('; '));
    const rootCert = await fs.readFile(ctx.settings.rootCert).catch((err: Error) => {
      throw new Error(`cannot read istiod's root certificate ${ctx.settings.rootCert}: ${err.message}`);
    });
    this.address = `${target.host}:${target.port}`;
    const endpoint: IstiodEndpoint = { ip, port: target.port, serverName: target.serverName, rootCert, clusterId: node.value.clusterId };
    const tokenFile = ctx.settings.token;
    const loadToken = (): Promise<TokenInfo | undefined> => readToken(tokenFile).catch(() => undefined);
    const serviceAccount = ctx.clusterEnv.SERVICE_ACCOUNT?.trim() || serviceAccountOf(await loadToken());
    if (serviceAccount === undefined) {
      // No identity for a certificate: the token alone, as before.
      const token = await loadToken();
      const tokenIssue = tokenProblem(token, tokenFile);
      if (token === undefined || token.token === '') throw new Error(`not connecting to istiod: ${tokenIssue}`);
      return { endpoint, identity: { token: token.token }, node: node.value };
    }
    const dir = certsDir(ctx.stateDir);
    if (this.keeper === undefined || this.keeper.dir !== dir || this.keeper.tokenFile !== tokenFile) {
      this.keeper?.stop();
      this.keeper = new CertKeeper({ log: this.log, dir, tokenFile, readToken: loadToken });
    }
    const identity = await this.keeper.identityFor(endpoint, spiffeId(mesh.trustDomain, node.value.namespace, serviceAccount));
    this.credentialProblem = undefined;
    return { endpoint, identity, node: node.value };
  }

  private openStream(endpoint: IstiodEndpoint, identity: ClientIdentity, node: ProxyNode): void {
    const connection = openAds(endpoint, identity);
    this.connection = connection;
    const epoch = this.epoch;
    const { call } = connection;
    const openedAt = Date.now();
    let accepted = false;
    const seenNonces: string[] = [];
    let ended = false;
    const finish = (why: string, err?: grpc.ServiceError): void => {
      if (ended) return;
      ended = true;
      connection.close();
      // A stream closed by disable() or reconnect(): nothing more to do for it.
      if (epoch !== this.epoch || this.connection !== connection) return;
      this.connection = undefined;
      this.connectedFlag = false;
      if (this.liveFlag) {
        this.staleSince = Date.now();
        this.changed();
      }
      this.liveFlag = false;
      if (!this.running) return;
      const authFailure = err !== undefined && (err.code === grpc.status.UNAUTHENTICATED || err.code === grpc.status.PERMISSION_DENIED);
      if (authFailure && identity.certificate !== undefined) this.keeper?.certificateRejected();
      if (err !== undefined) this.report(describeCallError(err, endpoint, identity, this.context), err.code === grpc.status.UNAUTHENTICATED || err.code === grpc.status.PERMISSION_DENIED ? 'error' : 'warn');
      else this.log.info(`istiod ended the stream (${why}); reconnecting`);
      if (accepted && Date.now() - openedAt >= HEALTHY_STREAM_MS) this.backoff.reset();
      this.retry(epoch);
    };
    call.on('data', (resp: DiscoveryResponse) => {
      if (epoch !== this.epoch) return;
      this.connectedFlag = true;
      this.noteControlPlane(resp.controlPlane?.identifier);
      if (resp.typeUrl !== NAME_TABLE_TYPE) {
        this.log.debug({ typeUrl: resp.typeUrl }, 'ignoring a response of a type meshdns did not ask for');
        return;
      }
      // A nonce seen before on this stream is a replay of a push already answered.
      if (seenNonces.includes(resp.nonce)) {
        this.log.debug({ nonce: resp.nonce }, 'ignoring a stale istiod response (nonce already answered)');
        return;
      }
      seenNonces.push(resp.nonce);
      if (seenNonces.length > 16) seenNonces.shift();
      this.work = this.work.then(async () => {
        if (epoch !== this.epoch) return;
        const ok = await this.onPush(resp, epoch, (req) => {
          if (!ended) call.write(req);
        });
        if (ok) {
          accepted = true;
          if (this.lastProblem !== undefined) this.log.info('istiod connection healthy again');
          this.lastProblem = undefined;
        }
      });
    });
    call.on('error', (err: grpc.ServiceError) => finish('error', err));
    call.on('end', () => finish('end of stream'));
    call.on('status', (s: grpc.StatusObject) => {
      if (s.code !== grpc.status.OK) finish('status', Object.assign(new Error(s.details), s) as grpc.ServiceError);
    });
    call.on('metadata', () => {
      if (epoch === this.epoch) this.connectedFlag = true;
    });
    call.write(this.request({ node, versionInfo: this.version }));
  }

  private request(init: { node?: ProxyNode; versionInfo: string; responseNonce?: string; error?: string }): DiscoveryRequest {
    return create(DiscoveryRequestSchema, {
      typeUrl: NAME_TABLE_TYPE,
      versionInfo: init.versionInfo,
      responseNonce: init.responseNonce ?? '',
      ...(init.node === undefined ? {} : { node: create(NodeSchema, { id: init.node.id, cluster: init.node.cluster, metadata: { ...init.node.metadata } }) }),
      ...(init.error === undefined ? {} : { errorDetail: create(StatusSchema, { code: grpc.status.INVALID_ARGUMENT, message: init.error }) }),
    });
  }

  /** istiod's version from `control_plane.identifier` (`{"Component":"istiod","ID":…,"Info":{"version":…}}`). */
  private noteControlPlane(identifier: string | undefined): void {
    const version = controlPlaneVersion(identifier);
    if (version === undefined || version === this.controlPlaneVersion) return;
    this.controlPlaneVersion = version;
    this.log.info({ istiodVersion: version }, 'istiod version');
    this.changed();
  }

  /** One push: decode, convert, swap in, ACK; or NACK keeping the last good table. True when accepted. */
  private async onPush(resp: DiscoveryResponse, epoch: number, send: (req: DiscoveryRequest) => void): Promise<boolean> {
    const ctx = this.context;
    const nack = (error: string): false => {
      this.counts.nacks++;
      this.log.warn({ version: resp.versionInfo, nonce: resp.nonce }, `rejected istiod's name table (NACK), the last good one stays in use: ${error}`);
      send(this.request({ versionInfo: this.version, responseNonce: resp.nonce, error }));
      return false;
    };
    const t0 = performance.now();
    const decoded = nameTableBytes(resp.resources);
    if (!decoded.ok) return nack(decoded.error);
    const t1 = performance.now();
    const converted = this.converter.convert(decoded.bytes, this.clusterDomain);
    if (!converted.ok) return nack(converted.error);
    const t2 = performance.now();
    // Queries that waited during the conversion are answered before the table is rebuilt.
    await yieldToQueries();
    if (epoch !== this.epoch) return false;
    const previous = this.records;
    this.setRecords(converted.records);
    const t3 = performance.now();
    try {
      await this.options.apply('istiod push');
    } catch (err) {
      if (epoch !== this.epoch) return false;
      this.setRecords(previous);
      return nack(`cannot apply: ${(err as Error).message}`);
    }
    // Switched off (or reconnecting on new settings) while this push was applied: not ACKed, not saved.
    if (epoch !== this.epoch) return false;
    this.version = resp.versionInfo;
    this.lastPushAt = Date.now();
    this.counts.pushes++;
    this.liveFlag = true;
    this.staleSince = undefined;
    this.changed();
    send(this.request({ versionInfo: resp.versionInfo, responseNonce: resp.nonce }));
    const ms = (a: number, b: number): number => Math.round(b - a);
    this.log.info({ version: resp.versionInfo, names: converted.records.length, decodeMs: ms(t0, t1), convertMs: ms(t1, t2), applyMs: ms(t3, performance.now()) }, 'name table from istiod applied');
    if (ctx !== undefined) {
      const saved = { version: resp.versionInfo, receivedAt: this.lastPushAt, bytes: decoded.bytes };
      this.saving = this.saving.then(() =>
        saveLastTable(ctx.stateDir, saved).catch((err: Error) => this.log.warn(`cannot save istiod's name table in ${ctx.stateDir}: ${err.message}; the next start waits for istiod`)),
      );
    }
    return true;
  }
}

/** `Info.version` of istiod's control-plane identifier JSON; undefined when absent or not JSON. */
export function controlPlaneVersion(identifier: string | undefined): string | undefined {
  if (identifier === undefined || identifier === '') return undefined;
  try {
    const parsed = JSON.parse(identifier) as { Info?: { version?: unknown } } | null;
    const version = parsed?.Info?.version;
    return typeof version === 'string' && version.trim() !== '' ? version.trim() : undefined;
  } catch {
    return undefined;
  }
}

function yieldToQueries(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `system:serviceaccount:<namespace>:<name>` → name. */
function serviceAccountOf(token: TokenInfo | undefined): string | undefined {
  const m = /^system:serviceaccount:[^:]+:([^:]+)$/.exec(token?.subject ?? '');
  return m?.[1];
}

/** What the log says about a failed stream: for auth failures, what to fix. */
function describeCallError(err: grpc.ServiceError, endpoint: IstiodEndpoint, identity: ClientIdentity, ctx: IstiodContext | undefined): string {
  const where = `istiod ${endpoint.serverName} (${endpoint.ip}:${endpoint.port})`;
  if (err.code === grpc.status.UNAUTHENTICATED && identity.certificate !== undefined) {
    return `${where} refused the workload certificate (UNAUTHENTICATED: ${err.details}); reconnecting with the token`;
  }
  if (err.code === grpc.status.UNAUTHENTICATED) {
    return `${where} refused the token (UNAUTHENTICATED: ${err.details}): is ${ctx?.settings.token ?? 'the token'} expired or for another cluster? make a new one with istioctl x workload entry configure and copy it there`;
  }
  if (err.code === grpc.status.PERMISSION_DENIED) {
    return `${where} denied access (PERMISSION_DENIED: ${err.details}): the token's service account must match POD_NAMESPACE/SERVICE_ACCOUNT in ${ctx?.clusterEnvFile ?? 'cluster.env'} (wrong namespace?)`;
  }
  if (err.code === grpc.status.INVALID_ARGUMENT) return `${where} refused the node (INVALID_ARGUMENT: ${err.details}): check cluster.env`;
  return `cannot stream from ${where}: ${grpc.status[err.code] ?? err.code}: ${err.details}`;
}
