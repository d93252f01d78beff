/*
 * client — one connection (see client.h for the data flow and ownership).
 */
#include "server/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/resp_writer.h"
#include "storage/prefetch.h"
#include "server/log.h"
#include "server/server.h"
#include "server/util.h"

#define READ_CHUNK (16 * 1024)
#define KEEP_BUF (64 * 1024) /* buffers shrink back to this when idle */
#define MAX_PENDING 1024      /* proxied requests in flight per client before reading pauses */
#define SOFT_OUT_MAX (8u * 1024 * 1024) /* the soft output threshold never exceeds this */
#define OUTPUT_STALL_MS 10000 /* a client paused on output with no write progress this long */
#define HINT_FRAMES 16        /* frames whose keys are prefetched together (storage/prefetch.h) */
#define HINT_ARGS FC_CLIENT_PEEK_ARGS
#define HINT_KEY_MAX 512      /* longer second arguments are not hashed for a hint */
/* A client's budget per loop turn (client.h, "Fairness"): request words run, bytes read; and the
 * turn's own age, looked at every TURN_CHECK requests: past FC_TURN_BUDGET_NS (core.h) since the
 * turn's first callback, a client with more requests waits for the next turn. */
#define TURN_ARGS 1024
#define TURN_READ (256 * 1024)
#define TURN_CHECK 16

static void flush(fc_client *c);
static void on_ready(void *owner);
static void process_input(fc_client *c);
static void on_alloc(fc_sock *s, char **base, size_t *len);
static void on_read(fc_sock *s, ssize_t nread, size_t asked);
static void after_batch(fc_client *c);
static void after_read(fc_client *c);

size_t fc_client_pending_output(const fc_client *c)
{
    size_t n = c->out.len + c->wbuf.len;
    if (!fc_replyq_empty(&c->q))
        n += fc_replyq_bytes(&c->q);
    return n;
}

static size_t soft_output_limit(const fc_client *c)
{
    uint64_t half = c->srv->conf->client_output_buffer_limit / 2;
    return half < SOFT_OUT_MAX ? (size_t)half : SOFT_OUT_MAX;
}

/* Closes the client when `pending` bytes of output exceed the limit. True if it did. */
static bool close_if_over_limit(fc_client *c, size_t pending)
{
    uint64_t limit = c->srv->conf->client_output_buffer_limit;
    if (pending <= limit || c->closing)
        return false;
    fc_log_warning("Closing client id=%llu addr=%s: %zu bytes of output pending, over "
                   "client_output_buffer_limit (%llu)",
                   (unsigned long long)c->sess.id, c->sess.addr, pending,
                   (unsigned long long)limit);
    fc_client_close(c);
    return true;
}

static void pause_for_output(fc_client *c, int64_t now)
{
    if (!c->out_paused)
        c->progress_ms = now;
    c->out_paused = true;
}

bool fc_client_check_stall(fc_client *c, int64_t now_ms)
{
    if (!c->out_paused || c->closing || now_ms - c->progress_ms < OUTPUT_STALL_MS)
        return false;
    fc_log_warning("Closing client id=%llu addr=%s: %zu bytes of output pending and none "
                   "written for %d s (client not reading)",
                   (unsigned long long)c->sess.id, c->sess.addr, fc_client_pending_output(c),
                   OUTPUT_STALL_MS / 1000);
    fc_client_close(c);
    return true;
}

/* Reading may go on: nothing holds it (pending slots, barrier, backlog, spent turn budget,
 * close, shutdown). */
static bool may_read(const fc_client *c)
{
    return !c->paused && !c->out_paused && !c->deferred && !c->closing && !c->srv->stopping &&
           !(c->sess.flags & FC_SESS_CLOSE_AFTER_REPLY);
}

static bool turn_spent(const fc_client *c)
{
    return c->turn_args >= TURN_ARGS || c->turn_read >= TURN_READ;
}

/* After `ran` requests of this batch: the client's budget is spent, or the turn is too old
 * (looked at every TURN_CHECK requests, or after each one while writes evict: memory.h). */
static bool turn_over(const fc_client *c, size_t ran)
{
    return turn_spent(c) ||
           (ran > 0 &&
            (ran % TURN_CHECK == 0 || c->srv->core.evict_pending || c->srv->core.turn_evicted) &&
            uv_hrtime() - c->srv->core.turn_start_ns > FC_TURN_BUDGET_NS);
}

/* This turn's budget is spent: no more reading until the server continues the client. */
static void defer_rest(fc_client *c)
{
    if (c->closing || c->deferred)
        return;
    fc_server_defer(c->srv, c);
    fc_sock_read_stop(&c->sock);
}

/* After a write completed: resumes reading once the backlog is below the soft threshold and no
 * write is in flight (so the previous batch's buffer is released before the next one fills). */
static void maybe_resume_output(fc_client *c)
{
    if (!c->out_paused || c->writing || fc_client_pending_output(c) >= soft_output_limit(c))
        return;
    c->out_paused = false;
    if (c->in.len > 0) { /* requests left over when the batch was cut short */
        process_input(c);
        after_batch(c);
    }
    if (may_read(c))
        fc_sock_read_start(&c->sock, on_alloc, on_read);
}

void fc_client_stop_reading(fc_client *c)
{
    if (!c->closing)
        fc_sock_read_stop(&c->sock);
}

bool fc_client_drained(const fc_client *c)
{
    /* Replies still pending upstream are not waited for (nor those queued behind them). */
    return c->closing || (!c->writing && c->out.len == 0);
}

fc_client *fc_client_new(struct fc_server *srv, int fd, bool unix_domain)
{
    fc_client *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return NULL;
    }
    if (fc_sock_open(srv->loop, &c->sock, fd) != 0) { /* (it closed fd) */
        free(c);
        return NULL;
    }
    c->srv = srv;
    c->sock.data = c;
    fc_session_init(&c->sess, fc_time_ms());
    if (srv->conf->driver == FC_DRIVER_REDIS)
        c->sess.db = srv->conf->redis_db; /* a client starts in the upstream's configured db */
    if (unix_domain)
        c->sess.flags |= FC_SESS_UNIX;
    fc_buf_init(&c->in, srv->conf->client_query_buffer_limit);
    fc_buf_init(&c->out, 0);
    fc_buf_init(&c->wbuf, 0);
    fc_replyq_init(&c->q, &c->out, on_ready, c);
    fc_resp_parser_init(&c->parser);
    c->parser.max_bulk = srv->conf->proto_max_bulk_len;
    return c;
}

static void client_free(fc_client *c)
{
    if (c->dirty)
        fc_server_unmark_dirty(c->srv, c);
    if (c->deferred)
        fc_server_undefer(c->srv, c);
    if (c->staged)
        fc_server_unstage(c->srv, c);
    fc_replyq_deinit(&c->q);
    fc_buf_deinit(&c->in);
    fc_buf_deinit(&c->out);
    fc_buf_deinit(&c->wbuf);
    fc_resp_parser_deinit(&c->parser);
    fc_session_deinit(&c->sess);
    free(c->argv);
    free(c);
}

static void on_close(fc_sock *s)
{
    fc_client *c = s->data;
    c->handle_closed = true;
    if (c->q.pending == 0)
        client_free(c);
}

/* A reply slot completed: flush, resume reading if it was paused, or free a closed client. */
static void on_ready(void *owner)
{
    fc_client *c = owner;
    if (c->closing) {
        if (c->handle_closed && c->q.pending == 0)
            client_free(c);
        return;
    }
    if (c->in_process)
        return; /* completed synchronously inside dispatch: the parse loop goes on by itself */
    if (close_if_over_limit(c, c->out.len + c->wbuf.len))
        return;
    if (c->paused && c->q.pending < MAX_PENDING / 2 && !(c->sess.flags & FC_SESS_HOLD) &&
        !c->srv->stopping) {
        c->paused = false;
        process_input(c);
        if (may_read(c))
            fc_sock_read_start(&c->sock, on_alloc, on_read);
    }
    fc_server_mark_dirty(c->srv, c);
}

void fc_client_flush(fc_client *c)
{
    flush(c);
    if (!c->closing)
        maybe_resume_output(c);
}

void fc_client_close(fc_client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->sess.id)
        fc_core_detach(&c->srv->core, &c->sess);
    fc_sock_close(&c->sock, on_close);
}

void fc_client_close_killed(fc_core *core)
{
    core->kills = 0;
    fc_session *s = core->sessions;
    while (s) {
        fc_session *next = s->next; /* closing detaches s */
        if (s->flags & FC_SESS_KILLED)
            fc_client_close(FC_CLIENT_OF(s));
        s = next;
    }
}

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t n)
{
    char ip[64] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        uv_ip4_name(a, ip, sizeof(ip));
        port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(a, ip, sizeof(ip));
        port = ntohs(a->sin6_port);
    }
    snprintf(out, n, "%s:%d", ip, port);
}

static void fill_addrs(fc_client *c)
{
    c->sess.fd = c->sock.fd;
    if (c->sess.flags & FC_SESS_UNIX) {
        snprintf(c->sess.addr, sizeof(c->sess.addr), "%.50s:0", c->srv->conf->unixsocket);
        snprintf(c->sess.laddr, sizeof(c->sess.laddr), "%.50s:0", c->srv->conf->unixsocket);
        return;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(c->sock.fd, (struct sockaddr *)&ss, &len) == 0)
        format_addr(&ss, c->sess.addr, sizeof(c->sess.addr));
    len = sizeof(ss);
    if (getsockname(c->sock.fd, (struct sockaddr *)&ss, &len) == 0)
        format_addr(&ss, c->sess.laddr, sizeof(c->sess.laddr));
}

static void on_alloc(fc_sock *s, char **base, size_t *len)
{
    fc_client *c = s->data;
    size_t want = READ_CHUNK;
    if (c->parser.need > c->in.len && c->parser.need - c->in.len > want)
        want = c->parser.need - c->in.len;
    if (fc_buf_reserve(&c->in, want) != 0 && fc_buf_reserve(&c->in, 1) != 0) {
        *base = NULL; /* read_cb gets UV_ENOBUFS: the query buffer limit */
        return;
    }
    *base = c->in.data + c->in.len;
    *len = c->in.cap - c->in.len;
    if (*len > TURN_READ) /* a big frame's buffer is reserved whole, filled by slices */
        *len = TURN_READ;
}

/* Points c->argv at the frame's arguments inside the input buffer. */
static bool build_argv(fc_client *c, const char *base, const fc_span *spans, size_t argc)
{
    if (argc > c->argv_cap) {
        size_t cap = argc < 16 ? 16 : argc;
        fc_arg *a = realloc(c->argv, cap * sizeof(*a));
        if (!a)
            return false;
        c->argv = a;
        c->argv_cap = cap;
    }
    for (size_t i = 0; i < argc; i++) {
        c->argv[i].p = base + spans[i].off;
        c->argv[i].len = spans[i].len;
    }
    return true;
}

static void protocol_error(fc_client *c, const char *msg)
{
    fc_buf *out = fc_replyq_sync(&c->q);
    if (out && !(c->sess.flags & FC_SESS_MUTED)) /* CLIENT REPLY OFF mutes this one too */
        fc_resp_errorf(out, "ERR %s", msg);
    fc_log_verbose("Protocol error (%s) from client: id=%llu addr=%s", msg,
                   (unsigned long long)c->sess.id, c->sess.addr);
    c->sess.flags |= FC_SESS_CLOSE_AFTER_REPLY;
}

/* Frames parsed ahead of running them (process_input's stack): each one's offset in `in`,
 * length and arguments, exactly what fc_resp_parse would give. */
typedef struct hint_window {
    size_t n, next;              /* frames held, and the next one to run */
    size_t end;                  /* offset past the frames looked at */
    size_t off[HINT_FRAMES], used[HINT_FRAMES], argc[HINT_FRAMES];
    fc_span argv[HINT_FRAMES][HINT_ARGS];
} hint_window;

/*
 * Memory mode: parses ahead the complete frames from `off` (at most HINT_FRAMES of at most
 * HINT_ARGS arguments, fc_resp_peek) and, when there are at least two, prefetches the bucket
 * then the first entry of each one's second argument -- the key of GET, SET and most commands --
 * in the current database (a hint: a second argument that is no key, or a SELECT in between,
 * only wastes a prefetch), so the cache misses of the batch overlap. The frames are then run
 * from the window without parsing them again.
 */
static void fill_window(fc_client *c, size_t off, hint_window *w)
{
    w->n = w->next = 0;
    while (w->n < HINT_FRAMES &&
           fc_resp_peek(&c->parser, c->in.data + off, c->in.len - off, w->argv[w->n], HINT_ARGS,
                        &w->argc[w->n], &w->used[w->n])) {
        w->off[w->n] = off;
        off += w->used[w->n++];
    }
    w->end = w->n ? off : off + 1; /* a frame the peek refuses is parsed as usual */
    if (w->n < 2)
        return;
    const fc_store *db = c->srv->core.dbs[c->sess.db];
    uint64_t h[HINT_FRAMES];
    for (size_t i = 0; i < w->n; i++) {
        const fc_span *k = &w->argv[i][1];
        h[i] = w->argc[i] > 1 && k->len <= HINT_KEY_MAX
                   ? fc_store_prefetch_bucket(db, c->in.data + w->off[i] + k->off, k->len)
                   : 0;
    }
    for (size_t i = 0; i < w->n; i++)
        if (w->argc[i] > 1 && w->argv[i][1].len <= HINT_KEY_MAX)
            fc_store_prefetch_entry(db, h[i]);
}

/* Seeds the window with the request the staged hint parsed (fc_client_hint), if any: only
 * process_input consumes `in`, and it drops the peek first, so the spans are still those of the
 * bytes at offset 0 (reads since then only appended). */
static void take_peek(fc_client *c, hint_window *w)
{
    if (c->peek_used == 0)
        return;
    w->n = 1;
    w->off[0] = 0;
    w->used[0] = c->peek_used;
    w->argc[0] = c->peek_argc;
    memcpy(w->argv[0], c->peek, c->peek_argc * sizeof(c->peek[0]));
    w->end = c->peek_used;
    c->peek_used = 0;
}

/* The frame at `off` from the window (true), or false: the parser must take it. */
static bool take_from_window(fc_client *c, hint_window *w, size_t off, size_t *used)
{
    while (w->next < w->n && w->off[w->next] < off)
        w->next++; /* frames the parser took instead (the client was not authenticated then) */
    if (w->next >= w->n || w->off[w->next] != off || c->parser.unauth)
        return false;
    *used = w->used[w->next++];
    c->parser.inline_req = false;
    return true;
}

/* The next request at `off`: its arguments (*spans[0..*argc), offsets from the frame start) and
 * length, from the window when it holds the frame, else from fc_resp_parse. */
static fc_resp_status next_frame(fc_client *c, hint_window *w, size_t off, const fc_span **spans,
                                 size_t *argc, size_t *used)
{
    if (c->srv->core.backend == NULL) { /* memory mode: hints (proxy mode forwards frames) */
        if (off >= w->end)
            fill_window(c, off, w);
        if (take_from_window(c, w, off, used)) {
            *spans = w->argv[w->next - 1];
            *argc = w->argc[w->next - 1];
            return FC_RESP_OK;
        }
    }
    fc_resp_status st = fc_resp_parse(&c->parser, c->in.data + off, c->in.len - off, used);
    *spans = c->parser.argv;
    *argc = c->parser.argc;
    return st;
}

/* Parses and runs the complete requests in the input buffer, up to the turn's budget (past it the
 * client is deferred), a pause or a close, then drops the bytes used. */
static void process_input(fc_client *c)
{
    size_t off = 0;
    int64_t now = fc_time_ms();
    hint_window w; /* ~1 KB: only its counters are set (zeroing it: ~120 Ir/request at -P 1) */
    w.n = w.next = w.end = 0;
    take_peek(c, &w);
    size_t ran = 0;
    fc_server_turn_begin(c->srv);
    c->in_process = true;
    c->sess.last_ms = now;
    while (off < c->in.len && !(c->sess.flags & FC_SESS_CLOSE_AFTER_REPLY)) {
        if (c->q.pending >= MAX_PENDING || (c->sess.flags & FC_SESS_HOLD)) {
            c->paused = true;
            break;
        }
        if (turn_over(c, ran)) {
            defer_rest(c);
            break;
        }
        size_t used = 0, argc;
        const fc_span *spans;
        char *base = c->in.data + off;
        /* Redis's smaller frame limits until AUTH (an AUTH earlier in the batch lifts them). */
        c->parser.unauth = !(c->sess.flags & FC_SESS_AUTHED) &&
                           fc_core_auth_required(&c->srv->core, &c->sess);
        fc_resp_status st = next_frame(c, &w, off, &spans, &argc, &used);
        if (st == FC_RESP_AGAIN)
            break;
        if (st == FC_RESP_ERR) {
            protocol_error(c, c->parser.err);
            break;
        }
        off += used;
        if (argc == 0)
            continue;
        if (!build_argv(c, base, spans, argc)) {
            protocol_error(c, "out of memory");
            break;
        }
        fc_request req = {c->argv, (int)argc, c->parser.inline_req ? NULL : base, used};
        fc_dispatch(&c->srv->core, &c->sess, &c->q, &req, now);
        if (c->srv->core.kills)
            fc_client_close_killed(&c->srv->core);
        c->turn_args += argc;
        ran++;
        /* out + wbuf only: the slots are counted once per batch (walking them is O(slots)). */
        size_t pending = c->out.len + c->wbuf.len;
        if (close_if_over_limit(c, pending))
            break;
        if (pending >= soft_output_limit(c)) { /* the rest waits in `in` until writes drain */
            pause_for_output(c, now);
            break;
        }
    }
    c->in_process = false;
    fc_buf_consume(&c->in, off);
    if (c->in.len == 0)
        fc_buf_shrink(&c->in, KEEP_BUF);
}

void fc_client_hint(fc_client *c, int stage)
{
    const fc_store *db = c->srv->core.dbs[c->sess.db];
    if (stage == 0) {
        size_t argc, used;
        c->hint = 0;
        c->peek_used = 0;
        if (c->closing || !fc_resp_peek(&c->parser, c->in.data, c->in.len, c->peek, HINT_ARGS,
                                        &argc, &used) ||
            used < c->in.len)
            return; /* (a pipeline's keys are prefetched together as it runs: fill_window) */
        c->peek_used = used;
        c->peek_argc = argc;
        if (argc >= 2 && c->peek[1].len <= HINT_KEY_MAX)
            c->hint = fc_store_prefetch_bucket(db, c->in.data + c->peek[1].off, c->peek[1].len);
    } else if (c->hint && stage == 1) {
        fc_store_prefetch_entry(db, c->hint);
    } else if (c->hint) {
        fc_store_prefetch_chain(db, c->hint, c->in.data + c->peek[1].off, c->peek[1].len);
    }
}

/* What a read callback does once the requests read are in `in`: runs them, ends this turn's
 * reads (drained: the read was short) or defers the rest, queues the replies. */
static void run_read(fc_client *c, bool drained)
{
    process_input(c);
    if (!c->deferred && turn_spent(c))
        defer_rest(c); /* fc_sock would call on_read again with more in this turn */
    else if (!c->deferred && drained)
        c->turn_read = c->turn_args = 0; /* the socket is drained: this turn's reads are over */
    after_read(c);
    if (c->srv->core.shutdown_requested)
        fc_server_stop(c->srv);
}

void fc_client_run_staged(fc_client *c)
{
    if (c->closing || c->srv->stopping) {
        c->peek_used = 0;
        return;
    }
    fc_server_turn_begin(c->srv);
    run_read(c, true); /* only a read that emptied the socket is staged */
}

static void on_read(fc_sock *s, ssize_t nread, size_t asked)
{
    fc_client *c = s->data;
    fc_server_turn_begin(c->srv);
    if (nread < 0) {
        if (nread == UV_ENOBUFS)
            fc_log_warning("Closing client id=%llu addr=%s: query buffer limit reached",
                           (unsigned long long)c->sess.id, c->sess.addr);
        fc_client_close(c);
        return;
    }
    c->in.len += (size_t)nread;
    c->turn_read += (size_t)nread;
    c->srv->core.stats.net_in += (uint64_t)nread;
    bool drained = (size_t)nread < asked;
    if (c->srv->core.backend == NULL && drained) {
        fc_server_stage(c->srv, c); /* runs at the end of the poll phase */
        return;
    }
    run_read(c, drained); /* (a client still staged then runs with nothing left: harmless) */
}

void fc_client_continue(fc_client *c)
{
    c->turn_args = c->turn_read = 0;
    if (c->closing || c->srv->stopping)
        return;
    if (c->in.len > 0 && !c->paused && !c->out_paused) {
        process_input(c);
        after_read(c);
        if (c->srv->core.shutdown_requested)
            fc_server_stop(c->srv);
    }
    if (may_read(c))
        fc_sock_read_start(&c->sock, on_alloc, on_read);
}

/* After a read's batch: applies the output limits, stops reading if needed, and queues the
 * client for the flush at the end of this loop turn (fc_server_mark_dirty). Writing every
 * client's replies after all of the turn's reads, as Redis does, wakes a client waiting on
 * several connections about once per turn instead of once per connection (50 connections at
 * -P 16: 0.020 instead of 0.042 client context switches per request), and those wake-ups are
 * paid for in the daemon's system time. A batch cut
 * short at the soft threshold goes on from the flush (maybe_resume_output) once its replies
 * left. */
static void after_read(fc_client *c)
{
    if (c->closing)
        return;
    c->sess.qbuf = c->in.len;
    c->sess.qbuf_free = c->in.cap - c->in.len;
    c->sess.obuf = c->out.len + c->wbuf.len;
    size_t pending = fc_client_pending_output(c);
    if (close_if_over_limit(c, pending))
        return;
    if (pending >= soft_output_limit(c))
        pause_for_output(c, c->sess.last_ms);
    if (!may_read(c))
        fc_sock_read_stop(&c->sock);
    if (c->out.len > 0 || (c->sess.flags & FC_SESS_CLOSE_AFTER_REPLY))
        fc_server_mark_dirty(c->srv, c);
}

/* Sends the batch's replies, then applies the output limits and stops reading if needed. A batch
 * cut short at the soft threshold whose replies all left at once goes on with the rest. */
static void after_batch(fc_client *c)
{
    for (;;) {
        if (c->closing)
            return;
        c->sess.qbuf = c->in.len;
        c->sess.qbuf_free = c->in.cap - c->in.len;
        c->sess.obuf = c->out.len + c->wbuf.len;
        flush(c);
        if (c->closing)
            return;
        size_t pending = fc_client_pending_output(c);
        if (close_if_over_limit(c, pending))
            return;
        if (pending >= soft_output_limit(c)) {
            pause_for_output(c, fc_time_ms());
            break;
        }
        if (!c->out_paused || c->writing)
            break; /* not paused, or on_write resumes it */
        c->out_paused = false;
        if (c->in.len == 0)
            break;
        process_input(c);
    }
    if (!may_read(c))
        fc_sock_read_stop(&c->sock);
}

static void on_write(fc_sock *s, int status)
{
    fc_client *c = s->data;
    fc_server_turn_begin(c->srv);
    c->writing = false;
    c->wbuf.len = 0;
    if (c->closing)
        return;
    if (status < 0) {
        fc_client_close(c);
        return;
    }
    fc_buf_shrink(&c->wbuf, KEEP_BUF);
    c->progress_ms = fc_time_ms();
    flush(c);
    if (!c->closing)
        maybe_resume_output(c);
}

/* Sends what is in out: try_write first, the rest through fc_sock_write after a buffer swap. */
static void flush(fc_client *c)
{
    if (c->writing || c->closing)
        return;
    if (c->out.len == 0) {
        if ((c->sess.flags & FC_SESS_CLOSE_AFTER_REPLY) && fc_replyq_empty(&c->q))
            fc_client_close(c);
        return;
    }
    ssize_t r = fc_sock_try_write(&c->sock, c->out.data, c->out.len);
    if (r < 0) {
        fc_client_close(c);
        return;
    }
    size_t sent = (size_t)r;
    c->srv->core.stats.net_out += sent;
    if (sent == c->out.len) {
        c->out.len = 0;
        fc_buf_shrink(&c->out, KEEP_BUF);
        flush(c); /* closes if asked to */
        return;
    }
    fc_buf tmp = c->wbuf;
    c->wbuf = c->out;
    c->out = tmp;
    c->out.len = 0;
    size_t left = c->wbuf.len - sent;
    if (fc_sock_write(&c->sock, c->wbuf.data + sent, left, on_write) != 0) {
        fc_client_close(c);
        return;
    }
    c->srv->core.stats.net_out += left;
    c->writing = true;
}

int fc_client_start(fc_client *c)
{
    fc_core_attach(&c->srv->core, &c->sess);
    fill_addrs(c);
    if (!(c->sess.flags & FC_SESS_UNIX))
        fc_sock_tune_tcp(&c->sock, (int)c->srv->conf->tcp_keepalive);
    return fc_sock_read_start(&c->sock, on_alloc, on_read);
}

void fc_client_reject(fc_client *c, const char *err)
{
    fc_resp_error(fc_replyq_sync(&c->q), err, strlen(err));
    c->sess.flags |= FC_SESS_CLOSE_AFTER_REPLY;
    flush(c);
}
