import { formatHostPort } from '../config/hostPort';
import type { ListenAddress, Upstream } from '../config/types';
import type { CacheStats } from '../dns/cache';
import type { ForwardStats } from '../dns/forward';
import type { Snapshot } from '../inputs';
import { formatProblem } from '../problem';
import type { CaptureState } from './resolvConfCapture';
import type { ReloadHistory } from './reloadHistory';
import { VERSION } from '../version';

/** Table sources by kind (registry records, hosts-file entries) in a snapshot. */
export function tableSources(snapshot: Snapshot | undefined): Record<string, number> {
  const out: Record<string, number> = { Service: 0, ServiceEntry: 0, hosts: 0 };
  for (const slot of snapshot?.registry.values() ?? []) {
    for (const r of slot.value?.records ?? []) out[r.kind]++;
  }
  for (const slot of snapshot?.hosts.values() ?? []) out.hosts += slot.value?.length ?? 0;
  return out;
}

/** What `status` reports on: the running service's parts, read at the time of the call. */
export interface StatusParts {
  startedAt: number;
  listen: readonly ListenAddress[];
  udpEngine: 'native' | 'node' | undefined;
  fastPathTemplates: number;
  /** Replies the native engine answers without entering JS (dns/udp/answerStore.ts); undefined without it. */
  answerStoreReplies: number | undefined;
  capture: CaptureState;
  snapshot: Snapshot | undefined;
  upstreams: readonly Upstream[];
  loopingUpstreams: string[];
  tableNames: number;
  reloads: ReloadHistory;
  cache: CacheStats | undefined;
  forward: ForwardStats | undefined;
}

/** The summary `meshdns status` prints (served as JSON on /status). */
export function statusReport(parts: StatusParts): Record<string, unknown> {
  const fwd = parts.forward;
  const cache = parts.cache;
  const lookups = cache === undefined ? 0 : cache.hits + cache.misses;
  // A try fails by error/SERVFAIL/REFUSED (failures) or by silence (timeouts): both count.
  const failed = (u: { failures: number; timeouts: number }): number => u.failures + u.timeouts;
  const failing = (fwd?.upstreams ?? []).filter((u) => failed(u) > 0).sort((a, b) => failed(b) - failed(a))[0];
  const last = parts.reloads.last;
  return {
    version: VERSION,
    pid: process.pid,
    uptimeSeconds: Math.round((Date.now() - parts.startedAt) / 1000),
    listen: parts.listen.map(formatHostPort),
    udpEngine: parts.udpEngine ?? null,
    fastPathTemplates: parts.fastPathTemplates,
    answerStoreReplies: parts.answerStoreReplies ?? null,
    resolvConf: { ...parts.capture, path: parts.snapshot?.settings.resolvConf.path },
    upstreams: parts.upstreams.map(formatHostPort),
    loopingUpstreams: parts.loopingUpstreams,
    table: { names: parts.tableNames, sources: tableSources(parts.snapshot) },
    lastReload:
      last === undefined
        ? null
        : {
            at: new Date(last.at).toISOString(),
            ms: Math.round(last.summary.ms * 10) / 10,
            added: last.summary.added,
            removed: last.summary.removed,
            changed: last.summary.changed,
            errors: last.summary.problems.filter((p) => p.severity !== 'warning').map((p) => formatProblem(p)),
          },
    reloads: { total: parts.reloads.total, withErrors: parts.reloads.withErrors },
    cache: cache === undefined ? null : { ...cache, hitRate: lookups === 0 ? 0 : cache.hits / lookups },
    forward: fwd === undefined ? null : { inFlight: fwd.inFlight, rejected: fwd.rejected, exhausted: fwd.exhausted, udpEngine: fwd.udpEngine, upstreams: fwd.upstreams },
    topFailingUpstream: failing === undefined ? null : { upstream: failing.upstream, failures: failed(failing), timeouts: failing.timeouts, requests: failing.requests },
  };
}
