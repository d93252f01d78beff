/*
 * cmd_string — the string family: GET, SET and its relatives, counters, ranges.
 *
 * One shared helper per family, as Redis does: set_generic() serves SET, SETNX, SETEX and PSETEX;
 * parse_opts() reads SET's and GETEX's options; incr_generic() serves the integer counters.
 *
 * Default TTL: a write that creates or replaces a value without naming an expiry gets
 * fc_default_expire() (per key: its longest [ttl] prefix, else [cache] ttl); SET ... PERSIST (a
 * fastcached extension) stores without expiry whatever the default. Commands that modify a
 * value in place (APPEND, SETRANGE, INCR...) keep its TTL, and apply the default only when they
 * create the key.
 *
 * Expiry already past, as Redis 7.0: SET with an EXAT/PXAT at or before now stores the key
 * expired (DBSIZE and INFO keyspace count it until a lookup or the active cycle reclaims it and
 * counts it in expired_keys), while GETEX with a past EXAT/PXAT deletes the key at once, counted
 * as a deletion, not an expiry (cmd_expire.c does the same for EXPIRE and friends).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "server/cmd_impl.h"
#include "server/memory.h"

#define OPT_NX 0x001u
#define OPT_XX 0x002u
#define OPT_GET 0x004u
#define OPT_KEEPTTL 0x008u
#define OPT_PERSIST 0x010u
#define OPT_EX 0x020u
#define OPT_PX 0x040u
#define OPT_EXAT 0x080u
#define OPT_PXAT 0x100u
#define OPT_ANY_EXPIRE (OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT)

typedef struct set_opts {
    unsigned flags;
    int expire_arg; /* index of the expire value in argv, 0 if none */
} set_opts;

/* Reads one expire-style option at argv[*j]; returns false if it is not one. */
static bool parse_expire_opt(fc_cmd_ctx *c, int *j, set_opts *o)
{
    static const struct { const char *word; unsigned flag; } opts[] = {
        {"ex", OPT_EX}, {"px", OPT_PX}, {"exat", OPT_EXAT}, {"pxat", OPT_PXAT}};
    for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
        unsigned others = (OPT_ANY_EXPIRE & ~opts[k].flag) | OPT_KEEPTTL | OPT_PERSIST;
        if (fc_arg_is(c, *j, opts[k].word) && !(o->flags & others) && *j + 1 < c->argc) {
            o->flags |= opts[k].flag;
            o->expire_arg = ++*j;
            return true;
        }
    }
    return false;
}

/* SET's and GETEX's options, Redis's acceptance rules. Replies a syntax error on failure. */
static bool parse_opts(fc_cmd_ctx *c, int first, bool is_set, set_opts *o)
{
    o->flags = 0;
    o->expire_arg = 0;
    for (int j = first; j < c->argc; j++) {
        unsigned f = o->flags;
        if (is_set && fc_arg_is(c, j, "nx") && !(f & OPT_XX))
            o->flags |= OPT_NX;
        else if (is_set && fc_arg_is(c, j, "xx") && !(f & OPT_NX))
            o->flags |= OPT_XX;
        else if (is_set && fc_arg_is(c, j, "get"))
            o->flags |= OPT_GET;
        else if (is_set && fc_arg_is(c, j, "keepttl") && !(f & (OPT_PERSIST | OPT_ANY_EXPIRE)))
            o->flags |= OPT_KEEPTTL;
        else if (fc_arg_is(c, j, "persist") && !(f & (OPT_KEEPTTL | OPT_ANY_EXPIRE)))
            o->flags |= OPT_PERSIST;
        else if (!parse_expire_opt(c, &j, o)) {
            fc_reply_err(c, FC_ERR_SYNTAX);
            return false;
        }
    }
    return true;
}

static void reply_bad_expire(fc_cmd_ctx *c)
{
    fc_resp_errorf(c->out, "ERR invalid expire time in '%s' command", c->cmd->name);
}

/* Converts the expire argument to an absolute time in ms (Redis's getExpireMillisecondsOrReply).
 * Replies the error and returns false when it is not a positive, non-overflowing time. */
static bool expire_at_from_arg(fc_cmd_ctx *c, int arg, unsigned flags, int64_t *at)
{
    long long v;
    if (!fc_arg_ll(c, arg, &v))
        return false;
    bool seconds = flags & (OPT_EX | OPT_EXAT);
    if (v <= 0 || (seconds && v > INT64_MAX / 1000)) {
        reply_bad_expire(c);
        return false;
    }
    if (seconds)
        v *= 1000;
    if ((flags & (OPT_EX | OPT_PX)) && __builtin_add_overflow(v, c->now_ms, &v)) {
        reply_bad_expire(c);
        return false;
    }
    *at = v;
    return true;
}

typedef enum { REPLY_OK, REPLY_INT } set_reply;

/* Shared by SET, SETNX, SETEX and PSETEX. */
static void set_generic(fc_cmd_ctx *c, const set_opts *o, const fc_arg *key, const fc_arg *val,
                        set_reply how)
{
    fc_store *db = fc_ctx_db(c);
    int64_t at = fc_default_expire(c, key);
    if (o->expire_arg && !expire_at_from_arg(c, o->expire_arg, o->flags, &at))
        return;
    if (o->flags & OPT_PERSIST)
        at = FC_NO_EXPIRE;
    fc_entry_view e;
    bool found = false;
    /* A plain SET needs no lookup of its own: fc_store_set finds the key (and counts it as
     * expired if it was) in the same walk of its bucket. */
    if (o->flags & (OPT_NX | OPT_XX | OPT_GET))
        found = fc_store_get(db, key->p, key->len, c->now_ms,
                             (o->flags & OPT_GET) ? 0 : FC_LOOKUP_NOSTATS, &e);
    if (o->flags & OPT_GET)
        fc_reply_bulk_or_null(c, &e, found);
    if (((o->flags & OPT_NX) && found) || ((o->flags & OPT_XX) && !found)) {
        if (!(o->flags & OPT_GET)) {
            if (how == REPLY_INT)
                fc_resp_int(c->out, 0);
            else
                fc_resp_null(c->out, c->sess->proto);
        }
        return;
    }
    /* An EXAT/PXAT already past is stored as is, like Redis 7.0: the key counts in DBSIZE and
     * INFO keyspace until a lookup or the active cycle reclaims it (and counts it expired). */
    if (fc_store_set(db, key->p, key->len, val->p, val->len, at, (o->flags & OPT_KEEPTTL) != 0,
                     c->now_ms) != 0) {
        if (!(o->flags & OPT_GET))
            fc_reply_err(c, FC_ERR_OOM);
        return;
    }
    if (o->flags & OPT_GET)
        return;
    if (how == REPLY_INT)
        fc_resp_int(c->out, 1);
    else
        fc_resp_ok(c->out);
}

void cmd_set(fc_cmd_ctx *c)
{
    set_opts o;
    if (parse_opts(c, 3, true, &o))
        set_generic(c, &o, &c->argv[1], &c->argv[2], REPLY_OK);
}

void cmd_setnx(fc_cmd_ctx *c)
{
    set_opts o = {OPT_NX, 0};
    set_generic(c, &o, &c->argv[1], &c->argv[2], REPLY_INT);
}

void cmd_setex(fc_cmd_ctx *c)
{
    set_opts o = {OPT_EX, 2};
    set_generic(c, &o, &c->argv[1], &c->argv[3], REPLY_OK);
}

void cmd_psetex(fc_cmd_ctx *c)
{
    set_opts o = {OPT_PX, 2};
    set_generic(c, &o, &c->argv[1], &c->argv[3], REPLY_OK);
}

void cmd_get(fc_cmd_ctx *c)
{
    fc_entry_view e;
    bool found = fc_store_get(fc_ctx_db(c), c->argv[1].p, c->argv[1].len, c->now_ms, 0, &e);
    fc_reply_bulk_or_null(c, &e, found);
}

void cmd_getdel(fc_cmd_ctx *c)
{
    fc_store *db = fc_ctx_db(c);
    fc_entry_view e;
    bool found = fc_store_get(db, c->argv[1].p, c->argv[1].len, c->now_ms, 0, &e);
    fc_reply_bulk_or_null(c, &e, found);
    if (found)
        fc_store_del(db, c->argv[1].p, c->argv[1].len, c->now_ms);
}

void cmd_getset(fc_cmd_ctx *c)
{
    fc_store *db = fc_ctx_db(c);
    fc_entry_view e;
    bool found = fc_store_get(db, c->argv[1].p, c->argv[1].len, c->now_ms, 0, &e);
    fc_reply_bulk_or_null(c, &e, found);
    fc_store_set(db, c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len,
                 fc_default_expire(c, &c->argv[1]), false, c->now_ms);
}

void cmd_getex(fc_cmd_ctx *c)
{
    set_opts o;
    fc_store *db = fc_ctx_db(c);
    const fc_arg *k = &c->argv[1];
    if (!parse_opts(c, 2, false, &o))
        return;
    fc_entry_view e;
    if (!fc_store_get(db, k->p, k->len, c->now_ms, 0, &e)) {
        fc_resp_null(c->out, c->sess->proto);
        return;
    }
    int64_t at = 0;
    if (o.expire_arg && !expire_at_from_arg(c, o.expire_arg, o.flags, &at))
        return;
    fc_resp_bulk(c->out, e.val, e.vlen);
    if ((o.flags & (OPT_EXAT | OPT_PXAT)) && at <= c->now_ms)
        fc_store_del(db, k->p, k->len, c->now_ms);
    else if (o.expire_arg)
        fc_store_set_expire(db, k->p, k->len, at, c->now_ms);
    else if (o.flags & OPT_PERSIST)
        fc_store_set_expire(db, k->p, k->len, FC_NO_EXPIRE, c->now_ms);
}

void cmd_mget(fc_cmd_ctx *c)
{
    fc_store *db = fc_ctx_db(c);
    fc_resp_array(c->out, (size_t)c->argc - 1);
    for (int i = 1; i < c->argc; i++) {
        fc_entry_view e;
        bool found = fc_store_get(db, c->argv[i].p, c->argv[i].len, c->now_ms, 0, &e);
        fc_reply_bulk_or_null(c, &e, found);
    }
}

static void mset_generic(fc_cmd_ctx *c, bool nx)
{
    fc_store *db = fc_ctx_db(c);
    if (c->argc % 2 == 0) {
        fc_reply_arity(c, c->cmd->name);
        return;
    }
    if (nx) {
        for (int i = 1; i < c->argc; i += 2) {
            fc_entry_view e;
            if (fc_store_get(db, c->argv[i].p, c->argv[i].len, c->now_ms, FC_LOOKUP_NOSTATS,
                             &e)) {
                fc_resp_int(c->out, 0);
                return;
            }
        }
    }
    for (int i = 1; i < c->argc; i += 2)
        fc_store_set(db, c->argv[i].p, c->argv[i].len, c->argv[i + 1].p, c->argv[i + 1].len,
                     fc_default_expire(c, &c->argv[i]), false, c->now_ms);
    if (nx)
        fc_resp_int(c->out, 1);
    else
        fc_resp_ok(c->out);
}

void cmd_mset(fc_cmd_ctx *c)
{
    mset_generic(c, false);
}

void cmd_msetnx(fc_cmd_ctx *c)
{
    mset_generic(c, true);
}

/* Redis's checkStringLength(): the result may not exceed proto-max-bulk-len. */
static bool check_length(fc_cmd_ctx *c, uint64_t size, uint64_t add)
{
    uint64_t total = size + add;
    if (total < size || total > c->core->conf->proto_max_bulk_len) {
        fc_reply_err(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return false;
    }
    return true;
}

void cmd_append(fc_cmd_ctx *c)
{
    fc_store *db = fc_ctx_db(c);
    const fc_arg *k = &c->argv[1], *v = &c->argv[2];
    fc_entry_view e;
    size_t old = 0;
    if (fc_store_get(db, k->p, k->len, c->now_ms, FC_LOOKUP_NOSTATS, &e))
        old = e.vlen;
    if (!check_length(c, old, v->len))
        return;
    char *p = fc_store_resize_value(db, k->p, k->len, old + v->len,
                                    fc_default_expire(c, k), c->now_ms);
    if (!p) {
        fc_reply_err(c, FC_ERR_OOM);
        return;
    }
    memcpy(p + old, v->p, v->len);
    fc_resp_int(c->out, (int64_t)(old + v->len));
}

void cmd_strlen(fc_cmd_ctx *c)
{
    fc_entry_view e;
    bool found = fc_store_get(fc_ctx_db(c), c->argv[1].p, c->argv[1].len, c->now_ms, 0, &e);
    fc_resp_int(c->out, found ? (int64_t)e.vlen : 0);
}

/* INCR/DECR/INCRBY/DECRBY on key argv[1]; the TTL of an existing key is kept. */
static void incr_generic(fc_cmd_ctx *c, long long incr)
{
    fc_store *db = fc_ctx_db(c);
    const fc_arg *k = &c->argv[1];
    fc_entry_view e;
    long long v = 0;
    bool found = fc_store_get(db, k->p, k->len, c->now_ms, FC_LOOKUP_NOSTATS, &e);
    if (found && !fc_parse_ll(e.val, e.vlen, &v)) {
        fc_reply_err(c, FC_ERR_NOTINT);
        return;
    }
    if ((incr < 0 && v < 0 && incr < (INT64_MIN - v)) ||
        (incr > 0 && v > 0 && incr > (INT64_MAX - v))) {
        fc_reply_err(c, FC_ERR_OVERFLOW);
        return;
    }
    v += incr;
    char buf[24];
    size_t n = fc_format_ll(buf, v);
    fc_store_set(db, k->p, k->len, buf, n, fc_default_expire(c, k), found, c->now_ms);
    fc_resp_int(c->out, v);
}

void cmd_incr(fc_cmd_ctx *c)
{
    incr_generic(c, 1);
}

void cmd_decr(fc_cmd_ctx *c)
{
    incr_generic(c, -1);
}

void cmd_incrby(fc_cmd_ctx *c)
{
    long long n;
    if (fc_arg_ll(c, 2, &n))
        incr_generic(c, n);
}

void cmd_decrby(fc_cmd_ctx *c)
{
    long long n;
    if (!fc_arg_ll(c, 2, &n))
        return;
    if (n == INT64_MIN) {
        fc_reply_err(c, "ERR decrement would overflow");
        return;
    }
    incr_generic(c, -n);
}

void cmd_incrbyfloat(fc_cmd_ctx *c)
{
    fc_store *db = fc_ctx_db(c);
    const fc_arg *k = &c->argv[1];
    fc_entry_view e;
    long double v = 0, incr;
    bool found = fc_store_get(db, k->p, k->len, c->now_ms, FC_LOOKUP_NOSTATS, &e);
    if ((found && !fc_parse_ld(e.val, e.vlen, &v)) ||
        !fc_parse_ld(c->argv[2].p, c->argv[2].len, &incr)) {
        fc_reply_err(c, FC_ERR_NOTFLOAT);
        return;
    }
    v += incr;
    if (isnan(v) || isinf(v)) {
        fc_reply_err(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[5 * 1024 + 8];
    size_t n = fc_format_ld_human(buf, sizeof(buf), v);
    fc_store_set(db, k->p, k->len, buf, n, fc_default_expire(c, k), found, c->now_ms);
    fc_resp_bulk(c->out, buf, n);
}

void cmd_getrange(fc_cmd_ctx *c)
{
    long long start, end;
    if (!fc_arg_ll(c, 2, &start) || !fc_arg_ll(c, 3, &end))
        return;
    fc_entry_view e;
    if (!fc_store_get(fc_ctx_db(c), c->argv[1].p, c->argv[1].len, c->now_ms, 0, &e)) {
        fc_resp_bulk(c->out, "", 0);
        return;
    }
    long long len = (long long)e.vlen;
    if (start < 0 && end < 0 && start > end) {
        fc_resp_bulk(c->out, "", 0);
        return;
    }
    if (start < 0)
        start = start < -len ? 0 : len + start;
    if (end < 0)
        end = end < -len ? 0 : len + end;
    if (end >= len)
        end = len - 1;
    if (start > end || len == 0)
        fc_resp_bulk(c->out, "", 0);
    else
        fc_resp_bulk(c->out, e.val + start, (size_t)(end - start + 1));
}

void cmd_setrange(fc_cmd_ctx *c)
{
    fc_store *db = fc_ctx_db(c);
    const fc_arg *k = &c->argv[1], *v = &c->argv[3];
    long long off;
    if (!fc_arg_ll(c, 2, &off))
        return;
    if (off < 0) {
        fc_reply_err(c, "ERR offset is out of range");
        return;
    }
    fc_entry_view e;
    bool found = fc_store_get(db, k->p, k->len, c->now_ms, FC_LOOKUP_NOSTATS, &e);
    size_t old = found ? e.vlen : 0;
    if (v->len == 0) {
        fc_resp_int(c->out, (int64_t)old);
        return;
    }
    if (!check_length(c, (uint64_t)off, v->len))
        return;
    size_t need = (size_t)off + v->len;
    char *p = fc_store_resize_value(db, k->p, k->len, need > old ? need : old,
                                    fc_default_expire(c, k), c->now_ms);
    if (!p) {
        fc_reply_err(c, FC_ERR_OOM);
        return;
    }
    memcpy(p + off, v->p, v->len);
    fc_resp_int(c->out, (int64_t)(need > old ? need : old));
}
