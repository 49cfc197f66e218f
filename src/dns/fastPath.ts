import type { NameTable } from '../nametable/types';
import type { FastCacheQuery } from './cache/responseCache';
import { answerFromTable } from './meshHandler';
import type { AnswerStore } from './udp/answerStore';
import type { FastAnswer } from './udp/batchListener';
import { MAX_LABEL_LENGTH, needsEscape, parseQuery } from './wire';
import { HEADER_LENGTH, RRClass, RRType, UDP_DEFAULT_MAX } from './wire/constants';

/**
 * The UDP fast path (issue #6) for the hot query shape: one question, A or AAAA, class IN, no
 * EDNS or an OPT without options, a name in the mesh table. It answers from reply *templates*:
 * the first query for (name, type, EDNS state) goes through the general path (`parseQuery` →
 * `answerFromTable`, exactly what the handler chain runs) and its reply is kept; later queries
 * copy the template and patch what differs between queries — the ID, the RD and CD bits and the
 * question name's letter case (0x20). Everything else in such a reply depends only on the table,
 * the TTL and the EDNS state, which are all part of the template's identity; so the fast path's
 * bytes equal the general path's (test/dns/fastPath.test.ts proves it for every parity row).
 *
 * A name the table does not answer may be a cache hit: the cache writes its reply the way the
 * cache handler would (`ResponseCache.answerInto`). Anything else (other shapes, misses, replies
 * a client limit would truncate) returns 0 and takes the general path.
 *
 * With a native answer store (udp/answerStore.ts) every local template is also put there, and the
 * native engine answers later queries for it without calling JS at all. The store is cleared
 * with the templates; `sync()` must be called when the table, the TTL or `enabled()` may have
 * changed, since queries the store answers never reach `answer` to notice.
 */
export interface FastPathOptions {
  table(): NameTable | undefined;
  ttl(): number;
  /** False while every query must go through the pipeline (per-query debug logging). */
  enabled(): boolean;
  /** The response cache, when it is on. */
  cache?: { answerInto(query: FastCacheQuery, out: Buffer, outStart: number): number };
  /** Called for the replies the fast path sends (metrics): `count` of them, of one type and source. */
  onAnswered(qtype: number, source: 'local' | 'cached', count: number): void;
  /** The native engine's copy of the local templates, when UDP runs on it. */
  store?: AnswerStore;
}

/** Templates kept across all (type, EDNS) maps before they are dropped and rebuilt on demand. */
const MAX_TEMPLATES = 32_768;
/** OPT without options: root name (1), TYPE, CLASS, TTL (4), RDLENGTH. */
const BARE_OPT_LENGTH = 11;
/** Marks a name the table does not answer (cache or forwarder): no table lookup for it until the next reload. */
const NOT_LOCAL = Buffer.alloc(0);
/** Marks a local answer that differs per query (several addresses, rotated): the general path answers it. */
const ROTATING = Buffer.alloc(0);

export interface FastPath {
  answer: FastAnswer;
  /** The native store the listeners answer from (the one given in the options). */
  readonly store: AnswerStore | undefined;
  /** Number of templates held (tests, status). */
  readonly size: number;
  /** Drops the templates (and the store's) if the table, the TTL or `enabled()` changed since they were made. */
  sync(): void;
  /** Reports the store's answers since the last call through `onAnswered` (before metrics are read). */
  settleCounts(): void;
}

export function createFastPath(options: FastPathOptions): FastPath {
  // Index: (qtype A → 0, AAAA → 3) + EDNS state (0 none, 1 OPT with DO=0, 2 OPT with DO=1).
  const templates: Array<Map<string, Buffer>> = Array.from({ length: 6 }, () => new Map());
  let templateCount = 0;
  let templatesFor: NameTable | undefined;
  let templatesTtl = -1;
  const keyScratch = Buffer.allocUnsafe(255);

  const store = options.store;

  const forget = (): void => {
    for (const map of templates) map.clear();
    templateCount = 0;
    store?.clear();
  };

  const sync = (): void => {
    if (templateCount === 0) return;
    if (!options.enabled() || options.table() !== templatesFor || options.ttl() !== templatesTtl) forget();
  };

  const answer: FastAnswer = (data, start, length, out, outStart) => {
    const end = start + length;
    if (!options.enabled()) {
      if (templateCount > 0) forget();
      return 0;
    }
    if (length < HEADER_LENGTH + 5) return 0;
    // QR=0, opcode QUERY; QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0 or 1.
    if ((data[start + 2] & 0xf8) !== 0) return 0;
    if (data[start + 4] !== 0 || data[start + 5] !== 1 || data[start + 6] !== 0 || data[start + 7] !== 0) return 0;
    if (data[start + 8] !== 0 || data[start + 9] !== 0 || data[start + 10] !== 0) return 0;
    const additional = data[start + 11];
    if (additional > 1) return 0;

    // The question name, lower-cased into the key; labels only (a pointer cannot occur in a
    // question), bytes that need escaping in presentation form go the general way.
    let pos = start + HEADER_LENGTH;
    let n = 0;
    for (;;) {
      if (pos >= end) return 0;
      const labelLength = data[pos];
      if (labelLength === 0) break;
      if (labelLength > MAX_LABEL_LENGTH) return 0;
      const labelEnd = pos + 1 + labelLength;
      // A key over 253 characters is a wire name over 255 bytes: the general path rejects it.
      if (labelEnd > end || n + labelLength + 1 > 253) return 0;
      if (n > 0) keyScratch[n++] = 0x2e;
      for (let i = pos + 1; i < labelEnd; i++) {
        const c = data[i];
        if (needsEscape(c)) return 0;
        keyScratch[n++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
      }
      pos = labelEnd;
    }
    const nameEnd = pos + 1;
    const questionEnd = nameEnd + 4;
    if (questionEnd > end || data[nameEnd] !== 0 || data[nameEnd + 2] !== 0 || data[nameEnd + 3] !== RRClass.IN) return 0;
    const qtype = data[nameEnd + 1];
    if (qtype !== RRType.A && qtype !== RRType.AAAA) return 0;

    let ednsState = 0;
    let maxResponseSize = UDP_DEFAULT_MAX;
    if (additional === 0) {
      if (questionEnd !== end) return 0;
    } else {
      const o = questionEnd;
      // Root owner, TYPE OPT, version 0, RDLENGTH 0, nothing after it.
      if (o + BARE_OPT_LENGTH !== end || data[o] !== 0 || data[o + 1] !== 0 || data[o + 2] !== RRType.OPT) return 0;
      if (data[o + 6] !== 0 || data[o + 9] !== 0 || data[o + 10] !== 0) return 0;
      ednsState = (data[o + 7] & 0x80) !== 0 ? 2 : 1;
      maxResponseSize = Math.max(UDP_DEFAULT_MAX, (data[o + 3] << 8) | data[o + 4]);
    }

    const table = options.table();
    if (table === undefined) return 0;
    const ttl = options.ttl();
    if (table !== templatesFor || ttl !== templatesTtl) {
      forget();
      templatesFor = table;
      templatesTtl = ttl;
    }
    const map = templates[(qtype === RRType.A ? 0 : 3) + ednsState];
    const key = keyScratch.toString('latin1', 0, n);
    let template = map.get(key);
    if (template === undefined) {
      template = table.lookup(key) === undefined ? NOT_LOCAL : buildTemplate(table, ttl, data, start, end);
      if (templateCount >= MAX_TEMPLATES) forget();
      map.set(key, template);
      templateCount++;
      if (store !== undefined && template !== NOT_LOCAL && template !== ROTATING) {
        store.put((qtype === RRType.A ? 0 : 3) + ednsState, lowerCaseWireName(data, start + HEADER_LENGTH, nameEnd), template);
      }
    }
    if (template === ROTATING) return 0;
    if (template === NOT_LOCAL) {
      if (options.cache === undefined) return 0;
      const written = options.cache.answerInto(
        { key, type: qtype, edns: ednsState !== 0, dnssecOk: ednsState === 2, maxResponseSize, data, start, questionEnd: questionEnd - start },
        out,
        outStart,
      );
      if (written > 0) options.onAnswered(qtype, 'cached', 1);
      return written;
    }

    // TypedArray set and a byte loop, not Buffer#copy: copy makes a view object per call, and at
    // one query per wake-up that garbage is what drives the young-generation collections.
    out.set(template, outStart);
    out[outStart] = data[start];
    out[outStart + 1] = data[start + 1];
    // RD (bit 0 of byte 2) and CD (0x10 of byte 3) are the client's; the rest is the template's.
    out[outStart + 2] = (template[2] & 0xfe) | (data[start + 2] & 0x01);
    out[outStart + 3] = (template[3] & 0xef) | (data[start + 3] & 0x10);
    for (let i = start + HEADER_LENGTH, o = outStart + HEADER_LENGTH; i < nameEnd; i++, o++) out[o] = data[i];
    options.onAnswered(qtype, 'local', 1);
    return template.length;
  };

  return {
    answer,
    store,
    get size() {
      return templateCount;
    },
    sync,
    settleCounts() {
      if (store === undefined) return;
      const { a, aaaa } = store.takeCounts();
      if (a > 0) options.onAnswered(RRType.A, 'local', a);
      if (aaaa > 0) options.onAnswered(RRType.AAAA, 'local', aaaa);
    },
  };
}

/** The question's wire name (labels with their length bytes, the root's zero) in lower case: the store's key. */
function lowerCaseWireName(data: Buffer, start: number, end: number): Buffer {
  const name = Buffer.from(data.subarray(start, end));
  for (let i = 0; i < name.length; ) {
    const labelEnd = i + 1 + name[i];
    for (let j = i + 1; j < labelEnd; j++) if (name[j] >= 0x41 && name[j] <= 0x5a) name[j] |= 0x20;
    i = labelEnd;
  }
  return name;
}

/**
 * The general path's reply for this query, kept as a template; NOT_LOCAL when it is not a local
 * answer that fits any client, ROTATING when its answer order changes per query.
 */
function buildTemplate(table: NameTable, ttl: number, data: Buffer, start: number, end: number): Buffer {
  const parsed = parseQuery(Buffer.from(data.subarray(start, end)), 'udp');
  if (!parsed.ok) return NOT_LOCAL;
  const found = table.lookup(parsed.query.key);
  const addresses = found === undefined ? undefined : parsed.query.type === RRType.A ? found.info.v4 : found.info.v6;
  if (addresses !== undefined && addresses.length > 1) return ROTATING;
  const reply = answerFromTable(table, parsed.query, ttl);
  // Over 512 bytes a client's limit decides truncation: those replies stay on the general path.
  if (reply === undefined || reply.length > UDP_DEFAULT_MAX) return NOT_LOCAL;
  return reply;
}
