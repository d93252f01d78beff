/*
 * cmd_expire — TTL, PTTL, EXPIRETIME, PEXPIRETIME, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST,
 * with Redis 7's NX/XX/GT/LT options and its check order (options, then the number and its
 * overflow, then the key).
 */
#include <string.h>

#include "server/cmd_impl.h"

#define EXP_NX 1u
#define EXP_XX 2u
#define EXP_GT 4u
#define EXP_LT 8u

/* Shared by the four TTL readers: -2 missing, -1 no expiry, else the (rounded) value. */
static void ttl_generic(fc_cmd_ctx *c, bool ms, bool absolute)
{
    fc_entry_view e;
    if (!fc_store_get(fc_ctx_db(c), c->argv[1].p, c->argv[1].len, c->now_ms, 0, &e)) {
        fc_resp_int(c->out, -2);
        return;
    }
    if (e.expire_at == FC_NO_EXPIRE) {
        fc_resp_int(c->out, -1);
        return;
    }
    int64_t t = absolute ? e.expire_at : e.expire_at - c->now_ms;
    if (t < 0)
        t = 0;
    fc_resp_int(c->out, ms ? t : (t + 500) / 1000);
}

void cmd_ttl(fc_cmd_ctx *c)
{
    ttl_generic(c, false, false);
}

void cmd_pttl(fc_cmd_ctx *c)
{
    ttl_generic(c, true, false);
}

void cmd_expiretime(fc_cmd_ctx *c)
{
    ttl_generic(c, false, true);
}

void cmd_pexpiretime(fc_cmd_ctx *c)
{
    ttl_generic(c, true, true);
}

static bool parse_expire_flags(fc_cmd_ctx *c, unsigned *flags)
{
    static const struct { const char *w; unsigned f; } words[] = {
        {"nx", EXP_NX}, {"xx", EXP_XX}, {"gt", EXP_GT}, {"lt", EXP_LT}};
    *flags = 0;
    for (int j = 3; j < c->argc; j++) {
        size_t k = 0;
        while (k < 4 && !fc_arg_is(c, j, words[k].w))
            k++;
        if (k == 4) {
            const char *nul = memchr(c->argv[j].p, '\0', c->argv[j].len);
            int n = (int)(nul ? (size_t)(nul - c->argv[j].p) : c->argv[j].len);
            fc_resp_errorf(c->out, "ERR Unsupported option %.*s", n, c->argv[j].p);
            return false;
        }
        *flags |= words[k].f;
    }
    if ((*flags & EXP_NX) && (*flags & (EXP_XX | EXP_GT | EXP_LT))) {
        fc_reply_err(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return false;
    }
    if ((*flags & EXP_GT) && (*flags & EXP_LT)) {
        fc_reply_err(c, "ERR GT and LT options at the same time are not compatible");
        return false;
    }
    return true;
}

/* True if the conditions of flags allow replacing expiry cur (FC_NO_EXPIRE = infinite) by when. */
static bool expire_allowed(unsigned flags, int64_t cur, int64_t when)
{
    bool has = cur != FC_NO_EXPIRE;
    if ((flags & EXP_NX) && has)
        return false;
    if ((flags & EXP_XX) && !has)
        return false;
    if ((flags & EXP_GT) && (!has || when <= cur))
        return false;
    if ((flags & EXP_LT) && has && when >= cur)
        return false;
    return true;
}

static void expire_generic(fc_cmd_ctx *c, int64_t base, bool seconds)
{
    unsigned flags;
    long long when;
    if (!parse_expire_flags(c, &flags) || !fc_arg_ll(c, 2, &when))
        return;
    bool bad = false;
    if (seconds) {
        bad = when > INT64_MAX / 1000 || when < INT64_MIN / 1000;
        when = bad ? 0 : when * 1000;
    }
    if (bad || when > INT64_MAX - base) {
        fc_resp_errorf(c->out, "ERR invalid expire time in '%s' command", c->cmd->name);
        return;
    }
    when += base;
    fc_store *db = fc_ctx_db(c);
    const fc_arg *k = &c->argv[1];
    fc_entry_view e;
    if (!fc_store_get(db, k->p, k->len, c->now_ms, FC_LOOKUP_NOSTATS, &e) ||
        !expire_allowed(flags, e.expire_at, when)) {
        fc_resp_int(c->out, 0);
        return;
    }
    if (when <= c->now_ms)
        fc_store_del(db, k->p, k->len, c->now_ms);
    else
        fc_store_set_expire(db, k->p, k->len, when, c->now_ms);
    fc_resp_int(c->out, 1);
}

void cmd_expire(fc_cmd_ctx *c)
{
    expire_generic(c, c->now_ms, true);
}

void cmd_pexpire(fc_cmd_ctx *c)
{
    expire_generic(c, c->now_ms, false);
}

void cmd_expireat(fc_cmd_ctx *c)
{
    expire_generic(c, 0, true);
}

void cmd_pexpireat(fc_cmd_ctx *c)
{
    expire_generic(c, 0, false);
}

void cmd_persist(fc_cmd_ctx *c)
{
    fc_store *db = fc_ctx_db(c);
    fc_entry_view e;
    bool found = fc_store_get(db, c->argv[1].p, c->argv[1].len, c->now_ms, FC_LOOKUP_NOSTATS, &e);
    if (found && e.expire_at != FC_NO_EXPIRE) {
        fc_store_set_expire(db, c->argv[1].p, c->argv[1].len, FC_NO_EXPIRE, c->now_ms);
        fc_resp_int(c->out, 1);
    } else {
        fc_resp_int(c->out, 0);
    }
}
