/*
 * reclaim — what happens after keys leave the index all at once: FLUSHDB/FLUSHALL and INVALIDATE.
 *
 *   prefix INVALIDATE ─► fc_kt_detach(subtree)  ─┐  O(prefix length): count known from the trie
 *   FLUSH             ─► fc_kt_detach_all()      ─┼─► reclaim stack ─► freed in bounded steps
 *   glob INVALIDATE   ─► glob job (leaf by leaf) ─┘                    (fc_store_reclaim_step)
 *
 * A detached subtree is invisible at once; its entries are freed later, newest detach first, so
 * a small INVALIDATE waiting on its count is not queued behind a big flush. The count of a
 * prefix INVALIDATE is the subtree's entry count unless some entry below may have expired (its
 * bound, ktrie.h): then a count job tallies the entries still live at the INVALIDATE's time as
 * they are freed, and reports when the last one is. Until freed, detached bytes still count in
 * fc_store_bytes, as Redis counts what its lazyfree thread holds.
 */
#include <string.h>

#include "storage/glob.h"
#include "storage/store_internal.h"

/* A detached subtree this small is counted at once; a glob whose literal prefix covers this few
 * keys runs at once. Overridable for tests (the fuzz build leaves jobs for a handful of keys). */
#ifndef FC_RECLAIM_SYNC_COUNT
#define FC_RECLAIM_SYNC_COUNT 4096
#endif
#ifndef FC_RECLAIM_SYNC_GLOB
#define FC_RECLAIM_SYNC_GLOB 4096
#endif
#define SYNC_COUNT FC_RECLAIM_SYNC_COUNT
#define SYNC_GLOB FC_RECLAIM_SYNC_GLOB

/*
 * glibc parks freed small chunks in its fastbins without merging them; the next malloc of a
 * large-bin size (>= 1 KiB, past the tcache) first merges every parked chunk at once
 * (malloc_consolidate). After a mass free that is one O(entries) stall at some unrelated later
 * allocation (a new client's buffer): 0.14 s at 1M keys, 1.8 s at 10M, measured by
 * bench/stalls.py. Allocating and freeing one such chunk after each bounded step makes glibc merge
 * only what that step freed. Entries of up to FC_SLAB_MAX bytes now live in slabs (slab.h) and
 * never reach glibc; what a step still frees there is trie leaves, tables and nodes, and larger
 * entries.
 */
void fc_store_consolidate_freed(void)
{
#ifdef __GLIBC__
    void *volatile p = malloc(4096); /* volatile: the compiler may not drop the pair */
    free(p);
#endif
}

static void job_finish(fc_job *j)
{
    j->done(j->ctx, j->n);
    free(j->pat);
    free(j);
}

static void job_release(fc_job *j)
{
    if (j && --j->pending == 0)
        job_finish(j);
}

/* Frees a detached subtree at once (the reclaim node could not be allocated). */
static void free_now(fc_store *s, fc_kbase *x, fc_job *job)
{
    if (!x->leaf) {
        fc_knode *n = (fc_knode *)x;
        for (unsigned i = 0; i < FC_KT_SLOTS; i++)
            if (n->child[i])
                free_now(s, n->child[i], job);
        fc_kt_free_node(&s->kt, n);
        return;
    }
    fc_kleaf *l = (fc_kleaf *)x;
    for (int ti = 0; ti < 2; ti++)
        for (size_t i = 0; i < l->d.t[ti].size; i++)
            for (fc_entry *e = l->d.t[ti].b[i], *next; e; e = next) {
                next = e->next;
                if (job && !fc_entry_is_expired(e, job->at))
                    job->n++;
                fc_store_entry_free(s, e);
            }
    l->d.count = 0;
    fc_kt_free_leaf(&s->kt, l);
}

void fc_store_reclaim_push(fc_store *s, fc_kbase *x, fc_job *job)
{
    fc_reclaim *r = malloc(sizeof(*r));
    x->parent = NULL;
    if (!r) {
        free_now(s, x, job);
        return;
    }
    /* Items feeding a count go first: a deferred INVALIDATE reply never waits for a flush. */
    fc_reclaim **at = &s->reclaim;
    while (!job && *at && (*at)->job)
        at = &(*at)->next;
    *r = (fc_reclaim){*at, x, 0, job};
    if (job)
        job->pending++;
    *at = r;
    s->kt.meta_bytes += fc_chunk_bytes(r);
}

static void reclaim_pop(fc_store *s)
{
    fc_reclaim *r = s->reclaim;
    s->reclaim = r->next;
    s->kt.meta_bytes -= fc_chunk_bytes(r);
    fc_job *job = r->job;
    free(r);
    job_release(job);
}

/* A node: its children become items of their own, then it goes. Costs one unit plus one per
 * child, taken from *budget down to 0 (never below: the caller's loop stops at 0). */
static void step_node(fc_store *s, size_t *budget)
{
    fc_reclaim *r = s->reclaim;
    fc_knode *n = (fc_knode *)r->x;
    fc_job *job = r->job;
    size_t cost = 1;
    if (job)
        job->pending++; /* alive across the pop */
    reclaim_pop(s);
    for (unsigned i = 0; i < FC_KT_SLOTS; i++) {
        if (n->child[i]) {
            fc_store_reclaim_push(s, n->child[i], job);
            cost++;
        }
    }
    fc_kt_free_node(&s->kt, n);
    *budget = cost < *budget ? *budget - cost : 0;
    job_release(job);
}

/* Frees up to *budget entries of one chain; true when it is empty. */
static bool free_chain(fc_store *s, fc_entry **head, fc_job *job, size_t *budget)
{
    fc_entry *e = *head;
    if (!e) {
        (*budget)--;
        return true;
    }
    for (; e && *budget > 0; (*budget)--) {
        fc_entry *next = e->next;
        if (job && !fc_entry_is_expired(e, job->at))
            job->n++;
        fc_store_entry_free(s, e);
        e = next;
    }
    *head = e;
    return e == NULL;
}

static void step_leaf(fc_store *s, size_t *budget)
{
    fc_reclaim *r = s->reclaim;
    fc_kleaf *l = (fc_kleaf *)r->x;
    size_t s0 = l->d.t[0].size, total = s0 + l->d.t[1].size;
    while (r->pos<total && * budget> 0) {
        fc_entry **head = r->pos < s0 ? &l->d.t[0].b[r->pos] : &l->d.t[1].b[r->pos - s0];
        if (free_chain(s, head, r->job, budget))
            r->pos++;
    }
    if (r->pos < total)
        return;
    l->d.count = 0;
    fc_kt_free_leaf(&s->kt, l);
    reclaim_pop(s);
}

bool fc_store_reclaim_step(fc_store *s, size_t max_work)
{
    size_t budget = max_work;
    if (s->globs)
        fc_store_glob_step(s, &budget);
    while (s->reclaim && budget > 0) {
        if (s->reclaim->x->leaf)
            step_leaf(s, &budget);
        else
            step_node(s, &budget);
    }
    if (budget != max_work)
        fc_store_consolidate_freed();
    return fc_store_reclaim_pending(s);
}

bool fc_store_reclaim_pending(const fc_store *s)
{
    return s->reclaim != NULL || s->globs != NULL;
}

void fc_store_flush(fc_store *s)
{
    fc_knode *old = fc_kt_detach_all(&s->kt);
    if (!old) { /* no memory for a fresh root: empty the old one in place */
        for (unsigned i = 0; i < FC_KT_SLOTS; i++)
            if (s->kt.root->child[i])
                free_now(s, s->kt.root->child[i], NULL);
        memset(s->kt.root->child, 0, sizeof(s->kt.root->child));
        s->kt.root->count = s->kt.root->vol = 0;
        return;
    }
    fc_store_reclaim_push(s, &old->b, NULL);
    s->expire_leaf = 0;
    s->expire_pos = 0;
}

/* ---- INVALIDATE ---- */

/* Live entries below x at time at (x holds at most SYNC_COUNT). */
static size_t count_live(const fc_kbase *x, int64_t at)
{
    size_t n = 0;
    if (!x->leaf) {
        const fc_knode *nd = (const fc_knode *)x;
        for (unsigned i = 0; i < FC_KT_SLOTS; i++)
            if (nd->child[i])
                n += count_live(nd->child[i], at);
        return n;
    }
    const fc_kleaf *l = (const fc_kleaf *)x;
    for (size_t i = 0; i < l->d.t[0].size; i++)
        for (const fc_entry *e = l->d.t[0].b[i]; e; e = e->next)
            n += !fc_entry_is_expired(e, at);
    return n;
}

static uint64_t count_cb(void *ctx, const char *p, size_t len)
{
    return fc_store_count_prefix(ctx, p, len);
}

/* Deletes the entries of leaf l that start with p (or are expired: not counted). */
static size_t delete_in_leaf(fc_store *s, fc_kleaf *l, const char *p, size_t plen, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < l->d.t[0].size; i++) {
        fc_entry **link = &l->d.t[0].b[i];
        while (*link) {
            fc_entry *e = *link;
            bool expired = fc_entry_is_expired(e, now);
            if (!expired && !fc_kt_has_prefix(e, p, plen)) {
                link = &e->next;
                continue;
            }
            if (!expired)
                fc_store_count_ns(s, fc_entry_key(e), fc_entry_klen(e),
                                  offsetof(fc_ns_stats, invalidations));
            fc_store_delete_link(s, l, link);
            n += !expired;
            s->stats.expired += expired;
        }
    }
    fc_kt_tidy(&s->kt, l);
    return n;
}

/* Takes x out of the index (the whole keyspace when x is the root). Returns what to reclaim, or
 * NULL when the root could not be replaced and was emptied in place. */
static fc_kbase *take_out(fc_store *s, fc_kbase *x)
{
    if (x != &s->kt.root->b) {
        fc_kt_detach(&s->kt, x);
        return x;
    }
    fc_knode *old = fc_kt_detach_all(&s->kt);
    if (!old) {
        fc_store_flush(s); /* empties in place */
        return NULL;
    }
    s->expire_leaf = 0;
    s->expire_pos = 0;
    return &old->b;
}

static fc_job *job_new(fc_store_done_fn *done, void *ctx, int64_t at)
{
    fc_job *j = calloc(1, sizeof(*j));
    if (j) {
        j->done = done;
        j->ctx = ctx;
        j->at = at;
    }
    return j;
}

static bool invalidate_prefix(fc_store *s, const char *p, size_t plen, int64_t now,
                              fc_store_done_fn *done, void *ctx, size_t *n)
{
    fc_kleaf *partial;
    fc_kbase *x = fc_kt_prefix(&s->kt, p, plen, &partial);
    *n = partial ? delete_in_leaf(s, partial, p, plen, now) : 0;
    if (!x)
        return true;
    if (s->ns)
        fc_nstab_note_invalidate(s->ns, p, plen, count_cb, s);
    size_t cnt = fc_kt_count(x);
    fc_job *job = NULL;
    if (fc_kt_vol(x) != 0 && fc_kt_min_exp(x) < now) { /* some may have expired */
        if (cnt <= SYNC_COUNT || !(job = job_new(done, ctx, now)))
            cnt = count_live(x, now); /* small, or no memory for a job: count now */
    }
    x = take_out(s, x);
    if (x)
        fc_store_reclaim_push(s, x, job);
    if (job && x)
        return false;
    free(job);
    *n = cnt;
    return true;
}

/* ---- glob INVALIDATE: a job walking the leaves whose keys may match ---- */

/* Length of the literal start of a glob (up to its first special character). */
static size_t literal_len(const char *pat, size_t plen)
{
    size_t i = 0;
    while (i < plen && !strchr("*?[\\", pat[i]))
        i++;
    return i;
}

/* Whether some key of leaf l may start with lit. */
static bool leaf_may_match(const fc_kleaf *l, const char *lit, size_t len)
{
    const fc_knode *p = l->b.parent;
    size_t d = p->depth, m = len < d ? len : d;
    if (m && memcmp(lit, p->path, m) != 0)
        return false;
    if (len <= d)
        return true;
    return l->b.pslot != FC_KT_END && (unsigned char)lit[d] == l->b.pslot;
}

typedef struct glob_walk {
    fc_store *s;
    fc_kleaf *l;
    fc_job *j;
    size_t work;
} glob_walk;

static void glob_bucket(void *arg, fc_entry **link)
{
    glob_walk *w = arg;
    while (*link) {
        fc_entry *e = *link;
        bool expired = fc_entry_is_expired(e, w->j->at);
        w->work++;
        if (!expired &&
            !fc_glob_match(w->j->pat, w->j->plen, fc_entry_key(e), fc_entry_klen(e), false)) {
            link = &e->next;
            continue;
        }
        if (!expired)
            fc_store_count_ns(w->s, fc_entry_key(e), fc_entry_klen(e),
                              offsetof(fc_ns_stats, invalidations));
        fc_store_delete_link(w->s, w->l, link);
        w->j->n += !expired;
        w->s->stats.expired += expired;
    }
}

/* Runs job j over leaf l from j->pos for about *budget units; true when the leaf is done (then
 * j->pos is 0). Tidies l, which may free it. */
static bool glob_leaf(fc_store *s, fc_job *j, fc_kleaf *l, size_t *budget)
{
    glob_walk w = {s, l, j, 1};
    do
        j->pos = fc_dict_scan(&l->d, j->pos, glob_bucket, &w);
    while (j->pos != 0 && w.work < *budget);
    *budget = w.work < *budget ? *budget - w.work : 0;
    fc_kt_tidy(&s->kt, l);
    return j->pos == 0;
}

/* Advances job j by about *budget units over the leaves in id order; true when it has visited
 * every leaf. */
static bool glob_run(fc_store *s, fc_job *j, size_t *budget)
{
    while (*budget > 0) {
        bool same;
        fc_kleaf *l = fc_kt_leaf_from(&s->kt, j->leaf, &same);
        if (!l)
            return true;
        if (!same)
            j->pos = 0;
        j->leaf = l->id;
        if (!leaf_may_match(l, j->pat, j->lit)) {
            j->leaf++;
            (*budget)--;
            continue;
        }
        if (glob_leaf(s, j, l, budget))
            j->leaf++;
    }
    return false;
}

/* Writes the ids of the leaves under x into ids[0..cap); returns how many there are. */
static size_t subtree_leaf_ids(const fc_kbase *x, uint64_t *ids, size_t cap)
{
    if (x->leaf) {
        if (cap > 0)
            ids[0] = ((const fc_kleaf *)x)->id;
        return 1;
    }
    const fc_knode *n = (const fc_knode *)x;
    size_t got = 0;
    for (unsigned i = 0; i < FC_KT_SLOTS; i++)
        if (n->child[i])
            got += subtree_leaf_ids(n->child[i], ids + got, got < cap ? cap - got : 0);
    return got;
}

/* Runs job j at once over the leaves that may hold matches: the one leaf `partial`, or those
 * under x (at most SYNC_GLOB keys, so few leaves), not the whole leaf list. Ids, not pointers:
 * a leaf emptied by the job is freed, with any ancestor left empty. */
static void glob_now(fc_store *s, fc_job *j, fc_kbase *x, fc_kleaf *partial)
{
    uint64_t one, *ids = &one;
    size_t n = 1;
    if (partial)
        one = partial->id;
    else if (!(ids = malloc(fc_kt_count(x) * sizeof(*ids)))) {
        size_t all = SIZE_MAX; /* no memory for the list: walk every leaf */
        glob_run(s, j, &all);
        return;
    } else {
        n = subtree_leaf_ids(x, ids, fc_kt_count(x));
    }
    for (size_t i = 0; i < n; i++) {
        bool same;
        fc_kleaf *l = fc_kt_leaf_from(&s->kt, ids[i], &same);
        size_t all = SIZE_MAX;
        j->pos = 0;
        if (l && same)
            glob_leaf(s, j, l, &all);
    }
    if (ids != &one)
        free(ids);
}

void fc_store_glob_step(fc_store *s, size_t *budget)
{
    while (s->globs && *budget > 0) {
        fc_job *j = s->globs;
        if (!glob_run(s, j, budget))
            return;
        s->globs = j->next;
        job_finish(j);
    }
}

static bool invalidate_glob(fc_store *s, const char *pat, size_t plen, int64_t now,
                            fc_store_done_fn *done, void *ctx, size_t *n)
{
    fc_kleaf *partial;
    size_t lit = literal_len(pat, plen);
    fc_kbase *x = fc_kt_prefix(&s->kt, pat, lit, &partial);
    size_t scope = partial ? partial->d.count : x ? fc_kt_count(x) : 0;
    fc_job *j = job_new(done, ctx, now);
    *n = 0;
    if (j && scope > 0 && !(j->pat = malloc(plen ? plen : 1))) {
        free(j);
        j = NULL;
    }
    if (!j || scope == 0) {
        free(j);
        return true; /* nothing to match, or no memory: nothing deleted */
    }
    memcpy(j->pat, pat, plen);
    j->plen = plen;
    j->lit = lit;
    if (scope > SYNC_GLOB) {
        fc_job **tail = &s->globs;
        while (*tail)
            tail = &(*tail)->next;
        *tail = j;
        return false;
    }
    glob_now(s, j, x, partial);
    *n = j->n;
    free(j->pat);
    free(j);
    return true;
}

bool fc_store_invalidate_start(fc_store *s, const char *pat, size_t plen, int64_t now_ms,
                               fc_store_done_fn *done, void *ctx, size_t *n)
{
    size_t prefix_len;
    if (fc_glob_is_prefix(pat, plen, &prefix_len))
        return invalidate_prefix(s, pat, prefix_len, now_ms, done, ctx, n);
    return invalidate_glob(s, pat, plen, now_ms, done, ctx, n);
}

typedef struct sync_wait {
    bool done;
    size_t n;
} sync_wait;

static void sync_done(void *ctx, size_t n)
{
    sync_wait *w = ctx;
    w->done = true;
    w->n = n;
}

size_t fc_store_invalidate(fc_store *s, const char *pat, size_t plen, int64_t now_ms)
{
    sync_wait w = {false, 0};
    if (fc_store_invalidate_start(s, pat, plen, now_ms, sync_done, &w, &w.n))
        return w.n;
    while (!w.done)
        fc_store_reclaim_step(s, 1u << 16);
    return w.n;
}
