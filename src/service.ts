import { promises as fs } from 'node:fs';
import pino, { type Logger } from 'pino';
import { formatProblem, type Problem } from './problem';
import { InputStore, buildTableFromSnapshot, type Snapshot, type TableBuild } from './inputs';
import { TableBuilder, type NameTable } from './nametable';
import { loadVipState, saveVipState } from './registry/allocatorState';
import type { Upstream } from './config/types';
import { chooseUpstreams, parseResolvConf, RESOLVED_UPLINKS_FILE, type ResolvConf } from './system/resolvconf';
import { ResolvConfManager } from './system/resolvconf/manager';
import { shouldManageResolvConf } from './config/effective';
import { createPipeline } from './dns/pipeline';
import { createFastPath, type FastPath } from './dns/fastPath';
import { trimNativeHeap } from './dns/udp/binding';
import { collectGarbageIfLarge, holdYoungGeneration, releaseYoungGeneration } from './system/memory';
import { createGuardHandler } from './dns/guardHandler';
import { createMeshHandler } from './dns/meshHandler';
import { createForwardHandler, type ForwardHandler } from './dns/forward';
import { ResponseCache, createCacheHandler } from './dns/cache';
import { startDnsServer, type PacketHandler, type RunningServer, type UdpEngineChoice } from './dns/server';
import { formatHostPort } from './config/hostPort';
import { createClientFilter, refuseClient } from './dns/accessControl';
import { createCoalescingHandler } from './dns/coalesceHandler';
import { LoopDetector } from './dns/loopProbe';
import type { Handler } from './dns/types';
import { VERSION } from './version';
import { InputWatcher, type WatchTarget } from './system/watcher';
import { MeshDnsMetrics, startMetricsServer, type MetricsServer } from './system/metrics';
import type { QueryOutcome } from './dns/pipeline';
import { SystemdNotifier, formatStatus, type StatusSummary } from './system/sdnotify';
import { agentCapturesDns, warnIfSidecarCaptures } from './system/istioSidecar';
import { bootstrapFromClusterEnv } from './config';

export interface ServiceOptions {
  settingsFile: string;
  logger?: Logger;
  /** systemd-resolved's real uplinks (replaces a 127.0.0.53 stub); overridable for tests. */
  resolvedUplinksFile?: string;
  /** Watch the input files and reload on change (default true). */
  watch?: boolean;
  /** Quiet time before a burst of file changes is applied (default 100 ms). */
  debounceMs?: number;
  /** UDP engine (default: MESHDNS_UDP_ENGINE, else auto); tests run both. */
  udpEngine?: UdpEngineChoice;
}

/** What one (re)load changed, for the one log line per reload. */
export interface ReloadSummary {
  names: number;
  added: number;
  removed: number;
  changed: number;
  problems: Problem[];
  ms: number;
}

async function readResolvConf(path: string): Promise<ResolvConf | undefined> {
  try {
    return parseResolvConf(await fs.readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * meshdns as a running service (docs/ARCHITECTURE.md §5): load → serve → reload → stop. Owns the sockets,
 * the current table and the upstream list; everything it calls is a pure builder or a handler.
 */
export class MeshDnsService {
  readonly log: Logger;
  private readonly store: InputStore;
  private tableValue: NameTable | undefined;
  private snapshot: Snapshot | undefined;
  /** Keeps the table between reloads; a reload re-derives only the changed files' names. */
  private builder = new TableBuilder();
  private stateSave: { timer: NodeJS.Timeout | undefined; dir: string } = { timer: undefined, dir: '' };
  private upstreamList: Upstream[] = [];
  /** The upstreams forwarded to: `upstreamList` less those that loop back to us. */
  private forwardUpstreams: Upstream[] = [];
  private readonly loops = new LoopDetector((upstream) => {
    this.forwardUpstreams = this.upstreamList.filter((u) => !this.loops.isLooping(u));
    this.log.error(
      { upstream: formatHostPort(upstream) },
      `upstream ${formatHostPort(upstream)} forwards queries back to meshdns (a loop): not used; point it elsewhere or set upstreams: in meshdns.yaml`,
    );
  });
  private ttl = 30;
  private server: RunningServer | undefined;
  /** Local answers from reply templates on the native UDP engine (dns/fastPath.ts). */
  private fastPath: FastPath | undefined;
  private forward: ForwardHandler | undefined;
  private cache: ResponseCache | undefined;
  private readonly coalesce = createCoalescingHandler();
  private reloading: Promise<ReloadSummary> | undefined;
  private reloadAgain: string | undefined;
  private reloadForce = false;
  /** The VIP state save under way, if any (see saveAllocations). */
  private stateSaving: Promise<void> | undefined;
  /** The young generation is held at its size between reloads (system/memory.ts). */
  private youngGenerationHeld = false;
  private watcher: InputWatcher | undefined;
  /** Problems already logged, so a broken file is reported once per change, not per reload. */
  private reportedProblems = new Set<string>();
  private lastUpstreamNotes = '';
  /** Settings as bound at start: what cannot change without a restart is compared to these. */
  private startSettings: Snapshot['settings'] | undefined;
  readonly startedAt = Date.now();
  readonly metrics: MeshDnsMetrics;
  private metricsServer: MetricsServer | undefined;
  private reloadCount = 0;
  private reloadErrorCount = 0;
  private lastReloadErrorFile: string | undefined;
  /** Per-query debug logs are checked with this flag, not by asking pino on every query. */
  private debugQueries = false;
  private countQueries = true;
  lastReload: { at: number; summary: ReloadSummary } | undefined;
  // resolv.conf capture (docs/ARCHITECTURE.md §4): see the "resolv.conf capture" methods below.
  private resolvConfManager: ResolvConfManager | undefined;
  private captureStatus: 'captured' | 'not-managed' | 'restored' | 'error' = 'not-managed';
  private captureError: string | undefined;
  private externalRewrites = 0;

  constructor(private readonly options: ServiceOptions) {
    this.log = options.logger ?? pino({ level: 'info', base: { service: 'meshdns' } });
    this.store = new InputStore({ settingsFile: options.settingsFile });
    this.metrics = new MeshDnsMetrics({
      tableNames: () => this.tableValue?.size ?? 0,
      tableSources: () => this.tableSources(),
      cache: () => this.cache?.stats(),
      reloads: () => ({
        total: this.reloadCount,
        errors: this.reloadErrorCount,
        lastErrorFile: this.lastReloadErrorFile,
        lastReloadSeconds: this.lastReload === undefined ? undefined : this.lastReload.at / 1000,
      }),
      resolvConf: () => this.captureState(),
      loopingUpstreams: () => this.loops.looping,
      forwarder: () => this.forward?.stats(),
    });
  }

  /** resolv.conf capture state for metrics, readiness and status. */
  captureState(): { state: 'captured' | 'not-managed' | 'restored' | 'error'; externalRewrites: number; error?: string } {
    return { state: this.captureStatus, externalRewrites: this.externalRewrites, ...(this.captureError === undefined ? {} : { error: this.captureError }) };
  }

  private tableSources(): Record<string, number> {
    const out: Record<string, number> = { Service: 0, ServiceEntry: 0, hosts: 0 };
    for (const slot of this.snapshot?.registry.values() ?? []) {
      for (const r of slot.value?.records ?? []) out[r.kind]++;
    }
    for (const slot of this.snapshot?.hosts.values() ?? []) out.hosts += slot.value?.length ?? 0;
    return out;
  }

  private observeQuery(o: QueryOutcome): void {
    if (this.countQueries) this.metrics.observeQuery(o);
    if (this.debugQueries) {
      this.log.debug(
        { name: o.query?.name, type: o.query?.type, transport: o.transport, by: o.answeredBy, rcode: o.reply === null ? 'dropped' : o.reply[3] & 15 },
        'query',
      );
    }
  }

  /** SIGUSR2: switch between the configured level and debug (per-query lines) at runtime. */
  toggleDebug(): void {
    const configured = this.snapshot?.settings.log.level ?? 'info';
    this.log.level = this.log.level === 'debug' ? (configured === 'debug' ? 'info' : configured) : 'debug';
    this.debugQueries = this.log.level === 'debug' || this.log.level === 'trace';
    this.log.info({ level: this.log.level }, 'log level changed (SIGUSR2)');
  }

  /** Alive: the event loop runs (this is answered from it). */
  isAlive(): boolean {
    return true;
  }

  /** Ready: listeners bound and, when capture is on, resolv.conf captured. */
  readiness(): { ready: boolean; reason: string } {
    if (this.server === undefined) return { ready: false, reason: 'not serving yet' };
    const capture = this.captureState().state;
    const wanted = this.snapshot !== undefined && shouldManageResolvConf(this.snapshot.effective);
    if (wanted && capture !== 'captured') return { ready: false, reason: `serving, but resolv.conf is ${capture}` };
    return { ready: true, reason: `ready: serving${capture === 'captured' ? ', resolv.conf captured' : ''}` };
  }

  /** The summary `meshdns status` prints (served as JSON on /status). */
  status(): Record<string, unknown> {
    const fwd = this.forward?.stats();
    const cache = this.cache?.stats();
    const lookups = cache === undefined ? 0 : cache.hits + cache.misses;
    // A try fails by error/SERVFAIL/REFUSED (failures) or by silence (timeouts): both count.
    const failed = (u: { failures: number; timeouts: number }): number => u.failures + u.timeouts;
    const failing = (fwd?.upstreams ?? []).filter((u) => failed(u) > 0).sort((a, b) => failed(b) - failed(a))[0];
    const last = this.lastReload;
    return {
      version: VERSION,
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      listen: this.listenAddresses.map(formatHostPort),
      udpEngine: this.server?.udpEngine ?? null,
      fastPathTemplates: this.fastPath?.size ?? 0,
      resolvConf: { ...this.captureState(), path: this.snapshot?.settings.resolvConf.path },
      upstreams: this.upstreamList.map(formatHostPort),
      loopingUpstreams: this.loops.looping,
      table: { names: this.tableValue?.size ?? 0, sources: this.tableSources() },
      lastReload:
        last === undefined
          ? null
          : {
              at: new Date(last.at).toISOString(),
              ms: Math.round(last.summary.ms * 10) / 10,
              added: last.summary.added,
              removed: last.summary.removed,
              changed: last.summary.changed,
              errors: last.summary.problems.filter((p) => p.severity !== 'warning').map((p) => formatProblem(p)),
            },
      reloads: { total: this.reloadCount, withErrors: this.reloadErrorCount },
      cache: cache === undefined ? null : { ...cache, hitRate: lookups === 0 ? 0 : cache.hits / lookups },
      forward: fwd === undefined ? null : { inFlight: fwd.inFlight, rejected: fwd.rejected, exhausted: fwd.exhausted, upstreams: fwd.upstreams },
      topFailingUpstream: failing === undefined ? null : { upstream: failing.upstream, failures: failed(failing), timeouts: failing.timeouts, requests: failing.requests },
    };
  }


  get table(): NameTable | undefined {
    return this.tableValue;
  }

  get upstreams(): readonly Upstream[] {
    return this.upstreamList;
  }

  get listenAddresses(): RunningServer['addresses'] {
    return this.server?.addresses ?? [];
  }

  /** Where /metrics, /healthz, /readyz and /status are served, once started ("" when off). */
  get metricsAddress(): string {
    return this.metricsServer?.address ?? '';
  }

  get currentSnapshot(): Snapshot | undefined {
    return this.snapshot;
  }

  /** Read the inputs, bind the listeners, serve. Throws (naming the address) if a bind fails. */
  async start(): Promise<void> {
    const first = await this.store.load();
    // After a crash the saved original goes back before anything reads resolv.conf.
    await this.recoverResolvConf(first);
    const state = await loadVipState(first.settings.stateDir);
    this.builder = new TableBuilder(state.allocations);
    for (const p of state.problems) this.log.warn({ file: p.file, field: p.field }, formatProblem(p));
    const summary = await this.reload('start');
    // A large registry leaves its parse garbage behind: return it before serving (system/memory.ts).
    const collected = await collectGarbageIfLarge(START_GC_THRESHOLD_BYTES);
    // The C heap keeps what the load freed (file buffers) in its arenas: give it back too.
    const trimmed = collected !== false && trimNativeHeap();
    if (collected !== false) this.log.info({ how: collected, trimmed, rssMiB: Math.round(process.memoryUsage().rss / 1048576) }, 'collected the garbage of the first load');
    // From here on the heap holds the table and little else that lives: no growing young
    // generation, except while a reload runs.
    holdYoungGeneration();
    this.youngGenerationHeld = true;
    const snap = this.snapshot!;
    // The Istio sidecar capturing DNS too (README "Beside the Istio sidecar"): a warning, never fatal.
    const agentCapture = agentCapturesDns(snap.clusterEnv.value && bootstrapFromClusterEnv(snap.clusterEnv.value).value.dnsCapture, snap.meshConfig.value?.dnsCapture);
    void warnIfSidecarCaptures(this.log, agentCapture, snap.settings.bootstrap.clusterEnv);
    // An injected logger (tests, embedding) keeps its own level.
    if (this.options.logger === undefined) this.log.level = snap.settings.log.level;

    this.cache = new ResponseCache({ maxEntries: snap.settings.cache.maxEntries });
    this.forward = createForwardHandler({
      upstreams: () => this.forwardUpstreams,
      timeoutMs: this.forwardTimeoutMs(snap),
      attempts: this.forwardAttempts(snap),
      parallel: snap.settings.forward.parallel,
      onUpstreamResult: (upstream, outcome, seconds) => this.metrics.observeUpstream(upstream, outcome, seconds),
    });
    const handlers: Handler[] = [
      createGuardHandler(),
      this.loops.handler(),
      createMeshHandler({ table: () => this.tableValue, ttl: () => this.ttl }),
    ];
    if (snap.settings.cache.maxEntries > 0) handlers.push(createCacheHandler(this.cache));
    handlers.push(this.coalesce, this.forward);
    this.debugQueries = this.log.isLevelEnabled('debug');
    // With metrics off nobody can read the counters, so queries are not counted (the observer
    // stays for the debug log that SIGUSR2 may switch on).
    this.countQueries = snap.settings.metrics !== '';
    const pipeline = createPipeline(handlers, (o) => this.observeQuery(o));
    this.fastPath = createFastPath({
      table: () => this.tableValue,
      ttl: () => this.ttl,
      enabled: () => !this.debugQueries,
      cache: snap.settings.cache.maxEntries > 0 ? this.cache : undefined,
      onAnswered: (qtype, source) => {
        if (this.countQueries) this.metrics.countFastUdpAnswer(qtype, source);
      },
    });
    // Never an open resolver: a listener beyond loopback needs allowFrom (checked by the settings
    // parser), and then every packet's source is checked.
    const exposure = snap.problems.find((p) => p.file === snap.settingsFile && p.field === 'allowFrom');
    if (exposure !== undefined) throw new Error(formatProblem(exposure));
    const allowed = createClientFilter(snap.settings.listen, snap.settings.allowFrom);
    const handle: PacketHandler =
      allowed === undefined
        ? pipeline
        : (packet, transport, remote) => (allowed(remote) ? pipeline(packet, transport) : refuseClient(packet, transport));
    this.server = await startDnsServer(snap.settings.listen, handle, {
      onHandlerError: (err) => this.log.error({ err }, 'query handler failed; query dropped'),
      udpEngine: this.options.udpEngine,
      wantsRemoteAddress: allowed !== undefined,
      fastAnswer: this.fastPath.answer,
    });
    if (this.server.udpEngineUnavailable !== undefined) this.log.warn(`UDP through Node's ${this.server.udpEngineNote}`);
    this.startSettings = snap.settings;
    this.loops.probe(this.upstreamList);
    // Capture only once the listeners answer and the first table is loaded (docs/ARCHITECTURE.md §4, §5).
    await this.syncResolvConfCapture(snap);
    if (snap.settings.metrics !== '') {
      const started = await startMetricsServer(snap.settings.metrics, this.metrics, {
        alive: () => this.isAlive(),
        ready: () => this.readiness(),
        status: () => this.status(),
      });
      // The metrics endpoint must never cost DNS service: a bind failure is only a warning.
      if (started instanceof Error) this.log.warn(`${started.message}; serving DNS without metrics`);
      else this.metricsServer = started;
    }
    if (this.options.watch !== false) {
      await this.startWatching();
      // A file changed between the first read and the watcher's initial scan raised no event:
      // look once more (unchanged files are not re-parsed, so this is cheap).
      await this.reload('watching');
    }
    this.log.info(
      {
        version: VERSION,
        listen: this.server.addresses.map(formatHostPort),
        udp: this.server.udpEngineNote,
        upstreams: this.upstreamList.map((u) => `${u.host}:${u.port}`),
        names: summary.names,
        problems: summary.problems.length,
      },
      'meshdns serving',
    );
  }

  /** resolv.conf `options timeout:` applies unless the settings file set forward.timeout. */
  private forwardTimeoutMs(snap: Snapshot): number {
    if (!snap.settings.explicit.has('forward.timeout') && snap.resolvConf?.timeoutSeconds !== undefined) {
      return Math.max(100, snap.resolvConf.timeoutSeconds * 1000);
    }
    return snap.settings.forward.timeoutMs;
  }

  private forwardAttempts(snap: Snapshot): number {
    if (!snap.settings.explicit.has('forward.attempts') && snap.resolvConf?.attempts !== undefined) {
      return Math.max(1, snap.resolvConf.attempts);
    }
    return snap.settings.forward.attempts;
  }

  /**
   * Re-read every input and swap in the new table. Concurrent calls coalesce: a reload asked
   * for while one runs makes exactly one more run after it.
   */
  reload(reason: string, options: { force?: boolean } = {}): Promise<ReloadSummary> {
    if (options.force === true) this.reloadForce = true;
    if (this.reloading !== undefined) {
      // One more run after the current one, logged under the latest reason (a SIGHUP that
      // arrives during a file-change reload is still reported as the SIGHUP reload).
      this.reloadAgain = reason;
      return this.reloading;
    }
    const run = async (): Promise<ReloadSummary> => {
      // A reload's garbage dies young: let the young generation grow for it (system/memory.ts).
      if (this.youngGenerationHeld) releaseYoungGeneration();
      let summary = await this.reloadOnce(reason);
      while (this.reloadAgain !== undefined) {
        const again = this.reloadAgain;
        this.reloadAgain = undefined;
        summary = await this.reloadOnce(again);
      }
      return summary;
    };
    this.reloading = run().finally(() => {
      this.reloading = undefined;
      if (this.youngGenerationHeld) holdYoungGeneration();
    });
    return this.reloading;
  }

  private async reloadOnce(reason: string): Promise<ReloadSummary> {
    const started = process.hrtime.bigint();
    const force = this.reloadForce;
    this.reloadForce = false;
    const snap = this.withCapturedOriginal(await this.store.load({ force }));
    let build: TableBuild;
    try {
      build = buildTableFromSnapshot(snap, {}, this.builder);
    } catch (err) {
      // A builder bug must not leave a half-updated table: start over from the inputs.
      this.log.error({ err }, 'incremental table update failed; rebuilding the table from scratch');
      this.builder = new TableBuilder(this.builder.allocations());
      build = buildTableFromSnapshot(snap, {}, this.builder);
    }
    // Answer bytes are made on a name's first query (precomputeAnswers memoizes them per entry and
    // TTL; the UDP fast path keeps whole reply templates): making them here for every entry cost
    // three Buffers per name, about 300 MB of RSS at 100,000 ServiceEntries, for names mostly never asked.
    const { added, removed, changed } = build.result;

    const uplinks = await readResolvConf(this.options.resolvedUplinksFile ?? RESOLVED_UPLINKS_FILE);
    const choice = chooseUpstreams(snap.settings.upstreams, snap.resolvConf, uplinks, this.server?.addresses ?? snap.settings.listen);


    // The swap: handlers read these fields per query.
    this.snapshot = snap;
    this.ttl = snap.settings.ttl;
    this.tableValue = build.table;
    const upstreamsChanged = choice.upstreams.map(formatHostPort).join(',') !== this.upstreamList.map(formatHostPort).join(',');
    this.upstreamList = choice.upstreams;
    if (upstreamsChanged) {
      this.loops.reset();
      this.forwardUpstreams = this.upstreamList;
      // Probe once serving (the probe must be able to reach our listener to prove a loop).
      if (this.server !== undefined) this.loops.probe(this.upstreamList);
    }

    const problems = [...snap.problems, ...build.problems];
    // The re-check right after the watcher starts is only a reload if it found a change.
    const silent = reason === 'watching' && added + removed + changed === 0;
    if (!silent) {
      this.reloadCount++;
      const firstError = problems.find((p) => p.severity !== 'warning');
      if (firstError !== undefined) this.reloadErrorCount++;
      this.lastReloadErrorFile = firstError?.file;
    }
    if (build.result.allocationsChanged) {
      // The first allocation is saved before serving; later ones are batched off the reload path
      // (serializing 300,000 allocations on every file change would cost more than the change).
      if (this.server === undefined) {
        const err = await this.saveAllocations(snap.settings.stateDir);
        if (err !== undefined) problems.push(err);
      } else this.scheduleStateSave(snap.settings.stateDir);
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const summary: ReloadSummary = { names: build.table.size, added, removed, changed, problems, ms };
    if (!silent || this.lastReload === undefined) this.lastReload = { at: Date.now(), summary };
    problems.push(...this.restartNeeded(snap));
    const current = new Set<string>();
    for (const p of problems) {
      const text = formatProblem(p);
      current.add(text);
      if (this.reportedProblems.has(text)) continue;
      this.log[p.severity === 'warning' ? 'warn' : 'error']({ file: p.file, document: p.document, field: p.field }, text);
    }
    this.reportedProblems = current;
    const notes = choice.notes.join('\n');
    if (notes !== this.lastUpstreamNotes) for (const note of choice.notes) this.log.info(note);
    this.lastUpstreamNotes = notes;
    if (!silent) this.log.info({ reason, names: summary.names, added, removed, changed, errors: problems.length, ms: Math.round(ms * 10) / 10 }, 'table loaded');
    // Capture switched on or off in the mesh config / settings (the start reload captures in start()).
    if (this.server !== undefined) await this.syncResolvConfCapture(snap);
    if (this.watcher !== undefined) await this.watcher.setTargets(this.watchTargets(snap));
    return summary;
  }

  /**
   * Saves run one after another (a save is written in slices between queries, so a second one
   * could start before the first has renamed its file); `stop` waits for the last.
   */
  private saveAllocations(stateDir: string): Promise<Problem | undefined> {
    const run = (this.stateSaving ?? Promise.resolve()).then(() => this.saveAllocationsNow(stateDir));
    this.stateSaving = run.then(() => undefined);
    return run;
  }

  private async saveAllocationsNow(stateDir: string): Promise<Problem | undefined> {
    try {
      await saveVipState(stateDir, this.builder.allocations());
      return undefined;
    } catch (err) {
      return { file: stateDir, message: `cannot save VIP allocations: ${(err as Error).message}; VIPs may change at the next start` };
    }
  }

  private scheduleStateSave(stateDir: string): void {
    this.stateSave.dir = stateDir;
    if (this.stateSave.timer !== undefined) return;
    this.stateSave.timer = setTimeout(() => {
      this.stateSave.timer = undefined;
      void this.saveAllocations(this.stateSave.dir).then((p) => {
        if (p !== undefined) this.log.error({ file: p.file }, formatProblem(p));
      });
    }, 1000);
  }

  /** Settings bound at start (sockets, forwarder, cache) that a reload cannot change. */
  private restartNeeded(snap: Snapshot): Problem[] {
    const started = this.startSettings;
    if (started === undefined) return [];
    const differs: string[] = [];
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
    if (!same(started.listen, snap.settings.listen)) differs.push('listen');
    if (!same(started.forward, snap.settings.forward)) differs.push('forward');
    if (!same(started.cache, snap.settings.cache)) differs.push('cache');
    if (started.metrics !== snap.settings.metrics) differs.push('metrics');
    if (!same(started.allowFrom, snap.settings.allowFrom)) differs.push('allowFrom');
    return differs.map((key) => ({
      file: snap.settingsFile,
      field: key,
      severity: 'warning' as const,
      message: `changed, but takes effect only after a restart (systemctl restart meshdns); the running value stays in use`,
    }));
  }

  /** Every input file and directory, and resolv.conf (docs/ARCHITECTURE.md §1, §4). */
  private watchTargets(snap: Snapshot): WatchTarget[] {
    const s = snap.settings;
    return [
      { path: snap.settingsFile, kind: 'inputs', recursive: false },
      { path: s.bootstrap.clusterEnv, kind: 'inputs', recursive: false },
      { path: s.bootstrap.meshConfig, kind: 'inputs', recursive: false },
      { path: s.bootstrap.hosts, kind: 'inputs', recursive: false },
      ...s.registry.map((path) => ({ path, kind: 'inputs' as const, recursive: true })),
      { path: s.resolvConf.path, kind: 'resolvConf', recursive: false },
    ];
  }

  private async startWatching(): Promise<void> {
    this.watcher = new InputWatcher({
      debounceMs: this.options.debounceMs,
      onChange: (kinds) => {
        const work = kinds.has('resolvConf') ? this.onResolvConfChanged() : this.reload('files changed').then(() => undefined);
        work.catch((err) => this.log.error({ err }, 'reload after a file change failed; the previous table stays in use'));
      },
      onError: (err) => this.log.warn({ err }, 'file watcher error'),
    });
    await this.watcher.setTargets(this.watchTargets(this.snapshot!));
  }

  /**
   * resolv.conf changed on disk: when captured, a rewrite by someone else becomes the new
   * original (and ours is written again); then search domains and upstreams are re-read.
   */
  async onResolvConfChanged(): Promise<void> {
    const manager = this.resolvConfManager;
    if (manager !== undefined && manager.captured) {
      try {
        const result = await manager.handleChange();
        if (result === 'ours') return;
        if (result === 'adopted') this.externalRewrites++;
      } catch (err) {
        this.setCaptureError(err, 'resolv.conf changed, but meshdns could not take it over again');
      }
    }
    await this.reload('resolv.conf changed');
  }

  // ---- resolv.conf capture (docs/ARCHITECTURE.md §4) ----

  private managerFor(snap: Snapshot): ResolvConfManager {
    const { path } = snap.settings.resolvConf;
    const { stateDir } = snap.settings;
    const current = this.resolvConfManager;
    // While captured, the manager keeps the path it took over until it has put the original back.
    if (current !== undefined && (current.captured || (current.path === path && current.stateDir === stateDir))) return current;
    this.resolvConfManager = new ResolvConfManager({ path, stateDir, log: this.log });
    return this.resolvConfManager;
  }

  /** A capture marker left by a crashed run: put the original back first (or keep a newer file). */
  private async recoverResolvConf(snap: Snapshot): Promise<void> {
    try {
      await this.managerFor(snap).recoverAtStart();
    } catch (err) {
      this.setCaptureError(err, 'cannot recover resolv.conf from the previous run');
    }
  }

  /** While captured, upstreams and search domains come from the saved original, never from our own file. */
  private withCapturedOriginal(snap: Snapshot): Snapshot {
    const manager = this.resolvConfManager;
    if (manager === undefined || !manager.captured) return snap;
    return { ...snap, resolvConf: manager.original() };
  }

  /** Capture or restore so that the file follows shouldManageResolvConf (resolvConf.manage / ISTIO_META_DNS_CAPTURE). */
  private async syncResolvConfCapture(snap: Snapshot): Promise<void> {
    const want = shouldManageResolvConf(snap.effective);
    const manager = this.managerFor(snap);
    if (want && !manager.captured) {
      try {
        await manager.capture(this.server?.addresses[0] ?? snap.settings.listen[0]);
        this.captureStatus = 'captured';
        this.captureError = undefined;
      } catch (err) {
        this.setCaptureError(err, 'resolv.conf not captured; serving without it');
      }
      // No reload needed: this snapshot read the file just before capture, i.e. the original.
    } else if (!want && manager.captured) {
      await this.restoreResolvConf('capture switched off');
    }
  }

  private async restoreResolvConf(reason: string): Promise<void> {
    const manager = this.resolvConfManager;
    if (manager === undefined || !manager.captured) return;
    try {
      const result = await manager.restore();
      this.captureStatus = 'restored';
      this.captureError = undefined;
      this.log.info({ reason, result }, 'resolv.conf released');
    } catch (err) {
      this.setCaptureError(err, 'cannot put the original resolv.conf back; run "meshdns restore-resolv-conf"');
    }
  }

  private setCaptureError(err: unknown, what: string): void {
    const message = (err as Error).message;
    this.captureStatus = 'error';
    // Logged once per distinct error, not at every reload that retries.
    if (this.captureError !== message) this.log.error({ err }, `${what}: ${message}`);
    this.captureError = message;
  }

  async stop(): Promise<void> {
    if (this.stateSave.timer !== undefined) {
      clearTimeout(this.stateSave.timer);
      this.stateSave.timer = undefined;
      const p = await this.saveAllocations(this.stateSave.dir);
      if (p !== undefined) this.log.error({ file: p.file }, formatProblem(p));
    }
    await this.stateSaving; // a save already under way finishes before we exit
    await this.watcher?.close();
    this.watcher = undefined;
    // The original goes back while we still answer: no moment where resolv.conf points at nothing.
    await this.restoreResolvConf('stopping');
    await this.metricsServer?.close();
    this.metricsServer = undefined;
    await this.server?.close();
    await this.forward?.close();
    this.server = undefined;
  }
}

/** The STATUS= summary for systemd, from what the service reports. */
function statusSummary(service: MeshDnsService): StatusSummary {
  const last = service.lastReload;
  return {
    names: service.table?.size ?? 0,
    upstreams: service.upstreams.map(formatHostPort),
    lastReload:
      last === undefined
        ? undefined
        : {
            at: new Date(last.at),
            added: last.summary.added,
            removed: last.summary.removed,
            changed: last.summary.changed,
            errors: last.summary.problems.filter((p) => p.severity !== 'warning').length,
          },
  };
}

/** Heap in use after the first load above which start runs a full GC (about 20,000 entries). */
const START_GC_THRESHOLD_BYTES = 128 * 1024 * 1024;

/** How often STATUS= is refreshed when a file-watch reload changed it (no-op outside systemd). */
const STATUS_REFRESH_MS = 5000;

/**
 * `meshdns run`: start, then live until SIGTERM/SIGINT; SIGHUP re-reads everything.
 * Under systemd (Type=notify): READY=1 once start() returned (listeners bound, inputs read,
 * resolv.conf captured), STATUS= one line, WATCHDOG=1 from the event loop, RELOADING=1/READY=1
 * around a SIGHUP reload, STOPPING=1 on shutdown.
 */
export async function runService(settingsFile: string): Promise<number> {
  const service = new MeshDnsService({ settingsFile });
  const systemd = new SystemdNotifier({ onError: (message) => service.log.warn(message) });

  // Signal handlers go in before anything starts: a SIGTERM or SIGHUP while starting (after
  // resolv.conf may already be captured) must not take the default action and exit without
  // restoring it. During the start they are only remembered and acted on once it finished.
  let started = false;
  let stopRequested: string | undefined;
  let reloadRequested = false;
  let onStop: (signal: string) => void = (signal) => {
    stopRequested ??= signal;
  };
  let onReload: () => void = () => {
    reloadRequested = true;
  };
  process.on('SIGTERM', () => onStop('SIGTERM'));
  process.on('SIGINT', () => onStop('SIGINT'));
  process.on('SIGHUP', () => onReload());
  process.on('SIGUSR2', () => {
    if (started) service.toggleDebug();
  });

  try {
    await service.start();
  } catch (err) {
    service.log.fatal({ err }, (err as Error).message);
    await systemd.notify({ status: `failed to start: ${(err as Error).message}` });
    await service.stop().catch(() => undefined);
    return 1;
  }
  started = true;
  let lastStatus = formatStatus(statusSummary(service));
  await systemd.notify({ ready: true, status: lastStatus });
  if (systemd.startWatchdog()) service.log.info({ intervalMs: systemd.watchdogIntervalMs }, 'systemd watchdog pings on');
  const statusTimer = setInterval(() => {
    const now = formatStatus(statusSummary(service));
    if (now === lastStatus) return;
    lastStatus = now;
    void systemd.notify({ status: now });
  }, STATUS_REFRESH_MS);
  statusTimer.unref();
  return new Promise<number>((resolve) => {
    let stopping = false;
    onStop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      clearInterval(statusTimer);
      systemd.stopWatchdog();
      service.log.info({ signal }, 'stopping');
      systemd
        .notify({ stopping: true, status: `stopping (${signal})` })
        .then(() => service.stop())
        .then(
          () => resolve(0),
          (err) => {
            service.log.error({ err }, 'error while stopping');
            resolve(1);
          },
        );
    };
    onReload = (): void => {
      if (stopping) return;
      const reloaded = systemd
        .notify({ reloading: true, monotonicUsec: process.hrtime.bigint() / 1000n, status: 'reloading (SIGHUP)' })
        .then(() => service.reload('SIGHUP', { force: true }))
        .catch((err) => service.log.error({ err }, 'reload failed; the previous table stays in use'));
      // READY=1 ends the reload for systemd whether it worked or not (the old table serves on).
      void reloaded.then(() => {
        lastStatus = formatStatus(statusSummary(service));
        return systemd.notify({ ready: true, status: lastStatus });
      });
    };
    // What arrived while starting.
    if (stopRequested !== undefined) onStop(stopRequested);
    else if (reloadRequested) onReload();
  });
}
