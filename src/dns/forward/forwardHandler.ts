import type { Upstream } from '../../config/types';
import type { Handler, Query, Reply } from '../types';
import { formatHostPort } from '../../config/hostPort';
import { CoarseTimer } from './coarseTimer';
import type { ExchangeResult } from './exchange';
import { Rcode } from '../wire/constants';
import { isTruncated, readRcode } from '../wire/message';
import { RandomIdSource } from './randomId';
import { buildServfail, buildUpstreamQuery, shapeForClient } from './shape';
import { tcpExchange } from './tcpExchange';
import { UdpSocketPool, UdpSocketPoolOptions } from './udpSocketPool';

/**
 * The last link of the chain (docs/ARCHITECTURE.md §3): forwards a query to the upstream resolvers and
 * passes their answer through, changing only the ID, the OPT presence and truncation.
 *
 * Policy, like resolv.conf: servers in order, `attempts` rounds over the list; a timeout, a
 * network error or an answer with SERVFAIL / REFUSED / NOTIMP moves on to the next server
 * (as glibc does). Parallel mode asks every server at once per round; the first usable answer
 * wins and the others are cancelled. When every try failed, or more than `maxInFlight` queries
 * are already being forwarded, the client gets SERVFAIL: a temporary failure it may retry,
 * rather than REFUSED, which some stubs treat as a policy decision.
 */

/** How one try with one upstream ended, for metrics. */
export type UpstreamOutcome = 'success' | 'servfail' | 'refused' | 'notimp' | 'timeout' | 'error';

export interface UpstreamStats {
  /** `host:port` / `[v6]:port`. */
  upstream: string;
  requests: number;
  /** Tries that ended in an error or a SERVFAIL/REFUSED/NOTIMP answer. */
  failures: number;
  timeouts: number;
}

export interface ForwardStats {
  inFlight: number;
  /** Queries answered SERVFAIL at once because `maxInFlight` was reached or none are configured. */
  rejected: number;
  /** Queries answered SERVFAIL after every try failed. */
  exhausted: number;
  /** UDP datagrams ignored because source, ID or question did not match. */
  ignoredReplies: number;
  /** The UDP engine upstream queries go out on (the service's, see `udpEngine`). */
  udpEngine: 'native' | 'node';
  upstreams: UpstreamStats[];
}

export interface ForwardOptions {
  /** Called per query, so the list can change while running. */
  upstreams: () => readonly Upstream[];
  /** Per try; default 2000. */
  timeoutMs?: number;
  /** Rounds over the server list; default 2. */
  attempts?: number;
  /** Ask all servers at once; default false. */
  parallel?: boolean;
  /** Queries forwarded at the same time before SERVFAIL; default 1000. */
  maxInFlight?: number;
  /** Metrics hook: one call per finished try (cancelled parallel losers are not reported). */
  onUpstreamResult?: (upstream: Upstream, outcome: UpstreamOutcome, seconds: number) => void;
  /** Socket rotation tuning; defaults are fine. */
  udp?: Omit<UdpSocketPoolOptions, 'timer' | 'engine'>;
  /** The UDP engine the service chose for its listeners (default: native when the addon loads). */
  udpEngine?: 'native' | 'node';
}

export interface ForwardHandler extends Handler {
  close(): Promise<void>;
  stats(): ForwardStats;
}

interface Try {
  outcome: UpstreamOutcome | 'cancelled';
  reply: Buffer | null;
}

export function createForwardHandler(options: ForwardOptions): ForwardHandler {
  const timeoutMs = options.timeoutMs ?? 2000;
  const attempts = Math.max(1, options.attempts ?? 2);
  const parallel = options.parallel ?? false;
  const maxInFlight = options.maxInFlight ?? 1000;
  const timer = new CoarseTimer({ tickMs: timeoutMs < 500 ? 10 : 25 });
  const pool = new UdpSocketPool({ ...options.udp, engine: options.udpEngine, timer });
  const tcpIds = new RandomIdSource();
  const perUpstream = new Map<string, UpstreamStats>();
  let inFlight = 0;
  let rejected = 0;
  let exhausted = 0;
  let closed = false;

  // Upstream objects are stable between config reloads: remember their counters by identity
  // and fall back to the label, so a reloaded but equal upstream keeps its counts.
  const byObject = new WeakMap<Upstream, UpstreamStats>();
  const statsFor = (upstream: Upstream): UpstreamStats => {
    let s = byObject.get(upstream);
    if (s !== undefined) return s;
    const label = formatHostPort(upstream);
    s = perUpstream.get(label);
    if (s === undefined) {
      s = { upstream: label, requests: 0, failures: 0, timeouts: 0 };
      perUpstream.set(label, s);
    }
    byObject.set(upstream, s);
    return s;
  };

  const viaTcp = (upstream: Upstream, packet: Buffer, query: Query, signal?: AbortSignal): Promise<ExchangeResult> => {
    const withId = Buffer.from(packet);
    withId.writeUInt16BE(tcpIds.next(), 0);
    return tcpExchange(upstream, withId, query.questionEnd, timeoutMs, timer, signal);
  };

  /** One try with one server: UDP (TCP after TC=1), or TCP for TCP clients. */
  const ask = async (upstream: Upstream, packet: Buffer, query: Query, signal?: AbortSignal): Promise<Try> => {
    const started = performance.now();
    const stats = statsFor(upstream);
    stats.requests++;
    let result: ExchangeResult;
    if (query.transport === 'udp') {
      result = await pool.exchange(upstream, packet, query.questionEnd, timeoutMs, signal);
      if (result.kind === 'reply' && isTruncated(result.packet)) result = await viaTcp(upstream, packet, query, signal);
    } else {
      result = await viaTcp(upstream, packet, query, signal);
    }
    const tried = classify(result);
    if (tried.outcome === 'cancelled') return tried;
    if (tried.outcome === 'timeout') stats.timeouts++;
    else if (tried.outcome !== 'success') stats.failures++;
    options.onUpstreamResult?.(upstream, tried.outcome, (performance.now() - started) / 1000);
    return tried;
  };

  const inSequence = async (servers: readonly Upstream[], packet: Buffer, query: Query): Promise<Buffer | null> => {
    for (let round = 0; round < attempts; round++) {
      for (const upstream of servers) {
        if (closed) return null;
        const tried = await ask(upstream, packet, query);
        if (tried.outcome === 'success') return tried.reply;
      }
    }
    return null;
  };

  const allAtOnce = async (servers: readonly Upstream[], packet: Buffer, query: Query): Promise<Buffer | null> => {
    for (let round = 0; round < attempts && !closed; round++) {
      const controller = new AbortController();
      const winner = await new Promise<Buffer | null>((resolve) => {
        let remaining = servers.length;
        for (const upstream of servers) {
          void ask(upstream, packet, query, controller.signal).then((tried) => {
            if (tried.outcome === 'success') {
              resolve(tried.reply);
              controller.abort(); // the losers end as 'cancelled' and free their IDs
            } else if (--remaining === 0) {
              resolve(null);
            }
          });
        }
      });
      if (winner !== null) return winner;
    }
    return null;
  };

  return {
    name: 'forward',
    async handle(query: Query): Promise<Reply> {
      const servers = options.upstreams();
      if (closed || servers.length === 0 || inFlight >= maxInFlight) {
        rejected++;
        return buildServfail(query);
      }
      inFlight++;
      try {
        const packet = buildUpstreamQuery(query);
        const reply = parallel ? await allAtOnce(servers, packet, query) : await inSequence(servers, packet, query);
        if (reply === null) {
          exhausted++;
          return buildServfail(query);
        }
        return shapeForClient(reply, query);
      } finally {
        inFlight--;
      }
    },
    stats(): ForwardStats {
      return {
        inFlight,
        rejected,
        exhausted,
        ignoredReplies: pool.stats().ignoredReplies,
        udpEngine: pool.stats().engine,
        upstreams: [...perUpstream.values()].map((s) => ({ ...s })),
      };
    },
    async close(): Promise<void> {
      closed = true;
      // Pending UDP exchanges end now; a TCP exchange ends at its deadline (the timer unrefs itself).
      await pool.close();
    },
  };
}

function classify(result: ExchangeResult): Try {
  switch (result.kind) {
    case 'timeout':
    case 'error':
    case 'cancelled':
      return { outcome: result.kind, reply: null };
    case 'reply': {
      const rcode = readRcode(result.packet);
      if (rcode === Rcode.SERVFAIL) return { outcome: 'servfail', reply: null };
      if (rcode === Rcode.REFUSED) return { outcome: 'refused', reply: null };
      if (rcode === Rcode.NOTIMP) return { outcome: 'notimp', reply: null };
      return { outcome: 'success', reply: result.packet };
    }
  }
}
