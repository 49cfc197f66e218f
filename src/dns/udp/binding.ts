import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The native batching UDP socket (native/udp_batch.c), built by `scripts/build-native.mjs` into
 * `dist/native/udp_batch.node`. Optional: without it (no C compiler when meshdns was built, an
 * unknown platform) the listener falls back to Node's dgram, which is correct but slower.
 */
export interface NativeSocketHandle {
  readonly __nativeUdpSocket: unique symbol;
}

/** An answer store of native/answer_store.c (see answerStore.ts); freed when JS lets go of it. */
export interface NativeAnswerStoreHandle {
  readonly __nativeAnswerStore: unique symbol;
}

export interface UdpBatchBinding {
  /** Datagrams per batch, bytes per datagram slot, bytes per socket-address slot. */
  readonly BATCH: number;
  readonly SLOT: number;
  readonly ADDR: number;
  /** Binds a non-blocking UDP socket; throws an Error whose `code` is the errno name (EADDRINUSE…). */
  open(host: string, port: number, family: 4 | 6, bufferBytes: number): NativeSocketHandle;
  localPort(handle: NativeSocketHandle): number;
  start(
    handle: NativeSocketHandle,
    onBatch: (count: number) => void,
    inData: Buffer,
    inMeta: Int32Array,
    addresses: Buffer,
    outData: Buffer,
    outLengths: Int32Array,
  ): void;
  /** Sends one datagram now; returns 0 or the errno of the failed send (the datagram is dropped). */
  sendTo(handle: NativeSocketHandle, data: Buffer, sockaddr: Buffer): number;
  /** [batches, datagrams received, sends failed]. */
  stats(handle: NativeSocketHandle): [number, number, number];
  close(handle: NativeSocketHandle): void;
  /** malloc_trim(0): the C heap's free pages back to the OS; true when any were released. */
  trimMalloc(): boolean;
  /**
   * Stops libuv's non-waiting extra poll per loop iteration (the idle-time metric, which meshdns
   * never reads; performance.eventLoopUtilization() reports nothing useful afterwards); true when
   * done (native/udp_batch.c says on which libuv versions).
   */
  skipIdleTimePoll(): boolean;
  storeCreate(): NativeAnswerStoreHandle;
  /** The socket answers what `store` holds before its batch reaches JS (inMeta length -2 for those). */
  answerFromStore(handle: NativeSocketHandle, store: NativeAnswerStoreHandle): void;
  /** Keeps `reply` under `key` (kind byte + lower-case wire name); false when refused (too long). */
  storePut(store: NativeAnswerStoreHandle, key: Buffer, reply: Buffer): boolean;
  storeClear(store: NativeAnswerStoreHandle): void;
  storeSize(store: NativeAnswerStoreHandle): number;
  /** [A, AAAA] replies sent from the store since the last call. */
  storeTakeCounts(store: NativeAnswerStoreHandle): [number, number];
}

/**
 * Where the build puts the addon: dist/native/, beside dist/src/ (the compiled program and the
 * packages); from the TypeScript sources (tsx) that is ../../../dist/native.
 */
const ADDON_CANDIDATES = [
  join(__dirname, '..', '..', '..', 'native', 'udp_batch.node'),
  join(__dirname, '..', '..', '..', 'dist', 'native', 'udp_batch.node'),
];
export const NATIVE_ADDON_PATH = ADDON_CANDIDATES.find((path) => existsSync(path)) ?? ADDON_CANDIDATES[0];

let loaded: { binding: UdpBatchBinding } | { error: string } | undefined;

/** The addon, or the reason it cannot be used (loaded once per process). */
export function loadUdpBatch(): { binding: UdpBatchBinding } | { error: string } {
  if (loaded === undefined) {
    if (process.platform !== 'linux') {
      loaded = { error: `recvmmsg/sendmmsg batching is Linux-only (platform ${process.platform})` };
    } else {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        loaded = { binding: require(NATIVE_ADDON_PATH) as UdpBatchBinding };
      } catch (err) {
        loaded = { error: `${NATIVE_ADDON_PATH}: ${(err as Error).message.split('\n')[0]}` };
      }
    }
  }
  return loaded;
}

/**
 * Gives the C heap's free pages back to the OS (after a large load; see native/udp_batch.c).
 * False when nothing was released or the addon is not there.
 */
export function trimNativeHeap(): boolean {
  const addon = loadUdpBatch();
  return 'binding' in addon && typeof addon.binding.trimMalloc === 'function' ? addon.binding.trimMalloc() : false;
}

/** The slots a batch is read into and answered from (see native/udp_batch.c). */
export interface BatchBuffers {
  inData: Buffer;
  inMeta: Int32Array;
  addresses: Buffer;
  outData: Buffer;
  outLengths: Int32Array;
}

let shared: BatchBuffers | undefined;

/**
 * One set of batch slots for every native socket, listeners and upstream sockets alike: the
 * addon hands a batch to JS and sends its replies before libuv polls the next socket, so no two
 * batches are ever in the slots at once. Not zero-filled: only what the kernel or a reply writes
 * is read back, and untouched pages of the slot areas cost no memory.
 */
export function batchBuffers(binding: UdpBatchBinding): BatchBuffers {
  shared ??= {
    inData: Buffer.allocUnsafeSlow(binding.BATCH * binding.SLOT),
    inMeta: new Int32Array(binding.BATCH * 2),
    addresses: Buffer.allocUnsafeSlow(binding.BATCH * binding.ADDR),
    outData: Buffer.allocUnsafeSlow(binding.BATCH * binding.SLOT),
    outLengths: new Int32Array(binding.BATCH),
  };
  return shared;
}

/**
 * Binds a native socket and starts delivering batches to `onBatch`, which reads and answers
 * through `batchBuffers(binding)`. Throws the bind error, with its errno `code`; nothing stays
 * open when starting fails.
 */
export function startNativeSocket(
  binding: UdpBatchBinding,
  host: string,
  port: number,
  family: 4 | 6,
  bufferBytes: number,
  onBatch: (count: number) => void,
): NativeSocketHandle {
  const handle = binding.open(host, port, family, bufferBytes);
  // One epoll_pwait per wake-up instead of two: at everyday rates a wake-up carries one query.
  binding.skipIdleTimePoll();
  const buffers = batchBuffers(binding);
  try {
    binding.start(handle, onBatch, buffers.inData, buffers.inMeta, buffers.addresses, buffers.outData, buffers.outLengths);
  } catch (err) {
    binding.close(handle);
    throw err;
  }
  return handle;
}
