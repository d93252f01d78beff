/*
 * Tests for storage/slab.c: class sizes, slot reuse, slabs leaving and rejoining their class,
 * emptied slabs going back to the pool, and the store's entries living in it (sizes, the
 * FC_SLAB_MAX crossing in both directions).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/slab.h"
#include "storage/store.h"

static fc_slab a;

static void setup(void)
{
    fc_slab_init(&a);
}

static void teardown(void)
{
    fc_slab_deinit(&a);
}

TestSuite(slab, .init = setup, .fini = teardown);

static size_t per_slab(size_t size)
{
    return (FC_SLAB_BYTES - 64) / size;
}

Test(slab, class_sizes_cover_each_request_with_little_rounding)
{
    size_t prev = 0;
    for (size_t n = 1; n <= FC_SLAB_MAX; n++) {
        size_t c = fc_slab_class_size(n);
        cr_assert_geq(c, n);
        cr_assert_eq(c % 8, 0, "%zu -> %zu", n, c);
        cr_assert_geq(c, prev);
        cr_assert_leq(c, n <= 256 ? n + 7 : n + n / 16, "%zu -> %zu", n, c);
        prev = c;
    }
    cr_assert_eq(fc_slab_class_size(1), 8);
    cr_assert_eq(fc_slab_class_size(32), 32);
    cr_assert_eq(fc_slab_class_size(33), 40);
    cr_assert_eq(fc_slab_class_size(257), 272);
    cr_assert_eq(fc_slab_class_size(513), 544);
    cr_assert_eq(fc_slab_class_size(1053), 1088);
    cr_assert_eq(fc_slab_class_size(FC_SLAB_MAX), FC_SLAB_MAX);
}

Test(slab, slots_are_aligned_disjoint_and_keep_their_bytes)
{
    enum { N = 20000 };
    static unsigned char *p[N];
    static size_t len[N];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        len[i] = 1 + x % 600;
        p[i] = fc_slab_alloc(&a, len[i]);
        cr_assert_not_null(p[i]);
        cr_assert_eq((uintptr_t)p[i] % 8, 0);
        cr_assert_eq(fc_slab_usable(p[i]), fc_slab_class_size(len[i]));
        memset(p[i], (int)(i & 0xff), len[i]);
        if (i % 3 == 2) { /* free an older one: its slot is reused by later requests */
            size_t j = x % i;
            if (p[j]) {
                fc_slab_free(&a, p[j]);
                p[j] = NULL;
            }
        }
    }
    for (size_t i = 0; i < N; i++) {
        for (size_t k = 0; p[i] && k < len[i]; k++)
            cr_assert_eq(p[i][k], (unsigned char)(i & 0xff), "slot %zu byte %zu", i, k);
        if (p[i])
            fc_slab_free(&a, p[i]);
    }
    cr_assert_eq(a.used, 0);
}

Test(slab, a_freed_slot_is_the_next_one_of_its_class)
{
    void *p = fc_slab_alloc(&a, 40);
    void *q = fc_slab_alloc(&a, 40);
    void *other = fc_slab_alloc(&a, 100);
    fc_slab_free(&a, p);
    cr_assert_eq(fc_slab_alloc(&a, 100) == p, false, "another class never takes it");
    cr_assert_eq(fc_slab_alloc(&a, 33), p);
    fc_slab_free(&a, q);
    fc_slab_free(&a, other);
}

Test(slab, a_full_slab_rejoins_its_class_at_its_first_free)
{
    size_t n = per_slab(48);
    char *first = fc_slab_alloc(&a, 48);
    for (size_t i = 1; i < n; i++)
        fc_slab_alloc(&a, 48);
    cr_assert_eq(a.used, 1);
    char *next = fc_slab_alloc(&a, 48); /* the first slab is full */
    cr_assert_eq(a.used, 2);
    cr_assert_neq((uintptr_t)next / FC_SLAB_BYTES, (uintptr_t)first / FC_SLAB_BYTES);
    fc_slab_free(&a, first + 48 * 5);
    cr_assert_eq(fc_slab_alloc(&a, 48), first + 48 * 5);
}

Test(slab, emptied_slabs_go_to_the_pool_and_only_a_few_stay_resident)
{
    size_t n = per_slab(64) * 40;
    void **p = malloc(n * sizeof(*p));
    for (size_t i = 0; i < n; i++)
        cr_assert_not_null(p[i] = fc_slab_alloc(&a, 64));
    cr_assert_eq(a.used, 40);
    cr_assert_eq(fc_slab_resident(&a), 40 * FC_SLAB_BYTES);
    for (size_t i = 0; i < n; i++)
        fc_slab_free(&a, p[i]);
    cr_assert_eq(a.used, 0);
    cr_assert_eq(a.nempty, 40);
    cr_assert_eq(fc_slab_resident(&a), FC_SLAB_KEEP * FC_SLAB_BYTES);
    /* Any class takes pooled slabs, resident ones first; no arena is added. */
    size_t arenas = a.narenas;
    for (size_t i = 0; i < per_slab(128) * 40; i++)
        cr_assert_not_null(p[i] = fc_slab_alloc(&a, 128));
    cr_assert_eq(a.narenas, arenas);
    cr_assert_eq(a.used, 40);
    cr_assert_eq(a.nempty, 0);
    free(p);
}

Test(slab, a_class_keeps_allocating_across_many_arenas)
{
    size_t n = per_slab(FC_SLAB_MAX) * 200; /* 200 slabs: more than 3 arenas */
    for (size_t i = 0; i < n; i++) {
        char *p = fc_slab_alloc(&a, FC_SLAB_MAX);
        cr_assert_not_null(p);
        p[FC_SLAB_MAX - 1] = 1;
    }
    cr_assert_eq(a.used, 200);
    cr_assert_geq(a.narenas, 4);
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>

/* A use after free faults: the freed slot and the slab's unused space are poisoned. */
Test(slab, free_slots_are_poisoned_under_asan)
{
    char *p = fc_slab_alloc(&a, 40), *q = fc_slab_alloc(&a, 40);
    cr_assert_not(__asan_region_is_poisoned(p, 40));
    cr_assert(__asan_address_is_poisoned(q + 40), "never-used slots");
    fc_slab_free(&a, p);
    cr_assert(__asan_address_is_poisoned(p) && __asan_address_is_poisoned(p + 39));
    cr_assert_eq(fc_slab_alloc(&a, 40), p);
    cr_assert_not(__asan_region_is_poisoned(p, 40));
}
#endif

/* The store's entries: a 10-byte key with a 10-byte value takes a 32-byte slot, 40 with an
 * expiry; values crossing FC_SLAB_MAX either way keep their bytes and their accounting. */
Test(slab, store_entries_take_exact_slots)
{
    fc_store *s = fc_store_new(7);
    size_t empty = fc_store_bytes(s);
    cr_assert_eq(fc_store_set(s, "key:000001", 10, "value12345", 10, 0, false, 1), 0);
    size_t one = fc_store_bytes(s) - empty;
    cr_assert_geq(one, 32);
    cr_assert_eq(fc_store_set(s, "key:000002", 10, "value12345", 10, 99, false, 1), 0);
    cr_assert_eq(fc_store_bytes(s) - empty - one, 40);
    fc_store_free(s);
}

Test(slab, values_crossing_the_largest_class_keep_bytes_and_accounting)
{
    fc_store *s = fc_store_new(7);
    size_t empty = fc_store_bytes(s);
    cr_assert_eq(fc_store_set(s, "k", 1, "abc", 3, 0, false, 1), 0);
    size_t small = fc_store_bytes(s);
    char *v = NULL;
    for (size_t len = 3; len < 3 * FC_SLAB_MAX; len += 97) { /* APPEND-like growth */
        v = fc_store_resize_value(s, "k", 1, len + 97, 0, 1);
        cr_assert_not_null(v);
        memset(v + len, (int)('a' + len % 26), 97);
    }
    fc_entry_view e;
    cr_assert(fc_store_get(s, "k", 1, 1, 0, &e));
    cr_assert_eq(memcmp(e.val, "abc", 3), 0);
    for (size_t len = 3; len + 97 <= e.vlen; len += 97)
        cr_assert_eq(e.val[len + 50], (char)('a' + len % 26), "at %zu", len);
    cr_assert_gt(fc_store_bytes(s), empty + 3 * FC_SLAB_MAX);
    cr_assert_eq(fc_store_set(s, "k", 1, "xyz", 3, 0, false, 1), 0); /* back into a slab */
    cr_assert_eq(fc_store_bytes(s), small);
    cr_assert(fc_store_get(s, "k", 1, 1, 0, &e));
    cr_assert_eq(memcmp(e.val, "xyz", 3), 0);
    cr_assert(fc_store_del(s, "k", 1, 1));
    cr_assert_eq(fc_store_bytes(s), empty);
    fc_store_free(s);
}
