/*
 * evict — approximated LRU / LFU / TTL / random eviction, in Redis's manner: no global order is
 * kept, each eviction samples a few keys and removes the best candidate.
 *
 *   sample N keys (random buckets) ──► score each ──► pool of the 16 best, sorted
 *                                                                              │
 *                      remove the best pool key that still exists  ◄───────────┘
 *
 * The per-entry clock is 11 bits (entry.h: the clk byte plus 3 spare meta bits): one byte per
 * entry.
 *
 * LRU: the clock is logical, not wall time: the store's lru_clock ticks once every
 * 1 + count/128 accesses, so the 2048 values span about 16 times the key count in accesses
 * whatever the request rate (a 1-second wall clock would make every key written in the same
 * second look equally old). An entry's idle score is (lru_clock - clock) mod 2048; an entry idle
 * for longer than the window wraps and looks younger, as Redis's 24-bit clock does after 194 days.
 *
 * LFU: the clk byte is Redis's logarithmic counter (new keys start at 5; an access increments it
 * with probability 1 / ((counter - 5) * 10 + 1)); the 3 meta bits hold the minute (mod 8) of the
 * last decay. The counter loses one per minute elapsed (Redis's lfu-decay-time 1), applied on
 * access and when sampled, so a key sampled at least every 8 minutes decays exactly.
 *
 * Pool entries are key copies, never pointers: a pooled key may be deleted or replaced at any
 * time, and is looked up again before it is removed. Invariant: pool[0..npool) ascending score.
 */
#include "storage/hash.h"
#include "storage/store_internal.h"

#define LFU_INIT 5u
#define LFU_LOG_FACTOR 10u
#define LFU_DECAY_MS 60000
#define SAMPLE_ROUNDS 8
#define STEPS_PER_SAMPLE 20
#define RECLAIM_EVICT_WORK 1024 /* units of fc_store_reclaim_step per call */

static uint64_t rnd(fc_store *s)
{
    s->rng = fc_hash_mix64(s->rng + 0x9E3779B97F4A7C15ull);
    return s->rng;
}

static bool is_volatile(fc_evict_policy p)
{
    return p == FC_EVICT_VOLATILE_LRU || p == FC_EVICT_VOLATILE_LFU ||
           p == FC_EVICT_VOLATILE_RANDOM || p == FC_EVICT_VOLATILE_TTL;
}

static bool is_lru(fc_evict_policy p)
{
    return p == FC_EVICT_ALLKEYS_LRU || p == FC_EVICT_VOLATILE_LRU;
}

static bool is_lfu(fc_evict_policy p)
{
    return p == FC_EVICT_ALLKEYS_LFU || p == FC_EVICT_VOLATILE_LFU;
}

static unsigned epoch(int64_t now_ms)
{
    return (unsigned)((uint64_t)(now_ms / LFU_DECAY_MS) & 7u);
}

/* Applies the decay since the entry's epoch and moves the epoch to now; returns the counter. */
static unsigned lfu_decay(fc_entry *e, int64_t now_ms)
{
    unsigned clock = fc_entry_clock(e), counter = clock & 0xffu, ep = clock >> 8;
    unsigned elapsed = (epoch(now_ms) - ep) & 7u;
    counter = counter > elapsed ? counter - elapsed : 0;
    fc_entry_set_clock(e, counter | epoch(now_ms) << 8);
    return counter;
}

void fc_store_touch(fc_store *s, fc_entry *e, int64_t now_ms, bool created)
{
    if (is_lru(s->policy)) {
        if (++s->lru_ops >= 1 + fc_store_size(s) / 128) {
            s->lru_ops = 0;
            s->lru_clock++;
        }
        fc_entry_set_clock(e, (unsigned)(s->lru_clock & FC_CLOCK_MASK));
    } else if (is_lfu(s->policy)) {
        if (created) {
            fc_entry_set_clock(e, LFU_INIT | epoch(now_ms) << 8);
            return;
        }
        unsigned c = lfu_decay(e, now_ms);
        if (c < 255) {
            unsigned base = c > LFU_INIT ? c - LFU_INIT : 0;
            uint64_t r = rnd(s) >> 11; /* 53 bits */
            if ((double)r < (double)(1ull << 53) / (base * LFU_LOG_FACTOR + 1))
                c++;
        }
        fc_entry_set_clock(e, c | epoch(now_ms) << 8);
    }
}

void fc_store_set_policy(fc_store *s, fc_evict_policy p)
{
    s->policy = p;
    if (!s->samples)
        s->samples = FC_EVICT_DEFAULT_SAMPLES;
    if (!s->rng)
        s->rng = s->kt.k0 ^ 0x5bd1e995u;
    fc_store_pool_clear(s);
}

void fc_store_set_evict_samples(fc_store *s, unsigned n)
{
    s->samples = n < 1 ? 1 : n > FC_EVICT_MAX_SAMPLES ? FC_EVICT_MAX_SAMPLES : n;
}

static char *slot_key(fc_pool_slot *p)
{
    return p->klen > FC_POOL_INLINE ? p->heap : p->inline_key;
}

static void slot_free(fc_pool_slot *p)
{
    if (p->klen > FC_POOL_INLINE)
        free(p->heap);
    p->heap = NULL;
}

void fc_store_pool_clear(fc_store *s)
{
    for (unsigned i = 0; i < s->npool; i++)
        slot_free(&s->pool[i]);
    s->npool = 0;
}

static bool has_ttl(const fc_entry *e)
{
    return fc_entry_expire(e) != FC_NO_EXPIRE;
}

static uint64_t rnd_cb(void *arg)
{
    return rnd(arg);
}

/* Up to n entries, each probe a random bucket of a random leaf (chosen about in proportion to
 * its size), probing at most STEPS_PER_SAMPLE * n buckets; only keys with a TTL if vol.
 * Independent probes, not a run of neighbouring buckets: evicting the first keys after a random
 * start would favour keys that follow empty runs and grow those runs until samples come back
 * empty. */
static size_t sample(fc_store *s, bool vol, fc_entry **out, size_t n)
{
    size_t got = 0;
    for (size_t k = 0; k < n * STEPS_PER_SAMPLE && got < n; k++) {
        fc_kleaf *l = fc_kt_random_leaf(&s->kt, rnd_cb, s);
        if (!l || l->d.t[0].size == 0 || (vol && l->vol == 0))
            continue;
        fc_entry *e = l->d.t[0].b[rnd(s) & (l->d.t[0].size - 1)];
        for (; e && got < n; e = e->next) {
            bool dup = false;
            for (size_t j = 0; j < got && !dup; j++)
                dup = out[j] == e;
            if ((!vol || has_ttl(e)) && !dup)
                out[got++] = e;
        }
    }
    return got;
}

/* Deletes the entry at link in leaf l and tidies the leaf; counts an eviction for its namespace
 * if evict. */
static void remove_link(fc_store *s, fc_kleaf *l, fc_entry **link, bool evict)
{
    if (evict)
        fc_store_count_ns(s, fc_entry_key(*link), fc_entry_klen(*link),
                          offsetof(fc_ns_stats, evictions));
    fc_store_delete_link(s, l, link);
    fc_kt_tidy(&s->kt, l);
}

/* Deletes key if present (see remove_link). */
static void remove_entry(fc_store *s, const char *key, size_t klen, bool evict)
{
    fc_kleaf *l;
    fc_entry **link = fc_kt_find(&s->kt, key, klen, fc_kt_hash(&s->kt, key, klen), &l);
    if (link)
        remove_link(s, l, link, evict);
}

/* Deletes the expired entries among smp[0..n); returns how many. */
static size_t reap_expired(fc_store *s, fc_entry **smp, size_t n, int64_t now_ms)
{
    size_t freed = 0;
    for (size_t i = 0; i < n; i++) {
        if (fc_entry_is_expired(smp[i], now_ms)) {
            remove_entry(s, fc_entry_key(smp[i]), fc_entry_klen(smp[i]), false);
            freed++;
        }
    }
    s->stats.expired += freed;
    return freed;
}

static uint64_t score(fc_store *s, fc_entry *e, int64_t now_ms)
{
    if (is_lru(s->policy))
        return (s->lru_clock - fc_entry_clock(e)) & FC_CLOCK_MASK;
    if (is_lfu(s->policy))
        return 255u - lfu_decay(e, now_ms);
    return UINT64_MAX - (uint64_t)fc_entry_expire(e); /* volatile-ttl: soonest first */
}

static int slot_find(fc_store *s, const char *key, size_t klen)
{
    for (unsigned i = 0; i < s->npool; i++)
        if (s->pool[i].klen == klen && memcmp(slot_key(&s->pool[i]), key, klen) == 0)
            return (int)i;
    return -1;
}

static void slot_remove(fc_store *s, unsigned i)
{
    slot_free(&s->pool[i]);
    memmove(&s->pool[i], &s->pool[i + 1], (s->npool - i - 1) * sizeof(s->pool[0]));
    s->npool--;
}

/* Moves slot i down to its sorted place (its score dropped). */
static void slot_sink(fc_store *s, unsigned i)
{
    for (; i > 0 && s->pool[i - 1].score > s->pool[i].score; i--) {
        fc_pool_slot t = s->pool[i];
        s->pool[i] = s->pool[i - 1];
        s->pool[i - 1] = t;
    }
}

/* Inserts a copy of the key with its score, keeping the pool sorted; a key already pooled gets
 * the fresh score. When full, the candidate replaces the worst slot only if it is better. */
static void pool_offer(fc_store *s, const char *key, size_t klen, uint64_t sc)
{
    int dup = slot_find(s, key, klen);
    if (dup >= 0)
        slot_remove(s, (unsigned)dup);
    if (s->npool == FC_EVICT_POOL) {
        if (sc <= s->pool[0].score)
            return;
        slot_remove(s, 0);
    }
    char *heap = NULL;
    if (klen > FC_POOL_INLINE && !(heap = malloc(klen)))
        return;
    unsigned pos = s->npool;
    while (pos > 0 && s->pool[pos - 1].score > sc) {
        s->pool[pos] = s->pool[pos - 1];
        pos--;
    }
    fc_pool_slot *p = &s->pool[pos];
    p->klen = klen;
    p->heap = heap;
    p->score = sc;
    memcpy(slot_key(p), key, klen);
    s->npool++;
}

/* Removes the best pooled key that still exists (and has a TTL for volatile policies), after
 * re-scoring it: one touched since it was pooled goes back with its fresh score. */
static bool pool_evict(fc_store *s, bool vol, int64_t now_ms)
{
    for (unsigned budget = 2 * FC_EVICT_POOL; s->npool > 0 && budget > 0; budget--) {
        fc_pool_slot *best = &s->pool[s->npool - 1];
        fc_kleaf *l;
        fc_entry **link = fc_kt_find(&s->kt, slot_key(best), best->klen,
                                     fc_kt_hash(&s->kt, slot_key(best), best->klen), &l);
        if (!link || (vol && !has_ttl(*link))) {
            slot_remove(s, s->npool - 1);
            continue;
        }
        uint64_t now_score = score(s, *link, now_ms);
        if (now_score < best->score && s->npool > 1 && now_score < s->pool[s->npool - 2].score) {
            best->score = now_score;
            slot_sink(s, s->npool - 1);
            continue;
        }
        remove_link(s, l, link, true);
        slot_remove(s, s->npool - 1);
        return true;
    }
    return false;
}

static bool evict_random(fc_store *s, fc_entry **smp, size_t n)
{
    if (n == 0)
        return false;
    fc_entry *e = smp[rnd(s) % n];
    remove_entry(s, fc_entry_key(e), fc_entry_klen(e), true);
    return true;
}

bool fc_store_evict(fc_store *s, int64_t now_ms)
{
    fc_entry *smp[FC_EVICT_MAX_SAMPLES];
    bool vol = is_volatile(s->policy), done = false;
    if (s->reclaim) { /* memory a flush detached goes first: no live key pays for it */
        fc_store_reclaim_step(s, RECLAIM_EVICT_WORK);
        return true;
    }
    if (s->policy == FC_EVICT_NOEVICTION || fc_store_size(s) == 0 ||
        (vol && fc_store_volatile_size(s) == 0))
        return false;
    for (int round = 0; round < SAMPLE_ROUNDS && !done; round++) {
        size_t n = sample(s, vol, smp, s->samples);
        if (reap_expired(s, smp, n, now_ms) > 0)
            return true;
        if (s->policy == FC_EVICT_ALLKEYS_RANDOM || s->policy == FC_EVICT_VOLATILE_RANDOM) {
            done = evict_random(s, smp, n);
        } else {
            for (size_t i = 0; i < n; i++)
                pool_offer(s, fc_entry_key(smp[i]), fc_entry_klen(smp[i]),
                           score(s, smp[i], now_ms));
            done = pool_evict(s, vol, now_ms);
        }
        /* No early exit on an empty round: probes of a sparse leaf table may all miss (with
         * one sample, 20 probes at load 1/8 miss 7% of the time); the rounds bound the work. */
    }
    if (done)
        s->stats.evicted++;
    return done;
}
