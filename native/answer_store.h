/*
 * answer_store: the fast path's reply templates, kept in C so that a query of the hot shape is
 * answered inside the UDP engine's wake-up without entering JS (native/README.md).
 */
#ifndef MESHDNS_ANSWER_STORE_H
#define MESHDNS_ANSWER_STORE_H

#include <stddef.h>
#include <stdint.h>

/* A key is the kind byte ((A ? 0 : 3) + EDNS state, as src/dns/fastPath.ts numbers them) and the
   question's wire name in lower case; a reply is at most 512 bytes (any client takes it whole). */
#define STORE_MAX_KEY 256
#define STORE_MAX_REPLY 512

/* One store per fast path (one per service): two services in one process never share answers. */
typedef struct answer_store answer_store;

answer_store *store_new(void);
void store_free(answer_store *store);

/* Keeps (a copy of) the reply for the key, replacing one kept before; 0 when refused (too long). */
int store_put(answer_store *store, const uint8_t *key, size_t key_length, const uint8_t *reply, size_t reply_length);

/* Forgets every reply (a new table, a new TTL, per-query logging on). */
void store_clear(answer_store *store);

/* Number of replies kept. */
uint32_t store_size(const answer_store *store);

/* Answers `query` from the store into `out` (room for STORE_MAX_REPLY bytes): returns the reply
   length, or 0 when the query is not of the hot shape or its key is not kept. */
size_t store_answer(answer_store *store, const uint8_t *query, size_t length, uint8_t *out);

/* Replies sent from the store since the last call, for A and for AAAA; the counters restart. */
void store_take_counts(answer_store *store, double *a, double *aaaa);

#endif
