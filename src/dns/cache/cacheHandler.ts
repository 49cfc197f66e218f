import type { Handler, Next, Query, Reply } from '../types';
import { shapeForClient } from '../wire/shape';
import type { ResponseCache } from './responseCache';

export interface CacheHandlerOptions {
  /**
   * Makes a hit fit the client (OPT presence, size limit with TC=1). Default: the forwarder's
   * `shapeForClient`, the same shaping a forwarded answer gets, so a hit and a miss look alike.
   */
  fit?: (reply: Buffer, query: Query) => Buffer;
}

/**
 * The cache link of the chain: answers hits; on a miss passes on and keeps the answer if it
 * is cacheable. It sits before `forward`, after the mesh table, so only upstream answers are
 * cached. A hit is answered synchronously (no promise on the hot path).
 */
export function createCacheHandler(cache: ResponseCache, options: CacheHandlerOptions = {}): Handler {
  const fit = options.fit ?? shapeForClient;
  return {
    name: 'cache',
    handle(query: Query, next: Next): Reply | Promise<Reply> {
      if (!cache.enabled) return next();
      const hit = cache.lookup(query);
      if (hit !== null) return fit(hit, query);
      const store = (reply: Reply): Reply => {
        if (reply !== null) cache.store(query, reply);
        return reply;
      };
      const result = next();
      return result instanceof Promise ? result.then(store) : store(result);
    },
  };
}
