/*
 * store_internal — the fc_store struct and the helpers shared by store.c and expire.c.
 * Internal to storage/.
 *
 * Accounting invariants: entry_bytes is the sum of malloc_usable_size() over all entries;
 * volatile_n is the number of entries whose expire slot holds a non-zero time. Every change to an
 * entry goes through account_sub() before and account_add() after.
 */
#ifndef FC_STORAGE_STORE_INTERNAL_H
#define FC_STORAGE_STORE_INTERNAL_H

#include <malloc.h>
#include <stdlib.h>

#include "storage/dict.h"
#include "storage/store.h"

struct fc_store {
    fc_dict d;
    size_t volatile_n;
    size_t entry_bytes;
    uint64_t expire_pos; /* active-expiry cursor, masked by each table's size */
    bool expire_in_t1;   /* while rehashing: t[1] at expire_pos is examined next */
    fc_store_stats stats;
};

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
