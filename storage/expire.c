/*
 * expire — the active-expiry cycle: reclaims expired keys that nobody reads.
 *
 * A persistent cursor (leaf id, bucket) walks the leaves in id order; each unit of work examines
 * one bucket and deletes its expired entries. A leaf with no key with an expiry, or whose lower
 * bound on expiry times is still in the future, costs one unit and is skipped whole. A leaf
 * examined from its first bucket to its last without shrinking meanwhile gets an exact bound
 * (fc_kt_pass_end), which lets prefix INVALIDATE report counts at once (reclaim.c). A leaf that
 * shrinks mid-pass (a client's DEL) may have keys skipped, and keeps its old, lower bound; the
 * next pass catches them. The cycle itself tidies a leaf only at the end of its pass, or when
 * the pass emptied it (then it is freed at once: no empty leaf stays attached). A call
 * that freed entries lets glibc merge them at once (fc_store_consolidate_freed): after a mass
 * expiry, merging all of them at the next large malloc stalled the loop for 2.8 s at 10M keys.
 */
#include "storage/store_internal.h"

static void next_leaf(fc_store *s, fc_kleaf *l)
{
    s->expire_leaf = l->id + 1;
    s->expire_pos = 0;
}

/* Examines buckets of l from the cursor; returns the keys deleted. */
static size_t reap_leaf(fc_store *s, fc_kleaf *l, int64_t now_ms, size_t *work, size_t max)
{
    size_t deleted = 0, size = l->d.t[0].size;
    if (s->expire_pos == 0)
        fc_kt_pass_begin(l);
    while (s->expire_pos < size && *work < max) {
        fc_entry **link = &l->d.t[0].b[s->expire_pos++];
        deleted += fc_store_reap_chain(s, l, link, now_ms);
        for (fc_entry *e = *link; e; e = e->next)
            fc_kt_pass_note(l, fc_entry_expire(e));
        (*work)++;
    }
    /* No tidy mid-pass (a shrink would move entries behind the cursor) unless the leaf is
     * empty: then the pass is over. An empty leaf left attached would stay (no cycle runs while
     * no key has a TTL), and a sibling's delete or detach would free its parent under it. */
    if (s->expire_pos < size && l->d.count > 0)
        return deleted;
    fc_kt_pass_end(l); /* a no-op when a shrink cancelled the pass */
    next_leaf(s, l);
    fc_kt_tidy(&s->kt, l); /* may free l */
    return deleted;
}

size_t fc_store_expire_cycle(fc_store *s, int64_t now_ms, size_t max_work)
{
    size_t deleted = 0, work = 0;
    bool wrapped = false;
    while (work < max_work && fc_store_volatile_size(s) > 0) {
        bool same;
        fc_kleaf *l = fc_kt_leaf_from(&s->kt, s->expire_leaf, &same);
        if (!l) {
            if (wrapped)
                break;
            wrapped = true;
            s->expire_leaf = 0;
            s->expire_pos = 0;
            continue;
        }
        if (!same) {
            s->expire_leaf = l->id;
            s->expire_pos = 0;
        }
        if (l->vol == 0 || l->min_exp >= now_ms) { /* a key lives through its expiry ms */
            if (l->vol == 0)
                l->min_exp = INT64_MAX;
            next_leaf(s, l);
            work++;
            continue;
        }
        deleted += reap_leaf(s, l, now_ms, &work, max_work);
    }
    if (deleted)
        fc_store_consolidate_freed(); /* see reclaim.c: no O(keys) merge stall later */
    return deleted;
}
