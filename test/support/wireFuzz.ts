// Hostile DNS packets for fuzzing a server over real sockets (issue 8): fast-check arbitraries
// for random bytes and mutated valid queries, plus hand-made shapes that target parser edge
// cases (label lengths, compression loops and forward pointers, lying counts, OPT abuse).
// Everything is generated from a seed, so a failing batch can be replayed.
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';

export type FuzzKind =
  | 'random-bytes'
  | 'short-header'
  | 'bit-flips'
  | 'truncated'
  | 'extended'
  | 'bad-label-length'
  | 'compression-loop'
  | 'forward-pointer'
  | 'lying-counts'
  | 'truncated-opt'
  | 'multiple-opt'
  | 'bad-opt'
  | 'response-as-query'
  | 'odd-opcode'
  | 'long-name'
  | 'valid-query';

export interface FuzzPacket {
  kind: FuzzKind;
  bytes: Uint8Array;
}

const NAMES = ['productpage', 'productpage.vm-ns.svc.cluster.local', 'address.internal', 'x.wild.internal', 'fuzz.example', 'a.b.c.d.e.f', 'auto.internal.vm-ns.svc.cluster.local', '1.100.51.198.in-addr.arpa'];
const TYPES: dnsPacket.RecordType[] = ['A', 'AAAA', 'PTR', 'SRV', 'TXT', 'MX', 'CNAME', 'ANY' as dnsPacket.RecordType, 'OPT' as dnsPacket.RecordType, 'NS'];

const label = fc.stringMatching(/^[a-zA-Z0-9-]{1,20}$/);
const queryName = fc.oneof(fc.constantFrom(...NAMES), fc.array(label, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('.')));

/** A well-formed query (sometimes with EDNS, sometimes asking odd types). */
export const validQuery: fc.Arbitrary<Buffer> = fc
  .record({
    id: fc.integer({ min: 0, max: 0xffff }),
    name: queryName,
    type: fc.constantFrom(...TYPES),
    edns: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
    rd: fc.boolean(),
  })
  .map(({ id, name, type, edns, rd }) => {
    const packet: dnsPacket.Packet = {
      type: 'query',
      id,
      flags: rd ? dnsPacket.RECURSION_DESIRED : 0,
      questions: [{ name, type, class: 'IN' }],
    };
    if (edns !== undefined) packet.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: edns, flags: 0, options: [] } as unknown as dnsPacket.Answer];
    return dnsPacket.encode(packet);
  });

function header(id: number, flags: number, qd: number, an: number, ns: number, ar: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  h.writeUInt16BE(ns, 8);
  h.writeUInt16BE(ar, 10);
  return h;
}
const QTAIL = Buffer.from([0, 1, 0, 1]); // type A, class IN
const u16 = fc.integer({ min: 0, max: 0xffff });

/** OPT RR bytes: root name, type 41, size, ext-rcode/version/flags, rdata. */
function optRecord(size: number, version: number, rdata: Buffer, rdlen = rdata.length, name = Buffer.from([0])): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(41, 0);
  fixed.writeUInt16BE(size, 2);
  fixed.writeUInt8(0, 4);
  fixed.writeUInt8(version, 5);
  fixed.writeUInt16BE(0, 6);
  fixed.writeUInt16BE(rdlen, 8);
  return Buffer.concat([name, fixed, rdata]);
}

const arbitraries: Record<FuzzKind, fc.Arbitrary<Uint8Array>> = {
  'random-bytes': fc.uint8Array({ minLength: 0, maxLength: 600 }),
  'short-header': fc.uint8Array({ minLength: 0, maxLength: 12 }),
  'bit-flips': fc.tuple(validQuery, fc.array(fc.nat(), { minLength: 1, maxLength: 8 })).map(([q, flips]) => {
    const out = Buffer.from(q);
    for (const f of flips) out[Math.floor(f / 8) % out.length] ^= 1 << f % 8;
    return out;
  }),
  truncated: fc.tuple(validQuery, fc.nat()).map(([q, n]) => q.subarray(0, n % q.length)),
  extended: fc.tuple(validQuery, fc.uint8Array({ minLength: 1, maxLength: 200 })).map(([q, extra]) => Buffer.concat([q, extra])),
  'bad-label-length': fc.tuple(u16, fc.integer({ min: 64, max: 255 }), fc.uint8Array({ maxLength: 300 })).map(([id, len, rest]) =>
    Buffer.concat([header(id, 0x0100, 1, 0, 0, 0), Buffer.from([len]), rest, QTAIL]),
  ),
  'compression-loop': fc.tuple(u16, fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 120 })).map(([id, shape, n]) => {
    const h = header(id, 0x0100, 1, 0, 0, 0);
    switch (shape) {
      case 0: // points at itself
        return Buffer.concat([h, Buffer.from([0xc0, 12]), QTAIL]);
      case 1: // two pointers pointing at each other
        return Buffer.concat([h, Buffer.from([0xc0, 14, 0xc0, 12]), QTAIL]);
      case 2: // a label, then a pointer back to the name's start
        return Buffer.concat([h, Buffer.from([1, 0x61, 0xc0, 12]), QTAIL]);
      case 3: {
        // a legal but long chain: each label points back to the previous one
        const parts: number[] = [1, 0x61, 0];
        for (let i = 1; i < n; i++) {
          const prev = 12 + (i - 1) * 4;
          parts.push(1, 0x61, 0xc0 | (prev >> 8), prev & 0xff);
        }
        return Buffer.concat([h, Buffer.from(parts), QTAIL]);
      }
      default: // loop hidden in an answer record the query should not have
        return Buffer.concat([header(id, 0x0100, 1, 1, 0, 0), Buffer.from([1, 0x61, 0]), QTAIL, Buffer.from([0xc0, 21]), QTAIL, Buffer.from([0, 0, 0, 60, 0, 4, 1, 2, 3, 4])]);
    }
  }),
  'forward-pointer': fc.tuple(u16, fc.integer({ min: 13, max: 0x3fff })).map(([id, target]) =>
    Buffer.concat([header(id, 0x0100, 1, 0, 0, 0), Buffer.from([0xc0 | (target >> 8), target & 0xff]), QTAIL, Buffer.from([3, 0x61, 0x62, 0x63, 0])]),
  ),
  'lying-counts': fc.tuple(validQuery, u16, u16, u16, u16).map(([q, qd, an, ns, ar]) => {
    const out = Buffer.from(q);
    out.writeUInt16BE(qd % 4 === 1 ? 1 : qd, 4);
    out.writeUInt16BE(an, 6);
    out.writeUInt16BE(ns, 8);
    out.writeUInt16BE(ar, 10);
    return out;
  }),
  'truncated-opt': fc.tuple(u16, fc.nat({ max: 13 }), u16).map(([id, cut, size]) =>
    Buffer.concat([header(id, 0x0100, 1, 0, 0, 1), Buffer.from([1, 0x61, 0]), QTAIL, optRecord(size, 0, Buffer.alloc(0)).subarray(0, cut)]),
  ),
  'multiple-opt': fc.tuple(u16, fc.integer({ min: 2, max: 4 }), u16).map(([id, count, size]) => {
    const opts = Array.from({ length: count }, (_, i) => optRecord((size + i) & 0xffff, 0, Buffer.alloc(0)));
    return Buffer.concat([header(id, 0x0100, 1, 0, 0, count), Buffer.from([1, 0x61, 0]), QTAIL, ...opts]);
  }),
  'bad-opt': fc.tuple(u16, fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 40 }), u16).map(([id, shape, rdata, size]) => {
    const q = Buffer.concat([header(id, 0x0100, 1, 0, 0, 1), Buffer.from([1, 0x61, 0]), QTAIL]);
    switch (shape) {
      case 0: // RDLENGTH larger than the packet
        return Buffer.concat([q, optRecord(size, 0, Buffer.from(rdata), rdata.length + 100)]);
      case 1: // owner name not root
        return Buffer.concat([q, optRecord(size, 0, Buffer.from(rdata), rdata.length, Buffer.from([1, 0x62, 0]))]);
      case 2: // EDNS version 1 (BADVERS territory)
        return Buffer.concat([q, optRecord(size, 1, Buffer.alloc(0))]);
      default: // options whose lengths lie
        return Buffer.concat([q, optRecord(size, 0, Buffer.concat([Buffer.from([0, 10, 0xff, 0xff]), Buffer.from(rdata)]))]);
    }
  }),
  'response-as-query': validQuery.map((q) => {
    const out = Buffer.from(q);
    out[2] |= 0x80;
    return out;
  }),
  'odd-opcode': fc.tuple(validQuery, fc.integer({ min: 1, max: 15 })).map(([q, op]) => {
    const out = Buffer.from(q);
    out[2] = (out[2] & 0x87) | (op << 3);
    return out;
  }),
  'long-name': fc.tuple(u16, fc.integer({ min: 4, max: 10 }), fc.integer({ min: 50, max: 63 })).map(([id, labels, len]) => {
    const parts: Buffer[] = [header(id, 0x0100, 1, 0, 0, 0)];
    for (let i = 0; i < labels; i++) parts.push(Buffer.from([len]), Buffer.alloc(len, 0x61 + (i % 26)));
    parts.push(Buffer.from([0]), QTAIL);
    return Buffer.concat(parts);
  }),
  'valid-query': validQuery,
};

export const FUZZ_KINDS = Object.keys(arbitraries) as FuzzKind[];

/** Any hostile packet, tagged with the kind that made it. */
export const hostilePacket: fc.Arbitrary<FuzzPacket> = fc.oneof(...FUZZ_KINDS.map((kind) => arbitraries[kind].map((bytes) => ({ kind, bytes }))));

/** `count` packets from `seed` (deterministic). */
export function samplePackets(count: number, seed: number): FuzzPacket[] {
  return fc.sample(hostilePacket, { numRuns: count, seed });
}

export interface ReplyCheck {
  replies: number;
  /** Replies that are not a DNS response header (QR=0, or shorter than 12 bytes). */
  malformed: number;
  byRcode: Record<number, number>;
}

/**
 * Sends `packets` over UDP from one socket as fast as the socket takes them and counts the
 * replies that come back within `settleMs` of the last send.
 */
export async function blastUdp(port: number, packets: readonly FuzzPacket[], settleMs = 20): Promise<ReplyCheck> {
  const sock = dgram.createSocket('udp4');
  const result: ReplyCheck = { replies: 0, malformed: 0, byRcode: {} };
  sock.on('message', (msg) => {
    result.replies++;
    if (msg.length < 12 || (msg[2] & 0x80) === 0) result.malformed++;
    else result.byRcode[msg[3] & 15] = (result.byRcode[msg[3] & 15] ?? 0) + 1;
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  let i = 0;
  await new Promise<void>((resolve, reject) => {
    const sendNext = (): void => {
      // Keep a few sends in flight; a zero-length datagram is a valid (hostile) packet too.
      if (i >= packets.length) return resolve();
      const p = packets[i++];
      sock.send(p.bytes, port, '127.0.0.1', (err) => (err ? reject(err) : sendNext()));
    };
    for (let k = 0; k < 16; k++) sendNext();
  });
  await new Promise((r) => setTimeout(r, settleMs));
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return result;
}

/** Frames each packet (2-byte length) and writes them on one TCP connection, then closes it. */
export function blastTcp(port: number, packets: readonly FuzzPacket[], settleMs = 50): Promise<ReplyCheck> {
  return new Promise((resolve) => {
    const result: ReplyCheck = { replies: 0, malformed: 0, byRcode: {} };
    const conn = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    conn.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        result.replies++;
        if (msg.length < 12 || (msg[2] & 0x80) === 0) result.malformed++;
        else result.byRcode[msg[3] & 15] = (result.byRcode[msg[3] & 15] ?? 0) + 1;
      }
    });
    conn.on('error', () => undefined); // the server may hang up on a broken frame
    conn.on('close', () => resolve(result));
    conn.on('connect', () => {
      const frames = packets.map((p) => {
        const f = Buffer.alloc(2 + p.bytes.length);
        f.writeUInt16BE(p.bytes.length, 0);
        Buffer.from(p.bytes).copy(f, 2);
        return f;
      });
      // Reset instead of FIN: no TIME_WAIT left on an ephemeral port other tests may want.
      conn.write(Buffer.concat(frames), () => setTimeout(() => conn.resetAndDestroy(), settleMs));
    });
    setTimeout(() => conn.destroy(), 5000).unref();
  });
}

/** A TCP client that announces `length` bytes but sends `sent` bytes, then closes. */
export function lyingTcpFrame(port: number, length: number, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const conn = net.connect({ host: '127.0.0.1', port });
    conn.on('error', () => resolve());
    conn.on('close', () => resolve());
    conn.on('connect', () => {
      const f = Buffer.alloc(2 + sent, 0x41);
      f.writeUInt16BE(length, 0);
      conn.write(f, () => setTimeout(() => conn.resetAndDestroy(), 5));
    });
  });
}

/** Sends one framed query a byte at a time, `gapMs` apart, and waits for the framed reply. */
export function slowDripQuery(port: number, query: Buffer, gapMs: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const frame = Buffer.alloc(2 + query.length);
    frame.writeUInt16BE(query.length, 0);
    query.copy(frame, 2);
    const conn = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let at = 0;
    let drip: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      clearInterval(drip);
      conn.destroy();
      reject(new Error(`slow-drip reply not received within ${timeoutMs} ms (sent ${at}/${frame.length} bytes)`));
    }, timeoutMs);
    conn.on('connect', () => {
      drip = setInterval(() => {
        if (at >= frame.length) return clearInterval(drip);
        conn.write(frame.subarray(at, at + 1));
        at++;
      }, gapMs);
    });
    conn.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        clearInterval(drip);
        conn.resetAndDestroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    conn.on('error', (e) => {
      clearTimeout(timer);
      clearInterval(drip);
      reject(e);
    });
  });
}
