import type { Upstream } from '../../config/types';
import { chooseUdpEngine } from '../udp/engine';
import { cachedSockaddr, openDgramClientSocket, openNativeClientSocket, type ClientSocket } from '../udp/clientSocket';
import { CoarseTimer, TimerHandle } from './coarseTimer';
import { CANCELLED, ExchangeResult, TIMEOUT } from './exchange';
import { HEADER_LENGTH } from '../wire/constants';
import { isResponse, readId, sameQuestion } from '../wire/message';
import { RandomIdSource } from './randomId';

/**
 * UDP client sockets for upstream exchanges, with the spoofing defences of docs/ARCHITECTURE.md §3:
 * every socket is bound to a kernel-chosen random port and replaced after `maxUsesPerSocket`
 * exchanges or `maxSocketAgeMs`, so the source port keeps changing; every exchange gets a
 * random ID; a reply counts only if source address/port, ID and question all match; anything
 * else is ignored (counted) and the exchange keeps waiting for the real answer.
 */

export interface UdpSocketPoolOptions {
  /** Sockets kept open per address family (IPv4 and IPv6 pools are separate). */
  socketsPerFamily?: number;
  maxUsesPerSocket?: number;
  maxSocketAgeMs?: number;
  timer?: CoarseTimer;
  now?: () => number;
  /** Socket engine: the service's (see `ForwardOptions.udpEngine`); default native when the addon loads. */
  engine?: 'native' | 'node';
}

export interface UdpSocketPoolStats {
  /** Sockets currently open, retired ones still draining included. */
  openSockets: number;
  /** Sockets opened since start: a rough measure of port rotation. */
  socketsOpened: number;
  /** Datagrams dropped because source, ID or question did not match a pending exchange. */
  ignoredReplies: number;
  pending: number;
  /** The socket engine upstream queries go out on. */
  engine: 'native' | 'node';
}

interface Pending {
  upstream: Upstream;
  packet: Buffer;
  questionEnd: number;
  timer: TimerHandle;
  resolve: (result: ExchangeResult) => void;
  detachAbort: (() => void) | null;
}

interface PooledSocket {
  socket: ClientSocket;
  family: 4 | 6;
  /** Which slot list it sits in: the family, and dgram for upstreams the native socket cannot address. */
  slotKey: SlotKey;
  pending: Map<number, Pending>;
  uses: number;
  bornAt: number;
  retired: boolean;
  closed: boolean;
}

type SlotKey = '4' | '6' | '4-dgram' | '6-dgram';

export class UdpSocketPool {
  private readonly socketsPerFamily: number;
  private readonly maxUses: number;
  private readonly maxAgeMs: number;
  private readonly timer: CoarseTimer;
  private readonly now: () => number;
  private readonly ids = new RandomIdSource();
  private readonly engine: 'native' | 'node';
  private slots: Record<SlotKey, Array<PooledSocket | undefined>> = { '4': [], '6': [], '4-dgram': [], '6-dgram': [] };
  private readonly cursor: Record<SlotKey, number> = { '4': 0, '6': 0, '4-dgram': 0, '6-dgram': 0 };
  private readonly open = new Set<PooledSocket>();
  private socketsOpened = 0;
  private ignoredReplies = 0;
  private pendingCount = 0;
  private closing = false;

  constructor(options: UdpSocketPoolOptions = {}) {
    // 32 random ports in use at a time, each retired after 256 exchanges: an off-path spoofer
    // must guess one of 32 ephemeral ports and the 16-bit ID, while the forwarder opens a new
    // socket only every 256 queries (a bind and close per socket; see docs/DECISIONS.md).
    this.socketsPerFamily = Math.max(1, options.socketsPerFamily ?? 32);
    this.maxUses = Math.max(1, options.maxUsesPerSocket ?? 256);
    this.maxAgeMs = options.maxSocketAgeMs ?? 30_000;
    this.timer = options.timer ?? new CoarseTimer();
    this.now = options.now ?? Date.now;
    this.engine = options.engine ?? chooseUdpEngine('auto').engine;
  }

  /**
   * Sends `query` (copied; its ID is replaced by a fresh random one) to `upstream` and waits
   * up to `timeoutMs` for a matching reply. `questionEnd` is the offset past the question in
   * `query`, which must hold one uncompressed question. Never rejects.
   */
  exchange(
    upstream: Upstream,
    query: Buffer,
    questionEnd: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ExchangeResult> {
    if (this.closing) return Promise.resolve({ kind: 'error', error: new Error('upstream socket pool is closed') });
    if (signal?.aborted) return Promise.resolve(CANCELLED);
    // The native socket addresses upstreams by sockaddr; a scoped IPv6 one goes through dgram.
    const slotKey: SlotKey =
      this.engine === 'native' && cachedSockaddr(upstream) !== null ? (upstream.family === 4 ? '4' : '6') : upstream.family === 4 ? '4-dgram' : '6-dgram';
    const pooled = this.pick(upstream.family, slotKey);
    let id = this.ids.next();
    while (pooled.pending.has(id)) id = this.ids.next();
    const packet = Buffer.from(query);
    packet.writeUInt16BE(id, 0);

    return new Promise<ExchangeResult>((resolve) => {
      const pending: Pending = {
        upstream,
        packet,
        questionEnd,
        resolve,
        detachAbort: null,
        timer: this.timer.schedule(timeoutMs, () => this.finish(pooled, id, TIMEOUT)),
      };
      if (signal !== undefined) {
        const onAbort = (): void => this.finish(pooled, id, CANCELLED);
        signal.addEventListener('abort', onAbort, { once: true });
        pending.detachAbort = () => signal.removeEventListener('abort', onAbort);
      }
      pooled.pending.set(id, pending);
      this.pendingCount++;
      pooled.socket.send(packet, upstream, (error) => this.finish(pooled, id, { kind: 'error', error }));
    });
  }

  stats(): UdpSocketPoolStats {
    return {
      openSockets: this.open.size,
      socketsOpened: this.socketsOpened,
      ignoredReplies: this.ignoredReplies,
      pending: this.pendingCount,
      engine: this.engine,
    };
  }

  /** Ends every pending exchange with an error and closes all sockets. */
  async close(): Promise<void> {
    this.closing = true;
    const closing: Array<Promise<void>> = [];
    for (const pooled of [...this.open]) {
      for (const id of [...pooled.pending.keys()]) {
        this.finish(pooled, id, { kind: 'error', error: new Error('upstream socket pool closed') });
      }
      closing.push(this.closeSocket(pooled));
    }
    this.slots = { '4': [], '6': [], '4-dgram': [], '6-dgram': [] };
    await Promise.all(closing);
  }

  /** Round-robin over the slot list's sockets; a worn-out socket is retired and replaced. */
  private pick(family: 4 | 6, slotKey: SlotKey): PooledSocket {
    const slots = this.slots[slotKey];
    const index = this.cursor[slotKey];
    this.cursor[slotKey] = (index + 1) % this.socketsPerFamily;
    let pooled = slots[index];
    if (pooled === undefined || pooled.retired || pooled.uses >= this.maxUses || this.now() - pooled.bornAt >= this.maxAgeMs) {
      if (pooled !== undefined) this.retire(pooled);
      pooled = this.openSocket(family, slotKey);
      slots[index] = pooled;
    }
    pooled.uses++;
    return pooled;
  }

  private openSocket(family: 4 | 6, slotKey: SlotKey): PooledSocket {
    // The socket's callbacks run only after it exists (replies, failures come from the loop).
    let self: PooledSocket | undefined;
    const onReply = (msg: Buffer, isFrom: (upstream: Upstream) => boolean): void => {
      if (self !== undefined) this.onMessage(self, msg, isFrom);
    };
    const onFailure = (error: Error): void => {
      if (self === undefined) return;
      // A socket-level error (e.g. bind failure) poisons every exchange on it.
      this.retire(self);
      for (const id of [...self.pending.keys()]) this.finish(self, id, { kind: 'error', error });
    };
    let socket: ClientSocket | undefined;
    try {
      if (!slotKey.endsWith('dgram')) socket = openNativeClientSocket(family, onReply);
    } catch {
      // The native bind failed (e.g. out of descriptors): dgram reports its own failure the usual way.
    }
    socket ??= openDgramClientSocket(family, onReply, onFailure);
    const pooled: PooledSocket = { socket, family, slotKey, pending: new Map(), uses: 0, bornAt: this.now(), retired: false, closed: false };
    self = pooled;
    this.open.add(pooled);
    this.socketsOpened++;
    return pooled;
  }

  private onMessage(pooled: PooledSocket, msg: Buffer, isFrom: (upstream: Upstream) => boolean): void {
    if (msg.length < HEADER_LENGTH || !isResponse(msg)) {
      this.ignoredReplies++;
      return;
    }
    const id = readId(msg);
    const pending = pooled.pending.get(id);
    if (pending === undefined || !isFrom(pending.upstream) || !sameQuestion(pending.packet, pending.questionEnd, msg)) {
      this.ignoredReplies++;
      return;
    }
    this.finish(pooled, id, { kind: 'reply', packet: msg });
  }

  private finish(pooled: PooledSocket, id: number, result: ExchangeResult): void {
    const pending = pooled.pending.get(id);
    if (pending === undefined) return;
    pooled.pending.delete(id);
    this.pendingCount--;
    pending.timer.cancel();
    pending.detachAbort?.();
    pending.resolve(result);
    if (pooled.retired && pooled.pending.size === 0) void this.closeSocket(pooled);
  }

  /** Takes a socket out of rotation; it closes once its last pending exchange ends. */
  private retire(pooled: PooledSocket): void {
    if (pooled.retired) return;
    pooled.retired = true;
    const slots = this.slots[pooled.slotKey];
    const at = slots.indexOf(pooled);
    if (at >= 0) slots[at] = undefined;
    if (pooled.pending.size === 0) void this.closeSocket(pooled);
  }

  private closeSocket(pooled: PooledSocket): Promise<void> {
    if (pooled.closed) return Promise.resolve();
    pooled.closed = true;
    this.open.delete(pooled);
    return pooled.socket.close();
  }
}
