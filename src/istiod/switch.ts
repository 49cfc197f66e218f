import type { Logger } from 'pino';
import type { RegistrySources } from '../inputs';
import type { IstiodSettings } from '../config/types';
import type { IstiodContext, IstiodSource, IstiodStats, IstiodSummary } from './source';
import { istiodDecision, type IstiodDecision } from './enabled';

export interface IstiodSwitchOptions {
  log: Logger;
  /** Swap istiod's records into the served table (the service's reload); resolves once served. */
  apply(reason: string): Promise<void>;
  /** The state STATUS= shows changed (on, off, live, stale, istiod's version). */
  onChange?(): void;
}

/** The settings a stream is opened with: a change reconnects (docs/ARCHITECTURE.md §11 "Off and on"). */
const CONNECTION_KEYS = ['address', 'serverName', 'rootCert', 'token', 'istioVersion'] as const;

/**
 * istiod switched on and off by the settings, without a restart (docs/ARCHITECTURE.md §11 "Off
 * and on"): at every reload, before the table is built, `decide` reads `istiod.enabled` (auto:
 * the credential files); on → the client is loaded (once: grpc is imported on demand) and the
 * saved table served until istiod answers; off → the stream is closed, nothing reconnects, and
 * istiod's names leave the table so the files answer again (the saved table stays on disk).
 * After the swap, `configure` hands over the next connect's inputs and reconnects when the
 * connection settings changed.
 */
export class IstiodSwitch {
  private source: IstiodSource | undefined;
  private on = false;
  private decision: IstiodDecision = { on: false, why: 'not read yet' };
  private connectionSettings: (ConnectionSettings & { stateDir: string }) | undefined;
  private serving = false;

  constructor(private readonly options: IstiodSwitchOptions) {}

  /** The builder's extra source: istiod's records (shadowing registry.d's) while on. */
  readonly sources: RegistrySources = (files, clusterDomain) => (this.on && this.source !== undefined ? this.source.combine(files, clusterDomain) : files.slice());

  get enabled(): boolean {
    return this.on;
  }

  /** On or off for these settings, before the table is built from them. */
  async decide(settings: IstiodSettings, stateDir: string, clusterDomain: string): Promise<void> {
    const decision = await istiodDecision(settings, stateDir);
    const was = this.on;
    this.decision = decision;
    if (decision.on === was) return;
    if (decision.on) {
      const source = await this.load();
      // The last table saved is served again until istiod answers (as at a start).
      await source.loadSaved(stateDir, clusterDomain);
      this.on = true;
      this.connectionSettings = undefined;
      if (this.serving) this.options.log.info(`istiod switched on (${decision.why})`);
    } else {
      this.on = false;
      this.source?.disable();
      this.options.log.info(`istiod switched off (${decision.why}): stream closed, not reconnecting; names from the files answer; the saved table stays on disk for the next turn-on`);
    }
    this.options.onChange?.();
  }

  /** After the swap: the next connect's inputs; connects once serving, reconnects on changed connection settings. */
  configure(context: IstiodContext): void {
    const source = this.source;
    if (!this.on || source === undefined) return;
    source.setContext(context);
    const next = { ...pick(context.settings), stateDir: context.stateDir };
    const previous = this.connectionSettings;
    this.connectionSettings = next;
    if (!this.serving) return;
    if (!source.started) source.start();
    else if (previous !== undefined) {
      const changed = (Object.keys(next) as Array<keyof typeof next>).filter((k) => next[k] !== previous[k]);
      if (changed.length > 0) source.reconnect(changed.map((k) => (k === 'stateDir' ? k : `istiod.${k}`)).join(', '));
    }
  }

  /** DNS is served: istiod is asked from now on (until then the saved table serves). */
  serve(): void {
    this.serving = true;
    if (this.on && this.source !== undefined && !this.source.started) this.source.start();
  }

  /** For /readyz: the table's state, or off. */
  describe(): string {
    return this.on && this.source !== undefined ? this.source.describeTable() : 'istiod off';
  }

  /** For /status and `meshdns status`. */
  status(): Record<string, unknown> {
    if (this.on && this.source !== undefined) return { enabled: true, ...this.source.status() };
    return { enabled: false, table: 'off', why: this.decision.why };
  }

  /** For metrics: undefined while the client was never loaded (the gauges stay absent). */
  stats(): (IstiodStats & { enabled: boolean }) | undefined {
    return this.source === undefined ? undefined : { enabled: this.on, ...this.source.stats() };
  }

  /** For STATUS=: undefined while off (nothing is said). */
  summary(): IstiodSummary | undefined {
    return this.on && this.source !== undefined ? this.source.summary() : undefined;
  }

  async stop(): Promise<void> {
    await this.source?.stop();
  }

  private async load(): Promise<IstiodSource> {
    if (this.source !== undefined) return this.source;
    // grpc and the generated descriptors cost every start a few hundred ms: loaded on first use.
    const { IstiodSource } = await import('./source');
    this.source = new IstiodSource({ log: this.options.log, apply: (reason) => this.options.apply(reason), onChange: () => this.options.onChange?.() });
    return this.source;
  }
}

type ConnectionSettings = Pick<IstiodSettings, (typeof CONNECTION_KEYS)[number]>;

function pick(s: IstiodSettings): ConnectionSettings {
  const out = {} as Record<(typeof CONNECTION_KEYS)[number], string>;
  for (const k of CONNECTION_KEYS) out[k] = s[k];
  return out;
}
