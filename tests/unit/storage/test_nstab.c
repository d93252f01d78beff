/*
 * Tests for storage/nstab.c: auto-detected and configured namespaces, the cap, names unsafe to
 * print, exclusive key counts and invalidation attribution. The keyspace is a fake: an array of
 * keys and a count function over it that also counts its calls, so the tests can check that
 * fc_nstab_keys and fc_nstab_note_invalidate ask O(namespaces) counts. A randomized test checks
 * both against a brute-force owner-of-each-key computation.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/nstab.h"

/* ---- a fake keyspace ----------------------------------------------------------------------- */

#define MAX_KEYS 2048

typedef struct fake {
    const char *k[MAX_KEYS];
    size_t len[MAX_KEYS];
    size_t n;
    size_t calls;
} fake;

static uint64_t fake_count(void *ctx, const char *prefix, size_t len)
{
    fake *f = ctx;
    uint64_t n = 0;
    f->calls++;
    for (size_t i = 0; i < f->n; i++)
        n += f->len[i] >= len && memcmp(f->k[i], prefix, len) == 0;
    return n;
}

static void fake_add(fake *f, const char *key)
{
    cr_assert_lt(f->n, MAX_KEYS);
    f->k[f->n] = key;
    f->len[f->n] = strlen(key);
    f->n++;
}

/* Fills f with the keys of a NULL-terminated list. */
static void fake_fill(fake *f, const char *const *keys)
{
    for (; *keys; keys++)
        fake_add(f, *keys);
}

static fc_ns_stats *look(fc_nstab *t, const char *key)
{
    return fc_nstab_lookup(t, key, strlen(key));
}

static int conf(fc_nstab *t, const char *prefix)
{
    return fc_nstab_configure(t, prefix, strlen(prefix));
}

/* Index of the namespace called name; asserts it exists. */
static size_t ns_index(const fc_nstab *t, const char *name)
{
    for (size_t i = 0; i < fc_nstab_size(t); i++) {
        size_t len;
        const char *n = fc_nstab_name(t, i, &len);
        if (len == strlen(name) && memcmp(n, name, len) == 0)
            return i;
    }
    cr_assert_fail("no namespace '%s'", name);
    return 0;
}

/* Exclusive key count of namespace name over f. */
static uint64_t keys_of(const fc_nstab *t, fake *f, const char *name)
{
    uint64_t keys[64];
    cr_assert_leq(fc_nstab_size(t), 64);
    fc_nstab_keys(t, fake_count, f, keys);
    return keys[ns_index(t, name)];
}

/* ---- lookup ---------------------------------------------------------------------------------- */

Test(nstab, auto_namespace_is_up_to_the_first_colon)
{
    fc_nstab *t = fc_nstab_new(16);
    cr_assert_not_null(t);
    cr_assert_eq(fc_nstab_size(t), 0);
    fc_ns_stats *u = look(t, "users:1");
    cr_assert_not_null(u);
    cr_assert_eq(look(t, "users:2"), u);
    cr_assert_eq(look(t, "users:"), u);
    cr_assert_neq(look(t, "a:b:c"), u);
    cr_assert_eq(look(t, "a:zz"), look(t, "a:b:c"));
    cr_assert_null(look(t, "plain"));
    cr_assert_null(look(t, ""));
    cr_assert_eq(fc_nstab_size(t), 2);
    size_t len;
    const char *n = fc_nstab_name(t, 0, &len);
    cr_assert_eq(len, 6);
    cr_assert_eq(memcmp(n, "users:", 6), 0);
    n = fc_nstab_name(t, 1, &len);
    cr_assert_eq(len, 2);
    cr_assert_eq(memcmp(n, "a:", 2), 0);
    cr_assert_eq(fc_nstab_stats(t, 0), u);
    u->hits++;
    cr_assert_eq(fc_nstab_stats(t, 0)->hits, 1);
    fc_nstab_free(t);
}

Test(nstab, cap_on_auto_namespaces)
{
    fc_nstab *t = fc_nstab_new(2);
    cr_assert_not_null(look(t, "a:1"));
    cr_assert_not_null(look(t, "b:1"));
    cr_assert_null(look(t, "c:1"));
    cr_assert_not_null(look(t, "a:2"), "existing namespaces still count at the cap");
    cr_assert_eq(fc_nstab_size(t), 2);
    /* Configured prefixes are not capped. */
    cr_assert_eq(conf(t, "c:"), 0);
    cr_assert_not_null(look(t, "c:1"));
    fc_nstab_free(t);

    t = fc_nstab_new(0);
    cr_assert_null(look(t, "a:1"), "0 disables auto-detection");
    cr_assert_eq(conf(t, "session"), 0);
    cr_assert_not_null(look(t, "session:1"));
    cr_assert_null(look(t, "a:1"));
    cr_assert_eq(fc_nstab_size(t), 1);
    fc_nstab_free(t);
}

Test(nstab, unprintable_or_long_auto_names_are_not_tracked)
{
    fc_nstab *t = fc_nstab_new(100);
    const char *bad[] = {"us er:1",       "a,b:1",   "a=b:1",    "\x01:1",
                         "caf\xc3\xa9:1", "tab\t:x", "del\x7f:x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_null(look(t, bad[i]), "%s", bad[i]);
    cr_assert_null(fc_nstab_lookup(t, "a\0b:1", 5));
    cr_assert_eq(fc_nstab_size(t), 0);
    /* Other printable punctuation is fine, ':' alone too. */
    cr_assert_not_null(look(t, "a-b_c.d%e#f:1"));
    cr_assert_not_null(look(t, ":x"));
    /* At most 128 bytes, ':' included; the colon past it is not searched for. */
    char k[200];
    memset(k, 'x', sizeof(k));
    k[127] = ':';
    cr_assert_not_null(fc_nstab_lookup(t, k, 130));
    k[127] = 'x';
    k[128] = ':';
    cr_assert_null(fc_nstab_lookup(t, k, 130));
    cr_assert_eq(fc_nstab_size(t), 3);
    fc_nstab_free(t);
}

Test(nstab, longest_configured_prefix_wins_over_auto)
{
    fc_nstab *t = fc_nstab_new(16);
    cr_assert_eq(conf(t, "users:"), 0);
    cr_assert_eq(conf(t, "users:admin:"), 0);
    cr_assert_eq(conf(t, "u"), 0);
    cr_assert_eq(conf(t, "users:"), 0, "twice is a no-op");
    cr_assert_eq(conf(t, ""), -EINVAL);
    cr_assert_eq(fc_nstab_size(t), 3);
    fc_ns_stats *users = fc_nstab_stats(t, ns_index(t, "users:"));
    fc_ns_stats *admin = fc_nstab_stats(t, ns_index(t, "users:admin:"));
    fc_ns_stats *u = fc_nstab_stats(t, ns_index(t, "u"));
    cr_assert_eq(look(t, "users:admin:7"), admin);
    cr_assert_eq(look(t, "users:admin:"), admin);
    cr_assert_eq(look(t, "users:admin"), users);
    cr_assert_eq(look(t, "users:7"), users);
    cr_assert_eq(look(t, "usersX:1"), u, "a configured prefix beats auto-detection");
    cr_assert_eq(look(t, "u"), u);
    cr_assert_null(look(t, "v"));
    fc_ns_stats *x = look(t, "x:1");
    cr_assert_not_null(x);
    cr_assert(x != users && x != admin && x != u);
    cr_assert_eq(fc_nstab_size(t), 4);
    fc_nstab_free(t);
}

Test(nstab, binary_configured_prefixes)
{
    fc_nstab *t = fc_nstab_new(16);
    cr_assert_eq(fc_nstab_configure(t, "a\0b", 3), 0);
    cr_assert_eq(fc_nstab_configure(t, "a\0", 2), 0);
    fc_ns_stats *ab = fc_nstab_stats(t, 0), *a = fc_nstab_stats(t, 1);
    cr_assert_eq(fc_nstab_lookup(t, "a\0bc", 4), ab);
    cr_assert_eq(fc_nstab_lookup(t, "a\0c", 3), a);
    cr_assert_null(fc_nstab_lookup(t, "a", 1));
    cr_assert_eq(fc_nstab_lookup(t, "\xff\xfe", 2), NULL);
    fc_nstab_free(t);
}

Test(nstab, configuring_an_auto_name_keeps_its_counters_and_frees_a_cap_slot)
{
    fc_nstab *t = fc_nstab_new(1);
    fc_ns_stats *s = look(t, "users:1");
    cr_assert_not_null(s);
    s->sets = 5;
    cr_assert_null(look(t, "x:1"), "cap reached");
    cr_assert_eq(conf(t, "users:"), 0);
    cr_assert_eq(fc_nstab_size(t), 1);
    cr_assert_eq(look(t, "users:9"), s);
    cr_assert_eq(s->sets, 5);
    cr_assert_not_null(look(t, "x:1"), "the converted name no longer counts against the cap");
    fc_nstab_free(t);
}

Test(nstab, counters_stay_put_while_the_table_grows)
{
    fc_nstab *t = fc_nstab_new(5000);
    fc_ns_stats *first = look(t, "ns0:k");
    first->misses = 7;
    char k[32];
    for (int i = 1; i < 3000; i++) {
        snprintf(k, sizeof(k), "ns%d:k", i);
        cr_assert_not_null(look(t, k));
        if (i % 500 == 0)
            cr_assert_eq(fc_nstab_configure(t, k, strlen(k) - 1), 0); /* auto -> configured */
    }
    cr_assert_eq(fc_nstab_size(t), 3000);
    cr_assert_eq(look(t, "ns0:other"), first);
    cr_assert_eq(first->misses, 7);
    for (int i = 0; i < 3000; i += 97) {
        snprintf(k, sizeof(k), "ns%d:", i);
        cr_assert_eq(look(t, k), fc_nstab_stats(t, (size_t)i));
    }
    fc_nstab_free(t);
}

/* ---- exclusive key counts -------------------------------------------------------------------- */

Test(nstab, keys_are_exclusive)
{
    fc_nstab *t = fc_nstab_new(16);
    fake f = {0};
    fake_fill(&f, (const char *const[]){"users:1", "users:2", "users:admin:1", "users:admin:2",
                                        "users:admin:3", "session:a", "session:b", "plain",
                                        "other:x", "u2", NULL});
    cr_assert_eq(conf(t, "users:"), 0);
    cr_assert_eq(conf(t, "users:admin:"), 0);
    cr_assert_eq(conf(t, "users:admin:9"), 0); /* nested, no keys */
    cr_assert_not_null(look(t, "session:a"));  /* auto */
    f.calls = 0;
    cr_assert_eq(keys_of(t, &f, "users:"), 2);
    cr_assert_leq(f.calls, fc_nstab_size(t), "one count per namespace");
    cr_assert_eq(keys_of(t, &f, "users:admin:"), 3);
    cr_assert_eq(keys_of(t, &f, "users:admin:9"), 0);
    cr_assert_eq(keys_of(t, &f, "session:"), 2);
    /* "other:" was never looked up: not a namespace, its key is untracked. */
    cr_assert_eq(fc_nstab_size(t), 4);
    fc_nstab_free(t);
}

Test(nstab, auto_namespace_under_a_later_configured_prefix_owns_nothing)
{
    fc_nstab *t = fc_nstab_new(16);
    fake f = {0};
    fake_fill(&f, (const char *const[]){"users:1", "users:admin:1", "usa:1", NULL});
    fc_ns_stats *auto_users = look(t, "users:1");
    cr_assert_not_null(look(t, "usa:1"));
    /* A reload configures "us" (swallows both autos) and "users:admin:" (inside one of them). */
    cr_assert_eq(conf(t, "us"), 0);
    cr_assert_eq(conf(t, "users:admin:"), 0);
    cr_assert_neq(look(t, "users:2"), auto_users);
    cr_assert_eq(keys_of(t, &f, "users:"), 0);
    cr_assert_eq(keys_of(t, &f, "usa:"), 0);
    cr_assert_eq(keys_of(t, &f, "us"), 2);
    cr_assert_eq(keys_of(t, &f, "users:admin:"), 1);
    fc_nstab_free(t);
}

/* ---- invalidations --------------------------------------------------------------------------- */

/* Runs note_invalidate(p) over f and returns each listed namespace's invalidations. */
static void invalidate(fc_nstab *t, fake *f, const char *p)
{
    f->calls = 0;
    fc_nstab_note_invalidate(t, p, strlen(p), fake_count, f);
    cr_assert_leq(f->calls, fc_nstab_size(t) + 1, "O(namespaces) counts for '%s'", p);
}

static uint64_t inv_of(fc_nstab *t, const char *name)
{
    return fc_nstab_stats(t, ns_index(t, name))->invalidations;
}

static void reset_inv(fc_nstab *t)
{
    for (size_t i = 0; i < fc_nstab_size(t); i++)
        fc_nstab_stats(t, i)->invalidations = 0;
}

Test(nstab, invalidate_prefix_shorter_equal_and_longer)
{
    fc_nstab *t = fc_nstab_new(16);
    fake f = {0};
    fake_fill(&f, (const char *const[]){"users:1", "users:12", "users:2", "users:admin:1",
                                        "users:admin:2", "usa:1", "usa:2", "us", "session:a", "x",
                                        NULL});
    cr_assert_eq(conf(t, "users:"), 0);
    cr_assert_eq(conf(t, "users:admin:"), 0);
    cr_assert_not_null(look(t, "usa:1"));
    cr_assert_not_null(look(t, "session:a"));

    /* Invalidations of users:, users:admin:, usa: and session: per prefix p. */
    static const struct {
        const char *p;
        uint64_t want[4];
    } cases[] = {
        {"us", {3, 2, 2, 0}},      /* shorter: each its own keys; the key "us" is untracked */
        {"users:", {3, 2, 0, 0}},  /* equal to a namespace with a nested one */
        {"users:1", {2, 0, 0, 0}}, /* longer: the enclosing namespace gets the keys */
        {"users:a", {0, 2, 0, 0}}, {"usa:2", {0, 0, 1, 0}}, {"", {3, 2, 2, 1}}, /* everything */
        {"zzz", {0, 0, 0, 0}},
    };
    const char *names[] = {"users:", "users:admin:", "usa:", "session:"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        invalidate(t, &f, cases[i].p);
        for (size_t n = 0; n < 4; n++)
            cr_assert_eq(inv_of(t, names[n]), cases[i].want[n], "INVALIDATE %s*: %s", cases[i].p,
                         names[n]);
        reset_inv(t);
    }
    fc_nstab_free(t);
}

/* ---- against brute force --------------------------------------------------------------------- */

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random string over a small alphabet (many shared prefixes and colons). */
static char *rnd_str(size_t maxlen)
{
    static const char alpha[] = "ab:";
    size_t n = rnd() % (maxlen + 1);
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = alpha[rnd() % 3];
    s[n] = '\0';
    return s;
}

typedef struct world {
    fake f;
    char *cfg[16];
    size_t ncfg;
} world;

/* The namespace index owning key by the definition in nstab.h, or -1. */
static long owner(const fc_nstab *t, const world *w, const char *key, size_t klen)
{
    const char *best = NULL;
    for (size_t i = 0; i < w->ncfg; i++) {
        size_t len = strlen(w->cfg[i]);
        if (len <= klen && memcmp(w->cfg[i], key, len) == 0 && (!best || len > strlen(best)))
            best = w->cfg[i];
    }
    if (best)
        return (long)ns_index(t, best);
    const char *colon = memchr(key, ':', klen);
    if (!colon)
        return -1;
    size_t alen = (size_t)(colon - key) + 1;
    for (size_t i = 0; i < fc_nstab_size(t); i++) {
        size_t len;
        const char *n = fc_nstab_name(t, i, &len);
        if (len == alen && memcmp(n, key, len) == 0)
            return (long)i;
    }
    return -1;
}

static void check_world(fc_nstab *t, world *w)
{
    size_t n = fc_nstab_size(t);
    uint64_t *got = calloc(n + 1, sizeof(*got)), *want = calloc(n + 1, sizeof(*want));
    w->f.calls = 0;
    fc_nstab_keys(t, fake_count, &w->f, got);
    cr_assert_leq(w->f.calls, n);
    for (size_t i = 0; i < w->f.n; i++) {
        long o = owner(t, w, w->f.k[i], w->f.len[i]);
        if (o >= 0)
            want[o]++;
    }
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "keys of namespace %zu", i);
    /* Invalidations for random prefixes, including every namespace name. */
    for (int round = 0; round < 12; round++) {
        char *p = round < 8 ? rnd_str(5) : NULL;
        size_t plen;
        const char *pp = p ? p : fc_nstab_name(t, rnd() % n, &plen);
        if (p)
            plen = strlen(p);
        reset_inv(t);
        memset(want, 0, n * sizeof(*want));
        for (size_t i = 0; i < w->f.n; i++) {
            long o = owner(t, w, w->f.k[i], w->f.len[i]);
            if (o >= 0 && w->f.len[i] >= plen && memcmp(w->f.k[i], pp, plen) == 0)
                want[o]++;
        }
        w->f.calls = 0;
        fc_nstab_note_invalidate(t, pp, plen, fake_count, &w->f);
        cr_assert_leq(w->f.calls, n + 1);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(fc_nstab_stats(t, i)->invalidations, want[i],
                         "invalidate '%.*s': namespace %zu", (int)plen, pp, i);
        free(p);
    }
    free(got);
    free(want);
}

Test(nstab, random_worlds_match_brute_force)
{
    for (int iter = 0; iter < 300; iter++) {
        fc_nstab *t = fc_nstab_new(rnd() % 6);
        world w = {0};
        size_t nkeys = 1 + rnd() % 60;
        for (size_t i = 0; i < nkeys; i++)
            fake_add(&w.f, rnd_str(6));
        /* Some prefixes configured before the keys are seen, some after (a reload). */
        for (int phase = 0; phase < 2; phase++) {
            size_t ncfg = rnd() % 4;
            for (size_t i = 0; i < ncfg && w.ncfg < 16; i++) {
                char *p = rnd_str(4);
                if (!p[0] || conf(t, p) != 0) {
                    free(p);
                    continue;
                }
                w.cfg[w.ncfg++] = p;
            }
            for (size_t i = 0; i < w.f.n; i++)
                fc_nstab_lookup(t, w.f.k[i], w.f.len[i]);
        }
        if (fc_nstab_size(t) > 0)
            check_world(t, &w);
        for (size_t i = 0; i < w.f.n; i++)
            free((char *)w.f.k[i]);
        for (size_t i = 0; i < w.ncfg; i++)
            free(w.cfg[i]);
        fc_nstab_free(t);
    }
}
