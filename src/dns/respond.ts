import type { Reply } from './types';

/**
 * A transport's side of answering one query (as miekg/dns's ResponseWriter hides UDP and TCP
 * from a handler): the UDP engines and the TCP connection each give one, and `respond` does the
 * rest the same way for all of them.
 */
export interface ReplyWriter {
  /** The handler answered (a `null` reply — drop — never reaches it). */
  send(reply: Buffer): void;
  /** The handler threw or its promise rejected: nothing is sent, the server keeps serving. */
  fail(err: unknown): void;
  /**
   * The answer comes later: the sender to use then. For a transport that must keep something
   * now (the native engine reuses the client's address slot for the next batch).
   */
  later?(): (reply: Buffer) => void;
  /** The query is over, whatever happened (the TCP connection counts queries in flight). */
  finish?(): void;
}

/**
 * Runs `handle(packet, remote)` and delivers its result through `writer`: at once when the
 * handler answered synchronously (a local answer makes no promise), when it settles otherwise.
 */
export function respond(
  handle: (packet: Buffer, remote: string) => Reply | Promise<Reply>,
  packet: Buffer,
  remote: string,
  writer: ReplyWriter,
): void {
  let result: Reply | Promise<Reply>;
  try {
    result = handle(packet, remote);
  } catch (err) {
    writer.fail(err);
    writer.finish?.();
    return;
  }
  if (result instanceof Promise) {
    const send = writer.later?.() ?? writer.send;
    result.then(
      (reply) => {
        if (reply !== null) send(reply);
        writer.finish?.();
      },
      (err) => {
        writer.fail(err);
        writer.finish?.();
      },
    );
    return;
  }
  if (result !== null) writer.send(result);
  writer.finish?.();
}
