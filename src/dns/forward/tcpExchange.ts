import * as net from 'net';
import type { Upstream } from '../../config/types';
import type { CoarseTimer } from './coarseTimer';
import { CANCELLED, ExchangeResult, TIMEOUT } from './exchange';
import { HEADER_LENGTH } from '../wire/constants';
import { isResponse, readId, sameQuestion } from '../wire/message';

/**
 * One query over one fresh TCP connection (RFC 1035 §4.2.2 / RFC 7766 framing: 2-byte length
 * prefix). `query` must already carry its ID. A framed message whose ID or question does not
 * match is ignored, as over UDP. Never rejects.
 */
export function tcpExchange(
  upstream: Upstream,
  query: Buffer,
  questionEnd: number,
  timeoutMs: number,
  timer: CoarseTimer,
  signal?: AbortSignal,
): Promise<ExchangeResult> {
  if (signal?.aborted) return Promise.resolve(CANCELLED);
  return new Promise((resolve) => {
    const socket = net.connect({ host: upstream.host, port: upstream.port, family: upstream.family });
    let buffered: Buffer = Buffer.alloc(0);
    let done = false;

    const finish = (result: ExchangeResult): void => {
      if (done) return;
      done = true;
      deadline.cancel();
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish(CANCELLED);
    const deadline = timer.schedule(timeoutMs, () => finish(TIMEOUT));
    signal?.addEventListener('abort', onAbort, { once: true });

    socket.setNoDelay(true);
    const framed = Buffer.allocUnsafe(2 + query.length);
    framed.writeUInt16BE(query.length, 0);
    query.copy(framed, 2);
    socket.write(framed);

    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) return;
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        if (
          message.length >= HEADER_LENGTH &&
          isResponse(message) &&
          readId(message) === readId(query) &&
          sameQuestion(query, questionEnd, message)
        ) {
          finish({ kind: 'reply', packet: message });
          return;
        }
      }
    });
    socket.on('error', (error) => finish({ kind: 'error', error }));
    socket.on('close', () => finish({ kind: 'error', error: new Error(`upstream ${upstream.host}:${upstream.port} closed the TCP connection without an answer`) }));
  });
}
