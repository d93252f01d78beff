/*
 * backend_redis — the proxy driver: the command table served by an upstream Redis.
 *
 *   client ─► fc_dispatch ─► exec(kind) ─► frame (as received, or rewritten) ─► fc_upstream
 *                                │                                               │
 *                                └─ slot in the client's reply queue ◄── reply ──┘
 *
 * Connections: for each (database, protocol) pair, `[redis] connections` upstream connections,
 * opened when first needed (so SELECT and HELLO 3 need no per-client connection). A client always
 * uses the same one of them (by client id), so its requests run upstream in the order it sent them.
 * RESP3 clients use RESP3 connections, so upstream replies are already in the client's protocol and
 * pass through byte for byte.
 *
 * Rewrites happen only where a request must differ upstream: keys under [redis] key_prefix, the
 * default TTL on writes that name none (per key: its [ttl] prefix, else [cache] ttl; see
 * fc_proxy_kind in commands.h), and commands with no upstream twin (INVALIDATE;
 * FLUSHDB/FLUSHALL/DBSIZE/RANDOMKEY under a prefix), which run as incremental SCAN loops
 * (scan_op) while other requests keep flowing. Their steps go on the client's
 * own connection, behind its earlier requests; the client is held (FC_SESS_BARRIER, set and cleared
 * by that request only) until it completes, so its later requests see its effect.
 *
 * Ownership: a px_req lives from exec until its upstream callback; it points at the client's
 * reply slot and session, which outlive it (the client is freed only when no slot is pending).
 */
#include "server/backend_redis.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp_reply.h"
#include "protocol/resp_writer.h"
#include "server/cmd_impl.h"
#include "server/log.h"
#include "server/proxy_frame.h"
#include "server/upstream.h"

#define SCAN_BATCH 1000

typedef struct redis_backend {
    fc_backend base;
    uv_loop_t *loop;
    fc_core *core;
    const fc_conf *conf;
    int ndb, nconn;
    fc_upstream **conns; /* [db][proto 2|3][nconn], NULL until needed */
    fc_buf frame;        /* scratch for rewritten requests */
    const char *prefix;
    size_t plen;
    size_t closing; /* connections still closing */
    void (*done)(void *);
    void *done_arg;
} redis_backend;

typedef enum {
    RX_PASS,        /* reply as is */
    RX_SETNX,       /* +OK -> :1, null -> :0 */
    RX_EXEC_OK,     /* MULTI/EXEC for MSET: the EXEC array -> +OK */
    RX_STRIP_KEYS,  /* KEYS under a prefix */
    RX_STRIP_SCAN,  /* SCAN under a prefix */
} reply_xform;

typedef enum { OP_INVALIDATE, OP_FLUSH, OP_COUNT, OP_RANDOM } scan_kind;

typedef struct px_req {
    redis_backend *b;
    fc_slot *slot;
    fc_session *sess;
    reply_xform xf;
    int proto;
    bool barrier; /* this request set FC_SESS_BARRIER, and only it clears it */
    /* Multi-step scan operations only. */
    scan_kind op;
    int db, last_db;
    char cursor[24];
    int64_t total;
    char *match;
    size_t mlen;
    char *picked; /* OP_RANDOM: the key chosen */
    size_t picked_len;
} px_req;

static const char *const CREATE_SCRIPT =
    "local e = redis.call('exists', KEYS[1]) "
    "local r = redis.pcall(ARGV[1], KEYS[1], unpack(ARGV, 3)) "
    "if e == 0 and type(r) ~= 'table' and redis.call('exists', KEYS[1]) == 1 then "
    "redis.call('pexpire', KEYS[1], ARGV[2]) end "
    "return r";

static const char *const KEEPTTL_SCRIPT =
    "local e = redis.call('exists', KEYS[1]) "
    "local r = redis.pcall('set', KEYS[1], unpack(ARGV, 2)) "
    "if e == 0 and (type(r) ~= 'table' or r.ok) and redis.call('exists', KEYS[1]) == 1 then "
    "redis.call('pexpire', KEYS[1], ARGV[1]) end "
    "return r";

/* ARGV: value, TTL in ms (0: none) of each key in turn. */
static const char *const MSETNX_SCRIPT =
    "local kv = {} "
    "for i = 1, #KEYS do kv[2 * i - 1] = KEYS[i]; kv[2 * i] = ARGV[2 * i - 1] end "
    "if redis.call('msetnx', unpack(kv)) == 0 then return 0 end "
    "for i = 1, #KEYS do local t = tonumber(ARGV[2 * i]) "
    "if t > 0 then redis.call('pexpire', KEYS[i], t) end end "
    "return 1";

/* An error answered at once (option checks before anything goes upstream). */
static void sync_err(fc_cmd_ctx *c, const char *msg)
{
    if (fc_ctx_out(c))
        fc_reply_err(c, msg);
}

/* ---- connections ------------------------------------------------------------------------- */

static fc_upstream *conn_for(redis_backend *b, int db, int proto, uint64_t client_id)
{
    size_t i = ((size_t)db * 2 + (proto == 3)) * (size_t)b->nconn + client_id % (size_t)b->nconn;
    if (!b->conns[i]) {
        const fc_conf *cf = b->conf;
        fc_upstream_opts o = {
            .host = cf->redis_host,
            .port = cf->redis_port,
            .unixsocket = cf->redis_unixsocket,
            .password = cf->redis_password,
            .db = db,
            .proto = proto,
            .connect_timeout_ms = (uint64_t)cf->redis_connect_timeout_ms,
            .request_timeout_ms = (uint64_t)cf->redis_request_timeout_ms,
            .backoff_min_ms = 50,
            .backoff_max_ms = 2000,
            .max_queued = 100000,
            .scripts = NULL,
        };
        b->conns[i] = fc_upstream_new(b->loop, &o);
    }
    return b->conns[i];
}

static const char *status_text(int status)
{
    switch (status) {
    case UV_ETIMEDOUT: return "timeout";
    case UV_ECONNREFUSED: return "unavailable (connection refused)";
    case UV_ECONNRESET: return "connection lost";
    case UV_ECANCELED: return "shutting down";
    case UV_EAGAIN: return "busy (too many queued requests)";
    default: return uv_strerror(status);
    }
}

/* ---- completion ------------------------------------------------------------------------- */

static px_req *req_new(redis_backend *b, fc_cmd_ctx *c, reply_xform xf)
{
    px_req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->slot = fc_replyq_push(c->q);
    if (!r->slot) {
        free(r);
        return NULL;
    }
    r->b = b;
    r->sess = c->sess;
    r->xf = xf;
    r->proto = c->sess->proto;
    c->sess->inflight++;
    return r;
}

static void req_finish(px_req *r)
{
    if (r->barrier)
        r->sess->flags &= ~FC_SESS_BARRIER;
    if (--r->sess->inflight == 0)
        r->sess->flags &= ~FC_SESS_DRAIN;
    fc_slot *slot = r->slot;
    free(r->match);
    free(r->picked);
    free(r);
    fc_slot_complete(slot);
}

static void reply_upstream_error(px_req *r, int status)
{
    fc_resp_errorf(fc_slot_buf(r->slot), "ERR upstream %s", status_text(status));
}

/* The EXEC reply of a MULTI/SET.../EXEC block as MSET's reply: +OK, or the first error. */
static void exec_as_ok(fc_buf *out, const char *reply, size_t len)
{
    size_t off = 0, used = 0;
    char last = 0;
    while (off < len) {
        fc_reply_scanner s;
        fc_reply_scanner_init(&s);
        if (fc_reply_scan(&s, reply + off, len - off, &used) != FC_RESP_OK)
            break;
        last = fc_reply_type(reply + off, used);
        if (last == '-')
            return (void)fc_buf_append(out, reply + off, used);
        off += used;
    }
    if (last == '*')
        fc_resp_ok(out);
    else
        fc_buf_append(out, reply, len);
}

static void write_reply(px_req *r, const char *reply, size_t len)
{
    fc_buf *out = fc_slot_buf(r->slot);
    size_t plen = r->b->plen;
    char t = fc_reply_type(reply, len);
    switch (r->xf) {
    case RX_PASS: break;
    case RX_SETNX:
        if (t == '+')
            return (void)fc_resp_int(out, 1);
        if (t == '$' || t == '_')
            return (void)fc_resp_int(out, 0);
        break;
    case RX_EXEC_OK: return exec_as_ok(out, reply, len);
    case RX_STRIP_KEYS:
        if (t == '*' && fc_reply_strip_keys(out, reply, len, plen))
            return;
        break;
    case RX_STRIP_SCAN:
        if (t == '*' && fc_reply_strip_scan(out, reply, len, plen))
            return;
        break;
    }
    fc_buf_append(out, reply, len);
}

static void on_reply(void *ctx, int status, const char *reply, size_t len)
{
    px_req *r = ctx;
    if (status < 0)
        reply_upstream_error(r, status);
    else
        write_reply(r, reply, len);
    req_finish(r);
}

/* Sends b->frame for the request; on a refused send, the error is its reply. */
static void send_frame(redis_backend *b, fc_cmd_ctx *c, px_req *r, const char *frame, size_t len,
                       unsigned nreplies)
{
    fc_upstream *u = conn_for(b, c->sess->db, c->sess->proto, c->sess->id);
    int rc = u ? fc_upstream_send(u, frame, len, nreplies, on_reply, r) : UV_ENOMEM;
    if (rc != 0) {
        reply_upstream_error(r, rc);
        req_finish(r);
    }
}

static void forward_frame(redis_backend *b, fc_cmd_ctx *c, reply_xform xf, unsigned nreplies)
{
    px_req *r = req_new(b, c, xf);
    if (!r)
        return (void)sync_err(c, "ERR out of memory");
    send_frame(b, c, r, b->frame.data, b->frame.len, nreplies);
}

/* ---- request encoding --------------------------------------------------------------------- */

static bool is_key_arg(const fc_command *cmd, int argc, int i)
{
    if (cmd->first_key <= 0 || i < cmd->first_key)
        return false;
    int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    return i <= last && (i - cmd->first_key) % cmd->key_step == 0;
}

/* Encodes argv[from..to) into b->frame, keys prefixed. */
static void put_args(redis_backend *b, const fc_cmd_ctx *c, int from, int to)
{
    for (int i = from; i < to; i++) {
        if (is_key_arg(c->cmd, c->argc, i))
            fc_frame_key(&b->frame, b->prefix, b->plen, c->argv[i].p, c->argv[i].len);
        else
            fc_frame_arg(&b->frame, c->argv[i].p, c->argv[i].len);
    }
}

static void forward(redis_backend *b, fc_cmd_ctx *c, reply_xform xf)
{
    if (c->frame && b->plen == 0) {
        px_req *r = req_new(b, c, xf);
        if (!r)
            return (void)sync_err(c, "ERR out of memory");
        return send_frame(b, c, r, c->frame, c->frame_len, 1);
    }
    b->frame.len = 0;
    fc_frame_begin(&b->frame, (size_t)c->argc);
    put_args(b, c, 0, c->argc);
    forward_frame(b, c, xf, 1);
}

/* The default TTL in ms of a write to argv[i] that names none ([ttl] prefix, else [cache] ttl;
 * 0: none). The client's key is looked up, not the upstream one under [redis] key_prefix. */
static int64_t key_ttl_ms(const redis_backend *b, const fc_cmd_ctx *c, int i)
{
    return fc_core_key_ttl_ms(b->core, c->argv[i].p, c->argv[i].len);
}

/* SET ... KEEPTTL with a default TTL: a new key gets the default, an existing one keeps its TTL
 * (as in memory mode), atomically in one script. */
static void px_set_keepttl(redis_backend *b, fc_cmd_ctx *c, int64_t ttl)
{
    b->frame.len = 0;
    fc_frame_begin(&b->frame, (size_t)(4 + c->argc - 1));
    fc_frame_cstr(&b->frame, "EVAL");
    fc_frame_cstr(&b->frame, KEEPTTL_SCRIPT);
    fc_frame_cstr(&b->frame, "1");
    put_args(b, c, 1, 2);
    fc_frame_ll(&b->frame, ttl);
    put_args(b, c, 2, c->argc);
    forward_frame(b, c, RX_PASS, 1);
}

/* SET: PX appended when no expiry is named and a default TTL is set; PERSIST dropped. */
static void px_set(redis_backend *b, fc_cmd_ctx *c)
{
    bool has_exp = false, keepttl = false;
    int persist = 0;
    for (int j = 3; j < c->argc; j++) {
        if (fc_arg_is(c, j, "ex") || fc_arg_is(c, j, "px") || fc_arg_is(c, j, "exat") ||
            fc_arg_is(c, j, "pxat")) {
            has_exp = true;
            j += j + 1 < c->argc;
        } else if (fc_arg_is(c, j, "keepttl")) {
            keepttl = true;
        } else if (fc_arg_is(c, j, "persist")) {
            persist++;
        }
    }
    if (persist && (has_exp || keepttl))
        return (void)sync_err(c, FC_ERR_SYNTAX);
    int64_t ttl = key_ttl_ms(b, c, 1);
    if (keepttl && !has_exp && ttl > 0)
        return px_set_keepttl(b, c, ttl);
    bool add_ttl = !persist && !has_exp && !keepttl && ttl > 0;
    if (!persist && !add_ttl)
        return forward(b, c, RX_PASS);
    b->frame.len = 0;
    fc_frame_begin(&b->frame, (size_t)(c->argc - persist + (add_ttl ? 2 : 0)));
    for (int j = 0; j < c->argc; j++)
        if (j < 3 || !fc_arg_is(c, j, "persist"))
            put_args(b, c, j, j + 1);
    if (add_ttl) {
        fc_frame_cstr(&b->frame, "PX");
        fc_frame_ll(&b->frame, ttl);
    }
    forward_frame(b, c, RX_PASS, 1);
}

/* SETNX k v and GETSET k v with a default TTL: SET k v NX|GET PX ttl. */
static void px_set_variant(redis_backend *b, fc_cmd_ctx *c, const char *opt, reply_xform xf)
{
    int64_t ttl = key_ttl_ms(b, c, 1);
    if (ttl <= 0)
        return forward(b, c, RX_PASS);
    b->frame.len = 0;
    fc_frame_begin(&b->frame, 6);
    fc_frame_cstr(&b->frame, "SET");
    put_args(b, c, 1, 3);
    fc_frame_cstr(&b->frame, opt);
    fc_frame_cstr(&b->frame, "PX");
    fc_frame_ll(&b->frame, ttl);
    forward_frame(b, c, xf, 1);
}

/* True when some key of MSET/MSETNX (argv[1], [3], ...) has a default TTL. */
static bool any_key_ttl(const redis_backend *b, const fc_cmd_ctx *c)
{
    for (int i = 1; i < c->argc; i += 2)
        if (key_ttl_ms(b, c, i) > 0)
            return true;
    return false;
}

/* MSET with a default TTL: MULTI, SET k v [PX ttl] ..., EXEC — atomic, one write. Each key gets
 * its own default (keys without one get a plain SET). */
static void px_mset(redis_backend *b, fc_cmd_ctx *c)
{
    if (c->argc % 2 == 0 || !any_key_ttl(b, c))
        return forward(b, c, RX_PASS);
    b->frame.len = 0;
    fc_frame_begin(&b->frame, 1);
    fc_frame_cstr(&b->frame, "MULTI");
    for (int i = 1; i < c->argc; i += 2) {
        int64_t ttl = key_ttl_ms(b, c, i);
        fc_frame_begin(&b->frame, ttl > 0 ? 5 : 3);
        fc_frame_cstr(&b->frame, "SET");
        put_args(b, c, i, i + 2);
        if (ttl > 0) {
            fc_frame_cstr(&b->frame, "PX");
            fc_frame_ll(&b->frame, ttl);
        }
    }
    fc_frame_begin(&b->frame, 1);
    fc_frame_cstr(&b->frame, "EXEC");
    forward_frame(b, c, RX_EXEC_OK, (unsigned)(c->argc / 2 + 2));
}

/* MSETNX with a default TTL: one script, atomic, with each key's own TTL (0: none). */
static void px_msetnx(redis_backend *b, fc_cmd_ctx *c)
{
    if (c->argc % 2 == 0 || !any_key_ttl(b, c))
        return forward(b, c, RX_PASS);
    int pairs = c->argc / 2;
    b->frame.len = 0;
    fc_frame_begin(&b->frame, (size_t)(3 + 3 * pairs));
    fc_frame_cstr(&b->frame, "EVAL");
    fc_frame_cstr(&b->frame, MSETNX_SCRIPT);
    fc_frame_ll(&b->frame, pairs);
    for (int i = 1; i < c->argc; i += 2)
        put_args(b, c, i, i + 1);
    for (int i = 1; i < c->argc; i += 2) {
        put_args(b, c, i + 1, i + 2);
        fc_frame_ll(&b->frame, key_ttl_ms(b, c, i));
    }
    forward_frame(b, c, RX_PASS, 1);
}

/* INCR/APPEND/SETRANGE/...: the default TTL only when the command creates the key. */
static void px_create(redis_backend *b, fc_cmd_ctx *c)
{
    int64_t ttl = key_ttl_ms(b, c, 1);
    if (ttl <= 0)
        return forward(b, c, RX_PASS);
    b->frame.len = 0;
    fc_frame_begin(&b->frame, (size_t)(4 + c->argc));
    fc_frame_cstr(&b->frame, "EVAL");
    fc_frame_cstr(&b->frame, CREATE_SCRIPT);
    fc_frame_cstr(&b->frame, "1");
    put_args(b, c, 1, 2);
    fc_frame_cstr(&b->frame, c->cmd->name);
    fc_frame_ll(&b->frame, ttl);
    put_args(b, c, 2, c->argc);
    forward_frame(b, c, RX_PASS, 1);
}

/* KEYS and SCAN under a prefix: the pattern is prefixed, keys in the reply are not. */
static void px_keys(redis_backend *b, fc_cmd_ctx *c)
{
    if (b->plen == 0)
        return forward(b, c, RX_PASS);
    b->frame.len = 0;
    fc_frame_begin(&b->frame, 2);
    fc_frame_cstr(&b->frame, "KEYS");
    fc_frame_pattern(&b->frame, b->prefix, b->plen, c->argv[1].p, c->argv[1].len);
    forward_frame(b, c, RX_STRIP_KEYS, 1);
}

static void px_scan(redis_backend *b, fc_cmd_ctx *c)
{
    if (b->plen == 0)
        return forward(b, c, RX_PASS);
    int match = 0;
    for (int i = 2; i + 1 < c->argc; i += 2)
        if (fc_arg_is(c, i, "match"))
            match = i + 1;
    b->frame.len = 0;
    fc_frame_begin(&b->frame, (size_t)(c->argc + (match ? 0 : 2)));
    for (int i = 0; i < c->argc; i++) {
        if (match && i == match)
            fc_frame_pattern(&b->frame, b->prefix, b->plen, c->argv[i].p, c->argv[i].len);
        else
            fc_frame_arg(&b->frame, c->argv[i].p, c->argv[i].len);
    }
    if (!match) {
        fc_frame_cstr(&b->frame, "MATCH");
        fc_frame_pattern(&b->frame, b->prefix, b->plen, "*", 1);
    }
    forward_frame(b, c, RX_STRIP_SCAN, 1);
}

/* ---- incremental SCAN operations ---------------------------------------------------------- */

static void scan_step(px_req *r);

static void scan_done(px_req *r)
{
    fc_buf *out = fc_slot_buf(r->slot);
    switch (r->op) {
    case OP_INVALIDATE:
    case OP_COUNT: fc_resp_int(out, r->total); break;
    case OP_FLUSH: fc_resp_ok(out); break;
    case OP_RANDOM:
        if (r->picked)
            fc_resp_bulk(out, r->picked + r->b->plen, r->picked_len - r->b->plen);
        else
            fc_resp_null(out, r->proto);
        break;
    }
    req_finish(r);
}

static void scan_fail(px_req *r, int status, const char *reply, size_t len)
{
    if (status < 0)
        reply_upstream_error(r, status);
    else
        fc_buf_append(fc_slot_buf(r->slot), reply, len);
    req_finish(r);
}

/* Cursor 0 reached in this db: the next db (FLUSHALL) or the end. */
static void scan_next_db_or_done(px_req *r)
{
    if (r->db < r->last_db) {
        r->db++;
        strcpy(r->cursor, "0");
        return scan_step(r);
    }
    scan_done(r);
}

static void on_unlink(void *ctx, int status, const char *reply, size_t len)
{
    px_req *r = ctx;
    int64_t n;
    if (status < 0 || !fc_reply_integer(reply, len, &n))
        return scan_fail(r, status, reply, len);
    r->total += n;
    if (strcmp(r->cursor, "0") == 0)
        return scan_next_db_or_done(r);
    scan_step(r);
}

/* On the client's own connection for that db, so the steps run after its earlier requests. */
static int send_op(px_req *r, fc_buf *frame, fc_upstream_cb *cb)
{
    fc_upstream *u = conn_for(r->b, r->db, r->proto, r->sess->id);
    return u ? fc_upstream_send(u, frame->data, frame->len, 1, cb, r) : UV_ENOMEM;
}

/* Reservoir sampling over the keys of the first non-empty batch: the n-th replaces the pick
 * with probability 1/n. */
static void maybe_pick(px_req *r, const char *e, size_t elen, int64_t n)
{
    if (fc_core_random(r->b->core) % (uint64_t)n != 0)
        return;
    char *p = malloc(elen ? elen : 1);
    if (!p)
        return;
    memcpy(p, e, elen);
    free(r->picked);
    r->picked = p;
    r->picked_len = elen;
}

/* After a SCAN reply: UNLINK its keys (invalidate, flush), count them, or pick one. */
static void on_scan(void *ctx, int status, const char *reply, size_t len)
{
    px_req *r = ctx;
    const char *cur;
    size_t clen, arr;
    if (status < 0 || !fc_scan_split(reply, len, &cur, &clen, &arr) || clen >= sizeof(r->cursor))
        return scan_fail(r, status, reply, len);
    memcpy(r->cursor, cur, clen);
    r->cursor[clen] = '\0';
    size_t pos = 0;
    int64_t count = 0;
    const char *e;
    size_t elen;
    bool null;
    fc_buf *f = &r->b->frame;
    f->len = 0;
    while (fc_reply_array_next(reply + arr, len - arr, &pos, &count, &e, &elen, &null)) {
        if (f->len == 0 && (r->op == OP_INVALIDATE || r->op == OP_FLUSH)) {
            fc_frame_begin(f, (size_t)count + 1);
            fc_frame_cstr(f, "UNLINK");
        }
        if (r->op == OP_COUNT)
            r->total++;
        else if (r->op == OP_RANDOM)
            maybe_pick(r, e, elen, ++r->total);
        else if (r->op == OP_INVALIDATE || r->op == OP_FLUSH)
            fc_frame_arg(f, e, elen);
    }
    if (f->len > 0) {
        int rc = send_op(r, f, on_unlink);
        if (rc != 0)
            scan_fail(r, rc, NULL, 0);
        return;
    }
    if (strcmp(r->cursor, "0") == 0 || (r->op == OP_RANDOM && r->picked))
        return r->op == OP_RANDOM ? scan_done(r) : scan_next_db_or_done(r);
    scan_step(r);
}

static void scan_step(px_req *r)
{
    fc_buf *f = &r->b->frame;
    f->len = 0;
    fc_frame_begin(f, 6);
    fc_frame_cstr(f, "SCAN");
    fc_frame_cstr(f, r->cursor);
    fc_frame_cstr(f, "MATCH");
    fc_frame_arg(f, r->match, r->mlen);
    fc_frame_cstr(f, "COUNT");
    fc_frame_ll(f, SCAN_BATCH);
    int rc = send_op(r, f, on_scan);
    if (rc != 0)
        scan_fail(r, rc, NULL, 0);
}

/* Starts a SCAN loop over dbs [first, last] for keys matching pat under the prefix. */
static void scan_start(redis_backend *b, fc_cmd_ctx *c, scan_kind op, const char *pat,
                       size_t plen, int first, int last)
{
    px_req *r = req_new(b, c, RX_PASS);
    fc_buf m;
    fc_buf_init(&m, 0);
    fc_frame_pattern(&m, b->prefix, b->plen, pat, plen);
    /* The frame helper wrote "$n\r\n<pattern>\r\n": keep the pattern bytes only. */
    const char *p = memchr(m.data, '\n', m.len);
    if (!r || !p) {
        fc_buf_deinit(&m);
        free(r);
        return (void)sync_err(c, "ERR out of memory");
    }
    r->mlen = m.len - (size_t)(p + 1 - m.data) - 2;
    r->match = malloc(r->mlen ? r->mlen : 1);
    if (r->match)
        memcpy(r->match, p + 1, r->mlen);
    fc_buf_deinit(&m);
    r->op = op;
    r->db = first;
    r->last_db = last;
    strcpy(r->cursor, "0");
    c->sess->flags |= FC_SESS_BARRIER;
    r->barrier = true;
    if (!r->match)
        return scan_fail(r, UV_ENOMEM, NULL, 0);
    scan_step(r);
}

static void px_flush(redis_backend *b, fc_cmd_ctx *c, bool all)
{
    if (b->plen == 0)
        return forward(b, c, RX_PASS);
    if (!fc_flush_args_valid(c))
        return (void)sync_err(c, FC_ERR_SYNTAX);
    int db = c->sess->db;
    scan_start(b, c, OP_FLUSH, "*", 1, all ? 0 : db, all ? b->ndb - 1 : db);
}

/* ---- the backend -------------------------------------------------------------------------- */

static void redis_exec(fc_backend *base, fc_cmd_ctx *c)
{
    redis_backend *b = (redis_backend *)base;
    int db = c->sess->db;
    switch (c->cmd->proxy) {
    case FC_PX_FORWARD: return forward(b, c, RX_PASS);
    case FC_PX_SET: return px_set(b, c);
    case FC_PX_SETNX: return px_set_variant(b, c, "NX", RX_SETNX);
    case FC_PX_GETSET: return px_set_variant(b, c, "GET", RX_PASS);
    case FC_PX_MSET: return px_mset(b, c);
    case FC_PX_MSETNX: return px_msetnx(b, c);
    case FC_PX_CREATE: return px_create(b, c);
    case FC_PX_KEYS: return px_keys(b, c);
    case FC_PX_SCAN: return px_scan(b, c);
    case FC_PX_FLUSHDB: return px_flush(b, c, false);
    case FC_PX_FLUSHALL: return px_flush(b, c, true);
    case FC_PX_INVALIDATE:
        return scan_start(b, c, OP_INVALIDATE, c->argv[1].p, c->argv[1].len, db, db);
    case FC_PX_DBSIZE:
        if (b->plen == 0)
            return forward(b, c, RX_PASS);
        return scan_start(b, c, OP_COUNT, "*", 1, db, db);
    case FC_PX_RANDOMKEY:
        if (b->plen == 0)
            return forward(b, c, RX_PASS);
        return scan_start(b, c, OP_RANDOM, "*", 1, db, db);
    }
}

static void on_conn_closed(void *arg)
{
    redis_backend *b = arg;
    if (--b->closing > 0)
        return;
    void (*done)(void *) = b->done;
    void *done_arg = b->done_arg;
    fc_buf_deinit(&b->frame);
    free(b->conns);
    free(b);
    if (done)
        done(done_arg);
}

static void redis_close(fc_backend *base, void (*done)(void *), void *arg)
{
    redis_backend *b = (redis_backend *)base;
    size_t n = (size_t)b->ndb * 2 * (size_t)b->nconn;
    b->done = done;
    b->done_arg = arg;
    b->closing = 1; /* held until every close below was started */
    for (size_t i = 0; i < n; i++) {
        if (b->conns[i]) {
            b->closing++;
            fc_upstream_close(b->conns[i], on_conn_closed, b);
            b->conns[i] = NULL;
        }
    }
    on_conn_closed(b);
}

static const fc_backend_ops redis_ops = {"redis", redis_exec, redis_close};

fc_backend *fc_backend_redis_new(uv_loop_t *loop, fc_core *core, const fc_conf *conf)
{
    redis_backend *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->base.ops = &redis_ops;
    b->loop = loop;
    b->core = core;
    b->conf = conf;
    b->ndb = core->ndb;
    b->nconn = conf->redis_connections;
    b->conns = calloc((size_t)b->ndb * 2 * (size_t)b->nconn, sizeof(*b->conns));
    if (!b->conns) {
        free(b);
        return NULL;
    }
    fc_buf_init(&b->frame, 0);
    b->prefix = conf->redis_key_prefix;
    b->plen = strlen(conf->redis_key_prefix);
    /* Connect one upstream connection now, so an upstream that is down is logged at start. */
    conn_for(b, conf->redis_db, 2, 0);
    return &b->base;
}
