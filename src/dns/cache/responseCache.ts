import type { Query } from '../types';
import { HEADER_LENGTH, RRType, TCP_MAX } from '../wire/constants';
import { sameQuestion } from '../wire/message';
import { answerFlagsFor } from '../wire/reply';
import { walkRecords } from '../wire/sections';
import { shapeForClient, type ReplyClient } from '../wire/shape';
import { cacheability } from './cacheability';

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
  /** The reply already shaped for a client without (0) and with (1) EDNS, made on the first fast hit. */
  shaped?: [ShapedReply | undefined, ShapedReply | undefined];
}

interface ShapedReply {
  bytes: Buffer;
  ttlOffsets: number[];
}

/** What the UDP fast path knows of a hot-shape query (see `ResponseCache.answerInto`). */
export interface FastCacheQuery {
  /** Lower-case name, the A/AAAA type, whether the query had EDNS and its DO bit. */
  key: string;
  type: number;
  edns: boolean;
  dnssecOk: boolean;
  /** Largest reply the client takes (512, or its EDNS size). */
  maxResponseSize: number;
  /** The client's message: ID at `start`, question from `start + 12` to `start + questionEnd`. */
  data: Buffer;
  start: number;
  questionEnd: number;
}

/** Cache key: lower-case name, type, class, and the DO bit (DNSSEC records differ with it). */
export function cacheKey(query: Query): string {
  const dnssecOk = query.edns !== null && query.edns.dnssecOk ? 1 : 0;
  return `${query.key}|${query.type}|${query.class}|${dnssecOk}`;
}

/** `cacheKey` of a class IN query, from its parts. */
function cacheKeyIn(key: string, type: number, dnssecOk: boolean): string {
  return `${key}|${type}|1|${dnssecOk ? 1 : 0}`;
}

/**
 * The stored reply as `createCacheHandler` would hand it to a client with (or without) EDNS,
 * before the per-query patches (ID, question spelling, TTLs): what the fast path copies.
 */
function shapeStored(entry: Entry, edns: boolean, dnssecOk: boolean): ShapedReply {
  // Not truncated here (no size limit): the fast path checks the client's limit per query.
  const client: ReplyClient = {
    packet: entry.reply,
    id: entry.reply.readUInt16BE(0),
    // RD and CD are the asking client's: the fast path patches them per hit.
    flags: 0,
    questionEnd: entry.questionEnd,
    edns: edns ? { dnssecOk } : null,
    maxResponseSize: TCP_MAX,
  };
  const bytes = Buffer.from(shapeForClient(Buffer.from(entry.reply), client));
  const ttlOffsets: number[] = [];
  walkRecords(bytes, (rr) => {
    if (rr.type !== RRType.OPT) ttlOffsets.push(rr.ttlOffset);
  });
  return { bytes, ttlOffsets };
}

/**
 * Upstream replies by question (docs/ARCHITECTURE.md §3, beyond Istio). A hit is a copy of the
 * stored bytes with every TTL (but OPT's) lowered by the whole seconds elapsed, the client's ID,
 * RD and CD bits (never those of the query that filled the entry) and the client's question
 * spelling (0x20-safe). Fitting a hit to the client (OPT, truncation) is the caller's job: see
 * `createCacheHandler`.
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
    out.writeUInt16BE(answerFlagsFor(out.readUInt16BE(2), query.flags), 2);
    query.packet.copy(out, HEADER_LENGTH, HEADER_LENGTH, query.questionEnd);
    return out;
  }

  /**
   * The UDP fast path's hit: writes into `out` at `outStart` exactly what `lookup` followed by
   * `createCacheHandler`'s shaping would send, and returns its length; 0 when this is not a
   * plain fresh hit that fits the client (the general path then does the same lookup and
   * handles the miss, expiry or truncation). Counts the hit and refreshes the LRU order as
   * `lookup` does.
   */
  answerInto(q: FastCacheQuery, out: Buffer, outStart: number): number {
    if (!this.enabled) return 0;
    const key = cacheKeyIn(q.key, q.type, q.dnssecOk);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.questionEnd !== q.questionEnd) return 0;
    const now = this.now();
    if (now >= entry.expiresAt) return 0;
    const variant = q.edns ? 1 : 0;
    const shaped = (entry.shaped ??= [undefined, undefined]);
    const reply = (shaped[variant] ??= shapeStored(entry, q.edns, q.dnssecOk));
    const bytes = reply.bytes;
    if (bytes.length > q.maxResponseSize) return 0;
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits++;

    bytes.copy(out, outStart);
    out[outStart] = q.data[q.start];
    out[outStart + 1] = q.data[q.start + 1];
    // RD (0x01 of byte 2) and CD (0x10 of byte 3) are this client's, as answerFlagsFor makes them
    // on the general path (the shaped bytes went through it, so Z is already clear).
    out[outStart + 2] = (bytes[2] & 0xfe) | (q.data[q.start + 2] & 0x01);
    out[outStart + 3] = (bytes[3] & 0xef) | (q.data[q.start + 3] & 0x10);
    q.data.copy(out, outStart + HEADER_LENGTH, q.start + HEADER_LENGTH, q.start + q.questionEnd);
    const elapsed = Math.floor((now - entry.insertedAt) / 1000);
    if (elapsed > 0) {
      for (const offset of reply.ttlOffsets) {
        const at = outStart + offset;
        const ttl = out.readUInt32BE(at);
        out.writeUInt32BE(ttl > 0x7fffffff ? 0 : Math.max(0, ttl - elapsed), at);
      }
    }
    return bytes.length;
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
