import type { ListenAddress } from '../config/types';
import { shouldManageResolvConf } from '../config/effective';
import type { Snapshot } from '../inputs';
import { ResolvConfManager, type ManagerLog } from '../system/resolvconf/manager';

export type CaptureStatus = 'captured' | 'not-managed' | 'restored' | 'error';

export interface CaptureState {
  state: CaptureStatus;
  externalRewrites: number;
  error?: string;
}

/** The log calls a ResolvConfCapture makes (pino's shape; the manager logs through it too). */
export type CaptureLog = ManagerLog & {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
};

/**
 * The service's side of resolv.conf capture (docs/ARCHITECTURE.md §4): follows
 * shouldManageResolvConf at every reload, recovers after a crash, adopts a rewrite by someone
 * else as the new original, and reports its state for metrics, readiness and status. The file
 * work itself is the ResolvConfManager's (system/resolvconf/).
 */
export class ResolvConfCapture {
  private manager: ResolvConfManager | undefined;
  private status: CaptureStatus = 'not-managed';
  private error: string | undefined;
  private externalRewrites = 0;

  constructor(private readonly log: CaptureLog) {}

  state(): CaptureState {
    return { state: this.status, externalRewrites: this.externalRewrites, ...(this.error === undefined ? {} : { error: this.error }) };
  }

  /** A capture marker left by a crashed run: put the original back first (or keep a newer file). */
  async recoverAtStart(snap: Snapshot): Promise<void> {
    try {
      await this.managerFor(snap).recoverAtStart();
    } catch (err) {
      this.setError(err, 'cannot recover resolv.conf from the previous run');
    }
  }

  /** While captured, upstreams and search domains come from the saved original, never from our own file. */
  withCapturedOriginal(snap: Snapshot): Snapshot {
    const manager = this.manager;
    if (manager === undefined || !manager.captured) return snap;
    return { ...snap, resolvConf: manager.original() };
  }

  /** Capture (pointing at `listen`) or restore so that the file follows shouldManageResolvConf (resolvConf.manage / ISTIO_META_DNS_CAPTURE). */
  async sync(snap: Snapshot, listen: ListenAddress): Promise<void> {
    const want = shouldManageResolvConf(snap.effective);
    const manager = this.managerFor(snap);
    if (want && !manager.captured) {
      try {
        await manager.capture(listen);
        this.status = 'captured';
        this.error = undefined;
      } catch (err) {
        this.setError(err, 'resolv.conf not captured; serving without it');
      }
      // No reload needed: this snapshot read the file just before capture, i.e. the original.
    } else if (!want && manager.captured) {
      await this.restore('capture switched off');
    }
  }

  /**
   * resolv.conf changed on disk. When captured, a rewrite by someone else becomes the new
   * original (and ours is written again). 'ours': it was our own write, nothing to re-read;
   * else the caller reloads (search domains and upstreams may have changed).
   */
  async fileChanged(): Promise<'ours' | 'reload'> {
    const manager = this.manager;
    if (manager !== undefined && manager.captured) {
      try {
        const result = await manager.handleChange();
        if (result === 'ours') return 'ours';
        if (result === 'adopted') this.externalRewrites++;
      } catch (err) {
        this.setError(err, 'resolv.conf changed, but meshdns could not take it over again');
      }
    }
    return 'reload';
  }

  /** Put the original back (at stop, or when capture is switched off). */
  async restore(reason: string): Promise<void> {
    const manager = this.manager;
    if (manager === undefined || !manager.captured) return;
    try {
      const result = await manager.restore();
      this.status = 'restored';
      this.error = undefined;
      this.log.info({ reason, result }, 'resolv.conf released');
    } catch (err) {
      this.setError(err, 'cannot put the original resolv.conf back; run "meshdns restore-resolv-conf"');
    }
  }

  private managerFor(snap: Snapshot): ResolvConfManager {
    const { path } = snap.settings.resolvConf;
    const { stateDir } = snap.settings;
    const current = this.manager;
    // While captured, the manager keeps the path it took over until it has put the original back.
    if (current !== undefined && (current.captured || (current.path === path && current.stateDir === stateDir))) return current;
    this.manager = new ResolvConfManager({ path, stateDir, log: this.log });
    return this.manager;
  }

  private setError(err: unknown, what: string): void {
    const message = (err as Error).message;
    this.status = 'error';
    // Logged once per distinct error, not at every reload that retries.
    if (this.error !== message) this.log.error({ err }, `${what}: ${message}`);
    this.error = message;
  }
}
