import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full, compacting garbage collection now, when the heap holds more than `thresholdBytes`;
 * returns whether one ran.
 *
 * Why: loading a large registry (100,000 ServiceEntries: 40 MB of YAML parsed into documents,
 * then records, then the table) leaves hundreds of MB of garbage, and V8 gives the pages back to
 * the OS only when its memory reducer notices the process is idle, ~30 s later: RSS was 470 MB
 * right after the load and ~300 MB once reduced (bench/RESULTS.md). A collection before the
 * listeners open costs a few hundred ms once at start and keeps the service at its real size
 * from the first query. Not used after reloads: a full GC of a large heap pauses queries.
 */
export function collectGarbageIfLarge(thresholdBytes: number): boolean {
  if (process.memoryUsage().heapUsed < thresholdBytes) return false;
  const gc = fullGarbageCollector();
  if (gc === undefined) return false;
  gc();
  return true;
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
