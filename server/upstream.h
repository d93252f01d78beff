/*
 * upstream — one connection to the upstream Redis, on the libuv loop, with pipelining, ordered
 * reply matching, timeouts and reconnection.
 *
 *   fc_upstream_send(frame) ──► out buffer ──uv_write──► Redis
 *   Redis ──read──► fc_reply_scan ──► FIFO of in-flight requests: head gets its nreplies replies
 *
 * Handshake on every (re)connect, before any queued request: AUTH password (if set), SELECT db
 * (if not 0), HELLO 3 (if proto 3), then each preload script (SCRIPT LOAD). A failed handshake
 * closes the connection and counts as a failed attempt.
 *
 * Failure model (nothing mismatched, nothing hung): replies are matched to requests strictly in
 * order, so when anything goes wrong — connection lost, malformed reply, the head request's
 * deadline passed — the connection is closed and EVERY request in flight or queued fails with an
 * error status; no later byte can be taken for another request's reply. Then it reconnects with
 * exponential backoff (backoff_min_ms doubling up to backoff_max_ms) and full jitter. While not
 * connected, fc_upstream_send queues requests (bounded by max_queued) with their deadline, and
 * fails them at the deadline if the connection does not come back.
 *
 * Callback contract (libuv's): fc_upstream_send returns 0 and then calls cb exactly once (reply,
 * error, timeout or close), or returns a negative error and never calls cb.
 * The reply bytes passed to cb are borrowed for the duration of the call.
 */
#ifndef FC_SERVER_UPSTREAM_H
#define FC_SERVER_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct fc_upstream fc_upstream;

typedef struct fc_upstream_opts {
    const char *host;        /* name or address; ignored when unixsocket is set */
    int port;
    const char *unixsocket;  /* NULL or "" for TCP */
    const char *password;    /* NULL or "" for none */
    int db;
    int proto;               /* 2 or 3 (HELLO 3 in the handshake) */
    uint64_t connect_timeout_ms;
    uint64_t request_timeout_ms;
    uint64_t backoff_min_ms, backoff_max_ms;
    size_t max_queued;       /* requests accepted while disconnected; more get UV_EAGAIN */
    const char *const *scripts; /* NULL-terminated Lua sources to SCRIPT LOAD, or NULL */
} fc_upstream_opts;

/*
 * status 0: reply/len hold the raw bytes of the request's nreplies consecutive replies.
 * status < 0: UV_ETIMEDOUT (deadline passed), UV_ECONNRESET (connection lost or malformed reply),
 * UV_ECONNREFUSED (could not connect before the deadline), UV_ECANCELED (fc_upstream_close).
 */
typedef void fc_upstream_cb(void *ctx, int status, const char *reply, size_t len);

/* Creates the connection object and starts connecting. Strings in opts are copied. */
fc_upstream *fc_upstream_new(uv_loop_t *loop, const fc_upstream_opts *opts);

/* Queues a complete request frame (copied) expecting nreplies replies (>= 1). */
int fc_upstream_send(fc_upstream *u, const char *frame, size_t len, unsigned nreplies,
                     fc_upstream_cb *cb, void *ctx);

/* True when connected and the handshake is done. */
bool fc_upstream_ready(const fc_upstream *u);

/* Requests in flight or queued. */
size_t fc_upstream_pending(const fc_upstream *u);

/* A human-readable reason for the last failure ("connection refused", "timeout", ...). */
const char *fc_upstream_last_error(const fc_upstream *u);

/* Fails everything pending with UV_ECANCELED, closes the handles, then calls done(arg) once the
 * memory is released (after libuv's close callbacks). */
void fc_upstream_close(fc_upstream *u, void (*done)(void *arg), void *arg);

#endif
