import * as dgram from 'node:dgram';
import { getSystemErrorName } from 'node:util';
import type { Upstream } from '../../config/types';
import { literalLookup } from '../literalLookup';
import { batchBuffers, loadUdpBatch, startNativeSocket } from './binding';
import { encodeSockaddr, sameEndpoint } from './sockaddr';
import { isFromUpstream } from './address';

/**
 * One UDP client socket (the forwarder's upstream pool keeps them), bound to a kernel-chosen random port, on either
 * engine: Node's dgram, or the native batching socket (native/udp_batch.c), which hands the
 * replies of a wake-up to JS in one call and sends without a per-datagram request object.
 */
export interface ClientSocket {
  /** Sends `packet` to `upstream`; `onError` is called (maybe later) if it could not be sent. */
  send(packet: Buffer, upstream: Upstream, onError: (err: Error) => void): void;
  close(): Promise<void>;
}

/**
 * Receives every datagram: its bytes (the listener's own copy) and a test of whether it came
 * from a given upstream (address and port), valid during the call only.
 */
export type ReplyListener = (reply: Buffer, isFrom: (upstream: Upstream) => boolean) => void;

/** Called when the socket fails as a whole (dgram's 'error'): every exchange on it is lost. */
export type SocketFailure = (err: Error) => void;

export function openDgramClientSocket(family: 4 | 6, onReply: ReplyListener, onFailure: SocketFailure): ClientSocket {
  const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, lookup: literalLookup });
  let from: dgram.RemoteInfo | undefined;
  const isFrom = (upstream: Upstream): boolean => from !== undefined && isFromUpstream(from.address, from.port, upstream);
  socket.on('message', (msg, rinfo) => {
    from = rinfo;
    onReply(msg, isFrom);
    from = undefined;
  });
  socket.on('error', onFailure);
  // Port 0: the kernel picks a random ephemeral port (randomised on Linux).
  socket.bind({ port: 0, address: family === 6 ? '::' : '0.0.0.0', exclusive: true });
  return {
    send(packet, upstream, onError) {
      socket.send(packet, upstream.port, upstream.host, (err) => {
        if (err) onError(err);
      });
    },
    close() {
      return new Promise((resolve) => {
        try {
          socket.close(() => resolve());
        } catch {
          resolve(); // already closed by an error
        }
      });
    },
  };
}

const sockaddrs = new WeakMap<Upstream, Buffer | null>();

/**
 * An upstream's socket address for the native socket, remembered per Upstream object (they live
 * as long as the settings); null for a scoped IPv6 address, which only dgram can reach.
 */
export function cachedSockaddr(upstream: Upstream): Buffer | null {
  let known = sockaddrs.get(upstream);
  if (known === undefined) {
    known = encodeSockaddr(upstream.host, upstream.port, upstream.family);
    sockaddrs.set(upstream, known);
  }
  return known;
}

/** A native client socket, or undefined when the addon does not load (the pool then uses dgram). */
export function openNativeClientSocket(family: 4 | 6, onReply: ReplyListener): ClientSocket | undefined {
  const loaded = loadUdpBatch();
  if (!('binding' in loaded)) return undefined;
  const binding = loaded.binding;
  const buffers = batchBuffers(binding);
  let fromAt = 0;
  let fromLength = 0;
  const isFrom = (upstream: Upstream): boolean => {
    const expected = cachedSockaddr(upstream);
    return expected !== null && sameEndpoint(buffers.addresses, fromAt, fromLength, expected);
  };
  let closed = false;
  const handle = startNativeSocket(binding, family === 6 ? '::' : '0.0.0.0', 0, family, 1 << 20, (count) => {
    for (let i = 0; i < count && !closed; i++) {
      const length = buffers.inMeta[i * 2];
      if (length < 0) continue;
      const start = i * binding.SLOT;
      fromAt = i * binding.ADDR;
      fromLength = buffers.inMeta[i * 2 + 1];
      onReply(Buffer.from(buffers.inData.subarray(start, start + length)), isFrom);
    }
  });
  return {
    send(packet, upstream, onError) {
      const to = cachedSockaddr(upstream);
      if (closed || to === null) {
        onError(new Error(closed ? 'socket closed' : `cannot address ${upstream.host} natively`));
        return;
      }
      const errno = binding.sendTo(handle, packet, to);
      if (errno !== 0) {
        const code = getSystemErrorName(-errno);
        onError(Object.assign(new Error(`send ${code} ${upstream.host}:${upstream.port}`), { code }));
      }
    },
    close() {
      if (!closed) {
        closed = true;
        binding.close(handle);
      }
      return Promise.resolve();
    },
  };
}
