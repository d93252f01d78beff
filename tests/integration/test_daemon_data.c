/*
 * test_daemon_data — the daemon end to end over real sockets: a 10,000-command pipeline checked
 * reply by reply, binary-safe keys and values, 1 MiB and 100 MiB values, SELECT / FLUSHDB /
 * FLUSHALL, INVALIDATE by pattern, and the unix socket listener.
 *
 * Each test starts its own daemon (daemon_util's dt_start); the suite's fini stops it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/daemon_util.h"

TestSuite(daemon_data, .fini = dt_fini, .timeout = 60);

static fc_proc d;

#define NPIPE 10000
#define NKEYS 100

/* Expected reply of one pipelined command, from a local model of the keyspace. */
typedef struct expect {
    int type;
    long long integer;
    char str[32];
} expect;

/* Appends command i of the mix to c's output buffer and records the reply it must get. */
static void append_mixed(redisContext *c, int i, long long *model, bool *exists, expect *e)
{
    int k = (i * 7 + i / 4) % NKEYS;
    switch (i % 4) {
    case 0:
        model[k] = i;
        exists[k] = true;
        redisAppendCommand(c, "SET p:%d %d", k, i);
        e->type = REDIS_REPLY_STATUS;
        strcpy(e->str, "OK");
        break;
    case 1:
    case 3:
        redisAppendCommand(c, "GET p:%d", k);
        e->type = exists[k] ? REDIS_REPLY_STRING : REDIS_REPLY_NIL;
        snprintf(e->str, sizeof(e->str), "%lld", model[k]);
        break;
    default:
        model[k] = exists[k] ? model[k] + 1 : 1;
        exists[k] = true;
        redisAppendCommand(c, "INCR p:%d", k);
        e->type = REDIS_REPLY_INTEGER;
        e->integer = model[k];
        break;
    }
}

Test(daemon_data, pipeline_10000_mixed_replies_in_order)
{
    dt_start(&d, NULL);
    redisContext *c = dt_connect(&d);
    static long long model[NKEYS];
    static bool exists[NKEYS];
    static expect want[NPIPE];
    for (int i = 0; i < NPIPE; i++)
        append_mixed(c, i, model, exists, &want[i]);
    /* Everything is in hiredis's output buffer; the first GetReply writes it all. */
    for (int i = 0; i < NPIPE; i++) {
        redisReply *r = NULL;
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK, "reply %d: %s", i, c->errstr);
        cr_assert_eq(r->type, want[i].type, "reply %d: type %d, want %d (%s)", i, r->type,
                     want[i].type, r->str ? r->str : "");
        if (r->type == REDIS_REPLY_INTEGER)
            cr_assert_eq(r->integer, want[i].integer, "reply %d", i);
        else if (r->type != REDIS_REPLY_NIL)
            cr_assert_str_eq(r->str, want[i].str, "reply %d", i);
        freeReplyObject(r);
    }
    long long nexist = 0;
    for (int k = 0; k < NKEYS; k++)
        nexist += exists[k];
    cr_assert_gt(nexist, 10);
    cr_assert_eq(dt_int(c, "DBSIZE"), nexist);
    redisFree(c);
    dt_stop_ok(&d);
}

Test(daemon_data, binary_key_and_value_round_trip)
{
    dt_start(&d, NULL);
    redisContext *c = dt_connect(&d);
    static const char key[] = "bin\r\n\0key\r\n";
    char val[512];
    for (size_t i = 0; i < sizeof(val); i++)
        val[i] = (char)(i * 37 + 11);
    memcpy(val, "\r\n\0\0$3\r\n*1\r\n", 13);
    dt_expect(c, "OK", "SET %b %b", key, sizeof(key) - 1, val, sizeof(val));
    redisReply *r = dt_cmd(c, "GET %b", key, sizeof(key) - 1);
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert_eq(r->len, sizeof(val));
    cr_assert_eq(memcmp(r->str, val, sizeof(val)), 0);
    freeReplyObject(r);
    cr_assert_eq(dt_int(c, "STRLEN %b", key, sizeof(key) - 1), (long long)sizeof(val));
    /* The NUL is part of the key: the prefix before it is another (missing) key. */
    cr_assert_eq(dt_int(c, "EXISTS %b", key, (size_t)5), 0);
    r = dt_cmd(c, "KEYS *");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 1);
    cr_assert_eq(r->element[0]->len, sizeof(key) - 1);
    cr_assert_eq(memcmp(r->element[0]->str, key, sizeof(key) - 1), 0);
    freeReplyObject(r);
    redisFree(c);
    dt_stop_ok(&d);
}

Test(daemon_data, one_mib_value_round_trip)
{
    dt_start(&d, NULL);
    redisContext *c = dt_connect(&d);
    size_t n = 1024 * 1024;
    char *v = malloc(n);
    cr_assert_not_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (char)((i * 2654435761u) >> 13);
    dt_expect(c, "OK", "SET big %b", v, n);
    cr_assert_eq(dt_int(c, "STRLEN big"), (long long)n);
    redisReply *r = dt_cmd(c, "GET big");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert_eq(r->len, n);
    cr_assert_eq(memcmp(r->str, v, n), 0);
    freeReplyObject(r);
    free(v);
    redisFree(c);
    dt_stop_ok(&d);
}

/* Sends the whole buffer; asserts. */
static void send_all(int fd, const void *buf, size_t len)
{
    cr_assert_eq(fc_send_all(fd, buf, len), 0, "send: %s", strerror(errno));
}

/* Reads one CRLF-terminated header line (byte by byte; headers are short). */
static void read_line(int fd, char *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        cr_assert_lt(n + 1, cap, "reply header too long");
        cr_assert(dt_read_exact(fd, out + n, 1, 20000), "no reply header");
        n++;
        if (n >= 2 && out[n - 2] == '\r' && out[n - 1] == '\n')
            break;
    }
    out[n] = '\0';
}

/* 100 MiB over a raw socket: one header + the value in one send, the reply read straight into a
 * preallocated buffer, so the test costs little more than copying the bytes. */
Test(daemon_data, hundred_mib_value_round_trip)
{
    dt_start(&d, NULL);
    int fd = fc_connect(d.port);
    cr_assert_geq(fd, 0);
    const size_t n = 100u * 1024 * 1024;
    char hdr[128];
    int hl = snprintf(hdr, sizeof(hdr), "*3\r\n$3\r\nSET\r\n$4\r\nhuge\r\n$%zu\r\n", n);
    char *frame = malloc((size_t)hl + n + 2);
    cr_assert_not_null(frame);
    memcpy(frame, hdr, (size_t)hl);
    char *v = frame + hl;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull;
        memcpy(v + i, &x, 8);
    }
    memcpy(v + n / 2, "\r\n\0\r\n", 5);
    memcpy(v + n, "\r\n", 2);
    send_all(fd, frame, (size_t)hl + n + 2);
    char line[64];
    read_line(fd, line, sizeof(line));
    cr_assert_str_eq(line, "+OK\r\n");

    static const char get[] = "*2\r\n$6\r\nSTRLEN\r\n$4\r\nhuge\r\n*2\r\n$3\r\nGET\r\n$4\r\nhuge\r\n";
    send_all(fd, get, sizeof(get) - 1);
    read_line(fd, line, sizeof(line));
    char want[64];
    snprintf(want, sizeof(want), ":%zu\r\n", n);
    cr_assert_str_eq(line, want);
    read_line(fd, line, sizeof(line));
    snprintf(want, sizeof(want), "$%zu\r\n", n);
    cr_assert_str_eq(line, want);
    char *got = malloc(n + 2);
    cr_assert_not_null(got);
    cr_assert(dt_read_exact(fd, got, n + 2, 30000), "short 100 MiB reply");
    cr_assert_eq(memcmp(got, v, n), 0, "the 100 MiB value came back different");
    cr_assert_eq(memcmp(got + n, "\r\n", 2), 0);
    free(got);
    free(frame);
    close(fd);
    dt_stop_ok(&d);
}

Test(daemon_data, select_flushdb_flushall)
{
    dt_start(&d, NULL);
    redisContext *c = dt_connect(&d);
    dt_expect(c, "OK", "SET k zero");
    dt_expect(c, "OK", "SET only0 x");
    dt_expect(c, "OK", "SELECT 1");
    redisReply *r = dt_cmd(c, "GET k");
    cr_assert_eq(r->type, REDIS_REPLY_NIL, "db 1 sees db 0's key");
    freeReplyObject(r);
    dt_expect(c, "OK", "SET k one");
    dt_expect(c, "OK", "SELECT 15");
    dt_expect(c, "OK", "SET k fifteen");
    cr_assert_eq(dt_int(c, "DBSIZE"), 1);
    dt_expect(c, "OK", "SELECT 0");
    r = dt_cmd(c, "GET k");
    cr_assert_str_eq(r->str, "zero");
    freeReplyObject(r);
    cr_assert_eq(dt_int(c, "DBSIZE"), 2);

    /* FLUSHDB on db 1 leaves dbs 0 and 15 alone. */
    dt_expect(c, "OK", "SELECT 1");
    dt_expect(c, "OK", "FLUSHDB");
    cr_assert_eq(dt_int(c, "DBSIZE"), 0);
    dt_expect(c, "OK", "SELECT 0");
    cr_assert_eq(dt_int(c, "DBSIZE"), 2);
    dt_expect(c, "OK", "SELECT 15");
    cr_assert_eq(dt_int(c, "DBSIZE"), 1);

    /* A second connection starts on db 0 whatever the first selected. */
    redisContext *c2 = dt_connect(&d);
    r = dt_cmd(c2, "GET k");
    cr_assert_str_eq(r->str, "zero");
    freeReplyObject(r);

    dt_expect(c2, "OK", "FLUSHALL");
    cr_assert_eq(dt_int(c2, "DBSIZE"), 0);
    cr_assert_eq(dt_int(c, "DBSIZE"), 0, "db 15 survived FLUSHALL");

    dt_expect(c, "ERR DB index is out of range", "SELECT 16");
    dt_expect(c, "ERR DB index is out of range", "SELECT -1");
    dt_expect(c, "OK", "SET stay here");
    cr_assert_eq(dt_int(c, "EXISTS stay"), 1, "a failed SELECT changed the db");
    dt_expect(c, "OK", "SELECT 15");
    cr_assert_eq(dt_int(c, "EXISTS stay"), 1);
    redisFree(c2);
    redisFree(c);
    dt_stop_ok(&d);
}

Test(daemon_data, invalidate_deletes_only_matching_keys)
{
    dt_start(&d, NULL);
    redisContext *c = dt_connect(&d);
    for (int i = 0; i < 50; i++)
        dt_expect(c, "OK", "SET users:%d u%d", i, i);
    static const char *const others[] = {"orders:1", "orders:users:1", "users", "xusers:1",
                                         "Users:1", "session:users:9"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        dt_expect(c, "OK", "SET %s keep", others[i]);
    dt_expect(c, "OK", "SELECT 2");
    dt_expect(c, "OK", "SET users:1 otherdb");
    dt_expect(c, "OK", "SELECT 0");

    cr_assert_eq(dt_int(c, "INVALIDATE users:*"), 50);
    cr_assert_eq(dt_int(c, "DBSIZE"), (long long)(sizeof(others) / sizeof(others[0])));
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        cr_assert_eq(dt_int(c, "EXISTS %s", others[i]), 1, "%s was deleted", others[i]);
    cr_assert_eq(dt_int(c, "EXISTS users:7"), 0);
    cr_assert_eq(dt_int(c, "INVALIDATE users:*"), 0, "a second run still found keys");
    cr_assert_eq(dt_int(c, "INVALIDATE orders:?"), 1);
    cr_assert_eq(dt_int(c, "EXISTS orders:users:1"), 1);
    dt_expect(c, "OK", "SELECT 2");
    cr_assert_eq(dt_int(c, "EXISTS users:1"), 1, "INVALIDATE reached another db");
    redisFree(c);
    dt_stop_ok(&d);
}

Test(daemon_data, unix_socket_listener)
{
    char *dir = dt_tmpdir();
    char sock[256];
    snprintf(sock, sizeof(sock), "%s/fc.sock", dir);
    const char *const args[] = {"--unixsocket", sock, NULL};
    dt_start(&d, args);
    /* The harness waited for the TCP listener; the unix one is bound just after it: poll. */
    struct timeval tv = {5, 0};
    redisContext *u = NULL;
    int64_t deadline = dt_now_ms() + 5000;
    for (;;) {
        u = redisConnectUnixWithTimeout(sock, tv);
        cr_assert_not_null(u);
        if (u->err == 0 || dt_now_ms() > deadline)
            break;
        redisFree(u);
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(u->err, 0, "connect %s: %s", sock, u->errstr);
    dt_expect(u, "PONG", "PING");
    dt_expect(u, "OK", "SET via unix");
    /* Same keyspace as the TCP listener. */
    redisContext *t = dt_connect(&d);
    redisReply *r = dt_cmd(t, "GET via");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert_str_eq(r->str, "unix");
    freeReplyObject(r);
    redisFree(t);
    redisFree(u);
    dt_stop_ok(&d);
    cr_assert_eq(access(sock, F_OK), -1, "the socket file was left behind");
    rmdir(dir);
    free(dir);
}
