/**
 * Domain names on the wire (RFC 1035 §3.1, §4.1.4) and in presentation form.
 *
 * Presentation form here: labels joined by `.`, no trailing dot, `""` for the root. Bytes that
 * would be ambiguous or unprintable are escaped the way dig prints them: `\.` and `\\` for a dot
 * or backslash inside a label, `\DDD` (decimal) for bytes outside 0x21–0x7e. So any wire name
 * round-trips, and the string is pure ASCII (safe to lower-case with `toLowerCase`).
 *
 * Every reader here is bounded and returns an error value instead of throwing: they run on
 * untrusted packets.
 */
import { ipv4Bytes, ipv6Bytes } from './addresses';

export const MAX_LABEL_LENGTH = 63;
/** Wire length of a name including every length byte and the root byte. */
export const MAX_NAME_LENGTH = 255;
/** More hops than any legitimate message needs; stops pointer chains that loop. */
export const MAX_POINTER_HOPS = 128;

export type NameRead =
  | { ok: true; name: string; /** Offset just past the name where it started (after the first pointer, if any). */ end: number }
  | { ok: false; error: string };

/** Reads a name that may use compression pointers (answers from upstreams, additional records). */
export function readName(buf: Buffer, offset: number): NameRead {
  return decodeName(buf, offset, true);
}

/**
 * Reads a name that must not contain compression pointers: a query's question name is the first
 * name in the message, so there is nothing before it to point to.
 */
export function readUncompressedName(buf: Buffer, offset: number): NameRead {
  return decodeName(buf, offset, false);
}

export type QuestionNameRead =
  | { ok: true; name: string; /** `name` lower-cased (ASCII letters only). */ key: string; end: number }
  | { ok: false; error: string };

// Scratch space for the question-name fast path. Only ever read back into new strings before
// returning, so sharing them between calls is safe (JavaScript runs one call at a time).
const nameScratch = Buffer.allocUnsafe(MAX_NAME_LENGTH);
const keyScratch = Buffer.allocUnsafe(MAX_NAME_LENGTH);

/**
 * The hot path of query parsing: the question name and its lower-cased key in one pass, two
 * string creations at most (one when the client sent no upper-case letters). Same rules and
 * results as `readUncompressedName` + `toLowerCase`, which it falls back to for names with bytes
 * that need escaping.
 */
export function readQuestionName(buf: Buffer, offset: number): QuestionNameRead {
  let pos = offset;
  let n = 0;
  let wireLength = 1;
  let hasUpper = false;
  for (;;) {
    if (pos >= buf.length) return { ok: false, error: 'name runs past the end of the packet' };
    const len = buf[pos] as number;
    if (len === 0) break;
    if (len > MAX_LABEL_LENGTH) return readQuestionNameSlowly(buf, offset);
    wireLength += len + 1;
    if (wireLength > MAX_NAME_LENGTH) return { ok: false, error: 'name longer than 255 bytes' };
    const labelEnd = pos + 1 + len;
    if (labelEnd > buf.length) return { ok: false, error: 'label runs past the end of the packet' };
    if (n > 0) {
      nameScratch[n] = 0x2e;
      keyScratch[n] = 0x2e;
      n++;
    }
    for (let i = pos + 1; i < labelEnd; i++) {
      const c = buf[i] as number;
      if (needsEscape(c)) return readQuestionNameSlowly(buf, offset);
      nameScratch[n] = c;
      if (c >= 0x41 && c <= 0x5a) {
        keyScratch[n] = c | 0x20;
        hasUpper = true;
      } else {
        keyScratch[n] = c;
      }
      n++;
    }
    pos = labelEnd;
  }
  const name = n === 0 ? '' : nameScratch.toString('latin1', 0, n);
  const key = hasUpper ? keyScratch.toString('latin1', 0, n) : name;
  return { ok: true, name, key, end: pos + 1 };
}

function readQuestionNameSlowly(buf: Buffer, offset: number): QuestionNameRead {
  const read = decodeName(buf, offset, false);
  return read.ok ? { ok: true, name: read.name, key: read.name.toLowerCase(), end: read.end } : read;
}

function decodeName(buf: Buffer, offset: number, allowPointers: boolean): NameRead {
  let pos = offset;
  let end = -1;
  let hops = 0;
  let wireLength = 1; // the root byte
  let name = '';
  for (;;) {
    if (pos >= buf.length) return { ok: false, error: 'name runs past the end of the packet' };
    const len = buf[pos] as number;
    if (len === 0) {
      if (end < 0) end = pos + 1;
      return { ok: true, name, end };
    }
    const labelType = len & 0xc0;
    if (labelType === 0xc0) {
      if (!allowPointers) return { ok: false, error: 'compression pointer in the question name' };
      if (pos + 1 >= buf.length) return { ok: false, error: 'compression pointer cut off' };
      if (++hops > MAX_POINTER_HOPS) return { ok: false, error: 'too many compression pointers (a loop)' };
      if (end < 0) end = pos + 2;
      pos = ((len & 0x3f) << 8) | (buf[pos + 1] as number);
      continue;
    }
    if (labelType !== 0) return { ok: false, error: `label length byte 0x${len.toString(16)}: labels are at most 63 bytes` };
    wireLength += len + 1;
    if (wireLength > MAX_NAME_LENGTH) return { ok: false, error: 'name longer than 255 bytes' };
    const labelEnd = pos + 1 + len;
    if (labelEnd > buf.length) return { ok: false, error: 'label runs past the end of the packet' };
    const label = labelText(buf, pos + 1, labelEnd);
    name = name === '' ? label : name + '.' + label;
    pos = labelEnd;
  }
}

/**
 * Offset just past the name at `offset`, or -1 if it is malformed. Pointers end the name and are
 * not followed, so this cannot loop; it is how sections are walked without decoding names.
 */
export function skipName(buf: Buffer, offset: number): number {
  let pos = offset;
  let wireLength = 1;
  for (;;) {
    if (pos >= buf.length) return -1;
    const len = buf[pos] as number;
    if (len === 0) return pos + 1;
    const labelType = len & 0xc0;
    if (labelType === 0xc0) return pos + 2 <= buf.length ? pos + 2 : -1;
    if (labelType !== 0) return -1;
    wireLength += len + 1;
    if (wireLength > MAX_NAME_LENGTH) return -1;
    pos += len + 1;
  }
}

function labelText(buf: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (needsEscape(buf[i] as number)) return escapedLabel(buf, start, end);
  }
  return buf.toString('latin1', start, end);
}

export function needsEscape(byte: number): boolean {
  return byte <= 0x20 || byte >= 0x7f || byte === 0x2e /* . */ || byte === 0x5c /* \ */;
}

function escapedLabel(buf: Buffer, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) {
    const byte = buf[i] as number;
    if (byte === 0x2e || byte === 0x5c) text += '\\' + String.fromCharCode(byte);
    else if (needsEscape(byte)) text += '\\' + String(byte).padStart(3, '0');
    else text += String.fromCharCode(byte);
  }
  return text;
}

/**
 * Presentation form → wire bytes (uncompressed). A trailing dot is allowed; `""` and `"."` are
 * the root. Throws a RangeError naming the problem for names that cannot be encoded: callers pass
 * names from the table, which are validated when it is built.
 */
export function encodeName(name: string): Buffer {
  if (name === '' || name === '.') return Buffer.from([0]);
  const out: number[] = [0];
  let lengthAt = 0;
  const closeLabel = (): void => {
    const len = out.length - lengthAt - 1;
    if (len === 0) throw new RangeError(`cannot encode name "${name}": empty label`);
    if (len > MAX_LABEL_LENGTH) throw new RangeError(`cannot encode name "${name}": label longer than 63 bytes`);
    out[lengthAt] = len;
    lengthAt = out.length;
    out.push(0);
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      closeLabel();
    } else if (c === 0x5c) {
      const digits = name.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(digits)) {
        const value = Number(digits);
        if (value > 255) throw new RangeError(`cannot encode name "${name}": \\${digits} is not a byte`);
        out.push(value);
        i += 3;
      } else {
        if (i + 1 >= name.length) throw new RangeError(`cannot encode name "${name}": dangling backslash`);
        out.push(byteOf(name, name.charCodeAt(++i)));
      }
    } else {
      out.push(byteOf(name, c));
    }
  }
  // Without a trailing dot the last label is still open; with one, the open slot is the root byte.
  if (out.length - lengthAt - 1 > 0) closeLabel();
  if (out.length > MAX_NAME_LENGTH) throw new RangeError(`cannot encode name "${name}": longer than 255 bytes`);
  return Buffer.from(out);
}

function byteOf(name: string, charCode: number): number {
  if (charCode > 0x7e) throw new RangeError(`cannot encode name "${name}": non-ASCII character (use the punycode form)`);
  return charCode;
}

/**
 * The reverse-lookup name of an address: `10.0.0.1` → `1.0.0.10.in-addr.arpa`, IPv6 as 32
 * nibbles under `ip6.arpa`; lower-case, no trailing dot. Throws a RangeError for text that is
 * not an IP address.
 */
export function reverseName(ip: string): string {
  const v4 = ipv4Bytes(ip);
  if (v4 !== null) return `${v4[3]}.${v4[2]}.${v4[1]}.${v4[0]}.in-addr.arpa`;
  const v6 = ipv6Bytes(ip);
  if (v6 === null) throw new RangeError(`reverseName: "${ip}" is not an IPv4 or IPv6 address`);
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) {
    const byte = v6[i] as number;
    nibbles.push((byte & 0x0f).toString(16), (byte >> 4).toString(16));
  }
  return nibbles.join('.') + '.ip6.arpa';
}
