/*
 * prefetch — memory hints for a batch of keyspace lookups (see prefetch.h).
 *
 * Only the main table is hinted: during an incremental rehash a key may live in the other one,
 * and then its lookup simply misses as it would have without the hint.
 */
#include "storage/prefetch.h"

#include "storage/store_internal.h"

uint64_t fc_store_prefetch_bucket(const fc_store *s, const char *key, size_t klen)
{
    uint64_t h = fc_dict_hash(&s->d, key, klen);
    const fc_table *t = &s->d.t[0];
    if (t->size)
        __builtin_prefetch(&t->b[h & (t->size - 1)]);
    return h;
}

void fc_store_prefetch_entry(const fc_store *s, uint64_t h)
{
    const fc_table *t = &s->d.t[0];
    if (!t->size)
        return;
    const fc_entry *e = t->b[h & (t->size - 1)];
    if (e)
        __builtin_prefetch(e);
}
