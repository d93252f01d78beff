/*
 * nstab — per-namespace counters for INFO namespaces.
 *
 * A key's namespace is the longest configured prefix it starts with (fc_nstab_configure: the
 * [ttl] prefixes and [cache] namespaces), else its auto-detected namespace: the key up to and
 * including its first ':' (created on first sight, at most max_auto of them; keys whose
 * auto namespace would be unprintable -- a byte outside 0x21..0x7e, or ',' or '=' -- longer
 * than 128 bytes, or past the cap are not tracked). Keys with neither are not tracked.
 * Namespaces are never removed. Counters are exclusive: a key counts only in its own (longest)
 * namespace.
 *
 * The store calls fc_nstab_lookup on its hot paths (hits, misses, sets, evictions), so a lookup
 * costs a memchr and one hash probe when no prefix is configured. Internal to storage/ and the
 * server's INFO code; one table is shared by all the databases.
 */
#ifndef FC_STORAGE_NSTAB_H
#define FC_STORAGE_NSTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct fc_nstab fc_nstab;

typedef struct fc_ns_stats {
    uint64_t hits, misses, sets, invalidations, evictions;
} fc_ns_stats;

/* Counts live keys with a prefix (the store's fc_store_count_prefix, summed over databases). */
typedef uint64_t fc_ns_count_fn(void *ctx, const char *prefix, size_t len);

/* Creates an empty table that auto-detects at most max_auto namespaces. NULL on out-of-memory. */
fc_nstab *fc_nstab_new(size_t max_auto);
void fc_nstab_free(fc_nstab *t);

/* Adds a configured namespace prefix (any bytes). Returns 0, -EINVAL when len is 0, or -ENOMEM;
 * adding one twice is a no-op. An auto namespace of the same name becomes configured (counters
 * kept); auto namespaces under the new prefix keep their counters but get no more keys. */
int fc_nstab_configure(fc_nstab *t, const char *prefix, size_t len);

/* The counters of key's namespace, or NULL when the key is not tracked. May create an auto
 * namespace. The pointer stays valid until fc_nstab_free. */
fc_ns_stats *fc_nstab_lookup(fc_nstab *t, const char *key, size_t klen);

/* Number of namespaces, and the i-th one (0 <= i < size) in a stable order: name and counters. */
size_t fc_nstab_size(const fc_nstab *t);
const char *fc_nstab_name(const fc_nstab *t, size_t i, size_t *len);
fc_ns_stats *fc_nstab_stats(fc_nstab *t, size_t i);

/* Fills keys[0..size) with each namespace's exclusive key count: count(prefix) minus the keys
 * that belong to longer namespaces nested inside it. */
void fc_nstab_keys(const fc_nstab *t, fc_ns_count_fn *count, void *ctx, uint64_t *keys);

/* Before the keys with prefix p are removed (INVALIDATE p*): adds to each namespace's
 * invalidations the number of those keys that belong to it, using count (which must still see
 * the keys). */
void fc_nstab_note_invalidate(fc_nstab *t, const char *p, size_t plen, fc_ns_count_fn *count,
                              void *ctx);

#endif
