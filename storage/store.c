/*
 * store — the keyspace API over the key trie (ktrie.c): lookups with lazy expiry, writes that copy
 * key and value into one allocation per entry (entry.h), cursor scans and random keys. Lazy free
 * and INVALIDATE live in reclaim.c, the active-expiry cycle in expire.c, eviction in evict.c.
 *
 * Leaf tables resize at once (they hold at most FC_KT_BURST entries), and shrink or go away only
 * at points where no link into a chain is held (fc_kt_tidy after deletes, never inside a walk).
 *
 * Entries are rewritten in place when the new layout fits the allocation (its slot or glibc chunk)
 * without wasting more than about half of it and stays on the same side of FC_SLAB_MAX (which
 * says where an entry lives, store_internal.h); otherwise a new entry replaces the old one in its
 * chain. Values grown through fc_store_resize_value get slack (doubling up to 1 MiB extra) so a
 * run of APPENDs is amortised O(1) per byte.
 */
#include <errno.h>
#include <string.h>

#include "storage/hash.h"
#include "storage/store_internal.h"

#define MAX_SLACK (1u << 20)
#define RANDOM_TRIES 256
#define SCAN_REAP_MAX 64
#define SCAN_INNER_BITS 24
#define SCAN_INNER_MASK ((1ull << SCAN_INNER_BITS) - 1)

fc_store *fc_store_new(uint64_t seed)
{
    fc_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (!fc_kt_init(&s->kt, seed)) {
        free(s);
        return NULL;
    }
    fc_slab_init(&s->slab);
    s->samples = FC_EVICT_DEFAULT_SAMPLES;
    s->rng = seed ^ 0x2545F4914F6CDD1Dull;
    return s;
}

void fc_store_free(fc_store *s)
{
    if (!s)
        return;
    fc_store_flush(s);
    fc_store_reclaim_step(s, SIZE_MAX);
    fc_store_pool_clear(s);
    fc_kt_destroy(&s->kt);
    fc_slab_deinit(&s->slab);
    free(s);
}

/* Finds key, deleting it if expired. Returns the link of the live entry (and *leaf) or NULL;
 * *h gets the key's hash for a following insert. */
static fc_entry **lookup(fc_store *s, const char *key, size_t klen, int64_t now_ms, uint64_t *h,
                         fc_kleaf **leaf)
{
    *h = fc_kt_hash(&s->kt, key, klen);
    fc_entry **link = fc_kt_find(&s->kt, key, klen, *h, leaf);
    if (link && fc_entry_is_expired(*link, now_ms)) {
        fc_store_delete_link(s, *leaf, link);
        s->stats.expired++;
        fc_kt_tidy(&s->kt, *leaf);
        return NULL;
    }
    return link;
}

/* Inserts a new entry; on out-of-memory frees it and returns false. */
static bool insert(fc_store *s, fc_entry *e, uint64_t h)
{
    if (fc_kt_insert(&s->kt, e, h))
        return true;
    fc_store_entry_free(s, e);
    return false;
}

static void fill_view(const fc_entry *e, fc_entry_view *out)
{
    out->klen = fc_entry_klen(e);
    out->key = fc_entry_key(e);
    out->vlen = fc_entry_vlen(e);
    out->val = out->key + out->klen;
    out->expire_at = fc_entry_expire(e);
}

/* Writes meta and lengths; the key and value bytes are the caller's business. */
static void write_header(fc_entry *e, uint8_t meta, size_t klen, size_t vlen)
{
    e->meta = (uint8_t)(meta | (e->meta & ~FC_META_LAYOUT)); /* the clock bits stay */
    unsigned char *p = (unsigned char *)fc_entry_lens(e);
    fc_write_len(p, fc_meta_kw(meta), klen);
    fc_write_len(p + fc_meta_kw(meta), fc_meta_vw(meta), vlen);
}

/* Allocates an entry (val NULL: zero-filled value) with room for slack more value bytes. The
 * expire slot exists when has_slot or expire_at is set. */
static fc_entry *entry_create(fc_store *s, const char *key, size_t klen, const char *val,
                              size_t vlen, int64_t expire_at, bool has_slot, size_t slack)
{
    uint8_t meta = fc_meta_make(has_slot || expire_at != FC_NO_EXPIRE, klen, vlen);
    size_t hdr = fc_meta_hdr(meta);
    if (klen > SIZE_MAX / 4 || vlen > SIZE_MAX / 4)
        return NULL;
    size_t need = hdr + klen + vlen;
    bool slab = need <= FC_SLAB_MAX;
    size_t want = slack < SIZE_MAX - need ? need + slack : SIZE_MAX;
    if (slab && want > FC_SLAB_MAX)
        want = FC_SLAB_MAX; /* slack only up to the largest class: the entry stays in the slab */
    fc_entry *e = slab ? fc_slab_alloc(&s->slab, want) : malloc(want);
    if (!e)
        return NULL;
    s->entry_bytes += slab ? fc_slab_usable(e) : fc_chunk_bytes(e);
    e->next = NULL;
    e->meta = 0;
    e->clk = 0;
    if (meta & FC_META_EXP)
        fc_entry_write_expire(e, expire_at);
    write_header(e, meta, klen, vlen);
    if (klen)
        memcpy((char *)e + hdr, key, klen);
    if (val && vlen)
        memcpy((char *)e + hdr + klen, val, vlen);
    else
        memset((char *)e + hdr + klen, 0, vlen);
    return e;
}

static bool points_into(const fc_entry *e, size_t usable, const char *p)
{
    const char *base = (const char *)e;
    return p >= base && p < base + usable;
}

/*
 * Gives *link the layout (expire slot or not, value length vlen) and value bytes val (NULL: keep
 * the first min(old, new) bytes and zero the rest), in place when it fits, else in a new
 * allocation with slack extra bytes that replaces the old entry in its chain. The expire slot
 * keeps its value when it survives and starts at FC_NO_EXPIRE when added. Returns the entry or
 * NULL on out-of-memory (nothing changed).
 */
static fc_entry *reshape(fc_store *s, fc_kleaf *leaf, fc_entry **link, bool has_exp, size_t vlen,
                         const char *val, size_t slack)
{
    fc_entry *e = *link;
    size_t klen = fc_entry_klen(e), ovlen = fc_entry_vlen(e);
    size_t keep = ovlen < vlen ? ovlen : vlen;
    int64_t exp = fc_entry_expire(e);
    uint8_t meta = fc_meta_make(has_exp, klen, vlen);
    size_t ohdr = fc_meta_hdr(e->meta), hdr = fc_meta_hdr(meta);
    size_t need = hdr + klen + vlen;
    bool slab = ohdr + klen + ovlen <= FC_SLAB_MAX; /* where e lives (store_internal.h) */
    size_t usable = slab ? fc_slab_usable(e) : malloc_usable_size(e);

    if (vlen > SIZE_MAX / 4)
        return NULL;
    if (!has_exp && exp != FC_NO_EXPIRE) /* the expiry goes with the slot (no failure below) */
        fc_kt_expire_changed(&s->kt, leaf, exp, FC_NO_EXPIRE);
    if (need <= usable && usable <= 2 * need + 64 && (need <= FC_SLAB_MAX) == slab &&
        !(val && points_into(e, usable, val))) { /* same allocation: entry_bytes unchanged */
        memmove((char *)e + hdr, (char *)e + ohdr, klen + keep);
        if (has_exp)
            fc_entry_write_expire(e, exp); /* FC_NO_EXPIRE when the slot is new */
        write_header(e, meta, klen, vlen);
        if (val && vlen)
            memmove((char *)e + hdr + klen, val, vlen);
        else
            memset((char *)e + hdr + klen + keep, 0, vlen - keep);
        return e;
    }
    fc_entry *ne = entry_create(s, fc_entry_key(e), klen, val, vlen, has_exp ? exp : FC_NO_EXPIRE,
                                has_exp, slack);
    if (!ne) {
        if (!has_exp && exp != FC_NO_EXPIRE) /* undo: the entry keeps its expiry */
            fc_kt_expire_changed(&s->kt, leaf, FC_NO_EXPIRE, exp);
        return NULL;
    }
    if (!val && keep)
        memcpy(fc_entry_val(ne), fc_entry_val(e), keep);
    fc_entry_set_clock(ne, fc_entry_clock(e));
    ne->next = e->next;
    *link = ne;
    fc_store_entry_free(s, e);
    return ne;
}

/* Sets the expiry of e (in leaf), which must have the slot unless at is FC_NO_EXPIRE. */
static void entry_set_expire(fc_store *s, fc_kleaf *leaf, fc_entry *e, int64_t at)
{
    int64_t old = fc_entry_expire(e);
    if (!(e->meta & FC_META_EXP))
        return; /* at is FC_NO_EXPIRE, nothing to store */
    fc_kt_expire_changed(&s->kt, leaf, old, at);
    fc_entry_write_expire(e, at);
}

bool fc_store_get(fc_store *s, const char *key, size_t klen, int64_t now_ms, unsigned flags,
                  fc_entry_view *out)
{
    uint64_t h;
    fc_kleaf *leaf;
    fc_entry **link = lookup(s, key, klen, now_ms, &h, &leaf);
    if (!(flags & FC_LOOKUP_NOSTATS)) {
        if (link)
            s->stats.hits++;
        else
            s->stats.misses++;
        fc_store_count_ns(s, key, klen,
                          link ? offsetof(fc_ns_stats, hits) : offsetof(fc_ns_stats, misses));
    }
    if (!link)
        return false;
    if (s->policy != FC_EVICT_NOEVICTION)
        fc_store_touch(s, *link, now_ms, false);
    fill_view(*link, out);
    return true;
}

int fc_store_set(fc_store *s, const char *key, size_t klen, const char *val, size_t vlen,
                 int64_t expire_at, bool keep_ttl, int64_t now_ms)
{
    fc_kleaf *leaf;
    fc_store_count_ns(s, key, klen, offsetof(fc_ns_stats, sets));
    uint64_t h = fc_kt_hash(&s->kt, key, klen);
    fc_entry **link = fc_kt_find(&s->kt, key, klen, h, &leaf);
    if (!link) {
        fc_entry *e = entry_create(s, key, klen, val, vlen, expire_at, false, 0);
        if (!e || !insert(s, e, h))
            return -ENOMEM;
        fc_store_touch(s, e, now_ms, true);
        return 0;
    }
    bool live = !fc_entry_is_expired(*link, now_ms);
    int64_t exp = (keep_ttl && live) ? fc_entry_expire(*link) : expire_at;
    fc_entry *e = reshape(s, leaf, link, exp != FC_NO_EXPIRE, vlen, val, 0);
    if (!e)
        return -ENOMEM;
    if (!live)
        s->stats.expired++;
    entry_set_expire(s, leaf, e, exp);
    fc_store_touch(s, e, now_ms, !live);
    return 0;
}

static size_t grow_slack(size_t total)
{
    return total < MAX_SLACK ? total : MAX_SLACK;
}

char *fc_store_resize_value(fc_store *s, const char *key, size_t klen, size_t newlen,
                            int64_t expire_if_created, int64_t now_ms)
{
    uint64_t h;
    fc_kleaf *leaf;
    fc_store_count_ns(s, key, klen, offsetof(fc_ns_stats, sets));
    fc_entry **link = lookup(s, key, klen, now_ms, &h, &leaf);
    if (!link) {
        fc_entry *e = entry_create(s, key, klen, NULL, newlen, expire_if_created, false, 0);
        if (!e || !insert(s, e, h))
            return NULL;
        fc_store_touch(s, e, now_ms, true);
        return fc_entry_val(e);
    }
    fc_entry *old = *link;
    size_t slack = newlen > fc_entry_vlen(old) ? grow_slack(klen + newlen) : 0;
    fc_entry *e = reshape(s, leaf, link, old->meta & FC_META_EXP, newlen, NULL, slack);
    if (e)
        fc_store_touch(s, e, now_ms, false);
    return e ? fc_entry_val(e) : NULL;
}

bool fc_store_del(fc_store *s, const char *key, size_t klen, int64_t now_ms)
{
    fc_kleaf *leaf;
    uint64_t h = fc_kt_hash(&s->kt, key, klen);
    fc_entry **link = fc_kt_find(&s->kt, key, klen, h, &leaf);
    if (!link)
        return false;
    bool expired = fc_entry_is_expired(*link, now_ms);
    fc_store_delete_link(s, leaf, link);
    if (expired)
        s->stats.expired++;
    fc_kt_tidy(&s->kt, leaf);
    return !expired;
}

bool fc_store_set_expire(fc_store *s, const char *key, size_t klen, int64_t expire_at,
                         int64_t now_ms)
{
    uint64_t h;
    fc_kleaf *leaf;
    fc_entry **link = lookup(s, key, klen, now_ms, &h, &leaf);
    if (!link)
        return false;
    fc_entry *e = *link;
    if (expire_at != FC_NO_EXPIRE && !(e->meta & FC_META_EXP)) {
        e = reshape(s, leaf, link, true, fc_entry_vlen(e), NULL, 0);
        if (!e)
            return false; /* out of memory: reported as not set */
    }
    entry_set_expire(s, leaf, e, expire_at);
    return true;
}

int fc_store_rename(fc_store *s, const char *src, size_t slen, const char *dst, size_t dlen,
                    bool nx, int64_t now_ms)
{
    uint64_t hs, hd;
    fc_kleaf *sl, *dl;
    if (!lookup(s, src, slen, now_ms, &hs, &sl))
        return -ENOENT;
    if (slen == dlen && memcmp(src, dst, slen) == 0)
        return nx ? -EEXIST : 0;
    fc_entry **dlink = lookup(s, dst, dlen, now_ms, &hd, &dl);
    if (dlink && nx)
        return -EEXIST;
    fc_entry *se = *fc_kt_find(&s->kt, src, slen, hs, &sl);
    fc_entry *ne = entry_create(s, dst, dlen, fc_entry_val(se), fc_entry_vlen(se),
                                fc_entry_expire(se), false, 0);
    if (!ne)
        return -ENOMEM;
    fc_entry_set_clock(ne, fc_entry_clock(se));
    if (dlink) { /* the new entry takes the old one's place in its chain */
        fc_entry *de = *dlink;
        ne->next = de->next;
        *dlink = ne;
        fc_kt_expire_changed(&s->kt, dl, fc_entry_expire(de), fc_entry_expire(ne));
        fc_store_entry_free(s, de);
    } else if (!insert(s, ne, hd)) {
        return -ENOMEM;
    }
    fc_store_count_ns(s, dst, dlen, offsetof(fc_ns_stats, sets));
    fc_entry **slink = fc_kt_find(&s->kt, src, slen, hs, &sl);
    fc_store_delete_link(s, sl, slink);
    fc_kt_tidy(&s->kt, sl);
    return 0;
}

size_t fc_store_size(const fc_store *s)
{
    return s->kt.root->count;
}

size_t fc_store_volatile_size(const fc_store *s)
{
    return s->kt.root->vol;
}

size_t fc_store_bytes(const fc_store *s)
{
    return sizeof(*s) + s->entry_bytes + s->kt.meta_bytes;
}

typedef struct scan_ctx {
    fc_store *s;
    int64_t now_ms;
    fc_store_visit_fn *fn;
    void *ctx;
    fc_entry *expired[SCAN_REAP_MAX];
    size_t nexpired;
} scan_ctx;

/* Counts a read lookup of e, as fc_store_get does (without touching the eviction clock: Redis's
 * SCAN reads types with LOOKUP_NOTOUCH). */
static void count_lookup(fc_store *s, const fc_entry *e, bool hit)
{
    if (hit)
        s->stats.hits++;
    else
        s->stats.misses++;
    fc_store_count_ns(s, fc_entry_key(e), fc_entry_klen(e),
                      hit ? offsetof(fc_ns_stats, hits) : offsetof(fc_ns_stats, misses));
}

static void scan_bucket(void *arg, fc_entry **head)
{
    scan_ctx *c = arg;
    for (fc_entry *e = *head; e; e = e->next) {
        bool expired = fc_entry_is_expired(e, c->now_ms);
        fc_entry_view v;
        fill_view(e, &v);
        unsigned ask = c->fn(c->ctx, &v, expired);
        if (ask & FC_VISIT_LOOKUP)
            count_lookup(c->s, e, !expired);
        if (expired && (ask & FC_VISIT_REAP) && c->nexpired < SCAN_REAP_MAX)
            c->expired[c->nexpired++] = e;
    }
}

/* Deletes the expired entries a scan step met (all in leaf l). */
static void reap_met(fc_store *s, fc_kleaf *l, scan_ctx *c)
{
    for (size_t i = 0; i < c->nexpired; i++) {
        fc_entry *e = c->expired[i];
        const char *key = fc_entry_key(e);
        size_t klen = fc_entry_klen(e);
        fc_kleaf *at;
        fc_entry **link = fc_kt_find(&s->kt, key, klen, fc_kt_hash(&s->kt, key, klen), &at);
        fc_store_delete_link(s, at, link);
        s->stats.expired++;
    }
    if (c->nexpired)
        fc_kt_tidy(&s->kt, l);
}

/*
 * The cursor is a leaf id (high bits) and that leaf's reverse-binary bucket cursor (low
 * SCAN_INNER_BITS). Leaves are visited in id order; a burst moves keys only to leaves with
 * higher ids, and a leaf that vanished is replaced by the next id starting at bucket 0, so no
 * key present for the whole scan is missed.
 */
uint64_t fc_store_scan_visit(fc_store *s, uint64_t cursor, int64_t now_ms, fc_store_visit_fn *fn,
                             void *ctx)
{
    scan_ctx c = {.s = s, .now_ms = now_ms, .fn = fn, .ctx = ctx, .nexpired = 0};
    bool same;
    uint64_t inner = cursor & SCAN_INNER_MASK;
    fc_kleaf *l = fc_kt_leaf_from(&s->kt, cursor >> SCAN_INNER_BITS, &same);
    if (!l)
        return 0;
    uint64_t id = l->id;
    uint64_t next = fc_dict_scan(&l->d, same ? inner : 0, scan_bucket, &c);
    reap_met(s, l, &c); /* may free l */
    if (next != 0)
        return id << SCAN_INNER_BITS | next;
    l = fc_kt_leaf_from(&s->kt, id + 1, &same);
    return l ? l->id << SCAN_INNER_BITS : 0;
}

/* fc_store_scan's callback and context, as a visit callback. */
typedef struct live_visit {
    fc_store_scan_fn *fn;
    void *ctx;
} live_visit;

static unsigned visit_live(void *arg, const fc_entry_view *e, bool expired)
{
    live_visit *lv = arg;
    if (expired)
        return FC_VISIT_REAP;
    lv->fn(lv->ctx, e);
    return 0;
}

uint64_t fc_store_scan(fc_store *s, uint64_t cursor, int64_t now_ms, fc_store_scan_fn *fn,
                       void *ctx)
{
    live_visit lv = {fn, ctx};
    return fc_store_scan_visit(s, cursor, now_ms, visit_live, &lv);
}

/* The link of a random entry of the non-empty chain at *head. */
static fc_entry **pick_in_chain(fc_entry **head, uint64_t r)
{
    size_t len = 0;
    for (fc_entry *e = *head; e; e = e->next)
        len++;
    fc_entry **link = head;
    for (size_t i = (size_t)(r % len); i > 0; i--)
        link = &(*link)->next;
    return link;
}

static uint64_t next_rnd(void *arg)
{
    uint64_t *r = arg;
    *r = fc_hash_mix64(*r + 0x9E3779B97F4A7C15ull);
    return *r;
}

/* Deletes the expired entry at *link of leaf l (which may go). */
static void reap_one(fc_store *s, fc_kleaf *l, fc_entry **link)
{
    fc_store_delete_link(s, l, link);
    s->stats.expired++;
    fc_kt_tidy(&s->kt, l);
}

/* Fallback when random picks keep finding expired keys: the first live entry in leaf order,
 * deleting the expired entries before it (after a mass free, glibc merges them now: reclaim.c). */
static fc_entry *first_live(fc_store *s, int64_t now_ms)
{
    bool same;
    fc_entry *found = NULL;
    size_t total = 0;
    for (fc_kleaf *l = fc_kt_leaf_from(&s->kt, 0, &same); l && !found;) {
        uint64_t id = l->id;
        size_t reaped = 0;
        for (size_t i = 0; i < l->d.t[0].size && !found; i++) {
            reaped += fc_store_reap_chain(s, l, &l->d.t[0].b[i], now_ms);
            found = l->d.t[0].b[i];
        }
        if (reaped)
            fc_kt_tidy(&s->kt, l); /* may free l; entries do not move */
        total += reaped;
        l = found ? NULL : fc_kt_leaf_from(&s->kt, id + 1, &same);
    }
    if (total)
        fc_store_consolidate_freed();
    return found;
}

bool fc_store_random(fc_store *s, int64_t now_ms, uint64_t rnd, fc_entry_view *out)
{
    fc_entry *e = NULL;
    uint64_t r = rnd;
    for (int i = 0; i < RANDOM_TRIES && !e && fc_store_size(s) > 0; i++) {
        fc_kleaf *l = fc_kt_random_leaf(&s->kt, next_rnd, &r);
        if (!l || l->d.t[0].size == 0)
            continue;
        fc_entry **head = &l->d.t[0].b[next_rnd(&r) & (l->d.t[0].size - 1)];
        if (!*head)
            continue;
        fc_entry **link = pick_in_chain(head, next_rnd(&r) >> 32);
        if (fc_entry_is_expired(*link, now_ms))
            reap_one(s, l, link);
        else
            e = *link;
    }
    if (!e && fc_store_size(s) > 0)
        e = first_live(s, now_ms);
    if (!e)
        return false;
    fill_view(e, out);
    return true;
}

const fc_store_stats *fc_store_get_stats(const fc_store *s)
{
    return &s->stats;
}

void fc_store_reset_stats(fc_store *s)
{
    memset(&s->stats, 0, sizeof(s->stats));
}

void fc_store_set_nstab(fc_store *s, fc_nstab *t)
{
    s->ns = t;
}

size_t fc_store_count_prefix(fc_store *s, const char *prefix, size_t len)
{
    fc_kleaf *partial;
    fc_kbase *x = fc_kt_prefix(&s->kt, prefix, len, &partial);
    if (x)
        return fc_kt_count(x);
    size_t n = 0;
    for (size_t i = 0; partial && i < partial->d.t[0].size; i++)
        for (fc_entry *e = partial->d.t[0].b[i]; e; e = e->next)
            n += fc_kt_has_prefix(e, prefix, len);
    return n;
}
