/*
 * cmd_memory — maxmemory accounting and eviction for the command layer (see memory.h).
 *
 * Eviction is per database: each store keeps its own clock and candidate pool (storage/evict.c),
 * and the database holding the most memory gives up a key first. Redis instead keeps one pool
 * across databases; with one database in use (the common case) the two are the same.
 */
#include "server/memory.h"

#include <string.h>

#include "server/util.h"

uint64_t fc_memory_limit(const fc_core *core)
{
    return core->backend ? 0 : core->conf->maxmemory;
}

const char *fc_memory_policy_name(const fc_core *core)
{
    return fc_conf_maxmemory_policy_name(core->backend ? 0 : core->conf->maxmemory_policy);
}

size_t fc_memory_used(const fc_core *core)
{
    size_t used = 0;
    for (int i = 0; i < core->ndb; i++)
        used += fc_store_bytes(core->dbs[i]);
    return used;
}

uint64_t fc_memory_evicted(const fc_core *core)
{
    uint64_t n = 0;
    for (int i = 0; i < core->ndb; i++)
        n += fc_store_get_stats(core->dbs[i])->evicted;
    return n;
}

void fc_memory_init(fc_core *core)
{
    /* fc_evict_policy follows the order of [cache] maxmemory_policy's names. */
    fc_evict_policy p = (fc_evict_policy)core->conf->maxmemory_policy;
    for (int i = 0; i < core->ndb; i++)
        fc_store_set_policy(core->dbs[i], p);
}

/* The database with the most memory (in keys or flushed but not yet freed) that has not failed to
 * evict yet, or -1. */
static int fattest(const fc_core *core, const unsigned char *failed)
{
    int best = -1;
    size_t best_n = 0;
    for (int i = 0; i < core->ndb; i++) {
        size_t n = fc_store_size(core->dbs[i]);
        bool pending = fc_store_reclaim_pending(core->dbs[i]); /* a flush's memory, not freed */
        if ((n == 0 && !pending) || (failed[i / 8] & (1u << (i % 8))))
            continue;
        size_t b = fc_store_bytes(core->dbs[i]);
        if (best < 0 || b > best_n) {
            best = i;
            best_n = b;
        }
    }
    return best;
}

/* Evicts while used memory is over max, until nothing is evictable or, once at least one key went,
 * the clock passes deadline_ns. Returns the number of keys evicted (a step freeing a flush's
 * memory counts as one). */
static int evict_until(fc_core *core, uint64_t max, int64_t now_ms, uint64_t deadline_ns)
{
    unsigned char failed[(1024 + 7) / 8];
    int evicted = 0;
    memset(failed, 0, sizeof(failed));
    while (fc_memory_used(core) > max) {
        if (evicted > 0 && fc_mono_ns() >= deadline_ns)
            break;
        int db = fattest(core, failed);
        if (db < 0)
            break;
        if (fc_store_evict(core->dbs[db], now_ms))
            evicted++;
        else
            failed[db / 8] |= (unsigned char)(1u << (db % 8));
    }
    return evicted;
}

bool fc_memory_make_room(fc_core *core, int64_t now_ms)
{
    uint64_t max = fc_memory_limit(core);
    if (max == 0 || fc_memory_used(core) <= max)
        return true;
    uint64_t start = core->turn_start_ns ? core->turn_start_ns : fc_mono_ns();
    int evicted = evict_until(core, max, now_ms, start + FC_TURN_BUDGET_NS);
    bool over = fc_memory_used(core) > max;
    core->turn_evicted |= evicted > 0; /* each eviction costs µs: the client loop watches the clock */
    if (over && evicted > 0 && !core->evict_pending) {
        core->evict_pending = true; /* the turn is spent: the cron goes on */
        core->bg_kick = true;
    }
    return evicted > 0 || !over;
}

bool fc_memory_evict_step(fc_core *core, int64_t now_ms, uint64_t deadline_ns)
{
    uint64_t max = fc_memory_limit(core);
    if (!core->evict_pending)
        return false;
    int evicted = max ? evict_until(core, max, now_ms, deadline_ns) : 0;
    core->evict_pending = evicted > 0 && fc_memory_used(core) > max;
    return core->evict_pending;
}
