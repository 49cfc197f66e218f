/**
 * The floor of a Node.js UDP server on this machine: answers every query with its own bytes
 * (QR set, no records), no parsing, no lookup. `npm run bench` measures it next to meshdns so
 * that the share of meshdns' cost that is its own code, not Node's socket path, is visible.
 * Usage: node dist/bench/node-floor.js ADDRESS PORT
 */
import { createSocket } from 'node:dgram';

function main(address: string, port: number): void {
  const socket = createSocket('udp4');
  socket.on('message', (packet, rinfo) => {
    if (packet.length < 12) return;
    packet[2] |= 0x80; // QR: a response, RCODE stays NOERROR
    socket.send(packet, rinfo.port, rinfo.address);
  });
  socket.bind(port, address);
  process.on('SIGTERM', () => process.exit(0));
}

if (require.main === module) main(process.argv[2] ?? '127.0.0.2', Number(process.argv[3]));
