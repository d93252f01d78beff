/*
 * dict — a chained hash table of fc_entry items with Redis-style incremental rehashing.
 * Internal to storage/; store.c decides when to step, grow and shrink.
 *
 *   t[0] --[rehash_idx: buckets below it are already moved]--> t[1]
 *
 * Invariants: table sizes are powers of two (or 0 before the first insert); when rehash_idx >= 0
 * both tables exist, every bucket of t[0] below rehash_idx is empty, new entries go to t[1], and
 * lookups search both. count is the number of entries in both tables. No function here moves an
 * entry between tables except fc_dict_rehash, and none frees an entry: the caller owns entries
 * and frees them after fc_dict_unlink.
 */
#ifndef FC_STORAGE_DICT_H
#define FC_STORAGE_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/entry.h"

#define FC_DICT_MIN_SIZE 4

typedef struct fc_table {
    fc_entry **b;
    size_t size; /* buckets, a power of two, 0 when b is NULL */
} fc_table;

typedef struct fc_dict {
    fc_table t[2];
    size_t count;
    long long rehash_idx; /* -1 when not rehashing */
    uint64_t k0, k1;      /* hash key */
} fc_dict;

/* Called for each bucket a scan visits, with the address of the bucket's head link; it may
 * unlink entries of that chain (fc_dict_unlink) but must not insert or resize. */
typedef void fc_dict_bucket_fn(void *ctx, fc_entry **head);

void fc_dict_init(fc_dict *d, uint64_t seed);

/* Frees the tables (not the entries) and leaves an empty dict with the same key. */
void fc_dict_reset(fc_dict *d);

static inline bool fc_dict_rehashing(const fc_dict *d)
{
    return d->rehash_idx >= 0;
}

uint64_t fc_dict_hash(const fc_dict *d, const char *key, size_t klen);

/* Returns the link (pointer to the pointer) holding the entry with this key, or NULL. */
fc_entry **fc_dict_find(fc_dict *d, const char *key, size_t klen, uint64_t h);

/* Adds e (whose key must be absent) at the head of its chain; grows the table first when the
 * load factor reaches 1 (if that allocation fails the chains just get longer). */
void fc_dict_insert(fc_dict *d, fc_entry *e, uint64_t h);

/* Removes *link from its chain. Never resizes. */
static inline void fc_dict_unlink(fc_dict *d, fc_entry **link)
{
    *link = (*link)->next;
    d->count--;
}

/* Gives an empty dict a table of at least n buckets (a power of two). Returns false on
 * out-of-memory. */
bool fc_dict_reserve(fc_dict *d, size_t n);

/* Finishes a rehash in progress at once. */
void fc_dict_rehash_all(fc_dict *d);

/* Starts an incremental shrink when fewer than 1/8 of the buckets are used. */
void fc_dict_maybe_shrink(fc_dict *d);

/* Moves up to n buckets (visiting at most 10n empty ones). Returns true while still rehashing. */
bool fc_dict_rehash(fc_dict *d, size_t n);

/* One step of the reverse-binary cursor scan; see dict.c. Returns the next cursor (0: done). */
uint64_t fc_dict_scan(fc_dict *d, uint64_t cursor, fc_dict_bucket_fn *fn, void *ctx);

/* Bytes held by the bucket arrays. */
static inline size_t fc_dict_table_bytes(const fc_dict *d)
{
    return (d->t[0].size + d->t[1].size) * sizeof(fc_entry *);
}

#endif
