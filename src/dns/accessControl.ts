import { BlockList, isIP } from 'node:net';
import type { ListenAddress } from '../config/types';
import type { Reply } from './types';
import { errorReply, parseQuery } from './wire';
import { Rcode } from './wire/constants';

/** Strip the IPv4-mapped prefix a dual-stack socket reports (`::ffff:10.0.0.1`). */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function isLoopbackListener(l: ListenAddress): boolean {
  return l.host === '::1' || (l.family === 4 && l.host.startsWith('127.'));
}

/**
 * Who may query (docs/ARCHITECTURE.md §6 `allowFrom`): loopback always, plus the configured networks.
 * Returns undefined when every listener is loopback-only: then the kernel already restricts
 * clients to this host and the per-packet check is skipped on the hot path.
 */
export function createClientFilter(listen: readonly ListenAddress[], allowFrom: readonly string[]): ((address: string) => boolean) | undefined {
  if (listen.every(isLoopbackListener)) return undefined;
  const allowed = new BlockList();
  allowed.addSubnet('127.0.0.0', 8, 'ipv4');
  allowed.addAddress('::1', 'ipv6');
  for (const cidr of allowFrom) {
    const [ip, bits] = cidr.split('/');
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    allowed.addSubnet(ip, Number(bits ?? (family === 'ipv6' ? 128 : 32)), family);
  }
  return (address: string) => {
    const plain = plainAddress(address);
    const family = isIP(plain);
    if (family === 0) return false;
    return allowed.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** The answer to a client outside `allowFrom`: REFUSED for a query that parses, else nothing. */
export function refuseClient(packet: Buffer, transport: 'udp' | 'tcp'): Reply {
  const parsed = parseQuery(packet, transport);
  return parsed.ok ? errorReply(parsed.query, Rcode.REFUSED) : null;
}
