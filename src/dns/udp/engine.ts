import { loadUdpBatch } from './binding';

/**
 * How UDP datagrams are received and sent: `native` is the batching socket of native/udp_batch.c
 * (recvmmsg/sendmmsg, one JS call per batch), `node` is Node's dgram (one call, one Buffer and one
 * syscall each way per datagram). `auto` takes native when the addon loads, else node.
 */
export type UdpEngineChoice = 'auto' | 'native' | 'node';

/**
 * Resolves the engine choice: native only when the addon loads; `native` asked for and missing
 * is an error. `unavailable` says why `auto` had to fall back to dgram (worth a warning).
 */
export function chooseUdpEngine(choice: UdpEngineChoice): { engine: 'native' | 'node'; note: string; unavailable?: string } {
  if (choice === 'node') return { engine: 'node', note: 'dgram (MESHDNS_UDP_ENGINE=node)' };
  const loaded = loadUdpBatch();
  if ('binding' in loaded) return { engine: 'native', note: 'native batching (recvmmsg/sendmmsg)' };
  if (choice === 'native') throw new Error(`the native UDP engine was asked for but cannot load: ${loaded.error}`);
  return { engine: 'node', note: `dgram; native batching unavailable: ${loaded.error}`, unavailable: loaded.error };
}

/**
 * The choice the `MESHDNS_UDP_ENGINE` environment variable names (unset or empty: auto). The
 * service reads the variable and passes the chosen engine down to the listeners and the
 * forwarder; nothing below it reads the environment.
 */
export function parseUdpEngineChoice(value: string | undefined): UdpEngineChoice {
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'native' || value === 'node') return value;
  throw new Error(`MESHDNS_UDP_ENGINE=${value}: expected auto, native or node`);
}

