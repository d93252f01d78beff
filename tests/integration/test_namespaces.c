/*
 * test_namespaces — INFO namespaces end to end: configured ([cache] namespaces and [ttl])
 * and auto-detected namespaces with exact keys/hits/misses/sets, keys summed over databases,
 * keys without ':' or with unprintable namespaces untracked, the namespaces_max cap, the section
 * only with INFO namespaces / all / everything, SIGHUP adding a namespace, redis-py's parse of
 * the lines, and an empty section in proxy mode.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/daemon_util.h"

TestSuite(namespaces, .fini = dt_fini, .timeout = 60);

static const char *const NS_CONF = "[cache]\n"
                                   "namespaces = users:admin:, cfg\n"
                                   "namespaces_max = 3\n"
                                   "[ttl]\n"
                                   "users: = 300\n";

/* INFO <args> (space-separated words, no '%') as a malloc'd string. */
static char *info(redisContext *c, const char *args)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "INFO %s", args); /* as a format: words become arguments */
    redisReply *r = dt_cmd(c, cmd);
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    char *s = strdup(r->str);
    freeReplyObject(r);
    return s;
}

static void run(redisContext *c, const char *const *cmds)
{
    for (; *cmds; cmds++)
        freeReplyObject(dt_cmd(c, *cmds));
}

/* Starts the daemon with the config text (plus a logfile line when log is not NULL). */
static char *start_with(fc_proc *d, char **dir, const char *text, char *log, size_t loglen)
{
    *dir = dt_tmpdir();
    char body[1024] = "";
    if (log) {
        snprintf(log, loglen, "%s/fc.log", *dir);
        snprintf(body, sizeof(body), "[server]\nlogfile = %s\n", log);
    }
    strncat(body, text, sizeof(body) - strlen(body) - 1);
    char *conf = dt_write_file(*dir, "fc.conf", body);
    dt_start(d, (const char *const[]){"-c", conf, NULL});
    return conf;
}

static void cleanup(char *dir, char *conf, const char *log)
{
    if (log)
        unlink(log);
    unlink(conf);
    rmdir(dir);
    free(conf);
    free(dir);
}

Test(namespaces, configured_and_auto_counters)
{
    static fc_proc d;
    char *dir, *conf = start_with(&d, &dir, NS_CONF, NULL, 0);
    redisContext *c = dt_connect(&d);
    run(c, (const char *const[]){"SET users:1 a",
                                 "SET users:2 b",
                                 "SET users:admin:1 c",
                                 "GET users:1",
                                 "GET users:9",
                                 "GET users:admin:1",
                                 "GET users:admin:1",
                                 "SET cfgA 1",
                                 "SET plain x",
                                 "GET plain",
                                 "SET a:1 x",
                                 "SET a:2 x",
                                 "GET a:3",
                                 "SET b:1 x",
                                 "SET c:1 x",
                                 "SET d:1 x",
                                 "GET d:1",           /* d: is past the cap of 3 */
                                 "SET we\x01ird:1 x", /* unprintable: untracked */
                                 "SELECT 1",
                                 "SET a:9 x",
                                 "GET users:2", /* a miss in db 1 */
                                 "SELECT 0",
                                 NULL});
    char *s = info(c, "namespaces");
    const char *want =
        "# Namespaces\r\n"
        "ns_users%3A:keys=2,hits=1,misses=2,sets=2,invalidations=0,evictions=0\r\n"
        "ns_users%3Aadmin%3A:keys=1,hits=2,misses=0,sets=1,invalidations=0,evictions=0\r\n"
        "ns_cfg:keys=1,hits=0,misses=0,sets=1,invalidations=0,evictions=0\r\n"
        "ns_a%3A:keys=3,hits=0,misses=1,sets=3,invalidations=0,evictions=0\r\n"
        "ns_b%3A:keys=1,hits=0,misses=0,sets=1,invalidations=0,evictions=0\r\n"
        "ns_c%3A:keys=1,hits=0,misses=0,sets=1,invalidations=0,evictions=0\r\n";
    cr_assert_str_eq(s, want);
    free(s);
    /* Keys gone from the keyspace are gone from keys=; the counters stay. */
    cr_assert_eq(dt_int(c, "DEL users:1 users:2"), 2);
    s = info(c, "namespaces");
    cr_assert_not_null(
        strstr(s, "ns_users%3A:keys=0,hits=1,misses=2,sets=2,invalidations=0,evictions=0\r\n"),
        "%s", s);
    free(s);
    redisFree(c);
    dt_stop_ok(&d);
    cleanup(dir, conf, NULL);
}

/* INVALIDATE attributes removed keys to their own namespaces, whether the prefix detaches a
 * subtree, ends inside a leaf, or is a general glob; evictions count per namespace too. */
Test(namespaces, invalidations_and_evictions)
{
    static fc_proc d;
    char *dir, *conf = start_with(&d, &dir,
                                  "[cache]\nnamespaces = users:admin:\nmaxmemory = 2mb\n"
                                  "maxmemory_policy = allkeys-random\n",
                                  NULL, 0);
    redisContext *c = dt_connect(&d);
    for (int i = 0; i < 3000; i++)
        freeReplyObject(dt_cmd(c, "SET users:%d x", i));
    for (int i = 0; i < 5; i++)
        freeReplyObject(dt_cmd(c, "SET users:admin:%d x", i));
    for (int i = 0; i < 10; i++)
        freeReplyObject(dt_cmd(c, "SET tmp:%d:x y", i));
    cr_assert_eq(dt_int(c, "INVALIDATE users:*"), 3005);
    cr_assert_eq(dt_int(c, "INVALIDATE tmp:*:x"), 10);
    char *s = info(c, "namespaces");
    cr_assert_not_null(
        strstr(s, "ns_users%3A:keys=0,hits=0,misses=0,sets=3000,invalidations=3000,"), "%s", s);
    cr_assert_not_null(
        strstr(s, "ns_users%3Aadmin%3A:keys=0,hits=0,misses=0,sets=5,invalidations=5,"), "%s", s);
    cr_assert_not_null(strstr(s, "ns_tmp%3A:keys=0,hits=0,misses=0,sets=10,invalidations=10,"),
                       "%s", s);
    free(s);
    /* 4 MB of 1 KiB values into 2 MB: evictions, all in big: */
    for (int i = 0; i < 4000; i++)
        freeReplyObject(dt_cmd(c, "SET big:%d %b", i, (char[1024]){0}, (size_t)1024));
    long long evicted = 4000 - dt_int(c, "DBSIZE");
    cr_assert_gt(evicted, 1000);
    s = info(c, "namespaces");
    char want[96];
    snprintf(want, sizeof(want), "invalidations=0,evictions=%lld\r\n", evicted);
    const char *line = strstr(s, "ns_big%3A:");
    cr_assert_not_null(line, "%s", s);
    cr_assert_not_null(strstr(line, want), "%s", s);
    free(s);
    redisFree(c);
    dt_stop_ok(&d);
    cleanup(dir, conf, NULL);
}

Test(namespaces, section_only_when_asked)
{
    static fc_proc d;
    char *dir, *conf = start_with(&d, &dir, NS_CONF, NULL, 0);
    redisContext *c = dt_connect(&d);
    dt_expect(c, "OK", "SET x:1 a");
    const struct {
        const char *args;
        bool has;
    } cases[] = {{"", false},
                 {"default", false},
                 {"all", true},
                 {"everything", true},
                 {"NAMESPACES", true},
                 {"keyspace", false},
                 {"default namespaces", true}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = info(c, cases[i].args);
        cr_assert_eq((strstr(s, "# Namespaces\r\n") && strstr(s, "\r\nns_x%3A:keys=1,")),
                     cases[i].has, "INFO %s:\n%s", cases[i].args, s);
        cr_assert_eq(strstr(s, "# Keyspace") != NULL,
                     strcmp(cases[i].args, "namespaces") != 0 &&
                         strcmp(cases[i].args, "NAMESPACES") != 0,
                     "INFO %s", cases[i].args);
        free(s);
    }
    redisFree(c);
    dt_stop_ok(&d);
    cleanup(dir, conf, NULL);
}

Test(namespaces, auto_detection_off)
{
    static fc_proc d;
    char *dir,
        *conf = start_with(&d, &dir, "[cache]\nnamespaces_max = 0\nnamespaces = s:\n", NULL, 0);
    redisContext *c = dt_connect(&d);
    run(c, (const char *const[]){"SET a:1 x", "SET s:1 x", "GET s:1", NULL});
    char *s = info(c, "namespaces");
    cr_assert_str_eq(s, "# Namespaces\r\n"
                        "ns_s%3A:keys=1,hits=1,misses=0,sets=1,invalidations=0,evictions=0\r\n");
    free(s);
    redisFree(c);
    dt_stop_ok(&d);
    cleanup(dir, conf, NULL);
}

Test(namespaces, sighup_adds_a_namespace)
{
    static fc_proc d;
    char log[256];
    char *dir, *conf = start_with(&d, &dir, NS_CONF, log, sizeof(log));
    redisContext *c = dt_connect(&d);
    dt_expect(c, "OK", "SET new:1 a");
    char text[512];
    snprintf(text, sizeof(text),
             "[server]\nlogfile = %s\n[cache]\nnamespaces = cfg, new:x:\nnamespaces_max = 3\n"
             "[ttl]\nusers: = 300\nsess: = 10\n",
             log);
    char *l = dt_reload(&d, dir, text, log);
    cr_assert_not_null(strstr(l, "Config reload: [cache] namespaces = cfg, new:x: (was: "
                                 "namespaces = users:admin:, cfg)"),
                       "%s", l);
    cr_assert_null(strstr(l, "ignored until restart"), "%s", l);
    free(l);
    run(c, (const char *const[]){"SET new:x:1 a", "SET new:2 a", "SET sess:1 a",
                                 "SET users:admin:2 a", NULL});
    char *s = info(c, "namespaces");
    /* users:admin: is no longer in the file but stays (with its counters) until restart. */
    cr_assert_str_eq(
        s, "# Namespaces\r\n"
           "ns_users%3A:keys=0,hits=0,misses=0,sets=0,invalidations=0,evictions=0\r\n"
           "ns_users%3Aadmin%3A:keys=1,hits=0,misses=0,sets=1,invalidations=0,evictions=0\r\n"
           "ns_cfg:keys=0,hits=0,misses=0,sets=0,invalidations=0,evictions=0\r\n"
           "ns_new%3A:keys=2,hits=0,misses=0,sets=2,invalidations=0,evictions=0\r\n"
           "ns_sess%3A:keys=1,hits=0,misses=0,sets=1,invalidations=0,evictions=0\r\n"
           "ns_new%3Ax%3A:keys=1,hits=0,misses=0,sets=1,invalidations=0,evictions=0\r\n");
    free(s);
    redisFree(c);
    dt_stop_ok(&d);
    cleanup(dir, conf, log);
}

/* redis-py (Debian's python3-redis) parses every line into its own dict. */
Test(namespaces, redis_py_parses_the_lines)
{
    if (system("/usr/bin/python3 -c 'import redis' 2>/dev/null") != 0)
        cr_skip_test("python3-redis is not installed");
    static fc_proc d;
    char *dir, *conf = start_with(&d, &dir, NS_CONF, NULL, 0);
    redisContext *c = dt_connect(&d);
    run(c,
        (const char *const[]){"SET users:1 a", "GET users:1", "GET users:2", "SET q%%:1 b", NULL});
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c 'import redis, urllib.parse as u; "
             "i = redis.Redis(port=%d).info(\"namespaces\"); "
             "print(sorted((u.unquote(k[3:]), v[\"keys\"], v[\"hits\"], v[\"misses\"]) "
             "for k, v in i.items()))'",
             d.port);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char out[512] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "%s", out);
    cr_assert_str_eq(out, "[('cfg', 0, 0, 0), ('q%:', 1, 0, 0), ('users:', 1, 1, 1), "
                          "('users:admin:', 0, 0, 0)]\n");
    redisFree(c);
    dt_stop_ok(&d);
    cleanup(dir, conf, NULL);
}

/* INFO is answered by the daemon itself, so no upstream is needed: port 1 refuses. */
Test(namespaces, proxy_mode_has_an_empty_section)
{
    static fc_proc d;
    char *dir = dt_tmpdir(), *conf = dt_write_file(dir, "fc.conf", NS_CONF);
    dt_start(&d, (const char *const[]){"-c", conf, "--driver", "redis", "--redis-host", "127.0.0.1",
                                       "--redis-port", "1", NULL});
    redisContext *c = dt_connect(&d);
    redisReply *r = dt_cmd(c, "SET users:1 a");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR, "no upstream: %s", r->str);
    freeReplyObject(r);
    char *s = info(c, "namespaces");
    cr_assert_str_eq(s, "# Namespaces\r\n");
    free(s);
    redisFree(c);
    dt_stop_ok(&d);
    cleanup(dir, conf, NULL);
}
