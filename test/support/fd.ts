// Resource accounting for leak checks: open file descriptors (/proc/<pid>/fd), resident memory
// (/proc/<pid>/status VmRSS) and this process's active handles by kind.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Open file descriptors of `pid` (default: this process). */
export function openFdCount(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Open sockets of `pid` (fd links that read `socket:[inode]`), with their inodes. */
export function openSocketInodes(pid: number | 'self' = 'self'): number[] {
  const out: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m !== null) out.push(Number(m[1]));
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/** Resident set size of `pid` in bytes. */
export function rssBytes(pid: number | 'self' = 'self'): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Active resources of this process by kind (Timeout, UDPWRAP, TCPSocketWrap, ...). */
export function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  // Typed in newer @types/node only; present since Node 17.3.
  const info = (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo();
  for (const kind of info) out[kind] = (out[kind] ?? 0) + 1;
  return out;
}

/**
 * The local UDP ports `pid`'s sockets are bound to (from /proc/net/udp and udp6, matched by
 * inode): how a spoofer finds the upstream-facing ports of a resolver.
 */
export function udpPortsOf(pid: number | 'self' = 'self'): number[] {
  const inodes = new Set(openSocketInodes(pid));
  const ports = new Set<number>();
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const inode = Number(cols[9]);
      if (!inodes.has(inode)) continue;
      ports.add(parseInt(cols[1].split(':')[1], 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
