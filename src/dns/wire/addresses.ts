/**
 * Textual IP addresses → the 4 or 16 bytes of A/AAAA rdata. Hand-written rather than
 * `net.SocketAddress` tricks so the table builder can precompute every answer cheaply; returns
 * `null` (never throws) for text that is not an address of that family.
 */

const DECIMAL_OCTET = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** `"10.0.0.1"` → 4 bytes, or `null`. */
export function ipv4Bytes(text: string): Buffer | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = Buffer.allocUnsafe(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!DECIMAL_OCTET.test(part)) return null;
    out[i] = Number(part);
  }
  return out;
}

/** `"2001:db8::1"`, `"::ffff:1.2.3.4"`, `"fe80::1%eth0"` → 16 bytes, or `null`. */
export function ipv6Bytes(text: string): Buffer | null {
  const zone = text.indexOf('%');
  const address = zone >= 0 ? text.slice(0, zone) : text;
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const head = groupsOf(halves[0] as string, halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1] as string, true) : [];
  if (head === null || tail === null) return null;
  const compressed = halves.length === 2;
  const total = head.length + tail.length;
  if (compressed ? total > 7 : total !== 8) return null;

  const out = Buffer.alloc(16);
  head.forEach((group, i) => out.writeUInt16BE(group, i * 2));
  tail.forEach((group, i) => out.writeUInt16BE(group, (8 - tail.length + i) * 2));
  return out;
}

/**
 * The 16-bit groups of one side of `::`. An embedded IPv4 address (the last two groups) is only
 * allowed at the very end of the address, which is why the caller says whether this side ends it.
 */
function groupsOf(side: string, endsAddress: boolean): number[] | null {
  if (side === '') return [];
  const parts = side.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (endsAddress && i === parts.length - 1 && part.includes('.')) {
      const v4 = ipv4Bytes(part);
      if (v4 === null) return null;
      groups.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
    } else if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}
