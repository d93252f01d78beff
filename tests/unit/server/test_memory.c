/*
 * Unit tests for maxmemory eviction in the command layer (server/cmd_memory.c): a write evicts
 * until under the limit while its loop turn is young, evicts one key and leaves the rest to the
 * cron once the turn is spent, and is refused only when nothing is evictable. The turn's age is
 * set through core.turn_start_ns, so no test depends on how fast the machine evicts.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "server/memory.h"
#include "server/util.h"

#define NOW 1000000
#define KEYS 4000
#define SECOND_NS 1000000000ull

static fc_conf conf;
static fc_core core;

static void start(fc_evict_policy policy)
{
    fc_conf_defaults(&conf);
    conf.maxmemory_policy = (int)policy; /* the conf's names follow fc_evict_policy's order */
    cr_assert_eq(fc_core_init(&core, &conf, NOW), 0);
    fc_memory_init(&core);
    char k[32];
    for (int i = 0; i < KEYS; i++) {
        int n = snprintf(k, sizeof(k), "key:%d", i);
        cr_assert_eq(fc_store_set(core.dbs[0], k, (size_t)n, k, (size_t)n, 0, false, NOW), 0);
    }
}

static void stop(void)
{
    fc_core_deinit(&core);
}

/* Sets the limit `below` bytes under what is used now. */
static void limit_below(size_t below)
{
    conf.maxmemory = fc_memory_used(&core) - below;
}

Test(memory, young_turn_evicts_until_under_the_limit, .fini = stop)
{
    start(FC_EVICT_ALLKEYS_LRU);
    limit_below(64 * 1024);
    core.turn_start_ns = fc_mono_ns() + 60 * SECOND_NS; /* a turn with all its budget left */
    cr_assert(fc_memory_make_room(&core, NOW));
    cr_assert_leq(fc_memory_used(&core), conf.maxmemory);
    cr_assert_gt(fc_memory_evicted(&core), 100, "64 KB is hundreds of keys");
    cr_assert(core.turn_evicted, "the client loop now checks the clock after every request");
    cr_assert_not(core.evict_pending);
    cr_assert_not(core.bg_kick);
}

Test(memory, spent_turn_evicts_one_key_and_the_cron_goes_on, .fini = stop)
{
    start(FC_EVICT_ALLKEYS_LRU);
    limit_below(64 * 1024);
    core.turn_start_ns = fc_mono_ns() - SECOND_NS; /* the turn's budget ran out long ago */
    cr_assert(fc_memory_make_room(&core, NOW), "a key went: the write goes ahead");
    cr_assert_eq(fc_memory_evicted(&core), 1);
    cr_assert_gt(fc_memory_used(&core), conf.maxmemory);
    cr_assert(core.evict_pending);
    cr_assert(core.bg_kick, "the cron is asked to run soon");
    /* A second write in the same turn evicts one more key and keeps the flags. */
    cr_assert(fc_memory_make_room(&core, NOW));
    cr_assert_eq(fc_memory_evicted(&core), 2);
    /* The cron's step with time left finishes the job. */
    cr_assert_not(fc_memory_evict_step(&core, NOW, fc_mono_ns() + 60 * SECOND_NS));
    cr_assert_leq(fc_memory_used(&core), conf.maxmemory);
    cr_assert_not(core.evict_pending);
    cr_assert_gt(fc_memory_evicted(&core), 100);
}

Test(memory, cron_step_past_its_deadline_evicts_one_key_and_stays_pending, .fini = stop)
{
    start(FC_EVICT_ALLKEYS_RANDOM);
    limit_below(64 * 1024);
    core.turn_start_ns = fc_mono_ns() - SECOND_NS;
    cr_assert(fc_memory_make_room(&core, NOW));
    cr_assert(fc_memory_evict_step(&core, NOW, fc_mono_ns() - SECOND_NS), "work is left");
    cr_assert_eq(fc_memory_evicted(&core), 2);
    cr_assert(core.evict_pending);
}

Test(memory, noeviction_refuses_and_leaves_nothing_pending, .fini = stop)
{
    start(FC_EVICT_NOEVICTION);
    limit_below(1024);
    core.turn_start_ns = fc_mono_ns();
    cr_assert_not(fc_memory_make_room(&core, NOW), "FC_ERR_OOM for the write");
    cr_assert_eq(fc_memory_evicted(&core), 0);
    cr_assert_not(core.evict_pending);
    cr_assert_not(core.turn_evicted);
    cr_assert_eq(fc_store_size(core.dbs[0]), KEYS);
    cr_assert_not(fc_memory_evict_step(&core, NOW, fc_mono_ns() + SECOND_NS));
}

Test(memory, under_the_limit_evicts_nothing, .fini = stop)
{
    start(FC_EVICT_ALLKEYS_LRU);
    conf.maxmemory = fc_memory_used(&core) + 1024;
    core.turn_start_ns = fc_mono_ns() - SECOND_NS;
    cr_assert(fc_memory_make_room(&core, NOW));
    cr_assert_eq(fc_memory_evicted(&core), 0);
    cr_assert_not(core.evict_pending);
    cr_assert_not(core.turn_evicted);
}
