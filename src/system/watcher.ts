import { existsSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/** What kind of input a path is: inputs trigger a table reload, resolv.conf its own handling. */
export type WatchKind = 'inputs' | 'resolvConf';

export interface WatchTarget {
  path: string;
  kind: WatchKind;
  /** Directories are watched recursively (registry dirs); files alone. */
  recursive: boolean;
}

export interface InputWatcherOptions {
  /** Quiet time after the last event before reacting; default 100 ms. */
  debounceMs?: number;
  /** Called once per burst of changes with the kinds that changed. */
  onChange(kinds: ReadonlySet<WatchKind>, paths: readonly string[]): void;
  onError?(err: unknown): void;
}

function isWithin(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/** The nearest existing directory at or above `path`: watching it sees `path` appear. */
function nearestExistingDir(path: string): string {
  let dir = path;
  for (;;) {
    try {
      if (statSync(dir).isDirectory()) return dir;
    } catch {
      /* not there (yet) */
    }
    const up = dirname(dir);
    if (up === dir) return dir;
    dir = up;
  }
}

function depthBetween(from: string, to: string): number {
  if (from === to) return 0;
  const rel = to.slice(from.length).split(sep).filter((p) => p !== '');
  return rel.length;
}

/**
 * Watches every input (docs/ARCHITECTURE.md §1: files and directories that may be missing at start, appear
 * later, change, be replaced by an editor's atomic save, or be removed) and reports bursts of
 * changes after a quiet period. Each target is watched from its nearest existing ancestor with
 * everything off the path to it ignored, so a registry directory created after start is seen
 * without watching the whole parent tree.
 */
export class InputWatcher {
  private watchers: FSWatcher[] = [];
  private targets: WatchTarget[] = [];
  private pendingKinds = new Set<WatchKind>();
  private pendingPaths = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly debounceMs: number;

  constructor(private readonly options: InputWatcherOptions) {
    this.debounceMs = options.debounceMs ?? 100;
  }

  /** Targets as a comparable key, so the service re-watches only when the set changed. */
  static key(targets: readonly WatchTarget[]): string {
    return targets
      .map((t) => `${t.kind}:${t.recursive ? 'r' : 'f'}:${resolve(t.path)}`)
      .sort()
      .join('\n');
  }

  get watching(): readonly WatchTarget[] {
    return this.targets;
  }

  async setTargets(targets: readonly WatchTarget[]): Promise<void> {
    if (InputWatcher.key(targets) === InputWatcher.key(this.targets) && this.watchers.length > 0) return;
    await this.closeWatchers();
    this.targets = targets.map((t) => ({ ...t, path: resolve(t.path) }));
    const ready: Array<Promise<void>> = [];
    for (const target of this.targets) {
      const root = existsSync(target.path) && statSync(target.path).isDirectory() ? target.path : nearestExistingDir(dirname(target.path));
      const baseDepth = depthBetween(root, target.path);
      const watcher = watch(root, {
        ignoreInitial: true,
        persistent: true,
        atomic: true,
        followSymlinks: true,
        // Down to the target, then (for directories) all the way in.
        depth: target.recursive ? baseDepth + 32 : baseDepth,
        ignored: (p: string) => {
          const abs = resolve(p);
          // Keep the chain from root to the target and everything inside a recursive target.
          if (isWithin(target.path, abs)) return false;
          if (target.recursive && isWithin(abs, target.path)) return false;
          return abs !== target.path;
        },
      });
      watcher.on('all', (_event, path) => this.record(target.kind, resolve(path), target));
      watcher.on('error', (err) => this.options.onError?.(err));
      ready.push(new Promise((r) => watcher.once('ready', () => r())));
      this.watchers.push(watcher);
    }
    await Promise.all(ready);
  }

  private record(kind: WatchKind, path: string, target: WatchTarget): void {
    // Events on ancestors (a directory created on the way to the target) matter only when they
    // may have brought the target into existence.
    if (!isWithin(path, target.path) && !isWithin(target.path, path)) return;
    this.pendingKinds.add(kind);
    this.pendingPaths.add(path);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.debounceMs);
  }

  private flush(): void {
    this.timer = undefined;
    const kinds = this.pendingKinds;
    const paths = [...this.pendingPaths];
    this.pendingKinds = new Set();
    this.pendingPaths = new Set();
    if (kinds.size > 0) this.options.onChange(kinds, paths);
  }

  private async closeWatchers(): Promise<void> {
    const closing = this.watchers.map((w) => w.close());
    this.watchers = [];
    await Promise.all(closing);
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.closeWatchers();
  }
}
