import pino, { type Logger } from 'pino';
import { formatProblem } from './problem';
import { InputStore, buildTableFromSnapshot, type Snapshot, type TableBuild } from './inputs';
import { IstiodSwitch, istiodContext } from './istiod';
import { TableBuilder, type NameTable } from './nametable';
import { loadVipState } from './registry/allocatorState';
import type { Upstream } from './config/types';
import { RESOLVED_UPLINKS_FILE } from './system/resolvconf';
import { shouldManageResolvConf } from './config/effective';
import { createPipeline } from './dns/pipeline';
import { createFastPath, type FastPath } from './dns/fastPath';
import { createAnswerStore } from './dns/udp/answerStore';
import { SettleAfterChanges, collectGarbageIfLarge, collectWhenSettled, holdYoungGeneration, releaseYoungGeneration } from './system/memory';
import { createGuardHandler } from './dns/guardHandler';
import { createMeshHandler } from './dns/meshHandler';
import { createForwardHandler, type ForwardHandler } from './dns/forward';
import { ResponseCache, createCacheHandler } from './dns/cache';
import { chooseUdpEngine, parseUdpEngineChoice, startDnsServer, trimNativeHeap, type PacketHandler, type RunningServer, type UdpEngineChoice } from './dns/server';
import { formatHostPort } from './config/hostPort';
import { createClientFilter, refuseClient } from './dns/accessControl';
import { createCoalescingHandler } from './dns/coalesceHandler';
import type { Handler } from './dns/types';
import { VERSION } from './version';
import { InputWatcher } from './system/watch';
// Not the folder's index: the HTTP server (node:http) and prom-client load only when metrics are on.
import { MeshDnsMetrics } from './system/metrics/metrics';
import type { MetricsServer } from './system/metrics/server';
import {
  ProblemLog,
  ReloadLoop,
  ResolvConfCapture,
  UpstreamSelection,
  VipStateSaver,
  chooseUpstreamsFor,
  forwardAttempts,
  forwardTimeoutMs,
  restartNeeded,
  watchTargets,
  ReloadHistory,
  QueryLog,
  statusReport,
  tableSources,
  type CaptureState,
  type ReloadSummary,
} from './lifecycle';
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
  /** What STATUS= shows changed outside a reload (istiod live/stale/off): run.ts refreshes it. */
  onStatusChange?: () => void;
  /** UDP engine (default: MESHDNS_UDP_ENGINE, else auto); tests run both. */
  udpEngine?: UdpEngineChoice;
}

export type { ReloadSummary } from './lifecycle';

/**
 * meshdns as a running service (docs/ARCHITECTURE.md §5): load → serve → reload → stop. Wiring
 * only: it owns the sockets and the current table, and orders the steps; each step is a pure
 * builder, a handler, or a collaborator of `lifecycle/` (reload loop, VIP state saver, resolv.conf
 * capture, problem log, upstream selection, reload history).
 */
export class MeshDnsService {
  readonly log: Logger;
  private readonly store: InputStore;
  private tableValue: NameTable | undefined;
  private snapshot: Snapshot | undefined;
  /** Keeps the table between reloads; a reload re-derives only the changed files' names. */
  private builder = new TableBuilder();
  private readonly upstreamSelection: UpstreamSelection;
  private readonly stateSaver: VipStateSaver;
  private readonly problemLog: ProblemLog;
  private readonly capture: ResolvConfCapture;
  private readonly reloads: ReloadLoop<ReloadSummary>;
  private ttl = 30;
  private server: RunningServer | undefined;
  /** Local answers from reply templates on the native UDP engine (dns/fastPath.ts). */
  private fastPath: FastPath | undefined;
  private forward: ForwardHandler | undefined;
  private cache: ResponseCache | undefined;
  private readonly coalesce = createCoalescingHandler();
  /** The young generation is held at its size between reloads (system/memory.ts). */
  private youngGenerationHeld = false;
  private cancelSettledCollection: () => void = () => undefined;
  /** Gives back what changes to a large table leave behind, once they stop (system/memory.ts). */
  private readonly settleAfterChanges = new SettleAfterChanges({
    quietMs: SETTLE_AFTER_CHANGES_MS,
    minHeapBytes: START_GC_THRESHOLD_BYTES,
    growthBytes: SETTLE_GROWTH_BYTES,
    afterwards: (ms) => {
      const trimmed = trimNativeHeap();
      this.log.info({ ms: Math.round(ms), trimmed, rssMiB: Math.round(process.memoryUsage().rss / 1048576) }, 'returned the memory the last table changes left behind');
    },
  });
  private watcher: InputWatcher | undefined;
  /** Settings as bound at start: what cannot change without a restart is compared to these. */
  private startSettings: Snapshot['settings'] | undefined;
  readonly startedAt = Date.now();
  readonly metrics: MeshDnsMetrics;
  private metricsServer: MetricsServer | undefined;
  private readonly reloadHistory = new ReloadHistory();
  private readonly queryLog: QueryLog;
  get lastReload(): ReloadHistory['last'] {
    return this.reloadHistory.last;
  }
  /** The name table from istiod over xDS (docs/ARCHITECTURE.md §11), switched on and off by istiod.enabled. */
  readonly istiod: IstiodSwitch;

  constructor(private readonly options: ServiceOptions) {
    this.log = options.logger ?? pino({ level: 'info', base: { service: 'meshdns' } });
    this.store = new InputStore({ settingsFile: options.settingsFile });
    this.upstreamSelection = new UpstreamSelection(this.log);
    this.problemLog = new ProblemLog(this.log);
    this.istiod = new IstiodSwitch({
      log: this.log,
      apply: (reason) => this.reload(reason).then((summary) => this.compactAfter(summary)),
      onChange: () => options.onStatusChange?.(),
    });
    this.capture = new ResolvConfCapture(this.log);
    this.stateSaver = new VipStateSaver({
      allocations: () => this.builder.allocations(),
      onError: (p) => this.log.error({ file: p.file }, formatProblem(p)),
    });
    this.reloads = new ReloadLoop({
      runOnce: (reason, force) => this.reloadOnce(reason, force),
      // A reload's garbage dies young: let the young generation grow for it (system/memory.ts).
      beforeRuns: () => {
        if (this.youngGenerationHeld) releaseYoungGeneration();
      },
      afterRuns: () => {
        if (this.youngGenerationHeld) holdYoungGeneration();
      },
    });
    this.metrics = new MeshDnsMetrics({
      tableNames: () => this.tableValue?.size ?? 0,
      settleQueryCounts: () => this.fastPath?.settleCounts(),
      tableSources: () => ({ ...tableSources(this.snapshot), ...(this.istiod.enabled ? { istiod: this.istiod.stats()?.tableNames ?? 0 } : {}) }),
      cache: () => this.cache?.stats(),
      reloads: () => ({
        total: this.reloadHistory.total,
        errors: this.reloadHistory.withErrors,
        lastErrorFile: this.reloadHistory.lastErrorFile,
        lastReloadSeconds: this.lastReload === undefined ? undefined : this.lastReload.at / 1000,
      }),
      resolvConf: () => this.captureState(),
      loopingUpstreams: () => this.upstreamSelection.loops.looping,
      forwarder: () => this.forward?.stats(),
      istiod: () => this.istiod.stats(),
    });
    this.queryLog = new QueryLog(this.log, (o) => this.metrics.observeQuery(o));
  }

  /** resolv.conf capture state for metrics, readiness and status. */
  captureState(): CaptureState {
    return this.capture.state();
  }

  /** SIGUSR2: switch between the configured level and debug (per-query lines) at runtime. */
  toggleDebug(): void {
    this.queryLog.toggleDebug(this.snapshot?.settings.log.level ?? 'info');
    this.fastPath?.sync();
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
    return { ready: true, reason: `ready: serving${capture === 'captured' ? ', resolv.conf captured' : ''}, ${this.istiod.describe()}` };
  }

  /** The summary `meshdns status` prints (served as JSON on /status). */
  status(): Record<string, unknown> {
    const report = statusReport({
      startedAt: this.startedAt,
      listen: this.listenAddresses,
      udpEngine: this.server?.udpEngine,
      fastPathTemplates: this.fastPath?.size ?? 0,
      answerStoreReplies: this.fastPath?.store?.size,
      capture: this.captureState(),
      snapshot: this.snapshot,
      upstreams: this.upstreams,
      loopingUpstreams: this.upstreamSelection.loops.looping,
      tableNames: this.tableValue?.size ?? 0,
      reloads: this.reloadHistory,
      cache: this.cache?.stats(),
      forward: this.forward?.stats(),
    });
    return { ...report, istiod: this.istiod.status() };
  }

  get table(): NameTable | undefined {
    return this.tableValue;
  }

  get upstreams(): readonly Upstream[] {
    return this.upstreamSelection.upstreams;
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
    // The configured level from the first line on (the start's own lines included); an injected
    // logger (tests, embedding) keeps its own level.
    if (this.options.logger === undefined) this.log.level = first.settings.log.level;
    // After a crash the saved original goes back before anything reads resolv.conf.
    await this.capture.recoverAtStart(first);
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
    this.settleAfterChanges.rebase();
    this.cancelSettledCollection = collectWhenSettled(SETTLED_GC_DELAY_MS, SETTLED_GC_MAX_HEAP_BYTES, () => trimNativeHeap());
    const snap = this.snapshot!;
    // The Istio sidecar capturing DNS too (README "Beside the Istio sidecar"): a warning, never fatal.
    const agentCapture = agentCapturesDns(snap.clusterEnv.value && bootstrapFromClusterEnv(snap.clusterEnv.value).value.dnsCapture, snap.meshConfig.value?.dnsCapture);
    void warnIfSidecarCaptures(this.log, agentCapture, snap.settings.bootstrap.clusterEnv);

    // The one place MESHDNS_UDP_ENGINE is read: the listeners and the forwarder get the engine.
    const udpChoice = this.options.udpEngine ?? parseUdpEngineChoice(process.env.MESHDNS_UDP_ENGINE);
    const udpEngine = chooseUdpEngine(udpChoice).engine;
    this.cache = new ResponseCache({ maxEntries: snap.settings.cache.maxEntries });
    this.forward = createForwardHandler({
      udpEngine,
      upstreams: this.upstreamSelection.forwardTo,
      timeoutMs: forwardTimeoutMs(snap),
      attempts: forwardAttempts(snap),
      parallel: snap.settings.forward.parallel,
      onUpstreamResult: (upstream, outcome, seconds) => this.metrics.observeUpstream(upstream, outcome, seconds),
    });
    const handlers: Handler[] = [
      createGuardHandler(),
      this.upstreamSelection.loops.handler(),
      createMeshHandler({ table: () => this.tableValue, ttl: () => this.ttl }),
    ];
    if (snap.settings.cache.maxEntries > 0) handlers.push(createCacheHandler(this.cache));
    handlers.push(this.coalesce, this.forward);
    // With metrics off nobody can read the counters, so queries are not counted (the observer
    // stays for the debug log that SIGUSR2 may switch on).
    this.queryLog.configure(snap.settings.metrics !== '');
    const pipeline = createPipeline(handlers, this.queryLog.observe);
    this.fastPath = createFastPath({
      table: () => this.tableValue,
      ttl: () => this.ttl,
      enabled: () => !this.queryLog.debugging,
      cache: snap.settings.cache.maxEntries > 0 ? this.cache : undefined,
      onAnswered: (qtype, source, count) => {
        if (this.queryLog.countingQueries) this.metrics.countFastUdpAnswers(qtype, source, count);
      },
      store: udpEngine === 'native' ? createAnswerStore() : undefined,
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
      udpEngine: udpChoice,
      wantsRemoteAddress: allowed !== undefined,
      fastAnswer: this.fastPath.answer,
      answerStore: this.fastPath.store?.handle,
    });
    if (this.server.udpEngineUnavailable !== undefined) this.log.warn(`UDP through Node's ${this.server.udpEngineNote}`);
    this.startSettings = snap.settings;
    this.upstreamSelection.probe();
    // Capture only once the listeners answer and the first table is loaded (docs/ARCHITECTURE.md §4, §5).
    await this.capture.sync(snap, this.server.addresses[0] ?? snap.settings.listen[0]);
    if (snap.settings.metrics !== '') {
      await this.metrics.enable();
      const { startMetricsServer } = await import('./system/metrics/server');
      const started = await startMetricsServer(snap.settings.metrics, this.metrics, {
        alive: () => this.isAlive(),
        ready: () => this.readiness(),
        status: () => this.status(),
      });
      // The metrics endpoint must never cost DNS service: a bind failure is only a warning.
      if (started instanceof Error) this.log.warn(`${started.message}; serving DNS without metrics`);
      else this.metricsServer = started;
    }
    // istiod is asked once DNS is served: until it answers, the saved table (if any) serves.
    this.istiod.serve();
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
        upstreams: this.upstreams.map((u) => `${u.host}:${u.port}`),
        names: summary.names,
        problems: summary.problems.length,
      },
      'meshdns serving',
    );
  }

  /**
   * Re-read every input and swap in the new table. Concurrent calls coalesce: a reload asked
   * for while one runs makes exactly one more run after it.
   */
  reload(reason: string, options: { force?: boolean } = {}): Promise<ReloadSummary> {
    return this.reloads.run(reason, options);
  }

  /** One reload: read, build, swap, then the follow-ups (VIP state, logs, capture, watcher). */
  private async reloadOnce(reason: string, force: boolean): Promise<ReloadSummary> {
    const started = process.hrtime.bigint();
    const snap = this.capture.withCapturedOriginal(await this.store.load({ force }));
    // istiod on or off for these settings, before the table is built (docs/ARCHITECTURE.md §11 "Off and on").
    await this.istiod.decide(snap.settings.istiod, snap.settings.stateDir, snap.settings.clusterDomain);
    let build: TableBuild;
    try {
      build = buildTableFromSnapshot(snap, {}, this.builder, this.istiod.sources);
    } catch (err) {
      // A builder bug must not leave a half-updated table: start over from the inputs.
      this.log.error({ err }, 'incremental table update failed; rebuilding the table from scratch');
      this.builder = new TableBuilder(this.builder.allocations());
      build = buildTableFromSnapshot(snap, {}, this.builder, this.istiod.sources);
    }
    const { added, removed, changed } = build.result;

    const choice = await chooseUpstreamsFor(snap, this.server?.addresses ?? snap.settings.listen, this.options.resolvedUplinksFile ?? RESOLVED_UPLINKS_FILE);

    // The swap: handlers read these fields per query.
    this.snapshot = snap;
    this.ttl = snap.settings.ttl;
    this.tableValue = build.table;
    // Queries the native answer store takes never reach the fast path: tell it now.
    this.fastPath?.sync();
    this.upstreamSelection.use(choice, this.server !== undefined);
    this.istiod.configure(istiodContext(snap, this.upstreams));

    const problems = [...snap.problems, ...build.problems];
    // The re-check right after the watcher starts is only a reload if it found a change.
    const silent = reason === 'watching' && added + removed + changed === 0;
    this.reloadHistory.count(problems, silent);
    if (build.result.allocationsChanged) {
      // The first allocation is saved before serving; later ones are batched off the reload path
      // (serializing every allocation on each file change would cost more than the change).
      if (this.server === undefined) {
        const err = await this.stateSaver.save(snap.settings.stateDir);
        if (err !== undefined) problems.push(err);
      } else this.stateSaver.schedule(snap.settings.stateDir);
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const summary: ReloadSummary = { names: build.table.size, added, removed, changed, problems, ms };
    this.reloadHistory.remember(summary, silent);
    problems.push(...restartNeeded(this.startSettings, snap));
    this.problemLog.report(problems);
    this.upstreamSelection.noteChoice(choice);
    if (!silent) this.log.info({ reason, names: summary.names, added, removed, changed, errors: problems.length, ms: Math.round(ms * 10) / 10 }, 'table loaded');
    // Capture switched on or off in the mesh config / settings (the start reload captures in start()).
    if (this.server !== undefined) await this.capture.sync(snap, this.server.addresses[0] ?? snap.settings.listen[0]);
    if (this.watcher !== undefined) await this.watcher.setTargets(watchTargets(snap));
    return summary;
  }

  /**
   * A push that changed most of a large table (the first one, without a saved table) leaves its
   * decode and build garbage in the heap: returned as after the first load (system/memory.ts).
   */
  private async compactAfter(summary: ReloadSummary): Promise<void> {
    if (summary.added + summary.removed + summary.changed < LARGE_CHANGE_NAMES) {
      this.settleAfterChanges.changed();
      return;
    }
    const collected = await collectGarbageIfLarge(START_GC_THRESHOLD_BYTES);
    if (collected !== false) trimNativeHeap();
    this.settleAfterChanges.rebase();
  }

  private async startWatching(): Promise<void> {
    this.watcher = new InputWatcher({
      debounceMs: this.options.debounceMs,
      onChange: (kinds) => {
        const work = kinds.has('resolvConf') ? this.onResolvConfChanged() : this.reload('files changed').then(() => this.settleAfterChanges.changed());
        work.catch((err) => this.log.error({ err }, 'reload after a file change failed; the previous table stays in use'));
      },
      onError: (err) => this.log.warn({ err }, 'file watcher error'),
    });
    await this.watcher.setTargets(watchTargets(this.snapshot!));
  }

  /**
   * resolv.conf changed on disk: when captured, a rewrite by someone else becomes the new
   * original (and ours is written again); then search domains and upstreams are re-read.
   */
  async onResolvConfChanged(): Promise<void> {
    if ((await this.capture.fileChanged()) === 'ours') return;
    await this.reload('resolv.conf changed');
  }

  async stop(): Promise<void> {
    await this.istiod.stop();
    this.cancelSettledCollection();
    this.settleAfterChanges.cancel();
    await this.stateSaver.flush(); // a scheduled save is written, one under way finishes
    await this.watcher?.close();
    this.watcher = undefined;
    // The original goes back while we still answer: no moment where resolv.conf points at nothing.
    await this.capture.restore('stopping');
    await this.metricsServer?.close();
    this.metricsServer = undefined;
    await this.server?.close();
    await this.forward?.close();
    this.server = undefined;
  }
}

/** Names a reload must add, remove or change before its garbage is collected at once. */
const LARGE_CHANGE_NAMES = 50_000;

/** Heap in use after the first load above which start runs a full GC (a registry of some 20,000 entries). */
const START_GC_THRESHOLD_BYTES = 128 * 1024 * 1024;

/** After start, when the heap is below the size, memory the start no longer uses is given back (system/memory.ts). */
const SETTLED_GC_DELAY_MS = 2000;
const SETTLE_AFTER_CHANGES_MS = 2000;
const SETTLE_GROWTH_BYTES = 16 * 1024 * 1024;
const SETTLED_GC_MAX_HEAP_BYTES = 32 * 1024 * 1024;
