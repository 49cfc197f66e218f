import { isIPv4 } from 'node:net';
import { ipv6Groups } from '../registry/allocator';

/**
 * The reverse-lookup owner name of an address, lower-case without trailing dot:
 * `240.240.0.1` → `1.0.240.240.in-addr.arpa`, IPv6 → 32 nibbles under `ip6.arpa`.
 */
export function reversePointerName(ip: string): string | undefined {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const groups = ipv6Groups(ip);
  if (groups === undefined) return undefined;
  const nibbles: string[] = [];
  for (let i = 7; i >= 0; i--) {
    const g = groups[i];
    nibbles.push((g & 15).toString(16), ((g >> 4) & 15).toString(16), ((g >> 8) & 15).toString(16), ((g >> 12) & 15).toString(16));
  }
  return `${nibbles.join('.')}.ip6.arpa`;
}
