/*
 * Tests for storage/store.c (with dict.c, expire.c and hash.c). Time is injected through now_ms;
 * nothing sleeps. Table internals are observed only through the public API.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/hash.h"
#include "storage/store.h"
#include "storage/ktrie.h"

#define NOW 1000000

static fc_store *s;

static void setup(void)
{
    s = fc_store_new(42);
    cr_assert_not_null(s);
}

static void teardown(void)
{
    fc_store_free(s);
}

TestSuite(store, .init = setup, .fini = teardown);

static int put(const char *k, const char *v, int64_t exp)
{
    return fc_store_set(s, k, strlen(k), v, strlen(v), exp, false, NOW);
}

static bool get_at(const char *k, int64_t now, fc_entry_view *v)
{
    return fc_store_get(s, k, strlen(k), now, 0, v);
}

static void assert_val(const char *k, const char *want)
{
    fc_entry_view v;
    cr_assert(get_at(k, NOW, &v), "missing %s", k);
    cr_assert_eq(v.vlen, strlen(want));
    cr_assert_eq(memcmp(v.val, want, v.vlen), 0);
    cr_assert_eq(v.klen, strlen(k));
    cr_assert_eq(memcmp(v.key, k, v.klen), 0);
}

static size_t key_of(char *buf, size_t i)
{
    return (size_t)snprintf(buf, 32, "key:%zu", i);
}

Test(store, siphash_reference_vectors)
{
    unsigned char m[64];
    for (int i = 0; i < 64; i++)
        m[i] = (unsigned char)i;
    uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
    cr_assert_eq(fc_hash_siphash24(k0, k1, m, 0), 0x726fdb47dd0e0e31ULL);
    cr_assert_eq(fc_hash_siphash24(k0, k1, m, 15), 0xa129ca6149be45e5ULL);
    cr_assert_eq(fc_hash_siphash24(k0, k1, m, 63), 0x958a324ceb064572ULL);
    cr_assert_neq(fc_hash_siphash13(k0, k1, m, 8), fc_hash_siphash13(k0 + 1, k1, m, 8));
}

Test(store, set_get_del_overwrite)
{
    fc_entry_view v;
    cr_assert_not(get_at("a", NOW, &v));
    cr_assert_eq(put("a", "1", 0), 0);
    assert_val("a", "1");
    cr_assert(get_at("a", NOW, &v));
    cr_assert_eq(v.expire_at, 0);
    cr_assert_eq(put("a", "a much longer value than before", 0), 0);
    assert_val("a", "a much longer value than before");
    cr_assert_eq(put("a", "", 0), 0);
    assert_val("a", "");
    cr_assert_eq(fc_store_size(s), 1);
    cr_assert(fc_store_del(s, "a", 1, NOW));
    cr_assert_not(fc_store_del(s, "a", 1, NOW));
    cr_assert_not(get_at("a", NOW, &v));
    cr_assert_eq(fc_store_size(s), 0);
}

Test(store, empty_key_and_binary_keys_with_nul)
{
    const char k1[] = {'a', 0, 'b'}, k2[] = {'a', 0, 'c'}, val[] = {0, 1, 0, (char)0xff};
    fc_entry_view v;
    cr_assert_eq(fc_store_set(s, k1, 3, val, 4, 0, false, NOW), 0);
    cr_assert_eq(fc_store_set(s, k2, 3, "x", 1, 0, false, NOW), 0);
    cr_assert_eq(fc_store_set(s, "", 0, "empty", 5, 0, false, NOW), 0);
    cr_assert(fc_store_get(s, k1, 3, NOW, 0, &v));
    cr_assert_eq(v.vlen, 4);
    cr_assert_eq(memcmp(v.val, val, 4), 0);
    cr_assert(fc_store_get(s, k2, 3, NOW, 0, &v));
    cr_assert_eq(v.vlen, 1);
    cr_assert_not(fc_store_get(s, k1, 2, NOW, 0, &v));
    cr_assert(fc_store_get(s, "", 0, NOW, 0, &v));
    cr_assert_eq(v.vlen, 5);
    cr_assert_eq(fc_store_size(s), 3);
}

Test(store, long_keys_and_values_use_wider_lengths)
{
    size_t klen = 300, vlen = 70000;
    char *k = malloc(klen), *val = malloc(vlen);
    for (size_t i = 0; i < klen; i++)
        k[i] = (char)(i * 7);
    for (size_t i = 0; i < vlen; i++)
        val[i] = (char)(i * 13);
    fc_entry_view v;
    cr_assert_eq(fc_store_set(s, k, klen, val, vlen, NOW + 5, false, NOW), 0);
    cr_assert(fc_store_get(s, k, klen, NOW, 0, &v));
    cr_assert_eq(v.klen, klen);
    cr_assert_eq(v.vlen, vlen);
    cr_assert_eq(memcmp(v.key, k, klen), 0);
    cr_assert_eq(memcmp(v.val, val, vlen), 0);
    cr_assert_eq(v.expire_at, NOW + 5);
    cr_assert_eq(fc_store_set(s, k, klen, "s", 1, 0, false, NOW), 0);
    cr_assert(fc_store_get(s, k, klen, NOW, 0, &v));
    cr_assert_eq(v.vlen, 1);
    cr_assert_eq(v.expire_at, 0);
    cr_assert_eq(fc_store_volatile_size(s), 0);
    free(k);
    free(val);
}

Test(store, keep_ttl_semantics)
{
    fc_entry_view v;
    cr_assert_eq(put("k", "v1", NOW + 100), 0);
    cr_assert_eq(fc_store_set(s, "k", 1, "v2", 2, NOW + 999, true, NOW), 0);
    cr_assert(get_at("k", NOW, &v));
    cr_assert_eq(v.expire_at, NOW + 100, "keep_ttl keeps the live key's expiry");
    cr_assert_eq(fc_store_set(s, "k", 1, "v3", 2, NOW + 999, false, NOW), 0);
    cr_assert(get_at("k", NOW, &v));
    cr_assert_eq(v.expire_at, NOW + 999, "without keep_ttl the new expiry wins");
    cr_assert_eq(fc_store_set(s, "k", 1, "v4", 2, 0, false, NOW), 0);
    cr_assert(get_at("k", NOW, &v));
    cr_assert_eq(v.expire_at, 0);
    cr_assert_eq(fc_store_volatile_size(s), 0);
    /* keep_ttl on a missing key uses expire_at. */
    cr_assert_eq(fc_store_set(s, "m", 1, "v", 1, NOW + 7, true, NOW), 0);
    cr_assert(get_at("m", NOW, &v));
    cr_assert_eq(v.expire_at, NOW + 7);
    /* keep_ttl on an expired key treats it as missing. */
    cr_assert_eq(fc_store_set(s, "m", 1, "w", 1, NOW + 50, true, NOW + 8), 0);
    cr_assert(get_at("m", NOW + 8, &v));
    cr_assert_eq(v.expire_at, NOW + 50);
    cr_assert_eq(fc_store_get_stats(s)->expired, 1);
    cr_assert_eq(fc_store_volatile_size(s), 1);
}

/* As Redis's keyIsExpired (now > when): a key is live through its expiry millisecond. */
Test(store, expiry_boundary_is_exclusive)
{
    fc_entry_view v;
    const fc_store_stats *st = fc_store_get_stats(s);
    cr_assert_eq(put("k", "v", NOW + 10), 0);
    cr_assert(get_at("k", NOW + 9, &v));
    cr_assert_eq(v.expire_at, NOW + 10);
    cr_assert(get_at("k", NOW + 10, &v), "expire_at == now is still live");
    cr_assert_eq(fc_store_expire_cycle(s, NOW + 10, 1000), 0, "the active cycle agrees");
    cr_assert_not(fc_store_del(s, "nokey", 5, NOW + 10));
    cr_assert_eq(st->expired, 0);
    cr_assert_not(get_at("k", NOW + 11, &v), "one ms later it is expired");
    cr_assert_eq(fc_store_size(s), 0, "a lookup of an expired key deletes it");
    cr_assert_eq(st->expired, 1);
    /* A write expiring exactly now is live, like SET k v PXAT <now>. */
    cr_assert_eq(put("n", "v", NOW), 0);
    cr_assert(get_at("n", NOW, &v));
    cr_assert_eq(fc_store_expire_cycle(s, NOW, 1000), 0);
    cr_assert_eq(fc_store_expire_cycle(s, NOW + 1, 1000), 1);
}

/* A write whose expiry is already past (SET ... PXAT in the past) stores the key expired, as
 * Redis 7.0 does: it counts in size and volatile size, and as expired only once reclaimed. */
Test(store, set_with_a_past_expiry_stores_the_key_expired)
{
    fc_entry_view v;
    const fc_store_stats *st = fc_store_get_stats(s);
    cr_assert_eq(put("a", "1", NOW - 5), 0);
    cr_assert_eq(put("b", "2", 0), 0);
    cr_assert_eq(put("b", "3", NOW - 1), 0, "a live key replaced by an expired value");
    cr_assert_eq(fc_store_size(s), 2);
    cr_assert_eq(fc_store_volatile_size(s), 2);
    cr_assert_eq(st->expired, 0, "nothing was reclaimed yet");
    cr_assert_eq(st->hits + st->misses, 0);
    cr_assert_not(get_at("a", NOW, &v));
    cr_assert_eq(st->expired, 1);
    cr_assert_eq(st->misses, 1);
    cr_assert_eq(fc_store_size(s), 1);
    cr_assert_eq(fc_store_expire_cycle(s, NOW, 1000), 1, "the active cycle reclaims b");
    cr_assert_eq(st->expired, 2);
    cr_assert_eq(fc_store_size(s), 0);
    cr_assert_eq(fc_store_volatile_size(s), 0);
    /* Over a key that already expired: that one counts as expired, the new one stays. */
    cr_assert_eq(put("c", "1", NOW - 1), 0);
    cr_assert_eq(put("c", "2", NOW - 1), 0);
    cr_assert_eq(st->expired, 3);
    cr_assert_eq(fc_store_size(s), 1);
    cr_assert_not(fc_store_del(s, "c", 1, NOW), "deleting it reports it missing");
    cr_assert_eq(st->expired, 4);
    cr_assert_eq(fc_store_size(s), 0);
}

Test(store, lazy_expiry_counts_and_stats)
{
    fc_entry_view v;
    put("a", "1", NOW + 10);
    put("b", "2", NOW + 10);
    put("c", "3", 0);
    cr_assert_eq(fc_store_volatile_size(s), 2);
    cr_assert(get_at("a", NOW, &v));
    cr_assert_not(get_at("a", NOW + 11, &v));
    cr_assert_not(fc_store_del(s, "b", 1, NOW + 11), "deleting an expired key reports missing");
    cr_assert_not(fc_store_get(s, "zz", 2, NOW, FC_LOOKUP_NOSTATS, &v));
    cr_assert(fc_store_get(s, "c", 1, NOW, FC_LOOKUP_NOSTATS, &v));
    const fc_store_stats *st = fc_store_get_stats(s);
    cr_assert_eq(st->hits, 1);
    cr_assert_eq(st->misses, 1);
    cr_assert_eq(st->expired, 2);
    cr_assert_eq(fc_store_volatile_size(s), 0);
    cr_assert_eq(fc_store_size(s), 1);
}

Test(store, set_expire_and_persist)
{
    fc_entry_view v;
    cr_assert_not(fc_store_set_expire(s, "k", 1, NOW + 5, NOW));
    put("k", "value", 0);
    cr_assert(fc_store_set_expire(s, "k", 1, NOW + 5, NOW));
    cr_assert_eq(fc_store_volatile_size(s), 1);
    assert_val("k", "value");
    cr_assert(get_at("k", NOW, &v));
    cr_assert_eq(v.expire_at, NOW + 5);
    cr_assert(fc_store_set_expire(s, "k", 1, FC_NO_EXPIRE, NOW));
    cr_assert_eq(fc_store_volatile_size(s), 0);
    cr_assert(get_at("k", NOW + 100, &v), "persisted key outlives its old expiry");
    cr_assert_eq(v.expire_at, 0);
    cr_assert(fc_store_set_expire(s, "k", 1, NOW + 1, NOW));
    cr_assert_not(fc_store_set_expire(s, "k", 1, NOW + 9, NOW + 2), "expired key is missing");
    cr_assert_eq(fc_store_volatile_size(s), 0);
}

Test(store, active_expiry_reclaims_unread_keys)
{
    char k[32];
    for (size_t i = 0; i < 1000; i++)
        fc_store_set(s, k, key_of(k, i), "v", 1, i % 2 ? NOW + 10 : 0, false, NOW);
    cr_assert_eq(fc_store_volatile_size(s), 500);
    cr_assert_eq(fc_store_expire_cycle(s, NOW + 10, 100000), 0, "nothing is due yet");
    size_t total = 0, calls = 0;
    while (fc_store_volatile_size(s) > 0 && calls < 10000) {
        size_t n = fc_store_expire_cycle(s, NOW + 11, 16);
        cr_assert_leq(n, 16 * 8, "bounded work deletes a bounded number");
        total += n;
        calls++;
    }
    cr_assert_eq(total, 500);
    cr_assert_gt(calls, 1, "a small budget needs several calls");
    cr_assert_eq(fc_store_size(s), 500);
    cr_assert_eq(fc_store_get_stats(s)->expired, 500);
    cr_assert_eq(fc_store_expire_cycle(s, NOW + 11, 0), 0);
}

Test(store, active_expiry_while_leaves_grow_and_burst)
{
    char k[32];
    int64_t t = NOW;
    size_t inserted = 0, reclaimed = 0, empty = fc_store_bytes(s);
    for (size_t i = 0; i < 20000; i++) {
        fc_store_set(s, k, key_of(k, i), "v", 1, t + 3, false, t);
        inserted++;
        reclaimed += fc_store_expire_cycle(s, t, 3);
        t++;
    }
    t += 10;
    while (fc_store_size(s) > 0)
        reclaimed += fc_store_expire_cycle(s, t, 1000);
    cr_assert_eq(reclaimed, inserted);
    cr_assert_eq(fc_store_volatile_size(s), 0);
    cr_assert_lt(fc_store_bytes(s), empty + 2048, "the table shrank back");
}

Test(store, resize_value_grow_shrink_create)
{
    fc_entry_view v;
    char *p = fc_store_resize_value(s, "k", 1, 3, NOW + 50, NOW);
    cr_assert_not_null(p);
    cr_assert_eq(memcmp(p, "\0\0\0", 3), 0, "a created value is zero-filled");
    memcpy(p, "abc", 3);
    cr_assert(get_at("k", NOW, &v));
    cr_assert_eq(v.expire_at, NOW + 50, "created with expire_if_created");
    p = fc_store_resize_value(s, "k", 1, 6, 0, NOW);
    cr_assert_eq(memcmp(p, "abc\0\0\0", 6), 0);
    memcpy(p + 3, "def", 3);
    assert_val("k", "abcdef");
    cr_assert(get_at("k", NOW, &v));
    cr_assert_eq(v.expire_at, NOW + 50, "the expiry is kept");
    p = fc_store_resize_value(s, "k", 1, 2, 0, NOW);
    assert_val("k", "ab");
    /* An expired key is replaced by a fresh empty one. */
    p = fc_store_resize_value(s, "k", 1, 1, NOW + 500, NOW + 51);
    cr_assert_eq(p[0], 0);
    cr_assert(get_at("k", NOW + 51, &v));
    cr_assert_eq(v.expire_at, NOW + 500);
}

Test(store, resize_value_appends_many_times)
{
    size_t n = 200000;
    for (size_t i = 0; i < n; i++) {
        char *p = fc_store_resize_value(s, "log", 3, i + 1, 0, NOW);
        cr_assert_not_null(p);
        p[i] = (char)('a' + i % 26);
    }
    fc_entry_view v;
    cr_assert(fc_store_get(s, "log", 3, NOW, 0, &v));
    cr_assert_eq(v.vlen, n);
    for (size_t i = 0; i < n; i += 997)
        cr_assert_eq(v.val[i], (char)('a' + i % 26));
    cr_assert_lt(fc_store_bytes(s), 3 * n, "the growth slack is bounded");
}

Test(store, rename_cases)
{
    fc_entry_view v;
    cr_assert_eq(fc_store_rename(s, "src", 3, "dst", 3, false, NOW), -ENOENT);
    put("src", "v", NOW + 100);
    cr_assert_eq(fc_store_rename(s, "src", 3, "src", 3, false, NOW), 0);
    cr_assert_eq(fc_store_rename(s, "src", 3, "src", 3, true, NOW), -EEXIST);
    assert_val("src", "v");
    cr_assert_eq(fc_store_rename(s, "src", 3, "dst", 3, false, NOW), 0);
    cr_assert_not(get_at("src", NOW, &v));
    assert_val("dst", "v");
    cr_assert(get_at("dst", NOW, &v));
    cr_assert_eq(v.expire_at, NOW + 100, "rename keeps the expiry");
    cr_assert_eq(fc_store_volatile_size(s), 1);
    put("other", "o", 0);
    cr_assert_eq(fc_store_rename(s, "other", 5, "dst", 3, true, NOW), -EEXIST);
    assert_val("other", "o");
    cr_assert_eq(fc_store_rename(s, "other", 5, "dst", 3, false, NOW), 0);
    assert_val("dst", "o");
    cr_assert(get_at("dst", NOW, &v));
    cr_assert_eq(v.expire_at, 0, "the replaced destination's expiry is gone");
    cr_assert_eq(fc_store_volatile_size(s), 0);
    cr_assert_eq(fc_store_size(s), 1);
    /* nx with an expired destination succeeds; an expired source is missing. */
    put("e", "x", NOW);
    cr_assert_eq(fc_store_rename(s, "dst", 3, "e", 1, true, NOW + 1), 0);
    assert_val("e", "o");
    put("gone", "x", NOW);
    cr_assert_eq(fc_store_rename(s, "gone", 4, "z", 1, false, NOW + 1), -ENOENT);
}

Test(store, many_inserts_burst_with_lookups)
{
    char k[32];
    size_t n = 100000;
    fc_entry_view v;
    for (size_t i = 0; i < n; i++) {
        size_t kl = key_of(k, i);
        cr_assert_eq(fc_store_set(s, k, kl, k, kl, 0, false, NOW), 0);
        if (i % 97 == 0) {
            size_t j = i / 2;
            size_t jl = key_of(k, j);
            cr_assert(fc_store_get(s, k, jl, NOW, 0, &v), "lost key %zu at %zu", j, i);
            cr_assert_eq(v.vlen, jl);
            cr_assert_eq(memcmp(v.val, k, jl), 0);
        }
    }
    cr_assert_eq(fc_store_size(s), n);
    for (size_t i = 0; i < n; i++)
        cr_assert(fc_store_get(s, k, key_of(k, i), NOW, 0, &v));
    /* Delete most keys: the table shrinks incrementally while lookups go on. */
    for (size_t i = 0; i < n; i++)
        if (i % 50)
            cr_assert(fc_store_del(s, k, key_of(k, i), NOW));
    for (size_t i = 0; i < n; i += 50)
        cr_assert(fc_store_get(s, k, key_of(k, i), NOW, 0, &v));
    cr_assert_eq(fc_store_size(s), n / 50);
    /* Left: 2,000 keys in sparse leaves under the trie's nodes (~2 KB each): ~300 B per key left
     * with 1,024-key leaves (measured), for ~57 B per key when the leaves are full. */
    cr_assert_lt(fc_store_bytes(s), 400 * (n / 50), "memory came back after the shrink: %zu",
                 fc_store_bytes(s));
}

/* SCAN guarantee: keys present for the whole scan are returned at least once. */
typedef struct seen {
    unsigned char *hits; /* indexed by key number */
    size_t nkeys;
    size_t visits;
} seen;

static void mark(void *ctx, const fc_entry_view *e)
{
    seen *sn = ctx;
    char buf[32];
    memcpy(buf, e->key, e->klen);
    buf[e->klen] = 0;
    size_t i = strtoul(buf + 4, NULL, 10);
    if (i < sn->nkeys)
        sn->hits[i] = 1;
    sn->visits++;
}

/* Scans while inserting (grow: up to 15x the stable keys, then deleting them again) or deleting
 * pre-inserted extras. Returns the largest size seen. */
static size_t scan_with_churn(size_t stable, size_t churn_per_step, bool grow)
{
    size_t max_size = 0;
    char k[32];
    seen sn = {calloc(stable + 1000000, 1), stable, 0};
    for (size_t i = 0; i < stable; i++)
        fc_store_set(s, k, key_of(k, i), "v", 1, 0, false, NOW);
    size_t extra = 1000000, steps = 0;
    if (!grow) /* fill with extras that are deleted during the scan, forcing shrinks */
        for (size_t i = 0; i < stable * 20; i++)
            fc_store_set(s, k, key_of(k, extra + i), "v", 1, 0, false, NOW);
    size_t next_extra = grow ? extra : extra + stable * 20, del_extra = extra;
    uint64_t cur = 0;
    do {
        cur = fc_store_scan(s, cur, NOW, mark, &sn);
        for (size_t j = 0; j < churn_per_step; j++) {
            if (grow && next_extra < extra + stable * 15) {
                fc_store_set(s, k, key_of(k, next_extra++), "v", 1, 0, false, NOW);
            } else if (del_extra < next_extra) {
                fc_store_del(s, k, key_of(k, del_extra++), NOW);
            }
        }
        steps++;
        if (fc_store_size(s) > max_size)
            max_size = fc_store_size(s);
    } while (cur != 0);
    for (size_t i = 0; i < stable; i++)
        cr_assert(sn.hits[i], "key %zu present for the whole scan was not returned", i);
    cr_assert_gt(steps, 10);
    free(sn.hits);
    return max_size;
}

Test(store, scan_guarantee_while_growing)
{
    size_t max = scan_with_churn(2000, 50, true);
    cr_assert_gt(max, 2000 * 8, "the table grew a lot during the scan: %zu", max);
}

Test(store, scan_guarantee_while_shrinking)
{
    scan_with_churn(500, 40, false);
    cr_assert_lt(fc_store_size(s), 500 * 10, "most extras were deleted during the scan");
}

Test(store, scan_guarantee_mixed_churn_and_expiry)
{
    char k[32];
    size_t stable = 3000;
    seen sn = {calloc(stable, 1), stable, 0};
    for (size_t i = 0; i < stable; i++)
        fc_store_set(s, k, key_of(k, i), "v", 1, 0, false, NOW);
    uint64_t cur = 0, rnd = 7;
    size_t churn = 0, steps = 0;
    do {
        cur = fc_store_scan(s, cur, NOW + (int64_t)steps, mark, &sn);
        rnd = fc_hash_mix64(rnd);
        /* Churn over a pool of 20000 other names: bursts of short-lived writes (which grow the
         * table), deletes, and active expiry (which shrink it). */
        size_t burst = rnd % 300;
        for (size_t j = 0; j < burst; j++) {
            size_t kl = key_of(k, 100000 + (rnd + j * 7919) % 20000);
            fc_store_set(s, k, kl, "x", 1, NOW + (int64_t)steps + 20, false, NOW + (int64_t)steps);
            churn++;
        }
        if (steps % 3 == 0)
            for (size_t j = 0; j < 200; j++)
                fc_store_del(s, k, key_of(k, 100000 + (rnd >> 20) % 20000 + j), NOW);
        fc_store_expire_cycle(s, NOW + (int64_t)steps, 64);
        steps++;
    } while (cur != 0 && steps < 1000000);
    cr_assert_eq(cur, 0);
    cr_assert_gt(churn, 1000);
    for (size_t i = 0; i < stable; i++)
        cr_assert(sn.hits[i], "key %zu not returned", i);
    free(sn.hits);
}

static void count_visit(void *ctx, const fc_entry_view *e)
{
    (void)e;
    (*(size_t *)ctx)++;
}

Test(store, scan_skips_expired_and_empty_store_returns_zero)
{
    size_t n = 0;
    cr_assert_eq(fc_store_scan(s, 0, NOW, count_visit, &n), 0);
    cr_assert_eq(n, 0);
    put("live", "1", 0);
    put("dead", "2", NOW);
    uint64_t cur = 0;
    do
        cur = fc_store_scan(s, cur, NOW + 1, count_visit, &n);
    while (cur);
    cr_assert_eq(n, 1);
    cr_assert_eq(fc_store_size(s), 1, "the expired key met by scan was reclaimed");
}

/* What a visit callback saw, and the flags it answers for expired keys starting with 'r'. */
typedef struct visit_log {
    size_t live, expired;
    unsigned ask;
} visit_log;

static unsigned log_visit(void *ctx, const fc_entry_view *e, bool expired)
{
    visit_log *vl = ctx;
    if (expired)
        vl->expired++;
    else
        vl->live++;
    return e->klen > 0 && e->key[0] == 'r' ? vl->ask : 0;
}

static void visit_all(int64_t now, visit_log *vl)
{
    uint64_t cur = 0;
    do
        cur = fc_store_scan_visit(s, cur, now, log_visit, vl);
    while (cur);
}

/* KEYS leaves expired keys in place; SCAN deletes those it asks to; SCAN ... TYPE counts a
 * lookup per key. */
Test(store, scan_visit_shows_expired_keys_and_reaps_only_on_request)
{
    const fc_store_stats *st = fc_store_get_stats(s);
    put("live", "1", 0);
    put("rlive", "1", NOW + 5);
    put("keep", "2", NOW);
    put("reap", "2", NOW);
    visit_log vl = {0, 0, 0};
    visit_all(NOW, &vl);
    cr_assert_eq(vl.live, 4, "expire_at == now is live");
    cr_assert_eq(vl.expired, 0);
    vl = (visit_log){0, 0, 0};
    visit_all(NOW + 1, &vl);
    cr_assert_eq(vl.live, 2);
    cr_assert_eq(vl.expired, 2);
    cr_assert_eq(fc_store_size(s), 4, "nothing asked: the expired keys stay");
    cr_assert_eq(st->expired + st->hits + st->misses, 0);
    vl = (visit_log){0, 0, FC_VISIT_REAP};
    visit_all(NOW + 1, &vl);
    cr_assert_eq(vl.expired, 2);
    cr_assert_eq(fc_store_size(s), 3, "only the key asked for went");
    cr_assert_eq(st->expired, 1);
    cr_assert_eq(st->hits + st->misses, 0, "a reap alone is not a lookup");
    put("reap", "2", NOW);
    vl = (visit_log){0, 0, FC_VISIT_REAP | FC_VISIT_LOOKUP};
    visit_all(NOW + 1, &vl);
    cr_assert_eq(st->hits, 1, "rlive");
    cr_assert_eq(st->misses, 1, "reap");
    cr_assert_eq(st->expired, 2);
    cr_assert_eq(fc_store_size(s), 3);
    fc_store_reset_stats(s);
    cr_assert_eq(st->hits + st->misses + st->expired + st->evicted, 0);
    cr_assert_eq(fc_store_size(s), 3, "a reset keeps the keys");
}

Test(store, random_key)
{
    fc_entry_view v;
    char k[32];
    cr_assert_not(fc_store_random(s, NOW, 1, &v));
    for (size_t i = 0; i < 1000; i++)
        fc_store_set(s, k, key_of(k, i), "v", 1, 0, false, NOW);
    unsigned char *hit = calloc(1000, 1);
    size_t distinct = 0;
    for (uint64_t r = 0; r < 5000; r++) {
        cr_assert(fc_store_random(s, NOW, r, &v));
        memcpy(k, v.key, v.klen);
        k[v.klen] = 0;
        size_t i = strtoul(k + 4, NULL, 10);
        cr_assert_lt(i, 1000);
        distinct += !hit[i];
        hit[i] = 1;
    }
    cr_assert_gt(distinct, 900, "random keys cover the keyspace");
    free(hit);
}

/* As Redis's RANDOMKEY: an expired key it picks is deleted (counted as expired) and it picks
 * again, so the keys it passes over leave DBSIZE; with only expired keys left it empties the
 * store and finds nothing. */
Test(store, random_deletes_the_expired_keys_it_meets)
{
    fc_entry_view v;
    char k[32];
    const fc_store_stats *st = fc_store_get_stats(s);
    for (size_t i = 0; i < 20000; i++)
        fc_store_set(s, k, key_of(k, i), "v", 1, NOW + 1, false, NOW);
    put("survivor", "s", 0);
    cr_assert(fc_store_random(s, NOW + 1, 7, &v), "expire_at == now is live");
    cr_assert_eq(st->expired, 0);
    cr_assert_eq(fc_store_size(s), 20001);
    for (uint64_t r = 0; r < 20; r++) {
        cr_assert(fc_store_random(s, NOW + 2, r, &v));
        cr_assert_eq(v.klen, 8);
        cr_assert_eq(memcmp(v.key, "survivor", 8), 0);
        cr_assert_gt(st->expired, 0, "the expired keys it picked were deleted");
        cr_assert_eq(fc_store_size(s) + st->expired, 20001);
        cr_assert_eq(fc_store_volatile_size(s) + st->expired, 20000);
    }
    cr_assert_eq(st->hits + st->misses, 0, "not a keyspace lookup");
    fc_store_del(s, "survivor", 8, NOW);
    cr_assert_not(fc_store_random(s, NOW + 2, 3, &v), "only expired keys left");
    cr_assert_eq(fc_store_size(s), 0, "all of them were deleted");
    cr_assert_eq(st->expired, 20000);
    cr_assert_not(fc_store_random(s, NOW + 2, 4, &v));
}

/* Half the keys expired: every key returned is live, and what was deleted was expired. */
Test(store, random_among_expired_keys_returns_only_live_ones)
{
    fc_entry_view v;
    char k[32];
    const fc_store_stats *st = fc_store_get_stats(s);
    for (size_t i = 0; i < 4000; i++)
        fc_store_set(s, k, key_of(k, i), "v", 1, i % 2 ? NOW : 0, false, NOW);
    for (uint64_t r = 0; r < 500; r++) {
        cr_assert(fc_store_random(s, NOW + 1, r, &v));
        cr_assert_eq(v.expire_at, 0, "an expired key was returned");
    }
    cr_assert_gt(st->expired, 0);
    cr_assert_eq(fc_store_size(s) + st->expired, 4000);
    cr_assert_eq(fc_store_volatile_size(s) + st->expired, 2000);
}

Test(store, invalidate_prefix_and_glob)
{
    char k[32];
    for (size_t i = 0; i < 100; i++) {
        snprintf(k, sizeof(k), "user:%zu", i);
        put(k, "u", 0);
        snprintf(k, sizeof(k), "sess:%zu", i);
        put(k, "s", i < 10 ? NOW : 0);
    }
    put("user", "bare", 0);
    put("user:", "colon", NOW + 5);
    cr_assert_eq(fc_store_invalidate(s, "user:*", 6, NOW), 101);
    assert_val("user", "bare");
    cr_assert_eq(fc_store_size(s), 101);
    /* Expired matching keys are deleted but not counted. */
    cr_assert_eq(fc_store_invalidate(s, "sess:?", 6, NOW + 1), 0);
    cr_assert_eq(fc_store_invalidate(s, "sess:[1-2]?", 11, NOW + 1), 20);
    cr_assert_eq(fc_store_invalidate(s, "nomatch*", 8, NOW + 1), 0);
    cr_assert_eq(fc_store_size(s), 71);
    cr_assert_eq(fc_store_invalidate(s, "*", 1, NOW + 1), 71);
    cr_assert_eq(fc_store_size(s), 0);
    cr_assert_eq(fc_store_get_stats(s)->expired, 10);
}

Test(store, bytes_accounting_grows_and_shrinks)
{
    char k[32];
    size_t empty = fc_store_bytes(s);
    for (size_t i = 0; i < 10000; i++)
        fc_store_set(s, k, key_of(k, i), "0123456789", 10, 0, false, NOW);
    size_t full = fc_store_bytes(s);
    cr_assert_gt(full, empty + 10000 * 40);
    cr_assert_lt(full, empty + 10000 * 100);
    char big[4096] = {0};
    fc_store_set(s, "big", 3, big, sizeof(big), 0, false, NOW);
    cr_assert_geq(fc_store_bytes(s), full + sizeof(big));
    fc_store_del(s, "big", 3, NOW);
    cr_assert_leq(fc_store_bytes(s), full + 64);
    for (size_t i = 0; i < 10000; i++)
        fc_store_del(s, k, key_of(k, i), NOW);
    cr_assert_leq(fc_store_bytes(s), empty + 1024, "%zu vs %zu, size %zu", fc_store_bytes(s), empty, fc_store_size(s));
}

Test(store, flush_empties_everything)
{
    char k[32];
    for (size_t i = 0; i < 5000; i++)
        fc_store_set(s, k, key_of(k, i), "v", 1, i % 3 ? 0 : NOW + 9, false, NOW);
    fc_store_flush(s);
    cr_assert_eq(fc_store_size(s), 0);
    cr_assert_eq(fc_store_volatile_size(s), 0);
    fc_entry_view v;
    cr_assert_not(fc_store_get(s, k, key_of(k, 1), NOW, 0, &v));
    put("after", "flush", 0);
    assert_val("after", "flush");
}

Test(store, seeds_change_bucket_order)
{
    fc_store *other = fc_store_new(43);
    char k[32];
    for (size_t i = 0; i < 64; i++) {
        fc_store_set(s, k, key_of(k, i), "v", 1, 0, false, NOW);
        fc_store_set(other, k, key_of(k, i), "v", 1, 0, false, NOW);
    }
    fc_entry_view a, b;
    size_t differ = 0;
    uint64_t ca = 0, cb = 0;
    for (int step = 0; step < 8; step++) {
        size_t na = 0, nb = 0;
        ca = fc_store_scan(s, ca, NOW, count_visit, &na);
        cb = fc_store_scan(other, cb, NOW, count_visit, &nb);
        differ += na != nb;
    }
    cr_assert(fc_store_random(s, NOW, 5, &a));
    cr_assert(fc_store_random(other, NOW, 5, &b));
    cr_assert_gt(differ, 0, "a different seed spreads keys differently");
    fc_store_free(other);
}

/* Scans while, between steps, new keys burst leaves (moving stable keys to new leaves) and
 * other keys are deleted (shrinking and freeing leaves): every stable key must be returned.
 * (A burst shows the keys it moves to the scan again, so a scan ends only while it advances
 * faster than inserts re-expose keys: one insert per two steps here.) */
static void scan_while_reshaping(size_t stable, size_t churn)
{
    char k[32];
    seen sn = {calloc(stable, 1), stable, 0};
    for (size_t i = 0; i < stable; i++)
        fc_store_set(s, k, key_of(k, i), "v", 1, 0, false, NOW);
    for (size_t i = 0; i < churn; i++) /* to be deleted during the scan */
        fc_store_set(s, k, key_of(k, 2000000 + i), "v", 1, 0, false, NOW);
    uint64_t cur = 0;
    size_t step = 0;
    do {
        cur = fc_store_scan(s, cur, NOW, mark, &sn);
        if (step % 2 == 0)
            fc_store_set(s, k, key_of(k, 1000000 + step), "v", 1, 0, false, NOW);
        for (int j = 0; j < 3 && step < churn; j++, step++)
            fc_store_del(s, k, key_of(k, 2000000 + step), NOW);
        step += step >= churn;
    } while (cur != 0);
    for (size_t i = 0; i < stable; i++)
        cr_assert(sn.hits[i], "key %zu not returned", i);
    cr_assert_gt(step, stable / 4, "the scan took many steps (%zu)", step);
    free(sn.hits);
}

Test(store, scan_guarantee_while_leaves_burst)
{
    scan_while_reshaping(3 * FC_KT_BURST, 0);
}

Test(store, scan_guarantee_while_leaves_shrink_and_go)
{
    scan_while_reshaping(1000, 3 * FC_KT_BURST);
}

Test(store, null_pointers_with_zero_lengths)
{
    fc_entry_view v;
    cr_assert_eq(fc_store_set(s, NULL, 0, NULL, 0, 0, false, NOW), 0);
    cr_assert(fc_store_get(s, "", 0, NOW, 0, &v));
    cr_assert_eq(v.klen, 0);
    cr_assert_eq(v.vlen, 0);
    cr_assert_eq(fc_store_set(s, NULL, 0, "x", 1, 0, false, NOW), 0);
    cr_assert(fc_store_get(s, NULL, 0, NOW, 0, &v));
    cr_assert_eq(v.vlen, 1);
    cr_assert(fc_store_del(s, NULL, 0, NOW));
}
