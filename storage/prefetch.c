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

void fc_store_prefetch_chain(const fc_store *s, uint64_t token, const char *key, size_t klen)
{
    (void)s;
    if (!token)
        return;
    const fc_entry *e = *(fc_entry *const *)(uintptr_t)token;
    if (e && e->next && !fc_entry_key_eq(e, key, klen))
        __builtin_prefetch(e->next);
}
