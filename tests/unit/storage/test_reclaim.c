/*
 * Tests for the lazy free of storage/store.c: fc_store_flush detaches the tables in O(1) and
 * fc_store_reclaim_step frees them in bounded steps. The store is observed through its public
 * API; fc_store_bytes is the accounting under test. ASan (make check) catches leaks and
 * use-after-free, including fc_store_free with a reclaim pending.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "storage/store.h"
#include "storage/ktrie.h"

#define NOW 1000000

static fc_store *s;
static size_t baseline; /* fc_store_bytes of the empty store */

static void setup(void)
{
    s = fc_store_new(7);
    cr_assert_not_null(s);
    baseline = fc_store_bytes(s);
}

static void teardown(void)
{
    fc_store_free(s);
}

TestSuite(reclaim, .init = setup, .fini = teardown);

/* Writes n keys "<prefix>:<i>", every third with a TTL. */
static void fill(const char *prefix, size_t n)
{
    char k[48];
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(k, sizeof(k), "%s:%zu", prefix, i);
        int64_t exp = i % 3 == 0 ? NOW + 100000 : 0;
        cr_assert_eq(fc_store_set(s, k, (size_t)len, "value", 5, exp, false, NOW), 0);
    }
}

static bool has(const char *k)
{
    fc_entry_view v;
    return fc_store_get(s, k, strlen(k), NOW, 0, &v);
}

static void count_key(void *ctx, const fc_entry_view *e)
{
    (void)e;
    ++*(size_t *)ctx;
}

/* Runs reclaim steps of max_work until done; returns how many steps it took. */
static size_t drain(size_t max_work)
{
    size_t steps = 0;
    while (fc_store_reclaim_step(s, max_work)) {
        steps++;
        cr_assert_lt(steps, 10000000, "reclaim makes progress");
    }
    return steps + 1;
}

Test(reclaim, flush_is_empty_at_once_and_frees_in_steps)
{
    fill("k", 5000);
    size_t full = fc_store_bytes(s);
    fc_store_flush(s);
    cr_assert(fc_store_reclaim_pending(s));
    cr_assert_eq(fc_store_size(s), 0);
    cr_assert_eq(fc_store_volatile_size(s), 0);
    cr_assert_not(has("k:1"));
    cr_assert_not(has("k:4999"));
    size_t seen = 0;
    uint64_t cur = 0;
    do
        cur = fc_store_scan(s, cur, NOW, count_key, &seen);
    while (cur != 0);
    cr_assert_eq(seen, 0, "SCAN sees an empty db");
    fc_entry_view v;
    cr_assert_not(fc_store_random(s, NOW, 1, &v));
    /* Nothing freed yet: the memory is still counted. */
    cr_assert_geq(fc_store_bytes(s), full);
    /* Writes go to the fresh tables, and reads see only them. */
    cr_assert_eq(fc_store_set(s, "k:1", 3, "new", 3, 0, false, NOW), 0);
    cr_assert(fc_store_get(s, "k:1", 3, NOW, 0, &v));
    cr_assert_eq(v.vlen, 3);
    cr_assert_eq(memcmp(v.val, "new", 3), 0);
    cr_assert_eq(fc_store_size(s), 1);
    size_t steps = drain(100);
    cr_assert_gt(steps, 50, "5000 entries in steps of 100 take many steps (%zu)", steps);
    cr_assert_not(fc_store_reclaim_pending(s));
    cr_assert(has("k:1"), "the live key survived the reclaim");
    cr_assert(fc_store_del(s, "k:1", 3, NOW));
    cr_assert_eq(fc_store_bytes(s), baseline, "back to the baseline (the emptied leaf is freed)");
}

Test(reclaim, step_is_bounded_by_max_work)
{
    fill("k", 2000);
    size_t before = fc_store_bytes(s);
    fc_store_flush(s);
    cr_assert_geq(fc_store_bytes(s), before, "flush alone frees nothing");
    before = fc_store_bytes(s);
    cr_assert(fc_store_reclaim_step(s, 0), "max_work 0 only reports");
    cr_assert_eq(fc_store_bytes(s), before, "and frees nothing");
    size_t prev = before, total_steps = 0;
    while (fc_store_reclaim_pending(s)) {
        fc_store_reclaim_step(s, 10);
        size_t now = fc_store_bytes(s);
        cr_assert_lt(now, prev, "every step makes progress");
        /* At most 10 entries of < 64 bytes each, plus the table and struct of a drained leaf
         * or node. */
        if (fc_store_reclaim_pending(s))
            cr_assert_leq(prev - now, 10 * 64 + 2 * FC_KT_BURST * sizeof(void *) + 4096,
                          "step freed %zu bytes", prev - now);
        prev = now;
        total_steps++;
    }
    cr_assert_geq(total_steps, 200, "2000 entries need at least 200 steps of 10");
    cr_assert_eq(fc_store_bytes(s), baseline);
}

Test(reclaim, bytes_go_back_to_baseline)
{
    fill("a", 3000);
    cr_assert_gt(fc_store_bytes(s), baseline + 3000 * 24);
    fc_store_flush(s);
    drain(1 << 20);
    cr_assert_eq(fc_store_bytes(s), baseline);
    cr_assert_eq(fc_store_size(s), 0);
}

Test(reclaim, flush_during_burst_keeps_nothing)
{
    fill("k", FC_KT_BURST * 3); /* several bursts: nodes and leaves */
    fc_store_flush(s);
    cr_assert_eq(fc_store_size(s), 0);
    cr_assert_not(has("k:4000"));
    fill("n", 100);
    drain(64);
    cr_assert_eq(fc_store_size(s), 100);
    cr_assert(has("n:99"));
    for (int i = 0; i < 100; i++) {
        char k[16];
        int len = snprintf(k, sizeof(k), "n:%d", i);
        cr_assert(fc_store_del(s, k, (size_t)len, NOW));
    }
    cr_assert_eq(fc_store_bytes(s), baseline);
}

Test(reclaim, flush_twice_before_reclaim_finishes)
{
    fill("a", 3000);
    fc_store_flush(s);
    fc_store_reclaim_step(s, 500); /* part of the first batch */
    fill("b", 2000);
    cr_assert_eq(fc_store_size(s), 2000);
    fc_store_flush(s);
    cr_assert_eq(fc_store_size(s), 0);
    cr_assert_not(has("a:2999"));
    cr_assert_not(has("b:1"));
    fc_store_flush(s); /* empty tables: nothing more to detach */
    drain(256);
    cr_assert_eq(fc_store_bytes(s), baseline);
}

Test(reclaim, free_with_pending_reclaim)
{
    fill("a", 3000);
    fc_store_flush(s);
    fill("b", 1000);
    fc_store_flush(s);
    fc_store_reclaim_step(s, 10);
    fill("c", 10);
    cr_assert(fc_store_reclaim_pending(s));
    /* teardown's fc_store_free frees the rest; ASan reports any leak. */
    cr_assert_eq(fc_store_size(s), 10);
}

Test(reclaim, evict_frees_flushed_memory_before_live_keys)
{
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_LRU);
    fill("old", 4000);
    fc_store_flush(s);
    fill("live", 50);
    size_t bytes = fc_store_bytes(s);
    cr_assert(fc_store_evict(s, NOW), "freeing flushed memory counts as progress");
    cr_assert_lt(fc_store_bytes(s), bytes);
    cr_assert_eq(fc_store_size(s), 50, "no live key was evicted");
    cr_assert_eq(fc_store_get_stats(s)->evicted, 0);
    while (fc_store_reclaim_pending(s))
        cr_assert(fc_store_evict(s, NOW));
    cr_assert_eq(fc_store_size(s), 50);
    cr_assert(fc_store_evict(s, NOW), "then live keys are evicted as usual");
    cr_assert_eq(fc_store_size(s), 49);
}

Test(reclaim, noeviction_still_frees_flushed_memory)
{
    fill("old", 100);
    fc_store_flush(s);
    cr_assert(fc_store_evict(s, NOW));
    cr_assert_not(fc_store_reclaim_pending(s), "100 entries fit one evict-call budget");
    cr_assert_not(fc_store_evict(s, NOW), "noeviction: nothing else to free");
    cr_assert_eq(fc_store_bytes(s), baseline);
}
