import { loadUdpBatch, type NativeAnswerStoreHandle } from './binding';

/**
 * The fast path's reply templates, mirrored into the native UDP engine (native/answer_store.c) so
 * that a query it holds the answer for is answered inside the engine's wake-up, without a call
 * into JS. The fast path (dns/fastPath.ts) is the only writer: it puts a template when it makes
 * one and clears the store whenever its own templates go, so the store never answers what the
 * fast path itself would not.
 */
export interface AnswerStore {
  /** Keeps `reply` for queries of `kind` (fastPath.ts's numbering) whose lower-case wire name is `wireName`. */
  put(kind: number, wireName: Buffer, reply: Buffer): void;
  clear(): void;
  /** Replies held. */
  readonly size: number;
  /** Replies the engine sent from the store since the last call, by query type. */
  takeCounts(): { a: number; aaaa: number };
  /** What the listeners answer from (`startBatchListener`'s `answerStore`). */
  readonly handle: NativeAnswerStoreHandle;
}

/** A store in the native engine, or undefined when the addon is not loaded (dgram answers through JS). */
export function createAnswerStore(): AnswerStore | undefined {
  const loaded = loadUdpBatch();
  if (!('binding' in loaded) || typeof loaded.binding.storeCreate !== 'function') return undefined;
  const binding = loaded.binding;
  const handle = binding.storeCreate();
  const key = Buffer.allocUnsafe(256);
  return {
    put(kind, wireName, reply) {
      if (wireName.length + 1 > key.length) return;
      key[0] = kind;
      key.set(wireName, 1);
      binding.storePut(handle, key.subarray(0, wireName.length + 1), reply);
    },
    clear() {
      binding.storeClear(handle);
    },
    get size() {
      return binding.storeSize(handle);
    },
    takeCounts() {
      const [a, aaaa] = binding.storeTakeCounts(handle);
      return { a, aaaa };
    },
    handle,
  };
}
