/**
 * Runs reloads one at a time. A reload asked for while one runs makes exactly one more run after
 * it (under the latest reason: a SIGHUP that arrives during a file-change reload is still
 * reported as the SIGHUP reload), and every caller waits for the run that covers its request.
 */
export interface ReloadLoopOptions<T> {
  /** One reload; `force` re-reads files even when their stamps did not change. */
  runOnce(reason: string, force: boolean): Promise<T>;
  /** Around a burst of runs (the service lets V8's young generation grow for a reload's garbage). */
  beforeRuns?(): void;
  afterRuns?(): void;
}

export class ReloadLoop<T> {
  private running: Promise<T> | undefined;
  private again: string | undefined;
  private force = false;

  constructor(private readonly options: ReloadLoopOptions<T>) {}

  /** True while a reload runs. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  run(reason: string, options: { force?: boolean } = {}): Promise<T> {
    if (options.force === true) this.force = true;
    if (this.running !== undefined) {
      this.again = reason;
      return this.running;
    }
    const runs = async (): Promise<T> => {
      this.options.beforeRuns?.();
      let result = await this.once(reason);
      while (this.again !== undefined) {
        const again = this.again;
        this.again = undefined;
        result = await this.once(again);
      }
      return result;
    };
    this.running = runs().finally(() => {
      this.running = undefined;
      this.options.afterRuns?.();
    });
    return this.running;
  }

  private once(reason: string): Promise<T> {
    const force = this.force;
    this.force = false;
    return this.options.runOnce(reason, force);
  }
}
