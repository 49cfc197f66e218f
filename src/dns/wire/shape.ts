/**
 * Fitting a reply from elsewhere (an upstream, the cache) to the client that asked: its ID, its
 * RD and CD bits, an OPT only if the client sent EDNS, and no larger than the client takes.
 */
import { findOpt, walkRecords } from './sections';
import { appendRecord, buildOpt, stripOpt } from './message';
import { answerFlagsFor } from './reply';
import { fitToClient, type ReplyClient } from './truncate';

export type { ReplyClient } from './truncate';

/**
 * Makes a reply fit the client that asked: its ID, its RD and CD bits (the reply may have been
 * made for another query: a cache hit), an OPT only if the client sent EDNS (a client without
 * EDNS must never see one; an EDNS client always gets one), and no larger than
 * `client.maxResponseSize` — otherwise the whole records that fit, TC=1 (`fitToClient`).
 * Everything else passes through byte for byte.
 *
 * Takes ownership of `reply`: it may be modified in place.
 */
export function shapeForClient(reply: Buffer, client: ReplyClient): Buffer {
  let out = reply;
  out.writeUInt16BE(client.id, 0);
  out.writeUInt16BE(answerFlagsFor(out.readUInt16BE(2), client.flags), 2);
  if (client.edns === null) {
    out = stripOpt(out);
  } else if (findOpt(out) === null) {
    // Only replies cached from a non-EDNS client lack an OPT; give the EDNS client one.
    const end = walkRecords(out, () => undefined);
    if (end >= 0) out = appendRecord(out, end, buildOpt(client.edns.dnssecOk));
  }
  return fitToClient(out, client);
}
