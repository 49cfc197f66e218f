import type { Handler, Next, Query, Reply } from './types';
import { errorReply } from './wire';
import { Rcode } from './wire/constants';

const AXFR = 252;
const IXFR = 251;

/**
 * Requests meshdns will not pass on: zone transfers (a stub resolver has no zone to give, and
 * an upstream transfer through us would be an amplification path). Malformed packets never get
 * here: the parser already answered FORMERR/NOTIMP or dropped them.
 */
export function createGuardHandler(): Handler {
  return {
    name: 'guard',
    handle(query: Query, next: Next): Reply | Promise<Reply> {
      if (query.type === AXFR || query.type === IXFR) return errorReply(query, Rcode.REFUSED);
      return next();
    },
  };
}
