import type { Handler, Next, Query, Reply } from './types';
import { errorReply, fitToClient, parseQuery } from './wire';
import { Rcode } from './wire/constants';

/** Called for every query with how it ended, for metrics and debug logs (must be cheap). */
export type QueryObserver = (query: Query | null, reply: Reply, outcome: 'answered' | 'dropped' | 'rejected') => void;

/**
 * The query path (DESIGN §3): parse → handlers in order → respond (fit to the client's limit).
 * Handlers answer synchronously where they can (local answers), so the hot path allocates no
 * promise; only a handler that calls `next` or waits on the network makes one.
 */
export function createPipeline(handlers: readonly Handler[], observe?: QueryObserver): (packet: Buffer, transport: 'udp' | 'tcp') => Reply | Promise<Reply> {
  const run = (query: Query, index: number): Reply | Promise<Reply> => {
    const handler = handlers[index];
    if (handler === undefined) return errorReply(query, Rcode.SERVFAIL);
    const next: Next = () => Promise.resolve(run(query, index + 1));
    return handler.handle(query, next);
  };

  const respond = (query: Query, reply: Reply): Reply => {
    const out = reply === null ? null : fitToClient(reply, query);
    observe?.(query, out, out === null ? 'dropped' : 'answered');
    return out;
  };

  return (packet, transport) => {
    const parsed = parseQuery(packet, transport);
    if (!parsed.ok) {
      observe?.(null, parsed.reply, parsed.reply === null ? 'dropped' : 'rejected');
      return parsed.reply;
    }
    const query = parsed.query;
    let result: Reply | Promise<Reply>;
    try {
      result = run(query, 0);
    } catch {
      // A handler bug must cost one answer, not the server: SERVFAIL and keep going.
      return respond(query, errorReply(query, Rcode.SERVFAIL));
    }
    if (result instanceof Promise) {
      return result.then(
        (reply) => respond(query, reply),
        () => respond(query, errorReply(query, Rcode.SERVFAIL)),
      );
    }
    return respond(query, result);
  };
}
