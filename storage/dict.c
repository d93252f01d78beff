/*
 * dict — chained hash table with incremental rehashing.
 *
 * Resizing never stops the world: a resize allocates the new table as t[1] and sets rehash_idx
 * to 0; then each fc_dict_rehash call moves a few t[0] buckets into t[1] (the key trie's leaves,
 * which hold at most FC_KT_BURST entries, finish a resize at once with fc_dict_rehash_all). When t[0] is drained, t[1] becomes t[0]. The table grows (doubles)
 * when the load factor reaches 1 and shrinks to the next power of two >= count when fewer than
 * 1/8 of the buckets are used, so a resize always lands between 1/2 and 1 full.
 *
 * Scan uses the reverse-binary cursor: the cursor's bits are incremented from the top bit down,
 * so the buckets visited so far are, in any table of size 2^k, exactly the buckets whose low bits
 * were already covered. Growing splits bucket i into i and i + size (same low bits), shrinking
 * merges them, so a visited bucket never hides an unvisited key. While two tables exist, a step
 * visits the bucket in the smaller table and every bucket of the larger table that it expands
 * into, which covers the entries of both tables whatever the rehash progress.
 */
#include "storage/dict.h"

#include <stdlib.h>

#include "storage/hash.h"

void fc_dict_init(fc_dict *d, uint64_t seed)
{
    d->t[0] = (fc_table){NULL, 0};
    d->t[1] = (fc_table){NULL, 0};
    d->count = 0;
    d->rehash_idx = -1;
    d->k0 = fc_hash_mix64(seed);
    d->k1 = fc_hash_mix64(d->k0 ^ 0x5bd1e9955bd1e995ULL);
}

void fc_dict_reset(fc_dict *d)
{
    free(d->t[0].b);
    free(d->t[1].b);
    d->t[0] = (fc_table){NULL, 0};
    d->t[1] = (fc_table){NULL, 0};
    d->count = 0;
    d->rehash_idx = -1;
}

uint64_t fc_dict_hash(const fc_dict *d, const char *key, size_t klen)
{
    return fc_hash_siphash13(d->k0, d->k1, key, klen);
}

static fc_entry **find_in(fc_table *t, const char *key, size_t klen, uint64_t h)
{
    fc_entry **link = &t->b[h & (t->size - 1)];
    for (; *link; link = &(*link)->next)
        if (fc_entry_key_eq(*link, key, klen))
            return link;
    return NULL;
}

fc_entry **fc_dict_find(fc_dict *d, const char *key, size_t klen, uint64_t h)
{
    if (d->count == 0)
        return NULL;
    fc_entry **link = find_in(&d->t[0], key, klen, h);
    if (!link && fc_dict_rehashing(d))
        link = find_in(&d->t[1], key, klen, h);
    return link;
}

static size_t next_pow2(size_t n)
{
    size_t s = FC_DICT_MIN_SIZE;
    while (s < n)
        s <<= 1;
    return s;
}

/* Allocates the target table and starts rehashing into it. Returns false on out-of-memory. */
static bool start_resize(fc_dict *d, size_t size)
{
    fc_entry **b = calloc(size, sizeof(*b));
    if (!b)
        return false;
    if (d->t[0].size == 0) {
        d->t[0] = (fc_table){b, size};
        return true;
    }
    d->t[1] = (fc_table){b, size};
    d->rehash_idx = 0;
    return true;
}

void fc_dict_insert(fc_dict *d, fc_entry *e, uint64_t h)
{
    if (d->t[0].size == 0)
        start_resize(d, FC_DICT_MIN_SIZE);
    else if (!fc_dict_rehashing(d) && d->count >= d->t[0].size)
        start_resize(d, next_pow2(d->count + 1));
    fc_table *t = fc_dict_rehashing(d) ? &d->t[1] : &d->t[0];
    if (t->size == 0) /* the very first allocation failed */
        return;
    fc_entry **head = &t->b[h & (t->size - 1)];
    e->next = *head;
    *head = e;
    d->count++;
}

bool fc_dict_reserve(fc_dict *d, size_t n)
{
    if (d->t[0].size != 0)
        return true;
    return start_resize(d, next_pow2(n));
}

void fc_dict_maybe_shrink(fc_dict *d)
{
    if (fc_dict_rehashing(d) || d->t[0].size <= FC_DICT_MIN_SIZE)
        return;
    if (d->count * 8 < d->t[0].size)
        start_resize(d, next_pow2(d->count));
}

static void move_bucket(fc_dict *d, fc_entry *e)
{
    fc_table *dst = &d->t[1];
    while (e) {
        fc_entry *next = e->next;
        uint64_t h = fc_dict_hash(d, fc_entry_key(e), fc_entry_klen(e));
        fc_entry **head = &dst->b[h & (dst->size - 1)];
        e->next = *head;
        *head = e;
        e = next;
    }
}

static void finish_rehash(fc_dict *d)
{
    free(d->t[0].b);
    d->t[0] = d->t[1];
    d->t[1] = (fc_table){NULL, 0};
    d->rehash_idx = -1;
}

bool fc_dict_rehash(fc_dict *d, size_t n)
{
    size_t empty_budget = n * 10;
    while (n > 0 && fc_dict_rehashing(d)) {
        fc_table *src = &d->t[0];
        size_t i = (size_t)d->rehash_idx;
        while (i < src->size && !src->b[i]) {
            i++;
            if (--empty_budget == 0)
                break;
        }
        if (i < src->size && src->b[i]) {
            move_bucket(d, src->b[i]);
            src->b[i] = NULL;
            i++;
            n--;
        }
        d->rehash_idx = (long long)i;
        if (i >= src->size)
            finish_rehash(d);
        else if (empty_budget == 0)
            break;
    }
    return fc_dict_rehashing(d);
}

void fc_dict_rehash_all(fc_dict *d)
{
    while (fc_dict_rehashing(d))
        fc_dict_rehash(d, d->t[0].size + 1);
}

static uint64_t rev_bits(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((v & 0x0f0f0f0f0f0f0f0fULL) << 4);
    return __builtin_bswap64(v);
}

/* Increments the cursor's bits under mask, most significant bit first. */
static uint64_t cursor_next(uint64_t v, uint64_t mask)
{
    v |= ~mask;
    return rev_bits(rev_bits(v) + 1);
}

uint64_t fc_dict_scan(fc_dict *d, uint64_t v, fc_dict_bucket_fn *fn, void *ctx)
{
    if (d->count == 0 || d->t[0].size == 0)
        return 0;
    if (!fc_dict_rehashing(d)) {
        uint64_t m = d->t[0].size - 1;
        fn(ctx, &d->t[0].b[v & m]);
        return cursor_next(v, m);
    }
    fc_table *small = &d->t[0], *large = &d->t[1];
    if (small->size > large->size) {
        small = &d->t[1];
        large = &d->t[0];
    }
    uint64_t ms = small->size - 1, ml = large->size - 1;
    fn(ctx, &small->b[v & ms]);
    do {
        fn(ctx, &large->b[v & ml]);
        v = cursor_next(v, ml);
    } while (v & (ms ^ ml));
    return v;
}
