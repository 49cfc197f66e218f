import { SocketAddress, isIP } from 'node:net';
import { Check, accept, refuse } from './check';
import { normalizeDnsName } from './dnsName';

/** An IP address with a port, as `listen:` and `upstreams:` entries become. */
export interface IpPort {
  host: string;
  port: number;
  family: 4 | 6;
}

export interface IpPortOptions {
  /** Port used when the entry has none (53 for DNS). */
  defaultPort: number;
  /** Lowest port accepted: 0 lets a listener take an ephemeral port (tests), upstreams need 1. */
  minPort: number;
}

/**
 * Reads `IP`, `IP:port`, `[IPv6]:port`, `[IPv6]` or a bare IPv6 address. IPv6 addresses are
 * returned in canonical form so duplicates compare equal. Zone ids (`fe80::1%eth0`) are refused:
 * meshdns talks to loopback and to resolv.conf upstreams, never to a link-local peer named here.
 */
export function parseIpPort(text: string, options: IpPortOptions): Check<IpPort> {
  const split = splitHostPort(text.trim());
  if (!split.ok) return split;
  const { host, portText } = split.value;
  const address = parseIp(host);
  if (!address.ok) return address;
  const port = portText === undefined ? accept(options.defaultPort) : parsePort(portText, options.minPort);
  if (!port.ok) return port;
  return accept({ host: address.value.host, port: port.value, family: address.value.family });
}

/**
 * Reads `host:port` where host may also be a name (`localhost:15054`), for the metrics endpoint.
 * The port is required. Returns the text as written, trimmed.
 */
export function parseEndpoint(text: string): Check<string> {
  const trimmed = text.trim();
  const split = splitHostPort(trimmed);
  if (!split.ok) return split;
  const { host, portText, bracketed } = split.value;
  if (portText === undefined) return refuse(`${JSON.stringify(trimmed)} needs a port, e.g. "127.0.0.1:15054"`);
  const port = parsePort(portText, 0);
  if (!port.ok) return port;
  if (bracketed || isIP(host) !== 0) {
    const address = parseIp(host);
    if (!address.ok) return address;
  } else {
    const name = normalizeDnsName(host);
    if (!name.ok) return refuse(`host ${JSON.stringify(host)} is neither an IP address nor a host name`);
  }
  return accept(trimmed);
}

interface HostPortText {
  host: string;
  portText?: string;
  bracketed: boolean;
}

function splitHostPort(text: string): Check<HostPortText> {
  if (text === '') return refuse('empty address');
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return refuse(`${JSON.stringify(text)} has "[" without "]"`);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return refuse(`${JSON.stringify(text)}: expected ":port" after "]"`);
    return accept({ host: text.slice(1, close), portText: rest === '' ? undefined : rest.slice(1), bracketed: true });
  }
  // A bare IPv6 address has many colons; it cannot carry a port without brackets.
  if (isIP(text) === 6) return accept({ host: text, bracketed: false });
  const colon = text.lastIndexOf(':');
  if (colon < 0) return accept({ host: text, bracketed: false });
  const host = text.slice(0, colon);
  if (host.includes(':')) {
    return refuse(`${JSON.stringify(text)}: write an IPv6 address with a port as "[address]:port"`);
  }
  return accept({ host, portText: text.slice(colon + 1), bracketed: false });
}

function parseIp(host: string): Check<{ host: string; family: 4 | 6 }> {
  if (host.includes('%')) return refuse(`${JSON.stringify(host)}: zone ids ("%eth0") are not supported`);
  const family = isIP(host);
  if (family === 4) return accept({ host, family: 4 });
  if (family === 6) return accept({ host: canonicalIpv6(host), family: 6 });
  return refuse(`${JSON.stringify(host)} is not an IP address`);
}

function parsePort(text: string, minPort: number): Check<number> {
  if (!/^\d{1,5}$/.test(text)) return refuse(`port ${JSON.stringify(text)} is not a number`);
  const port = Number(text);
  if (port < minPort || port > 65535) return refuse(`port ${port} is out of range ${minPort}-65535`);
  return accept(port);
}

/** `2001:DB8:0::1` → `2001:db8::1`. */
export function canonicalIpv6(address: string): string {
  return new SocketAddress({ address, family: 'ipv6' }).address;
}

/** `host:port`, `[v6]:port`: how listen addresses and upstreams are written in logs, metrics and errors. */
export function formatHostPort(a: { host: string; port: number; family: 4 | 6 }): string {
  return a.family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
