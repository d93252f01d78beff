/*
 * Unit tests for storage/prefetch.c: the hints read only what a lookup reads, so they are safe on
 * an empty store, on empty buckets and while leaves grow and burst, and the token they hand to the
 * second stage names the key's bucket (the same key in an unchanged store gives the same token).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "storage/prefetch.h"

#define NOW 1000

TestSuite(prefetch);

Test(prefetch, safe_on_empty_and_growing_stores)
{
    fc_store *s = fc_store_new(7);
    cr_assert_not_null(s);
    uint64_t h0 = fc_store_prefetch_bucket(s, "k", 1);
    cr_assert_eq(h0, 0, "no leaf yet: nothing to hint");
    fc_store_prefetch_entry(s, h0);
    char key[32];
    for (int i = 0; i < 5000; i++) { /* several resizes, hinted between every write */
        int n = snprintf(key, sizeof(key), "key:%d", i);
        uint64_t h = fc_store_prefetch_bucket(s, key, (size_t)n);
        fc_store_prefetch_entry(s, h); /* the bucket may be empty */
        cr_assert_eq(fc_store_set(s, key, (size_t)n, "v", 1, FC_NO_EXPIRE, false, NOW), 0);
    }
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        fc_store_prefetch_entry(s, fc_store_prefetch_bucket(s, key, (size_t)n));
        fc_entry_view e;
        cr_assert(fc_store_get(s, key, (size_t)n, NOW, 0, &e), "%s", key);
    }
    uint64_t t1 = fc_store_prefetch_bucket(s, "key:7", 5);
    cr_assert_neq(t1, 0);
    cr_assert_eq(fc_store_prefetch_bucket(s, "key:7", 5), t1, "same key, same bucket");
    fc_store_free(s);
}

/* The chain stage reads the first entry only to compare its key (and, on a hit, its value's
 * length, to prefetch the value's lines): safe with no token, an empty bucket, a bucket whose
 * first entry is the key, values of every size class, and chains of any length (a leaf of at
 * most FC_KT_BURST keys at load factor <= 1 has many two-entry chains); a lookup after it still
 * finds every key with its value. */
Test(prefetch, chain_stage_is_a_hint_only)
{
    fc_store *s = fc_store_new(11);
    cr_assert_not_null(s);
    fc_store_prefetch_chain(s, 0, "k", 1);
    static char big[4200];
    memset(big, 'v', sizeof(big));
    char key[32];
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(key, sizeof(key), "chain:%d", i);
        uint64_t t = fc_store_prefetch_bucket(s, key, (size_t)n);
        fc_store_prefetch_entry(s, t);
        fc_store_prefetch_chain(s, t, key, (size_t)n); /* absent key: any bucket state */
        size_t vlen = (size_t)(i % 7) * 700; /* 0 to 4,200 bytes: past the prefetched lines */
        cr_assert_eq(fc_store_set(s, key, (size_t)n, big, vlen, FC_NO_EXPIRE, false, NOW), 0);
    }
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(key, sizeof(key), "chain:%d", i);
        uint64_t t = fc_store_prefetch_bucket(s, key, (size_t)n);
        cr_assert_neq(t, 0, "%s: its leaf exists", key);
        fc_store_prefetch_entry(s, t);
        fc_store_prefetch_chain(s, t, key, (size_t)n);
        fc_entry_view e;
        cr_assert(fc_store_get(s, key, (size_t)n, NOW, 0, &e), "%s", key);
        cr_assert_eq(e.vlen, (size_t)(i % 7) * 700, "%s", key);
    }
    fc_store_free(s);
}
