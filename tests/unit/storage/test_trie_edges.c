/*
 * Regression tests for edge cases of the key trie found by tests/fuzz/fuzz_store.c and review:
 * leaves emptied by an unfinished active-expiry pass, bounded reclaim steps, and the memory
 * accounting returning to the empty store's. Keys are chosen by their bucket (the trie's hash
 * through storage/store_internal.h) so each case is deterministic.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "storage/store_internal.h"

#define NOW 1000000

static fc_store *s;
static size_t baseline;

static void setup(void)
{
    s = fc_store_new(5);
    cr_assert_not_null(s);
    baseline = fc_store_bytes(s);
}

static void teardown(void)
{
    fc_store_free(s);
}

TestSuite(trie_edges, .init = setup, .fini = teardown);

/* Writes into k a key "<prefix><i>" whose bucket in a 4-bucket leaf table is b. */
static size_t key_in_bucket(char *k, size_t cap, const char *prefix, unsigned b)
{
    for (unsigned i = 0;; i++) {
        int len = snprintf(k, cap, "%s%u", prefix, i);
        if ((fc_kt_hash(&s->kt, k, (size_t)len) & 3) == b)
            return (size_t)len;
    }
}

static void put_burst_of(const char *prefix)
{
    for (size_t i = 0; i < FC_KT_BURST; i++) { /* with the key already there: a burst */
        char a[32];
        int len = snprintf(a, sizeof(a), "%s%zu", prefix, i);
        cr_assert_eq(fc_store_set(s, a, (size_t)len, "v", 1, 0, false, NOW), 0);
    }
}

static void reclaim_all(void)
{
    while (fc_store_reclaim_step(s, 64))
        ;
}

static void count_visit(void *ctx, const fc_entry_view *e)
{
    (void)e;
    (*(size_t *)ctx)++;
}

/* The pass reaps the leaf's only key in its first bucket and stops (budget 1): the leaf, now
 * empty, must go at once, since no expiry cycle runs again while no key has a TTL. */
Test(trie_edges, leaf_emptied_mid_expiry_pass_is_freed)
{
    char k[32];
    size_t kl = key_in_bucket(k, sizeof(k), "k", 0);
    cr_assert_eq(fc_store_set(s, k, kl, "v", 1, NOW + 10, false, NOW), 0);
    cr_assert_eq(fc_store_expire_cycle(s, NOW + 100, 1), 1);
    cr_assert_eq(fc_store_size(s), 0);
    cr_assert_eq(fc_store_expire_cycle(s, NOW + 100, 100), 0);
    cr_assert_eq(fc_store_bytes(s), baseline, "bytes %zu, empty store %zu", fc_store_bytes(s),
                 baseline);
}

/* Same, under a node: a sibling's detach then empties the node. The node must not be freed
 * while the emptied leaf still points to it (use-after-free in every later cursor walk, and the
 * leaf was lost to every teardown). */
Test(trie_edges, node_emptied_beside_a_leaf_emptied_mid_pass)
{
    char k[32];
    size_t kl = key_in_bucket(k, sizeof(k), "pB", 0);
    cr_assert_eq(fc_store_set(s, k, kl, "v", 1, NOW + 10, false, NOW), 0);
    put_burst_of("pA:"); /* the last insert bursts "p" into a node */
    const fc_kleaf *l = fc_kt_leaf_of(&s->kt, k, kl);
    cr_assert_not_null(l);
    cr_assert_neq(l->b.parent, s->kt.root, "the burst made a node for \"p\"");
    /* One unit skips leaf "pA" (no TTL), one examines bucket 0 of leaf "pB". */
    cr_assert_eq(fc_store_expire_cycle(s, NOW + 100, 2), 1);
    cr_assert_eq(fc_store_invalidate(s, "pA*", 3, NOW + 100), FC_KT_BURST);
    cr_assert_eq(fc_store_size(s), 0);
    size_t seen = 0; /* a cursor walk over the leaf vector reads every leaf's ancestors */
    cr_assert_eq(fc_store_scan(s, 0, NOW, count_visit, &seen), 0);
    cr_assert_eq(seen, 0);
    reclaim_all();
    cr_assert_eq(fc_store_bytes(s), baseline, "bytes %zu, empty store %zu", fc_store_bytes(s),
                 baseline);
}

/* A leaf table at its sparsest (4 keys in 32 buckets, the shrink threshold) with one sample
 * per eviction: a round of probes may find no key, and eviction used to give up after that
 * first empty round (about 7% of calls), reporting nothing evictable in a non-empty store. */
Test(trie_edges, evict_in_a_sparse_leaf_with_one_sample_finds_a_key)
{
    char k[32];
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_RANDOM);
    fc_store_set_evict_samples(s, 1);
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 32; i++) {
            int len = snprintf(k, sizeof(k), "k%d", i);
            cr_assert_eq(fc_store_set(s, k, (size_t)len, "v", 1, 0, false, NOW), 0);
        }
        for (int i = 4; i < 32; i++) {
            int len = snprintf(k, sizeof(k), "k%d", i);
            cr_assert(fc_store_del(s, k, (size_t)len, NOW));
        }
        cr_assert_eq(fc_kt_leaf_of(&s->kt, "k0", 2)->d.t[0].size, 32, "sparse table kept");
        cr_assert(fc_store_evict(s, NOW), "round %d: 4 keys and nothing evicted", round);
        cr_assert_eq(fc_store_size(s), 3);
        for (int i = 0; i < 4; i++) {
            int len = snprintf(k, sizeof(k), "k%d", i);
            fc_store_del(s, k, (size_t)len, NOW);
        }
    }
}

/* Freeing a detached node pushes its children: the step's budget must stay bounded when the
 * node has more children than budget left (it wrapped around below 0 and freed everything). */
Test(trie_edges, reclaim_step_on_a_wide_node_stays_bounded)
{
    char k[32];
    for (int i = 0; i < 2000; i++) { /* 20 children of the root, 100 keys each */
        int len = snprintf(k, sizeof(k), "%c:%d", 'a' + i % 20, i);
        cr_assert_eq(fc_store_set(s, k, (size_t)len, "v", 1, 0, false, NOW), 0);
    }
    fc_store_flush(s);
    size_t before = fc_store_bytes(s);
    cr_assert(fc_store_reclaim_step(s, 1), "one unit of work cannot free 2000 keys");
    cr_assert_gt(fc_store_bytes(s), before / 2, "bytes %zu of %zu", fc_store_bytes(s), before);
    size_t steps = 1;
    while (fc_store_reclaim_step(s, 5))
        steps++;
    cr_assert_geq(steps, 2000 / 5, "%zu steps of 5 for 2000 keys", steps);
    cr_assert_eq(fc_store_bytes(s), baseline);
}

/* The expiry cursor stops inside a leaf whose subtree INVALIDATE then detaches: the cycle must
 * go on with the attached leaves, and the detached one is freed by the reclaim only. */
Test(trie_edges, detach_of_the_subtree_holding_the_expiry_cursor)
{
    char k0[32], k3[32];
    size_t l0 = key_in_bucket(k0, sizeof(k0), "pB", 0), l3 = key_in_bucket(k3, sizeof(k3), "pB", 3);
    cr_assert_eq(fc_store_set(s, k0, l0, "v", 1, NOW + 10, false, NOW), 0);
    cr_assert_eq(fc_store_set(s, k3, l3, "v", 1, NOW + 10, false, NOW), 0);
    put_burst_of("pA:");
    cr_assert_eq(fc_store_set(s, "q", 1, "v", 1, NOW + 10, false, NOW), 0);
    cr_assert_eq(fc_store_expire_cycle(s, NOW + 100, 2), 1, "stopped after bucket 0 of pB");
    cr_assert_eq(fc_store_invalidate(s, "p*", 2, NOW + 100), FC_KT_BURST, "the live keys");
    cr_assert_eq(fc_store_expire_cycle(s, NOW + 100, 100), 1, "\"q\" reaped");
    cr_assert_eq(fc_store_size(s), 0);
    reclaim_all();
    cr_assert_eq(fc_store_bytes(s), baseline);
}
