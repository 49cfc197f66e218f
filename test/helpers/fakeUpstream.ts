import * as dgram from 'dgram';
import * as net from 'net';
import * as dnsPacket from 'dns-packet';
import type { Upstream } from '../../src/config/types';
import { bindSamePort, frame, isLoopProbe, onFramedMessages } from './upstreamSockets';

/**
 * A scriptable DNS server on 127.0.0.1 (UDP and TCP on the same random port) for fault tests.
 * Every query it receives is recorded; what it does with each is decided by `behaviour`.
 */

export interface ReceivedQuery {
  transport: 'udp' | 'tcp';
  id: number;
  name: string;
  type: string;
  class: string;
  flags: number;
  sourceAddress: string;
  sourcePort: number;
  /** EDNS payload size of the query's OPT, or null without OPT. */
  ednsUdpSize: number | null;
  dnssecOk: boolean;
  raw: Buffer;
}

export type FakeAction =
  /** A normal answer: `records` or a default A 192.0.2.1 / AAAA 2001:db8::1, TTL 60. */
  | { kind: 'answer'; records?: dnsPacket.Answer[]; ttl?: number; delayMs?: number }
  | { kind: 'silent' }
  | { kind: 'servfail' }
  | { kind: 'refused' }
  /** NXDOMAIN with an SOA (minimum `soaMinimum`, TTL `soaTtl`) in the authority section. */
  | { kind: 'nxdomain'; soaTtl?: number; soaMinimum?: number }
  /** Over UDP: TC=1 with no records; over TCP: the normal answer. */
  | { kind: 'truncate-udp' }
  /** `count` A records; over UDP larger than the query's limit: TC=1 without records. */
  | { kind: 'giant'; count: number }
  /** First a reply with a different ID, then the right one. */
  | { kind: 'wrong-id-first' }
  /** First a reply (right ID) for another name, then the right one. */
  | { kind: 'wrong-question-first' }
  /** First the right reply sent from another port (spoof attempt), then from the real one. */
  | { kind: 'wrong-source-first' };

export type Behaviour = (query: ReceivedQuery) => FakeAction;

export interface FakeUpstream {
  readonly port: number;
  readonly upstream: Upstream;
  readonly received: ReceivedQuery[];
  /** Replaces the behaviour for the following queries. */
  setBehaviour(behaviour: Behaviour): void;
  close(): Promise<void>;
}

const defaultBehaviour: Behaviour = () => ({ kind: 'answer' });

export async function startFakeUpstream(behaviour: Behaviour = defaultBehaviour): Promise<FakeUpstream> {
  let current = behaviour;
  const received: ReceivedQuery[] = [];
  const spoofer = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => spoofer.bind(0, '127.0.0.1', () => resolve()));
  const tcp = net.createServer();
  const connections = new Set<net.Socket>();
  let closed = false; // delayed replies must not hit closed sockets

  const { udp, port } = await bindSamePort(tcp, 'fake upstream');

  udp.on('message', (msg, rinfo) => {
    const query = record(msg, 'udp', rinfo.address, rinfo.port);
    if (query === null) return;
    const action = current(query);
    const send = (reply: Buffer, via: dgram.Socket = udp): void => {
      if (!closed) via.send(reply, rinfo.port, rinfo.address);
    };
    respond(query, action, send);
  });

  tcp.on('connection', (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => undefined);
    onFramedMessages(socket, (msg) => {
      const query = record(msg, 'tcp', socket.remoteAddress ?? '', socket.remotePort ?? 0);
      if (query === null) return;
      respond(query, current(query), (reply) => {
        if (!closed && !socket.destroyed) socket.write(frame(reply));
      });
    });
  });

  function record(msg: Buffer, transport: 'udp' | 'tcp', sourceAddress: string, sourcePort: number): ReceivedQuery | null {
    let decoded: dnsPacket.DecodedPacket;
    try {
      decoded = dnsPacket.decode(msg);
    } catch {
      return null;
    }
    const question = decoded.questions?.[0];
    if (question === undefined) return null;
    if (isLoopProbe(question.name)) return null;
    const opt = (decoded.additionals ?? []).find((a) => a.type === 'OPT') as dnsPacket.OptAnswer | undefined;
    const query: ReceivedQuery = {
      transport,
      id: decoded.id ?? 0,
      name: question.name,
      type: question.type,
      class: question.class ?? 'IN',
      flags: msg.readUInt16BE(2),
      sourceAddress,
      sourcePort,
      ednsUdpSize: opt === undefined ? null : opt.udpPayloadSize,
      dnssecOk: opt !== undefined && ((opt.flags ?? 0) & dnsPacket.DNSSEC_OK) !== 0,
      raw: Buffer.from(msg),
    };
    received.push(query);
    return query;
  }

  function respond(query: ReceivedQuery, action: FakeAction, send: (reply: Buffer, via?: dgram.Socket) => void): void {
    const limit = query.transport === 'tcp' ? 65535 : query.ednsUdpSize ?? 512;
    switch (action.kind) {
      case 'silent':
        return;
      case 'servfail':
        send(encodeReply(query, { rcode: 2 }));
        return;
      case 'refused':
        send(encodeReply(query, { rcode: 5 }));
        return;
      case 'nxdomain':
        send(encodeReply(query, { rcode: 3, authorities: [soaRecord(action.soaTtl ?? 300, action.soaMinimum ?? 60)] }));
        return;
      case 'answer': {
        const reply = encodeReply(query, { answers: action.records ?? defaultRecords(query, action.ttl ?? 60) });
        if (action.delayMs === undefined) send(reply);
        else setTimeout(() => send(reply), action.delayMs);
        return;
      }
      case 'truncate-udp':
        if (query.transport === 'udp') send(encodeReply(query, { truncated: true }));
        else send(encodeReply(query, { answers: defaultRecords(query, 60) }));
        return;
      case 'giant': {
        const answers: dnsPacket.Answer[] = [];
        for (let i = 0; i < action.count; i++) {
          answers.push({ type: 'A', name: query.name, ttl: 60, class: 'IN', data: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
        }
        const full = encodeReply(query, { answers });
        send(full.length > limit ? encodeReply(query, { truncated: true }) : full);
        return;
      }
      case 'wrong-id-first': {
        const wrong = encodeReply(query, { answers: [aRecord(query.name, '203.0.113.66')] });
        wrong.writeUInt16BE(query.id ^ 0x5a5a, 0);
        send(wrong);
        setTimeout(() => send(encodeReply(query, { answers: defaultRecords(query, 60) })), 20);
        return;
      }
      case 'wrong-question-first': {
        const wrong = encodeReply({ ...query, name: `evil.${query.name}` }, { answers: [aRecord(`evil.${query.name}`, '203.0.113.66')] });
        send(wrong);
        setTimeout(() => send(encodeReply(query, { answers: defaultRecords(query, 60) })), 20);
        return;
      }
      case 'wrong-source-first': {
        const spoofed = encodeReply(query, { answers: [aRecord(query.name, '203.0.113.66')] });
        if (query.transport === 'udp') send(spoofed, spoofer);
        setTimeout(() => send(encodeReply(query, { answers: defaultRecords(query, 60) })), 20);
        return;
      }
    }
  }

  return {
    port,
    upstream: { host: '127.0.0.1', port, family: 4 },
    received,
    setBehaviour(next: Behaviour): void {
      current = next;
    },
    async close(): Promise<void> {
      closed = true;
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => spoofer.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

interface ReplyParts {
  rcode?: number;
  truncated?: boolean;
  answers?: dnsPacket.Answer[];
  authorities?: dnsPacket.Answer[];
}

function encodeReply(query: ReceivedQuery, parts: ReplyParts): Buffer {
  const flags =
    (query.flags & dnsPacket.RECURSION_DESIRED) |
    dnsPacket.RECURSION_AVAILABLE |
    (parts.truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) |
    (parts.rcode ?? 0);
  const additionals: dnsPacket.Answer[] =
    query.ednsUdpSize === null
      ? []
      : [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flag_do: query.dnssecOk, options: [], flags: query.dnssecOk ? dnsPacket.DNSSEC_OK : 0 }];
  return dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags,
    questions: [{ name: query.name, type: query.type as dnsPacket.RecordType, class: query.class as dnsPacket.RecordClass }],
    answers: parts.answers ?? [],
    authorities: parts.authorities ?? [],
    additionals,
  });
}

function defaultRecords(query: ReceivedQuery, ttl: number): dnsPacket.Answer[] {
  if (query.type === 'AAAA') return [{ type: 'AAAA', name: query.name, ttl, class: 'IN', data: '2001:db8::1' }];
  if (query.type === 'A') return [aRecord(query.name, '192.0.2.1', ttl)];
  return [];
}

function aRecord(name: string, address: string, ttl = 60): dnsPacket.Answer {
  return { type: 'A', name, ttl, class: 'IN', data: address };
}

function soaRecord(ttl: number, minimum: number): dnsPacket.Answer {
  return {
    type: 'SOA',
    name: 'test',
    ttl,
    class: 'IN',
    data: { mname: 'ns.test', rname: 'hostmaster.test', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum },
  };
}

