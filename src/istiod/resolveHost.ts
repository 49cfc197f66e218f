import { isIP } from 'node:net';
import { promises as dns } from 'node:dns';
import type { HostsEntry, Upstream } from '../config/types';
import { formatHostPort } from '../config/hostPort';

/**
 * istiod's address (docs/ARCHITECTURE.md §11): an IP as it is; a name from the bootstrap
 * hosts file (istioctl maps istiod to the east-west gateway there), else from the original
 * upstream servers — never through meshdns itself, which may not be serving yet and would ask
 * istiod's own table.
 */
export async function resolveIstiodHost(host: string, hosts: readonly HostsEntry[], upstreams: readonly Upstream[]): Promise<string> {
  if (isIP(host) !== 0) return host;
  const wanted = host.toLowerCase().replace(/\.$/, '');
  const pinned = hosts.find((e) => e.names.some((n) => n.toLowerCase() === wanted));
  if (pinned !== undefined) return pinned.address;
  if (upstreams.length === 0) throw new Error(`cannot resolve ${host}: not in the bootstrap hosts file and no upstream DNS servers`);
  const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers(upstreams.map(formatHostPort));
  const errors: string[] = [];
  for (const family of ['resolve4', 'resolve6'] as const) {
    try {
      const found = await resolver[family](wanted);
      if (found.length > 0) return found[0];
    } catch (err) {
      errors.push((err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
  }
  throw new Error(`cannot resolve ${host} through ${upstreams.map(formatHostPort).join(', ')} (${errors.join(', ')}); map it in the bootstrap hosts file`);
}
