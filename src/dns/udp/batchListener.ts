import type { Reply } from '../types';
import { respond, type ReplyWriter } from '../respond';
import { batchBuffers, startNativeSocket, type NativeAnswerStoreHandle, type UdpBatchBinding } from './binding';
import { socketAddressText } from './sockaddr';

/**
 * A UDP listener on the native batching socket: the addon drains up to BATCH datagrams per
 * wake-up and calls `onBatch` once; replies that are ready before it returns go out in one
 * sendmmsg, the rest (forwarded queries) are sent one by one when they settle.
 */

/** Handles one datagram; the packet is the listener's own copy (handlers may keep it). */
export type DatagramHandler = (packet: Buffer, remoteAddress: string) => Reply | Promise<Reply>;

/**
 * Answers a datagram straight from the receive slot into the send slot, without a copy or an
 * allocation, when it can (the hot query shape); returns the reply length, or 0 to pass the
 * datagram on to the general handler.
 */
export type FastAnswer = (data: Buffer, start: number, length: number, out: Buffer, outStart: number) => number;

export interface BatchListenerOptions {
  handle: DatagramHandler;
  fastAnswer?: FastAnswer;
  /** The fast path's native copy of its templates (answerStore.ts): answered before a batch reaches JS. */
  answerStore?: NativeAnswerStoreHandle;
  /** Decode the client's address for every datagram (only access control needs it). */
  wantsRemoteAddress: boolean;
  onHandlerError(err: unknown): void;
  /** Socket buffer size to ask for (the kernel caps it). */
  bufferBytes: number;
}

export interface BatchListener {
  readonly port: number;
  /** [batches, datagrams, failed sends] since the start. */
  stats(): { batches: number; datagrams: number; failedSends: number };
  close(): void;
}

/** Binds and starts a batching listener; throws the bind error (with its errno `code`). */
export function startBatchListener(binding: UdpBatchBinding, host: string, port: number, family: 4 | 6, options: BatchListenerOptions): BatchListener {
  const { SLOT, ADDR } = binding;
  const { inData, inMeta, addresses, outData, outLengths } = batchBuffers(binding);
  const { handle, fastAnswer, wantsRemoteAddress, onHandlerError } = options;
  let closed = false;

  /** The general path's writer, pointed at the datagram being handled (`slot`) before each call. */
  let slot = 0;
  let addressLength = 0;
  const writer: ReplyWriter = {
    send(reply) {
      // Replies that are ready before the batch returns go out together in one sendmmsg.
      if (reply.length <= SLOT) {
        reply.copy(outData, slot * SLOT);
        outLengths[slot] = reply.length;
      }
    },
    fail: onHandlerError,
    later() {
      // The address slot is reused by the next batch: keep a copy for the late reply.
      const sockaddr = Buffer.from(addresses.subarray(slot * ADDR, slot * ADDR + addressLength));
      return (reply) => {
        if (!closed) binding.sendTo(socket, reply, sockaddr);
      };
    },
  };

  const onBatch = (count: number): void => {
    for (let i = 0; i < count; i++) {
      const length = inMeta[i * 2];
      // -1: cut off (larger than a slot): no DNS query is; dropped as dgram would drop garbage.
      // -2: answered from the answer store; its reply is already in its send slot.
      if (length < 0) continue;
      const start = i * SLOT;
      if (fastAnswer !== undefined && !wantsRemoteAddress) {
        let written = 0;
        try {
          written = fastAnswer(inData, start, length, outData, start);
        } catch (err) {
          // A fast-path bug costs only the shortcut: the general path answers this datagram.
          onHandlerError(err);
        }
        if (written > 0) {
          outLengths[i] = written;
          continue;
        }
      }
      const packet = Buffer.from(inData.subarray(start, start + length));
      slot = i;
      addressLength = inMeta[i * 2 + 1];
      const remote = wantsRemoteAddress ? socketAddressText(addresses, i * ADDR, addressLength) : '';
      respond(handle, packet, remote, writer);
    }
  };

  const socket = startNativeSocket(binding, host, port, family, options.bufferBytes, onBatch);
  // The store answers only where the fast path would: not where every client must be checked.
  if (options.answerStore !== undefined && fastAnswer !== undefined && !wantsRemoteAddress) binding.answerFromStore(socket, options.answerStore);
  const boundPort = binding.localPort(socket);
  return {
    port: boundPort,
    stats() {
      const [batches, datagrams, failedSends] = closed ? [0, 0, 0] : binding.stats(socket);
      return { batches, datagrams, failedSends };
    },
    close() {
      if (closed) return;
      closed = true;
      binding.close(socket);
    },
  };
}
