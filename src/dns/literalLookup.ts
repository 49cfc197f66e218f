import type { LookupOneOptions } from 'node:dns';

/**
 * A `lookup` for UDP sockets that only ever send to IP literals (clients' source addresses,
 * configured upstreams): hands the address straight back. Node's default runs dns.lookup for
 * every datagram sent — an IP-literal check plus a deferred callback per packet — which shows
 * in the per-query CPU at full load.
 */
export function literalLookup(
  hostname: string,
  _options: LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, hostname, hostname.includes(':') ? 6 : 4);
}
