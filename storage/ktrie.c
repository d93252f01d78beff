/*
 * ktrie — see ktrie.h. Three operations shape the trie:
 *
 *   split: an insert whose key leaves a node's compressed path (differs, or ends, inside it)
 *          gets a new node at the point of difference between the node and its parent;
 *   burst: a leaf past FC_KT_BURST entries becomes a node at the depth where its keys stop
 *          sharing bytes, its entries spread over leaves by their next byte (O(FC_KT_BURST));
 *   tidy:  an emptied leaf is freed, and so is every ancestor (but the root) left empty.
 *
 * Nothing here frees or allocates entries. meta_bytes counts each allocation as glibc does:
 * usable size plus an 8-byte chunk header.
 */
#include "storage/ktrie.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "storage/hash.h"

static size_t chunk(const void *p)
{
    return p ? malloc_usable_size((void *)p) + 8 : 0;
}

static size_t table_bytes(const fc_dict *d)
{
    return fc_dict_table_bytes(d) + 8 * (d->t[0].size != 0) + 8 * (d->t[1].size != 0);
}

bool fc_kt_init(fc_ktrie *t, uint64_t seed)
{
    fc_dict proto;
    memset(t, 0, sizeof(*t));
    fc_dict_init(&proto, seed);
    t->seed = seed;
    t->k0 = proto.k0;
    t->k1 = proto.k1;
    t->root = calloc(1, sizeof(*t->root));
    if (!t->root)
        return false;
    t->root->min_exp = INT64_MAX;
    t->meta_bytes = chunk(t->root);
    return true;
}

uint64_t fc_kt_hash(const fc_ktrie *t, const char *key, size_t klen)
{
    return fc_hash_siphash13(t->k0, t->k1, key, klen);
}

/* ---- the leaf vector ---- */

static void vec_compact(fc_ktrie *t)
{
    size_t j = 0;
    for (size_t i = 0; i < t->vlen; i++) {
        if (!t->vec[i])
            continue;
        t->vec[j] = t->vec[i];
        t->ids[j] = t->ids[i];
        t->vec[j]->vidx = j;
        j++;
    }
    t->vlen = j;
    t->vholes = 0;
}

static bool vec_push(fc_ktrie *t, fc_kleaf *l)
{
    if (t->vlen == t->vcap) {
        if (t->vholes > t->vlen / 4) {
            vec_compact(t);
        } else {
            size_t cap = t->vcap ? t->vcap * 2 : 16;
            fc_kleaf **v = realloc(t->vec, cap * sizeof(*v));
            if (!v)
                return false;
            t->vec = v;
            uint64_t *ids = realloc(t->ids, cap * sizeof(*ids));
            if (!ids)
                return false;
            t->ids = ids;
            t->meta_bytes += (cap - t->vcap) * (sizeof(*v) + sizeof(*ids));
            t->vcap = cap;
        }
    }
    l->id = t->next_id++;
    l->vidx = t->vlen;
    t->vec[t->vlen] = l;
    t->ids[t->vlen++] = l->id;
    return true;
}

static fc_kleaf *leaf_new(fc_ktrie *t, fc_knode *parent, unsigned slot)
{
    fc_kleaf *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    if (!vec_push(t, l)) {
        free(l);
        return NULL;
    }
    l->b = (fc_kbase){parent, (uint16_t)slot, true};
    fc_dict_init(&l->d, t->seed);
    l->min_exp = INT64_MAX;
    t->meta_bytes += chunk(l);
    return l;
}

void fc_kt_free_leaf(fc_ktrie *t, fc_kleaf *l)
{
    t->meta_bytes -= table_bytes(&l->d) + chunk(l);
    fc_dict_reset(&l->d);
    t->vec[l->vidx] = NULL;
    t->vholes++;
    free(l);
    if (t->vholes == t->vlen) { /* no leaf left: give the vector back */
        t->meta_bytes -= t->vcap * (sizeof(*t->vec) + sizeof(*t->ids));
        free(t->vec);
        free(t->ids);
        t->vec = NULL;
        t->ids = NULL;
        t->vlen = t->vcap = t->vholes = 0;
    }
}

void fc_kt_free_node(fc_ktrie *t, fc_knode *n)
{
    t->meta_bytes -= chunk(n) + chunk(n->path);
    free(n->path);
    free(n);
}

/* ---- counts ---- */

static void add_counts(fc_kleaf *l, long delta, int64_t exp)
{
    bool v = exp != 0;
    if (v) {
        if (l->in_pass && delta > 0)
            fc_kt_pass_note(l, exp);
        l->vol += (size_t)delta;
        if (delta > 0 && exp < l->min_exp)
            l->min_exp = exp;
    }
    for (fc_knode *n = l->b.parent; n; n = n->b.parent) {
        n->count += (size_t)delta;
        if (v) {
            n->vol += (size_t)delta;
            if (delta > 0 && exp < n->min_exp)
                n->min_exp = exp;
        }
    }
}

void fc_kt_expire_changed(fc_ktrie *t, fc_kleaf *l, int64_t old, int64_t now)
{
    (void)t;
    long d = (long)(now != 0) - (long)(old != 0);
    l->vol += (size_t)d;
    if (now != 0 && now < l->min_exp)
        l->min_exp = now;
    if (now != 0 && l->in_pass)
        fc_kt_pass_note(l, now);
    for (fc_knode *n = l->b.parent; n; n = n->b.parent) {
        n->vol += (size_t)d;
        if (now != 0 && now < n->min_exp)
            n->min_exp = now;
    }
}

void fc_kt_pass_begin(fc_kleaf *l)
{
    l->in_pass = true;
    l->pass_min = INT64_MAX;
}

void fc_kt_pass_note(fc_kleaf *l, int64_t exp)
{
    if (exp != 0 && exp < l->pass_min)
        l->pass_min = exp;
}

static int64_t child_min(const fc_knode *n)
{
    int64_t m = INT64_MAX;
    for (unsigned s = 0; s < FC_KT_SLOTS; s++) {
        const fc_kbase *c = n->child[s];
        if (c && fc_kt_vol(c) && fc_kt_min_exp(c) < m)
            m = fc_kt_min_exp(c);
    }
    return m;
}

void fc_kt_pass_end(fc_kleaf *l)
{
    if (!l->in_pass)
        return;
    l->in_pass = false;
    l->min_exp = l->vol ? l->pass_min : INT64_MAX;
    for (fc_knode *n = l->b.parent; n; n = n->b.parent)
        n->min_exp = child_min(n);
}

/* ---- lookups ---- */

static inline unsigned slot_of(const char *key, size_t klen, uint32_t depth)
{
    return klen == depth ? FC_KT_END : (unsigned char)key[depth];
}

fc_entry **fc_kt_find(fc_ktrie *t, const char *key, size_t klen, uint64_t h, fc_kleaf **leaf)
{
    fc_knode *n = t->root;
    for (;;) {
        if (klen < n->depth)
            return NULL;
        fc_kbase *c = n->child[slot_of(key, klen, n->depth)];
        if (!c)
            return NULL;
        if (c->leaf) {
            fc_kleaf *l = (fc_kleaf *)c;
            fc_entry **link = fc_dict_find(&l->d, key, klen, h);
            if (link)
                *leaf = l;
            return link;
        }
        n = (fc_knode *)c;
    }
}

const fc_kleaf *fc_kt_leaf_of(const fc_ktrie *t, const char *key, size_t klen)
{
    const fc_knode *n = t->root;
    for (;;) {
        if (klen < n->depth)
            return NULL;
        const fc_kbase *c = n->child[slot_of(key, klen, n->depth)];
        if (!c || c->leaf)
            return (const fc_kleaf *)c;
        n = (const fc_knode *)c;
    }
}

fc_kbase *fc_kt_prefix(fc_ktrie *t, const char *p, size_t plen, fc_kleaf **partial)
{
    fc_knode *n = t->root;
    *partial = NULL;
    for (;;) {
        size_t upto = plen < n->depth ? plen : n->depth;
        if (upto && memcmp(p, n->path, upto) != 0)
            return NULL;
        if (plen <= n->depth)
            return &n->b;
        fc_kbase *c = n->child[(unsigned char)p[n->depth]];
        if (!c)
            return NULL;
        if (c->leaf) {
            if (plen == n->depth + 1u)
                return c;
            *partial = (fc_kleaf *)c;
            return NULL;
        }
        n = (fc_knode *)c;
    }
}

/* ---- insert: split and burst ---- */

/* The first position in [from, m->depth) where key differs from m's path or ends; m->depth when
 * the key follows the whole path. */
static size_t diverge(const char *key, size_t klen, const fc_knode *m, size_t from)
{
    for (size_t i = from; i < m->depth; i++)
        if (i >= klen || key[i] != m->path[i])
            return i;
    return m->depth;
}

static fc_knode *node_new(fc_ktrie *t, const char *path, size_t depth)
{
    fc_knode *x = calloc(1, sizeof(*x));
    char *p = depth ? malloc(depth) : NULL;
    if (!x || (depth && !p)) {
        free(x);
        free(p);
        return NULL;
    }
    if (depth)
        memcpy(p, path, depth);
    x->path = p;
    x->depth = (uint32_t)depth;
    x->min_exp = INT64_MAX;
    t->meta_bytes += chunk(x) + chunk(p);
    return x;
}

/* Puts a node of depth j between n (slot) and its child node m. */
static fc_knode *split(fc_ktrie *t, fc_knode *n, unsigned slot, fc_knode *m, size_t j)
{
    fc_knode *x = node_new(t, m->path, j);
    if (!x)
        return NULL;
    x->b = (fc_kbase){n, (uint16_t)slot, false};
    x->count = m->count;
    x->vol = m->vol;
    x->min_exp = m->min_exp;
    unsigned ms = (unsigned char)m->path[j];
    x->child[ms] = &m->b;
    m->b.parent = x;
    m->b.pslot = (uint16_t)ms;
    n->child[slot] = &x->b;
    return x;
}

/* Runs fn on every entry of d (not rehashing); fn may not touch d. */
static void each_entry(fc_dict *d, void (*fn)(void *, fc_entry *), void *ctx)
{
    for (int ti = 0; ti < 2; ti++)
        for (size_t i = 0; i < d->t[ti].size; i++)
            for (fc_entry *e = d->t[ti].b[i], *next; e; e = next) {
                next = e->next;
                fn(ctx, e);
            }
}

typedef struct burst_ctx {
    const char *first;
    size_t from, lcp;
    size_t per_slot[FC_KT_SLOTS];
    fc_knode *m;
    fc_ktrie *t;
} burst_ctx;

static void burst_measure(void *arg, fc_entry *e)
{
    burst_ctx *b = arg;
    const char *k = fc_entry_key(e);
    size_t kl = fc_entry_klen(e), i = b->from;
    size_t lim = kl < b->lcp ? kl : b->lcp;
    while (i < lim && k[i] == b->first[i])
        i++;
    b->lcp = i;
}

static void burst_count(void *arg, fc_entry *e)
{
    burst_ctx *b = arg;
    b->per_slot[slot_of(fc_entry_key(e), fc_entry_klen(e), (uint32_t)b->lcp)]++;
}

static void burst_move(void *arg, fc_entry *e)
{
    burst_ctx *b = arg;
    const char *k = fc_entry_key(e);
    size_t kl = fc_entry_klen(e);
    fc_kleaf *l = (fc_kleaf *)b->m->child[slot_of(k, kl, b->m->depth)];
    int64_t exp = fc_entry_expire(e);
    fc_dict_insert(&l->d, e, fc_kt_hash(b->t, k, kl));
    if (exp) {
        l->vol++;
        l->min_exp = exp < l->min_exp ? exp : l->min_exp;
        b->m->min_exp = exp < b->m->min_exp ? exp : b->m->min_exp;
    }
}

/* Frees the leaves already made for a burst that ran out of memory, and the node. */
static void burst_abort(fc_ktrie *t, fc_knode *m)
{
    for (unsigned s = 0; s < FC_KT_SLOTS; s++)
        if (m->child[s])
            fc_kt_free_leaf(t, (fc_kleaf *)m->child[s]);
    fc_kt_free_node(t, m);
}

/* Replaces leaf l (not an END leaf) by a node with one leaf per next byte. On out-of-memory
 * nothing changes (the leaf just stays large). */
static void burst(fc_ktrie *t, fc_kleaf *l)
{
    fc_knode *n = l->b.parent;
    burst_ctx b = {.from = n->depth + 1u, .t = t};
    fc_entry *any = NULL;
    for (size_t i = 0; !any && i < l->d.t[0].size; i++)
        any = l->d.t[0].b[i];
    b.first = fc_entry_key(any);
    b.lcp = fc_entry_klen(any);
    each_entry(&l->d, burst_measure, &b);
    each_entry(&l->d, burst_count, &b);
    fc_knode *m = node_new(t, b.first, b.lcp);
    if (!m)
        return;
    b.m = m;
    for (unsigned s = 0; s < FC_KT_SLOTS; s++) {
        if (!b.per_slot[s])
            continue;
        fc_kleaf *c = leaf_new(t, m, s);
        if (c)
            m->child[s] = &c->b;
        if (!c || !fc_dict_reserve(&c->d, b.per_slot[s])) {
            burst_abort(t, m);
            return;
        }
        t->meta_bytes += table_bytes(&c->d);
    }
    m->b = (fc_kbase){n, l->b.pslot, false};
    m->count = l->d.count;
    m->vol = l->vol;
    each_entry(&l->d, burst_move, &b);
    n->child[l->b.pslot] = &m->b;
    l->d.count = 0;
    fc_kt_free_leaf(t, l);
}

/* Grows or shrinks happen inside dict.c: finish them now and account the table bytes. */
static void settle(fc_ktrie *t, fc_kleaf *l, size_t before)
{
    fc_dict_rehash_all(&l->d);
    t->meta_bytes = t->meta_bytes - before + table_bytes(&l->d);
}

/* The leaf where key belongs, created (with any split on the way) when missing. */
static fc_kleaf *leaf_for(fc_ktrie *t, const char *key, size_t klen)
{
    fc_knode *n = t->root;
    for (;;) {
        unsigned slot = slot_of(key, klen, n->depth);
        fc_kbase *c = n->child[slot];
        if (!c) {
            fc_kleaf *l = leaf_new(t, n, slot);
            if (l)
                n->child[slot] = &l->b;
            return l;
        }
        if (c->leaf)
            return (fc_kleaf *)c;
        fc_knode *m = (fc_knode *)c;
        size_t j = diverge(key, klen, m, n->depth + 1u);
        if (j < m->depth && !(m = split(t, n, slot, m, j)))
            return NULL;
        n = m;
    }
}

fc_kleaf *fc_kt_insert(fc_ktrie *t, fc_entry *e, uint64_t h)
{
    const char *key = fc_entry_key(e);
    size_t klen = fc_entry_klen(e);
    fc_kleaf *l = leaf_for(t, key, klen);
    if (!l)
        return NULL;
    size_t before = table_bytes(&l->d), count = l->d.count;
    fc_dict_insert(&l->d, e, h);
    settle(t, l, before);
    if (l->d.count == count) { /* the leaf's first table could not be allocated */
        fc_kt_tidy(t, l);
        return NULL;
    }
    add_counts(l, 1, fc_entry_expire(e));
    if (l->d.count > FC_KT_BURST && l->b.pslot != FC_KT_END) {
        burst(t, l);
        fc_kt_find(t, key, klen, h, &l);
    }
    return l;
}

void fc_kt_unlink(fc_ktrie *t, fc_kleaf *l, fc_entry **link)
{
    (void)t;
    int64_t exp = fc_entry_expire(*link);
    fc_dict_unlink(&l->d, link);
    add_counts(l, -1, exp);
}

/* Frees n and its ancestors while they are empty, attached and not the root. */
static void prune_nodes(fc_ktrie *t, fc_knode *n)
{
    while (n && n != t->root && n->count == 0 && n->b.parent) {
        fc_knode *p = n->b.parent;
        p->child[n->b.pslot] = NULL;
        fc_kt_free_node(t, n);
        n = p;
    }
}

void fc_kt_tidy(fc_ktrie *t, fc_kleaf *l)
{
    if (l->d.count > 0) {
        size_t before = table_bytes(&l->d), size = l->d.t[0].size;
        fc_dict_maybe_shrink(&l->d);
        settle(t, l, before);
        if (l->d.t[0].size != size)
            l->in_pass = false; /* entries moved behind the expiry pass: no exact bound */
        return;
    }
    fc_knode *p = l->b.parent;
    if (!p)
        return; /* detached: the store's reclaim frees it */
    p->child[l->b.pslot] = NULL;
    fc_kt_free_leaf(t, l);
    prune_nodes(t, p);
}

/* ---- detaching ---- */

void fc_kt_detach(fc_ktrie *t, fc_kbase *x)
{
    fc_knode *p = x->parent;
    size_t cnt = fc_kt_count(x), vol = fc_kt_vol(x);
    p->child[x->pslot] = NULL;
    for (fc_knode *a = p; a; a = a->b.parent) {
        a->count -= cnt;
        a->vol -= vol;
    }
    x->parent = NULL;
    prune_nodes(t, p);
}

fc_knode *fc_kt_detach_all(fc_ktrie *t)
{
    fc_knode *fresh = calloc(1, sizeof(*fresh));
    if (!fresh)
        return NULL;
    fresh->min_exp = INT64_MAX;
    t->meta_bytes += chunk(fresh);
    fc_knode *old = t->root;
    t->root = fresh;
    return old;
}

bool fc_kt_attached(const fc_ktrie *t, const fc_kleaf *l)
{
    const fc_kbase *x = &l->b;
    while (x->parent)
        x = &x->parent->b;
    return x == &t->root->b;
}

/* ---- cursors and sampling ---- */

fc_kleaf *fc_kt_leaf_from(fc_ktrie *t, uint64_t id, bool *same)
{
    size_t lo = 0, hi = t->vlen;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < t->vlen; lo++) {
        fc_kleaf *l = t->vec[lo];
        if (l && fc_kt_attached(t, l)) {
            *same = l->id == id;
            return l;
        }
    }
    return NULL;
}

/* The leaf size sampling treats as full: twice the mean over the vector's leaves (detached ones
 * included), between RANDOM_FULL_MIN and FC_KT_BURST. Leaves above it are sampled as if they held
 * that many: with sizes spread as bursts and deletes leave them, that is a small bias, while a
 * bound of FC_KT_BURST would cost about FC_KT_BURST / mean tries per pick once most leaves are
 * sparse (evictions thin every leaf: 20+ tries, each a cache miss). */
#define RANDOM_FULL_MIN 16
static size_t random_full(const fc_ktrie *t)
{
    size_t leaves = t->vlen - t->vholes;
    size_t full = leaves ? 2 * t->root->count / leaves : FC_KT_BURST;
    return full < RANDOM_FULL_MIN ? RANDOM_FULL_MIN : full > FC_KT_BURST ? FC_KT_BURST : full;
}

fc_kleaf *fc_kt_random_leaf(fc_ktrie *t, uint64_t (*r)(void *), void *rctx)
{
    fc_kleaf *last = NULL;
    if (t->root->count == 0 || t->vlen == 0)
        return NULL;
    size_t full = random_full(t);
    for (int tries = 0; tries < 32; tries++) {
        fc_kleaf *l = t->vec[r(rctx) % t->vlen];
        if (!l || l->d.count == 0 || !fc_kt_attached(t, l))
            continue;
        last = l;
        if (r(rctx) % full < l->d.count)
            return l;
    }
    if (last)
        return last;
    bool same;
    fc_kleaf *l = fc_kt_leaf_from(t, t->ids[r(rctx) % t->vlen], &same);
    return l ? l : fc_kt_leaf_from(t, 0, &same);
}

/* ---- teardown ---- */

static void destroy_subtree(fc_ktrie *t, fc_kbase *x)
{
    if (x->leaf) {
        fc_kt_free_leaf(t, (fc_kleaf *)x);
        return;
    }
    fc_knode *n = (fc_knode *)x;
    for (unsigned s = 0; s < FC_KT_SLOTS; s++)
        if (n->child[s])
            destroy_subtree(t, n->child[s]);
    fc_kt_free_node(t, n);
}

void fc_kt_destroy(fc_ktrie *t)
{
    if (t->root)
        destroy_subtree(t, &t->root->b);
    free(t->vec);
    free(t->ids);
    memset(t, 0, sizeof(*t));
}
