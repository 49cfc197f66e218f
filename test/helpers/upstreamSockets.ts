// What the scriptable test upstreams (fakeUpstream, chaosUpstream) share: one port for UDP and
// TCP, DNS-over-TCP framing, and telling meshdns's loop probe apart from test traffic.
import * as dgram from 'dgram';
import * as net from 'net';

/** Binds UDP to a kernel-chosen port on 127.0.0.1 and TCP to the same port (retrying on a clash). */
export async function bindSamePort(tcp: net.Server, who: string): Promise<{ udp: dgram.Socket; port: number }> {
  for (let tries = 0; tries < 20; tries++) {
    const udp = dgram.createSocket('udp4');
    udp.on('error', () => undefined);
    const port = await new Promise<number>((resolve) => udp.bind(0, '127.0.0.1', () => resolve(udp.address().port)));
    const tcpOk = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (tcpOk) return { udp, port };
    await new Promise<void>((resolve) => udp.close(() => resolve()));
  }
  throw new Error(`${who}: no port free for both UDP and TCP on 127.0.0.1`);
}

/** A DNS message with its 2-byte TCP length prefix. */
export function frame(packet: Buffer): Buffer {
  const out = Buffer.alloc(2 + packet.length);
  out.writeUInt16BE(packet.length, 0);
  packet.copy(out, 2);
  return out;
}

/** Calls `onMessage` for every complete length-prefixed message arriving on `socket`. */
export function onFramedMessages(socket: net.Socket, onMessage: (msg: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      const msg = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
      buffered = buffered.subarray(2 + msg.length);
      onMessage(msg);
    }
  });
}

/** meshdns's loop probe (one random name per upstream at start) is not a test query. */
export function isLoopProbe(name: string): boolean {
  return name.toLowerCase().endsWith('.meshdns-loop-check');
}
