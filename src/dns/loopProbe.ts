import dgram from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import type { Upstream } from '../config/types';
import { formatHostPort } from '../config/hostPort';
import type { Handler, Next, Query, Reply } from './types';
import { encodeName, errorReply } from './wire';
import { Rcode } from './wire/constants';
import { literalLookup } from './literalLookup';

/** Label under which probe names are made; a TLD that does not exist. */
const PROBE_SUFFIX = 'meshdns-loop-check';
const PROBE_LIFETIME_MS = 5000;

function encodeProbe(name: string): Buffer {
  const header = Buffer.from([0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD, one question
  header.writeUInt16BE(randomInt(0, 0x10000), 0);
  return Buffer.concat([header, encodeName(name), Buffer.from([0, 1, 0, 1])]); // A, IN
}

/**
 * Detects upstreams that forward back to meshdns (a local resolver reading the resolv.conf
 * meshdns rewrote, a `server=` pointing at us): each upstream gets a query for a random name
 * no one else would ask; if that name arrives at our own listener, the upstream loops and is
 * taken out of the forwarding list (forwarding to it could only time out, and slow loops — a
 * forwarder retrying over TCP after our exchange ended — would keep circling).
 */
export class LoopDetector {
  private readonly probes = new Map<string, { upstream: Upstream; expires: number }>();
  private readonly loopingLabels = new Set<string>();

  constructor(private readonly onLoop: (upstream: Upstream) => void) {}

  isLooping(u: Upstream): boolean {
    return this.loopingLabels.has(formatHostPort(u));
  }

  get looping(): string[] {
    return [...this.loopingLabels];
  }

  /** Send one probe to each upstream (fire and forget: the answer does not matter). */
  probe(upstreams: readonly Upstream[]): void {
    const now = Date.now();
    for (const [name, p] of this.probes) if (p.expires < now) this.probes.delete(name);
    for (const upstream of upstreams) {
      const name = `${randomBytes(8).toString('hex')}.${PROBE_SUFFIX}`;
      this.probes.set(name, { upstream, expires: now + PROBE_LIFETIME_MS });
      const socket = dgram.createSocket({ type: upstream.family === 6 ? 'udp6' : 'udp4', lookup: literalLookup });
      socket.on('error', () => socket.close());
      socket.send(encodeProbe(name), upstream.port, upstream.host.split('%')[0]);
      setTimeout(() => {
        try {
          socket.close();
        } catch {
          /* already closed after an error */
        }
      }, 3000).unref();
    }
  }

  /** Forget loop verdicts (the upstream list changed: probe the new one afresh). */
  reset(): void {
    this.loopingLabels.clear();
  }

  /** First in the chain: our own probe coming back convicts the upstream it was sent to. */
  handler(): Handler {
    return {
      name: 'loopDetect',
      handle: (query: Query, next: Next): Reply | Promise<Reply> => {
        if (this.probes.size === 0 || !query.key.endsWith(PROBE_SUFFIX)) return next();
        const probe = this.probes.get(query.key);
        if (probe === undefined) return next();
        this.probes.delete(query.key);
        const label = formatHostPort(probe.upstream);
        if (!this.loopingLabels.has(label)) {
          this.loopingLabels.add(label);
          this.onLoop(probe.upstream);
        }
        return errorReply(query, Rcode.REFUSED);
      },
    };
  }
}
