/*
 * upstream — one connection to the upstream Redis (see upstream.h for the contract).
 *
 *   send ──READY──► conn->out ──(prepare: one uv_write per loop turn)──► wbuf ──► socket
 *        └─else───► queued (frame copied into the request)  ──on READY──┘
 *   socket ──► conn->in ──fc_reply_scan──► inflight head: nreplies replies, then cb
 *
 * States: BACKOFF (timer) → RESOLVING (uv_getaddrinfo, skipped for literals and unix sockets)
 * → CONNECTING → HANDSHAKE (AUTH/SELECT/HELLO/SCRIPT LOAD, replies consumed here) → READY.
 * conn_timer bounds RESOLVING..HANDSHAKE by connect_timeout_ms and times BACKOFF; req_timer
 * fires at the deadline of the oldest user request (requests are FIFO, so deadlines are too).
 *
 * Invariants:
 * - In READY the queued list is empty: every user request has its frame in conn->out/wbuf or on
 *   the wire, and sits in `inflight` in send order. Internal (handshake) requests exist only in
 *   HANDSHAKE, ahead of every user request.
 * - A failed connection attempt (resolve, connect, connect timeout, handshake) keeps the queued
 *   user requests: they were never sent and wait for the next attempt until their deadline.
 *   A failure of a READY connection fails everything in flight (ECONNRESET; ETIMEDOUT for a
 *   request whose own deadline passed), because nothing later can be trusted to be its reply.
 * - Every list is detached before its callbacks run, so a callback may send (it lands in a fresh
 *   list) or close the upstream (the detached list is still failed, each request exactly once).
 *
 * Limits: a host name is resolved on every attempt and only its first address is tried; RESP3
 * pushes ('>') are dropped, so a request whose only answer is a push (SUBSCRIBE under RESP3) ends
 * in a timeout; the out buffer is not capped while READY (callers bound fc_upstream_pending()).
 *
 * Ownership: a conn (its handle, connect/write requests and buffers) is freed only in its
 * close_cb; the fc_upstream is freed after every handle it owns has been closed and every
 * getaddrinfo request has returned, then done() is called.
 */
#include "server/upstream.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/buf.h"
#include "protocol/resp_reply.h"
#include "server/log.h"

#define READ_CHUNK (16 * 1024)
#define KEEP_BUF (64 * 1024)
#define MAX_REPLY_BUF ((size_t)1 << 30) /* one request's replies may not exceed 1 GiB */

typedef enum { ST_BACKOFF, ST_RESOLVING, ST_CONNECTING, ST_HANDSHAKE, ST_READY, ST_CLOSED } state;

typedef struct req {
    struct req *next;
    fc_upstream_cb *cb; /* NULL for an internal (handshake) request */
    void *ctx;
    const char *what;   /* internal: the command's name, for the log */
    uint64_t deadline;  /* uv_now() ms; UINT64_MAX for none */
    unsigned nreplies, got;
    size_t len;         /* frame bytes stored below (queued requests only) */
    char frame[];
} req;

typedef struct req_list {
    req *head, *tail;
    size_t n;
} req_list;

typedef struct conn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    uv_connect_t creq;
    uv_write_t wreq;
    fc_upstream *u;
    fc_buf out, wbuf, in;
    fc_reply_scanner sc;
    size_t cur;    /* start of the reply being scanned, in `in` */
    size_t rstart; /* start of the inflight head's first reply, in `in` */
    bool writing, closing;
} conn;

typedef struct gai {
    uv_getaddrinfo_t req;
    fc_upstream *u;
} gai;

struct fc_upstream {
    uv_loop_t *loop;
    fc_upstream_opts o; /* strings owned (copied) */
    char **scripts;
    state st;
    conn *c;             /* the current connection, or NULL */
    gai *g;              /* the current resolution, or NULL */
    uv_timer_t conn_timer, req_timer;
    uv_prepare_t flush_prep;
    req_list inflight, queued;
    size_t users;        /* user requests in inflight + queued */
    unsigned hs_left;    /* handshake replies still expected */
    unsigned attempts;   /* failed attempts since the last READY */
    uint64_t rng;
    int nopen;           /* handles and getaddrinfo requests not yet returned */
    bool closing;
    void (*done)(void *);
    void *done_arg;
    char last_error[256];
    char warned[256];    /* the attempt failure last logged as a warning since READY */
};

static void start_connect(fc_upstream *u);
static void conn_lost(fc_upstream *u, int status, const char *why);
static void attempt_failed(fc_upstream *u, const char *why);

/* ---- small helpers ---- */

/* "host:port" or the unix socket path, for log lines. */
typedef struct where_buf {
    char s[300];
} where_buf;

static where_buf where(const fc_upstream *u)
{
    where_buf w;
    if (u->o.unixsocket && u->o.unixsocket[0])
        snprintf(w.s, sizeof(w.s), "%s", u->o.unixsocket);
    else
        snprintf(w.s, sizeof(w.s), "%s:%d", u->o.host ? u->o.host : "?", u->o.port);
    return w;
}

static void list_push(req_list *l, req *r)
{
    r->next = NULL;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
    l->n++;
}

static req *list_pop(req_list *l)
{
    req *r = l->head;
    if (r) {
        l->head = r->next;
        if (!l->head)
            l->tail = NULL;
        l->n--;
    }
    return r;
}

static req_list list_take(req_list *l)
{
    req_list t = *l;
    memset(l, 0, sizeof(*l));
    return t;
}

static char *dup_str(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static uint64_t next_rand(fc_upstream *u)
{
    /* xorshift64*: jitter only, not security. */
    u->rng ^= u->rng >> 12;
    u->rng ^= u->rng << 25;
    u->rng ^= u->rng >> 27;
    return u->rng * 2685821657736338717ULL;
}

static void set_error(fc_upstream *u, const char *why)
{
    snprintf(u->last_error, sizeof(u->last_error), "%s", why);
}

/* Completes one request: user callbacks get status (and bytes when 0), internal ones vanish. */
static void complete(fc_upstream *u, req *r, int status, const char *reply, size_t len)
{
    if (r->cb) {
        u->users--;
        r->cb(r->ctx, status, status == 0 ? reply : NULL, status == 0 ? len : 0);
    }
    free(r);
}

/* Fails a detached list; a request whose own deadline passed gets UV_ETIMEDOUT if asked. */
static void fail_list(fc_upstream *u, req_list l, int status, bool timeouts)
{
    uint64_t now = uv_now(u->loop);
    req *r;
    while ((r = list_pop(&l)) != NULL)
        complete(u, r, timeouts && r->deadline <= now ? UV_ETIMEDOUT : status, NULL, 0);
}

/* ---- timers ---- */

static void arm_req_timer(fc_upstream *u);

static const req *oldest_user(const fc_upstream *u)
{
    if (u->inflight.head && u->inflight.head->cb)
        return u->inflight.head;
    return u->queued.head;
}

static void on_req_timer(uv_timer_t *t)
{
    fc_upstream *u = t->data;
    uint64_t now = uv_now(u->loop);
    const req *h = u->inflight.head;
    if (h && h->cb && h->deadline <= now) {
        set_error(u, "request timeout");
        conn_lost(u, UV_ECONNRESET, NULL);
        if (u->closing)
            return;
    }
    /* Queued requests were never sent: failing them leaves nothing mismatched. */
    while (!u->closing && u->queued.head && u->queued.head->deadline <= now) {
        req *r = list_pop(&u->queued);
        complete(u, r, UV_ECONNREFUSED, NULL, 0);
    }
    if (!u->closing)
        arm_req_timer(u);
}

static void arm_req_timer(fc_upstream *u)
{
    const req *r = oldest_user(u);
    if (!r || r->deadline == UINT64_MAX || uv_is_active((uv_handle_t *)&u->req_timer))
        return;
    uint64_t now = uv_now(u->loop);
    uv_timer_start(&u->req_timer, on_req_timer, r->deadline > now ? r->deadline - now : 0, 0);
}

static void on_conn_timer(uv_timer_t *t)
{
    fc_upstream *u = t->data;
    if (u->st == ST_BACKOFF)
        start_connect(u);
    else if (u->st != ST_READY && u->st != ST_CLOSED)
        attempt_failed(u, "connect timeout");
}

/* Backoff with full jitter: a uniform delay in [0, min(max, min * 2^(failed attempts - 1))]. */
static void schedule_reconnect(fc_upstream *u)
{
    uint64_t cap = u->o.backoff_min_ms;
    for (unsigned i = 1; i < u->attempts && cap < u->o.backoff_max_ms; i++)
        cap = cap ? cap * 2 : 1;
    if (cap > u->o.backoff_max_ms)
        cap = u->o.backoff_max_ms;
    uint64_t delay = cap ? next_rand(u) % (cap + 1) : 0;
    u->st = ST_BACKOFF;
    uv_timer_start(&u->conn_timer, on_conn_timer, delay, 0);
}

/* ---- connection teardown ---- */

static void maybe_finish(fc_upstream *u)
{
    if (!u->closing || u->nopen > 0)
        return;
    void (*done)(void *) = u->done;
    void *arg = u->done_arg;
    free((char *)u->o.host);
    free((char *)u->o.unixsocket);
    free((char *)u->o.password);
    for (size_t i = 0; u->scripts && u->scripts[i]; i++)
        free(u->scripts[i]);
    free(u->scripts);
    free(u);
    if (done)
        done(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
    fc_upstream *u = h->data;
    u->nopen--;
    maybe_finish(u);
}

static void on_conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    fc_upstream *u = c->u;
    fc_buf_deinit(&c->out);
    fc_buf_deinit(&c->wbuf);
    fc_buf_deinit(&c->in);
    free(c);
    u->nopen--;
    maybe_finish(u);
}

/* Closes the current connection (its pending write/connect callbacks see c->closing). */
static void drop_conn(fc_upstream *u)
{
    conn *c = u->c;
    if (!c)
        return;
    u->c = NULL;
    c->closing = true;
    uv_close(&c->h.handle, on_conn_closed);
}

/* Drops everything tied to the current attempt; internal requests are discarded silently. */
static req_list reset_attempt(fc_upstream *u)
{
    drop_conn(u);
    if (u->g) {
        uv_cancel((uv_req_t *)&u->g->req);
        u->g = NULL;
    }
    uv_timer_stop(&u->conn_timer);
    uv_prepare_stop(&u->flush_prep);
    u->hs_left = 0;
    return list_take(&u->inflight);
}

/* A connection attempt failed: queued requests wait (until their deadline) for the next one. */
static void attempt_failed(fc_upstream *u, const char *why)
{
    req_list l = reset_attempt(u);
    /* A persistent cause (server down, wrong password) is a warning once, then verbose. */
    if (strcmp(why, u->warned) != 0) {
        snprintf(u->warned, sizeof(u->warned), "%s", why);
        fc_log_warning("upstream %s db %d: connection attempt failed: %s", where(u).s, u->o.db, why);
    } else {
        fc_log_verbose("upstream %s db %d: connection attempt failed: %s", where(u).s, u->o.db, why);
    }
    if (why != u->last_error)
        set_error(u, why);
    u->attempts++;
    schedule_reconnect(u);
    fail_list(u, l, UV_ECONNRESET, true); /* only internal requests can be in flight here */
}

/* An established (or handshaking) connection failed: everything in flight fails. */
static void conn_lost(fc_upstream *u, int status, const char *why)
{
    if (u->st != ST_READY) {
        attempt_failed(u, why ? why : u->last_error);
        return;
    }
    if (why)
        set_error(u, why);
    fc_log_warning("upstream %s db %d: connection lost: %s", where(u).s, u->o.db, u->last_error);
    req_list l = reset_attempt(u);
    schedule_reconnect(u);
    fail_list(u, l, status, true);
    if (!u->closing)
        arm_req_timer(u);
}

/* ---- writing ---- */

static void want_flush(fc_upstream *u);

static void on_write(uv_write_t *w, int status)
{
    conn *c = w->data;
    c->writing = false;
    c->wbuf.len = 0;
    if (c->closing)
        return;
    if (status < 0) {
        conn_lost(c->u, UV_ECONNRESET, uv_strerror(status));
        return;
    }
    fc_buf_shrink(&c->wbuf, KEEP_BUF);
    if (c->out.len > 0)
        want_flush(c->u);
}

/* Swaps out and wbuf and writes wbuf in one uv_write (every frame queued since the last one). */
static void flush(conn *c)
{
    if (c->writing || c->closing || c->out.len == 0)
        return;
    fc_buf tmp = c->wbuf;
    c->wbuf = c->out;
    c->out = tmp;
    uv_buf_t b = {.base = c->wbuf.data, .len = c->wbuf.len};
    c->wreq.data = c;
    int r = uv_write(&c->wreq, &c->h.stream, &b, 1, on_write);
    if (r != 0) {
        c->wbuf.len = 0;
        conn_lost(c->u, UV_ECONNRESET, uv_strerror(r));
        return;
    }
    c->writing = true;
}

static void on_flush_prep(uv_prepare_t *p)
{
    fc_upstream *u = p->data;
    uv_prepare_stop(p);
    if (u->c)
        flush(u->c);
}

static void want_flush(fc_upstream *u)
{
    if (!uv_is_active((uv_handle_t *)&u->flush_prep))
        uv_prepare_start(&u->flush_prep, on_flush_prep);
}

/* Appends a multibulk command to out. */
static int encode_cmd(fc_buf *out, int argc, const char *const *argv)
{
    char hdr[32];
    int n = snprintf(hdr, sizeof(hdr), "*%d\r\n", argc);
    int r = fc_buf_append(out, hdr, (size_t)n);
    for (int i = 0; r == 0 && i < argc; i++) {
        size_t len = strlen(argv[i]);
        n = snprintf(hdr, sizeof(hdr), "$%zu\r\n", len);
        r = fc_buf_append(out, hdr, (size_t)n);
        if (r == 0)
            r = fc_buf_append(out, argv[i], len);
        if (r == 0)
            r = fc_buf_append(out, "\r\n", 2);
    }
    return r;
}

static int send_internal(fc_upstream *u, const char *what, int argc, const char *const *argv)
{
    req *r = calloc(1, sizeof(*r));
    if (!r)
        return UV_ENOMEM;
    if (encode_cmd(&u->c->out, argc, argv) != 0) {
        free(r);
        return UV_ENOMEM;
    }
    r->what = what;
    r->nreplies = 1;
    r->deadline = UINT64_MAX;
    list_push(&u->inflight, r);
    u->hs_left++;
    return 0;
}

/* Moves every queued user request's frame into out, in order. */
static int drain_queued(fc_upstream *u)
{
    for (req *r = u->queued.head; r; r = r->next)
        if (fc_buf_append(&u->c->out, r->frame, r->len) != 0)
            return UV_ENOMEM;
    while (u->queued.head) {
        req *r = list_pop(&u->queued);
        r->len = 0;
        list_push(&u->inflight, r);
    }
    return 0;
}

static void become_ready(fc_upstream *u)
{
    uv_timer_stop(&u->conn_timer);
    if (drain_queued(u) != 0) {
        attempt_failed(u, "out of memory");
        return;
    }
    u->st = ST_READY;
    u->attempts = 0;
    u->warned[0] = 0;
    fc_log_verbose("upstream %s db %d: connected", where(u).s, u->o.db);
    want_flush(u);
}

/* Queues the handshake; READY at once when there is none. */
static void start_handshake(fc_upstream *u)
{
    char db[16];
    int r = 0;
    u->st = ST_HANDSHAKE;
    if (u->o.password)
        r = send_internal(u, "AUTH", 2, (const char *[]){"AUTH", u->o.password});
    if (r == 0 && u->o.db != 0) {
        snprintf(db, sizeof(db), "%d", u->o.db);
        r = send_internal(u, "SELECT", 2, (const char *[]){"SELECT", db});
    }
    if (r == 0 && u->o.proto == 3)
        r = send_internal(u, "HELLO", 2, (const char *[]){"HELLO", "3"});
    for (size_t i = 0; r == 0 && u->scripts && u->scripts[i]; i++)
        r = send_internal(u, "SCRIPT LOAD", 3, (const char *[]){"SCRIPT", "LOAD", u->scripts[i]});
    if (r != 0)
        attempt_failed(u, "out of memory");
    else if (u->hs_left == 0)
        become_ready(u);
    else
        want_flush(u);
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn *c = h->data;
    (void)suggested;
    if (fc_buf_reserve(&c->in, READ_CHUNK) != 0) {
        buf->base = NULL; /* read_cb gets UV_ENOBUFS */
        buf->len = 0;
        return;
    }
    buf->base = c->in.data + c->in.len;
    buf->len = c->in.cap - c->in.len;
}

/* The text of an error reply ("-ERR x\r\n" or "!5\r\nERR x\r\n"), for the log. */
static void error_text(const char *p, size_t len, const char **text, int *tlen)
{
    const char *end = memchr(p, '\r', len);
    size_t l = end ? (size_t)(end - p) : len;
    if (p[0] == '!' && end && l + 2 < len) {
        p = end + 2;
        len -= l + 2;
        end = memchr(p, '\r', len);
        l = end ? (size_t)(end - p) : len;
    } else if (l > 0) {
        p++;
        l--;
    }
    *text = p;
    *tlen = l > 200 ? 200 : (int)l;
}

/* A handshake reply: an error fails the attempt, the last success makes the link READY. */
static bool handshake_reply(fc_upstream *u, req *r, const char *p, size_t len)
{
    if (p[0] == '-' || p[0] == '!') {
        const char *t;
        int tl;
        char why[256];
        error_text(p, len, &t, &tl);
        snprintf(why, sizeof(why), "handshake %s failed: %.*s", r->what, tl, t);
        free(r);
        attempt_failed(u, why);
        return false;
    }
    free(r);
    if (--u->hs_left == 0)
        become_ready(u);
    return true;
}

/* One complete reply at in[cur..cur+used). Returns false when the connection went away. */
static bool on_reply(fc_upstream *u, conn *c, size_t used)
{
    char *p = c->in.data + c->cur;
    if (p[0] == '>') {
        /* An out-of-band push (RESP3) belongs to no request: cut it out of the stream, even
         * between two replies of one multi-reply request. */
        memmove(p, p + used, c->in.len - c->cur - used);
        c->in.len -= used;
        return true;
    }
    req *r = u->inflight.head;
    if (!r) {
        conn_lost(u, UV_ECONNRESET, "reply with no request in flight");
        return false;
    }
    c->cur += used;
    if (++r->got < r->nreplies)
        return true;
    list_pop(&u->inflight);
    const char *start = c->in.data + c->rstart;
    size_t len = c->cur - c->rstart;
    c->rstart = c->cur;
    if (!r->cb)
        return handshake_reply(u, r, start, len) && u->c == c;
    complete(u, r, 0, start, len);
    return u->c == c;
}

static void process_input(fc_upstream *u, conn *c)
{
    while (c->cur < c->in.len) {
        size_t used = 0;
        fc_resp_status st = fc_reply_scan(&c->sc, c->in.data + c->cur, c->in.len - c->cur, &used);
        if (st == FC_RESP_AGAIN)
            break;
        if (st == FC_RESP_ERR) {
            char why[160];
            snprintf(why, sizeof(why), "malformed reply: %s", c->sc.err);
            conn_lost(u, UV_ECONNRESET, why);
            return;
        }
        if (!on_reply(u, c, used))
            return;
    }
    fc_buf_consume(&c->in, c->rstart);
    c->cur -= c->rstart;
    c->rstart = 0;
    if (c->in.len == 0)
        fc_buf_shrink(&c->in, KEEP_BUF);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = s->data;
    (void)buf;
    if (c->closing)
        return;
    if (nread < 0) {
        conn_lost(c->u, UV_ECONNRESET,
                  nread == UV_EOF ? "connection closed by upstream"
                  : nread == UV_ENOBUFS ? "reply too large"
                                        : uv_strerror((int)nread));
        return;
    }
    c->in.len += (size_t)nread;
    process_input(c->u, c);
}

/* ---- connecting ---- */

static void on_connect(uv_connect_t *cr, int status)
{
    conn *c = cr->data;
    if (c->closing)
        return;
    fc_upstream *u = c->u;
    if (status < 0) {
        attempt_failed(u, uv_strerror(status));
        return;
    }
    if (c->h.handle.type == UV_TCP) {
        uv_tcp_nodelay(&c->h.tcp, 1);
        uv_tcp_keepalive(&c->h.tcp, 1, 60);
    }
    int r = uv_read_start(&c->h.stream, on_alloc, on_read);
    if (r != 0) {
        attempt_failed(u, uv_strerror(r));
        return;
    }
    start_handshake(u);
}

static conn *conn_new(fc_upstream *u, bool pipe)
{
    conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    int r = pipe ? uv_pipe_init(u->loop, &c->h.pipe, 0) : uv_tcp_init(u->loop, &c->h.tcp);
    if (r != 0) {
        free(c);
        return NULL;
    }
    c->u = u;
    c->h.handle.data = c;
    c->creq.data = c;
    fc_buf_init(&c->out, 0);
    fc_buf_init(&c->wbuf, 0);
    fc_buf_init(&c->in, MAX_REPLY_BUF);
    fc_reply_scanner_init(&c->sc);
    u->nopen++;
    u->c = c;
    u->st = ST_CONNECTING;
    return c;
}

static void connect_addr(fc_upstream *u, const struct sockaddr *sa)
{
    conn *c = conn_new(u, false);
    if (!c) {
        attempt_failed(u, "out of memory");
        return;
    }
    int r = uv_tcp_connect(&c->creq, &c->h.tcp, sa, on_connect);
    if (r != 0)
        attempt_failed(u, uv_strerror(r));
}

static void on_resolved(uv_getaddrinfo_t *gr, int status, struct addrinfo *res)
{
    gai *g = gr->data;
    fc_upstream *u = g->u;
    bool current = u->g == g;
    free(g);
    u->nopen--;
    if (!current || u->closing) {
        uv_freeaddrinfo(res);
        maybe_finish(u);
        return;
    }
    u->g = NULL;
    if (status < 0 || !res) {
        char why[160];
        snprintf(why, sizeof(why), "cannot resolve %s: %s", u->o.host, uv_strerror(status));
        uv_freeaddrinfo(res);
        attempt_failed(u, why);
        return;
    }
    struct sockaddr_storage ss;
    memcpy(&ss, res->ai_addr, res->ai_addrlen);
    uv_freeaddrinfo(res);
    connect_addr(u, (struct sockaddr *)&ss);
}

static void resolve(fc_upstream *u)
{
    char port[16];
    gai *g = calloc(1, sizeof(*g));
    if (!g) {
        attempt_failed(u, "out of memory");
        return;
    }
    g->u = u;
    g->req.data = g;
    snprintf(port, sizeof(port), "%d", u->o.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    u->st = ST_RESOLVING;
    int r = uv_getaddrinfo(u->loop, &g->req, on_resolved, u->o.host, port, &hints);
    if (r != 0) {
        free(g);
        attempt_failed(u, uv_strerror(r));
        return;
    }
    u->g = g;
    u->nopen++;
}

static void start_connect(fc_upstream *u)
{
    if (u->o.connect_timeout_ms > 0)
        uv_timer_start(&u->conn_timer, on_conn_timer, u->o.connect_timeout_ms, 0);
    if (u->o.unixsocket) {
        conn *c = conn_new(u, true);
        if (!c)
            attempt_failed(u, "out of memory");
        else
            uv_pipe_connect(&c->creq, &c->h.pipe, u->o.unixsocket, on_connect);
        return;
    }
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    const char *host = u->o.host ? u->o.host : "127.0.0.1";
    if (uv_ip4_addr(host, u->o.port, &a4) == 0)
        connect_addr(u, (const struct sockaddr *)&a4);
    else if (uv_ip6_addr(host, u->o.port, &a6) == 0)
        connect_addr(u, (const struct sockaddr *)&a6);
    else
        resolve(u);
}

/* ---- API ---- */

static int copy_opts(fc_upstream *u, const fc_upstream_opts *o)
{
    u->o = *o;
    u->o.host = dup_str(o->host);
    u->o.unixsocket = dup_str(o->unixsocket);
    u->o.password = dup_str(o->password);
    u->o.scripts = NULL;
    if ((o->host && *o->host && !u->o.host) || (o->unixsocket && *o->unixsocket &&
                                                !u->o.unixsocket) ||
        (o->password && *o->password && !u->o.password))
        return -1;
    size_t n = 0;
    while (o->scripts && o->scripts[n])
        n++;
    if (n == 0)
        return 0;
    u->scripts = calloc(n + 1, sizeof(char *));
    if (!u->scripts)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(u->scripts[i] = strdup(o->scripts[i])))
            return -1;
    return 0;
}

static void init_handle(fc_upstream *u, uv_handle_t *h)
{
    h->data = u;
    u->nopen++;
}

fc_upstream *fc_upstream_new(uv_loop_t *loop, const fc_upstream_opts *opts)
{
    fc_upstream *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->loop = loop;
    if (copy_opts(u, opts) != 0) {
        u->closing = true;
        maybe_finish(u);
        return NULL;
    }
    if (u->o.backoff_max_ms < u->o.backoff_min_ms)
        u->o.backoff_max_ms = u->o.backoff_min_ms;
    u->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)u ^ 0x9e3779b97f4a7c15ULL;
    uv_timer_init(loop, &u->conn_timer);
    uv_timer_init(loop, &u->req_timer);
    uv_prepare_init(loop, &u->flush_prep);
    init_handle(u, (uv_handle_t *)&u->conn_timer);
    init_handle(u, (uv_handle_t *)&u->req_timer);
    init_handle(u, (uv_handle_t *)&u->flush_prep);
    start_connect(u);
    return u;
}

int fc_upstream_send(fc_upstream *u, const char *frame, size_t len, unsigned nreplies,
                     fc_upstream_cb *cb, void *ctx)
{
    if (u->closing)
        return UV_ECANCELED;
    if (nreplies == 0 || len == 0 || !cb)
        return UV_EINVAL;
    bool ready = u->st == ST_READY;
    if (!ready && u->queued.n >= u->o.max_queued)
        return UV_EAGAIN;
    req *r = malloc(sizeof(*r) + (ready ? 0 : len));
    if (!r)
        return UV_ENOMEM;
    *r = (req){.cb = cb, .ctx = ctx, .nreplies = nreplies, .deadline = UINT64_MAX};
    if (u->o.request_timeout_ms > 0)
        r->deadline = uv_now(u->loop) + u->o.request_timeout_ms;
    if (ready) {
        if (fc_buf_append(&u->c->out, frame, len) != 0) {
            free(r);
            return UV_ENOMEM;
        }
        list_push(&u->inflight, r);
        want_flush(u);
    } else {
        memcpy(r->frame, frame, len);
        r->len = len;
        list_push(&u->queued, r);
    }
    u->users++;
    arm_req_timer(u);
    return 0;
}

bool fc_upstream_ready(const fc_upstream *u)
{
    return u->st == ST_READY;
}

size_t fc_upstream_pending(const fc_upstream *u)
{
    return u->users;
}

const char *fc_upstream_last_error(const fc_upstream *u)
{
    return u->last_error;
}

void fc_upstream_close(fc_upstream *u, void (*done)(void *arg), void *arg)
{
    if (u->closing)
        return;
    u->closing = true;
    u->done = done;
    u->done_arg = arg;
    req_list l = reset_attempt(u);
    req_list q = list_take(&u->queued);
    u->st = ST_CLOSED;
    uv_close((uv_handle_t *)&u->conn_timer, on_handle_closed);
    uv_close((uv_handle_t *)&u->req_timer, on_handle_closed);
    uv_close((uv_handle_t *)&u->flush_prep, on_handle_closed);
    fail_list(u, l, UV_ECANCELED, false);
    fail_list(u, q, UV_ECANCELED, false);
}
