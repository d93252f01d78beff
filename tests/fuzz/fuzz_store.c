/*
 * fuzz_store — libFuzzer target for the keyspace (storage/store.c over the key trie, reclaim.c,
 * expire.c, evict.c), checked against a reference model.
 *
 * Built with -DFC_KT_BURST=8 -DFC_RECLAIM_SYNC_COUNT=4 -DFC_RECLAIM_SYNC_GLOB=32 (Makefile) so
 * leaves burst after 8 keys and INVALIDATE leaves count jobs in the background past 4 keys and
 * glob jobs past 32 (globs up to 32 keys run at once, over several leaves). Keys come from a fixed alphabet (NKEYS strings: a few prefixes sharing long
 * runs of bytes, a 260-byte one, the empty key, each followed by up to 3 bytes of "ab:x").
 *
 * Input: 4-byte operations [op][a][b][c]; op % OP_COUNT picks one of the ops below, a/b/c are
 * its arguments. A trailing partial operation is ignored; the last byte of the input chooses
 * the ending: a clean one (everything reclaimed, every key deleted, fc_store_bytes back to the
 * empty store's) or fc_store_free with work pending (every job's done must fire in it).
 *
 * The model knows, per key: present or not, value, expiry. A key with expiry < now is dead
 * for the model but may still be present (lazy expiry), so sizes are checked between a lower
 * bound (live keys) and an upper bound (present keys). Checked: every return value against the
 * model (get, del, set_expire, rename, resize_value, random, INVALIDATE counts), scan's
 * guarantee (a key live for the whole scan is visited; a visited key is live), evict removing
 * at most one live key, count_prefix and size bounds, every job's done called exactly once.
 * Keys matching a pending glob job are frozen (no op touches them) until it is done, after
 * which none of them may be present; its count is exact unless something else that may delete
 * keys (expiry, eviction, scan, flush, another INVALIDATE) ran meanwhile.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/glob.h"
#include "storage/prefetch.h"
#include "storage/store.h"

#define MAXK 300
#define MAXV 300
#define MAX_KEYS 1024
#define MAX_JOBS 64
#define OP_COUNT 20

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_store: %s (op %zu): ", #cond, op_no);                            \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct mkey {
    char k[MAXK];
    size_t klen;
    bool present;
    char v[MAXV];
    size_t vlen;
    int64_t exp;
    bool must_scan; /* live since the current scan started and untouched since */
    bool seen;      /* visited by the current scan */
} mkey;

typedef struct job {
    bool used, glob, fired, disturbed;
    size_t expect, n;
    char pat[MAXK + 8];
    size_t plen;
} job;

static mkey keys[MAX_KEYS];
static size_t nkeys;
static job jobs[MAX_JOBS];
static fc_store *s;
static int64_t now;
static size_t op_no;
static bool scanning;
static uint64_t scan_cursor;
static fc_evict_policy policy;

static const char *const prefixes[] = {
    "",  "a", "ab", "abc:", "abc:def:", "abc:def:ghi:", "x", "abc:def:ghi:jklmnop:",
    NULL /* 260 'p' */};
#define NPREFIX (sizeof(prefixes) / sizeof(prefixes[0]))

static void add_key(const char *k, size_t len)
{
    for (size_t i = 0; i < nkeys; i++)
        if (keys[i].klen == len && memcmp(keys[i].k, k, len) == 0)
            return;
    memcpy(keys[nkeys].k, k, len);
    keys[nkeys++].klen = len;
}

static void build_keys(void)
{
    static const char sfx[] = "ab:x";
    char buf[MAXK];
    for (size_t p = 0; p < NPREFIX; p++) {
        size_t pl;
        if (prefixes[p]) {
            pl = strlen(prefixes[p]);
            memcpy(buf, prefixes[p], pl);
        } else {
            pl = 260;
            memset(buf, 'p', pl);
        }
        for (unsigned code = 0; code < 85; code++) { /* 1 + 4 + 16 + 64 suffixes */
            unsigned c = code, len = c == 0 ? 0 : c < 5 ? 1 : c < 21 ? 2 : 3;
            unsigned idx = c == 0 ? 0 : c < 5 ? c - 1 : c < 21 ? c - 5 : c - 21;
            for (unsigned i = 0; i < len; i++, idx >>= 2)
                buf[pl + i] = sfx[idx & 3];
            add_key(buf, pl + len);
        }
    }
}

static mkey *key_at(uint8_t a, uint8_t b)
{
    return &keys[((size_t)a << 8 | b) % nkeys];
}

static mkey *key_find(const char *k, size_t len)
{
    for (size_t i = 0; i < nkeys; i++)
        if (keys[i].klen == len && memcmp(keys[i].k, k, len) == 0)
            return &keys[i];
    return NULL;
}

static bool live(const mkey *m)
{
    return m->present && (m->exp == 0 || m->exp >= now); /* live through its expiry ms */
}

static bool frozen(const mkey *m)
{
    for (size_t j = 0; j < MAX_JOBS; j++)
        if (jobs[j].used && jobs[j].glob && !jobs[j].fired &&
            fc_glob_match(jobs[j].pat, jobs[j].plen, m->k, m->klen, false))
            return true;
    return false;
}

/* Something that may delete keys a glob job would count ran. */
static void disturb(void)
{
    for (size_t j = 0; j < MAX_JOBS; j++)
        if (jobs[j].used && !jobs[j].fired)
            jobs[j].disturbed = true;
}

static void model_remove(mkey *m)
{
    m->present = false;
    m->must_scan = false;
}

static void model_set(mkey *m, const char *v, size_t vlen, int64_t exp)
{
    bool was_live = live(m);
    m->present = true;
    memmove(m->v, v, vlen);
    m->vlen = vlen;
    m->exp = exp;
    if (!was_live || !live(m))
        m->must_scan = false;
}

static void fill_value(char *v, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        v[i] = (char)('A' + (seed + i) % 26);
}

static void check_view(const mkey *m, const fc_entry_view *e)
{
    CHECK(e->klen == m->klen && memcmp(e->key, m->k, m->klen) == 0, "key differs");
    CHECK(e->vlen == m->vlen && memcmp(e->val, m->v, m->vlen) == 0, "value of '%.*s' differs",
          (int)m->klen, m->k);
    CHECK(e->expire_at == m->exp, "expiry of '%.*s': %lld, model %lld", (int)m->klen, m->k,
          (long long)e->expire_at, (long long)m->exp);
}

/* Compares one key with the model (lazily deleting it if expired, as the model allows). */
static void check_key(mkey *m)
{
    fc_entry_view e;
    bool got = fc_store_get(s, m->k, m->klen, now, FC_LOOKUP_NOSTATS, &e);
    CHECK(got == live(m), "get '%.*s' = %d, model %d", (int)m->klen, m->k, got, live(m));
    if (got)
        check_view(m, &e);
    else
        model_remove(m);
}

static void job_done(void *ctx, size_t n)
{
    job *j = ctx;
    CHECK(!j->fired, "done called twice");
    j->fired = true;
    j->n = n;
}

/* Settles the jobs whose done fired: counts, and the keys of a glob gone. */
static void settle_jobs(void)
{
    for (size_t i = 0; i < MAX_JOBS; i++) {
        job *j = &jobs[i];
        if (!j->used || !j->fired)
            continue;
        j->used = false;
        if (j->disturbed)
            CHECK(j->n <= j->expect, "job '%.*s' counted %zu > %zu", (int)j->plen, j->pat, j->n,
                  j->expect);
        else
            CHECK(j->n == j->expect, "job '%.*s' counted %zu, expected %zu", (int)j->plen, j->pat,
                  j->n, j->expect);
        if (!j->glob)
            continue;
        for (size_t k = 0; k < nkeys; k++) {
            mkey *m = &keys[k];
            if (!fc_glob_match(j->pat, j->plen, m->k, m->klen, false) || frozen(m))
                continue;
            fc_entry_view e;
            CHECK(!fc_store_get(s, m->k, m->klen, now, FC_LOOKUP_NOSTATS, &e),
                  "'%.*s' survived glob '%.*s'", (int)m->klen, m->k, (int)j->plen, j->pat);
            model_remove(m);
        }
    }
}

static job *job_slot(void)
{
    for (size_t i = 0; i < MAX_JOBS; i++)
        if (!jobs[i].used)
            return &jobs[i];
    return NULL;
}

static void bounds(void)
{
    size_t lo = 0, hi = 0, vlo = 0, vhi = 0;
    for (size_t k = 0; k < nkeys; k++) {
        mkey *m = &keys[k];
        bool fz = frozen(m);
        if (live(m) && !fz) {
            lo++;
            vlo += m->exp != 0;
        }
        if (m->present || fz) {
            hi++;
            vhi += m->exp != 0 || fz;
        }
    }
    size_t n = fc_store_size(s), v = fc_store_volatile_size(s);
    CHECK(n >= lo && n <= hi, "size %zu not in [%zu, %zu]", n, lo, hi);
    CHECK(v >= vlo && v <= vhi, "volatile %zu not in [%zu, %zu]", v, vlo, vhi);
}

static void op_count_prefix(const mkey *p)
{
    size_t lo = 0, hi = 0;
    for (size_t k = 0; k < nkeys; k++) {
        mkey *m = &keys[k];
        if (m->klen < p->klen || memcmp(m->k, p->k, p->klen) != 0)
            continue;
        bool fz = frozen(m);
        lo += live(m) && !fz;
        hi += m->present || fz;
    }
    size_t n = fc_store_count_prefix(s, p->k, p->klen);
    CHECK(n >= lo && n <= hi, "count_prefix '%.*s' %zu not in [%zu, %zu]", (int)p->klen, p->k, n,
          lo, hi);
}

static void op_set(mkey *m, uint8_t b, uint8_t c, int mode)
{
    char v[MAXV];
    size_t vlen = (size_t)b * 2 % MAXV;
    int64_t exp = mode == 0 ? 0 : now + (int64_t)(c % 40);
    bool keep = mode == 2;
    fill_value(v, vlen, c);
    CHECK(fc_store_set(s, m->k, m->klen, v, vlen, exp, keep, now) == 0, "set failed");
    if (keep && live(m))
        exp = m->exp;
    model_set(m, v, vlen, exp);
}

static void op_resize(mkey *m, uint8_t b, uint8_t c)
{
    size_t newlen = (size_t)b * 3 % MAXV;
    int64_t exp = c & 1 ? now + c % 30 + 1 : 0;
    char *p = fc_store_resize_value(s, m->k, m->klen, newlen, exp, now);
    CHECK(p != NULL, "resize failed");
    char v[MAXV];
    size_t keep = 0;
    if (live(m)) {
        exp = m->exp;
        keep = m->vlen < newlen ? m->vlen : newlen;
        memcpy(v, m->v, keep);
    }
    memset(v + keep, 0, newlen - keep);
    for (size_t i = 0; i < keep; i++)
        CHECK(p[i] == v[i], "resize lost byte %zu", i);
    for (size_t i = keep; i < newlen; i++)
        CHECK(p[i] == 0, "resize: new byte %zu not zero", i);
    fill_value(v + keep, newlen - keep, c); /* APPEND writes the new bytes */
    memcpy(p + keep, v + keep, newlen - keep);
    model_set(m, v, newlen, exp);
}

static void op_rename(mkey *src, mkey *dst, bool nx)
{
    int rc = fc_store_rename(s, src->k, src->klen, dst->k, dst->klen, nx, now);
    int want = !live(src)          ? -ENOENT
               : src == dst        ? (nx ? -EEXIST : 0)
               : (nx && live(dst)) ? -EEXIST
                                   : 0;
    CHECK(rc == want, "rename '%.*s' -> '%.*s' nx %d = %d, model %d", (int)src->klen, src->k,
          (int)dst->klen, dst->k, nx, rc, want);
    if (!live(src))
        model_remove(src); /* the lookup may have reclaimed it */
    if (rc == 0 && src != dst) {
        model_set(dst, src->v, src->vlen, src->exp);
        dst->must_scan = false;
        model_remove(src);
    }
}

static void op_set_expire(mkey *m, uint8_t c)
{
    int64_t at = c < 64 ? 0 : now + (int64_t)(c % 50) - 5;
    bool ok = fc_store_set_expire(s, m->k, m->klen, at, now);
    CHECK(ok == live(m), "set_expire '%.*s' = %d, model %d", (int)m->klen, m->k, ok, live(m));
    if (ok) {
        m->exp = at;
        if (!live(m))
            m->must_scan = false;
    } else {
        model_remove(m);
    }
}

/* Builds an INVALIDATE pattern: a key of the alphabet and a tail. */
static size_t make_pattern(char *pat, const mkey *base, uint8_t c)
{
    static const char *const tails[] = {"*",     "*",   "*",   "*a",    "?", "?*",
                                        "[ab]*", "*:*", "*b?", "[^a]*", "",  "*x*"};
    static const char *const whole[] = {"*a*", "*:x", "?b*", "*", "a?c:*", "*\\:*"};
    size_t len;
    if (c >= 0xf0) {
        const char *w = whole[c % (sizeof(whole) / sizeof(whole[0]))];
        len = strlen(w);
        memcpy(pat, w, len);
        return len;
    }
    const char *t = tails[c % (sizeof(tails) / sizeof(tails[0]))];
    memcpy(pat, base->k, base->klen);
    len = strlen(t);
    memcpy(pat + base->klen, t, len);
    return base->klen + len;
}

static void op_invalidate(const mkey *base, uint8_t c)
{
    job *j = job_slot();
    if (!j)
        return;
    size_t plen_unused;
    memset(j, 0, sizeof(*j));
    j->plen = make_pattern(j->pat, base, c);
    j->glob = !fc_glob_is_prefix(j->pat, j->plen, &plen_unused);
    for (size_t k = 0; k < nkeys; k++) { /* overlapping a pending glob: it can't be exact */
        if (frozen(&keys[k]) && fc_glob_match(j->pat, j->plen, keys[k].k, keys[k].klen, false))
            return;
    }
    disturb(); /* it deletes expired keys of the leaves it walks, matching or not */
    for (size_t k = 0; k < nkeys; k++)
        if (live(&keys[k]) && fc_glob_match(j->pat, j->plen, keys[k].k, keys[k].klen, false))
            j->expect++;
    size_t n = 0;
    j->used = true;
    if (fc_store_invalidate_start(s, j->pat, j->plen, now, job_done, j, &n)) {
        CHECK(!j->fired, "done called for a synchronous INVALIDATE");
        j->fired = true;
        j->n = n;
        j->glob = true; /* settle checks the keys are gone */
        settle_jobs();
        return;
    }
    if (j->glob)
        return;                          /* frozen from now on */
    for (size_t k = 0; k < nkeys; k++) { /* a prefix is detached at once */
        mkey *m = &keys[k];
        if (!fc_glob_match(j->pat, j->plen, m->k, m->klen, false))
            continue;
        fc_entry_view e;
        CHECK(!fc_store_get(s, m->k, m->klen, now, FC_LOOKUP_NOSTATS, &e),
              "'%.*s' visible after prefix INVALIDATE", (int)m->klen, m->k);
        model_remove(m);
    }
}

static void scan_fn(void *ctx, const fc_entry_view *e)
{
    (void)ctx;
    mkey *m = key_find(e->key, e->klen);
    CHECK(m != NULL, "scan visited an unknown key");
    if (frozen(m))
        return;
    CHECK(live(m), "scan visited '%.*s', dead for the model", (int)m->klen, m->k);
    check_view(m, e);
    m->seen = true;
}

static void op_scan(void)
{
    if (!scanning) {
        scanning = true;
        scan_cursor = 0;
        for (size_t k = 0; k < nkeys; k++) {
            keys[k].must_scan = live(&keys[k]) && !frozen(&keys[k]);
            keys[k].seen = false;
        }
    }
    disturb(); /* it reclaims the expired keys it meets */
    scan_cursor = fc_store_scan(s, scan_cursor, now, scan_fn, NULL);
    if (scan_cursor != 0)
        return;
    scanning = false;
    for (size_t k = 0; k < nkeys; k++) {
        mkey *m = &keys[k];
        if (m->must_scan && live(m) && !frozen(m))
            CHECK(m->seen, "scan missed '%.*s'", (int)m->klen, m->k);
    }
}

static void op_random(uint8_t a, uint8_t b)
{
    fc_entry_view e;
    bool any = false;
    disturb(); /* it deletes the expired keys it picks */
    if (!fc_store_random(s, now, (uint64_t)a << 8 | b, &e)) {
        for (size_t k = 0; k < nkeys; k++)
            any |= live(&keys[k]) && !frozen(&keys[k]);
        CHECK(!any, "random found nothing in a store with live keys");
        return;
    }
    mkey *m = key_find(e.key, e.klen);
    CHECK(m != NULL, "random returned an unknown key");
    if (!frozen(m)) {
        CHECK(live(m), "random returned '%.*s', dead for the model", (int)m->klen, m->k);
        check_view(m, &e);
    }
}

static void op_evict(uint8_t a, uint8_t b)
{
    fc_evict_policy p = (fc_evict_policy)(a % 8);
    if (p != policy) {
        fc_store_set_policy(s, p);
        policy = p;
    }
    fc_store_set_evict_samples(s, b % 8 + 1);
    disturb();
    bool pending = fc_store_reclaim_pending(s);
    bool ok = fc_store_evict(s, now);
    settle_jobs();
    size_t gone = 0, lv = 0, lvol = 0;
    for (size_t k = 0; k < nkeys; k++) {
        mkey *m = &keys[k];
        if (!live(m) || frozen(m))
            continue;
        lv++;
        lvol += m->exp != 0;
        fc_entry_view e;
        if (!fc_store_get(s, m->k, m->klen, now, FC_LOOKUP_NOSTATS, &e)) {
            gone++;
            model_remove(m);
        }
    }
    CHECK(gone <= 1, "evict removed %zu live keys", gone);
    CHECK(ok || gone == 0, "evict reported nothing but removed a key");
    bool allkeys =
        p == FC_EVICT_ALLKEYS_LRU || p == FC_EVICT_ALLKEYS_LFU || p == FC_EVICT_ALLKEYS_RANDOM;
    (void)lvol;
    if (allkeys && !pending && lv > 0)
        CHECK(ok, "evict (%d) found nothing to evict among %zu live keys", (int)p, lv);
}

static void op_flush(void)
{
    disturb();
    fc_store_flush(s);
    for (size_t k = 0; k < nkeys; k++)
        if (!frozen(&keys[k]))
            model_remove(&keys[k]);
    CHECK(fc_store_size(s) == 0, "size after flush %zu", fc_store_size(s));
}

static void op_get(mkey *m, uint8_t c)
{
    if (c & 1) {
        check_key(m);
        return;
    }
    fc_entry_view e;
    uint64_t tok = fc_store_prefetch_bucket(s, m->k, m->klen);
    fc_store_prefetch_entry(s, tok);
    bool got = fc_store_get(s, m->k, m->klen, now, 0, &e);
    CHECK(got == live(m), "get '%.*s' = %d", (int)m->klen, m->k, got);
    if (got)
        check_view(m, &e);
    else
        model_remove(m);
}

static void run_op(const uint8_t *p)
{
    uint8_t op = p[0] % OP_COUNT, a = p[1], b = p[2], c = p[3];
    mkey *m = key_at(a, b);
    bool touches = op <= 9;
#ifdef FUZZ_STORE_TRACE /* a build with -DFUZZ_STORE_TRACE prints each operation */
    fprintf(stderr, "op %zu: %u key '%.*s' a %u b %u c %u now %lld size %zu\n", op_no, op,
            (int)m->klen, m->k, a, b, c, (long long)now, fc_store_size(s));
#endif
    if (touches && frozen(m))
        return;
    switch (op) {
    case 0: op_set(m, b, c, 0); break;
    case 1: op_set(m, b, c, 1); break;
    case 2: op_set(m, b, c, 2); break;
    case 3: {
        bool del = fc_store_del(s, m->k, m->klen, now);
        CHECK(del == live(m), "del '%.*s' = %d", (int)m->klen, m->k, del);
        model_remove(m);
        break;
    }
    case 4: op_get(m, c); break;
    case 5: op_set_expire(m, c); break;
    case 6: {
        mkey *d = key_at(c, b ^ a);
        if (!frozen(d))
            op_rename(m, d, c & 1);
        break;
    }
    case 7: op_resize(m, b, c); break;
    case 8: op_count_prefix(m); break;
    case 9: now += c % 16; break;
    case 10: op_invalidate(m, c); break;
    case 11:
    case 12:
        fc_store_reclaim_step(s, c % 8);
        settle_jobs();
        break;
    case 13: op_scan(); break;
    case 14: op_random(a, b); break;
    case 15: op_evict(a, c); break;
    case 16:
        disturb();
        fc_store_expire_cycle(s, now, (size_t)c % 16 + 1);
        break;
    case 17:
        if (c < 16)
            op_flush();
        else
            now += c;
        break;
    case 18: bounds(); break;
    case 19:
        for (size_t k = 0; k < nkeys; k++)
            if (!frozen(&keys[k]))
                check_key(&keys[k]);
        break;
    }
    settle_jobs();
}

static void fired_all(void)
{
    for (size_t i = 0; i < MAX_JOBS; i++)
        CHECK(!jobs[i].used || jobs[i].fired, "a job's done never fired");
}

/* Runs every job to its end, deletes every key and checks the bytes are the empty store's. */
static void clean_end(size_t baseline)
{
    while (fc_store_reclaim_step(s, 3))
        ;
    fired_all();
    settle_jobs();
    for (size_t k = 0; k < nkeys; k++) {
        bool del = fc_store_del(s, keys[k].k, keys[k].klen, now);
        CHECK(del == live(&keys[k]), "final del '%.*s' = %d", (int)keys[k].klen, keys[k].k, del);
        model_remove(&keys[k]);
    }
    CHECK(fc_store_size(s) == 0, "size %zu after deleting every key", fc_store_size(s));
    CHECK(fc_store_volatile_size(s) == 0, "volatile %zu", fc_store_volatile_size(s));
    CHECK(fc_store_bytes(s) == baseline, "bytes %zu, empty store %zu", fc_store_bytes(s), baseline);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
    if (!nkeys)
        build_keys();
    for (size_t k = 0; k < nkeys; k++)
        keys[k].present = keys[k].must_scan = keys[k].seen = false;
    memset(jobs, 0, sizeof(jobs));
    now = 1000000;
    scanning = false;
    policy = FC_EVICT_NOEVICTION;
    op_no = 0;
    s = fc_store_new(n ? in[0] : 1);
    size_t baseline = fc_store_bytes(s);
    for (size_t i = 0; i + 4 <= n && i < 4 * 2000; i += 4, op_no++)
        run_op(in + i);
    if (n && (in[n - 1] & 1)) {
        clean_end(baseline);
        fc_store_free(s);
    } else {
        fc_store_free(s); /* with work pending: every job's done fires inside */
        fired_all();
    }
    s = NULL;
    return 0;
}
