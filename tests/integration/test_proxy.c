/*
 * test_proxy — the redis driver end to end: fastcached in front of a real redis-server that each
 * test starts, checked through fastcached and, where it matters, on the upstream directly.
 *
 * Covered: the default TTL on every write family (and the same replies as the memory driver),
 * key_prefix isolation (KEYS, SCAN, INVALIDATE, FLUSHDB, FLUSHALL, DBSIZE, RANDOMKEY, a prefix
 * with glob characters), a 20,000-key INVALIDATE that does not stall other clients, SELECT and
 * [redis] db routing, RESP3 replies passed through byte for byte, upstream AUTH (right and wrong
 * password) and a unix socket upstream. The byte-for-byte command suite through the proxy lives
 * in test_compat.c and is not repeated here.
 *
 * Processes: daemons go through daemon_util (dt_start, stopped by dt_fini); redis-servers are
 * recorded here and stopped by the suite's fini too.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/daemon_util.h"

#define MAX_UP 4
#define IO_MS 5000

static fc_proc *ups[MAX_UP];
static int nups;

static void proxy_fini(void)
{
    dt_fini();
    for (int i = 0; i < nups; i++)
        if (ups[i]->pid > 0)
            fc_stop(ups[i]);
    nups = 0;
}

TestSuite(test_proxy, .fini = proxy_fini, .timeout = 60);

/* ---- helpers ------------------------------------------------------------------------------ */

/* Starts a redis-server (extra args may be NULL) that the fini stops. */
static void start_up(fc_proc *u, const char *const *extra)
{
    int r = fc_start_redis(u, extra);
    cr_assert_eq(r, 0, "redis-server did not start");
    cr_assert_lt(nups, MAX_UP);
    ups[nups++] = u;
}

/* Starts fastcached with --driver redis pointed at u, plus up to 8 extra args. */
static void start_proxy(fc_proc *d, const fc_proc *u, const char *const *extra)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", u->port);
    const char *args[24] = {"--driver", "redis", "--redis-host", "127.0.0.1", "--redis-port",
                            port};
    int n = 6;
    for (int i = 0; extra && extra[i] && n < 22; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    dt_start(d, args);
}

static redisContext *connect_port(int port)
{
    fc_proc p = {.port = port};
    return dt_connect(&p);
}

/* Sends one command line (redis-cli quoting) on a raw socket and returns the raw reply. */
static char *raw_cmd(int fd, const char *line)
{
    char **argv;
    size_t *argvlen, len;
    int argc = fc_split_args(line, &argv, &argvlen);
    cr_assert_gt(argc, 0, "bad command line %s", line);
    char *req = fc_encode_cmd(argc, (const char *const *)argv, argvlen, &len);
    cr_assert_eq(fc_send_all(fd, req, len), 0);
    free(req);
    fc_free_args(argc, argv, argvlen);
    char *rep = fc_read_reply(fd, &len, IO_MS);
    cr_assert_not_null(rep, "no reply to '%s'", line);
    return rep;
}

static void raw_expect(int fd, const char *line, const char *want)
{
    char *rep = raw_cmd(fd, line);
    cr_assert_str_eq(rep, want, "'%s'", line);
    free(rep);
}

static int raw_connect(const fc_proc *p)
{
    int fd = fc_connect(p->port);
    cr_assert_geq(fd, 0, "connect to %d", p->port);
    return fd;
}

/* The string reply of a command, asserted to be a bulk string (malloc'd). */
static char *str_cmd(redisContext *c, const char *fmt, const char *arg)
{
    redisReply *r = dt_cmd(c, fmt, arg);
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "'%s %s': type %d", fmt, arg, r->type);
    char *s = strdup(r->str);
    freeReplyObject(r);
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts names[0..n) and joins them with ',' into out. */
static void join_sorted(char **names, size_t n, char *out, size_t cap)
{
    qsort(names, n, sizeof(*names), cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strncat(out, ",", cap - strlen(out) - 1);
        strncat(out, names[i], cap - strlen(out) - 1);
    }
}

/* KEYS pattern, sorted and joined. */
static void keys_of(redisContext *c, const char *pattern, char *out, size_t cap)
{
    redisReply *r = dt_cmd(c, "KEYS %s", pattern);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    char **names = calloc(r->elements + 1, sizeof(*names));
    for (size_t i = 0; i < r->elements; i++)
        names[i] = r->element[i]->str;
    join_sorted(names, r->elements, out, cap);
    free(names);
    freeReplyObject(r);
}

/* A full SCAN (MATCH pattern when not NULL), deduplicated, sorted and joined. */
static void scan_of(redisContext *c, const char *pattern, char *out, size_t cap)
{
    char cursor[32] = "0";
    char *names[256];
    size_t n = 0;
    do {
        redisReply *r = pattern ? dt_cmd(c, "SCAN %s MATCH %s COUNT 3", cursor, pattern)
                                : dt_cmd(c, "SCAN %s COUNT 3", cursor);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->elements, 2);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            bool seen = false;
            for (size_t j = 0; j < n; j++)
                seen |= strcmp(names[j], k) == 0;
            if (!seen && n < 256)
                names[n++] = strdup(k);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    join_sorted(names, n, out, cap);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
}

static bool exists_in(redisContext *up, int db, const char *key)
{
    dt_expect(up, "OK", "SELECT %d", db);
    return dt_int(up, "EXISTS %s", key) == 1;
}

/* ---- default TTL -------------------------------------------------------------------------- */

static const char *const TTL_SEQ[] = {
    "SET a 1", "TTL a", "SET b 1 EX 5", "TTL b", "SET c 1 PERSIST", "TTL c",
    "SET k 1 KEEPTTL", "TTL k", "SET c2 1 EX 5 PERSIST",
    "MSET m1 1 m2 2", "TTL m1", "TTL m2",
    "SETNX n 1", "SETNX n 2", "TTL n", "GET n",
    "SET n2 x PERSIST", "SETNX n2 y", "TTL n2", "GET n2",
    "SET g old EX 5", "GETSET g new", "TTL g", "GET g", "GETSET gnew v", "TTL gnew",
    "INCR i", "TTL i", "APPEND ap xy", "TTL ap", "INCRBY ib 5", "TTL ib",
    "SETRANGE sr 2 ab", "TTL sr", "INCRBYFLOAT f 1.5", "TTL f",
    "SET e 5 EX 50", "INCR e", "TTL e", "APPEND e 1", "TTL e", "GET e",
    "MSETNX x1 1 x2 2", "TTL x1", "TTL x2", "MSETNX x1 9 x3 3", "EXISTS x3", "GET x1",
    "INCR a", "TTL a", "DBSIZE", NULL,
};

/* Equal bytes, or two TTL integers at most 1 apart. */
static void assert_same_reply(const char *line, const char *proxy, const char *mem)
{
    if (strncmp(line, "TTL ", 4) == 0 && proxy[0] == ':' && mem[0] == ':') {
        long a = strtol(proxy + 1, NULL, 10), b = strtol(mem + 1, NULL, 10);
        cr_assert(labs(a - b) <= 1, "'%s': proxy %ld, memory %ld", line, a, b);
        return;
    }
    cr_assert_str_eq(proxy, mem, "'%s': proxy and memory driver differ", line);
}

static void assert_ttl_near(redisContext *c, const char *key, long want)
{
    long long t = dt_int(c, "TTL %s", key);
    cr_assert(t == want || (want > 0 && t == want - 1), "TTL %s = %lld, want ~%ld", key, t, want);
}

Test(test_proxy, default_ttl_on_every_write_family_same_as_memory_driver)
{
    static fc_proc up, px, mem;
    start_up(&up, NULL);
    start_proxy(&px, &up, (const char *const[]){"--ttl", "100", NULL});
    dt_start(&mem, (const char *const[]){"--ttl", "100", NULL});
    int fp = raw_connect(&px), fm = raw_connect(&mem);
    for (int i = 0; TTL_SEQ[i]; i++) {
        char *a = raw_cmd(fp, TTL_SEQ[i]), *b = raw_cmd(fm, TTL_SEQ[i]);
        assert_same_reply(TTL_SEQ[i], a, b);
        free(a);
        free(b);
    }
    /* The expiry times really are upstream. */
    redisContext *u = connect_port(up.port);
    const char *hundred[] = {"a", "m1", "m2", "n", "g", "gnew", "i", "ap", "ib", "sr", "f",
                             "x1", "x2", "k"};
    for (size_t i = 0; i < sizeof(hundred) / sizeof(*hundred); i++)
        assert_ttl_near(u, hundred[i], 100);
    assert_ttl_near(u, "b", 5);
    assert_ttl_near(u, "e", 50);
    assert_ttl_near(u, "c", -1);
    assert_ttl_near(u, "n2", -1);
    cr_assert_eq(dt_int(u, "EXISTS x3 c2"), 0);
    char *v = str_cmd(u, "GET %s", "g");
    cr_assert_str_eq(v, "new");
    free(v);
    redisFree(u);
    close(fp);
    close(fm);
    dt_stop_ok(&px);
}

/* ---- key prefix --------------------------------------------------------------------------- */

Test(test_proxy, key_prefix_isolates_tenants)
{
    static fc_proc up, px;
    start_up(&up, NULL);
    start_proxy(&px, &up, (const char *const[]){"--redis-key-prefix", "svc:", NULL});
    redisContext *u = connect_port(up.port), *c = dt_connect(&px);
    char got[1024];
    /* Another tenant's keys, and an unprefixed one, in several dbs. */
    dt_expect(u, "OK", "MSET other:x 1 users:9 1 other:users:1 1");
    dt_expect(u, "OK", "SELECT 3");
    dt_expect(u, "OK", "MSET other:y 1 svc:d3 1");
    dt_expect(u, "OK", "SELECT 7");
    dt_expect(u, "OK", "MSET other:z 1 svc:d7 1");
    dt_expect(u, "OK", "SELECT 0");

    dt_expect(c, "OK", "SET users:1 alice");
    dt_expect(c, "OK", "SET users:2 bob");
    dt_expect(c, "OK", "SET foo bar");
    char *v = str_cmd(u, "GET %s", "svc:users:1");
    cr_assert_str_eq(v, "alice");
    free(v);
    cr_assert_eq(dt_int(u, "EXISTS users:1"), 0);

    keys_of(c, "*", got, sizeof(got));
    cr_assert_str_eq(got, "foo,users:1,users:2");
    keys_of(c, "users:*", got, sizeof(got));
    cr_assert_str_eq(got, "users:1,users:2");
    scan_of(c, NULL, got, sizeof(got));
    cr_assert_str_eq(got, "foo,users:1,users:2");
    scan_of(c, "users:*", got, sizeof(got));
    cr_assert_str_eq(got, "users:1,users:2");
    cr_assert_eq(dt_int(c, "DBSIZE"), 3);
    for (int i = 0; i < 20; i++) {
        char *k = str_cmd(c, "RANDOMKEY%s", "");
        cr_assert(strcmp(k, "foo") == 0 || strcmp(k, "users:1") == 0 || strcmp(k, "users:2") == 0,
                  "RANDOMKEY gave %s", k);
        free(k);
    }

    cr_assert_eq(dt_int(c, "INVALIDATE users:*"), 2);
    cr_assert_eq(dt_int(c, "DBSIZE"), 1);
    cr_assert(exists_in(u, 0, "users:9") && exists_in(u, 0, "other:users:1"));

    dt_expect(c, "OK", "FLUSHDB");
    cr_assert_eq(dt_int(c, "DBSIZE"), 0);
    redisReply *r = dt_cmd(c, "RANDOMKEY");
    cr_assert_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    cr_assert(exists_in(u, 0, "other:x") && exists_in(u, 0, "users:9"));
    cr_assert(exists_in(u, 3, "svc:d3"), "FLUSHDB reached another db");

    dt_expect(c, "OK", "SELECT 3");
    dt_expect(c, "OK", "SET q 1");
    cr_assert_eq(dt_int(c, "DBSIZE"), 2); /* d3 and q */
    dt_expect(c, "OK", "FLUSHALL");
    cr_assert_eq(dt_int(c, "DBSIZE"), 0);
    cr_assert(!exists_in(u, 3, "svc:d3") && !exists_in(u, 3, "svc:q") &&
              !exists_in(u, 7, "svc:d7"));
    cr_assert(exists_in(u, 0, "other:x") && exists_in(u, 0, "users:9") &&
              exists_in(u, 3, "other:y") && exists_in(u, 7, "other:z"));
    redisFree(c);
    redisFree(u);
    dt_stop_ok(&px);
}

Test(test_proxy, key_prefix_with_glob_characters_still_isolates)
{
    static fc_proc up, px;
    start_up(&up, NULL);
    start_proxy(&px, &up, (const char *const[]){"--redis-key-prefix", "a*[b]:", NULL});
    redisContext *u = connect_port(up.port), *c = dt_connect(&px);
    char got[1024];
    /* These match the prefix read as a glob, but are not under it. */
    dt_expect(u, "OK", "MSET aQb:k1 1 a*b:k3 1 ab:k 1");
    dt_expect(c, "OK", "SET k 1");
    dt_expect(c, "OK", "SET k2 2");
    cr_assert(exists_in(u, 0, "a*[b]:k"));
    keys_of(c, "*", got, sizeof(got));
    cr_assert_str_eq(got, "k,k2");
    scan_of(c, NULL, got, sizeof(got));
    cr_assert_str_eq(got, "k,k2");
    scan_of(c, "k*", got, sizeof(got));
    cr_assert_str_eq(got, "k,k2");
    cr_assert_eq(dt_int(c, "DBSIZE"), 2);
    for (int i = 0; i < 10; i++) {
        char *k = str_cmd(c, "RANDOMKEY%s", "");
        cr_assert(strcmp(k, "k") == 0 || strcmp(k, "k2") == 0, "RANDOMKEY gave %s", k);
        free(k);
    }
    cr_assert_eq(dt_int(c, "INVALIDATE k*"), 2);
    dt_expect(c, "OK", "SET k 1");
    dt_expect(c, "OK", "FLUSHDB");
    cr_assert_eq(dt_int(c, "DBSIZE"), 0);
    dt_expect(c, "OK", "FLUSHALL");
    cr_assert_eq(dt_int(u, "DBSIZE"), 3, "another tenant's keys were removed");
    redisFree(c);
    redisFree(u);
    dt_stop_ok(&px);
}

/* ---- INVALIDATE under load ---------------------------------------------------------------- */

#define NINV 20000

Test(test_proxy, invalidate_20000_keys_does_not_stall_other_clients)
{
    static fc_proc up, px;
    start_up(&up, NULL);
    start_proxy(&px, &up, NULL);
    redisContext *u = connect_port(up.port);
    for (int i = 0; i < NINV; i++)
        redisAppendCommand(u, "SET inv:%d %d", i, i);
    for (int i = 0; i < 100; i++)
        redisAppendCommand(u, "SET keep:%d %d", i, i);
    for (int i = 0; i < NINV + 100; i++) {
        redisReply *r;
        cr_assert_eq(redisGetReply(u, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
    int a = raw_connect(&px), b = raw_connect(&px);
    raw_expect(b, "SET other v", "+OK\r\n");
    static const char inv[] = "*2\r\n$10\r\nINVALIDATE\r\n$5\r\ninv:*\r\n"
                              "*2\r\n$3\r\nGET\r\n$5\r\ninv:7\r\n";
    cr_assert_eq(fc_send_all(a, inv, sizeof(inv) - 1), 0);
    int pings = 0, gets = 0;
    int64_t deadline = dt_now_ms() + 20000;
    struct pollfd pa = {.fd = a, .events = POLLIN};
    while (poll(&pa, 1, 0) == 0) {
        cr_assert_lt(dt_now_ms(), deadline, "INVALIDATE did not answer");
        raw_expect(b, "PING", "+PONG\r\n");
        pings++;
        raw_expect(b, "GET other", "$1\r\nv\r\n");
        gets++;
    }
    size_t len;
    char *rep = fc_read_reply(a, &len, IO_MS);
    cr_assert_not_null(rep);
    cr_assert_str_eq(rep, ":20000\r\n", "INVALIDATE count");
    free(rep);
    rep = fc_read_reply(a, &len, IO_MS);
    cr_assert_not_null(rep);
    cr_assert_str_eq(rep, "$-1\r\n", "a GET right after INVALIDATE still saw the key");
    free(rep);
    cr_log_info("other client: %d PINGs and %d GETs answered during INVALIDATE", pings, gets);
    cr_assert_gt(gets, 0, "no upstream reply reached the other client during INVALIDATE");
    cr_assert_eq(dt_int(u, "DBSIZE"), 101); /* keep:* and other */
    close(a);
    close(b);
    redisFree(u);
    dt_stop_ok(&px);
}

/* ---- databases and RESP3 ------------------------------------------------------------------ */

Test(test_proxy, select_routes_to_upstream_db)
{
    static fc_proc up, px;
    start_up(&up, NULL);
    start_proxy(&px, &up, NULL);
    redisContext *c = dt_connect(&px);
    dt_expect(c, "OK", "SELECT 5");
    dt_expect(c, "OK", "SET sel v5");
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d -n 5 GET sel", up.port);
    int st;
    char *out = fc_run_capture(cmd, &st);
    cr_assert_eq(st, 0);
    cr_assert_str_eq(out, "v5\n");
    free(out);
    redisContext *u = connect_port(up.port);
    cr_assert(!exists_in(u, 0, "sel"));
    dt_expect(c, "OK", "SELECT 0");
    redisReply *r = dt_cmd(c, "GET sel");
    cr_assert_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    redisFree(u);
    redisFree(c);
    dt_stop_ok(&px);
}

Test(test_proxy, redis_db_is_where_fresh_clients_start)
{
    static fc_proc up, px;
    start_up(&up, NULL);
    start_proxy(&px, &up, (const char *const[]){"--redis-db", "2", NULL});
    redisContext *c = dt_connect(&px);
    dt_expect(c, "OK", "SET indb2 yes");
    redisFree(c);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d -n 2 GET indb2", up.port);
    int st;
    char *out = fc_run_capture(cmd, &st);
    cr_assert_str_eq(out, "yes\n");
    free(out);
    redisContext *u = connect_port(up.port);
    cr_assert(!exists_in(u, 0, "indb2"));
    c = dt_connect(&px); /* a second fresh client starts in db 2 as well */
    char *v = str_cmd(c, "GET %s", "indb2");
    cr_assert_str_eq(v, "yes");
    free(v);
    dt_expect(c, "OK", "SELECT 0");
    redisReply *r = dt_cmd(c, "GET indb2");
    cr_assert_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    redisFree(c);
    redisFree(u);
    dt_stop_ok(&px);
}

Test(test_proxy, resp3_replies_equal_redis_bytes)
{
    static fc_proc up, px;
    start_up(&up, NULL);
    start_proxy(&px, &up, NULL);
    int fp = raw_connect(&px), fr = raw_connect(&up);
    free(raw_cmd(fp, "HELLO 3"));
    free(raw_cmd(fr, "HELLO 3"));
    raw_expect(fp, "MSET r3a 1 r3b \"two\"", "+OK\r\n");
    const char *lines[] = {"GET missing", "MGET r3a missing r3b", "MGET nope nope2",
                           "GET r3a", "TTL r3a", "EXISTS r3a missing", "GETDEL missing",
                           "GETEX r3a", "SET r3c x GET", "INCR r3a", "KEYS r3*", NULL};
    for (int i = 0; lines[i]; i++) {
        char *a = raw_cmd(fp, lines[i]), *b = raw_cmd(fr, lines[i]);
        if (strcmp(lines[i], "KEYS r3*") != 0 && strcmp(lines[i], "SET r3c x GET") != 0 &&
            strcmp(lines[i], "INCR r3a") != 0)
            cr_assert_str_eq(a, b, "'%s' differs under RESP3", lines[i]);
        free(a);
        free(b);
    }
    raw_expect(fp, "GET missing", "_\r\n");
    close(fp);
    close(fr);
    dt_stop_ok(&px);
}

/* ---- authentication and unix sockets ----------------------------------------------------- */

Test(test_proxy, upstream_password_right_and_wrong)
{
    static fc_proc up, good, bad;
    start_up(&up, (const char *const[]){"--requirepass", "secret", NULL});
    start_proxy(&good, &up, (const char *const[]){"--redis-password", "secret", NULL});
    start_proxy(&bad, &up,
                (const char *const[]){"--redis-password", "wrong", "--redis-connect-timeout-ms",
                                      "300", "--redis-request-timeout-ms", "800", NULL});
    redisContext *c = dt_connect(&good);
    dt_expect(c, "OK", "SET authed 1");
    char *v = str_cmd(c, "GET %s", "authed");
    cr_assert_str_eq(v, "1");
    free(v);
    redisFree(c);

    int fd = raw_connect(&bad);
    for (int i = 0; i < 2; i++) {
        int64_t t0 = dt_now_ms();
        char *rep = raw_cmd(fd, "GET authed");
        int64_t took = dt_now_ms() - t0;
        cr_assert(strncmp(rep, "-ERR upstream", 13) == 0, "wrong password gave %s", rep);
        cr_assert_lt(took, 3000, "the error took %lld ms", (long long)took);
        free(rep);
    }
    raw_expect(fd, "PING", "+PONG\r\n");
    close(fd);
    char *log = dt_slurp(bad.logpath);
    cr_assert(strstr(log, "WRONGPASS") != NULL || strstr(log, "AUTH") != NULL,
              "the log does not say why:\n%s", log);
    free(log);
    dt_stop_ok(&bad);
    dt_stop_ok(&good);
}

Test(test_proxy, unix_socket_upstream)
{
    static fc_proc up, px;
    char *dir = dt_tmpdir(), sock[256];
    snprintf(sock, sizeof(sock), "%s/up.sock", dir);
    start_up(&up, (const char *const[]){"--unixsocket", sock, "--unixsocketperm", "700", NULL});
    /* Port 1 would refuse: only the socket can work. */
    const char *args[] = {"--driver", "redis", "--redis-unixsocket", sock, "--redis-port", "1",
                          NULL};
    dt_start(&px, args);
    redisContext *c = dt_connect(&px);
    dt_expect(c, "OK", "SET viasock 42");
    cr_assert_eq(dt_int(c, "INCR viasock"), 43);
    redisFree(c);
    redisContext *u = connect_port(up.port);
    char *v = str_cmd(u, "GET %s", "viasock");
    cr_assert_str_eq(v, "43");
    free(v);
    redisFree(u);
    dt_stop_ok(&px);
    unlink(sock);
    rmdir(dir);
    free(dir);
}

/* SET, INVALIDATE, GET of the same key pipelined many times: INVALIDATE runs after the SET before
 * it (found: the SET's completion lifted INVALIDATE's barrier, and RESP3 clients' SCAN steps ran
 * on another connection than their writes), and the GET after it sees the key gone. */
static void pipelined_set_invalidate_get(const fc_proc *px, const char *proto)
{
    int fd = raw_connect(px);
    char *rep = raw_cmd(fd, proto[0] == '3' ? "HELLO 3" : "HELLO 2");
    free(rep);
    const int n = 300;
    size_t total = 0;
    char *all = NULL;
    for (int i = 0; i < n; i++) {
        char line[3][64];
        snprintf(line[0], 64, "SET iv:%d v", i);
        snprintf(line[1], 64, "INVALIDATE iv:%d", i);
        snprintf(line[2], 64, "GET iv:%d", i);
        for (int j = 0; j < 3; j++) {
            char **argv;
            size_t *argvlen, len;
            int argc = fc_split_args(line[j], &argv, &argvlen);
            char *req = fc_encode_cmd(argc, (const char *const *)argv, argvlen, &len);
            all = realloc(all, total + len);
            memcpy(all + total, req, len);
            total += len;
            free(req);
            fc_free_args(argc, argv, argvlen);
        }
    }
    cr_assert_eq(fc_send_all(fd, all, total), 0);
    free(all);
    const char *nil = proto[0] == '3' ? "_\r\n" : "$-1\r\n";
    for (int i = 0; i < n; i++) {
        size_t len;
        char *r[3];
        for (int j = 0; j < 3; j++) {
            r[j] = fc_read_reply(fd, &len, IO_MS);
            cr_assert_not_null(r[j]);
        }
        cr_assert_str_eq(r[0], "+OK\r\n");
        cr_assert_str_eq(r[1], ":1\r\n", "RESP%s, round %d: INVALIDATE ran before the SET", proto,
                         i);
        cr_assert_str_eq(r[2], nil, "RESP%s, round %d: GET after INVALIDATE saw the key", proto,
                         i);
        for (int j = 0; j < 3; j++)
            free(r[j]);
    }
    close(fd);
}

Test(test_proxy, invalidate_is_ordered_with_the_clients_other_requests)
{
    static fc_proc up, px, pxp;
    start_up(&up, NULL);
    start_proxy(&px, &up, NULL);
    start_proxy(&pxp, &up, (const char *const[]){"--redis-key-prefix", "t:", "--ttl", "100", NULL});
    pipelined_set_invalidate_get(&px, "2");
    pipelined_set_invalidate_get(&px, "3");
    pipelined_set_invalidate_get(&pxp, "2");
    pipelined_set_invalidate_get(&pxp, "3");
    dt_stop_ok(&pxp);
    dt_stop_ok(&px);
}

/* Regression: SET k (RESP2 connection), HELLO 3, GET k (RESP3 connection) pipelined — the GET
 * must not run before the SET. A db or protocol switch with requests in flight holds the client
 * (FC_SESS_DRAIN) until they complete. */
Test(test_proxy, protocol_switch_keeps_request_order)
{
    static fc_proc up, px;
    start_up(&up, NULL);
    start_proxy(&px, &up, NULL);
    int fd = raw_connect(&px);
    for (int i = 0; i < 200; i++) {
        char set[64], want[64];
        snprintf(set, sizeof(set), "SET hk %d", i);
        char **argv;
        size_t *argvlen, len;
        const char *lines[] = {set, i % 2 ? "HELLO 3" : "HELLO 2", "GET hk"};
        char *all = NULL;
        size_t total = 0;
        for (int j = 0; j < 3; j++) {
            int argc = fc_split_args(lines[j], &argv, &argvlen);
            char *req = fc_encode_cmd(argc, (const char *const *)argv, argvlen, &len);
            all = realloc(all, total + len);
            memcpy(all + total, req, len);
            total += len;
            free(req);
            fc_free_args(argc, argv, argvlen);
        }
        cr_assert_eq(fc_send_all(fd, all, total), 0);
        free(all);
        for (int j = 0; j < 3; j++) {
            char *rep = fc_read_reply(fd, &len, IO_MS);
            cr_assert_not_null(rep);
            snprintf(want, sizeof(want), "$%zu\r\n%d\r\n", strlen(set) - 7, i);
            if (j == 2)
                cr_assert_str_eq(rep, want, "round %d: GET ran before the SET", i);
            free(rep);
        }
    }
    close(fd);
    dt_stop_ok(&px);
}
