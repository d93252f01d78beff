/*
 * prefetch — memory hints for a batch of keyspace lookups (see prefetch.h). The token is the
 * address of the bucket slot in the key's leaf table.
 */
#include "storage/prefetch.h"

#include "storage/store_internal.h"

uint64_t fc_store_prefetch_bucket(const fc_store *s, const char *key, size_t klen)
{
    const fc_kleaf *l = fc_kt_leaf_of(&s->kt, key, klen);
    if (!l || l->d.t[0].size == 0)
        return 0;
    uint64_t h = fc_kt_hash(&s->kt, key, klen);
    fc_entry *const *slot = &l->d.t[0].b[h & (l->d.t[0].size - 1)];
    __builtin_prefetch(slot);
    return (uint64_t)(uintptr_t)slot;
}

void fc_store_prefetch_entry(const fc_store *s, uint64_t token)
{
    (void)s;
    if (!token)
        return;
    const fc_entry *e = *(fc_entry *const *)(uintptr_t)token;
    if (e)
        __builtin_prefetch(e);
}

/* The value lines prefetched past the entry's first (a value longer than this streams in behind
 * them: the hardware prefetcher follows by then). */
#define VALUE_LINES 16

void fc_store_prefetch_chain(const fc_store *s, uint64_t token, const char *key, size_t klen)
{
    (void)s;
    if (!token)
        return;
    const fc_entry *e = *(fc_entry *const *)(uintptr_t)token;
    if (!e)
        return;
    if (!fc_entry_key_eq(e, key, klen)) {
        if (e->next)
            __builtin_prefetch(e->next);
        return;
    }
    /* A hit: the value's lines after the first, which a GET copies out next. */
    const char *v = fc_entry_val(e), *end = v + fc_entry_vlen(e);
    const char *line = (const char *)((uintptr_t)e & ~(uintptr_t)63) + 64;
    for (int i = 0; i < VALUE_LINES && line < end; i++, line += 64)
        __builtin_prefetch(line);
}
