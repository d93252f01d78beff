/*
 * expire — the active-expiry cycle: reclaims expired keys that nobody reads.
 *
 * A persistent position walks the bucket indices; each unit of work examines one bucket (the
 * position masked by the table size) and deletes its expired entries. While a rehash is in
 * progress both tables are examined at the position, so every entry is seen within one pass of
 * the larger table whatever moves between calls. The position only ever increments, so after a
 * resize it simply continues in the new table: a pass may examine some buckets twice or miss
 * keys that moved behind it, which the next pass catches. Deleting inside a chain never resizes;
 * a shrink is considered once at the end.
 */
#include "storage/store_internal.h"

static size_t reap_bucket(fc_store *s, fc_table *t, uint64_t pos, int64_t now_ms)
{
    return fc_store_reap_chain(s, &t->b[pos & (t->size - 1)], now_ms);
}

size_t fc_store_expire_cycle(fc_store *s, int64_t now_ms, size_t max_work)
{
    size_t deleted = 0, work = 0;

    if (s->d.t[0].size == 0)
        return 0;
    while (work < max_work && s->volatile_n > 0) {
        if (!fc_dict_rehashing(&s->d))
            s->expire_in_t1 = false;
        fc_table *t = &s->d.t[s->expire_in_t1 ? 1 : 0];
        deleted += reap_bucket(s, t, s->expire_pos, now_ms);
        work++;
        if (fc_dict_rehashing(&s->d) && !s->expire_in_t1) {
            s->expire_in_t1 = true; /* the same position in t[1] is the next unit */
            continue;
        }
        s->expire_in_t1 = false;
        s->expire_pos++;
    }
    fc_dict_maybe_shrink(&s->d);
    return deleted;
}
