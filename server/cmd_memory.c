/*
 * cmd_memory — maxmemory accounting and eviction for the command layer (see memory.h).
 *
 * Eviction is per database: each store keeps its own clock and candidate pool (storage/evict.c),
 * and the database holding the most memory gives up a key first. Redis instead keeps one pool
 * across databases; with one database in use (the common case) the two are the same.
 */
#include "server/memory.h"

#include <string.h>

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

bool fc_memory_make_room(fc_core *core, int64_t now_ms)
{
    uint64_t max = fc_memory_limit(core);
    if (max == 0 || fc_memory_used(core) <= max)
        return true;
    unsigned char failed[(1024 + 7) / 8];
    int evicted = 0;
    memset(failed, 0, sizeof(failed));
    while (evicted < FC_MEMORY_EVICT_MAX && fc_memory_used(core) > max) {
        int db = fattest(core, failed);
        if (db < 0)
            break;
        if (fc_store_evict(core->dbs[db], now_ms))
            evicted++;
        else
            failed[db / 8] |= (unsigned char)(1u << (db % 8));
    }
    return evicted > 0 || fc_memory_used(core) <= max;
}
