import type { Problem } from '../problem';

/** What one (re)load changed, for the one log line per reload, metrics and `status`. */
export interface ReloadSummary {
  names: number;
  added: number;
  removed: number;
  changed: number;
  problems: Problem[];
  ms: number;
}

/**
 * The reloads so far, as metrics and `status` report them. The re-check right after the watcher
 * starts counts only if it found a change (`silent` otherwise), but the first reload is always
 * the last one until another comes.
 */
export class ReloadHistory {
  total = 0;
  withErrors = 0;
  lastErrorFile: string | undefined;
  last: { at: number; summary: ReloadSummary } | undefined;

  /** A reload read its inputs with these problems (counted before its own follow-ups add any). */
  count(problems: readonly Problem[], silent: boolean): void {
    if (silent) return;
    this.total++;
    const firstError = problems.find((p) => p.severity !== 'warning');
    if (firstError !== undefined) this.withErrors++;
    this.lastErrorFile = firstError?.file;
  }

  /** A reload finished with `summary`. */
  remember(summary: ReloadSummary, silent: boolean): void {
    if (!silent || this.last === undefined) this.last = { at: Date.now(), summary };
  }
}
