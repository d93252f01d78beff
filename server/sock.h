/*
 * sock — the daemon's own sockets: listeners and client connections watched by a uv_poll_t and
 * read and written with recv(2) and send(2), instead of libuv's streams.
 *
 *   listen fd ──readable──► accept4 ──► on_accept(fd) ──► fc_sock_open
 *   client fd ──readable──► alloc_cb ► recv ► read_cb        (up to READ_ROUNDS per readiness)
 *             ◄── fc_sock_try_write (send) ── the rest: fc_sock_write, sent when writable ► write_cb
 *
 * Why not uv_tcp_t: libuv reads with read(2) and writes with write(2), which go through the VFS
 * (rw_verify_area, fsnotify) before reaching the socket; recv/send enter the socket layer
 * directly. At -P 1, with one read and one write per request, that was 2-3% of the daemon's CPU
 * per request (README, "Performance"). The upstream connections of the proxy backend stay on
 * libuv streams.
 *
 * Semantics follow libuv's streams where the client depends on them: reading is level-triggered
 * and goes on until fc_sock_read_stop; one readiness reads until a read comes back short (the
 * socket is drained), at most READ_ROUNDS times (sock.c); a read of 0 bytes reports UV_EOF and
 * errors are negative errno values (uv_strerror() names them). At most one fc_sock_write is in
 * flight; its callback runs once, later, from the loop: 0 once every byte was sent, a negative
 * errno on failure, UV_ECANCELED when the socket is closed first. fc_sock_close stops every
 * callback but that one and close_cb, and closes the descriptor.
 */
#ifndef FC_SERVER_SOCK_H
#define FC_SERVER_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <uv.h>

typedef struct fc_sock fc_sock;
/* Where the next read goes: *base = NULL asks read_cb to report UV_ENOBUFS. */
typedef void (*fc_sock_alloc_cb)(fc_sock *s, char **base, size_t *len);
/* nread > 0 bytes arrived in the buffer of `asked` bytes; or UV_EOF, UV_ENOBUFS, -errno. */
typedef void (*fc_sock_read_cb)(fc_sock *s, ssize_t nread, size_t asked);
typedef void (*fc_sock_write_cb)(fc_sock *s, int status);
typedef void (*fc_sock_close_cb)(fc_sock *s);

struct fc_sock {
    uv_poll_t poll;
    int fd;
    int events;            /* UV_READABLE | UV_WRITABLE polled now */
    bool reading;          /* between fc_sock_read_start and fc_sock_read_stop (or EOF, error) */
    bool closing;
    fc_sock_alloc_cb alloc_cb;
    fc_sock_read_cb read_cb;
    const char *wdata;     /* the write in flight: the bytes not sent yet */
    size_t wleft;
    fc_sock_write_cb write_cb;
    fc_sock_close_cb close_cb;
    void *data;            /* the owner's */
};

/* Takes a connected non-blocking socket; it is closed by fc_sock_close (also on error here). */
int fc_sock_open(uv_loop_t *loop, fc_sock *s, int fd);
int fc_sock_read_start(fc_sock *s, fc_sock_alloc_cb alloc_cb, fc_sock_read_cb read_cb);
void fc_sock_read_stop(fc_sock *s);
/* Sends what the kernel takes now: the byte count (maybe 0), or a negative errno. */
ssize_t fc_sock_try_write(fc_sock *s, const char *data, size_t len);
/* Sends all of data[0..len) as the socket becomes writable; data must live until cb. */
int fc_sock_write(fc_sock *s, const char *data, size_t len, fc_sock_write_cb cb);
void fc_sock_close(fc_sock *s, fc_sock_close_cb cb);
/* TCP_NODELAY, and keepalive probes as Redis sets them: idle `secs`, interval secs/3, 3 probes. */
void fc_sock_tune_tcp(fc_sock *s, int keepalive_secs);

typedef struct fc_listener fc_listener;
/* A connection accepted (fd >= 0, non-blocking, close-on-exec), or a negative errno. */
typedef void (*fc_listener_cb)(fc_listener *l, int fd);

struct fc_listener {
    uv_poll_t poll;
    int fd;
    bool unix_domain;
    bool paused;           /* out of descriptors, or POLLERR: waiting for fc_listener_resume */
    fc_listener_cb on_accept;
    void *data;
};

/* Binds (SO_REUSEADDR; IPv6 addresses only IPv6) and listens; a negative errno on failure. */
int fc_listener_tcp(uv_loop_t *loop, fc_listener *l, const struct sockaddr *addr, int backlog,
                    fc_listener_cb cb);
int fc_listener_unix(uv_loop_t *loop, fc_listener *l, const char *path, int backlog,
                     fc_listener_cb cb);
/* Polls again after accept ran out of descriptors (EMFILE/ENFILE) or a poll error paused it. */
void fc_listener_resume(fc_listener *l);
void fc_listener_close(fc_listener *l);

#endif
