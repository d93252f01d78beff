/*
 * memory — [cache] maxmemory for the memory driver: what the daemon counts as used memory and
 * the eviction that runs before a command that may grow it (rows flagged FC_CMD_DENYOOM, Redis's
 * "denyoom"). In proxy mode the upstream owns memory and none of this applies.
 */
#ifndef FC_SERVER_MEMORY_H
#define FC_SERVER_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core.h"

/* Redis's reply to a denyoom command over the limit with nothing evictable. */
#define FC_ERR_OOM "OOM command not allowed when used memory > 'maxmemory'."

/* Bytes counted against maxmemory: every database as the allocator sees it (fc_store_bytes:
 * entries with their chunk headers, bucket tables). Client buffers are not counted. */
size_t fc_memory_used(const fc_core *core);

/* The limit in force: [cache] maxmemory in memory mode, 0 (none) in proxy mode. */
uint64_t fc_memory_limit(const fc_core *core);

/* The policy in force as its Redis name ("noeviction" in proxy mode). */
const char *fc_memory_policy_name(const fc_core *core);

/* Keys evicted so far, all databases. */
uint64_t fc_memory_evicted(const fc_core *core);

/* Applies [cache] maxmemory_policy to every database (at start). */
void fc_memory_init(fc_core *core);

/*
 * Before a denyoom command: while used memory is over the limit, evicts one key at a time by the
 * policy from the database holding the most memory, until under the limit or, once a key went,
 * the loop turn is FC_TURN_BUDGET_NS old (core.h; Redis bounds its eviction by time the same
 * way). One write can need hundreds of evictions (a leaf table of the key trie doubling adds tens
 * of KB at once; ~2.5 µs per eviction at 10M keys): what the turn has no time for is left to the
 * cron (core->evict_pending, fc_memory_evict_step), and meanwhile each denyoom command still
 * evicts at least one key, so memory overshoots by at most a turn's writes. Once a write of the
 * turn evicted (core->turn_evicted), the client loop checks the turn's age after every request,
 * not every 16th: in steady state each write evicts a key, 1-9 µs apiece at 10M keys. Returns
 * false when memory is over the limit and nothing could be evicted: the command must be refused
 * with FC_ERR_OOM. True when under the limit, when there is no limit, or when keys were evicted.
 */
bool fc_memory_make_room(fc_core *core, int64_t now_ms);

/* The cron's share: while core->evict_pending, evicts until under the limit, nothing is
 * evictable, or (after one key) deadline_ns (fc_mono_ns). Returns true while work is left. */
bool fc_memory_evict_step(fc_core *core, int64_t now_ms, uint64_t deadline_ns);

#endif
