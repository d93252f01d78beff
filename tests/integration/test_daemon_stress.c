/*
 * test_daemon_stress — connection-handling edge cases of the daemon: requests split into tiny
 * network writes, clients that vanish with large replies unread, shutdown with writes pending,
 * and many simultaneous connections. Each test ends by asserting a clean exit (status 0), which
 * under ASan also means no leak or memory error was reported.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/daemon_util.h"

TestSuite(daemon_stress, .fini = dt_fini, .timeout = 60);

static fc_proc d;

/* 400 commands sent in pieces of 1..13 bytes, each its own segment (TCP_NODELAY), so frames
 * arrive split at every kind of boundary; the replies must be exact and in order. */
Test(daemon_stress, requests_split_into_tiny_writes)
{
    dt_start(&d, NULL);
    int fd = dt_connect_raw(&d);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    enum { N = 400 };
    size_t cap = 64 * N, len = 0;
    char *all = malloc(cap);
    cr_assert_not_null(all);
    for (int i = 0; i < N; i++) {
        char val[16];
        int vl = snprintf(val, sizeof(val), "v\r\n%d", i);
        len += (size_t)snprintf(all + len, cap - len,
                                i % 2 ? "*2\r\n$3\r\nGET\r\n$4\r\nkey%d\r\n"
                                      : "*3\r\n$3\r\nSET\r\n$4\r\nkey%d\r\n$%d\r\n%s\r\n",
                                i % 2 ? (i - 1) % 10 : i % 10, vl, val);
    }
    for (size_t off = 0, step = 1; off < len; off += step, step = step % 13 + 1) {
        size_t n = off + step > len ? len - off : step;
        cr_assert_eq(fc_send_all(fd, all + off, n), 0);
    }
    for (int i = 0; i < N; i++) {
        if (i % 2 == 0) {
            dt_expect_raw(fd, "+OK\r\n");
        } else {
            char want[32];
            char val[16];
            int vl = snprintf(val, sizeof(val), "v\r\n%d", i - 1);
            snprintf(want, sizeof(want), "$%d\r\n%s\r\n", vl, val);
            dt_expect_raw(fd, want);
        }
    }
    free(all);
    close(fd);
    dt_stop_ok(&d);
}

/* Stores an n-byte value under "big" through a fresh connection. */
static void store_big(size_t n)
{
    redisContext *c = dt_connect(&d);
    char *v = malloc(n);
    cr_assert_not_null(v);
    memset(v, 'b', n);
    dt_expect(c, "OK", "SET big %b", v, n);
    free(v);
    redisFree(c);
}

/* Sends `count` pipelined GET big without reading any reply. */
static int flood_gets(int count)
{
    int fd = dt_connect_raw(&d);
    static const char get[] = "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n";
    for (int i = 0; i < count; i++)
        cr_assert_eq(fc_send_all(fd, get, sizeof(get) - 1), 0);
    return fd;
}

Test(daemon_stress, client_leaves_with_large_replies_unread)
{
    dt_start(&d, NULL);
    store_big(4 * 1024 * 1024);
    for (int round = 0; round < 5; round++) {
        int fd = flood_gets(20); /* 80 MB of replies the client never reads */
        /* Let the server start writing, then vanish. */
        cr_assert(dt_wait_readable(fd, 5000));
        close(fd);
    }
    int fd = dt_connect_raw(&d);
    cr_assert_eq(fc_send_all(fd, "*1\r\n$4\r\nPING\r\n", 14), 0);
    dt_expect_raw(fd, "+PONG\r\n");
    close(fd);
    dt_stop_ok(&d);
}

Test(daemon_stress, sigterm_with_writes_pending)
{
    dt_start(&d, NULL);
    store_big(4 * 1024 * 1024);
    int fd = flood_gets(20);
    cr_assert(dt_wait_readable(fd, 5000));
    cr_assert_eq(kill(d.pid, SIGTERM), 0);
    int st = dt_wait_exit(&d, 5000);
    cr_assert_eq(st, 0, "exit status %d with a write pending (-2: still running after 5 s)", st);
    close(fd);
}

Test(daemon_stress, many_simultaneous_connections)
{
    dt_start(&d, NULL);
    enum { N = 300 };
    static int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = dt_connect_raw(&d);
    for (int i = 0; i < N; i++) {
        char cmd[64];
        int n = snprintf(cmd, sizeof(cmd), "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n");
        cr_assert_eq(fc_send_all(fds[i], cmd, (size_t)n), 0);
    }
    for (int i = 0; i < N; i++) {
        size_t len = 0;
        char *r = fc_read_reply(fds[i], &len, 5000);
        cr_assert_not_null(r, "connection %d got no reply", i);
        cr_assert_eq(r[0], ':');
        free(r);
    }
    redisContext *c = dt_connect(&d);
    redisReply *r = dt_cmd(c, "GET counter");
    cr_assert_str_eq(r->str, "300");
    freeReplyObject(r);
    r = dt_cmd(c, "INFO clients");
    cr_assert_not_null(strstr(r->str, "connected_clients:301\r\n"), "%s", r->str);
    freeReplyObject(r);
    redisFree(c);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    dt_stop_ok(&d);
}

/* QUIT after a reply too large for one write: the whole reply, then +OK, then the close. */
Test(daemon_stress, quit_after_large_reply_flushes_everything)
{
    dt_start(&d, NULL);
    const size_t n = 8 * 1024 * 1024;
    store_big(n);
    int fd = dt_connect_raw(&d);
    static const char req[] = "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n*1\r\n$4\r\nQUIT\r\n";
    cr_assert_eq(fc_send_all(fd, req, sizeof(req) - 1), 0);
    cr_assert(dt_wait_readable(fd, 5000));
    char hdr[32];
    int hl = snprintf(hdr, sizeof(hdr), "$%zu\r\n", n);
    size_t total = (size_t)hl + n + 2 + 5;
    char *got = malloc(total);
    cr_assert_not_null(got);
    cr_assert(dt_read_exact(fd, got, total, 10000), "the reply before QUIT was cut short");
    cr_assert_eq(memcmp(got, hdr, (size_t)hl), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[hl + i], 'b', "byte %zu differs", i);
    cr_assert_eq(memcmp(got + hl + n, "\r\n+OK\r\n", 7), 0);
    cr_assert(dt_wait_eof(fd, 2000), "no close after QUIT");
    free(got);
    close(fd);
    dt_stop_ok(&d);
}
