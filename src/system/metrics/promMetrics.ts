import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { OUTCOMES, PROTOCOLS, QTYPE_NAMES, type MetricsSource } from './metrics';

/** The prom-client side of MeshDnsMetrics, loaded only when the metrics endpoint is on (metrics.ts). */
export interface PromMetrics {
  registry: Registry;
  upstreamRequests: Counter<'upstream'>;
  upstreamFailures: Counter<'upstream' | 'reason'>;
  upstreamDuration: Histogram<'upstream'>;
}

/** Registers every meshdns metric; query counts are read from `counts` at scrape time. */
export function createPromMetrics(source: MetricsSource, counts: Float64Array): PromMetrics {
  const registry = new Registry();
  const registers = [registry];
  new Counter({
    name: 'meshdns_dns_requests_total',
    help: 'DNS queries received, by query type, protocol and outcome (local, cached, forwarded, nxdomain, servfail, formerr, refused, notimp, dropped).',
    labelNames: ['type', 'protocol', 'outcome'],
    registers,
    collect() {
      source.settleQueryCounts?.();
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
  const upstreamRequests = new Counter({ name: 'meshdns_dns_upstream_requests_total', help: 'Queries sent to each upstream server (every try).', labelNames: ['upstream'], registers });
  const upstreamFailures = new Counter({
    name: 'meshdns_dns_upstream_failures_total',
    help: 'Tries that failed, by upstream and reason (timeout, servfail, refused, notimp, error).',
    labelNames: ['upstream', 'reason'],
    registers,
  });
  const upstreamDuration = new Histogram({
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
  gauge('meshdns_istiod_enabled', 'Whether the istiod source is on (1) or off (0) by istiod.enabled (auto: the credential files).', () => (istiod()?.enabled === true ? 1 : 0));
  gauge('meshdns_istiod_connected', 'Whether the xDS stream to istiod is up (1) or not (0, also while istiod is off); absent while istiod was never on.', () => {
    const s = istiod();
    return s === undefined ? undefined : s.connected ? 1 : 0;
  });
  gauge('meshdns_istiod_pushes_total', 'Name tables pushed by istiod and accepted (ACKed).', () => istiod()?.pushes);
  gauge('meshdns_istiod_nacks_total', 'Name tables pushed by istiod and rejected (NACKed); the last good one stayed in use.', () => istiod()?.nacks);
  gauge('meshdns_istiod_reconnects_total', 'Reconnects to istiod after the stream ended or failed.', () => istiod()?.reconnects);
  gauge('meshdns_istiod_last_push_timestamp_seconds', 'When istiod last pushed a name table that was accepted.', () => istiod()?.lastPushSeconds);
  gauge('meshdns_istiod_table_names', 'Hosts in the name table from istiod.', () => istiod()?.tableNames);
  gauge('meshdns_istiod_cert_expiry_timestamp_seconds', "When the workload certificate from istiod's CA expires; absent while there is none.", () => istiod()?.certExpirySeconds);
  // prom-client samples event-loop delay with a 10 ms timer by default, waking an idle VM a
  // hundred times a second (docs/DECISIONS.md). One sample a second still shows a stalled loop.
  collectDefaultMetrics({ register: registry, prefix: 'meshdns_', eventLoopMonitoringPrecision: 1000 });
return { registry, upstreamRequests, upstreamFailures, upstreamDuration };
}
