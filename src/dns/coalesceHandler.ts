import type { Handler, Next, Query, Reply } from './types';
import { withClientId } from './wire';

export interface CoalesceStats {
  inFlight: number;
  /** Queries that waited on an identical question already being forwarded. */
  joined: number;
}

/**
 * One upstream exchange per identical question in flight (a thundering herd of clients asking
 * the same uncached name costs one forward). It also breaks forwarding loops: when an upstream
 * sends our own forwarded query back to us, it joins the exchange it came from instead of being
 * forwarded again, so a loop ends at the timeout with SERVFAIL instead of amplifying.
 *
 * "Identical" is strict, so the shared reply fits every waiter byte for byte but for the ID:
 * same question bytes (letter case included), header flags, transport, EDNS and size limit.
 */
export function createCoalescingHandler(): Handler & { stats(): CoalesceStats } {
  const inFlight = new Map<string, Promise<Reply>>();
  let joined = 0;
  const keyOf = (q: Query): string =>
    `${q.transport}|${q.maxResponseSize}|${q.edns === null ? '-' : q.edns.dnssecOk ? 'do' : 'e'}|${q.flags & 0x0110}|${q.packet.toString('latin1', 12, q.questionEnd)}`;
  return {
    name: 'coalesce',
    handle(query: Query, next: Next): Promise<Reply> {
      const key = keyOf(query);
      const running = inFlight.get(key);
      if (running !== undefined) {
        joined++;
        return running.then((reply) => (reply === null ? null : withClientId(reply, query.id)));
      }
      const result = next();
      // Only the forwarder is after this handler, and it always waits on the network; a
      // synchronous reply (none today) has nothing to share.
      if (!(result instanceof Promise)) return Promise.resolve(result);
      const started = result;
      inFlight.set(key, started);
      const done = (): void => {
        if (inFlight.get(key) === started) inFlight.delete(key);
      };
      started.then(done, done);
      return started;
    },
    stats: () => ({ inFlight: inFlight.size, joined }),
  };
}
