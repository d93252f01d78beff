/*
 * test_daemon_life — process and connection lifecycle: SIGTERM, SIGINT and SHUTDOWN end the
 * daemon with status 0; QUIT and protocol errors close one connection after its reply and leave
 * the daemon serving; maxclients refuses the connection over the limit; the idle timeout closes
 * idle connections only.
 *
 * Raw sockets (harness fc_connect / fc_read_reply) so that replies and closes are seen exactly.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/daemon_util.h"

TestSuite(daemon_life, .fini = dt_fini, .timeout = 60);

static fc_proc d;

static void send_str(int fd, const char *s)
{
    cr_assert_eq(fc_send_all(fd, s, strlen(s)), 0);
}

static void expect_ping(int fd)
{
    send_str(fd, "*1\r\n$4\r\nPING\r\n");
    dt_expect_raw(fd, "+PONG\r\n");
}

static void stop_with_signal(int sig)
{
    dt_start(&d, NULL);
    int fd = dt_connect_raw(&d);
    expect_ping(fd); /* a connected client must not hold the shutdown up */
    int idle = dt_connect_raw(&d);
    cr_assert_eq(kill(d.pid, sig), 0);
    int st = dt_wait_exit(&d, 3000);
    cr_assert_eq(st, 0, "exit status %d after signal %d (-2: still running after 3 s)", st, sig);
    cr_assert(dt_wait_eof(fd, 1000), "the client connection was not closed");
    close(idle);
    close(fd);
}

Test(daemon_life, sigterm_exits_zero)
{
    stop_with_signal(SIGTERM);
}

Test(daemon_life, sigint_exits_zero)
{
    stop_with_signal(SIGINT);
}

Test(daemon_life, shutdown_command_exits_zero)
{
    dt_start(&d, NULL);
    int other = dt_connect_raw(&d);
    int fd = dt_connect_raw(&d);
    send_str(fd, "*1\r\n$8\r\nSHUTDOWN\r\n");
    cr_assert(dt_wait_eof(fd, 3000), "SHUTDOWN did not close the connection");
    int st = dt_wait_exit(&d, 3000);
    cr_assert_eq(st, 0, "exit status %d after SHUTDOWN", st);
    cr_assert(dt_wait_eof(other, 1000));
    close(fd);
    close(other);
}

Test(daemon_life, quit_replies_ok_then_closes)
{
    dt_start(&d, NULL);
    int fd = dt_connect_raw(&d);
    /* Whatever follows QUIT in the same packet is not executed. */
    send_str(fd, "*3\r\n$3\r\nSET\r\n$6\r\nbefore\r\n$1\r\n1\r\n"
                 "*1\r\n$4\r\nQUIT\r\n"
                 "*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n");
    dt_expect_raw(fd, "+OK\r\n");
    dt_expect_raw(fd, "+OK\r\n");
    cr_assert(dt_wait_eof(fd, 2000), "the connection stayed open after QUIT");
    close(fd);
    redisContext *c = dt_connect(&d);
    cr_assert_eq(dt_int(c, "EXISTS before"), 1);
    cr_assert_eq(dt_int(c, "EXISTS after"), 0, "a command after QUIT ran");
    redisFree(c);
    dt_stop_ok(&d);
}

Test(daemon_life, protocol_error_replies_then_closes)
{
    dt_start(&d, NULL);
    int fd = dt_connect_raw(&d);
    send_str(fd, "*01\r\n");
    dt_expect_raw(fd, "-ERR Protocol error: invalid multibulk length\r\n");
    cr_assert(dt_wait_eof(fd, 2000), "the connection stayed open after a protocol error");
    close(fd);

    /* Replies produced before the bad frame still go out first. */
    fd = dt_connect_raw(&d);
    send_str(fd, "*1\r\n$4\r\nPING\r\n*01\r\n");
    dt_expect_raw(fd, "+PONG\r\n");
    dt_expect_raw(fd, "-ERR Protocol error: invalid multibulk length\r\n");
    cr_assert(dt_wait_eof(fd, 2000));
    close(fd);

    fd = dt_connect_raw(&d);
    expect_ping(fd);
    close(fd);
    dt_stop_ok(&d);
}

/* Starts the daemon with a config file holding `text` (the file is removed after the start). */
static void start_with_conf(const char *text)
{
    char *dir = dt_tmpdir();
    char *conf = dt_write_file(dir, "fc.conf", text);
    const char *const args[] = {"-c", conf, NULL};
    dt_start(&d, args);
    unlink(conf);
    rmdir(dir);
    free(conf);
    free(dir);
}

Test(daemon_life, maxclients_refuses_the_third)
{
    start_with_conf("[server]\nmaxclients = 2\n");
    int a = dt_connect_raw(&d);
    expect_ping(a);
    int b = dt_connect_raw(&d);
    expect_ping(b);
    int c = dt_connect_raw(&d);
    dt_expect_raw(c, "-ERR max number of clients reached\r\n");
    cr_assert(dt_wait_eof(c, 2000), "the refused connection stayed open");
    close(c);
    /* The two accepted clients are unaffected. */
    expect_ping(a);
    expect_ping(b);

    /* A slot freed by a close is reusable (the close is processed asynchronously: poll). */
    close(a);
    int64_t deadline = dt_now_ms() + 3000;
    bool served = false;
    while (!served && dt_now_ms() < deadline) {
        int e = dt_connect_raw(&d);
        send_str(e, "*1\r\n$4\r\nPING\r\n");
        size_t len = 0;
        char *r = fc_read_reply(e, &len, 2000);
        cr_assert_not_null(r);
        served = len == 7 && memcmp(r, "+PONG\r\n", 7) == 0;
        free(r);
        close(e);
    }
    cr_assert(served, "no connection was served after a client left");
    close(b);
    dt_stop_ok(&d);
}

Test(daemon_life, idle_timeout_closes_only_idle_clients)
{
    start_with_conf("[server]\ntimeout = 1\n");
    int idle = dt_connect_raw(&d);
    int active = dt_connect_raw(&d);
    int64_t t0 = dt_now_ms();
    int64_t closed_at = -1;
    /* Ping the active client every 200 ms while waiting (3.5 s at most) for the idle one to go. */
    while (dt_now_ms() - t0 < 3500) {
        expect_ping(active);
        if (dt_wait_readable(idle, 200)) {
            cr_assert(dt_wait_eof(idle, 100), "the idle client got data instead of a close");
            closed_at = dt_now_ms();
            break;
        }
    }
    cr_assert_geq(closed_at, 0, "the idle client was still open after 3.5 s with timeout 1");
    cr_assert_geq(closed_at - t0, 900, "closed after only %lld ms", (long long)(closed_at - t0));
    /* The active client lives on for more than another timeout period. */
    int64_t t1 = dt_now_ms();
    while (dt_now_ms() - t1 < 1500) {
        expect_ping(active);
        struct timespec ts = {0, 200 * 1000 * 1000}; /* the active client's pace */
        nanosleep(&ts, NULL);
    }
    expect_ping(active);
    close(active);
    close(idle);
    dt_stop_ok(&d);
}

/* Sends a SET whose value is n bytes of 'x' (header and value in one send; the send may fail
 * when the server closes first, which the callers allow). */
static int send_big_set(int fd, size_t n)
{
    char hdr[96];
    int hl = snprintf(hdr, sizeof(hdr), "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%zu\r\n", n);
    char *frame = malloc((size_t)hl + n + 2);
    cr_assert_not_null(frame);
    memcpy(frame, hdr, (size_t)hl);
    memset(frame + hl, 'x', n);
    memcpy(frame + hl + n, "\r\n", 2);
    int r = fc_send_all(fd, frame, (size_t)hl + n + 2);
    free(frame);
    return r;
}

Test(daemon_life, proto_max_bulk_len_limits_bulk_strings)
{
    const char *const args[] = {"--proto-max-bulk-len", "1mb", NULL};
    dt_start(&d, args);
    int fd = dt_connect_raw(&d);
    cr_assert_eq(send_big_set(fd, 1024 * 1024), 0);
    dt_expect_raw(fd, "+OK\r\n"); /* exactly the limit is accepted */
    /* One byte over: the error as soon as the header is read, before any data, then a close. */
    send_str(fd, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$1048577\r\n");
    dt_expect_raw(fd, "-ERR Protocol error: invalid bulk length\r\n");
    cr_assert(dt_wait_eof(fd, 2000));
    close(fd);
    fd = dt_connect_raw(&d);
    send_str(fd, "*2\r\n$6\r\nSTRLEN\r\n$3\r\nbig\r\n");
    dt_expect_raw(fd, ":1048576\r\n");
    close(fd);
    dt_stop_ok(&d);
}

Test(daemon_life, query_buffer_limit_closes_the_client_only)
{
    const char *const args[] = {"--client-query-buffer-limit", "1mb", NULL};
    dt_start(&d, args);
    int other = dt_connect_raw(&d);
    expect_ping(other);
    int fd = dt_connect_raw(&d);
    (void)send_big_set(fd, 2 * 1024 * 1024); /* one frame of 2 MB: more than may be buffered */
    cr_assert(dt_wait_eof(fd, 3000), "a 2 MB frame did not close a client limited to 1 MB");
    close(fd);
    expect_ping(other);
    fd = dt_connect_raw(&d);
    expect_ping(fd);
    send_str(fd, "*2\r\n$6\r\nEXISTS\r\n$3\r\nbig\r\n");
    dt_expect_raw(fd, ":0\r\n");
    close(fd);
    close(other);
    dt_stop_ok(&d);
}
