// A plain DNS client for tests: encodes with dns-packet, sends over UDP or TCP to loopback,
// returns the raw reply and its decoding.
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';

export interface AskOptions {
  transport?: 'udp' | 'tcp';
  /** EDNS UDP size to advertise; undefined = no OPT. */
  edns?: number;
  id?: number;
  timeoutMs?: number;
  host?: string;
}

export interface Answer {
  raw: Buffer;
  msg: dnsPacket.Packet;
  rcode: string;
  flags: { aa: boolean; ra: boolean; tc: boolean; rd: boolean };
}

export function encodeQuery(name: string, type: string, opts: AskOptions = {}): Buffer {
  const packet: dnsPacket.Packet = {
    type: 'query',
    id: opts.id ?? Math.floor(Math.random() * 65535),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as dnsPacket.RecordType, class: 'IN' }],
  };
  if (opts.edns !== undefined) packet.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns } as unknown as dnsPacket.Answer];
  return dnsPacket.encode(packet);
}

export function decodeAnswer(raw: Buffer): Answer {
  const msg = dnsPacket.decode(raw);
  const f = msg.flags ?? 0;
  return {
    raw,
    msg,
    rcode: (msg as { rcode?: string }).rcode ?? 'NOERROR',
    flags: { aa: (f & 0x400) !== 0, tc: (f & 0x200) !== 0, rd: (f & 0x100) !== 0, ra: (f & 0x80) !== 0 },
  };
}

export function sendRaw(port: number, packet: Buffer, opts: AskOptions = {}): Promise<Buffer> {
  const host = opts.host ?? '127.0.0.1';
  const timeoutMs = opts.timeoutMs ?? 3000;
  if ((opts.transport ?? 'udp') === 'udp') {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      const timer = setTimeout(() => {
        sock.close();
        reject(new Error(`timeout after ${timeoutMs} ms`));
      }, timeoutMs);
      sock.on('message', (msg) => {
        clearTimeout(timer);
        sock.close();
        resolve(msg);
      });
      sock.send(packet, port, host);
    });
  }
  return new Promise((resolve, reject) => {
    const conn = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    conn.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(packet.length);
      conn.write(Buffer.concat([len, packet]));
    });
    conn.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        conn.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    conn.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function ask(port: number, name: string, type: string, opts: AskOptions = {}): Promise<Answer> {
  return decodeAnswer(await sendRaw(port, encodeQuery(name, type, opts), opts));
}

/** "A owner data" strings of the answer section, for compact assertions. */
export function answerLines(a: Answer): string[] {
  return (a.msg.answers ?? []).map((rr) => {
    const data = (rr as { data?: unknown }).data;
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    return `${rr.type} ${rr.name} ${text}`;
  });
}
