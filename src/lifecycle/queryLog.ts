import type { Logger } from 'pino';
import type { QueryOutcome } from '../dns/pipeline';

/**
 * What happens to each answered query: counted for metrics (unless metrics are off: nobody could
 * read the counters), and logged one line each while the log level is debug (SIGUSR2 toggles
 * it). The flags are fields, not questions to pino on every query.
 */
export class QueryLog {
  private debug = false;
  private counting = true;

  constructor(
    private readonly log: Logger,
    private readonly count: (o: QueryOutcome) => void,
  ) {}

  /** Metrics on or off (settings `metrics: ""`), and the debug flag as the logger says now. */
  configure(countQueries: boolean): void {
    this.counting = countQueries;
    this.debug = this.log.isLevelEnabled('debug');
  }

  /** Per-query debug lines are on: the fast path steps aside so that every query is logged. */
  get debugging(): boolean {
    return this.debug;
  }

  get countingQueries(): boolean {
    return this.counting;
  }

  readonly observe = (o: QueryOutcome): void => {
    if (this.counting) this.count(o);
    if (this.debug) {
      this.log.debug(
        { name: o.query?.name, type: o.query?.type, transport: o.transport, by: o.answeredBy, rcode: o.reply === null ? 'dropped' : o.reply[3] & 15 },
        'query',
      );
    }
  };

  /** SIGUSR2: switch between the configured level and debug (per-query lines). */
  toggleDebug(configured: string): void {
    this.log.level = this.log.level === 'debug' ? (configured === 'debug' ? 'info' : configured) : 'debug';
    this.debug = this.log.level === 'debug' || this.log.level === 'trace';
    this.log.info({ level: this.log.level }, 'log level changed (SIGUSR2)');
  }
}
