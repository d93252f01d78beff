/*
 * ttl_table — longest-prefix lookup of a key's default TTL ([ttl] section), cheap enough for
 * every write: no allocation, a first-byte bitmap that rejects most keys at once, then a binary
 * search and a short walk up the prefix chain.
 *
 *   sorted:  [0] "a"   [1] "ab"   [2] "abz"   [3] "b:"
 *   parent:      -1        0         1           -1     (longest proper prefix in the set)
 *
 *   key "abc": the greatest entry <= key is "ab", a prefix of the key: the answer.
 *   key "ac":  the greatest entry <= key is "abz", not a prefix: walk up, "ab" (no), "a" (yes).
 *
 * Why the walk is right: every prefix P of the key that is in the set sorts between P and the
 * key, so the greatest entry E <= key starts with P; the longest such P is therefore the first
 * ancestor of E (E included) that is a prefix of the key.
 *
 * Ownership: the table copies the prefixes into one allocation of its own; it is immutable after
 * fc_ttl_table_build, so a reload builds a new one and swaps it in. Keys are byte slices (any
 * byte, NUL included).
 */
#ifndef FC_CONF_TTL_TABLE_H
#define FC_CONF_TTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

/* One rule to build from: keys starting with prefix[0..len) get ttl_ms (0 = no expiry). */
typedef struct fc_ttl_rule {
    const char *prefix;
    size_t len;
    int64_t ttl_ms;
} fc_ttl_rule;

typedef struct fc_ttl_entry {
    const char *prefix; /* into the table's pool */
    size_t len;
    int64_t ttl_ms;
    int parent;         /* index of the longest entry that is a proper prefix of this one, or -1 */
} fc_ttl_entry;

typedef struct fc_ttl_table {
    fc_ttl_entry *e;    /* sorted by bytes (shorter first on a tie); NULL when n == 0 */
    size_t n;
    uint64_t first[4];  /* bit b: some prefix starts with byte b */
} fc_ttl_table;

/* An empty table (no allocation). */
void fc_ttl_table_init(fc_ttl_table *t);

/* Builds t from rules[0..n) (t need not be initialized; it is overwritten). Rules with an empty
 * prefix are skipped; of two rules with the same prefix the later wins. Returns 0, or -ENOMEM
 * with t empty. */
int fc_ttl_table_build(fc_ttl_table *t, const fc_ttl_rule *rules, size_t n);

/* Builds t from the [ttl] entries of c (seconds to ms). Returns 0 or -ENOMEM (t empty). */
int fc_ttl_table_from_conf(fc_ttl_table *t, const fc_conf *c);

/* Frees what t holds and leaves it empty. */
void fc_ttl_table_deinit(fc_ttl_table *t);

/* True when some prefix of the table is a prefix of key[0..len); *ttl_ms is then the longest
 * one's TTL (0: no expiry). False (and *ttl_ms untouched) when none matches. */
bool fc_ttl_table_lookup(const fc_ttl_table *t, const char *key, size_t len, int64_t *ttl_ms);

#endif
