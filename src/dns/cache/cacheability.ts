import { Rcode, RRType } from '../wire/constants';
import { anCount, isTruncated, readRcode } from '../wire/message';
import { walkRecords } from '../wire/sections';

/** Why a reply is not cached (for tests and debug logs). */
export type NotCacheableReason = 'malformed' | 'truncated' | 'rcode' | 'negative-without-soa' | 'zero-ttl';

export type Cacheability =
  | {
      cacheable: true;
      /** Seconds the entry lives. */
      ttl: number;
      negative: boolean;
      /** Offsets of every TTL field to decrement on a hit (all records but OPT). */
      ttlOffsets: number[];
    }
  | { cacheable: false; reason: NotCacheableReason };

/** RFC 2181 §8: a TTL with the top bit set is treated as zero. */
const readTtl = (msg: Buffer, offset: number): number => {
  const ttl = msg.readUInt32BE(offset);
  return ttl > 0x7fffffff ? 0 : ttl;
};

/**
 * Whether and for how long an upstream reply may be cached.
 *
 * Positive answers live for the smallest TTL of their records. Negative answers (NXDOMAIN,
 * or NODATA = NOERROR without answers) live for min(SOA TTL, SOA MINIMUM) of the SOA in the
 * authority section (RFC 2308 §5), and are not cached without one (a referral or a lame
 * answer looks the same). SERVFAIL, REFUSED and every other rcode, truncated replies and
 * anything with a zero TTL are never cached.
 */
export function cacheability(reply: Buffer): Cacheability {
  if (reply.length < 12) return { cacheable: false, reason: 'malformed' };
  if (isTruncated(reply)) return { cacheable: false, reason: 'truncated' };
  const rcode = readRcode(reply);
  if (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN) return { cacheable: false, reason: 'rcode' };
  const negative = rcode === Rcode.NXDOMAIN || anCount(reply) === 0;

  let minTtl = Infinity;
  let soaLimit = Infinity;
  const ttlOffsets: number[] = [];
  const end = walkRecords(reply, (rr) => {
    if (rr.type === RRType.OPT) return;
    ttlOffsets.push(rr.ttlOffset);
    const ttl = readTtl(reply, rr.ttlOffset);
    minTtl = Math.min(minTtl, ttl);
    // SOA rdata ends with five 32-bit numbers; MINIMUM is the last. 22 = two 1-byte names + 20.
    if (negative && rr.section === 'authority' && rr.type === RRType.SOA && rr.rdLength >= 22 && soaLimit === Infinity) {
      soaLimit = Math.min(ttl, readTtl(reply, rr.rdataOffset + rr.rdLength - 4));
    }
  });
  if (end < 0) return { cacheable: false, reason: 'malformed' };
  if (negative && soaLimit === Infinity) return { cacheable: false, reason: 'negative-without-soa' };
  const ttl = Math.min(minTtl, soaLimit);
  if (ttl === 0 || ttl === Infinity) return { cacheable: false, reason: 'zero-ttl' };
  return { cacheable: true, ttl, negative, ttlOffsets };
}
