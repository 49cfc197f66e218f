import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Upstream } from '../../config/types';
import { formatHostPort } from '../../config/hostPort';
import type { QueryOutcome } from '../../dns/pipeline';
import type { UpstreamOutcome } from '../../dns/forward';

/** Where the gauges read their values at scrape time (nothing is pushed on the query path). */
export interface MetricsSource {
  tableNames(): number;
  /** Service records in use by kind (Service, ServiceEntry, hosts entries). */
  tableSources(): Record<string, number>;
  cache(): { hits: number; misses: number; entries: number; evictions: number } | undefined;
  reloads(): { total: number; errors: number; lastErrorFile: string | undefined; lastReloadSeconds: number | undefined };
  resolvConf(): { state: string; externalRewrites: number };
  /** Upstreams found forwarding back to meshdns (taken out of use). */
  loopingUpstreams(): string[];
  forwarder(): { ignoredReplies: number; rejected: number; exhausted: number; inFlight: number } | undefined;
  /** The istiod name-table source (src/istiod/); undefined when it is off. */
  istiod?(): { connected: boolean; pushes: number; nacks: number; reconnects: number; lastPushSeconds: number | undefined; tableNames: number } | undefined;
}

const QTYPES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };
const QTYPE_NAMES = [...Object.values(QTYPES), 'other'];
const OUTCOMES = ['local', 'cached', 'forwarded', 'nxdomain', 'servfail', 'formerr', 'refused', 'notimp', 'dropped'] as const;
type Outcome = (typeof OUTCOMES)[number];
const PROTOCOLS = ['udp', 'tcp'] as const;

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
 */
export class MeshDnsMetrics {
  readonly registry = new Registry();
  private readonly queryCounts = new Float64Array(QTYPE_NAMES.length * OUTCOMES.length * PROTOCOLS.length);
  private readonly upstreamRequests: Counter<'upstream'>;
  private readonly upstreamFailures: Counter<'upstream' | 'reason'>;
  private readonly upstreamDuration: Histogram<'upstream'>;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    const counts = this.queryCounts;
    new Counter({
      name: 'meshdns_dns_requests_total',
      help: 'DNS queries received, by query type, protocol and outcome (local, cached, forwarded, nxdomain, servfail, formerr, refused, notimp, dropped).',
      labelNames: ['type', 'protocol', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (let t = 0; t < QTYPE_NAMES.length; t++) {
          for (let o = 0; o < OUTCOMES.length; o++) {
            for (let p = 0; p < PROTOCOLS.length; p++) {
              const v = counts[(t * OUTCOMES.length + o) * PROTOCOLS.length + p];
              if (v > 0) this.inc({ type: QTYPE_NAMES[t], protocol: PROTOCOLS[p], outcome: OUTCOMES[o] }, v);
            }
          }
        }
      },
    });
    this.upstreamRequests = new Counter({ name: 'meshdns_dns_upstream_requests_total', help: 'Queries sent to each upstream server (every try).', labelNames: ['upstream'], registers });
    this.upstreamFailures = new Counter({
      name: 'meshdns_dns_upstream_failures_total',
      help: 'Tries that failed, by upstream and reason (timeout, servfail, refused, notimp, error).',
      labelNames: ['upstream', 'reason'],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'meshdns_dns_upstream_request_duration_seconds',
      help: 'Time from sending a query to an upstream until its answer, per upstream.',
      labelNames: ['upstream'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    const gauge = (name: string, help: string, read: () => number | undefined): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const v = read();
          if (v !== undefined) this.set(v);
        },
      });
    };
    gauge('meshdns_cache_hits_total', 'Forwarded answers served from the cache.', () => source.cache()?.hits ?? 0);
    gauge('meshdns_cache_misses_total', 'Cacheable queries not found in the cache.', () => source.cache()?.misses ?? 0);
    gauge('meshdns_cache_entries', 'Answers in the cache now.', () => source.cache()?.entries ?? 0);
    gauge('meshdns_cache_evictions_total', 'Answers evicted to stay within cache.maxEntries.', () => source.cache()?.evictions ?? 0);
    gauge('meshdns_table_names', 'Names in the mesh name table (every key form, wildcards included).', () => source.tableNames());
    new Gauge({
      name: 'meshdns_table_sources',
      help: 'Records the name table is built from, by kind (Service, ServiceEntry, hosts).',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const [kind, n] of Object.entries(source.tableSources())) this.set({ kind }, n);
      },
    });
    gauge('meshdns_reloads_total', 'Table (re)loads, the first one included.', () => source.reloads().total);
    gauge('meshdns_reload_errors_total', 'Reloads that found at least one broken input.', () => source.reloads().errors);
    gauge('meshdns_last_reload_timestamp_seconds', 'When the table was last (re)loaded.', () => source.reloads().lastReloadSeconds);
    new Gauge({
      name: 'meshdns_last_reload_error_info',
      help: 'The file of the last reload error (1 while the latest reload had errors).',
      labelNames: ['file'],
      registers,
      collect() {
        this.reset();
        const file = source.reloads().lastErrorFile;
        if (file !== undefined) this.set({ file }, 1);
      },
    });
    new Gauge({
      name: 'meshdns_resolvconf_state',
      help: 'resolv.conf state: 1 for the current one of captured, not-managed, restored, error.',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const { state } = source.resolvConf();
        for (const s of ['captured', 'not-managed', 'restored', 'error']) this.set({ state: s }, s === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'meshdns_dns_upstream_looping',
      help: 'Upstreams that forward queries back to meshdns (1 each): found by a probe, not used.',
      labelNames: ['upstream'],
      registers,
      collect() {
        this.reset();
        for (const upstream of source.loopingUpstreams()) this.set({ upstream }, 1);
      },
    });
    gauge('meshdns_dns_upstream_ignored_replies_total', 'UDP datagrams on upstream sockets ignored because source, ID or question did not match (late, stray or forged).', () => source.forwarder()?.ignoredReplies ?? 0);
    gauge('meshdns_dns_forward_rejected_total', 'Queries answered SERVFAIL at once because the in-flight forward bound was reached or no upstream is usable.', () => source.forwarder()?.rejected ?? 0);
    gauge('meshdns_dns_forward_exhausted_total', 'Queries answered SERVFAIL after every try with every upstream failed.', () => source.forwarder()?.exhausted ?? 0);
    gauge('meshdns_dns_forward_in_flight', 'Queries being forwarded now.', () => source.forwarder()?.inFlight ?? 0);
    gauge('meshdns_resolvconf_external_rewrites_total', 'Times another program rewrote resolv.conf while meshdns had it captured.', () => source.resolvConf().externalRewrites);
    const istiod = (): ReturnType<NonNullable<MetricsSource['istiod']>> => source.istiod?.();
    gauge('meshdns_istiod_connected', 'Whether the xDS stream to istiod is up (1) or not (0); absent when the istiod source is off.', () => {
      const s = istiod();
      return s === undefined ? undefined : s.connected ? 1 : 0;
    });
    gauge('meshdns_istiod_pushes_total', 'Name tables pushed by istiod and accepted (ACKed).', () => istiod()?.pushes);
    gauge('meshdns_istiod_nacks_total', 'Name tables pushed by istiod and rejected (NACKed); the last good one stayed in use.', () => istiod()?.nacks);
    gauge('meshdns_istiod_reconnects_total', 'Reconnects to istiod after the stream ended or failed.', () => istiod()?.reconnects);
    gauge('meshdns_istiod_last_push_timestamp_seconds', 'When istiod last pushed a name table that was accepted.', () => istiod()?.lastPushSeconds);
    gauge('meshdns_istiod_table_names', 'Hosts in the name table from istiod.', () => istiod()?.tableNames);
    // prom-client samples event-loop delay with a 10 ms timer by default: 100 wake-ups a second
    // on an idle VM (0.65% of a core, measured). One sample a second still shows a stalled loop.
    collectDefaultMetrics({ register: this.registry, prefix: 'meshdns_', eventLoopMonitoringPrecision: 1000 });
  }

  /** Hot path: one typed-array increment. */
  observeQuery(o: QueryOutcome): void {
    this.countQuery(o.query === null ? undefined : o.query.type, outcomeIndex.get(classifyOutcome(o))!, o.transport);
  }

  /** Hot path of the UDP fast path: a local or cached answer over UDP, counted as `observeQuery` would. */
  countFastUdpAnswer(qtype: number, source: 'local' | 'cached'): void {
    this.countQuery(qtype, source === 'local' ? LOCAL_OUTCOME : CACHED_OUTCOME, 'udp');
  }

  /** The counter cell of (qtype, outcome, protocol); a qtype without its own label (or none) counts as other. */
  private countQuery(qtype: number | undefined, outcome: number, transport: 'udp' | 'tcp'): void {
    const type = qtype === undefined ? OTHER_QTYPE : (qtypeIndex.get(qtype) ?? OTHER_QTYPE);
    this.queryCounts[(type * OUTCOMES.length + outcome) * PROTOCOLS.length + (transport === 'tcp' ? 1 : 0)]++;
  }

  observeUpstream(upstream: Upstream, outcome: UpstreamOutcome, seconds: number): void {
    const label = formatHostPort(upstream);
    this.upstreamRequests.inc({ upstream: label });
    if (outcome === 'success') this.upstreamDuration.observe({ upstream: label }, seconds);
    else this.upstreamFailures.inc({ upstream: label, reason: outcome });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
