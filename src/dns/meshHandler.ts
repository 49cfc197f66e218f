import type { NameTable } from '../nametable/types';
import type { Handler, Next, Query, Reply } from './types';
import { localAnswer, nodata, ptrAnswer, srvAnswer } from './wire';
import { RRClass, RRType } from './wire/constants';

/**
 * Answers names of the mesh table (docs/ARCHITECTURE.md §2–3): A/AAAA for every key form, PTR for table
 * addresses, SRV for named ports; class IN only. Everything else — other classes, other qtypes
 * even for known names (as Istio does), unknown names — goes on to the cache and forwarder.
 * The table is read through a getter so a reload swaps it without touching the chain.
 */
export function createMeshHandler(options: { table: () => NameTable | undefined; ttl: () => number }): Handler {
  return {
    name: 'meshTable',
    handle(query: Query, next: Next): Reply | Promise<Reply> {
      const table = options.table();
      const reply = table === undefined ? undefined : answerFromTable(table, query, options.ttl());
      return reply === undefined ? next() : reply;
    },
  };
}

/** Answers with several addresses so far, modulo a multiple of every small count. */
let turn = 0;
const ROTATION_PERIOD = 720720; // lcm(1..16): a name of up to 16 addresses rotates evenly

/**
 * The local answer for `query`, or undefined when the table does not answer it (other classes,
 * other qtypes even for known names — as Istio does —, unknown names): those go on to the cache
 * and the forwarder. Shared by the handler and the UDP fast path, so both answer alike.
 */
export function answerFromTable(table: NameTable, query: Query, ttl: number): Buffer | undefined {
  if (query.class !== RRClass.IN) return undefined;
  switch (query.type) {
    case RRType.A:
    case RRType.AAAA: {
      const found = table.lookup(query.key);
      if (found === undefined) return undefined;
      // Istio answers a search-suffix name without the asked family with an empty NOERROR,
      // not a dangling CNAME (its test row 9); a plain name gets NODATA the same way.
      const addresses = query.type === RRType.A ? found.info.v4 : found.info.v6;
      if (addresses.length === 0) return nodata(query);
      // Several addresses: each answer starts one further (round robin, issue 17).
      return addresses.length > 1 ? localAnswer(query, found, ttl, (turn = (turn + 1) % ROTATION_PERIOD)) : localAnswer(query, found, ttl);
    }
    case RRType.PTR: {
      const target = table.lookupPtr(query.key);
      return target === undefined ? undefined : ptrAnswer(query, target, ttl);
    }
    case RRType.SRV: {
      const srv = table.lookupSrv(query.key);
      return srv === undefined ? undefined : srvAnswer(query, srv, ttl);
    }
    default:
      return undefined;
  }
}
