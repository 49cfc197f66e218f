/** How one query/response exchange with one upstream ended. */
export type ExchangeResult =
  | { kind: 'reply'; packet: Buffer }
  | { kind: 'timeout' }
  | { kind: 'error'; error: Error }
  /** Aborted by the caller (e.g. another server answered first in parallel mode). */
  | { kind: 'cancelled' };

export const TIMEOUT: ExchangeResult = Object.freeze({ kind: 'timeout' });
export const CANCELLED: ExchangeResult = Object.freeze({ kind: 'cancelled' });
