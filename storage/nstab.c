/*
 * nstab — per-namespace counters (see nstab.h for the contract).
 *
 * Layout:
 *
 *   v[]      every namespace in creation order (fc_nstab_name's index); each node is its own
 *            allocation, so the fc_ns_stats pointers handed out never move.
 *   h[]      open addressing over all names (configured and auto), load <= 1/2: the auto
 *            lookup's single probe. A slot holds the node index + 1 (0 = empty) and 32 bits of
 *            the hash, so a probe rarely touches a node it does not want.
 *   cfg[]    the configured nodes sorted by name bytes (a prefix before its extensions), with
 *            cparent[i] = the longest configured name that is a proper prefix of cfg[i], and a
 *            bitmap of their first bytes. Longest-prefix match is a binary search for the
 *            greatest name <= key, then a walk up cparent (the argument of conf/ttl_table.h:
 *            every prefix of the key in the set sorts between itself and the key, so it is an
 *            ancestor of that greatest name).
 *
 * Lookup (every GET/SET): with no configured prefix, first a compare with the auto namespace
 * found last (keys tend to come in runs of one namespace); else a memchr for ':' over at most
 * FC_NSTAB_AUTO_NAME_MAX bytes and one probe; a miss creates the auto namespace when the cap
 * allows and its bytes are printable (0x21..0x7e, not ',' or '='), so INFO can print it.
 *
 * Ownership of keys (the exclusive semantics): a key belongs to the deepest *live* namespace
 * that is a prefix of it, where configured namespaces are always live and an auto namespace is
 * live unless a configured name is a proper prefix of it (then its keys belong to that
 * configured namespace: configured beats auto). An auto name holds exactly one ':' (its last
 * byte), so no auto name is a proper prefix of another. enclosing() gives the deepest live
 * namespace that is a proper prefix of a string; fc_nstab_keys and fc_nstab_note_invalidate
 * subtract each live namespace's count from its enclosing one, so each count() is asked once.
 * Nothing is ever removed: a namespace lives until fc_nstab_free.
 *
 * The hash is keyed from the table's address and the code's (ASLR): names are chosen by
 * clients, and the table is bounded (max_auto) anyway, so the worst probe is bounded too.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/hash.h"
#include "storage/nstab.h"

/* Auto namespace names (':' included) longer than this are not tracked. */
#define FC_NSTAB_AUTO_NAME_MAX 128
#define HASH_MIN 16

typedef struct ns_node {
    fc_ns_stats stats;
    uint32_t idx; /* position in v[] */
    uint32_t len;
    bool configured;
    char name[]; /* len bytes, not NUL-terminated */
} ns_node;

typedef struct ns_slot {
    uint32_t tag; /* hash >> 32 */
    uint32_t ref; /* index in v[] + 1; 0 = empty */
} ns_slot;

struct fc_nstab {
    ns_node **v;
    size_t n, vcap;
    ns_slot *h;
    size_t hmask;
    uint32_t *cfg;    /* indexes into v[], sorted by name */
    int32_t *cparent; /* per cfg[] entry: index in cfg[] of its longest proper prefix, or -1 */
    size_t ncfg, cfgcap;
    uint64_t first[4]; /* bit b: some configured name starts with byte b */
    ns_node *last;     /* the auto namespace the last auto lookup found (see lookup_auto) */
    size_t nauto, max_auto;
    uint64_t seed;
};

/* ---- names ------------------------------------------------------------------------------ */

static inline uint64_t load32(const char *s)
{
    uint32_t w;
    memcpy(&w, s, sizeof(w));
    return w;
}

static inline uint64_t load64(const char *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof(w));
    return w;
}

static __attribute__((noinline)) bool bytes_eq(const char *a, const char *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

/* a[0..n) == b[0..n), without a libc call for the usual name lengths (4..16 bytes). */
static inline bool name_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16)
        return load64(a) == load64(b) && load64(a + n - 8) == load64(b + n - 8);
    if (n >= 4 && n < 8)
        return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
    return bytes_eq(a, b, n);
}

/* A fast keyed hash of short names (multiply-xorshift rounds over 8-byte words). */
static inline uint64_t name_hash(uint64_t seed, const char *s, size_t n)
{
    uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15ull);
    for (; n >= 8; s += 8, n -= 8) {
        h = (h ^ load64(s)) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    uint64_t w = 0;
    if (n >= 4)
        w = load32(s) << 32 | load32(s + n - 4);
    else if (n > 0)
        w = (uint64_t)(uint8_t)s[0] << 16 | (uint64_t)(uint8_t)s[n / 2] << 8 | (uint8_t)s[n - 1];
    h = (h ^ w) * 0x94D049BB133111EBull;
    return h ^ (h >> 29);
}

/* Bytewise order, a prefix before its extensions. */
static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r)
        return r;
    return (alen > blen) - (alen < blen);
}

static bool is_prefix(const char *p, size_t plen, const char *s, size_t slen)
{
    return plen <= slen && memcmp(p, s, plen) == 0;
}

/* Auto names must print as they are in INFO: no blanks, controls, ',' or '='. */
static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x21 || ch > 0x7E || ch == ',' || ch == '=')
            return false;
    }
    return true;
}

/* ---- the hash of all names ---------------------------------------------------------------- */

static inline ns_node *find(const fc_nstab *t, const char *name, size_t len, uint64_t h)
{
    uint32_t tag = (uint32_t)(h >> 32);
    for (size_t i = h & t->hmask;; i = (i + 1) & t->hmask) {
        ns_slot s = t->h[i];
        if (s.ref == 0)
            return NULL;
        if (s.tag != tag)
            continue;
        ns_node *x = t->v[s.ref - 1];
        if (x->len == len && name_eq(x->name, name, len))
            return x;
    }
}

static void slot_put(ns_slot *h, size_t mask, uint64_t hash, uint32_t ref)
{
    size_t i = hash & mask;
    while (h[i].ref)
        i = (i + 1) & mask;
    h[i] = (ns_slot){(uint32_t)(hash >> 32), ref};
}

/* Doubles the hash when one more name would take it past half full. */
static int hash_reserve(fc_nstab *t)
{
    size_t cap = t->hmask + 1;
    if ((t->n + 1) * 2 <= cap)
        return 0;
    ns_slot *h = calloc(cap * 2, sizeof(*h));
    if (!h)
        return -ENOMEM;
    for (size_t i = 0; i < t->n; i++)
        slot_put(h, cap * 2 - 1, name_hash(t->seed, t->v[i]->name, t->v[i]->len), (uint32_t)i + 1);
    free(t->h);
    t->h = h;
    t->hmask = cap * 2 - 1;
    return 0;
}

/* Creates a node for name and indexes it in v[] and h[]; NULL on out-of-memory. */
static ns_node *add_node(fc_nstab *t, const char *name, size_t len, uint64_t hash)
{
    if (len > UINT32_MAX || t->n >= UINT32_MAX - 1 || hash_reserve(t) != 0)
        return NULL;
    if (t->n == t->vcap) {
        size_t cap = t->vcap ? t->vcap * 2 : 16;
        ns_node **v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        t->v = v;
        t->vcap = cap;
    }
    ns_node *x = calloc(1, sizeof(*x) + len);
    if (!x)
        return NULL;
    x->idx = (uint32_t)t->n;
    x->len = (uint32_t)len;
    memcpy(x->name, name, len);
    t->v[t->n++] = x;
    slot_put(t->h, t->hmask, hash, x->idx + 1);
    return x;
}

/* ---- configured names --------------------------------------------------------------------- */

static const ns_node *cfg_node(const fc_nstab *t, size_t i)
{
    return t->v[t->cfg[i]];
}

/* The longest configured name that is a prefix of key[0..klen), or NULL. */
static ns_node *cfg_longest(const fc_nstab *t, const char *key, size_t klen)
{
    if (t->ncfg == 0 || klen == 0)
        return NULL;
    unsigned char b = (unsigned char)key[0];
    if (!(t->first[b >> 6] >> (b & 63) & 1))
        return NULL;
    size_t lo = 0, hi = t->ncfg;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ns_node *x = cfg_node(t, mid);
        if (name_cmp(x->name, x->len, key, klen) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int32_t i = (int32_t)lo - 1; i >= 0; i = t->cparent[i]) {
        ns_node *x = t->v[t->cfg[i]];
        if (is_prefix(x->name, x->len, key, klen))
            return x;
    }
    return NULL;
}

/* Inserts node x into the sorted configured list and recomputes the parents (rare: start-up
 * and reloads). */
static int cfg_insert(fc_nstab *t, ns_node *x)
{
    if (t->ncfg == t->cfgcap) {
        size_t cap = t->cfgcap ? t->cfgcap * 2 : 16;
        uint32_t *cfg = realloc(t->cfg, cap * sizeof(*cfg));
        if (!cfg)
            return -ENOMEM;
        t->cfg = cfg;
        int32_t *par = realloc(t->cparent, cap * sizeof(*par));
        if (!par)
            return -ENOMEM;
        t->cparent = par;
        t->cfgcap = cap;
    }
    size_t pos = 0;
    while (pos < t->ncfg &&
           name_cmp(cfg_node(t, pos)->name, cfg_node(t, pos)->len, x->name, x->len) < 0)
        pos++;
    memmove(t->cfg + pos + 1, t->cfg + pos, (t->ncfg - pos) * sizeof(*t->cfg));
    t->cfg[pos] = x->idx;
    t->ncfg++;
    for (size_t i = 0; i < t->ncfg; i++) {
        const ns_node *c = cfg_node(t, i);
        int32_t p = (int32_t)i - 1;
        while (p >= 0 && !is_prefix(cfg_node(t, (size_t)p)->name, cfg_node(t, (size_t)p)->len,
                                    c->name, c->len))
            p = t->cparent[p];
        t->cparent[i] = p;
    }
    unsigned char b = (unsigned char)x->name[0];
    t->first[b >> 6] |= 1ull << (b & 63);
    x->configured = true;
    return 0;
}

/* ---- public API ---------------------------------------------------------------------------- */

fc_nstab *fc_nstab_new(size_t max_auto)
{
    fc_nstab *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->h = calloc(HASH_MIN, sizeof(*t->h));
    if (!t->h) {
        free(t);
        return NULL;
    }
    t->hmask = HASH_MIN - 1;
    t->max_auto = max_auto;
    t->seed = fc_hash_mix64((uint64_t)(uintptr_t)t ^ ((uint64_t)(uintptr_t)&fc_nstab_new << 21));
    return t;
}

void fc_nstab_free(fc_nstab *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    free(t->h);
    free(t->cfg);
    free(t->cparent);
    free(t);
}

int fc_nstab_configure(fc_nstab *t, const char *prefix, size_t len)
{
    if (len == 0)
        return -EINVAL;
    uint64_t h = name_hash(t->seed, prefix, len);
    ns_node *x = find(t, prefix, len, h);
    if (x && x->configured)
        return 0;
    bool was_auto = x != NULL;
    if (!x && !(x = add_node(t, prefix, len, h)))
        return -ENOMEM;
    if (cfg_insert(t, x) != 0)
        return -ENOMEM; /* a new x stays, acting as an auto name outside the cap */
    if (was_auto)
        t->nauto--;
    return 0;
}

/* The auto namespace of key (the lookup's path after the last-namespace check): memchr for
 * ':', one probe, and on a miss the namespace is created when the cap and its bytes allow. */
static __attribute__((noinline)) fc_ns_stats *lookup_auto(fc_nstab *t, const char *key, size_t klen)
{
    const char *colon =
        memchr(key, ':', klen < FC_NSTAB_AUTO_NAME_MAX ? klen : FC_NSTAB_AUTO_NAME_MAX);
    if (!colon)
        return NULL;
    size_t len = (size_t)(colon - key) + 1;
    uint64_t h = name_hash(t->seed, key, len);
    ns_node *x = find(t, key, len, h);
    if (!x) {
        if (t->nauto >= t->max_auto || !printable(key, len) || !(x = add_node(t, key, len, h)))
            return NULL;
        t->nauto++;
    }
    t->last = x; /* an auto name: a configured one would have matched first */
    return &x->stats;
}

/* Keys come in runs of one namespace, so the last auto namespace found is tried first: its name
 * holds a single ':', at its end, so a key that starts with it has it as its auto namespace. It
 * is reached only when no configured prefix matched, so it is live. */
fc_ns_stats *fc_nstab_lookup(fc_nstab *t, const char *key, size_t klen)
{
    if (t->ncfg) {
        ns_node *c = cfg_longest(t, key, klen);
        if (c)
            return &c->stats;
    }
    ns_node *x = t->last;
    if (x && x->len <= klen && name_eq(x->name, key, x->len))
        return &x->stats;
    return lookup_auto(t, key, klen);
}

size_t fc_nstab_size(const fc_nstab *t)
{
    return t->n;
}

const char *fc_nstab_name(const fc_nstab *t, size_t i, size_t *len)
{
    *len = t->v[i]->len;
    return t->v[i]->name;
}

fc_ns_stats *fc_nstab_stats(fc_nstab *t, size_t i)
{
    return &t->v[i]->stats;
}

/* The deepest live namespace that is a proper prefix of s[0..len), or NULL (see the top). */
static ns_node *enclosing(const fc_nstab *t, const char *s, size_t len)
{
    if (len == 0)
        return NULL;
    ns_node *c = cfg_longest(t, s, len - 1);
    if (c)
        return c;
    const char *colon = memchr(s, ':', len - 1);
    if (!colon)
        return NULL;
    size_t alen = (size_t)(colon - s) + 1;
    return find(t, s, alen, name_hash(t->seed, s, alen));
}

static bool live(const fc_nstab *t, const ns_node *x)
{
    return x->configured || !enclosing(t, x->name, x->len);
}

void fc_nstab_keys(const fc_nstab *t, fc_ns_count_fn *count, void *ctx, uint64_t *keys)
{
    if (t->n)
        memset(keys, 0, t->n * sizeof(*keys));
    /* Unsigned wrap-around is intended: a parent may be debited before it is credited. */
    for (size_t i = 0; i < t->n; i++) {
        const ns_node *x = t->v[i];
        if (!live(t, x))
            continue;
        uint64_t n = count(ctx, x->name, x->len);
        keys[i] += n;
        const ns_node *p = enclosing(t, x->name, x->len);
        if (p)
            keys[p->idx] -= n;
    }
}

void fc_nstab_note_invalidate(fc_nstab *t, const char *p, size_t plen, fc_ns_count_fn *count,
                              void *ctx)
{
    uint64_t top = 0; /* keys of the namespaces under p whose enclosing one is not under p */
    for (size_t i = 0; i < t->n; i++) {
        ns_node *x = t->v[i];
        if (!is_prefix(p, plen, x->name, x->len) || !live(t, x))
            continue;
        uint64_t n = count(ctx, x->name, x->len);
        x->stats.invalidations += n;
        ns_node *up = enclosing(t, x->name, x->len);
        if (up && up->len >= plen)
            up->stats.invalidations -= n; /* wraps until up's own count is added */
        else
            top += n;
    }
    ns_node *e = enclosing(t, p, plen);
    if (e)
        e->stats.invalidations += count(ctx, p, plen) - top;
}
