/*
 * answer_store: reply templates for the hot query shape (one question, A or AAAA, class IN, no
 * EDNS or an OPT without options, a name the mesh table answers with one address), answered in
 * the UDP engine's wake-up without a call into JS.
 *
 * Why: at everyday rates a wake-up carries one query, and entering JS for it (a handle scope,
 * napi_make_callback, the microtask checkpoint, the JS fast path) is most of what meshdns adds
 * over the kernel's own cost per query (bench/RESULTS.md, issue 19).
 *
 * The JS fast path (src/dns/fastPath.ts) stays the only author of templates: it builds one from
 * the general path's reply and puts it here under the same identity it keys its own by, and it
 * clears the store whenever its own templates would go (a new table or TTL, per-query logging).
 * Each fast path has its own store (JS holds it as an external; a listener holds a reference).
 * This file only matches a query to a kept reply and patches what differs between queries: the
 * ID, the RD and CD bits and the question name's letter case. Everything runs on Node's loop
 * thread, so a table swap in JS and the clear that goes with it happen between two wake-ups.
 */
#include "answer_store.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  uint32_t hash;
  uint16_t key_length;
  uint16_t reply_length;
  uint8_t bytes[]; /* key, then reply */
} entry;

/* As many templates as the JS fast path keeps at most (MAX_TEMPLATES); then it starts over. */
#define MAX_ENTRIES 32768
#define MIN_CAPACITY 64

struct answer_store {
  entry **slots;
  uint32_t capacity; /* a power of two, or 0 before the first put */
  uint32_t count;
  double answered_a, answered_aaaa;
};

answer_store *store_new(void) { return calloc(1, sizeof(answer_store)); }

void store_free(answer_store *store) {
  store_clear(store);
  free(store);
}

static uint32_t hash_of(const uint8_t *key, size_t length) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < length; i++) h = (h ^ key[i]) * 16777619u;
  return h;
}

static entry **find_slot(entry **table, uint32_t size, uint32_t hash, const uint8_t *key, size_t key_length) {
  uint32_t i = hash & (size - 1);
  for (;;) {
    entry *e = table[i];
    if (e == NULL || (e->hash == hash && e->key_length == key_length && memcmp(e->bytes, key, key_length) == 0)) return &table[i];
    i = (i + 1) & (size - 1);
  }
}

void store_clear(answer_store *store) {
  for (uint32_t i = 0; i < store->capacity; i++) free(store->slots[i]);
  free(store->slots);
  store->slots = NULL;
  store->capacity = 0;
  store->count = 0;
}

static int grow(answer_store *store) {
  uint32_t size = store->capacity == 0 ? MIN_CAPACITY : store->capacity * 2;
  entry **table = calloc(size, sizeof *table);
  if (table == NULL) return 0;
  for (uint32_t i = 0; i < store->capacity; i++) {
    entry *e = store->slots[i];
    if (e != NULL) *find_slot(table, size, e->hash, e->bytes, e->key_length) = e;
  }
  free(store->slots);
  store->slots = table;
  store->capacity = size;
  return 1;
}

int store_put(answer_store *store, const uint8_t *key, size_t key_length, const uint8_t *reply, size_t reply_length) {
  if (key_length < 2 || key_length > STORE_MAX_KEY || reply_length < 12 || reply_length > STORE_MAX_REPLY) return 0;
  if (store->count >= MAX_ENTRIES) store_clear(store);
  if ((store->count + 1) * 2 > store->capacity && !grow(store)) return 0;
  entry *e = malloc(sizeof *e + key_length + reply_length);
  if (e == NULL) return 0;
  e->hash = hash_of(key, key_length);
  e->key_length = (uint16_t)key_length;
  e->reply_length = (uint16_t)reply_length;
  memcpy(e->bytes, key, key_length);
  memcpy(e->bytes + key_length, reply, reply_length);
  entry **slot = find_slot(store->slots, store->capacity, e->hash, key, key_length);
  if (*slot == NULL) store->count++;
  free(*slot);
  *slot = e;
  return 1;
}

uint32_t store_size(const answer_store *store) { return store->count; }

void store_take_counts(answer_store *store, double *a, double *aaaa) {
  *a = store->answered_a;
  *aaaa = store->answered_aaaa;
  store->answered_a = store->answered_aaaa = 0;
}

/* The same checks, in the same order, as the JS fast path's; any other shape is JS's to judge. */
size_t store_answer(answer_store *store, const uint8_t *q, size_t length, uint8_t *out) {
  if (store->count == 0 || length < 12 + 5) return 0;
  /* QR=0, opcode QUERY; QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0 or 1. */
  if ((q[2] & 0xf8) != 0 || q[4] != 0 || q[5] != 1 || q[6] != 0 || q[7] != 0 || q[8] != 0 || q[9] != 0 || q[10] != 0) return 0;
  uint8_t additional = q[11];
  if (additional > 1) return 0;

  uint8_t key[STORE_MAX_KEY];
  size_t k = 1;
  size_t pos = 12;
  for (;;) {
    if (pos >= length) return 0;
    uint8_t label_length = q[pos];
    if (label_length == 0) break;
    if (label_length > 63) return 0;
    size_t label_end = pos + 1 + label_length;
    /* The wire name and its terminating zero must fit a key (255 bytes); longer is no DNS name. */
    if (label_end > length || label_end - 12 + 1 > STORE_MAX_KEY - 1) return 0;
    key[k++] = label_length;
    for (size_t i = pos + 1; i < label_end; i++) {
      uint8_t c = q[i];
      key[k++] = c >= 0x41 && c <= 0x5a ? (uint8_t)(c | 0x20) : c;
    }
    pos = label_end;
  }
  key[k++] = 0;
  size_t name_end = pos + 1;
  size_t question_end = name_end + 4;
  if (question_end > length || q[name_end] != 0 || q[name_end + 2] != 0 || q[name_end + 3] != 1) return 0;
  uint8_t qtype = q[name_end + 1];
  if (qtype != 1 && qtype != 28) return 0;

  int edns_state = 0;
  if (additional == 0) {
    if (question_end != length) return 0;
  } else {
    size_t o = question_end;
    /* Root owner, TYPE OPT, version 0, RDLENGTH 0, nothing after it. */
    if (o + 11 != length || q[o] != 0 || q[o + 1] != 0 || q[o + 2] != 41) return 0;
    if (q[o + 6] != 0 || q[o + 9] != 0 || q[o + 10] != 0) return 0;
    edns_state = (q[o + 7] & 0x80) != 0 ? 2 : 1;
  }
  key[0] = (uint8_t)((qtype == 1 ? 0 : 3) + edns_state);

  entry *e = *find_slot(store->slots, store->capacity, hash_of(key, k), key, k);
  if (e == NULL || e->reply_length < name_end) return 0;
  const uint8_t *reply = e->bytes + e->key_length;
  memcpy(out, reply, e->reply_length);
  out[0] = q[0];
  out[1] = q[1];
  /* RD (bit 0 of byte 2) and CD (0x10 of byte 3) are the client's; the rest is the template's. */
  out[2] = (uint8_t)((reply[2] & 0xfe) | (q[2] & 0x01));
  out[3] = (uint8_t)((reply[3] & 0xef) | (q[3] & 0x10));
  /* The question name in the client's letter case; the answers point at it (compression). */
  memcpy(out + 12, q + 12, name_end - 12);
  if (qtype == 1) store->answered_a++;
  else store->answered_aaaa++;
  return e->reply_length;
}
