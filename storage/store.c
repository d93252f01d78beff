/*
 * store — the keyspace API over dict.c: lookups with lazy expiry, writes that copy key and value
 * into one allocation per entry (entry.h), cursor scans, random keys and pattern invalidation.
 *
 * Every public operation first does one incremental rehash step, so a resize finishes after
 * about as many operations as the old table had buckets. Tables shrink only at points where no
 * link into a chain is held (after deletes, never inside a bucket walk).
 *
 * Entries are rewritten in place when the new layout fits the allocation (malloc_usable_size)
 * without wasting more than about half of it; otherwise a new entry replaces the old one in its
 * chain. Values grown through fc_store_resize_value get slack (doubling up to 1 MiB extra) so a
 * run of APPENDs is amortised O(1) per byte.
 */
#include <errno.h>
#include <string.h>

#include "storage/glob.h"
#include "storage/hash.h"
#include "storage/store_internal.h"

#define MAX_SLACK (1u << 20)
#define RANDOM_TRIES 256
#define SCAN_REAP_MAX 64

fc_store *fc_store_new(uint64_t seed)
{
    fc_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    fc_dict_init(&s->d, seed);
    s->samples = FC_EVICT_DEFAULT_SAMPLES;
    s->rng = seed ^ 0x2545F4914F6CDD1Dull;
    return s;
}

/* glibc: a chunk costs its usable size plus one 8-byte size header (see fc_store_bytes). */
static size_t chunk_bytes(void *p)
{
    return malloc_usable_size(p) + 8;
}

/* Frees the entries of one bucket of a detached table, at most *budget of them (each costs 1;
 * an empty bucket costs 1 too). Returns true when the bucket is empty. */
static bool reclaim_bucket(fc_store *s, fc_entry **head, size_t *budget)
{
    fc_entry *e = *head;
    if (!e) {
        (*budget)--;
        return true;
    }
    while (e && *budget > 0) {
        fc_entry *next = e->next;
        s->reclaim_bytes -= chunk_bytes(e);
        free(e);
        e = next;
        (*budget)--;
    }
    *head = e;
    return e == NULL;
}

/* Frees the table of the list head and the node once all its buckets are empty. */
static void reclaim_pop(fc_store *s)
{
    fc_reclaim *r = s->reclaim;
    s->reclaim_bytes -= r->t.size * sizeof(fc_entry *) + 8 + chunk_bytes(r);
    free(r->t.b);
    s->reclaim = r->next;
    free(r);
}

/*
 * glibc parks freed small chunks in its fastbins without merging them; the next malloc of a
 * large-bin size (>= 1 KiB, past the tcache) first merges every parked chunk at once
 * (malloc_consolidate). After a mass free that is one O(entries) stall at some unrelated later
 * allocation (a new client's buffer): 0.14 s at 1M keys, 1.8 s at 10M, measured by
 * bench/stalls.py. Allocating and freeing one such chunk after each bounded step makes glibc merge
 * only what that step freed.
 */
static void consolidate_freed(void)
{
#ifdef __GLIBC__
    void *volatile p = malloc(4096); /* volatile: the compiler may not drop the pair */
    free(p);
#endif
}

bool fc_store_reclaim_step(fc_store *s, size_t max_work)
{
    size_t budget = max_work;
    while (s->reclaim && budget > 0) {
        fc_reclaim *r = s->reclaim;
        while (r->pos < r->t.size && budget > 0 && reclaim_bucket(s, &r->t.b[r->pos], &budget))
            r->pos++;
        if (r->pos == r->t.size)
            reclaim_pop(s);
    }
    if (budget != max_work)
        consolidate_freed();
    return s->reclaim != NULL;
}

bool fc_store_reclaim_pending(const fc_store *s)
{
    return s->reclaim != NULL;
}

/* Moves *t to the reclaim list (on out-of-memory for the node, frees it here instead) and
 * leaves *t empty. The caller has already moved the entries' bytes to reclaim_bytes. */
static void detach_table(fc_store *s, fc_table *t)
{
    if (t->size == 0)
        return;
    fc_reclaim *r = malloc(sizeof(*r));
    fc_reclaim local;
    r = r ? r : &local;
    *r = (fc_reclaim){s->reclaim, *t, 0};
    *t = (fc_table){NULL, 0};
    if (r != &local) {
        s->reclaim = r;
        s->reclaim_bytes += r->t.size * sizeof(fc_entry *) + 8 + chunk_bytes(r);
        return;
    }
    size_t all = SIZE_MAX;
    for (; r->pos < r->t.size; r->pos++)
        reclaim_bucket(s, &r->t.b[r->pos], &all);
    free(r->t.b);
}

void fc_store_flush(fc_store *s)
{
    s->reclaim_bytes += s->entry_bytes + 8 * s->d.count;
    detach_table(s, &s->d.t[0]);
    detach_table(s, &s->d.t[1]);
    fc_dict_reset(&s->d);
    s->volatile_n = 0;
    s->entry_bytes = 0;
    s->expire_pos = 0;
    s->expire_in_t1 = false;
}

void fc_store_free(fc_store *s)
{
    if (!s)
        return;
    fc_store_flush(s);
    fc_store_reclaim_step(s, SIZE_MAX);
    fc_store_pool_clear(s);
    free(s);
}

static void step(fc_store *s)
{
    if (fc_dict_rehashing(&s->d))
        fc_dict_rehash(&s->d, 1);
}

/* Finds key, deleting it if expired. Returns the link of the live entry or NULL; *h gets the
 * key's hash for a following insert. */
static fc_entry **lookup(fc_store *s, const char *key, size_t klen, int64_t now_ms, uint64_t *h)
{
    step(s);
    *h = fc_dict_hash(&s->d, key, klen);
    fc_entry **link = fc_dict_find(&s->d, key, klen, *h);
    if (link && fc_entry_is_expired(*link, now_ms)) {
        fc_store_delete_link(s, link);
        s->stats.expired++;
        fc_dict_maybe_shrink(&s->d);
        return NULL;
    }
    return link;
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
    fc_entry *e = malloc(hdr + klen + vlen + slack);
    if (!e)
        return NULL;
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
    fc_store_account_add(s, e);
    return e;
}

static bool points_into(const fc_entry *e, const char *p)
{
    const char *base = (const char *)e;
    return p >= base && p < base + malloc_usable_size((void *)e);
}

/*
 * Gives *link the layout (expire slot or not, value length vlen) and value bytes val (NULL: keep
 * the first min(old, new) bytes and zero the rest), in place when it fits, else in a new
 * allocation with slack extra bytes that replaces the old entry in its chain. The expire slot
 * keeps its value when it survives and starts at FC_NO_EXPIRE when added. Returns the entry or
 * NULL on out-of-memory (nothing changed).
 */
static fc_entry *reshape(fc_store *s, fc_entry **link, bool has_exp, size_t vlen,
                         const char *val, size_t slack)
{
    fc_entry *e = *link;
    size_t klen = fc_entry_klen(e), ovlen = fc_entry_vlen(e);
    size_t keep = ovlen < vlen ? ovlen : vlen;
    int64_t exp = fc_entry_expire(e);
    uint8_t meta = fc_meta_make(has_exp, klen, vlen);
    size_t ohdr = fc_meta_hdr(e->meta), hdr = fc_meta_hdr(meta);
    size_t need = hdr + klen + vlen, usable = malloc_usable_size(e);

    if (vlen > SIZE_MAX / 4)
        return NULL;
    if (need <= usable && usable <= 2 * need + 64 && !(val && points_into(e, val))) {
        fc_store_account_sub(s, e);
        memmove((char *)e + hdr, (char *)e + ohdr, klen + keep);
        if (has_exp)
            fc_entry_write_expire(e, exp); /* FC_NO_EXPIRE when the slot is new */
        write_header(e, meta, klen, vlen);
        if (val && vlen)
            memmove((char *)e + hdr + klen, val, vlen);
        else
            memset((char *)e + hdr + klen + keep, 0, vlen - keep);
        fc_store_account_add(s, e);
        return e;
    }
    fc_entry *ne = entry_create(s, fc_entry_key(e), klen, val, vlen,
                                has_exp ? exp : FC_NO_EXPIRE, has_exp, slack);
    if (!ne)
        return NULL;
    if (!val && keep)
        memcpy(fc_entry_val(ne), fc_entry_val(e), keep);
    fc_entry_set_clock(ne, fc_entry_clock(e));
    ne->next = e->next;
    *link = ne;
    fc_store_account_sub(s, e);
    free(e);
    return ne;
}

/* Sets the expiry of e, which must have the slot unless at is FC_NO_EXPIRE. */
static void entry_set_expire(fc_store *s, fc_entry *e, int64_t at)
{
    int64_t old = fc_entry_expire(e);
    if (!(e->meta & FC_META_EXP))
        return; /* at is FC_NO_EXPIRE, nothing to store */
    s->volatile_n += (at != FC_NO_EXPIRE) - (old != FC_NO_EXPIRE);
    fc_entry_write_expire(e, at);
}

bool fc_store_get(fc_store *s, const char *key, size_t klen, int64_t now_ms, unsigned flags,
                  fc_entry_view *out)
{
    uint64_t h;
    fc_entry **link = lookup(s, key, klen, now_ms, &h);
    if (!(flags & FC_LOOKUP_NOSTATS)) {
        if (link)
            s->stats.hits++;
        else
            s->stats.misses++;
        fc_ns_stats *ns = s->ns ? fc_nstab_lookup(s->ns, key, klen) : NULL;
        if (ns)
            *(link ? &ns->hits : &ns->misses) += 1;
    }
    if (!link)
        return false;
    if (s->policy != FC_EVICT_NOEVICTION)
        fc_store_touch(s, *link, now_ms, false);
    fill_view(*link, out);
    return true;
}

static void count_set(fc_store *s, const char *key, size_t klen)
{
    fc_ns_stats *ns = s->ns ? fc_nstab_lookup(s->ns, key, klen) : NULL;
    if (ns)
        ns->sets++;
}

int fc_store_set(fc_store *s, const char *key, size_t klen, const char *val, size_t vlen,
                 int64_t expire_at, bool keep_ttl, int64_t now_ms)
{
    uint64_t h;
    step(s);
    count_set(s, key, klen);
    h = fc_dict_hash(&s->d, key, klen);
    fc_entry **link = fc_dict_find(&s->d, key, klen, h);
    if (!link) {
        fc_entry *e = entry_create(s, key, klen, val, vlen, expire_at, false, 0);
        if (!e)
            return -ENOMEM;
        fc_dict_insert(&s->d, e, h);
        fc_store_touch(s, e, now_ms, true);
        return 0;
    }
    bool live = !fc_entry_is_expired(*link, now_ms);
    int64_t exp = (keep_ttl && live) ? fc_entry_expire(*link) : expire_at;
    fc_entry *e = reshape(s, link, exp != FC_NO_EXPIRE, vlen, val, 0);
    if (!e)
        return -ENOMEM;
    if (!live)
        s->stats.expired++;
    entry_set_expire(s, e, exp);
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
    fc_entry **link = lookup(s, key, klen, now_ms, &h);
    if (!link) {
        fc_entry *e = entry_create(s, key, klen, NULL, newlen, expire_if_created, false, 0);
        if (!e)
            return NULL;
        fc_dict_insert(&s->d, e, h);
        fc_store_touch(s, e, now_ms, true);
        return fc_entry_val(e);
    }
    fc_entry *old = *link;
    size_t slack = newlen > fc_entry_vlen(old) ? grow_slack(klen + newlen) : 0;
    fc_entry *e = reshape(s, link, old->meta & FC_META_EXP, newlen, NULL, slack);
    if (e)
        fc_store_touch(s, e, now_ms, false);
    return e ? fc_entry_val(e) : NULL;
}

bool fc_store_del(fc_store *s, const char *key, size_t klen, int64_t now_ms)
{
    step(s);
    uint64_t h = fc_dict_hash(&s->d, key, klen);
    fc_entry **link = fc_dict_find(&s->d, key, klen, h);
    if (!link)
        return false;
    bool expired = fc_entry_is_expired(*link, now_ms);
    fc_store_delete_link(s, link);
    if (expired)
        s->stats.expired++;
    fc_dict_maybe_shrink(&s->d);
    return !expired;
}

bool fc_store_set_expire(fc_store *s, const char *key, size_t klen, int64_t expire_at,
                         int64_t now_ms)
{
    uint64_t h;
    fc_entry **link = lookup(s, key, klen, now_ms, &h);
    if (!link)
        return false;
    fc_entry *e = *link;
    if (expire_at != FC_NO_EXPIRE && !(e->meta & FC_META_EXP)) {
        e = reshape(s, link, true, fc_entry_vlen(e), NULL, 0);
        if (!e)
            return false; /* out of memory: reported as not set */
    }
    entry_set_expire(s, e, expire_at);
    return true;
}

int fc_store_rename(fc_store *s, const char *src, size_t slen, const char *dst, size_t dlen,
                    bool nx, int64_t now_ms)
{
    uint64_t hs, hd;
    if (!lookup(s, src, slen, now_ms, &hs))
        return -ENOENT;
    if (slen == dlen && memcmp(src, dst, slen) == 0)
        return nx ? -EEXIST : 0;
    fc_entry **dlink = lookup(s, dst, dlen, now_ms, &hd);
    if (dlink && nx)
        return -EEXIST;
    /* The second lookup may have moved src's bucket: find it again (no rehash step here). */
    fc_entry **slink = fc_dict_find(&s->d, src, slen, hs);
    fc_entry *se = *slink;
    fc_entry *ne = entry_create(s, dst, dlen, fc_entry_val(se), fc_entry_vlen(se),
                                fc_entry_expire(se), false, 0);
    if (!ne)
        return -ENOMEM;
    fc_entry_set_clock(ne, fc_entry_clock(se));
    if (dlink) {
        fc_entry *de = *dlink;
        ne->next = de->next;
        *dlink = ne;
        fc_store_account_sub(s, de);
        free(de);
    } else {
        fc_dict_insert(&s->d, ne, hd);
    }
    slink = fc_dict_find(&s->d, src, slen, hs);
    fc_store_delete_link(s, slink);
    fc_dict_maybe_shrink(&s->d);
    return 0;
}

size_t fc_store_size(const fc_store *s)
{
    return s->d.count;
}

size_t fc_store_volatile_size(const fc_store *s)
{
    return s->volatile_n;
}

size_t fc_store_bytes(const fc_store *s)
{
    /* glibc: a chunk is its usable size plus one 8-byte size header. */
    size_t tables = fc_dict_table_bytes(&s->d) + 8 * (s->d.t[0].size != 0) +
                    8 * (s->d.t[1].size != 0);
    return sizeof(*s) + s->entry_bytes + 8 * s->d.count + tables + s->reclaim_bytes;
}

typedef struct scan_ctx {
    int64_t now_ms;
    fc_store_scan_fn *fn;
    void *ctx;
    fc_entry *expired[SCAN_REAP_MAX];
    size_t nexpired;
} scan_ctx;

static void scan_bucket(void *arg, fc_entry **head)
{
    scan_ctx *c = arg;
    for (fc_entry *e = *head; e; e = e->next) {
        if (fc_entry_is_expired(e, c->now_ms)) {
            if (c->nexpired < SCAN_REAP_MAX)
                c->expired[c->nexpired++] = e;
            continue;
        }
        fc_entry_view v;
        fill_view(e, &v);
        c->fn(c->ctx, &v);
    }
}

uint64_t fc_store_scan(fc_store *s, uint64_t cursor, int64_t now_ms, fc_store_scan_fn *fn,
                       void *ctx)
{
    scan_ctx c = {.now_ms = now_ms, .fn = fn, .ctx = ctx, .nexpired = 0};
    uint64_t next = fc_dict_scan(&s->d, cursor, scan_bucket, &c);
    /* The callbacks are done: reclaim the expired entries met on the way. */
    for (size_t i = 0; i < c.nexpired; i++) {
        fc_entry *e = c.expired[i];
        const char *key = fc_entry_key(e);
        size_t klen = fc_entry_klen(e);
        fc_entry **link = fc_dict_find(&s->d, key, klen, fc_dict_hash(&s->d, key, klen));
        fc_store_delete_link(s, link);
        s->stats.expired++;
    }
    if (c.nexpired)
        fc_dict_maybe_shrink(&s->d);
    return next;
}

/* Picks a random entry of the chain at head; NULL when that entry is expired. */
static fc_entry *pick_in_chain(fc_entry *head, uint64_t r, int64_t now_ms)
{
    size_t len = 0;
    for (fc_entry *e = head; e; e = e->next)
        len++;
    fc_entry *e = head;
    for (size_t i = (size_t)(r % len); i > 0; i--)
        e = e->next;
    return fc_entry_is_expired(e, now_ms) ? NULL : e;
}

static fc_entry *random_bucket_head(fc_dict *d, uint64_t r)
{
    size_t s0 = d->t[0].size, s1 = d->t[1].size;
    size_t i = (size_t)(r % (s0 + s1));
    return i < s0 ? d->t[0].b[i] : d->t[1].b[i - s0];
}

/* Fallback when random probes keep finding expired keys: the first live entry in bucket order
 * from a random start. */
static fc_entry *first_live_from(fc_dict *d, uint64_t r, int64_t now_ms)
{
    size_t total = d->t[0].size + d->t[1].size;
    for (size_t k = 0; k < total; k++) {
        for (fc_entry *e = random_bucket_head(d, r + k); e; e = e->next)
            if (!fc_entry_is_expired(e, now_ms))
                return e;
    }
    return NULL;
}

bool fc_store_random(fc_store *s, int64_t now_ms, uint64_t rnd, fc_entry_view *out)
{
    fc_entry *e = NULL;
    if (s->d.count == 0)
        return false;
    uint64_t r = rnd;
    for (int i = 0; i < RANDOM_TRIES && !e; i++) {
        r = fc_hash_mix64(r);
        fc_entry *head = random_bucket_head(&s->d, r);
        if (head)
            e = pick_in_chain(head, r >> 32, now_ms);
    }
    if (!e)
        e = first_live_from(&s->d, rnd, now_ms);
    if (!e)
        return false;
    fill_view(e, out);
    return true;
}

typedef bool key_pred(const void *ctx, const char *key, size_t klen);

/* Deletes every entry that is expired (not counted) or live and matching (counted). */
static size_t delete_matching(fc_store *s, key_pred *pred, const void *ctx, int64_t now_ms)
{
    size_t n = 0;
    for (int ti = 0; ti < 2; ti++) {
        fc_table *t = &s->d.t[ti];
        for (size_t i = 0; i < t->size; i++) {
            fc_entry **link = &t->b[i];
            while (*link) {
                fc_entry *e = *link;
                bool expired = fc_entry_is_expired(e, now_ms);
                if (expired || pred(ctx, fc_entry_key(e), fc_entry_klen(e))) {
                    fc_store_delete_link(s, link);
                    n += !expired;
                    s->stats.expired += expired;
                } else {
                    link = &e->next;
                }
            }
        }
    }
    fc_dict_maybe_shrink(&s->d);
    return n;
}

typedef struct pattern {
    const char *p;
    size_t len;
} pattern;

static bool prefix_pred(const void *ctx, const char *key, size_t klen)
{
    const pattern *pat = ctx;
    return klen >= pat->len && memcmp(key, pat->p, pat->len) == 0;
}

static bool glob_pred(const void *ctx, const char *key, size_t klen)
{
    const pattern *pat = ctx;
    return fc_glob_match(pat->p, pat->len, key, klen, false);
}

/* Prefix patterns have their own path: a later change indexes namespaces to make it O(1). */
static size_t invalidate_prefix(fc_store *s, const char *prefix, size_t len, int64_t now_ms)
{
    pattern p = {prefix, len};
    return delete_matching(s, prefix_pred, &p, now_ms);
}

size_t fc_store_invalidate(fc_store *s, const char *pat, size_t plen, int64_t now_ms)
{
    size_t prefix_len;
    if (fc_glob_is_prefix(pat, plen, &prefix_len))
        return invalidate_prefix(s, pat, prefix_len, now_ms);
    pattern p = {pat, plen};
    return delete_matching(s, glob_pred, &p, now_ms);
}

bool fc_store_rehash_step(fc_store *s, size_t n)
{
    if (!fc_dict_rehashing(&s->d))
        fc_dict_maybe_shrink(&s->d);
    if (fc_dict_rehash(&s->d, n))
        return true;
    fc_dict_maybe_shrink(&s->d); /* a finished rehash may leave a table worth shrinking */
    return fc_dict_rehashing(&s->d);
}

const fc_store_stats *fc_store_get_stats(const fc_store *s)
{
    return &s->stats;
}

void fc_store_set_nstab(fc_store *s, fc_nstab *t)
{
    s->ns = t;
}

/* Placeholder walk until the keyspace is indexed by prefix. */
size_t fc_store_count_prefix(fc_store *s, const char *prefix, size_t len)
{
    size_t n = 0;
    for (int ti = 0; ti < 2; ti++)
        for (size_t i = 0; i < s->d.t[ti].size; i++)
            for (fc_entry *e = s->d.t[ti].b[i]; e; e = e->next)
                n += fc_entry_klen(e) >= len && memcmp(fc_entry_key(e), prefix, len) == 0;
    return n;
}
