/**
 * One interval timer for all upstream deadlines, instead of a setTimeout per query.
 *
 * Deadlines are kept in one FIFO queue per delay value: every exchange uses the same few
 * timeouts, so entries of one queue are already in deadline order and a sweep only looks at
 * queue heads. Schedule and cancel are O(1); a cancelled entry is dropped lazily when its
 * deadline passes. Precision is the tick (default 25 ms), which is plenty for 2 s timeouts.
 */

export interface TimerHandle {
  cancel(): void;
}

interface Entry extends TimerHandle {
  deadline: number;
  callback: (() => void) | null;
}

class Fifo {
  private items: Entry[] = [];
  private head = 0;

  push(e: Entry): void {
    this.items.push(e);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Pops and returns entries whose deadline is <= now, in order. */
  popDue(now: number, into: Entry[]): void {
    while (this.head < this.items.length && this.items[this.head].deadline <= now) {
      into.push(this.items[this.head]);
      this.head++;
    }
    // Compact occasionally so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

export interface CoarseTimerOptions {
  tickMs?: number;
  now?: () => number;
}

export class CoarseTimer {
  private readonly queues = new Map<number, Fifo>();
  private interval: NodeJS.Timeout | null = null;
  private readonly tickMs: number;
  private readonly now: () => number;
  private live = 0;

  constructor(options: CoarseTimerOptions = {}) {
    this.tickMs = options.tickMs ?? 25;
    this.now = options.now ?? (() => performance.now());
  }

  /** Runs `callback` once, `delayMs` (rounded up to the next tick) from now, unless cancelled. */
  schedule(delayMs: number, callback: () => void): TimerHandle {
    const entry: Entry = {
      deadline: this.now() + delayMs,
      callback,
      cancel: () => {
        if (entry.callback !== null) {
          entry.callback = null; // release the closure now; the entry itself goes at its deadline
          this.live--;
        }
      },
    };
    let queue = this.queues.get(delayMs);
    if (queue === undefined) {
      queue = new Fifo();
      this.queues.set(delayMs, queue);
    }
    queue.push(entry);
    this.live++;
    this.start();
    return entry;
  }

  /** Number of scheduled, not yet fired or cancelled callbacks. */
  get pending(): number {
    return this.live;
  }

  /** Fires everything that is due; called by the interval, public for tests with a fake clock. */
  sweep(): void {
    const now = this.now();
    const due: Entry[] = [];
    for (const [delay, queue] of this.queues) {
      queue.popDue(now, due);
      if (queue.size === 0) this.queues.delete(delay);
    }
    for (const entry of due) {
      const callback = entry.callback;
      if (callback === null) continue;
      entry.callback = null;
      this.live--;
      callback();
    }
    if (this.queues.size === 0) this.stop();
  }

  /** Stops the interval; scheduled callbacks never fire. */
  stop(): void {
    if (this.interval !== null) {
      clearInterval(this.interval);
      this.interval = null;
    }
  }

  private start(): void {
    if (this.interval !== null) return;
    this.interval = setInterval(() => this.sweep(), this.tickMs);
    // Sockets with pending exchanges keep the process alive; the timer alone must not.
    this.interval.unref();
  }
}
