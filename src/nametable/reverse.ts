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

/**
 * The address a reverse name stands for, in the canonical text form the table uses
 * (`1.0.240.240.in-addr.arpa` → `240.240.0.1`; 32 nibbles of ip6.arpa → compressed IPv6), or
 * undefined when the name is not a complete reverse name of one address.
 */
export function addressOfReverseName(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const labels = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (labels.length !== 4) return undefined;
    for (const l of labels) if (!/^(0|[1-9]\d{0,2})$/.test(l) || Number(l) > 255) return undefined;
    return labels.reverse().join('.');
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(hex.slice(i, i + 4));
    return compressIpv6(groups.map((g) => parseInt(g, 16)));
  }
  return undefined;
}

/** RFC 5952 text form: lower-case hex, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function compressIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
