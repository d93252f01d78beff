/*
 * Tests for INVALIDATE on the key trie (storage/reclaim.c, ktrie.c): prefix patterns detach a
 * subtree with an exact count, expired keys are never counted (at once or by a background count
 * job), other globs run as bounded jobs, and a randomized model check compares every answer with
 * a brute-force reference while leaves burst, shrink and go.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/glob.h"
#include "storage/ktrie.h"
#include "storage/store.h"

#define NOW 1000000

static fc_store *s;

static void setup(void)
{
    s = fc_store_new(11);
    cr_assert_not_null(s);
}

static void teardown(void)
{
    fc_store_free(s);
}

TestSuite(invalidate, .init = setup, .fini = teardown);

static void put(const char *fmt, size_t i, int64_t exp)
{
    char k[64];
    int len = snprintf(k, sizeof(k), fmt, i);
    cr_assert_eq(fc_store_set(s, k, (size_t)len, "v", 1, exp, false, NOW), 0);
}

static bool has(const char *key, int64_t now)
{
    fc_entry_view v;
    return fc_store_get(s, key, strlen(key), now, FC_LOOKUP_NOSTATS, &v);
}

typedef struct done_rec {
    int calls;
    size_t n;
} done_rec;

static void on_done(void *ctx, size_t n)
{
    done_rec *d = ctx;
    d->calls++;
    d->n = n;
}

static void count_visit(void *ctx, const fc_entry_view *e)
{
    (void)e;
    (*(size_t *)ctx)++;
}

static size_t scan_all(int64_t now)
{
    size_t n = 0;
    uint64_t cur = 0;
    do
        cur = fc_store_scan(s, cur, now, count_visit, &n);
    while (cur != 0);
    return n;
}

Test(invalidate, big_namespace_is_detached_not_walked)
{
    for (size_t i = 0; i < 50000; i++)
        put("users:%zu", i, 0);
    for (size_t i = 0; i < 3000; i++)
        put("session:%zu", i, 0);
    size_t bytes = fc_store_bytes(s);
    done_rec d = {0, 0};
    size_t n = 0;
    cr_assert(fc_store_invalidate_start(s, "users:*", 7, NOW, on_done, &d, &n),
              "no expiry below: the count is known at once");
    cr_assert_eq(n, 50000);
    cr_assert_geq(fc_store_bytes(s), bytes, "nothing was freed (or even walked) yet");
    cr_assert(fc_store_reclaim_pending(s));
    cr_assert_eq(fc_store_size(s), 3000);
    cr_assert_eq(fc_store_count_prefix(s, "users:", 6), 0);
    cr_assert_not(has("users:123", NOW));
    cr_assert(has("session:7", NOW));
    cr_assert_eq(scan_all(NOW), 3000);
    while (fc_store_reclaim_step(s, 1000))
        ;
    cr_assert_lt(fc_store_bytes(s), bytes / 5, "the detached memory came back");
    cr_assert_eq(d.calls, 0, "the callback is only for deferred counts");
}

Test(invalidate, prefix_inside_a_leaf_filters_it)
{
    for (size_t i = 0; i < 5000; i++)
        put("u:%zu", i, 0);
    /* "u:12" may end inside a leaf or at a node: either way the count is exact. */
    cr_assert_eq(fc_store_invalidate(s, "u:12*", 5, NOW), 111); /* 12, 120-129, 1200-1299 */
    cr_assert_eq(fc_store_invalidate(s, "u:4999*", 7, NOW), 1);
    cr_assert_eq(fc_store_invalidate(s, "u:4999*", 7, NOW), 0);
    cr_assert_eq(fc_store_invalidate(s, "nothing*", 8, NOW), 0);
    cr_assert_eq(fc_store_size(s), 5000 - 112);
    cr_assert(has("u:13", NOW));
    cr_assert_not(has("u:1234", NOW));
}

Test(invalidate, expired_keys_are_not_counted_small)
{
    for (size_t i = 0; i < 100; i++)
        put("a:%zu", i, i < 40 ? NOW + 10 : 0);
    size_t n = 0;
    done_rec d = {0, 0};
    cr_assert(fc_store_invalidate_start(s, "a:*", 3, NOW + 11, on_done, &d, &n),
              "a small subtree is counted at once");
    cr_assert_eq(n, 60, "the 40 keys past their time are not counted");
}

Test(invalidate, expired_keys_are_not_counted_big_counts_in_background)
{
    for (size_t i = 0; i < 20000; i++)
        put("a:%zu", i, i % 4 == 0 ? NOW + 10 : NOW + 1000000);
    put("b", 0, 0);
    size_t n = 0;
    done_rec d = {0, 0};
    cr_assert_not(fc_store_invalidate_start(s, "a:*", 3, NOW + 11, on_done, &d, &n),
                  "some keys may have expired: counted while freed");
    cr_assert_eq(fc_store_size(s), 1, "gone for every call at once");
    cr_assert_not(has("a:3", NOW + 11));
    cr_assert_eq(d.calls, 0);
    size_t steps = 0;
    while (fc_store_reclaim_step(s, 500))
        steps++;
    cr_assert_gt(steps, 10, "the count ran in bounded steps");
    cr_assert_eq(d.calls, 1);
    cr_assert_eq(d.n, 15000);
}

/* Regression: a deferred count queued before a FLUSH waited for the whole flush to be freed. */
Test(invalidate, deferred_count_goes_before_a_later_flush)
{
    for (size_t i = 0; i < 20000; i++)
        put("a:%zu", i, i % 4 == 0 ? NOW + 10 : 0);
    for (size_t i = 0; i < 50000; i++)
        put("b:%zu", i, 0);
    size_t n = 0;
    done_rec d = {0, 0};
    cr_assert_not(fc_store_invalidate_start(s, "a:*", 3, NOW + 11, on_done, &d, &n));
    fc_store_flush(s);
    size_t steps = 0;
    while (d.calls == 0 && fc_store_reclaim_step(s, 500))
        steps++;
    cr_assert_eq(d.calls, 1);
    cr_assert_eq(d.n, 15000);
    cr_assert(fc_store_reclaim_pending(s), "the flush is still being freed after the reply");
    cr_assert_lt(steps, 20000 / 500 + 60, "the count did not wait for the flush (%zu)", steps);
}

Test(invalidate, expiry_pass_restores_exact_bounds)
{
    for (size_t i = 0; i < 20000; i++)
        put("a:%zu", i, i % 4 == 0 ? NOW + 10 : NOW + 1000000);
    /* The active cycle reclaims the expired quarter and raises every bound above NOW + 11. */
    while (fc_store_expire_cycle(s, NOW + 11, 1u << 20) > 0)
        ;
    fc_store_expire_cycle(s, NOW + 11, 1u << 20);
    cr_assert_eq(fc_store_size(s), 15000);
    size_t n = 0;
    done_rec d = {0, 0};
    cr_assert(fc_store_invalidate_start(s, "a:*", 3, NOW + 12, on_done, &d, &n),
              "every bound is in the future again: exact at once");
    cr_assert_eq(n, 15000);
}

Test(invalidate, glob_job_runs_in_steps)
{
    for (size_t i = 0; i < 30000; i++)
        put("k:%zu:x", i, 0);
    for (size_t i = 0; i < 30000; i++)
        put("k:%zu:y", i, 0);
    size_t n = 0;
    done_rec d = {0, 0};
    cr_assert_not(fc_store_invalidate_start(s, "k:*:y", 5, NOW, on_done, &d, &n));
    size_t steps = 0;
    while (fc_store_reclaim_step(s, 1000))
        steps++;
    cr_assert_gt(steps, 30);
    cr_assert_eq(d.calls, 1);
    cr_assert_eq(d.n, 30000);
    cr_assert_eq(fc_store_size(s), 30000);
    cr_assert(has("k:5:x", NOW));
    cr_assert_not(has("k:5:y", NOW));
    cr_assert_eq(fc_store_invalidate(s, "k:1?:x", 6, NOW), 10);
}

/* A glob whose literal prefix covers at most 4,096 keys runs at once over that subtree's leaves
 * (several, after bursts), leaving the rest of the keyspace alone, and leaves emptied on the way
 * are freed without upsetting the walk over the others. */
Test(invalidate, small_glob_runs_over_its_subtree_only)
{
    for (size_t i = 0; i < 1800; i++) {
        put("u:%zu:a", i, 0);
        put("u:%zu:b", i, 0);
    }
    for (size_t i = 0; i < 20000; i++)
        put("v:%zu:a", i, 0);
    for (size_t i = 0; i < 50; i++)
        put("u:%zu:gone", i, NOW - 1); /* expired: deleted, not counted */
    size_t n = 99;
    done_rec d = {0, 0};
    cr_assert(fc_store_invalidate_start(s, "u:*:a", 5, NOW, on_done, &d, &n), "ran at once");
    cr_assert_eq(n, 1800);
    cr_assert_eq(d.calls, 0);
    cr_assert_eq(fc_store_size(s), 1800 + 20000, "the expired keys it met went too");
    cr_assert(has("u:7:b", NOW));
    cr_assert_not(has("u:7:a", NOW));
    cr_assert(has("v:7:a", NOW));
    /* Every key under u: matches: all its leaves empty out and go. */
    cr_assert_eq(fc_store_invalidate(s, "u:*", 3, NOW), 1800);
    cr_assert_eq(fc_store_invalidate(s, "u?*", 3, NOW), 0);
    cr_assert_eq(fc_store_invalidate(s, "v:19*:a", 7, NOW), 1111); /* 1,111 keys under v:19 */
    cr_assert_eq(fc_store_size(s), 20000 - 1111);
}

Test(invalidate, star_is_a_flush_with_a_count)
{
    for (size_t i = 0; i < 3000; i++)
        put("x%zu", i, 0);
    put("", 0, 0); /* the empty key */
    cr_assert_eq(fc_store_invalidate(s, "*", 1, NOW), 3001);
    cr_assert_eq(fc_store_size(s), 0);
    put("y", 0, 0);
    cr_assert(has("y", NOW));
}

Test(invalidate, keys_equal_to_a_node_path)
{
    /* "ab" is a key and the path of a node once the "ab..." keys burst their leaf. */
    put("ab", 0, 0);
    put("a", 0, 0);
    for (size_t i = 0; i < 3 * FC_KT_BURST; i++)
        put("ab%zu", i, 0);
    cr_assert(has("ab", NOW));
    cr_assert_eq(fc_store_count_prefix(s, "ab", 2), 3 * FC_KT_BURST + 1);
    cr_assert_eq(fc_store_invalidate(s, "ab*", 3, NOW), 3 * FC_KT_BURST + 1);
    cr_assert(has("a", NOW));
    cr_assert_eq(fc_store_size(s), 1);
}

/* ---- randomized model check ---- */

#define ALPHA "ab:"
#define MAXLEN 9
#define NKEYS 29524 /* keys of length 0..9 over 3 letters: (3^10 - 1) / 2 */

typedef struct model {
    bool present[NKEYS];
    int64_t exp[NKEYS];
} model;

static size_t key_at(size_t idx, char *k)
{
    size_t len = 0, base = 1;
    while (idx >= base) { /* lengths are laid out shortest first */
        idx -= base;
        base *= 3;
        len++;
    }
    for (size_t i = 0; i < len; i++) {
        k[len - 1 - i] = ALPHA[idx % 3];
        idx /= 3;
    }
    return len;
}

static bool model_live(const model *m, size_t i, int64_t now)
{
    return m->present[i] && (m->exp[i] == 0 || m->exp[i] >= now); /* live through exp */
}

static size_t model_invalidate(model *m, const char *pat, size_t plen, int64_t now)
{
    size_t n = 0;
    char k[MAXLEN];
    for (size_t i = 0; i < NKEYS; i++) {
        size_t kl = key_at(i, k);
        if (m->present[i] && fc_glob_match(pat, plen, k, kl, false)) {
            n += model_live(m, i, now);
            m->present[i] = false;
        }
    }
    return n;
}

static size_t run_invalidate(const char *pat, size_t plen, int64_t now)
{
    done_rec d = {0, 0};
    size_t n = 0;
    if (fc_store_invalidate_start(s, pat, plen, now, on_done, &d, &n))
        return n;
    while (d.calls == 0)
        fc_store_reclaim_step(s, 97);
    cr_assert_eq(d.calls, 1);
    return d.n;
}

static void random_pattern(uint64_t *r, char *pat, size_t *plen)
{
    *r = *r * 6364136223846793005ull + 1442695040888963407ull;
    size_t len = (*r >> 33) % 4;
    for (size_t i = 0; i < len; i++)
        pat[i] = ALPHA[(*r >> (40 + 2 * i)) % 3];
    pat[len] = '*';
    *plen = len + 1;
    if ((*r >> 60) == 0 && len > 0) { /* sometimes a general glob: a?b* or *b */
        pat[0] = (*r >> 59) & 1 ? '?' : '*';
    }
}

Test(invalidate, randomized_against_a_model)
{
    static model m;
    memset(&m, 0, sizeof(m));
    uint64_t r = 12345;
    int64_t now = NOW;
    char k[MAXLEN + 1], pat[8];
    for (int op = 0; op < 60000; op++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        size_t i = (size_t)((r >> 20) % NKEYS), kl = key_at(i, k);
        unsigned what = (unsigned)(r >> 58);
        if (what < 40) {
            int64_t exp = (r & 3) == 0 ? now + (int64_t)((r >> 8) % 50) + 1 : 0;
            cr_assert_eq(fc_store_set(s, k, kl, "v", 1, exp, false, now), 0);
            m.present[i] = true;
            m.exp[i] = exp;
        } else if (what < 50) {
            cr_assert_eq(fc_store_del(s, k, kl, now), model_live(&m, i, now));
            m.present[i] = false;
        } else if (what < 52) {
            size_t plen;
            random_pattern(&r, pat, &plen);
            size_t want = model_invalidate(&m, pat, plen, now);
            cr_assert_eq(run_invalidate(pat, plen, now), want, "INVALIDATE %.*s at op %d",
                         (int)plen, pat, op);
        } else if (what < 60) {
            now += (int64_t)(r % 7);
            fc_store_expire_cycle(s, now, (size_t)(r % 300));
        } else {
            fc_store_reclaim_step(s, (size_t)(r % 200));
        }
        if (op % 5000 == 0) {
            size_t live = 0;
            for (size_t j = 0; j < NKEYS; j++)
                live += model_live(&m, j, now);
            cr_assert_eq(scan_all(now), live, "SCAN at op %d", op);
        }
    }
    for (size_t j = 0; j < NKEYS; j++) {
        size_t kl = key_at(j, k);
        k[kl] = 0;
        cr_assert_eq(has(k, now), model_live(&m, j, now), "key %zu", j);
    }
}
