/*
 * test_ttl_prefix — the [ttl] section end to end: default TTLs per key prefix with both drivers
 * (memory, and the redis proxy where the TTLs are checked on the upstream itself, also under
 * [redis] key_prefix), MSET/MSETNX mixing prefixes, the longest prefix winning, `none` beating
 * [cache] ttl, SIGHUP changing a prefix's TTL, and --test-config printing the section or
 * reporting file:line for a bad value.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/daemon_util.h"

static fc_proc up_proc;

static void ttl_fini(void)
{
    dt_fini();
    if (up_proc.pid > 0)
        fc_stop(&up_proc);
}

TestSuite(test_ttl_prefix, .fini = ttl_fini, .timeout = 60);

static const char *const TTL_CONF = "[cache]\nttl = 60\n"
                                    "[ttl]\n"
                                    "users: = 300\n"
                                    "users:admin: = 30 ; longer prefix wins\n"
                                    "session: = 1800\n"
                                    "config: = none\n";

/* TTL of key on c is want (or one second less); -1 exactly. */
static void ttl_is(redisContext *c, const char *key, long long want)
{
    long long t = dt_int(c, "TTL %s", key);
    cr_assert(t == want || (want > 0 && t == want - 1), "TTL %s = %lld, want %lld", key, t, want);
}

/* Writes through c (the daemon), checks TTLs on check (the daemon, or the upstream Redis with
 * the key prefix kp). */
static void check_prefix_ttls(redisContext *c, redisContext *check, const char *kp)
{
    char k[128];
#define TTL_OF(key, want) (snprintf(k, sizeof(k), "%s%s", kp, key), ttl_is(check, k, want))
    dt_expect(c, "OK", "SET users:1 a");
    dt_expect(c, "OK", "SET session:x a");
    dt_expect(c, "OK", "SET config:y a");
    dt_expect(c, "OK", "SET other a");
    dt_expect(c, "OK", "SET users:admin:1 a");
    TTL_OF("users:1", 300);
    TTL_OF("session:x", 1800);
    TTL_OF("config:y", -1);
    TTL_OF("other", 60);
    TTL_OF("users:admin:1", 30);
    /* An explicit expiry still wins; KEEPTTL keeps; PERSIST persists. */
    dt_expect(c, "OK", "SET users:2 a EX 7");
    TTL_OF("users:2", 7);
    dt_expect(c, "OK", "SET users:2 b KEEPTTL");
    TTL_OF("users:2", 7);
    dt_expect(c, "OK", "SET users:3 b KEEPTTL");
    TTL_OF("users:3", 300);
    dt_expect(c, "OK", "SET users:4 b PERSIST");
    TTL_OF("users:4", -1);
    /* MSET and MSETNX: each key its own default. */
    dt_expect(c, "OK", "MSET users:m 1 session:m 2 config:m 3 other:m 4");
    TTL_OF("users:m", 300);
    TTL_OF("session:m", 1800);
    TTL_OF("config:m", -1);
    TTL_OF("other:m", 60);
    cr_assert_eq(dt_int(c, "MSETNX users:n 1 config:n 2 session:n 3"), 1);
    TTL_OF("users:n", 300);
    TTL_OF("config:n", -1);
    TTL_OF("session:n", 1800);
    cr_assert_eq(dt_int(c, "MSETNX config:n2 1 config:n3 2"), 1);
    TTL_OF("config:n2", -1);
    cr_assert_eq(dt_int(c, "MSETNX users:n 9 users:n4 1"), 0);
    cr_assert_eq(dt_int(c, "EXISTS users:n4"), 0);
    /* SETNX, GETSET and the commands that create a key. */
    cr_assert_eq(dt_int(c, "SETNX session:s v"), 1);
    TTL_OF("session:s", 1800);
    cr_assert_eq(dt_int(c, "SETNX config:s v"), 1);
    TTL_OF("config:s", -1);
    freeReplyObject(dt_cmd(c, "GETSET users:g v"));
    TTL_OF("users:g", 300);
    cr_assert_eq(dt_int(c, "INCR session:i"), 1);
    TTL_OF("session:i", 1800);
    cr_assert_eq(dt_int(c, "INCR config:i"), 1);
    TTL_OF("config:i", -1);
    cr_assert_eq(dt_int(c, "APPEND users:ap xy"), 2);
    TTL_OF("users:ap", 300);
    /* An existing key keeps its TTL. */
    cr_assert_eq(dt_int(c, "INCR session:i"), 2);
    TTL_OF("session:i", 1800);
#undef TTL_OF
}

static char *write_conf(char **dir, const char *body)
{
    *dir = dt_tmpdir();
    return dt_write_file(*dir, "fc.conf", body);
}

static void remove_conf(char *dir, char *conf)
{
    unlink(conf);
    rmdir(dir);
    free(conf);
    free(dir);
}

Test(test_ttl_prefix, memory_driver)
{
    static fc_proc d;
    char *dir, *conf = write_conf(&dir, TTL_CONF);
    dt_start(&d, (const char *const[]){"-c", conf, NULL});
    redisContext *c = dt_connect(&d);
    check_prefix_ttls(c, c, "");
    redisFree(c);
    dt_stop_ok(&d);
    remove_conf(dir, conf);
}

/* Starts fastcached -c conf --driver redis pointed at up_proc, plus extra args (may be NULL). */
static void start_proxy(fc_proc *d, const char *conf, const char *extra1, const char *extra2)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", up_proc.port);
    const char *args[] = {"-c", conf, "--driver", "redis", "--redis-host", "127.0.0.1",
                          "--redis-port", port, extra1, extra2, NULL};
    dt_start(d, args);
}

Test(test_ttl_prefix, proxy_driver_upstream_ttls)
{
    static fc_proc d;
    cr_assert_eq(fc_start_redis(&up_proc, NULL), 0, "redis-server did not start");
    char *dir, *conf = write_conf(&dir, TTL_CONF);
    start_proxy(&d, conf, NULL, NULL);
    fc_proc u = {.port = up_proc.port};
    redisContext *c = dt_connect(&d), *up = dt_connect(&u);
    check_prefix_ttls(c, up, "");
    dt_expect(c, "OK", "FLUSHALL");
    check_prefix_ttls(c, c, "");
    redisFree(c);
    dt_stop_ok(&d);

    /* Under a key prefix the client's key is matched, not the upstream one. */
    dt_expect(up, "OK", "FLUSHALL");
    start_proxy(&d, conf, "--redis-key-prefix", "svc:");
    c = dt_connect(&d);
    check_prefix_ttls(c, up, "svc:");
    redisFree(c);
    redisFree(up);
    dt_stop_ok(&d);
    remove_conf(dir, conf);
}

static void sighup_changes_prefix_ttl(bool proxy)
{
    static fc_proc d;
    char *dir = dt_tmpdir(), text[512], log[256];
    snprintf(log, sizeof(log), "%s/fc.log", dir);
    snprintf(text, sizeof(text), "[server]\nlogfile = %s\n%s", log, TTL_CONF);
    char *conf = dt_write_file(dir, "fc.conf", text);
    if (proxy) {
        cr_assert_eq(fc_start_redis(&up_proc, NULL), 0, "redis-server did not start");
        start_proxy(&d, conf, NULL, NULL);
    } else {
        dt_start(&d, (const char *const[]){"-c", conf, NULL});
    }
    redisContext *c = dt_connect(&d);
    dt_expect(c, "OK", "SET users:1 a");
    ttl_is(c, "users:1", 300);
    snprintf(text, sizeof(text),
             "[server]\nlogfile = %s\n[cache]\nttl = 60\n[ttl]\nusers: = 500\nconfig: = 40\n"
             "fresh: = none\n",
             log);
    char *l = dt_reload(&d, dir, text, log);
    cr_assert_not_null(strstr(l, "Config reload: [ttl] users: = 500"), "%s", l);
    cr_assert_not_null(strstr(l, "Config reload: [ttl] removed: session: = 1800"), "%s", l);
    cr_assert_null(strstr(l, "ignored until restart"), "%s", l);
    free(l);
    dt_expect(c, "OK", "MSET users:2 a config:2 b session:2 c fresh:2 d");
    ttl_is(c, "users:2", 500);
    ttl_is(c, "config:2", 40);
    ttl_is(c, "session:2", 60);
    ttl_is(c, "fresh:2", -1);
    ttl_is(c, "users:1", 300);
    redisFree(c);
    dt_stop_ok(&d);
    unlink(log);
    remove_conf(dir, conf);
}

Test(test_ttl_prefix, sighup_changes_a_prefix_ttl_memory)
{
    sighup_changes_prefix_ttl(false);
}

Test(test_ttl_prefix, sighup_changes_a_prefix_ttl_proxy)
{
    sighup_changes_prefix_ttl(true);
}

Test(test_ttl_prefix, test_config_prints_the_section_and_reports_bad_values)
{
    char *dir, *conf = write_conf(&dir, TTL_CONF);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "%s -c %s --test-config", fc_daemon_bin(), conf);
    int st;
    char *out = fc_run_capture(cmd, &st);
    cr_assert_eq(st, 0);
    cr_assert_not_null(strstr(out, "\n[ttl]\nusers: = 300\nusers:admin: = 30\nsession: = 1800\n"
                                   "config: = none\n"),
                       "%s", out);
    free(out);
    free(dt_write_file(dir, "fc.conf", "[ttl]\nusers: = 300\nsession: = soon\n"));
    snprintf(cmd, sizeof(cmd), "%s -c %s --test-config 2>&1", fc_daemon_bin(), conf);
    out = fc_run_capture(cmd, &st);
    cr_assert_neq(st, 0);
    char want[512];
    snprintf(want, sizeof(want),
             "%s:3: invalid ttl 'soon' for prefix 'session:' (expected a number of seconds or "
             "none)",
             conf);
    cr_assert_not_null(strstr(out, want), "%s", out);
    free(out);
    remove_conf(dir, conf);
}
