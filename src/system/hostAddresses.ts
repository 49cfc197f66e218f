import { networkInterfaces } from 'node:os';

/**
 * The host's own addresses that reach beyond it: not loopback (internal), not IPv6 link-local.
 * `ipFamilies: auto` falls back to their families when cluster.env names no instance IP.
 */
export function hostAddresses(): string[] {
  const out: string[] = [];
  let interfaces: ReturnType<typeof networkInterfaces>;
  try {
    interfaces = networkInterfaces();
  } catch {
    // Without netlink (a sandbox that forbids AF_NETLINK sockets) nothing is known: auto means both.
    return out;
  }
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && /^fe[89ab]/i.test(a.address)) continue;
      out.push(a.address);
    }
  }
  return out;
}
