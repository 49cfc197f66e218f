import { endianness } from 'node:os';
import { ipv4Bytes, ipv6Bytes } from '../wire/addresses';

/**
 * `struct sockaddr_in` / `sockaddr_in6` as the native UDP engine hands them over and takes them:
 * family in host byte order, port and address in network order (Linux layout).
 */
const AF_INET = 2;
const AF_INET6 = 10;
const littleEndian = endianness() === 'LE';

function familyAt(bytes: Buffer, offset: number): number {
  return littleEndian ? bytes.readUInt16LE(offset) : bytes.readUInt16BE(offset);
}

/** The text form of a socket address as the kernel filled it in; '' for another family. */
export function socketAddressText(bytes: Buffer, offset: number, length: number): string {
  const family = familyAt(bytes, offset);
  if (family === AF_INET && length >= 8) {
    return `${bytes[offset + 4]}.${bytes[offset + 5]}.${bytes[offset + 6]}.${bytes[offset + 7]}`;
  }
  if (family === AF_INET6 && length >= 24) {
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(offset + 8 + i * 2).toString(16));
    // Not compressed (RFC 5952 form is for display); BlockList and isIP accept the long form.
    return groups.join(':');
  }
  return '';
}

/**
 * The socket address of `host`:`port`, or null when it is not a literal of `family` or is a
 * scoped IPv6 address (that needs its interface index, which only dgram resolves).
 */
export function encodeSockaddr(host: string, port: number, family: 4 | 6): Buffer | null {
  if (host.includes('%')) return null;
  const address = family === 4 ? ipv4Bytes(host) : ipv6Bytes(host);
  if (address === null) return null;
  const out = Buffer.alloc(family === 4 ? 16 : 28);
  if (littleEndian) out.writeUInt16LE(family === 4 ? AF_INET : AF_INET6, 0);
  else out.writeUInt16BE(family === 4 ? AF_INET : AF_INET6, 0);
  out.writeUInt16BE(port, 2);
  address.copy(out, family === 4 ? 4 : 8);
  return out;
}

/** Family, port and address of a received socket address against an encoded one (padding, flow and scope ignored). */
export function sameEndpoint(received: Buffer, at: number, length: number, expected: Buffer): boolean {
  if (length < expected.length) return false;
  const addressAt = expected.length === 16 ? 4 : 8;
  const addressEnd = expected.length === 16 ? 8 : 24;
  for (let i = 0; i < 4; i++) if (received[at + i] !== expected[i]) return false;
  for (let i = addressAt; i < addressEnd; i++) if (received[at + i] !== expected[i]) return false;
  return true;
}
