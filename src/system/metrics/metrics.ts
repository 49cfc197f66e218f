import type { PromMetrics } from './promMetrics';
import type { Upstream } from '../../config/types';
import { formatHostPort } from '../../config/hostPort';
import type { QueryOutcome } from '../../dns/pipeline';
import type { UpstreamOutcome } from '../../dns/forward';

/** Where the gauges read their values at scrape time (nothing is pushed on the query path). */
export interface MetricsSource {
  /** Brings answers counted outside JS (the native answer store) into the query counts; called before they are read. */
  settleQueryCounts?(): void;
  tableNames(): number;
  /** Service records in use by kind (Service, ServiceEntry, hosts entries). */
  tableSources(): Record<string, number>;
  cache(): { hits: number; misses: number; entries: number; evictions: number } | undefined;
  reloads(): { total: number; errors: number; lastErrorFile: string | undefined; lastReloadSeconds: number | undefined };
  resolvConf(): { state: string; externalRewrites: number };
  /** Upstreams found forwarding back to meshdns (taken out of use). */
  loopingUpstreams(): string[];
  forwarder(): { ignoredReplies: number; rejected: number; exhausted: number; inFlight: number } | undefined;
  /** The istiod name-table source (src/istiod/); undefined while its client was never loaded. */
  istiod?(): { enabled: boolean; connected: boolean; pushes: number; nacks: number; reconnects: number; lastPushSeconds: number | undefined; tableNames: number; certExpirySeconds?: number | undefined } | undefined;
}

const QTYPES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };
export const QTYPE_NAMES = [...Object.values(QTYPES), 'other'];
export const OUTCOMES = ['local', 'cached', 'forwarded', 'nxdomain', 'servfail', 'formerr', 'refused', 'notimp', 'dropped'] as const;
type Outcome = (typeof OUTCOMES)[number];
export const PROTOCOLS = ['udp', 'tcp'] as const;

const qtypeIndex = new Map<number, number>(Object.keys(QTYPES).map((k, i) => [Number(k), i]));
const OTHER_QTYPE = QTYPE_NAMES.length - 1;
const outcomeIndex = new Map<Outcome, number>(OUTCOMES.map((o, i) => [o, i]));
const LOCAL_OUTCOME = outcomeIndex.get('local')!;
const CACHED_OUTCOME = outcomeIndex.get('cached')!;

/** Outcome of a finished query: the rcode decides failures, the answering handler the rest. */
export function classifyOutcome(o: QueryOutcome): Outcome {
  if (o.reply === null) return 'dropped';
  const rcode = o.reply.length >= 4 ? o.reply[3] & 0x0f : 2;
  switch (rcode) {
    case 1:
      return 'formerr';
    case 2:
      return 'servfail';
    case 3:
      return 'nxdomain';
    case 4:
      return 'notimp';
    case 5:
      return 'refused';
    default:
      break;
  }
  if (o.answeredBy === 'meshTable') return 'local';
  if (o.answeredBy === 'cache') return 'cached';
  return 'forwarded';
}

/**
 * meshdns's Prometheus metrics (docs/ARCHITECTURE.md §5; Istio's names with a `meshdns_` prefix where one
 * exists). Query counting is a typed-array increment: labels are only materialized at scrape.
 * prom-client (and its default-metrics timer) is loaded by `enable()`, which the service calls only
 * when the endpoint is on: with `metrics: ""` nobody can read a metric, so none is registered.
 */
export class MeshDnsMetrics {
  private readonly queryCounts = new Float64Array(QTYPE_NAMES.length * OUTCOMES.length * PROTOCOLS.length);
  private prom: PromMetrics | undefined;

  constructor(private readonly source: MetricsSource) {}

  /** Load prom-client and register every metric (idempotent). */
  async enable(): Promise<void> {
    if (this.prom !== undefined) return;
    const { createPromMetrics } = await import('./promMetrics');
    this.prom ??= createPromMetrics(this.source, this.queryCounts);
  }

  get enabled(): boolean {
    return this.prom !== undefined;
  }

  /** Hot path: one typed-array increment. */
  observeQuery(o: QueryOutcome): void {
    this.countQuery(o.query === null ? undefined : o.query.type, outcomeIndex.get(classifyOutcome(o))!, o.transport);
  }

  /** Hot path of the UDP fast path: `count` local or cached answers over UDP, counted as `observeQuery` would. */
  countFastUdpAnswers(qtype: number, source: 'local' | 'cached', count: number): void {
    this.countQuery(qtype, source === 'local' ? LOCAL_OUTCOME : CACHED_OUTCOME, 'udp', count);
  }

  /** The counter cell of (qtype, outcome, protocol); a qtype without its own label (or none) counts as other. */
  private countQuery(qtype: number | undefined, outcome: number, transport: 'udp' | 'tcp', count = 1): void {
    const type = qtype === undefined ? OTHER_QTYPE : (qtypeIndex.get(qtype) ?? OTHER_QTYPE);
    this.queryCounts[(type * OUTCOMES.length + outcome) * PROTOCOLS.length + (transport === 'tcp' ? 1 : 0)] += count;
  }

  observeUpstream(upstream: Upstream, outcome: UpstreamOutcome, seconds: number): void {
    const prom = this.prom;
    if (prom === undefined) return;
    const label = formatHostPort(upstream);
    prom.upstreamRequests.inc({ upstream: label });
    if (outcome === 'success') prom.upstreamDuration.observe({ upstream: label }, seconds);
    else prom.upstreamFailures.inc({ upstream: label, reason: outcome });
  }

  /** The Prometheus text exposition (enables the metrics on first use). */
  async text(): Promise<string> {
    await this.enable();
    return this.prom!.registry.metrics();
  }

  get contentType(): string {
    return this.prom?.registry.contentType ?? 'text/plain; version=0.0.4; charset=utf-8';
  }
}
