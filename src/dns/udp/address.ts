import type { Upstream } from '../../config/types';

/**
 * Canonical text of an IP address, so "0:0::1" from the settings equals "::1" reported by the
 * kernel. IPv4 is returned as is; an IPv6 zone ("%eth0") is kept, lower-cased.
 */
export function canonicalAddress(host: string): string {
  if (!host.includes(':')) return host;
  const zoneAt = host.indexOf('%');
  const bare = zoneAt < 0 ? host : host.slice(0, zoneAt);
  const zone = zoneAt < 0 ? '' : host.slice(zoneAt).toLowerCase();
  try {
    // The WHATWG URL parser canonicalises IPv6 (RFC 5952 style: lower case, longest zero run).
    return new URL(`http://[${bare}]`).hostname.slice(1, -1) + zone;
  } catch {
    return host.toLowerCase();
  }
}

/** Whether a datagram from `address`:`port` comes from `upstream`. */
export function isFromUpstream(address: string, port: number, upstream: Upstream): boolean {
  if (port !== upstream.port) return false;
  if (address === upstream.host) return true; // the common case costs one string compare
  return upstream.family === 6 && canonicalAddress(address) === canonicalAddress(upstream.host);
}
