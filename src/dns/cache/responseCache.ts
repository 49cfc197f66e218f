import type { Query } from '../types';
import { message } from '../forward';
import { cacheability } from './cacheability';

const { HEADER_SIZE, sameQuestion } = message;

export interface ResponseCacheOptions {
  /** Most entries kept; the least recently used goes first. 0 turns the cache off. */
  maxEntries: number;
  /** Upper bound on how long any entry lives (seconds); default 1 day. */
  maxTtl?: number;
  /** Upper bound for NXDOMAIN/NODATA entries (seconds); default 3 hours (RFC 2308 §5). */
  maxNegativeTtl?: number;
  /** Milliseconds on a monotonic clock; injectable for tests. */
  now?: () => number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
  evictions: number;
}

interface Entry {
  /** The reply as stored (never handed out: hits get a patched copy). */
  reply: Buffer;
  insertedAt: number;
  expiresAt: number;
  ttlOffsets: number[];
  questionEnd: number;
}

/** Cache key: lower-case name, type, class, and the DO bit (DNSSEC records differ with it). */
export function cacheKey(query: Query): string {
  const dnssecOk = query.edns !== null && query.edns.dnssecOk ? 1 : 0;
  return `${query.key}|${query.type}|${query.class}|${dnssecOk}`;
}

/**
 * Upstream replies by question (DESIGN §3, beyond Istio). A hit is a copy of the stored bytes
 * with every TTL (but OPT's) lowered by the whole seconds elapsed, the client's ID and the
 * client's question spelling (0x20-safe). Fitting a hit to the client (OPT, truncation) is the
 * caller's job: see `createCacheHandler`.
 */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxTtl: number;
  private readonly maxNegativeTtl: number;
  private readonly now: () => number;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(options: ResponseCacheOptions) {
    this.maxEntries = Math.max(0, options.maxEntries);
    this.maxTtl = options.maxTtl ?? 86_400;
    this.maxNegativeTtl = options.maxNegativeTtl ?? 10_800;
    this.now = options.now ?? (() => performance.now());
  }

  get enabled(): boolean {
    return this.maxEntries > 0;
  }

  /** A fresh reply for `query`, or null on a miss (expired entries are dropped here). */
  lookup(query: Query): Buffer | null {
    if (!this.enabled) return null;
    const key = cacheKey(query);
    const entry = this.entries.get(key);
    const now = this.now();
    if (entry === undefined || now >= entry.expiresAt || entry.questionEnd !== query.questionEnd) {
      if (entry !== undefined) this.entries.delete(key);
      this.misses++;
      return null;
    }
    // Most recently used goes to the end of the Map's insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits++;

    const out = Buffer.from(entry.reply);
    const elapsed = Math.floor((now - entry.insertedAt) / 1000);
    if (elapsed > 0) {
      for (const offset of entry.ttlOffsets) {
        const ttl = out.readUInt32BE(offset);
        out.writeUInt32BE(ttl > 0x7fffffff ? 0 : Math.max(0, ttl - elapsed), offset);
      }
    }
    out.writeUInt16BE(query.id, 0);
    query.packet.copy(out, HEADER_SIZE, HEADER_SIZE, query.questionEnd);
    return out;
  }

  /** Keeps a copy of `reply` for `query` if it is cacheable; returns whether it did. */
  store(query: Query, reply: Buffer): boolean {
    if (!this.enabled) return false;
    // Only a reply to exactly this question may answer it later.
    if (!sameQuestion(query.packet, query.questionEnd, reply)) return false;
    const verdict = cacheability(reply);
    if (!verdict.cacheable) return false;
    const ttl = Math.min(verdict.ttl, verdict.negative ? this.maxNegativeTtl : this.maxTtl);
    const now = this.now();
    const key = cacheKey(query);
    this.entries.delete(key);
    this.entries.set(key, {
      reply: Buffer.from(reply),
      insertedAt: now,
      expiresAt: now + ttl * 1000,
      ttlOffsets: verdict.ttlOffsets,
      questionEnd: query.questionEnd,
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evictions++;
    }
    return true;
  }

  clear(): void {
    this.entries.clear();
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.entries.size, evictions: this.evictions };
  }
}
