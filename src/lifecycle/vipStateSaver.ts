import type { Problem } from '../problem';
import type { Allocations } from '../registry/allocator';
import { saveVipState } from '../registry/allocatorState';

export interface VipStateSaverOptions {
  /** The allocations to save, read when a save starts (the builder may have been replaced). */
  allocations(): Allocations;
  /** A scheduled save failed (a save asked for with `save` returns its problem instead). */
  onError(problem: Problem): void;
  /** Quiet time before a scheduled save; default 1 s. */
  delayMs?: number;
  /** Writes the state file; default `saveVipState` (unit tests pass their own). */
  write?(stateDir: string, allocations: Allocations): Promise<void>;
}

/**
 * Saves the VIP state file (docs/ARCHITECTURE.md §2). The first allocation is saved before
 * serving (`save`); later ones are batched off the reload path (`schedule`): serializing every
 * allocation on each file change would cost more than the change. Saves run one after another
 * (a save is written in slices between queries, so a second one could otherwise start before
 * the first renamed its file), and `flush` — at stop — writes a scheduled save at once and waits
 * for the one under way.
 */
export class VipStateSaver {
  private timer: NodeJS.Timeout | undefined;
  private dir = '';
  private saving: Promise<void> | undefined;

  constructor(private readonly options: VipStateSaverOptions) {}

  /** Save now (after any save under way); the problem if it failed. */
  save(stateDir: string): Promise<Problem | undefined> {
    const run = (this.saving ?? Promise.resolve()).then(() => this.write(stateDir));
    this.saving = run.then(() => undefined);
    return run;
  }

  /** Save soon: several changes within the quiet time make one save, into the latest directory. */
  schedule(stateDir: string): void {
    this.dir = stateDir;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save(this.dir).then((p) => {
        if (p !== undefined) this.options.onError(p);
      });
    }, this.options.delayMs ?? 1000);
  }

  /** A scheduled save is written now; resolves once no save is under way. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      const p = await this.save(this.dir);
      if (p !== undefined) this.options.onError(p);
    }
    await this.saving;
  }

  private async write(stateDir: string): Promise<Problem | undefined> {
    try {
      await (this.options.write ?? saveVipState)(stateDir, this.options.allocations());
      return undefined;
    } catch (err) {
      return { file: stateDir, message: `cannot save VIP allocations: ${(err as Error).message}; VIPs may change at the next start` };
    }
  }
}
