import { watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';

/** What fs.watch reports: `rename` = an entry appeared, vanished or was moved; `change` = written or chmod'ed. */
export type DirEvent = 'rename' | 'change';

/**
 * Called for an event that concerns it. `name` is the entry's name in the directory; `self` is
 * true when the event may be about the watched directory itself (Linux then reports the
 * directory's own basename), e.g. when it was removed.
 */
export type DirListener = (event: DirEvent, name: string, self: boolean) => boolean;

/** The watcher's own work, counted (the tests and `npm run bench` read it; never timed). */
export interface WatchCounters {
  /** Events delivered by the kernel for any watched directory. */
  events: number;
  /** Of these, events for names nobody reads: dropped on the name alone, before any work. */
  dropped: number;
  /** lstat calls made to classify an event's entry (an unknown name that appeared). */
  probes: number;
  /** Re-plans: a target's chain of directories and links resolved again after a relevant event. */
  replans: number;
}

interface Watched {
  watcher: FSWatcher;
  /** Listeners for one name each: the common case, found by one Map lookup. */
  byName: Map<string, Set<DirListener>>;
  /** Listeners for every name (a recursive target's directories), which filter by name themselves. */
  any: Set<DirListener>;
}

/**
 * One fs.watch per directory, shared by every target that needs it (docs/ARCHITECTURE.md §1).
 * A directory is watched rather than the file itself so that a file that appears later, or is
 * replaced by a rename, is seen; the price is that the kernel reports every entry of the
 * directory, so an event is matched against the names asked for before anything else happens.
 */
export class DirWatches {
  private readonly dirs = new Map<string, Watched>();

  constructor(
    readonly counters: WatchCounters,
    private readonly onError: (err: unknown, dir: string) => void,
  ) {}

  /**
   * Listen for events on `name` in `dir` (or on every name when `name` is undefined). Throws if
   * `dir` cannot be watched. `dir` may be a file: its own events come named by its basename.
   */
  subscribe(dir: string, name: string | undefined, listener: DirListener): () => void {
    const w = this.open(dir);
    if (name === undefined) w.any.add(listener);
    else {
      let set = w.byName.get(name);
      if (set === undefined) w.byName.set(name, (set = new Set()));
      set.add(listener);
    }
    return () => {
      if (name === undefined) w.any.delete(listener);
      else {
        const set = w.byName.get(name);
        set?.delete(listener);
        if (set !== undefined && set.size === 0) w.byName.delete(name);
      }
      if (w.any.size === 0 && w.byName.size === 0) this.closeDir(dir, w);
    };
  }

  get size(): number {
    return this.dirs.size;
  }

  closeAll(): void {
    for (const [dir, w] of this.dirs) this.closeDir(dir, w);
  }

  private open(dir: string): Watched {
    const existing = this.dirs.get(dir);
    if (existing !== undefined) return existing;
    const own = basename(dir);
    const w: Watched = { watcher: undefined as unknown as FSWatcher, byName: new Map(), any: new Set() };
    w.watcher = watch(dir, { persistent: true }, (event, filename) => {
      this.counters.events++;
      const name = filename === null ? '' : filename.toString();
      const self = name === own || name === '';
      const named = w.byName.get(name);
      if (named === undefined && w.any.size === 0 && !self) {
        this.counters.dropped++;
        return;
      }
      const kind: DirEvent = event === 'change' ? 'change' : 'rename';
      // The directory itself removed or moved: this watch is dead; the next subscribe opens a new
      // one (the listeners re-plan on this event).
      if (self && kind === 'rename') this.closeDir(dir, w);
      let relevant = false;
      if (self) {
        for (const set of [...w.byName.values()]) for (const l of [...set]) relevant = l(kind, name, true) || relevant;
      } else if (named !== undefined) for (const l of [...named]) relevant = l(kind, name, false) || relevant;
      for (const l of [...w.any]) relevant = l(kind, name, self) || relevant;
      if (!relevant) this.counters.dropped++;
    });
    w.watcher.on('error', (err) => this.onError(err, dir));
    this.dirs.set(dir, w);
    return w;
  }

  private closeDir(dir: string, w: Watched): void {
    if (this.dirs.get(dir) !== w) return;
    this.dirs.delete(dir);
    w.watcher.close();
  }
}
