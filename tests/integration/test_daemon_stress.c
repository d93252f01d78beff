/*
 * test_daemon_stress — connection-handling edge cases of the daemon: requests split into tiny
 * network writes, clients that vanish with large replies unread, shutdown with writes pending,
 * many simultaneous connections, and a pipelining client that must not hold the others (a
 * per-turn budget: server/client.h, "Fairness"). Each test ends by asserting a clean exit
 * (status 0), which under ASan also means no leak or memory error was reported.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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

/* Sends one request on each of the n sockets before reading any reply (so the daemon reads them
 * in one poll and runs them together, server.h: fc_server_stage), then checks every reply. */
static void staged_round(const int *fds, int n, char reqs[][160], char wants[][160])
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(fc_send_all(fds[i], reqs[i], strlen(reqs[i])), 0);
    for (int i = 0; i < n; i++)
        dt_expect_raw(fds[i], wants[i]);
}

/* One request per connection, many connections at once: each staged request keeps the parse its
 * hint made (server/client.c, take_peek) only for its own bytes. Rounds change the frames'
 * lengths and argument counts (5 arguments: parsed unhinted) between the same connections, and
 * one connection's request arrives in two reads, so a parse kept from an earlier round or from a
 * partial frame would run the wrong bytes. */
Test(daemon_stress, simultaneous_single_requests_run_their_own_frames)
{
    dt_start(&d, NULL);
    enum { N = 40 };
    int fds[N];
    static char reqs[N][160], wants[N][160];
    for (int i = 0; i < N; i++)
        fds[i] = dt_connect_raw(&d);
    for (int i = 0; i < N; i++) { /* round 1: SET, some with EX (5 arguments) */
        char k[32], v[32];
        int kl = snprintf(k, sizeof(k), "stage:%d", i), vl = snprintf(v, sizeof(v), "v%d", i * 7);
        if (i % 3 == 0)
            snprintf(reqs[i], sizeof(reqs[i]), "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                     "$2\r\nEX\r\n$3\r\n100\r\n", kl, k, vl, v);
        else
            snprintf(reqs[i], sizeof(reqs[i]), "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n",
                     kl, k, vl, v);
        snprintf(wants[i], sizeof(wants[i]), "+OK\r\n");
    }
    staged_round(fds, N, reqs, wants);
    for (int i = 0; i < N; i++) { /* round 2: GET, shorter frames on the same connections */
        int kl = snprintf(wants[i], sizeof(wants[i]), "stage:%d", i);
        snprintf(reqs[i], sizeof(reqs[i]), "*2\r\n$3\r\nGET\r\n$%d\r\nstage:%d\r\n", kl, i);
        char v[32];
        int vl = snprintf(v, sizeof(v), "v%d", i * 7);
        snprintf(wants[i], sizeof(wants[i]), "$%d\r\n%s\r\n", vl, v);
    }
    staged_round(fds, N, reqs, wants);
    /* round 3: connection 0's request comes in two reads around the others' */
    const char *half = "*2\r\n$6\r\nEXISTS\r\n$7\r\nsta";
    cr_assert_eq(fc_send_all(fds[0], half, strlen(half)), 0);
    for (int i = 1; i < N; i++) { /* PING, or GET of a one-digit key (one byte shorter) */
        int k = i % 10;
        char v[32];
        int vl = snprintf(v, sizeof(v), "v%d", k * 7);
        snprintf(reqs[i], sizeof(reqs[i]), i % 2 ? "*1\r\n$4\r\nPING\r\n"
                                                 : "*2\r\n$3\r\nGET\r\n$7\r\nstage:%d\r\n", k);
        snprintf(wants[i], sizeof(wants[i]), i % 2 ? "+PONG\r\n" : "$%d\r\n%s\r\n", vl, v);
    }
    snprintf(reqs[0], sizeof(reqs[0]), "ge:1\r\n");
    snprintf(wants[0], sizeof(wants[0]), ":1\r\n");
    staged_round(fds, N, reqs, wants);
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

static const char incr_ctr[] = "*2\r\n$4\r\nINCR\r\n$3\r\nctr\r\n";

/* Asserts, from a fresh connection, that the counter holds `want`. */
static void expect_ctr(const char *want)
{
    redisContext *c = dt_connect(&d);
    redisReply *r = dt_cmd(c, "GET ctr");
    cr_assert_str_eq(r->str, want);
    freeReplyObject(r);
    redisFree(c);
}

/* n pipelined INCR ctr (malloc'd, *len set). */
static char *incr_batch(size_t n, size_t *len)
{
    size_t one = sizeof(incr_ctr) - 1;
    char *b = malloc(n * one);
    cr_assert_not_null(b);
    for (size_t i = 0; i < n; i++)
        memcpy(b + i * one, incr_ctr, one);
    *len = n * one;
    return b;
}

/* The replies to INCRs that start from an absent key: ":1\r\n" ... ":n\r\n" (malloc'd). */
static char *incr_replies(size_t n, size_t *len)
{
    char *b = malloc(n * 24 + 1);
    cr_assert_not_null(b);
    size_t off = 0;
    for (size_t i = 1; i <= n; i++)
        off += (size_t)sprintf(b + off, ":%zu\r\n", i);
    *len = off;
    return b;
}

/* Sends out and reads exactly inlen bytes into in, both at once (poll), so neither side's buffers
 * can deadlock the exchange; asserts within 30 s. */
static void exchange(int fd, const char *out, size_t outlen, char *in, size_t inlen)
{
    size_t sent = 0, got = 0;
    int64_t deadline = dt_now_ms() + 30000;
    while (got < inlen) {
        int left = (int)(deadline - dt_now_ms());
        cr_assert_gt(left, 0, "exchange timed out: %zu/%zu sent, %zu/%zu read", sent, outlen, got,
                     inlen);
        struct pollfd p = {fd, (short)(POLLIN | (sent < outlen ? POLLOUT : 0)), 0};
        if (poll(&p, 1, left) <= 0)
            continue;
        if ((p.revents & POLLOUT) && sent < outlen) {
            ssize_t n = send(fd, out + sent, outlen - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            cr_assert(n > 0 || errno == EAGAIN, "send: %s", strerror(errno));
            sent += n > 0 ? (size_t)n : 0;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, in + got, inlen - got, MSG_DONTWAIT);
            cr_assert(n > 0 || (n < 0 && errno == EAGAIN), "connection closed after %zu of %zu",
                      got, inlen);
            got += n > 0 ? (size_t)n : 0;
        }
    }
    cr_assert_eq(sent, outlen);
}

/* Waits (up to 2 s) until the daemon's main thread sleeps in epoll_wait, so the next readiness
 * events queue in the order their data arrives. Best effort where wchan is not shown. */
static void wait_polling(pid_t pid)
{
    char path[64], buf[64];
    snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
    for (int64_t end = dt_now_ms() + 2000; dt_now_ms() < end;) {
        FILE *f = fopen(path, "r");
        if (!f)
            return;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        if (strstr(buf, "epoll") || strcmp(buf, "0") == 0 || n == 0)
            return;
    }
}

/*
 * A pipelined batch waiting whole in the socket when the daemon looks at it runs a budget at a
 * time, so another connection's request that arrived after it is answered before the batch is
 * done. The daemon is held with SIGSTOP while the batch (5000 INCR, 115 KB: the kernel takes it
 * all) and then the other connection's GET are written; both are readable at the same readiness
 * event, the batch's connection first. Before the budget, the daemon read and ran the whole batch
 * (libuv reads up to 32 times per event), and the GET saw 5000.
 */
Test(daemon_stress, pipelined_batch_lets_other_clients_in)
{
    dt_start(&d, NULL);
    int a = dt_connect_raw(&d), b = dt_connect_raw(&d);
    static const char ping[] = "*1\r\n$4\r\nPING\r\n";
    cr_assert_eq(fc_send_all(a, ping, sizeof(ping) - 1), 0);
    dt_expect_raw(a, "+PONG\r\n");
    cr_assert_eq(fc_send_all(b, ping, sizeof(ping) - 1), 0);
    dt_expect_raw(b, "+PONG\r\n");
    enum { N = 5000 };
    size_t len, rlen;
    char *batch = incr_batch(N, &len);
    char *want = incr_replies(N, &rlen);
    wait_polling(d.pid);
    cr_assert_eq(kill(d.pid, SIGSTOP), 0);
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(a, batch + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    static const char get[] = "*2\r\n$3\r\nGET\r\n$3\r\nctr\r\n";
    ssize_t gn = send(b, get, sizeof(get) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    cr_assert_eq(kill(d.pid, SIGCONT), 0);
    cr_assert_eq(sent, len, "the kernel took only %zu of the batch's %zu bytes", sent, len);
    cr_assert_eq(gn, (ssize_t)sizeof(get) - 1);
    size_t glen = 0;
    char *r = fc_read_reply(b, &glen, 5000);
    cr_assert_not_null(r, "no reply to the GET");
    long seen = r[0] == '$' && r[1] != '-' ? atol(strchr(r, '\n') + 1) : 0;
    cr_assert_lt(seen, N, "the GET waited for the whole batch (%.*s)", (int)glen, r);
    free(r);
    char *got = malloc(rlen);
    cr_assert_not_null(got);
    cr_assert(dt_read_exact(a, got, rlen, 10000), "the batch's replies were cut short");
    cr_assert_eq(memcmp(got, want, rlen), 0, "the batch's replies differ or are out of order");
    free(got);
    free(want);
    free(batch);
    close(a);
    close(b);
    dt_stop_ok(&d);
}

/* 200,000 INCRs in one stream, with a 3 MB GET every 50,000 (replies that can fill the output
 * past the soft threshold while the batch runs budget by budget): every reply arrives, in order,
 * and the other connection is served meanwhile and afterwards. */
Test(daemon_stress, large_pipelined_batch_replies_whole_and_in_order)
{
    dt_start(&d, NULL);
    const size_t big = 3 * 1024 * 1024;
    store_big(big);
    enum { N = 200000, EVERY = 50000 };
    static const char get[] = "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n";
    size_t one = sizeof(incr_ctr) - 1, gl = sizeof(get) - 1;
    size_t nget = N / EVERY, len = 0, rlen = 0;
    char *batch = malloc(N * one + nget * gl);
    char hdr[32];
    int hl = snprintf(hdr, sizeof(hdr), "$%zu\r\n", big);
    char *want = malloc((size_t)N * 24 + nget * (big + 64));
    cr_assert(batch && want);
    for (size_t i = 1; i <= N; i++) {
        memcpy(batch + len, incr_ctr, one);
        len += one;
        rlen += (size_t)sprintf(want + rlen, ":%zu\r\n", i);
        if (i % EVERY == 0) {
            memcpy(batch + len, get, gl);
            len += gl;
            memcpy(want + rlen, hdr, (size_t)hl);
            memset(want + rlen + hl, 'b', big);
            memcpy(want + rlen + hl + big, "\r\n", 2);
            rlen += (size_t)hl + big + 2;
        }
    }
    char *got = malloc(rlen);
    cr_assert_not_null(got);
    exchange(dt_connect_raw(&d), batch, len, got, rlen);
    cr_assert_eq(memcmp(got, want, rlen), 0, "the batch's replies differ or are out of order");
    expect_ctr("200000");
    free(got);
    free(want);
    free(batch);
    dt_stop_ok(&d);
}

/* QUIT at the end of a long pipelined batch: the requests before it run and are answered, then
 * +OK and the close; the few after it do not run, though the batch spans many turns. (The tail
 * after QUIT is kept small: bytes still unread when the server closes make the kernel reset the
 * connection, which can discard replies the client has not read yet -- with Redis too.) */
Test(daemon_stress, quit_inside_large_batch)
{
    dt_start(&d, NULL);
    enum { HALF = 20000, TAIL = 3 };
    size_t len, tlen, rlen;
    char *first = incr_batch(HALF, &len);
    char *tail = incr_batch(TAIL, &tlen);
    char *all = malloc(len + 14 + tlen);
    cr_assert(first && tail && all);
    memcpy(all, first, len);
    memcpy(all + len, "*1\r\n$4\r\nQUIT\r\n", 14);
    memcpy(all + len + 14, tail, tlen);
    char *want = incr_replies(HALF, &rlen);
    char *got = malloc(rlen + 5);
    cr_assert(want && got);
    int fd = dt_connect_raw(&d);
    cr_assert_eq(fc_send_all(fd, all, len + 14 + tlen), 0);
    cr_assert(dt_read_exact(fd, got, rlen + 5, 10000), "replies before QUIT cut short");
    cr_assert_eq(memcmp(got, want, rlen), 0);
    cr_assert_eq(memcmp(got + rlen, "+OK\r\n", 5), 0);
    cr_assert(dt_wait_eof(fd, 2000), "no close after QUIT");
    close(fd);
    expect_ctr("20000");
    free(first);
    free(tail);
    free(all);
    free(want);
    free(got);
    dt_stop_ok(&d);
}
