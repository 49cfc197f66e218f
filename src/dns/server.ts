import dgram from 'node:dgram';
import net from 'node:net';
import type { ListenAddress } from '../config/types';
import { formatHostPort } from '../config/hostPort';
import type { Reply } from './types';
import { literalLookup } from './literalLookup';
import { respond, type ReplyWriter } from './respond';
import { loadUdpBatch, type NativeAnswerStoreHandle } from './udp/binding';
import { chooseUdpEngine, parseUdpEngineChoice, type UdpEngineChoice } from './udp/engine';

export { chooseUdpEngine, parseUdpEngineChoice, type UdpEngineChoice };
// The addon that carries the native UDP engine also returns freed C-heap pages (service start).
export { trimNativeHeap } from './udp/binding';
import { startBatchListener, type FastAnswer } from './udp/batchListener';

/** What the sockets hand every received message to. */
export type PacketHandler = (packet: Buffer, transport: 'udp' | 'tcp', remoteAddress: string) => Reply | Promise<Reply>;

export interface ServerLimits {
  /** A TCP connection with nothing to read or write for this long is closed. */
  tcpIdleTimeoutMs: number;
  /** Open TCP connections beyond this are refused. */
  maxTcpConnections: number;
  /** Queries in flight on one TCP connection before reading from it pauses. */
  maxInFlightPerConnection: number;
}

export const DEFAULT_LIMITS: ServerLimits = { tcpIdleTimeoutMs: 10_000, maxTcpConnections: 256, maxInFlightPerConnection: 32 };

export interface ServerOptions {
  limits?: ServerLimits;
  /** A handler threw: the query is dropped, the server keeps serving. */
  onHandlerError?(err: unknown): void;
  /** Default `auto` (the service passes the engine MESHDNS_UDP_ENGINE names). */
  udpEngine?: UdpEngineChoice;
  /** The hot-shape answerer for the native engine (see FastAnswer); it bypasses `handle`. */
  fastAnswer?: FastAnswer;
  /** The fast path's native answer store (udp/answerStore.ts), answered from on the native engine. */
  answerStore?: NativeAnswerStoreHandle;
  /** The handler reads the client address (access control): decode it for every datagram. */
  wantsRemoteAddress?: boolean;
}

export interface RunningServer {
  readonly addresses: readonly ListenAddress[];
  /** The UDP engine in use, and why the native one is not when it was asked for or possible. */
  readonly udpEngine: 'native' | 'node';
  readonly udpEngineNote: string;
  /** Why the native engine could not be used when it was not ruled out by choice. */
  readonly udpEngineUnavailable?: string;
  close(): Promise<void>;
}

interface UdpListener {
  readonly port: number;
  close(): void;
}


/** An error binding a listen address, naming it and saying what to do. */
export class ListenError extends Error {
  constructor(readonly address: ListenAddress, readonly protocol: 'udp' | 'tcp', cause: NodeJS.ErrnoException) {
    const where = `${protocol} ${formatHostPort(address)}`;
    const hint =
      cause.code === 'EADDRINUSE'
        ? 'the port is already in use (another DNS server such as systemd-resolved, dnsmasq or a second meshdns?); stop it or change `listen:`'
        : cause.code === 'EACCES'
          ? 'permission denied: ports below 1024 need CAP_NET_BIND_SERVICE (the systemd unit grants it)'
          : cause.code === 'EADDRNOTAVAIL'
            ? 'the address is not on this host'
            : cause.message;
    super(`cannot listen on ${where}: ${hint}`);
    this.name = 'ListenError';
  }
}

const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

function bindNativeUdp(address: ListenAddress, handle: PacketHandler, options: ServerOptions): UdpListener {
  const loaded = loadUdpBatch();
  if (!('binding' in loaded)) throw new Error(loaded.error);
  const onError = (err: unknown): void => options.onHandlerError?.(err);
  try {
    return startBatchListener(loaded.binding, address.host, address.port, address.family, {
      handle: (packet, remote) => handle(packet, 'udp', remote),
      fastAnswer: options.fastAnswer,
      answerStore: options.answerStore,
      wantsRemoteAddress: options.wantsRemoteAddress ?? true,
      onHandlerError: onError,
      bufferBytes: SOCKET_BUFFER_BYTES,
    });
  } catch (err) {
    const cause = err as NodeJS.ErrnoException;
    throw typeof cause.code === 'string' ? new ListenError(address, 'udp', cause) : err;
  }
}

function bindNodeUdp(address: ListenAddress, handle: PacketHandler, options: ServerOptions): Promise<UdpListener> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: address.family === 6 ? 'udp6' : 'udp4', ipv6Only: address.family === 6, lookup: literalLookup });
    const onError = (err: unknown): void => options.onHandlerError?.(err);
    socket.once('error', (err) => reject(new ListenError(address, 'udp', err)));
    const handleUdp = (packet: Buffer, remote: string): Reply | Promise<Reply> => handle(packet, 'udp', remote);
    socket.on('message', (packet, rinfo) => {
      respond(handleUdp, packet, rinfo.address, {
        send: (reply) => socket.send(reply, rinfo.port, rinfo.address),
        fail: onError,
      });
    });
    socket.bind({ address: address.host, port: address.port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      // A send error (client gone, ICMP unreachable) must never take the server down.
      socket.on('error', onError);
      // Bigger buffers absorb bursts instead of dropping queries (the kernel caps them at rmem_max).
      try {
        socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
        socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
      } catch {
        /* not fatal */
      }
      resolve({ port: socket.address().port, close: () => socket.close() });
    });
  });
}

/** Handles one TCP client: 2-byte length framing, pipelined queries answered as they complete. */
function serveTcpConnection(conn: net.Socket, handle: PacketHandler, limits: ServerLimits, events: ServerOptions): void {
  let buffered: Buffer = Buffer.alloc(0);
  const remote = conn.remoteAddress ?? '';
  let inFlight = 0;
  let closed = false;
  conn.setNoDelay(true);
  conn.setTimeout(limits.tcpIdleTimeoutMs, () => conn.destroy());
  conn.on('error', () => conn.destroy());
  conn.on('close', () => {
    closed = true;
  });

  const write = (reply: Buffer): void => {
    if (closed) return;
    const frame = Buffer.allocUnsafe(2 + reply.length);
    frame.writeUInt16BE(reply.length, 0);
    reply.copy(frame, 2);
    conn.write(frame);
  };
  const handleTcp = (packet: Buffer, remoteAddress: string): Reply | Promise<Reply> => handle(packet, 'tcp', remoteAddress);
  const writer: ReplyWriter = {
    send: write,
    fail: (err) => events.onHandlerError?.(err),
    finish: () => {
      inFlight--;
      if (inFlight < limits.maxInFlightPerConnection && conn.isPaused() && !closed) conn.resume();
    },
  };

  conn.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (length === 0) {
        // A zero-length frame carries no header to answer: the peer is broken, hang up.
        conn.destroy();
        return;
      }
      if (buffered.length < 2 + length) break;
      const packet = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      inFlight++;
      respond(handleTcp, Buffer.from(packet), remote, writer);
      if (inFlight >= limits.maxInFlightPerConnection) conn.pause();
    }
    if (buffered.length > 0 && buffered.byteOffset > 0) buffered = Buffer.from(buffered);
  });
}

/** Open connections per server, so shutdown can end them instead of waiting for clients. */
const openConnections = new WeakMap<net.Server, Set<net.Socket>>();

function bindTcp(address: ListenAddress, handle: PacketHandler, limits: ServerLimits, events: ServerOptions): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const connections = new Set<net.Socket>();
    const server = net.createServer({ pauseOnConnect: false }, (conn) => {
      connections.add(conn);
      conn.on('close', () => connections.delete(conn));
      serveTcpConnection(conn, handle, limits, events);
    });
    openConnections.set(server, connections);
    server.maxConnections = limits.maxTcpConnections;
    server.once('error', (err) => reject(new ListenError(address, 'tcp', err)));
    server.listen({ host: address.host, port: address.port, ipv6Only: address.family === 6, exclusive: true }, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => events.onHandlerError?.(err));
      resolve(server);
    });
  });
}

/**
 * Bind UDP and TCP on every listen address. All or nothing: if one address fails, the ones
 * already bound are closed and the error names the address that failed.
 */
export async function startDnsServer(addresses: readonly ListenAddress[], handle: PacketHandler, options: ServerOptions = {}): Promise<RunningServer> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const { engine, note, unavailable } = chooseUdpEngine(options.udpEngine ?? 'auto');
  // A scoped IPv6 address (fe80::1%eth0) needs the interface resolved: dgram does that, the addon does not.
  const bindUdp = (address: ListenAddress): Promise<UdpListener> =>
    engine === 'native' && !address.host.includes('%')
      ? Promise.resolve().then(() => bindNativeUdp(address, handle, options))
      : bindNodeUdp(address, handle, options);
  const udp: UdpListener[] = [];
  const tcp: net.Server[] = [];
  const bound: ListenAddress[] = [];
  const close = async (): Promise<void> => {
    for (const s of udp) s.close();
    await Promise.all(
      tcp.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            // Connections kept open by clients must not hold the shutdown.
            for (const conn of openConnections.get(s) ?? []) conn.destroy();
          }),
      ),
    );
  };
  try {
    for (const address of addresses) {
      // Port 0 (tests): bind UDP first, then TCP on the same kernel-chosen port; if that port is
      // taken for TCP (e.g. by a TIME_WAIT connection), try another one.
      for (let attempt = 0; ; attempt++) {
        const u = await bindUdp(address);
        const actual = { ...address, port: u.port };
        try {
          tcp.push(await bindTcp(actual, handle, limits, options));
        } catch (err) {
          u.close();
          if (address.port === 0 && attempt < 20 && err instanceof ListenError) continue;
          throw err;
        }
        udp.push(u);
        bound.push(actual);
        break;
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { addresses: bound, udpEngine: engine, udpEngineNote: note, udpEngineUnavailable: unavailable, close };
}
