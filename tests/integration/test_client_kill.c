/*
 * test_client_kill — CLIENT KILL closes the clients it names: another client by ID (its socket
 * sees EOF, later commands of the same batch no longer see it in CLIENT LIST), the caller itself
 * after its reply (the old `CLIENT KILL addr` form, or SKIPME no), and SKIPME's default spares
 * the caller. The reply bytes and errors are compared with redis-server in
 * tests/integration/cases/22_sweep.txt.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/daemon_util.h"

TestSuite(client_kill, .fini = dt_fini, .timeout = 60);

static fc_proc d;

static void send_line(int fd, const char *line)
{
    cr_assert_eq(fc_send_line(fd, line), 0, "send %s", line);
}

/* Sends a command line and returns its reply (malloc'd; asserts one arrived). */
static char *reply_to(int fd, const char *line)
{
    send_line(fd, line);
    size_t len;
    char *r = fc_read_reply(fd, &len, 5000);
    cr_assert_not_null(r, "%s: no reply", line);
    return r;
}

static long long client_id(int fd)
{
    char *r = reply_to(fd, "CLIENT ID");
    cr_assert_eq(r[0], ':', "CLIENT ID: %s", r);
    long long id = atoll(r + 1);
    free(r);
    return id;
}

/* The caller's addr= field from CLIENT INFO. */
static void client_addr(int fd, char *out, size_t cap)
{
    char *r = reply_to(fd, "CLIENT INFO");
    const char *a = strstr(r, " addr=");
    cr_assert_not_null(a, "CLIENT INFO: %s", r);
    a += 6;
    size_t n = strcspn(a, " ");
    cr_assert_lt(n, cap);
    memcpy(out, a, n);
    out[n] = '\0';
    free(r);
}

Test(client_kill, by_id_closes_the_other_client_only)
{
    dt_start(&d, NULL);
    int a = dt_connect_raw(&d), b = dt_connect_raw(&d);
    long long bid = client_id(b);
    char line[128];
    snprintf(line, sizeof(line), "CLIENT KILL ID %lld", bid);
    send_line(a, line);
    dt_expect_raw(a, ":1\r\n");
    cr_assert(dt_wait_eof(b, 3000), "the killed client's socket stayed open");
    send_line(a, line);
    dt_expect_raw(a, ":0\r\n");
    send_line(a, "PING");
    dt_expect_raw(a, "+PONG\r\n");
    close(a);
    close(b);
}

Test(client_kill, later_commands_of_the_batch_see_the_kill)
{
    dt_start(&d, NULL);
    int a = dt_connect_raw(&d), b = dt_connect_raw(&d);
    long long bid = client_id(b);
    char both[256];
    int n = snprintf(both, sizeof(both),
                     "*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$2\r\nID\r\n$%d\r\n%lld\r\n"
                     "*4\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n$2\r\nID\r\n$%d\r\n%lld\r\n",
                     snprintf(NULL, 0, "%lld", bid), bid, snprintf(NULL, 0, "%lld", bid), bid);
    cr_assert_eq(fc_send_all(a, both, (size_t)n), 0); /* one write: one batch */
    dt_expect_raw(a, ":1\r\n");
    dt_expect_raw(a, "$0\r\n\r\n");
    cr_assert(dt_wait_eof(b, 3000));
    close(a);
    close(b);
}

/* Sends `fmt` (with the caller's own address in it) and expects `reply`, then EOF if `closed`. */
static void kill_self(int fd, const char *fmt, const char *reply, bool closed)
{
    char addr[128], line[256];
    client_addr(fd, addr, sizeof(addr));
    snprintf(line, sizeof(line), fmt, addr);
    send_line(fd, line);
    dt_expect_raw(fd, reply);
    if (closed)
        cr_assert(dt_wait_eof(fd, 3000), "'%s' did not close the caller after its reply", line);
}

Test(client_kill, old_form_kills_the_caller_after_its_reply)
{
    dt_start(&d, NULL);
    int a = dt_connect_raw(&d);
    kill_self(a, "CLIENT KILL %s", "+OK\r\n", true);
    close(a);
}

Test(client_kill, skipme_spares_the_caller_unless_no)
{
    dt_start(&d, NULL);
    int a = dt_connect_raw(&d);
    kill_self(a, "CLIENT KILL ADDR %s", ":0\r\n", false);
    kill_self(a, "CLIENT KILL ADDR %s SKIPME no", ":1\r\n", true);
    close(a);
}
