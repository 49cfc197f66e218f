import type { Handler, Next, Query, Reply } from './types';
import { errorReply, fitToClient, parseQuery } from './wire';
import { Rcode } from './wire/constants';

/**
 * How one query ended, for metrics and debug logs. `answeredBy` is the name of the last handler
 * the query reached (the one that produced the reply), or `parse` when the packet never made it
 * to the chain (dropped, FORMERR, NOTIMP) — `query` is null then.
 */
export interface QueryOutcome {
  query: Query | null;
  transport: 'udp' | 'tcp';
  reply: Reply;
  answeredBy: string;
}

/** Called once per received packet; must be cheap (it runs on the hot path). */
export type QueryObserver = (outcome: QueryOutcome) => void;

/**
 * The query path (docs/ARCHITECTURE.md §3): parse → handlers in order → respond (fit to the client's limit).
 * Handlers answer synchronously where they can (local answers), so the hot path allocates no
 * promise; only a handler that calls `next` or waits on the network makes one.
 */
export function createPipeline(handlers: readonly Handler[], observe?: QueryObserver): (packet: Buffer, transport: 'udp' | 'tcp') => Reply | Promise<Reply> {
  const run = (query: Query, index: number, reached: { name: string }): Reply | Promise<Reply> => {
    const handler = handlers[index];
    if (handler === undefined) return errorReply(query, Rcode.SERVFAIL);
    reached.name = handler.name;
    const next: Next = () => run(query, index + 1, reached);
    return handler.handle(query, next);
  };

  const respond = (query: Query, transport: 'udp' | 'tcp', reply: Reply, answeredBy: string): Reply => {
    const out = reply === null ? null : fitToClient(reply, query);
    if (observe !== undefined) observe({ query, transport, reply: out, answeredBy });
    return out;
  };

  return (packet, transport) => {
    const parsed = parseQuery(packet, transport);
    if (!parsed.ok) {
      if (observe !== undefined) observe({ query: null, transport, reply: parsed.reply, answeredBy: 'parse' });
      return parsed.reply;
    }
    const query = parsed.query;
    const reached = { name: 'none' };
    let result: Reply | Promise<Reply>;
    try {
      result = run(query, 0, reached);
    } catch {
      // A handler bug must cost one answer, not the server: SERVFAIL and keep going.
      return respond(query, transport, errorReply(query, Rcode.SERVFAIL), 'error');
    }
    if (result instanceof Promise) {
      return result.then(
        (reply) => respond(query, transport, reply, reached.name),
        () => respond(query, transport, errorReply(query, Rcode.SERVFAIL), 'error'),
      );
    }
    return respond(query, transport, result, reached.name);
  };
}
