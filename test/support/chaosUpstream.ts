// A fault-injecting DNS upstream on 127.0.0.1 (UDP and TCP on one port): every query is recorded
// and answered (or not) as the current behaviour says. Beyond test/helpers/fakeUpstream it can
// send garbage, answer only from a wrong address or port, with only a wrong ID or question,
// truncate over TCP as well (a TC loop), and reset a TCP connection in the middle of an answer.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import type { Upstream } from '../../src/config/types';
import { bindSamePort, frame, isLoopProbe, onFramedMessages } from '../helpers/upstreamSockets';

export interface ChaosQuery {
  transport: 'udp' | 'tcp';
  id: number;
  name: string;
  type: string;
  flags: number;
  ednsUdpSize: number | null;
  sourcePort: number;
  at: number;
}

export type ChaosAction =
  /** The right answer (A 192.0.2.1 / AAAA 2001:db8::1 or `address`), after `delayMs`. */
  | { kind: 'answer'; delayMs?: number; address?: string; ttl?: number }
  | { kind: 'silent' }
  | { kind: 'servfail' }
  | { kind: 'refused' }
  /** Random bytes (a random length up to 600), framed over TCP. */
  | { kind: 'garbage' }
  /** The right answer, but only from 127.0.0.2 on the same port (the wrong address). */
  | { kind: 'wrong-address-only' }
  /** The right answer, but only from another port on 127.0.0.1. */
  | { kind: 'wrong-port-only' }
  /** The right answer with another ID, nothing else. */
  | { kind: 'wrong-id-only' }
  /** An answer (right ID) to another question, nothing else. */
  | { kind: 'wrong-question-only' }
  /** Forged replies first (wrong address, wrong port, wrong ID, wrong question, garbage), then the right one. */
  | { kind: 'forgeries-then-answer'; address?: string }
  /** TC=1 without records over UDP and over TCP: a client that retries over TCP gets TC again. */
  | { kind: 'tc-always' }
  /** Over UDP: TC=1; over TCP: half of the right answer, then a TCP reset. */
  | { kind: 'tcp-reset-mid-answer' };

export type ChaosBehaviour = (query: ChaosQuery) => ChaosAction;

export interface ChaosUpstream {
  readonly port: number;
  readonly upstream: Upstream;
  readonly received: ChaosQuery[];
  /** "127.0.0.1:port" as meshdns labels it in metrics. */
  readonly label: string;
  setBehaviour(behaviour: ChaosBehaviour): void;
  close(): Promise<void>;
}

/** The answer address the chaos upstream serves for A queries unless told otherwise. */
export const REAL_A = '192.0.2.1';
export const FORGED_A = '203.0.113.66';

export async function startChaosUpstream(behaviour: ChaosBehaviour = () => ({ kind: 'answer' })): Promise<ChaosUpstream> {
  let current = behaviour;
  const received: ChaosQuery[] = [];
  const tcp = net.createServer();
  const connections = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const { udp, port } = await bindSamePort(tcp, 'chaos upstream');
  const otherPort = await bindUdp('127.0.0.1', 0);
  // 127.0.0.2 is loopback on Linux without configuration.
  const otherAddress = await bindUdp('127.0.0.2', port).catch(() => bindUdp('127.0.0.2', 0));

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closed) fn();
    }, ms);
    timers.add(t);
  };

  udp.on('message', (msg, rinfo) => {
    const query = decodeQuery(msg, 'udp', rinfo.port);
    if (query === null || isLoopProbe(query.name)) return;
    received.push(query);
    const send = (reply: Buffer, via: dgram.Socket = udp): void => {
      if (!closed) via.send(reply, rinfo.port, rinfo.address);
    };
    const action = current(query);
    switch (action.kind) {
      case 'wrong-address-only':
        send(reply(query, { answers: records(query) }), otherAddress);
        return;
      case 'wrong-port-only':
        send(reply(query, { answers: records(query) }), otherPort);
        return;
      case 'forgeries-then-answer': {
        const forged = reply(query, { answers: records(query, FORGED_A) });
        send(forged, otherAddress);
        send(forged, otherPort);
        send(withId(forged, query.id ^ 0x1111));
        send(reply({ ...query, name: `x${query.name}` }, { answers: records({ ...query, name: `x${query.name}` }, FORGED_A) }));
        send(randomBytes(64));
        later(10, () => send(reply(query, { answers: records(query, action.address) })));
        return;
      }
      default:
        respondCommon(query, action, send, later);
    }
  });

  tcp.on('connection', (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => undefined);
    onFramedMessages(socket, (msg) => {
      const query = decodeQuery(msg, 'tcp', socket.remotePort ?? 0);
      if (query === null || isLoopProbe(query.name)) return;
      received.push(query);
      const send = (r: Buffer): void => {
        if (!closed && !socket.destroyed) socket.write(frame(r));
      };
      const action = current(query);
      switch (action.kind) {
        case 'tcp-reset-mid-answer': {
          const full = frame(reply(query, { answers: records(query) }));
          socket.write(full.subarray(0, Math.floor(full.length / 2)), () => socket.resetAndDestroy());
          return;
        }
        case 'wrong-address-only':
        case 'wrong-port-only':
          // No way to answer a TCP connection from elsewhere: say nothing.
          return;
        case 'forgeries-then-answer':
          send(withId(reply(query, { answers: records(query, FORGED_A) }), query.id ^ 0x1111));
          send(reply(query, { answers: records(query, action.address) }));
          return;
        default:
          respondCommon(query, action, send, later);
      }
    });
  });

  return {
    port,
    upstream: { host: '127.0.0.1', port, family: 4 },
    label: `127.0.0.1:${port}`,
    received,
    setBehaviour(next) {
      current = next;
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => otherPort.close(() => resolve())),
        new Promise<void>((resolve) => otherAddress.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

function respondCommon(query: ChaosQuery, action: ChaosAction, send: (r: Buffer) => void, later: (ms: number, fn: () => void) => void): void {
  switch (action.kind) {
    case 'answer': {
      const r = reply(query, { answers: records(query, action.address, action.ttl) });
      if (action.delayMs === undefined || action.delayMs <= 0) send(r);
      else later(action.delayMs, () => send(r));
      return;
    }
    case 'silent':
      return;
    case 'servfail':
      send(reply(query, { rcode: 2 }));
      return;
    case 'refused':
      send(reply(query, { rcode: 5 }));
      return;
    case 'garbage':
      send(randomBytes(1 + Math.floor(Math.random() * 600)));
      return;
    case 'wrong-id-only':
      send(withId(reply(query, { answers: records(query, FORGED_A) }), query.id ^ 0x5a5a));
      return;
    case 'wrong-question-only': {
      const other = { ...query, name: `evil.${query.name}` };
      send(reply(other, { answers: records(other, FORGED_A) }));
      return;
    }
    case 'tc-always':
      send(reply(query, { truncated: true }));
      return;
    case 'tcp-reset-mid-answer':
      // The UDP half: make the client come over TCP.
      send(reply(query, { truncated: true }));
      return;
    default:
      return;
  }
}

function decodeQuery(msg: Buffer, transport: 'udp' | 'tcp', sourcePort: number): ChaosQuery | null {
  let decoded: dnsPacket.DecodedPacket;
  try {
    decoded = dnsPacket.decode(msg);
  } catch {
    return null;
  }
  const q = decoded.questions?.[0];
  if (q === undefined) return null;
  const opt = (decoded.additionals ?? []).find((a) => a.type === 'OPT') as dnsPacket.OptAnswer | undefined;
  return {
    transport,
    id: decoded.id ?? 0,
    name: q.name,
    type: q.type,
    flags: msg.readUInt16BE(2),
    ednsUdpSize: opt === undefined ? null : opt.udpPayloadSize,
    sourcePort,
    at: Date.now(),
  };
}

function records(query: ChaosQuery, address?: string, ttl = 60): dnsPacket.Answer[] {
  if (query.type === 'A') return [{ type: 'A', name: query.name, ttl, class: 'IN', data: address ?? REAL_A }];
  if (query.type === 'AAAA') return [{ type: 'AAAA', name: query.name, ttl, class: 'IN', data: '2001:db8::1' }];
  return [];
}

function reply(query: ChaosQuery, parts: { rcode?: number; truncated?: boolean; answers?: dnsPacket.Answer[] }): Buffer {
  const flags = (query.flags & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | (parts.truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | (parts.rcode ?? 0);
  return dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags,
    questions: [{ name: query.name, type: query.type as dnsPacket.RecordType, class: 'IN' }],
    answers: parts.answers ?? [],
    additionals: query.ednsUdpSize === null ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as dnsPacket.Answer],
  });
}

function withId(packet: Buffer, id: number): Buffer {
  const copy = Buffer.from(packet);
  copy.writeUInt16BE(id & 0xffff, 0);
  return copy;
}

function bindUdp(address: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(port, address, () => {
      s.removeListener('error', reject);
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}

