/** Shared builders for the wire tests: client queries via dns-packet, hand-made table entries. */
import * as dnsPacket from 'dns-packet';
import type { NameInfo } from '../../../src/nametable/types';
import type { Query } from '../../../src/dns/types';
import { parseQuery } from '../../../src/dns/wire';

export interface QuerySpec {
  name: string;
  type?: dnsPacket.RecordType;
  id?: number;
  /** Header flags; default RD. */
  flags?: number;
  edns?: { size: number; dnssecOk?: boolean; version?: number };
}

/** A client query as real stub resolvers send it (dns-packet encodes it uncompressed). */
export function queryPacket(spec: QuerySpec): Buffer {
  const additionals: dnsPacket.Answer[] = [];
  if (spec.edns) {
    additionals.push({
      type: 'OPT',
      name: '.',
      udpPayloadSize: spec.edns.size,
      flags: spec.edns.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
      ednsVersion: spec.edns.version ?? 0,
    } as dnsPacket.Answer);
  }
  return dnsPacket.encode({
    type: 'query',
    id: spec.id ?? 0x1234,
    flags: spec.flags ?? dnsPacket.RECURSION_DESIRED,
    questions: [{ type: spec.type ?? 'A', name: spec.name, class: 'IN' }],
    additionals,
  });
}

/** Parses a query that must be valid. */
export function parsed(spec: QuerySpec, transport: 'udp' | 'tcp' = 'udp'): Query {
  const outcome = parseQuery(queryPacket(spec), transport);
  if (!outcome.ok) throw new Error(`fixture query did not parse: ${outcome.reason}`);
  return outcome.query;
}

export function nameInfo(name: string, v4: string[] = [], v6: string[] = [], extra: Partial<NameInfo> = {}): NameInfo {
  return { name, canonical: name, v4, v6, ports: [], origins: [], ...extra };
}

/** dns-packet's decoded message; it also sets `rcode` (a name like "NXDOMAIN"), which its types omit. */
export type Decoded = dnsPacket.DecodedPacket & { rcode?: string };

export function decode(buf: Buffer): Decoded {
  return dnsPacket.decode(buf) as Decoded;
}

/** The rdata dns-packet writes for one record: the tail of an encoded single-answer message. */
export function rdataOf(type: 'A' | 'AAAA', data: string): Buffer {
  const message = dnsPacket.encode({ type: 'response', answers: [{ type, name: 'x', data }] });
  return message.subarray(message.length - (type === 'A' ? 4 : 16));
}

/** The OPT record of a decoded message, if any. */
export function optOf(message: Decoded): dnsPacket.OptAnswer | undefined {
  return (message.additionals ?? []).find((a): a is dnsPacket.OptAnswer => a.type === 'OPT');
}

/** `count` distinct IPv4 addresses 10.0.0.1, 10.0.0.2, … */
export function manyV4(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `10.${((i + 1) >> 16) & 0xff}.${((i + 1) >> 8) & 0xff}.${(i + 1) & 0xff}`);
}
