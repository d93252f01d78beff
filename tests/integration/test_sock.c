/*
 * Tests for server/sock.c: listeners and connections on a real libuv loop in the test process,
 * over loopback TCP (port 0: the kernel picks a free one) and a unix socket in a temporary
 * directory. Every test ends with uv_loop_close() == 0, so a handle left open fails it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "server/sock.h"

#define BIG (4u * 1024 * 1024) /* more than loopback's socket buffers take at once */

typedef struct peer {
    fc_sock sock;
    char *in;             /* what was read */
    size_t len, cap;
    int reads, eofs, errors, last_error;
    int writes, write_status, closes;
    int order;            /* event rank of close_cb */
    int write_order;      /* event rank of write_cb */
} peer;

static uv_loop_t loop;
static int events;
static fc_listener lst;
static int accepted_fd = -1, accept_errors, accept_last;

static void on_accept(fc_listener *l, int fd)
{
    (void)l;
    if (fd < 0) {
        accept_errors++;
        accept_last = fd;
        return;
    }
    cr_assert_eq(accepted_fd, -1, "one connection expected");
    accepted_fd = fd;
}

static void setup(void)
{
    cr_assert_eq(uv_loop_init(&loop), 0);
    events = 0;
}

/* Runs the loop (non-blocking turns) until *flag or ~5 s. */
static bool run_until(const int *flag, int want)
{
    for (int i = 0; i < 50000 && *flag < want; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (*flag < want)
            usleep(100);
    }
    return *flag >= want;
}

static void finish(void)
{
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0, "a handle was left open");
}

static int listen_loopback(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(fc_listener_tcp(&loop, &lst, (struct sockaddr *)&a, 16, on_accept), 0);
    socklen_t len = sizeof(a);
    cr_assert_eq(getsockname(lst.fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

/* A blocking client socket connected to the loopback listener. */
static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "connect: %s", strerror(errno));
    return fd;
}

static void on_alloc(fc_sock *s, char **base, size_t *len)
{
    peer *p = s->data;
    if (p->cap - p->len < 4096) {
        p->cap = p->cap ? p->cap * 2 : 65536;
        p->in = realloc(p->in, p->cap);
    }
    *base = p->in + p->len;
    *len = p->cap - p->len;
}

static void on_read(fc_sock *s, ssize_t nread, size_t asked)
{
    peer *p = s->data;
    events++;
    if (nread > 0) {
        cr_assert_leq((size_t)nread, asked);
        p->len += (size_t)nread;
        p->reads++;
    } else if (nread == UV_EOF) {
        p->eofs++;
    } else {
        p->errors++;
        p->last_error = (int)nread;
    }
}

static void on_write(fc_sock *s, int status)
{
    peer *p = s->data;
    p->writes++;
    p->write_status = status;
    p->write_order = ++events;
}

static void on_closed(fc_sock *s)
{
    peer *p = s->data;
    p->closes++;
    p->order = ++events;
    free(p->in);
    p->in = NULL;
}

/* The listener's accepted connection as a peer, reading. */
static void open_accepted(peer *p)
{
    cr_assert(run_until(&accepted_fd, 0), "nothing accepted");
    memset(p, 0, sizeof(*p));
    cr_assert_eq(fc_sock_open(&loop, &p->sock, accepted_fd), 0);
    p->sock.data = p;
    cr_assert_eq(fc_sock_read_start(&p->sock, on_alloc, on_read), 0);
}

/* A connected pair of peers in the loop: a (accepted) and b (connected). */
static void open_pair(peer *a, peer *b)
{
    int port = listen_loopback();
    int fd = connect_to(port);
    open_accepted(a);
    memset(b, 0, sizeof(*b));
    cr_assert_eq(fc_sock_open(&loop, &b->sock, fd), 0);
    b->sock.data = b;
    fc_listener_close(&lst);
}

TestSuite(sock, .init = setup);

Test(sock, a_write_bigger_than_the_socket_completes_once_with_every_byte)
{
    peer a, b;
    accepted_fd = -1;
    open_pair(&a, &b);
    char *data = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        data[i] = (char)(i * 7 + i / 251);
    ssize_t sent = fc_sock_try_write(&a.sock, data, BIG);
    cr_assert(sent > 0 && (size_t)sent < BIG, "try_write took %zd of %u bytes", sent, BIG);
    cr_assert_eq(fc_sock_write(&a.sock, data + sent, BIG - (size_t)sent, on_write), 0);
    cr_assert_eq(fc_sock_try_write(&a.sock, "x", 1), 0, "nothing may pass a write in flight");
    cr_assert_eq(fc_sock_write(&a.sock, "x", 1, on_write), UV_EINVAL, "one write at a time");
    cr_assert_eq(fc_sock_read_start(&b.sock, on_alloc, on_read), 0);
    cr_assert(run_until(&a.writes, 1));
    for (int i = 0; i < 50000 && b.len < BIG; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    cr_assert_eq(a.writes, 1);
    cr_assert_eq(a.write_status, 0);
    cr_assert_eq(b.len, BIG);
    cr_assert_eq(memcmp(b.in, data, BIG), 0, "bytes changed or reordered");
    cr_assert(b.reads > 1, "the reader saw the data in more than one read");
    free(data);
    fc_sock_close(&a.sock, on_closed);
    fc_sock_close(&b.sock, on_closed);
    finish();
    cr_assert_eq(a.closes + b.closes, 2);
}

Test(sock, data_then_eof_stops_reading)
{
    peer a;
    accepted_fd = -1;
    int fd = connect_to(listen_loopback());
    open_accepted(&a);
    cr_assert_eq(write(fd, "hello", 5), 5);
    cr_assert_eq(shutdown(fd, SHUT_WR), 0);
    cr_assert(run_until(&a.eofs, 1));
    cr_assert_eq(a.len, 5);
    cr_assert_eq(memcmp(a.in, "hello", 5), 0);
    cr_assert_eq(a.errors, 0);
    cr_assert(!a.sock.reading, "EOF stops reading");
    close(fd);
    fc_listener_close(&lst);
    fc_sock_close(&a.sock, on_closed);
    finish();
}

/* A peer that sends a request and resets the connection (SO_LINGER 0) before the loop looks:
 * epoll reports an error, and the bytes that arrived first must still be read, then the error. */
Test(sock, bytes_sent_before_a_reset_are_read_before_the_error)
{
    peer a;
    accepted_fd = -1;
    int fd = connect_to(listen_loopback());
    cr_assert(run_until(&accepted_fd, 0));
    cr_assert_eq(write(fd, "SET k v\r\n", 9), 9);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    close(fd); /* on loopback the reset is delivered inside close() */
    open_accepted(&a);
    cr_assert(run_until(&a.errors, 1));
    cr_assert_eq(a.len, 9, "the request sent before the reset was lost");
    cr_assert_eq(memcmp(a.in, "SET k v\r\n", 9), 0);
    cr_assert_eq(a.errors, 1, "the end is reported once");
    cr_assert_eq(a.eofs, 0);
    cr_assert_eq(a.last_error, UV_ECONNRESET);
    fc_listener_close(&lst);
    fc_sock_close(&a.sock, on_closed);
    finish();
}

Test(sock, closing_with_a_write_in_flight_cancels_it_before_close_cb)
{
    peer a, b;
    accepted_fd = -1;
    open_pair(&a, &b);
    char *data = calloc(1, BIG);
    ssize_t sent = fc_sock_try_write(&a.sock, data, BIG);
    cr_assert(sent >= 0);
    cr_assert_eq(fc_sock_write(&a.sock, data + sent, BIG - (size_t)sent, on_write), 0);
    uv_run(&loop, UV_RUN_NOWAIT); /* b does not read: the write stays in flight */
    cr_assert_eq(a.writes, 0);
    fc_sock_close(&a.sock, on_closed);
    fc_sock_close(&a.sock, on_closed); /* idempotent */
    cr_assert_eq(a.writes, 0, "the callbacks run from the loop, not inside close");
    fc_sock_close(&b.sock, on_closed);
    finish();
    cr_assert_eq(a.writes, 1);
    cr_assert_eq(a.write_status, UV_ECANCELED);
    cr_assert_eq(a.closes, 1);
    cr_assert_lt(a.write_order, a.order, "write_cb must come before close_cb");
    free(data);
}

/* Accepting with no descriptor left: the listener reports EMFILE once and stops polling
 * (level-triggered, it would otherwise spin), then accepts the waiting connection on resume. */
Test(sock, out_of_descriptors_pauses_the_listener_until_resumed)
{
    accepted_fd = -1;
    accept_errors = 0;
    int port = listen_loopback();
    int fd = connect_to(port);
    struct rlimit old, low;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    int spare = dup(0); /* the lowest free descriptor: the limit is set just below it */
    close(spare);
    low = old;
    low.rlim_cur = (rlim_t)spare;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    cr_assert_eq(accept_errors, 1, "EMFILE reported %d times", accept_errors);
    cr_assert_eq(accept_last, -EMFILE);
    cr_assert(lst.paused);
    cr_assert_eq(accepted_fd, -1);
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    fc_listener_resume(&lst);
    cr_assert(!lst.paused);
    cr_assert(run_until(&accepted_fd, 0), "the waiting connection was not accepted on resume");
    close(accepted_fd);
    close(fd);
    fc_listener_close(&lst);
    finish();
}

Test(sock, unix_listener_accepts_and_refuses_long_paths)
{
    char dir[] = "/tmp/fc-sock-XXXXXX", path[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s.sock", dir);
    accepted_fd = -1;
    cr_assert_eq(fc_listener_unix(&loop, &lst, path, 16, on_accept), 0);
    cr_assert(lst.unix_domain);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, path);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    cr_assert(run_until(&accepted_fd, 0));
    close(accepted_fd);
    close(fd);
    fc_listener_close(&lst);
    char longpath[200];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = 0;
    fc_listener l2;
    cr_assert_eq(fc_listener_unix(&loop, &l2, longpath, 16, on_accept), UV_ENAMETOOLONG);
    finish();
    unlink(path);
    rmdir(dir);
}
