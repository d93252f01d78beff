/*
 * prefetch — memory hints for a batch of keyspace lookups.
 *
 * With a keyspace much larger than the CPU caches, a lookup is two cache misses in a row: the
 * bucket slot, then the first entry of its chain. A pipelined batch knows its keys before it
 * runs any of them, so the server issues every bucket's prefetch, then every first entry's,
 * and only then runs the commands: the misses of the batch overlap instead of following one
 * another (bench/loadgen, 1M keys, -P 16: about a third of the server's CPU per GET or SET).
 *
 *   keys k1..kn ──prefetch_bucket──► h1..hn ──prefetch_entry──► (run GET k1 … GET kn)
 *
 * Hints only: nothing is read that a lookup would not read, nothing is written, and a wrong or
 * stale hint (another database) costs a wasted prefetch and no more.
 */
#ifndef FC_STORAGE_PREFETCH_H
#define FC_STORAGE_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

/* Finds key's leaf in the trie (its nodes are few and stay cached), hashes the key, prefetches
 * its bucket slot, and returns a token for fc_store_prefetch_entry (0: nothing to hint). A token
 * is valid until the next call that mutates the store. */
uint64_t fc_store_prefetch_bucket(const fc_store *s, const char *key, size_t klen);

/* Prefetches the first entry of the token's bucket (best after the bucket's prefetch landed). */
void fc_store_prefetch_entry(const fc_store *s, uint64_t token);

/* When the token's first entry is not key, prefetches the next one in the chain (best after the
 * first entry's prefetch landed: at the leaf tables' load factor of 1/2 to 1, a hit reads 1.25 to
 * 1.5 entries on average); when it is key, prefetches the value's next lines (up to 1 KiB), which
 * a GET copies out next. The server uses it for one-request connections (server.c, run_staged);
 * a pipeline's window stops at the first entries. */
void fc_store_prefetch_chain(const fc_store *s, uint64_t token, const char *key, size_t klen);

#endif
