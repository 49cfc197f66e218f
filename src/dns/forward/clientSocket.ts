import * as dgram from 'node:dgram';
import { endianness } from 'node:os';
import { getSystemErrorName } from 'node:util';
import type { Upstream } from '../../config/types';
import { literalLookup } from '../literalLookup';
import { loadUdpBatch, type NativeSocketHandle, type UdpBatchBinding } from '../udp/binding';
import { ipv4Bytes, ipv6Bytes } from '../wire/addresses';
import { isFromUpstream } from './address';

/**
 * One UDP client socket of the upstream pool, bound to a kernel-chosen random port, on either
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

const AF_INET = 2;
const AF_INET6 = 10;
const littleEndian = endianness() === 'LE';

/**
 * `struct sockaddr_in`/`sockaddr_in6` bytes of an upstream, or null where the native socket
 * cannot address it (a scoped IPv6 address needs its interface index: dgram resolves that).
 */
export function upstreamSockaddr(upstream: Upstream): Buffer | null {
  if (upstream.host.includes('%')) return null;
  const address = upstream.family === 4 ? ipv4Bytes(upstream.host) : ipv6Bytes(upstream.host);
  if (address === null) return null;
  const out = Buffer.alloc(upstream.family === 4 ? 16 : 28);
  if (littleEndian) out.writeUInt16LE(upstream.family === 4 ? AF_INET : AF_INET6, 0);
  else out.writeUInt16BE(upstream.family === 4 ? AF_INET : AF_INET6, 0);
  out.writeUInt16BE(upstream.port, 2);
  address.copy(out, upstream.family === 4 ? 4 : 8);
  return out;
}

const sockaddrs = new WeakMap<Upstream, Buffer | null>();

/** `upstreamSockaddr`, remembered per Upstream object (they live as long as the settings). */
export function cachedSockaddr(upstream: Upstream): Buffer | null {
  let known = sockaddrs.get(upstream);
  if (known === undefined) {
    known = upstreamSockaddr(upstream);
    sockaddrs.set(upstream, known);
  }
  return known;
}

/** Family, port and address of a received sockaddr against an upstream's (padding, flow and scope ignored). */
function sameEndpoint(received: Buffer, at: number, length: number, expected: Buffer): boolean {
  if (length < expected.length) return false;
  const addressAt = expected.length === 16 ? 4 : 8;
  const addressEnd = expected.length === 16 ? 8 : 24;
  for (let i = 0; i < 4; i++) if (received[at + i] !== expected[i]) return false;
  for (let i = addressAt; i < addressEnd; i++) if (received[at + i] !== expected[i]) return false;
  return true;
}

/**
 * Receive buffers shared by every native client socket: a batch is handled to the end before
 * libuv polls the next socket, so one set serves them all (and costs RSS only where written).
 */
let shared: { inData: Buffer; inMeta: Int32Array; addresses: Buffer; outData: Buffer; outLengths: Int32Array } | undefined;

function sharedBuffers(binding: UdpBatchBinding): NonNullable<typeof shared> {
  shared ??= {
    inData: Buffer.allocUnsafeSlow(binding.BATCH * binding.SLOT),
    inMeta: new Int32Array(binding.BATCH * 2),
    addresses: Buffer.allocUnsafeSlow(binding.BATCH * binding.ADDR),
    // Client sockets answer nothing inside a batch; the addon still wants the slots.
    outData: Buffer.allocUnsafeSlow(binding.BATCH * binding.SLOT),
    outLengths: new Int32Array(binding.BATCH),
  };
  return shared;
}

/** A native client socket, or undefined when the addon does not load (the pool then uses dgram). */
export function openNativeClientSocket(family: 4 | 6, onReply: ReplyListener): ClientSocket | undefined {
  const loaded = loadUdpBatch();
  if (!('binding' in loaded)) return undefined;
  const binding = loaded.binding;
  const handle: NativeSocketHandle = binding.open(family === 6 ? '::' : '0.0.0.0', 0, family, 1 << 20);
  const buffers = sharedBuffers(binding);
  let fromAt = 0;
  let fromLength = 0;
  const isFrom = (upstream: Upstream): boolean => {
    const expected = cachedSockaddr(upstream);
    return expected !== null && sameEndpoint(buffers.addresses, fromAt, fromLength, expected);
  };
  let closed = false;
  binding.start(
    handle,
    (count) => {
      for (let i = 0; i < count && !closed; i++) {
        const length = buffers.inMeta[i * 2];
        if (length < 0) continue;
        const start = i * binding.SLOT;
        fromAt = i * binding.ADDR;
        fromLength = buffers.inMeta[i * 2 + 1];
        onReply(Buffer.from(buffers.inData.subarray(start, start + length)), isFrom);
      }
    },
    buffers.inData,
    buffers.inMeta,
    buffers.addresses,
    buffers.outData,
    buffers.outLengths,
  );
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
