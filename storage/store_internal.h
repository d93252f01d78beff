/*
 * store_internal — the fc_store struct and the helpers shared by store.c and expire.c.
 * Internal to storage/.
 *
 * Entries live in the store's slab allocator (slab.h) when their layout needs at most FC_SLAB_MAX
 * bytes (fc_entry_need), in glibc's heap otherwise; store.c keeps that true across in-place
 * rewrites, so the need alone says where an entry is.
 *
 * Accounting invariants: entry_bytes is the sum over all entries of their slot size or glibc chunk;
 * volatile_n is the number of entries whose expire slot holds a non-zero time. entry_create
 * (store.c) adds an entry's bytes and fc_store_entry_free subtracts them; a rewrite in place keeps
 * the allocation, so its bytes do not change. reclaim_bytes is what the
 * reclaim list (tables, their entries and the list nodes) still holds, as fc_store_bytes counts
 * it; it drops to 0 exactly when the list is empty.
 */
#ifndef FC_STORAGE_STORE_INTERNAL_H
#define FC_STORAGE_STORE_INTERNAL_H

#include <malloc.h>
#include <stdlib.h>

#include "storage/ktrie.h"
#include "storage/nstab.h"
#include "storage/slab.h"
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

/* A background job: the live count of an INVALIDATE whose detached keys may include expired
 * ones (counted while they are freed), or a glob INVALIDATE walking the leaves. */
typedef struct fc_job {
    struct fc_job *next;
    fc_store_done_fn *done;
    void *ctx;
    size_t n;        /* keys counted so far */
    int64_t at;      /* the INVALIDATE's time: keys expired by then do not count */
    size_t pending;  /* count job: reclaim items still holding its keys */
    char *pat;       /* glob job: the pattern, and its literal prefix length */
    size_t plen, lit;
    uint64_t leaf;   /* glob job: the next leaf id, bucket position */
    size_t pos;
} fc_job;

/* A detached subtree waiting to be freed (a stack: the newest first). A leaf's buckets below pos
 * (over t[0] then t[1]) are already freed. */
typedef struct fc_reclaim {
    struct fc_reclaim *next;
    fc_kbase *x;
    size_t pos;
    fc_job *job; /* a count job to feed, or NULL */
} fc_reclaim;

struct fc_store {
    fc_ktrie kt;
    fc_slab slab;         /* entries of up to FC_SLAB_MAX bytes */
    size_t entry_bytes;   /* chunk bytes of all entries, detached ones included until freed */
    uint64_t expire_leaf; /* active-expiry cursor: leaf id and bucket */
    size_t expire_pos;
    fc_store_stats stats;
    /* eviction (evict.c) */
    fc_evict_policy policy;
    unsigned samples;
    uint64_t lru_clock; /* logical: ticks every 1 + count/128 accesses */
    size_t lru_ops;
    uint64_t rng;
    fc_pool_slot pool[FC_EVICT_POOL]; /* ascending score, npool used */
    unsigned npool;
    /* lazy free and background jobs (reclaim.c) */
    fc_reclaim *reclaim;
    fc_job *globs; /* glob jobs, oldest first */
    fc_nstab *ns;  /* per-namespace counters, or NULL */
};

/* evict.c: updates e's clock for an access under the store's policy (a no-op unless LRU/LFU);
 * created is true for a new entry. */
void fc_store_touch(fc_store *s, fc_entry *e, int64_t now_ms, bool created);

/* evict.c: frees the pool's key copies. */
void fc_store_pool_clear(fc_store *s);

/* reclaim.c: pushes detached subtree x for freeing, feeding job (may be NULL). */
void fc_store_reclaim_push(fc_store *s, fc_kbase *x, fc_job *job);

/* reclaim.c: after a bounded mass free, lets glibc merge what was freed (see there). */
void fc_store_consolidate_freed(void);

/* reclaim.c: runs glob jobs for at most *budget units. */
void fc_store_glob_step(fc_store *s, size_t *budget);

/* glibc: a chunk costs its usable size plus one 8-byte size header. */
static inline size_t fc_chunk_bytes(const void *p)
{
    return malloc_usable_size((void *)p) + 8;
}

/* Bytes from the entry's start to its value's end: what its layout needs. */
static inline size_t fc_entry_need(const fc_entry *e)
{
    return fc_meta_hdr(e->meta) + fc_entry_klen(e) + fc_entry_vlen(e);
}

static inline bool fc_entry_in_slab(const fc_entry *e)
{
    return fc_entry_need(e) <= FC_SLAB_MAX;
}

/* Unaccounts and frees e (no longer linked anywhere). */
static inline void fc_store_entry_free(fc_store *s, fc_entry *e)
{
    if (fc_entry_in_slab(e)) {
        s->entry_bytes -= fc_slab_usable(e);
        fc_slab_free(&s->slab, e);
    } else {
        s->entry_bytes -= fc_chunk_bytes(e);
        free(e);
    }
}

static inline void fc_store_count_ns(fc_store *s, const char *key, size_t klen, size_t off)
{
    fc_ns_stats *ns = s->ns ? fc_nstab_lookup(s->ns, key, klen) : NULL;
    if (ns)
        *(uint64_t *)((char *)ns + off) += 1;
}

/* Unlinks *link from leaf l and frees the entry. Never resizes or frees the leaf (safe inside a
 * bucket walk; call fc_kt_tidy after). */
static inline void fc_store_delete_link(fc_store *s, fc_kleaf *l, fc_entry **link)
{
    fc_entry *e = *link;
    fc_kt_unlink(&s->kt, l, link);
    fc_store_entry_free(s, e);
}

/* Deletes the expired entries of one chain; returns how many. */
static inline size_t fc_store_reap_chain(fc_store *s, fc_kleaf *l, fc_entry **link,
                                         int64_t now_ms)
{
    size_t n = 0;
    while (*link) {
        if (fc_entry_is_expired(*link, now_ms)) {
            fc_store_delete_link(s, l, link);
            n++;
        } else {
            link = &(*link)->next;
        }
    }
    s->stats.expired += n;
    return n;
}

#endif
