/*
 * Tests for storage/evict.c: which key each policy evicts given known access patterns. Time is
 * injected through now_ms (LFU decay, expiry); the LRU clock is logical (it counts accesses), so
 * the access order alone decides. Tests that need an exact answer raise the sample size to cover
 * the whole store; the others check the statistical property with Redis's default of 5.
 */
#include <criterion/criterion.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store.h"

#define NOW 1000000000
#define MINUTE 60000

static fc_store *s;

static void setup(void)
{
    s = fc_store_new(7);
    cr_assert_not_null(s);
}

static void teardown(void)
{
    fc_store_free(s);
}

TestSuite(evict, .init = setup, .fini = teardown);

static void put(const char *prefix, int i, int64_t exp, int64_t now)
{
    char k[64];
    int n = snprintf(k, sizeof(k), "%s%d", prefix, i);
    cr_assert_eq(fc_store_set(s, k, (size_t)n, "value", 5, exp, false, now), 0);
}

static bool has(const char *prefix, int i, int64_t now)
{
    char k[64];
    fc_entry_view v;
    int n = snprintf(k, sizeof(k), "%s%d", prefix, i);
    return fc_store_get(s, k, (size_t)n, now, FC_LOOKUP_NOSTATS, &v);
}

static int count_present(const char *prefix, int n, int64_t now)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += has(prefix, i, now);
    return c;
}

Test(evict, noeviction_refuses)
{
    for (int i = 0; i < 10; i++)
        put("k", i, FC_NO_EXPIRE, NOW);
    cr_assert_not(fc_store_evict(s, NOW));
    fc_store_set_policy(s, FC_EVICT_NOEVICTION);
    cr_assert_not(fc_store_evict(s, NOW));
    cr_assert_eq(fc_store_size(s), 10);
    cr_assert_eq(fc_store_get_stats(s)->evicted, 0);
}

Test(evict, empty_store_has_nothing_to_evict)
{
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_LRU);
    cr_assert_not(fc_store_evict(s, NOW));
}

Test(evict, lru_exact_with_full_sample)
{
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_LRU);
    fc_store_set_evict_samples(s, 64);
    for (int i = 0; i < 20; i++)
        put("k", i, FC_NO_EXPIRE, NOW);
    for (int i = 0; i < 20; i++)
        if (i != 7)
            cr_assert(has("k", i, NOW));
    cr_assert(fc_store_evict(s, NOW));
    cr_assert_not(has("k", 7, NOW), "the one key not read since it was written goes first");
    cr_assert(fc_store_evict(s, NOW));
    cr_assert_not(has("k", 0, NOW), "then the least recently read");
    cr_assert_eq(fc_store_size(s), 18);
    cr_assert_eq(fc_store_get_stats(s)->evicted, 2);
}

Test(evict, lru_writes_count_as_access)
{
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_LRU);
    fc_store_set_evict_samples(s, 64);
    for (int i = 0; i < 10; i++)
        put("k", i, FC_NO_EXPIRE, NOW);
    put("k", 0, FC_NO_EXPIRE, NOW); /* overwrite: k1 is now the oldest */
    cr_assert(fc_store_evict(s, NOW));
    cr_assert_not(has("k", 1, NOW));
    cr_assert(has("k", 0, NOW));
}

Test(evict, lru_sampled_keeps_the_hot_set)
{
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_LRU);
    for (int i = 0; i < 1000; i++)
        put("cold", i, FC_NO_EXPIRE, NOW);
    for (int i = 0; i < 100; i++)
        put("hot", i, FC_NO_EXPIRE, NOW);
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < 100; i++)
            cr_assert(has("hot", i, NOW));
    for (int i = 0; i < 500; i++)
        cr_assert(fc_store_evict(s, NOW));
    int hot = count_present("hot", 100, NOW);
    cr_assert_eq(hot, 100, "no recently read key was evicted (%d left)", hot);
    cr_assert_eq(count_present("cold", 1000, NOW), 500);
}

Test(evict, lru_long_keys_in_the_pool)
{
    char k[200];
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_LRU);
    for (int i = 0; i < 200; i++) {
        int n = snprintf(k, sizeof(k), "%0100d", i);
        cr_assert_eq(fc_store_set(s, k, (size_t)n, "v", 1, FC_NO_EXPIRE, false, NOW), 0);
    }
    for (int i = 0; i < 150; i++)
        cr_assert(fc_store_evict(s, NOW));
    cr_assert_eq(fc_store_size(s), 50);
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_LFU); /* clears the pool (leak-checked by ASan) */
    cr_assert(fc_store_evict(s, NOW));
}

Test(evict, volatile_lru_only_touches_keys_with_ttl)
{
    fc_store_set_policy(s, FC_EVICT_VOLATILE_LRU);
    for (int i = 0; i < 100; i++)
        put("plain", i, FC_NO_EXPIRE, NOW);
    for (int i = 0; i < 10; i++)
        put("ttl", i, NOW + 3600000, NOW);
    for (int i = 0; i < 100; i++)
        cr_assert(has("plain", i, NOW)); /* the plain keys are the least recently used */
    for (int i = 0; i < 10; i++)
        cr_assert(fc_store_evict(s, NOW), "eviction %d", i);
    cr_assert_eq(count_present("ttl", 10, NOW), 0);
    cr_assert_eq(count_present("plain", 100, NOW), 100);
    cr_assert_not(fc_store_evict(s, NOW), "no key with a TTL left: nothing evictable");
}

Test(evict, lfu_keeps_frequently_read_keys)
{
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_LFU);
    for (int i = 0; i < 100; i++)
        put("k", i, FC_NO_EXPIRE, NOW);
    for (int r = 0; r < 50; r++)
        for (int i = 0; i < 100; i += 10)
            cr_assert(has("k", i, NOW)); /* k0, k10, ... k90 are frequent */
    for (int i = 0; i < 80; i++)
        cr_assert(fc_store_evict(s, NOW));
    int frequent = 0;
    for (int i = 0; i < 100; i += 10)
        frequent += has("k", i, NOW);
    cr_assert_eq(frequent, 10, "every frequently read key survived (%d)", frequent);
}

Test(evict, lfu_counter_decays_with_time)
{
    fc_store_set_policy(s, FC_EVICT_VOLATILE_LFU);
    fc_store_set_evict_samples(s, 64);
    int64_t exp = NOW + 3600000;
    put("old", 0, exp, NOW);
    for (int i = 0; i < 30; i++)
        cr_assert(has("old", 0, NOW)); /* counter well above the initial 5, far below 12 */
    /* Without decay the new key (counter 5) would go first; 7 minutes later "old" is colder. */
    put("new", 0, exp, NOW + 7 * MINUTE);
    cr_assert(fc_store_evict(s, NOW + 7 * MINUTE));
    cr_assert_not(has("old", 0, NOW + 7 * MINUTE));
    cr_assert(has("new", 0, NOW + 7 * MINUTE));
}

Test(evict, lfu_without_decay_keeps_the_read_key)
{
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_LFU);
    fc_store_set_evict_samples(s, 64);
    put("old", 0, FC_NO_EXPIRE, NOW);
    for (int i = 0; i < 30; i++)
        cr_assert(has("old", 0, NOW));
    put("new", 0, FC_NO_EXPIRE, NOW);
    cr_assert(fc_store_evict(s, NOW));
    cr_assert(has("old", 0, NOW));
    cr_assert_not(has("new", 0, NOW));
}

Test(evict, volatile_ttl_evicts_the_soonest_expiry)
{
    fc_store_set_policy(s, FC_EVICT_VOLATILE_TTL);
    fc_store_set_evict_samples(s, 64);
    for (int i = 0; i < 20; i++)
        put("t", i, NOW + 1000 * (20 - i), NOW); /* t19 expires first */
    put("plain", 0, FC_NO_EXPIRE, NOW);
    cr_assert(fc_store_evict(s, NOW));
    cr_assert_not(has("t", 19, NOW));
    cr_assert(fc_store_evict(s, NOW));
    cr_assert_not(has("t", 18, NOW));
    cr_assert_eq(count_present("t", 18, NOW), 18);
    cr_assert(has("plain", 0, NOW));
}

Test(evict, allkeys_random_evicts_any_key)
{
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_RANDOM);
    for (int i = 0; i < 50; i++)
        put("a", i, FC_NO_EXPIRE, NOW);
    for (int i = 0; i < 50; i++)
        put("b", i, NOW + 3600000, NOW);
    for (int i = 0; i < 60; i++)
        cr_assert(fc_store_evict(s, NOW));
    int a = count_present("a", 50, NOW), b = count_present("b", 50, NOW);
    cr_assert_eq(a + b, 40);
    cr_assert_lt(a, 50, "keys without a TTL are evicted too");
    cr_assert_lt(b, 50);
    for (int i = 0; i < 40; i++)
        cr_assert(fc_store_evict(s, NOW));
    cr_assert_not(fc_store_evict(s, NOW));
    cr_assert_eq(fc_store_size(s), 0);
}

Test(evict, volatile_random_only_touches_keys_with_ttl)
{
    fc_store_set_policy(s, FC_EVICT_VOLATILE_RANDOM);
    for (int i = 0; i < 50; i++)
        put("a", i, FC_NO_EXPIRE, NOW);
    for (int i = 0; i < 50; i++)
        put("b", i, NOW + 3600000, NOW);
    int ok = 0;
    while (fc_store_evict(s, NOW))
        ok++;
    cr_assert_eq(ok, 50);
    cr_assert_eq(count_present("a", 50, NOW), 50);
    cr_assert_eq(fc_store_volatile_size(s), 0);
}

Test(evict, expired_keys_are_reclaimed_first_and_not_counted)
{
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_LRU);
    fc_store_set_evict_samples(s, 64);
    for (int i = 0; i < 10; i++)
        put("k", i, NOW + 10, NOW);
    cr_assert(fc_store_evict(s, NOW + 20));
    cr_assert_eq(fc_store_get_stats(s)->evicted, 0);
    cr_assert_gt(fc_store_get_stats(s)->expired, 0);
}

Test(evict, clock_bits_leave_the_entry_intact)
{
    fc_store_set_policy(s, FC_EVICT_ALLKEYS_LFU);
    int64_t exp = NOW + 24 * 3600000ll;
    cr_assert_eq(fc_store_set(s, "key", 3, "abc", 3, exp, false, NOW), 0);
    fc_entry_view v;
    for (int i = 0; i < 3000; i++)
        cr_assert(fc_store_get(s, "key", 3, NOW + i * MINUTE / 10, 0, &v));
    char *p = fc_store_resize_value(s, "key", 3, 300, FC_NO_EXPIRE, NOW);
    cr_assert_not_null(p);
    cr_assert(fc_store_get(s, "key", 3, NOW, 0, &v));
    cr_assert_eq(v.vlen, 300);
    cr_assert_eq(memcmp(v.val, "abc", 3), 0);
    cr_assert_eq(v.expire_at, exp);
    cr_assert_eq(v.klen, 3);
}

Test(evict, bytes_count_allocator_chunks)
{
    size_t empty = fc_store_bytes(s);
    for (int i = 0; i < 1000; i++)
        put("k", i, FC_NO_EXPIRE, NOW);
    size_t per = (fc_store_bytes(s) - empty) / 1000;
    /* "k123" + "value" needs 21 bytes: one 24-byte slab slot, and a bucket pointer or two. */
    cr_assert_geq(per, 24 + 8, "%zu bytes per key", per);
    cr_assert_leq(per, 24 + 16 + 8, "%zu bytes per key", per);
}
