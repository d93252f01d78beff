/*
 * sock — listeners and connections on uv_poll_t, with recv/send (see sock.h).
 */
#include "server/sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#define READ_ROUNDS 32   /* reads per readiness, as libuv's streams (fairness: client.c) */
#define ACCEPT_ROUNDS 64 /* accepts per readiness; more wait for the next loop turn */

static void on_poll(uv_poll_t *p, int status, int events);

/* Polls exactly `want`; uv_poll_start is only called on a change (each one costs an epoll_ctl). */
static int set_events(fc_sock *s, int want)
{
    if (s->closing || want == s->events)
        return 0;
    int r = want ? uv_poll_start(&s->poll, want, on_poll) : uv_poll_stop(&s->poll);
    if (r == 0)
        s->events = want;
    return r;
}

int fc_sock_open(uv_loop_t *loop, fc_sock *s, int fd)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    int r = uv_poll_init(loop, &s->poll, fd);
    if (r != 0) {
        close(fd);
        s->fd = -1;
        return r;
    }
    s->poll.data = s;
    return 0;
}

int fc_sock_read_start(fc_sock *s, fc_sock_alloc_cb alloc_cb, fc_sock_read_cb read_cb)
{
    s->alloc_cb = alloc_cb;
    s->read_cb = read_cb;
    s->reading = true;
    return set_events(s, s->events | UV_READABLE);
}

void fc_sock_read_stop(fc_sock *s)
{
    s->reading = false;
    set_events(s, s->events & ~UV_READABLE);
}

/* What the kernel takes now (maybe 0), or a negative errno. */
static ssize_t send_some(int fd, const char *data, size_t len)
{
    for (;;) {
        ssize_t n = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

ssize_t fc_sock_try_write(fc_sock *s, const char *data, size_t len)
{
    return s->wleft > 0 ? 0 : send_some(s->fd, data, len); /* never ahead of the write in flight */
}

int fc_sock_write(fc_sock *s, const char *data, size_t len, fc_sock_write_cb cb)
{
    if (s->closing)
        return UV_EPIPE;
    if (s->wleft > 0 || len == 0)
        return UV_EINVAL;
    int r = set_events(s, s->events | UV_WRITABLE);
    if (r != 0)
        return r;
    s->wdata = data;
    s->wleft = len;
    s->write_cb = cb;
    return 0;
}

static void finish_write(fc_sock *s, int status)
{
    s->wleft = 0;
    s->wdata = NULL;
    set_events(s, s->events & ~UV_WRITABLE);
    s->write_cb(s, status);
}

static void on_writable(fc_sock *s)
{
    ssize_t n = send_some(s->fd, s->wdata, s->wleft);
    if (n < 0) {
        finish_write(s, (int)n);
        return;
    }
    s->wdata += n;
    s->wleft -= (size_t)n;
    if (s->wleft == 0)
        finish_write(s, 0);
}

/* Reads until the socket is drained (a short read), reading stops or READ_ROUNDS reads ran. */
static void on_readable(fc_sock *s)
{
    for (int i = 0; i < READ_ROUNDS && s->reading && !s->closing; i++) {
        char *base = NULL;
        size_t len = 0;
        s->alloc_cb(s, &base, &len);
        if (base == NULL || len == 0) {
            s->read_cb(s, UV_ENOBUFS, 0);
            return;
        }
        ssize_t n = recv(s->fd, base, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            int err = n == 0 ? UV_EOF : -errno; /* before read_stop: epoll_ctl may set errno */
            fc_sock_read_stop(s);
            s->read_cb(s, err, len);
            return;
        }
        s->read_cb(s, n, len);
        if ((size_t)n < len)
            return;
    }
}

/* The socket's pending error (libuv reports POLLERR as UV_EBADF and stops the handle). */
static int sock_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0)
        return UV_ECONNRESET;
    return -err;
}

/* POLLERR, which libuv reports as UV_EBADF after stopping the handle: what the peer sent before
 * the error is still read and run (as Redis does), then reading and writing end with the error. */
static void on_poll_error(fc_sock *s)
{
    s->events = 0;
    if (s->wleft > 0)
        finish_write(s, sock_error(s->fd));
    if (s->reading && !s->closing)
        on_readable(s);
    if (s->reading && !s->closing) {
        s->reading = false;
        s->read_cb(s, sock_error(s->fd), 0);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    fc_sock *s = p->data;
    if (status < 0) {
        on_poll_error(s);
        return;
    }
    if ((events & UV_WRITABLE) && s->wleft > 0)
        on_writable(s);
    if ((events & UV_READABLE) && !s->closing)
        on_readable(s);
}

static void on_sock_closed(uv_handle_t *h)
{
    fc_sock *s = h->data;
    if (s->wleft > 0) {
        s->wleft = 0;
        s->write_cb(s, UV_ECANCELED);
    }
    if (s->close_cb)
        s->close_cb(s);
}

void fc_sock_close(fc_sock *s, fc_sock_close_cb cb)
{
    if (s->closing)
        return;
    s->closing = true;
    s->close_cb = cb;
    uv_close((uv_handle_t *)&s->poll, on_sock_closed); /* stops polling: fd may close now */
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static void set_int(int fd, int level, int opt, int value)
{
    (void)setsockopt(fd, level, opt, &value, sizeof(value)); /* best effort, as Redis's anet */
}

void fc_sock_tune_tcp(fc_sock *s, int keepalive_secs)
{
    set_int(s->fd, IPPROTO_TCP, TCP_NODELAY, 1);
    if (keepalive_secs <= 0)
        return;
    int interval = keepalive_secs / 3;
    set_int(s->fd, SOL_SOCKET, SO_KEEPALIVE, 1);
    set_int(s->fd, IPPROTO_TCP, TCP_KEEPIDLE, keepalive_secs);
    set_int(s->fd, IPPROTO_TCP, TCP_KEEPINTVL, interval > 0 ? interval : 1);
    set_int(s->fd, IPPROTO_TCP, TCP_KEEPCNT, 3);
}

static void on_listen_poll(uv_poll_t *p, int status, int events)
{
    fc_listener *l = p->data;
    (void)events;
    if (status < 0) { /* POLLERR: libuv stopped the handle; the cron's resume polls it again */
        l->paused = true;
        l->on_accept(l, status);
        return;
    }
    for (int i = 0; i < ACCEPT_ROUNDS && !l->paused && l->fd >= 0; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            l->on_accept(l, fd);
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        int err = errno;
        if (err == EMFILE || err == ENFILE) { /* level-triggered: would spin until fds free up */
            l->paused = true;
            uv_poll_stop(&l->poll);
        }
        if (err != EINTR && err != ECONNABORTED)
            l->on_accept(l, -err);
    }
}

void fc_listener_resume(fc_listener *l)
{
    if (l->paused && l->fd >= 0 && uv_poll_start(&l->poll, UV_READABLE, on_listen_poll) == 0)
        l->paused = false;
}

/* Listens on a bound socket and polls it; closes it on failure. */
static int start_listening(uv_loop_t *loop, fc_listener *l, int fd, int backlog, fc_listener_cb cb)
{
    int r = listen(fd, backlog) == 0 ? 0 : -errno;
    if (r == 0)
        r = uv_poll_init(loop, &l->poll, fd);
    if (r != 0) {
        close(fd);
        return r;
    }
    l->fd = fd;
    l->on_accept = cb;
    l->poll.data = l;
    return uv_poll_start(&l->poll, UV_READABLE, on_listen_poll);
}

int fc_listener_tcp(uv_loop_t *loop, fc_listener *l, const struct sockaddr *addr, int backlog,
                    fc_listener_cb cb)
{
    memset(l, 0, sizeof(*l));
    l->fd = -1;
    bool v6 = addr->sa_family == AF_INET6;
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (v6)
        set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, addr, len) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return start_listening(loop, l, fd, backlog, cb);
}

int fc_listener_unix(uv_loop_t *loop, fc_listener *l, const char *path, int backlog,
                     fc_listener_cb cb)
{
    memset(l, 0, sizeof(*l));
    l->fd = -1;
    l->unix_domain = true;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path))
        return UV_ENAMETOOLONG;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (const struct sockaddr *)&sun, sizeof(sun)) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return start_listening(loop, l, fd, backlog, cb);
}

void fc_listener_close(fc_listener *l)
{
    if (l->fd < 0)
        return;
    uv_close((uv_handle_t *)&l->poll, NULL);
    close(l->fd);
    l->fd = -1;
}
