import { isIPv4, isIPv6 } from 'node:net';

/**
 * The canonical text of an IP address (IPv6 compressed and lower-cased, as RFC 5952 writes it),
 * or undefined when `text` is not an IP. Zone indices (`fe80::1%eth0`) are refused: a DNS answer
 * cannot carry them.
 */
export function canonicalIp(text: string): string | undefined {
  if (isIPv4(text)) return text;
  if (!isIPv6(text) || text.includes('%')) return undefined;
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

export type AddressOrCidr =
  | { kind: 'ip'; ip: string }
  | { kind: 'cidr'; ip: string; prefix: number; /** A /32 or /128: one address. */ single: boolean };

/** `1.2.3.4`, `1.2.3.0/24`, `2001:db8::/32`; undefined for anything else. */
export function parseAddressOrCidr(text: string): AddressOrCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const ip = canonicalIp(text);
    return ip === undefined ? undefined : { kind: 'ip', ip };
  }
  const ip = canonicalIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const bits = ip.includes(':') ? 128 : 32;
  if (prefix > bits) return undefined;
  return { kind: 'cidr', ip, prefix, single: prefix === bits };
}
