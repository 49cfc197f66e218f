import * as dnsPacket from 'dns-packet';
import type { Query } from '../../src/dns/types';

export interface MakeQueryOptions {
  name: string;
  type?: dnsPacket.RecordType;
  id?: number;
  /** Recursion desired; default true. */
  rd?: boolean;
  /** EDNS OPT in the query; default none. */
  edns?: { udpPayloadSize?: number; dnssecOk?: boolean };
  transport?: 'udp' | 'tcp';
}

/**
 * A `Query` (src/dns/types.ts) built by hand from a packet encoded with dns-packet, so the
 * forward and cache tests do not depend on the wire parser under development elsewhere.
 */
export function makeQuery(options: MakeQueryOptions): Query {
  const id = options.id ?? 0x1234;
  const rd = options.rd ?? true;
  const transport = options.transport ?? 'udp';
  const packet = dnsPacket.encode({
    type: 'query',
    id,
    flags: rd ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ name: options.name, type: options.type ?? 'A', class: 'IN' }],
    additionals:
      options.edns === undefined
        ? []
        : [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: options.edns.udpPayloadSize ?? 1232,
              extendedRcode: 0,
              ednsVersion: 0,
              flag_do: options.edns.dnssecOk ?? false,
              options: [],
              flags: options.edns.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
            },
          ],
  });
  // Uncompressed question name: labels + root byte, then type and class.
  let questionEnd = 12;
  while (packet[questionEnd] !== 0) questionEnd += packet[questionEnd] + 1;
  questionEnd += 1 + 4;
  const edns =
    options.edns === undefined
      ? null
      : { udpPayloadSize: options.edns.udpPayloadSize ?? 1232,
              extendedRcode: 0,
              ednsVersion: 0,
              flag_do: options.edns.dnssecOk ?? false,
              options: [], version: 0, dnssecOk: options.edns.dnssecOk ?? false };
  const name = options.name.replace(/\.$/, '');
  return {
    packet,
    id,
    flags: packet.readUInt16BE(2),
    name,
    key: name.toLowerCase(),
    type: packet.readUInt16BE(questionEnd - 4),
    class: packet.readUInt16BE(questionEnd - 2),
    questionEnd,
    edns,
    transport,
    maxResponseSize: transport === 'tcp' ? 65535 : edns === null ? 512 : Math.max(512, edns.udpPayloadSize),
  };
}
