/*
 * Unit tests for the command layer without sockets: the table is sorted (lookup is a binary
 * search), lookup is case-insensitive, and dispatch writes Redis's exact unknown-command and arity
 * errors. A real core with real stores backs each test; time is passed in.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/commands.h"

static fc_conf conf;
static fc_core core;
static fc_session sess;
static fc_buf out;
static fc_replyq q;

static void setup(void)
{
    fc_conf_defaults(&conf);
    cr_assert_eq(fc_core_init(&core, &conf, 1000000), 0);
    fc_session_init(&sess, 1000000);
    fc_core_attach(&core, &sess);
    fc_buf_init(&out, 0);
    fc_replyq_init(&q, &out, NULL, NULL);
}

static void teardown(void)
{
    fc_core_detach(&core, &sess);
    fc_session_deinit(&sess);
    fc_core_deinit(&core);
    fc_buf_deinit(&out);
}

/* Runs a command given as words and returns the reply text (valid until the next run). */
static const char *run(int64_t now, int argc, const char *const *words)
{
    fc_arg argv[16];
    for (int i = 0; i < argc; i++) {
        argv[i].p = words[i];
        argv[i].len = strlen(words[i]);
    }
    out.len = 0;
    fc_request req = {argv, argc, NULL, 0};
    fc_dispatch(&core, &sess, &q, &req, now);
    fc_buf_append(&out, "", 1);
    return out.data;
}

#define RUN(now, ...) run(now, sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *), \
                          (const char *[]){__VA_ARGS__})

TestSuite(commands, .init = setup, .fini = teardown);

Test(commands, table_is_sorted_and_lookup_is_case_insensitive)
{
    size_t n;
    const fc_command *t = fc_command_table(&n);
    for (size_t i = 1; i < n; i++)
        cr_assert_lt(strcmp(t[i - 1].name, t[i].name), 0, "%s before %s", t[i - 1].name,
                     t[i].name);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(fc_command_lookup(t[i].name, strlen(t[i].name)), &t[i]);
    cr_assert_not_null(fc_command_lookup("GeT", 3));
    cr_assert_null(fc_command_lookup("ge", 2));
    cr_assert_null(fc_command_lookup("gett", 4));
}

/* The dispatch index finds exactly what the binary search finds, for every case mix, and nothing
 * for near misses: a prefix, a longer word, an embedded NUL, bytes that fold to letters only
 * under a locale. */
Test(commands, index_finds_what_lookup_finds)
{
    size_t n;
    const fc_command *t = fc_command_table(&n);
    for (size_t i = 0; i < n; i++) {
        char up[64];
        size_t len = strlen(t[i].name);
        cr_assert_lt(len, sizeof(up));
        for (size_t j = 0; j < len; j++)
            up[j] = (char)(j % 2 ? t[i].name[j] - 32 : t[i].name[j]);
        cr_assert_eq(fc_command_find(&core, t[i].name, len), &t[i], "%s", t[i].name);
        cr_assert_eq(fc_command_find(&core, up, len), &t[i], "%.*s", (int)len, up);
        cr_assert_null(fc_command_find(&core, t[i].name, len - 1), "%s", t[i].name);
    }
    static const char *const misses[] = {"gett", "ge", "", "g\0t", "get\0", "set ", "\xc7\xc5\xd4",
                                         "incrbyfloatx", "pexpiretimexxxxxxxxxx"};
    static const size_t lens[] = {4, 2, 0, 3, 4, 4, 3, 12, 21};
    for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
        cr_assert_null(fc_command_find(&core, misses[i], lens[i]), "miss %zu", i);
        cr_assert_null(fc_command_lookup(misses[i], lens[i]), "miss %zu", i);
    }
    cr_assert_eq(fc_command_find(&core, "GeT", 3), fc_command_lookup("get", 3));
    cr_assert_eq(fc_command_find(&core, "INCRBYFLOAT", 11), fc_command_lookup("incrbyfloat", 11));
}

Test(commands, unknown_command_text_is_redis_exact)
{
    cr_assert_str_eq(RUN(0, "FOO", "a", "b"),
                     "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
    cr_assert_str_eq(RUN(0, "foo"), "-ERR unknown command 'foo', with args beginning with: \r\n");
}

Test(commands, arity_error_uses_lower_case_name)
{
    cr_assert_str_eq(RUN(0, "GET"), "-ERR wrong number of arguments for 'get' command\r\n");
    cr_assert_str_eq(RUN(0, "Ping", "a", "b"),
                     "-ERR wrong number of arguments for 'ping' command\r\n");
    cr_assert_str_eq(RUN(0, "mset", "a", "1", "b"),
                     "-ERR wrong number of arguments for 'mset' command\r\n");
}

Test(commands, ttl_follows_the_injected_clock)
{
    cr_assert_str_eq(RUN(1000, "set", "k", "v", "px", "1500"), "+OK\r\n");
    cr_assert_str_eq(RUN(1000, "ttl", "k"), ":2\r\n");     /* 1500 ms rounds to 2 */
    cr_assert_str_eq(RUN(1001, "ttl", "k"), ":1\r\n");     /* 1499 ms rounds to 1 */
    cr_assert_str_eq(RUN(2499, "pttl", "k"), ":1\r\n");
    cr_assert_str_eq(RUN(2500, "pttl", "k"), ":0\r\n");   /* live through its time (Redis) */
    cr_assert_str_eq(RUN(2500, "get", "k"), "$1\r\nv\r\n");
    cr_assert_str_eq(RUN(2501, "get", "k"), "$-1\r\n");    /* expired once its time passed */
    cr_assert_str_eq(RUN(2501, "ttl", "k"), ":-2\r\n");
}

/* A plain SET does no lookup of its own (fc_store_set finds the key): over an expired key it
 * still counts one expiry, no hit or miss, and KEEPTTL does not keep the dead key's TTL. */
Test(commands, set_over_an_expired_key)
{
    const fc_store_stats *st = fc_store_get_stats(core.dbs[0]);
    cr_assert_str_eq(RUN(1000, "set", "k", "v", "px", "100"), "+OK\r\n");
    cr_assert_str_eq(RUN(1000, "set", "j", "v", "px", "100"), "+OK\r\n");
    cr_assert_str_eq(RUN(2000, "set", "k", "w"), "+OK\r\n");
    cr_assert_eq(st->expired, 1);
    cr_assert_eq(st->hits + st->misses, 0);
    cr_assert_str_eq(RUN(2000, "set", "j", "w", "keepttl"), "+OK\r\n");
    cr_assert_eq(st->expired, 2);
    cr_assert_str_eq(RUN(2000, "pttl", "j"), ":-1\r\n");
    cr_assert_str_eq(RUN(2000, "get", "k"), "$1\r\nw\r\n");
    cr_assert_str_eq(RUN(2000, "set", "k", "x", "px", "10"), "+OK\r\n");
    cr_assert_str_eq(RUN(3000, "set", "k", "y", "nx"), "+OK\r\n"); /* expired: NX writes */
    cr_assert_str_eq(RUN(3000, "set", "k", "z", "nx"), "$-1\r\n");
    cr_assert_str_eq(RUN(3000, "set", "k", "a", "xx", "get"), "$1\r\ny\r\n");
    cr_assert_eq(st->expired, 3);
}

/* Redis 7.0.15: SET with an EXAT/PXAT at or before now stores the key expired (DBSIZE and INFO
 * keyspace count it, expired_keys counts it once a lookup reclaims it); GETEX and PEXPIREAT with
 * a past time delete at once, counted as no expiry. */
Test(commands, past_exat_pxat_on_set_stores_the_key_expired)
{
    const fc_store_stats *st = fc_store_get_stats(core.dbs[0]);
    cr_assert_str_eq(RUN(5000, "set", "k", "v", "pxat", "4000"), "+OK\r\n");
    cr_assert_str_eq(RUN(5000, "dbsize"), ":1\r\n");
    cr_assert_str_eq(RUN(5000, "info", "keyspace"),
                     "$44\r\n# Keyspace\r\ndb0:keys=1,expires=1,avg_ttl=0\r\n\r\n");
    cr_assert_eq(st->expired, 0);
    cr_assert_str_eq(RUN(5000, "get", "k"), "$-1\r\n");
    cr_assert_eq(st->expired, 1);
    cr_assert_str_eq(RUN(5000, "dbsize"), ":0\r\n");
    cr_assert_str_eq(RUN(5000, "set", "k", "v", "pxat", "4999"), "+OK\r\n"); /* 1 ms ago */
    cr_assert_str_eq(RUN(5000, "set", "j", "v", "exat", "4"), "+OK\r\n");
    cr_assert_str_eq(RUN(5000, "dbsize"), ":2\r\n");
    cr_assert_str_eq(RUN(5000, "ttl", "j"), ":-2\r\n");
    cr_assert_eq(st->expired, 2);
    /* GET returns the old value; XX on a missing key stores nothing. */
    cr_assert_str_eq(RUN(5000, "set", "g", "old"), "+OK\r\n");
    cr_assert_str_eq(RUN(5000, "set", "g", "v", "get", "pxat", "1"), "$3\r\nold\r\n");
    cr_assert_str_eq(RUN(5000, "set", "x", "v", "xx", "pxat", "1"), "$-1\r\n");
    cr_assert_str_eq(RUN(5000, "dbsize"), ":2\r\n"); /* k (expired), g (expired) */
    cr_assert_eq(st->expired, 2);
    /* GETEX and PEXPIREAT delete at once: no expiry is counted. */
    RUN(5000, "flushdb");
    cr_assert_str_eq(RUN(5000, "mset", "a", "1", "b", "2"), "+OK\r\n");
    cr_assert_str_eq(RUN(5000, "getex", "a", "pxat", "4999"), "$1\r\n1\r\n");
    cr_assert_str_eq(RUN(5000, "pexpireat", "b", "1"), ":1\r\n");
    cr_assert_str_eq(RUN(5000, "dbsize"), ":0\r\n");
    cr_assert_eq(st->expired, 2);
}

/* The value of an INFO stats field, or -1. */
static long long stat_field(int64_t now, const char *name)
{
    const char *txt = RUN(now, "info", "stats");
    char key[64];
    snprintf(key, sizeof(key), "\r\n%s:", name);
    const char *p = strstr(txt, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* Redis 7.0.15: a key is expired only once now > its time, so SET ... PXAT <now> then GET in the
 * same millisecond finds it. */
Test(commands, a_key_is_live_through_its_expiry_millisecond)
{
    cr_assert_str_eq(RUN(5000, "set", "k", "v", "pxat", "5000"), "+OK\r\n");
    cr_assert_str_eq(RUN(5000, "get", "k"), "$1\r\nv\r\n");
    cr_assert_str_eq(RUN(5000, "pttl", "k"), ":0\r\n");
    cr_assert_str_eq(RUN(5000, "keys", "*"), "*1\r\n$1\r\nk\r\n");
    cr_assert_str_eq(RUN(5000, "randomkey"), "$1\r\nk\r\n");
    cr_assert_str_eq(RUN(5001, "get", "k"), "$-1\r\n");
    cr_assert_eq(stat_field(5001, "expired_keys"), 1);
}

/* KEYS filters expired keys out and leaves them (DBSIZE, INFO keyspace and expired_keys do not
 * move); SCAN deletes the expired keys that match its pattern, and only those. */
Test(commands, keys_leaves_expired_keys_scan_reaps_the_matching_ones)
{
    RUN(1000, "set", "xa", "v", "px", "10");
    RUN(1000, "set", "ya", "v", "px", "10");
    RUN(1000, "set", "xlive", "v");
    cr_assert_str_eq(RUN(2000, "keys", "*a"), "*0\r\n");
    cr_assert_str_eq(RUN(2000, "keys", "x*"), "*1\r\n$5\r\nxlive\r\n");
    cr_assert_str_eq(RUN(2000, "dbsize"), ":3\r\n");
    cr_assert_str_eq(RUN(2000, "info", "keyspace"),
                     "$44\r\n# Keyspace\r\ndb0:keys=3,expires=2,avg_ttl=0\r\n\r\n");
    cr_assert_eq(stat_field(2000, "expired_keys"), 0);
    cr_assert_str_eq(RUN(2000, "scan", "0", "match", "x*", "count", "100"),
                     "*2\r\n$1\r\n0\r\n*1\r\n$5\r\nxlive\r\n");
    cr_assert_str_eq(RUN(2000, "dbsize"), ":2\r\n");
    cr_assert_eq(stat_field(2000, "expired_keys"), 1);
    cr_assert_str_eq(RUN(2000, "exists", "ya"), ":0\r\n"); /* the lookup reclaims it */
    cr_assert_eq(stat_field(2000, "expired_keys"), 2);
}

/* SCAN ... TYPE looks each matching key up as Redis does: a hit per live key, a miss (and a
 * delete) per expired one, whose type is then "none", so TYPE none returns it. */
Test(commands, scan_type_counts_lookups_and_type_none_returns_expired_keys)
{
    RUN(1000, "set", "e", "v", "px", "10");
    RUN(1000, "set", "live", "v");
    cr_assert_str_eq(RUN(2000, "scan", "0", "type", "list"), "*2\r\n$1\r\n0\r\n*0\r\n");
    cr_assert_eq(stat_field(2000, "keyspace_hits"), 1);
    cr_assert_eq(stat_field(2000, "keyspace_misses"), 1);
    cr_assert_eq(stat_field(2000, "expired_keys"), 1);
    RUN(1000, "set", "e", "v", "px", "10");
    cr_assert_str_eq(RUN(2000, "scan", "0", "type", "NONE"),
                     "*2\r\n$1\r\n0\r\n*1\r\n$1\r\ne\r\n");
    cr_assert_str_eq(RUN(2000, "dbsize"), ":1\r\n");
    cr_assert_str_eq(RUN(2000, "scan", "0", "type", "string", "match", "l*"),
                     "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nlive\r\n");
    cr_assert_eq(stat_field(2000, "keyspace_hits"), 3);
    cr_assert_eq(stat_field(2000, "keyspace_misses"), 2);
}

/* RANDOMKEY deletes the expired keys it picks (counted in expired_keys); with only expired keys
 * it deletes them all and replies nil, as Redis on a master. */
Test(commands, randomkey_deletes_the_expired_keys_it_picks)
{
    for (int i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        RUN(1000, "set", k, "v", "px", "10");
    }
    cr_assert_str_eq(RUN(2000, "randomkey"), "$-1\r\n");
    cr_assert_str_eq(RUN(2000, "dbsize"), ":0\r\n");
    cr_assert_eq(stat_field(2000, "expired_keys"), 50);
    cr_assert_eq(stat_field(2000, "keyspace_misses"), 0);
}

/* CONFIG RESETSTAT zeroes what Redis's resets: expired_keys, evicted_keys and keyspace_hits and
 * misses too, not only the connection and command counters. */
Test(commands, config_resetstat_zeroes_the_keyspace_counters)
{
    RUN(1000, "set", "e", "v", "px", "10");
    RUN(1000, "mset", "a", "1", "b", "2");
    RUN(2000, "get", "a");
    RUN(2000, "get", "e");
    fc_store_set_policy(core.dbs[0], FC_EVICT_ALLKEYS_RANDOM);
    cr_assert(fc_store_evict(core.dbs[0], 2000));
    core.stats.commands = 7;
    cr_assert_eq(stat_field(2000, "expired_keys"), 1);
    cr_assert_eq(stat_field(2000, "evicted_keys"), 1);
    cr_assert_eq(stat_field(2000, "keyspace_hits") + stat_field(2000, "keyspace_misses"), 2);
    cr_assert_str_eq(RUN(2000, "config", "resetstat"), "+OK\r\n");
    cr_assert_eq(stat_field(2000, "total_commands_processed"), 1, "the INFO itself, as Redis");
    static const char *const zeroed[] = {"expired_keys", "evicted_keys", "keyspace_hits",
                                         "keyspace_misses"};
    for (size_t i = 0; i < sizeof(zeroed) / sizeof(zeroed[0]); i++)
        cr_assert_eq(stat_field(2000, zeroed[i]), 0, "%s", zeroed[i]);
    cr_assert_str_eq(RUN(2000, "dbsize"), ":1\r\n", "the keys stay");
}

Test(commands, default_ttl_applies_to_writes_without_expiry)
{
    core.default_ttl_ms = 100000;
    cr_assert_str_eq(RUN(0, "set", "a", "1"), "+OK\r\n");
    cr_assert_str_eq(RUN(0, "ttl", "a"), ":100\r\n");
    cr_assert_str_eq(RUN(0, "set", "b", "1", "ex", "5"), "+OK\r\n");
    cr_assert_str_eq(RUN(0, "ttl", "b"), ":5\r\n");
    cr_assert_str_eq(RUN(0, "set", "c", "1", "persist"), "+OK\r\n");
    cr_assert_str_eq(RUN(0, "ttl", "c"), ":-1\r\n");
    cr_assert_str_eq(RUN(0, "mset", "d", "1", "e", "2"), "+OK\r\n");
    cr_assert_str_eq(RUN(0, "ttl", "e"), ":100\r\n");
    cr_assert_str_eq(RUN(0, "incr", "b"), ":2\r\n");       /* keeps its own TTL */
    cr_assert_str_eq(RUN(0, "ttl", "b"), ":5\r\n");
    cr_assert_str_eq(RUN(0, "set", "c", "1", "persist", "ex", "1"), "-ERR syntax error\r\n");
}

Test(commands, invalidate_counts_and_spares_other_namespaces)
{
    RUN(0, "mset", "users:1", "a", "users:2", "b", "orders:1", "c");
    cr_assert_str_eq(RUN(0, "invalidate", "users:*"), ":2\r\n");
    cr_assert_str_eq(RUN(0, "dbsize"), ":1\r\n");
    cr_assert_str_eq(RUN(0, "exists", "orders:1", "orders:1"), ":2\r\n");
}

Test(commands, select_isolates_databases)
{
    RUN(0, "set", "k", "0");
    cr_assert_str_eq(RUN(0, "select", "3"), "+OK\r\n");
    cr_assert_str_eq(RUN(0, "get", "k"), "$-1\r\n");
    cr_assert_str_eq(RUN(0, "select", "16"), "-ERR DB index is out of range\r\n");
    cr_assert_str_eq(RUN(0, "select", "01"),
                     "-ERR value is not an integer or out of range\r\n");
    RUN(0, "set", "k", "3");
    cr_assert_str_eq(RUN(0, "flushdb"), "+OK\r\n");
    cr_assert_str_eq(RUN(0, "select", "0"), "+OK\r\n");
    cr_assert_str_eq(RUN(0, "get", "k"), "$1\r\n0\r\n");
}
