import { isIP } from 'node:net';
import type { ListenAddress, Upstream } from '../../config/types';
import type { ResolvConf } from '../../config/resolvConf';

/** systemd-resolved's stub listener: never an upstream, it may point back at us. */
export const RESOLVED_STUB = '127.0.0.53';
export const RESOLVED_UPLINKS_FILE = '/run/systemd/resolve/resolv.conf';

export interface UpstreamChoice {
  upstreams: Upstream[];
  /** Why some nameservers were not used (for the startup log and `status`). */
  notes: string[];
}

function toUpstream(address: string): Upstream | undefined {
  const host = address.split('%')[0];
  const family = isIP(host);
  if (family === 0) return undefined;
  return { host: address, port: 53, family: family as 4 | 6 };
}

function isOurs(u: Upstream, listen: readonly ListenAddress[]): boolean {
  return listen.some((l) => l.port === u.port && (l.host === u.host || l.host === '0.0.0.0' || l.host === '::'));
}

/**
 * The servers to forward to (docs/ARCHITECTURE.md §3–4): `upstreams:` from settings when given, else the
 * original resolv.conf's nameservers, where a systemd-resolved stub is replaced by the real
 * uplinks and meshdns's own listen addresses are dropped (forwarding to ourselves would loop).
 */
export function chooseUpstreams(
  configured: readonly Upstream[],
  original: ResolvConf | undefined,
  resolvedUplinks: ResolvConf | undefined,
  listen: readonly ListenAddress[],
): UpstreamChoice {
  const notes: string[] = [];
  if (configured.length > 0) return { upstreams: configured.filter((u) => !isOurs(u, listen)), notes };
  const out: Upstream[] = [];
  const push = (u: Upstream): void => {
    if (isOurs(u, listen)) {
      notes.push(`nameserver ${u.host} is meshdns itself: skipped`);
      return;
    }
    if (!out.some((o) => o.host === u.host && o.port === u.port)) out.push(u);
  };
  for (const ns of original?.nameservers ?? []) {
    if (ns === RESOLVED_STUB) {
      const uplinks = (resolvedUplinks?.nameservers ?? []).filter((n) => n !== RESOLVED_STUB);
      if (uplinks.length === 0) {
        notes.push(`nameserver ${RESOLVED_STUB} is systemd-resolved's stub and ${RESOLVED_UPLINKS_FILE} lists no uplinks: skipped`);
        continue;
      }
      notes.push(`nameserver ${RESOLVED_STUB} replaced by systemd-resolved's uplinks ${uplinks.join(', ')}`);
      for (const u of uplinks) {
        const up = toUpstream(u);
        if (up !== undefined) push(up);
      }
      continue;
    }
    const up = toUpstream(ns);
    if (up !== undefined) push(up);
  }
  if (out.length === 0) notes.push('no upstream servers: names outside the mesh will get SERVFAIL');
  return { upstreams: out, notes };
}
