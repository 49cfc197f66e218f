import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full, compacting garbage collection that also gives memory back, when the heap holds more
 * than `thresholdBytes`; returns how it ran ('low-memory', 'gc') or false when it did not.
 *
 * Why: loading a large registry (YAML parsed into documents, then records, then the table)
 * leaves much garbage and grows V8's young generation to its maximum. V8 gives that back only
 * when its memory reducer notices the process is idle (and never under a steady load); the RSS
 * before and after is in bench/RESULTS.md. A collection before the listeners open costs a
 * moment once at start and keeps the service at its real size from the first query. Not used after reloads: a
 * full GC of a large heap pauses queries.
 */
export async function collectGarbageIfLarge(thresholdBytes: number): Promise<'low-memory' | 'gc' | false> {
  if (process.memoryUsage().heapUsed < thresholdBytes) return false;
  if (await lowMemoryCollection()) return 'low-memory';
  const gc = fullGarbageCollector();
  if (gc === undefined) return false;
  gc();
  return 'gc';
}

/**
 * Once the service has started and gone quiet, give back what the start grew and no longer
 * uses: the young generation (grown by module loading and the first load, then held at that size
 * by `holdYoungGeneration`) and free old-space and C-heap pages. V8's memory reducer does the
 * same only after a long idle spell (docs/DECISIONS.md, bench/RESULTS.md issue 19). For a small
 * heap only (a short pause); a large one was collected before serving (`collectGarbageIfLarge`).
 * Returns a cancel function.
 */
export function collectWhenSettled(delayMs: number, maxHeapBytes: number, afterwards: () => void): () => void {
  const timer = setTimeout(() => {
    if (process.memoryUsage().heapUsed >= maxHeapBytes) return;
    void lowMemoryCollection().then((ran) => {
      if (ran) afterwards();
    });
  }, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * Returns what a change to a large table leaves behind, once changes have stopped for `quietMs`:
 * istiod re-sends the whole table at every push, and each push's decode and rebuild garbage is
 * freed by V8 into pages it keeps (and glibc keeps the buffers), so a large table's RSS climbs
 * with each push and stays there under a steady query load, which never lets V8's own memory
 * reducer run (bench/RESULTS.md, issue 15). Only when the heap is at least `minHeapBytes` (a small
 * table's garbage is not worth a pause) and RSS grew by more than `growthBytes` since the last
 * time; one compacting collection (a pause of the order of the push's own conversion, measured in
 * docs/DECISIONS.md) then `afterwards` (malloc_trim).
 */
export class SettleAfterChanges {
  private timer: NodeJS.Timeout | undefined;
  private baselineRss = process.memoryUsage.rss();

  constructor(
    private readonly options: { quietMs: number; minHeapBytes: number; growthBytes: number; afterwards: (ms: number) => void },
  ) {}

  /** A change was applied: (re)start the quiet period. */
  changed(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.settle();
    }, this.options.quietMs);
    this.timer.unref();
  }

  /** The RSS the next settle compares against (after a collection made elsewhere). */
  rebase(): void {
    this.baselineRss = process.memoryUsage.rss();
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async settle(): Promise<void> {
    if (process.memoryUsage().heapUsed < this.options.minHeapBytes) return;
    if (process.memoryUsage.rss() - this.baselineRss < this.options.growthBytes) return;
    const started = performance.now();
    if (!(await lowMemoryCollection())) return;
    this.options.afterwards(performance.now() - started);
    this.rebase();
  }
}

/**
 * V8's low-memory collection (`Isolate::LowMemoryNotification`), the only one that also shrinks
 * the young generation and releases free old-space pages; `gc()`, whatever its options, does
 * neither. Node reaches it through the inspector's `HeapProfiler.collectGarbage`, on an
 * in-process session (no port is opened). False when Node was built without the inspector.
 */
async function lowMemoryCollection(): Promise<boolean> {
  let inspector: typeof import('node:inspector');
  try {
    inspector = require('node:inspector') as typeof import('node:inspector');
  } catch {
    return false;
  }
  const session = new inspector.Session();
  try {
    session.connect();
    return await new Promise<boolean>((resolve) => {
      session.post('HeapProfiler.collectGarbage', (error) => resolve(error === null));
    });
  } catch {
    return false;
  } finally {
    // Not from inside the session's callback: disconnecting there hangs the session.
    setImmediate(() => session.disconnect());
  }
}

/**
 * Keeps V8's young generation at its present size from now on (the flag is read each time V8
 * considers growing it). Why: V8 doubles the young generation whenever enough objects survive
 * scavenges, up to its maximum, and only gives it back at a collection made while allocation is slow
 * (or by its memory reducer, when the process is idle). A serving DNS proxy's per-query garbage
 * dies young, but the first answers for each name (reply templates, answer bytes) survive, and
 * a first pass over many names grew it for good (bench/RESULTS.md).
 */
export function holdYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * V8's own sizing again, for bursts of allocation that mostly die young: a reload re-parses files
 * and rebuilds part of the table. Held small, that garbage is promoted and collected by full
 * GCs, several times the GC time of a reload that may grow it (bench/RESULTS.md). It shrinks
 * again at a later collection made while allocation is slow.
 */
export function releaseYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=2');
}

let collector: (() => void) | null | undefined;

/** V8's `gc()`, reached by turning `--expose-gc` on and reading it from a fresh context. */
function fullGarbageCollector(): (() => void) | undefined {
  if (collector === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') {
      collector = exposed;
    } else {
      setFlagsFromString('--expose-gc');
      const fromContext: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
      collector = typeof fromContext === 'function' ? (fromContext as () => void) : null;
    }
  }
  return collector ?? undefined;
}
