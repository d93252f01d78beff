/*
 * store_internal — the fc_store struct and the helpers shared by store.c and expire.c.
 * Internal to storage/.
 *
 * Accounting invariants: entry_bytes is the sum of malloc_usable_size() over all entries;
 * volatile_n is the number of entries whose expire slot holds a non-zero time. Every change to an
 * entry goes through account_sub() before and account_add() after. reclaim_bytes is what the
 * reclaim list (tables, their entries and the list nodes) still holds, as fc_store_bytes counts
 * it; it drops to 0 exactly when the list is empty.
 */
#ifndef FC_STORAGE_STORE_INTERNAL_H
#define FC_STORAGE_STORE_INTERNAL_H

#include <malloc.h>
#include <stdlib.h>

#include "storage/dict.h"
#include "storage/nstab.h"
#include "storage/store.h"

#define FC_EVICT_POOL 16
#define FC_POOL_INLINE 40

/* One eviction candidate remembered between calls: a copy of its key and its score (higher
 * evicts first). */
typedef struct fc_pool_slot {
    uint64_t score;
    size_t klen;
    char *heap;                      /* the key when klen > FC_POOL_INLINE */
    char inline_key[FC_POOL_INLINE]; /* the key otherwise (slots are moved by struct copy) */
} fc_pool_slot;

struct fc_store {
    fc_dict d;
    size_t volatile_n;
    size_t entry_bytes;
    uint64_t expire_pos; /* active-expiry cursor, masked by each table's size */
    bool expire_in_t1;   /* while rehashing: t[1] at expire_pos is examined next */
    fc_store_stats stats;
    /* eviction (evict.c) */
    fc_evict_policy policy;
    unsigned samples;
    uint64_t lru_clock; /* logical: ticks every 1 + count/128 accesses */
    size_t lru_ops;
    uint64_t rng;
    fc_pool_slot pool[FC_EVICT_POOL]; /* ascending score, npool used */
    unsigned npool;
    /* lazy free (store.c): tables detached by fc_store_flush, freed by fc_store_reclaim_step */
    struct fc_reclaim *reclaim;
    size_t reclaim_bytes; /* allocator bytes still held by the detached tables and entries */
    fc_nstab *ns;         /* per-namespace counters, or NULL */
};

/* A table detached by fc_store_flush: its buckets below pos are already freed. */
typedef struct fc_reclaim {
    struct fc_reclaim *next;
    fc_table t;
    size_t pos;
} fc_reclaim;

/* evict.c: updates e's clock for an access under the store's policy (a no-op unless LRU/LFU);
 * created is true for a new entry. */
void fc_store_touch(fc_store *s, fc_entry *e, int64_t now_ms, bool created);

/* evict.c: frees the pool's key copies. */
void fc_store_pool_clear(fc_store *s);

static inline void fc_store_account_add(fc_store *s, const fc_entry *e)
{
    s->entry_bytes += malloc_usable_size((void *)e);
    if (fc_entry_expire(e) != FC_NO_EXPIRE)
        s->volatile_n++;
}

static inline void fc_store_account_sub(fc_store *s, const fc_entry *e)
{
    s->entry_bytes -= malloc_usable_size((void *)e);
    if (fc_entry_expire(e) != FC_NO_EXPIRE)
        s->volatile_n--;
}

/* Unlinks *link and frees the entry. Never resizes the table (safe inside a bucket walk). */
static inline void fc_store_delete_link(fc_store *s, fc_entry **link)
{
    fc_entry *e = *link;
    fc_dict_unlink(&s->d, link);
    fc_store_account_sub(s, e);
    free(e);
}

/* Deletes the expired entries of one chain; returns how many. */
static inline size_t fc_store_reap_chain(fc_store *s, fc_entry **link, int64_t now_ms)
{
    size_t n = 0;
    while (*link) {
        if (fc_entry_is_expired(*link, now_ms)) {
            fc_store_delete_link(s, link);
            n++;
        } else {
            link = &(*link)->next;
        }
    }
    s->stats.expired += n;
    return n;
}

#endif
