import * as dnsPacket from 'dns-packet';
import type { Query } from '../../src/dns/types';

/** Parts of an upstream reply, for building test packets with dns-packet. */
export interface ReplySpec {
  rcode?: number;
  truncated?: boolean;
  answers?: dnsPacket.Answer[];
  authorities?: dnsPacket.Answer[];
  /** Add an OPT record (udp 1232). */
  opt?: boolean;
  /** Question name to put in the reply; default the query's. */
  questionName?: string;
}

/** An upstream-style reply to `query` (same ID and question unless told otherwise). */
export function makeReply(query: Query, spec: ReplySpec = {}): Buffer {
  const type = dnsPacket.decode(query.packet).questions?.[0].type ?? 'A';
  const flags =
    dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (spec.truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | (spec.rcode ?? 0);
  return dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags,
    questions: [{ name: spec.questionName ?? query.name, type, class: 'IN' }],
    answers: spec.answers ?? [],
    authorities: spec.authorities ?? [],
    additionals: spec.opt
      ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
      : [],
  });
}

export const a = (name: string, data: string, ttl: number): dnsPacket.Answer => ({ type: 'A', name, ttl, class: 'IN', data });

export const soa = (zone: string, ttl: number, minimum: number): dnsPacket.Answer => ({
  type: 'SOA',
  name: zone,
  ttl,
  class: 'IN',
  data: { mname: `ns.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum },
});

/** TTLs of every record but OPT, in message order. */
export function ttlsOf(reply: Buffer): number[] {
  const decoded = dnsPacket.decode(reply);
  return [...(decoded.answers ?? []), ...(decoded.authorities ?? []), ...(decoded.additionals ?? [])]
    .filter((r) => r.type !== 'OPT')
    .map((r) => (r as { ttl?: number }).ttl ?? -1);
}
