import { lstatSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DirWatches, type DirEvent, type WatchCounters } from './dirWatches';
import { planChain, planTree, type TreeRules } from './plan';

/** What kind of input a path is: inputs trigger a table reload, resolv.conf its own handling. */
export type WatchKind = 'inputs' | 'resolvConf';

export interface WatchTarget {
  path: string;
  kind: WatchKind;
  /** Directories are watched recursively (registry dirs); files alone. */
  recursive: boolean;
  /** For a recursive target: which entries are read and walked (default: every name not starting with "."). */
  rules?: TreeRules;
}

export interface InputWatcherOptions {
  /** Quiet time after the last event before reacting; default 100 ms. */
  debounceMs?: number;
  /** Called once per burst of changes with the kinds that changed. */
  onChange(kinds: ReadonlySet<WatchKind>, paths: readonly string[]): void;
  onError?(err: unknown): void;
}

const VISIBLE: TreeRules = { reads: (n) => !n.startsWith('.'), enters: (n) => !n.startsWith('.') };

/**
 * Watches every input (docs/ARCHITECTURE.md §1: files and directories that may be missing at
 * start, appear later, change, be replaced by an editor's atomic save or a Kubernetes `..data`
 * swap, or be removed) and reports bursts of changes after a quiet period.
 *
 * Each target is resolved into the names that decide what it reads (plan.ts): the entry itself,
 * each symbolic link on the way, the first missing component; a recursive target adds its
 * directories. Only the directories holding these names are watched, and an event for any other
 * name is dropped on a Map lookup: no stat, no timer (DirWatches). A relevant event marks its
 * target for a re-plan, done once per burst just before the change is reported.
 */
export class InputWatcher {
  readonly counters: WatchCounters = { events: 0, dropped: 0, probes: 0, replans: 0 };
  private readonly dirs: DirWatches;
  private targets: TargetWatch[] = [];
  private pendingKinds = new Set<WatchKind>();
  private pendingPaths = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly debounceMs: number;

  constructor(private readonly options: InputWatcherOptions) {
    this.debounceMs = options.debounceMs ?? 100;
    this.dirs = new DirWatches(this.counters, (err) => this.options.onError?.(err));
  }

  /** Targets as a comparable key, so the service re-watches only when the set changed. */
  static key(targets: readonly WatchTarget[]): string {
    return targets
      .map((t) => `${t.kind}:${t.recursive ? 'r' : 'f'}:${resolve(t.path)}`)
      .sort()
      .join('\n');
  }

  get watching(): readonly WatchTarget[] {
    return this.targets.map((t) => t.target);
  }

  /** Directories watched right now (one inotify watch each). */
  get watchedDirs(): number {
    return this.dirs.size;
  }

  async setTargets(targets: readonly WatchTarget[]): Promise<void> {
    if (InputWatcher.key(targets) === InputWatcher.key(this.watching) && this.targets.length > 0) return;
    this.closeTargets();
    this.targets = targets.map((t) => new TargetWatch({ ...t, path: resolve(t.path) }, this.dirs, this.counters, (path) => this.record(t.kind, path)));
    for (const t of this.targets) this.plan(t);
  }

  private plan(t: TargetWatch): void {
    try {
      t.plan();
    } catch (err) {
      // A directory vanished between resolving and watching it: look again after a quiet period.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') this.options.onError?.(err);
      t.dirty = true;
      this.arm();
    }
  }

  private record(kind: WatchKind, path: string): void {
    this.pendingKinds.add(kind);
    this.pendingPaths.add(path);
    this.arm();
  }

  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.debounceMs);
  }

  private flush(): void {
    this.timer = undefined;
    // Watch what the burst brought into existence before the change is acted on, so that
    // nothing written after the reload's reads can go unseen.
    for (const t of this.targets) if (t.dirty) this.plan(t);
    const kinds = this.pendingKinds;
    const paths = [...this.pendingPaths];
    this.pendingKinds = new Set();
    this.pendingPaths = new Set();
    if (kinds.size > 0) this.options.onChange(kinds, paths);
  }

  private closeTargets(): void {
    for (const t of this.targets) t.close();
    this.targets = [];
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.closeTargets();
    this.dirs.closeAll();
  }
}

/** One target's subscriptions, replaced as a whole on each plan. */
class TargetWatch {
  dirty = false;
  private unsubscribe: Array<() => void> = [];
  /** Directories of a recursive target's tree (an event naming one of them is relevant). */
  private treeDirs = new Set<string>();
  private readonly rules: TreeRules;

  constructor(
    readonly target: WatchTarget,
    private readonly dirs: DirWatches,
    private readonly counters: WatchCounters,
    private readonly hit: (path: string) => void,
  ) {
    this.rules = target.rules ?? VISIBLE;
  }

  plan(): void {
    this.counters.replans++;
    this.dirty = false;
    const chain = planChain(this.target.path);
    const names = [...chain.names];
    const tree = this.target.recursive && chain.kind === 'dir' ? planTree(chain.real, this.rules) : undefined;
    if (tree !== undefined) names.push(...tree.names);
    const next: Array<() => void> = [];
    try {
      const seen = new Set<string>();
      for (const { dir, name } of names) {
        const key = `${dir}\0${name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        next.push(this.dirs.subscribe(dir, name, (event, n, self) => this.onName(dir, n, self)));
      }
      for (const dir of tree?.dirs ?? []) next.push(this.dirs.subscribe(dir, undefined, (event, n, self) => this.onTreeEntry(dir, event, n, self)));
      // The file itself too: a file bind-mounted over the path (Docker's resolv.conf, a test's
      // private namespace) is written in place, and that write is reported to the directory the
      // mount came from, not to this one. Its own watch sees only its own writes: no sibling cost.
      if (chain.kind === 'file') next.push(this.dirs.subscribe(chain.real, basename(chain.real), (event, n) => this.onName(dirname(chain.real), n, true)));
    } finally {
      // Subscribe first, then let go of the old ones: a directory in both plans keeps its watch.
      for (const u of this.unsubscribe) u();
      this.unsubscribe = next;
    }
    this.treeDirs = new Set(tree?.dirs ?? []);
  }

  private onName(dir: string, name: string, _self: boolean): boolean {
    this.dirty = true;
    this.hit(join(dir, name));
    return true;
  }

  /** An entry of a recursive target's directory: relevant when the loader would read or walk it. */
  private onTreeEntry(dir: string, event: DirEvent, name: string, self: boolean): boolean {
    const full = join(dir, name);
    if (self || name.startsWith('..') || this.treeDirs.has(full)) {
      // The directory itself, a Kubernetes atomic-writer swap (`..data`, `..2025_…`) or a
      // subdirectory: what the tree holds may have changed.
      this.dirty = true;
      this.hit(full);
      return true;
    }
    if (this.rules.reads(name)) {
      // A renamed-in entry may be a link or a directory: look again at the end of the burst.
      if (event === 'rename') this.dirty = true;
      this.hit(full);
      return true;
    }
    // A name never read: only a directory appearing under it matters (a write never makes one).
    if (event !== 'rename' || !this.rules.enters(name)) return false;
    this.counters.probes++;
    try {
      const info = lstatSync(full);
      if (!info.isDirectory() && !info.isSymbolicLink()) return false;
    } catch {
      return false; // gone again (or removed: a removed directory was in treeDirs)
    }
    this.dirty = true;
    this.hit(full);
    return true;
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }
}
