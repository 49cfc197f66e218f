/** EDNS(0) information from a query's OPT record. */
export interface Edns {
  udpPayloadSize: number;
  version: number;
  dnssecOk: boolean;
}

/** A parsed, validated client query: exactly one question (docs/ARCHITECTURE.md §3 guard rules already applied). */
export interface Query {
  /** The client's bytes, untouched. */
  packet: Buffer;
  id: number;
  /** Header flags word (bytes 2–3). */
  flags: number;
  /** Question name exactly as the client spelled it (letter case kept), no trailing dot; "" is the root. */
  name: string;
  /** Lower-cased `name`: the lookup key. */
  key: string;
  type: number;
  class: number;
  /** Offset just past the question section in `packet`. */
  questionEnd: number;
  edns: Edns | null;
  transport: 'udp' | 'tcp';
  /** The largest response the client accepts: 512 or its EDNS size on UDP, 65535 on TCP. */
  maxResponseSize: number;
}

/** A response, or `null` to send nothing (dropped). */
export type Reply = Buffer | null;

/**
 * Passes the query on to the rest of the chain. Synchronous when every handler after the caller
 * answers synchronously (a local answer behind the guard), so the hot path makes no promise.
 */
export type Next = () => Reply | Promise<Reply>;

/** One link of the handler chain: answers, or passes on by calling `next`. */
export interface Handler {
  readonly name: string;
  handle(query: Query, next: Next): Reply | Promise<Reply>;
}
