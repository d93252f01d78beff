/*
 * store — one keyspace (a Redis "database"): binary-safe string keys and values, each with an
 * absolute expiry time in milliseconds.
 *
 * The store never reads a clock: every call that may observe expiry takes `now_ms`, so TTL logic
 * is tested with an injected time. Expiry is lazy (a lookup of an expired key deletes it and
 * reports it missing) and active (fc_store_expire_cycle reclaims keys nobody reads, bounded by a
 * work budget the caller chooses).
 *
 * Ownership: the store copies key and value into its own memory on every write. An fc_entry_view
 * borrows the store's memory and is valid only until the next call that mutates this store.
 *
 * Expiry convention: expire_at == FC_NO_EXPIRE (0) means no expiry; any other value is an
 * absolute Unix time in ms, and a key is expired when expire_at < now_ms (as Redis: a key whose
 * time is exactly now is still live).
 */
#ifndef FC_STORAGE_STORE_H
#define FC_STORAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_NO_EXPIRE 0

typedef struct fc_store fc_store;

typedef struct fc_entry_view {
    const char *key;
    size_t klen;
    const char *val;
    size_t vlen;
    int64_t expire_at; /* FC_NO_EXPIRE or absolute ms */
} fc_entry_view;

typedef struct fc_store_stats {
    uint64_t hits;        /* a lookup (fc_store_get, FC_VISIT_LOOKUP) found a live key */
    uint64_t misses;      /* a lookup found nothing or an expired key */
    uint64_t expired;     /* keys removed because their time had come (lazy or active) */
    uint64_t evicted;     /* keys removed by fc_store_evict */
} fc_store_stats;

/* Eviction policies, Redis's maxmemory-policy values in the order of [cache] maxmemory_policy. */
typedef enum fc_evict_policy {
    FC_EVICT_NOEVICTION = 0,
    FC_EVICT_ALLKEYS_LRU,
    FC_EVICT_VOLATILE_LRU,
    FC_EVICT_ALLKEYS_LFU,
    FC_EVICT_VOLATILE_LFU,
    FC_EVICT_ALLKEYS_RANDOM,
    FC_EVICT_VOLATILE_RANDOM,
    FC_EVICT_VOLATILE_TTL,
} fc_evict_policy;

#define FC_EVICT_DEFAULT_SAMPLES 5
#define FC_EVICT_MAX_SAMPLES 64

/* Lookup flags. */
#define FC_LOOKUP_NOSTATS 1u /* do not count a hit or miss (write paths, as Redis) */

/* Creates an empty store. seed keys the hash function (hash-flooding resistance).
 * Returns NULL on out-of-memory. */
fc_store *fc_store_new(uint64_t seed);

/* Frees the store and everything it holds, including memory a flush detached (synchronously). */
void fc_store_free(fc_store *s);

/* Looks key up; an expired key is deleted and reported missing. Returns true and fills *out
 * when the key is live. Counts a hit or miss unless FC_LOOKUP_NOSTATS. */
bool fc_store_get(fc_store *s, const char *key, size_t klen, int64_t now_ms, unsigned flags,
                  fc_entry_view *out);

/* Inserts or replaces key with the value and expiry. With keep_ttl and an existing live key, the
 * existing expiry is kept and expire_at ignored. Returns 0 or -ENOMEM (store unchanged). */
int fc_store_set(fc_store *s, const char *key, size_t klen, const char *val, size_t vlen,
                 int64_t expire_at, bool keep_ttl, int64_t now_ms);

/* Resizes the value of key to newlen bytes and returns a writable pointer to it: the first
 * min(old, newlen) bytes are kept, new bytes are zero. The expiry is kept; a missing key is
 * created (empty before the resize) with expire_if_created. Returns NULL on out-of-memory (store
 * unchanged). The pointer is valid until the next mutating call. Serves APPEND and SETRANGE. */
char *fc_store_resize_value(fc_store *s, const char *key, size_t klen, size_t newlen,
                            int64_t expire_if_created, int64_t now_ms);

/* Deletes key. Returns true if a live key was deleted (an expired one counts as missing). */
bool fc_store_del(fc_store *s, const char *key, size_t klen, int64_t now_ms);

/* Sets the expiry of a live key (FC_NO_EXPIRE removes it). Returns false if the key is missing. */
bool fc_store_set_expire(fc_store *s, const char *key, size_t klen, int64_t expire_at,
                         int64_t now_ms);

/* Renames src to dst keeping value and expiry, replacing dst (or not, with nx).
 * Returns 0, -ENOENT (no live src), -EEXIST (nx and dst live), -ENOMEM. src == dst is allowed. */
int fc_store_rename(fc_store *s, const char *src, size_t slen, const char *dst, size_t dlen,
                    bool nx, int64_t now_ms);

/* Number of keys, including expired keys not yet reclaimed (as Redis's DBSIZE). */
size_t fc_store_size(const fc_store *s);

/* Number of keys with an expiry (INFO keyspace "expires="), same convention as size. */
size_t fc_store_volatile_size(const fc_store *s);

/* Bytes of memory the store holds as the allocator sees them: each entry's usable size plus the
 * allocator's 8-byte chunk header, the trie's nodes, leaves and tables, the store itself, and
 * what a flush or INVALIDATE detached that fc_store_reclaim_step has not freed yet. */
size_t fc_store_bytes(const fc_store *s);

/* Chooses the eviction policy (default FC_EVICT_NOEVICTION). With an LRU or LFU policy every
 * access updates the entry's clock (evict.c); other policies cost nothing per access. */
void fc_store_set_policy(fc_store *s, fc_evict_policy p);

/* Keys examined per eviction (Redis's maxmemory-samples), clamped to 1..FC_EVICT_MAX_SAMPLES.
 * Default FC_EVICT_DEFAULT_SAMPLES. */
void fc_store_set_evict_samples(fc_store *s, unsigned n);

/*
 * Frees memory by removing one key chosen by the policy from a bounded random sample (plus, for
 * LRU, LFU and TTL, a pool of the best candidates seen by earlier calls). Expired keys met in the
 * sample are reclaimed first (counted as expired, not evicted). Before any of that, while a
 * flush's detached memory is pending, a call frees a bounded part of it (fc_store_reclaim_step)
 * and returns true without touching a live key, whatever the policy. Returns true when a key was
 * removed, false when nothing is evictable (noeviction, empty store, volatile-* with no key with
 * a TTL found). Work per call is bounded by a few samples of FC_EVICT_MAX_SAMPLES buckets.
 */
bool fc_store_evict(fc_store *s, int64_t now_ms);

/*
 * Removes every key in O(1): the whole key trie is detached onto the store's reclaim stack and a
 * fresh empty root takes its place, so every later call sees an empty store at once. The detached
 * entries are freed by fc_store_reclaim_step (the server's cron) or fc_store_free; until then
 * fc_store_bytes still counts them, as Redis's used_memory counts what its lazyfree thread has not
 * freed yet. (Without memory for a new root or a stack node, they are freed at once instead.)
 */
void fc_store_flush(fc_store *s);

/*
 * Background work, at most about max_work units (one per entry freed or examined, per empty
 * bucket passed and per trie node taken apart): first the background INVALIDATE glob jobs, then
 * the memory FLUSH and INVALIDATE detached (newest first), finishing the counts of deferred
 * INVALIDATEs, whose done callbacks run from here. Returns true while work remains; with
 * max_work 0 it only reports that.
 */
bool fc_store_reclaim_step(fc_store *s, size_t max_work);

/* True while detached memory or a background INVALIDATE remains. */
bool fc_store_reclaim_pending(const fc_store *s);

/* Scan callback: a live key and its entry, borrowed for the duration of the call. The callback
 * must not mutate the store. */
typedef void fc_store_scan_fn(void *ctx, const fc_entry_view *e);

/*
 * One step of a cursor scan with Redis's guarantees: start with cursor 0, call until it returns 0;
 * every key present for the whole scan is visited at least once (keys may repeat), even while
 * leaves grow, shrink, burst or go between calls. Each call visits at least one bucket of one
 * leaf and returns the next cursor. Expired keys are not visited; the ones met are deleted
 * (counted as expired). (A burst shows the keys it moves again, so under inserts that keep
 * bursting leaves ahead of it a scan takes longer.) fc_store_scan_visit with a callback that
 * asks FC_VISIT_REAP for every expired key.
 */
uint64_t fc_store_scan(fc_store *s, uint64_t cursor, int64_t now_ms, fc_store_scan_fn *fn,
                       void *ctx);

/* What a visit callback asks of the store for the key it was shown (an OR of these, or 0). */
#define FC_VISIT_REAP 1u   /* if the key is expired, delete it (counted as expired) */
#define FC_VISIT_LOOKUP 2u /* count a read lookup of the key: a hit when live, else a miss */

/* Visit callback: every key met, expired ones included (expired true), borrowed for the
 * duration of the call; returns FC_VISIT_* flags. The callback must not mutate the store. */
typedef unsigned fc_store_visit_fn(void *ctx, const fc_entry_view *e, bool expired);

/*
 * fc_store_scan showing expired keys too, each of which stays unless the callback asks
 * FC_VISIT_REAP. KEYS leaves them (Redis's KEYS only filters them out); SCAN reaps the ones that
 * match its pattern, and with TYPE counts a lookup per key (Redis's SCAN looks each key up to
 * read its type). The cursor and its guarantees are fc_store_scan's.
 */
uint64_t fc_store_scan_visit(fc_store *s, uint64_t cursor, int64_t now_ms, fc_store_visit_fn *fn,
                             void *ctx);

/*
 * Fills *out with a random live key. Returns false if the store has none. As Redis's RANDOMKEY,
 * an expired key it picks is deleted (counted as expired) and it picks again; after a bounded
 * number of random picks it takes the first live key in leaf order, deleting the expired keys it
 * passes on the way. So a call costs O(expired keys it deletes + a few hundred picks), every
 * expired key is paid for once, and a store holding only expired keys ends empty, as in Redis.
 */
bool fc_store_random(fc_store *s, int64_t now_ms, uint64_t rnd, fc_entry_view *out);

/* Deletes every live key matching the glob pattern and returns how many were deleted, all of it
 * before returning (fc_store_invalidate_start is the non-blocking form). */
size_t fc_store_invalidate(fc_store *s, const char *pat, size_t plen, int64_t now_ms);

/* Completion of a background INVALIDATE: n keys were deleted. */
typedef void fc_store_done_fn(void *ctx, size_t n);

/*
 * INVALIDATE without blocking. A pattern that is a literal prefix and one trailing '*' detaches
 * the matching keys in O(prefix length) (plus at most FC_KT_BURST entries filtered when the
 * prefix ends inside a leaf): from the return on, no call sees them. Their number is known at
 * once unless some of them may have expired (a key past its time is not counted); then it is
 * counted as they are freed. Any other pattern deletes at once when at most a few thousand keys
 * share its literal prefix, else walks them in the background, a bounded slice per
 * fc_store_reclaim_step (keys written meanwhile may or may not be deleted, as with SCAN + DEL).
 * Returns true with *n when the count is final now; otherwise false, and done(ctx, n) is called
 * exactly once later, from fc_store_reclaim_step or fc_store_free.
 */
bool fc_store_invalidate_start(fc_store *s, const char *pat, size_t plen, int64_t now_ms,
                               fc_store_done_fn *done, void *ctx, size_t *n);

/* Active expiry: examines at most max_work slots from where the last cycle stopped, deleting
 * the expired keys found. Returns how many keys it deleted; the caller bounds time by calling it
 * repeatedly with a clock check in between. */
size_t fc_store_expire_cycle(fc_store *s, int64_t now_ms, size_t max_work);

const fc_store_stats *fc_store_get_stats(const fc_store *s);

/* Zeroes the counters of fc_store_get_stats (CONFIG RESETSTAT); the per-namespace counters of
 * fc_store_set_nstab are not the store's and stay. */
void fc_store_reset_stats(fc_store *s);

struct fc_nstab;

/* Counts hits, misses, sets, evictions and invalidations per namespace in t (nstab.h), which
 * may be shared by several stores and must outlive them; NULL (the default) stops counting. */
void fc_store_set_nstab(fc_store *s, struct fc_nstab *t);

/* Number of keys starting with prefix, counted as fc_store_size counts (expired keys not yet
 * reclaimed included). */
size_t fc_store_count_prefix(fc_store *s, const char *prefix, size_t len);

#endif
