/*
 * cmd_kill — CLIENT KILL, in both of Redis 7.0's forms:
 *
 *   CLIENT KILL ip:port           +OK, or "No such client"; it may kill the caller itself
 *   CLIENT KILL <option> <value> [<option> <value> ...]
 *       ID id | TYPE type | ADDR ip:port | LADDR ip:port | USER name | SKIPME yes|no
 *                                 the number killed; the caller is skipped unless SKIPME no
 *
 * Every client of ours is a normal one authenticated as "default", so TYPE normal and USER
 * default filter nothing and the other types match nobody. Other clients are only marked here
 * (FC_SESS_KILLED): the server closes them as soon as this command returns. The caller, when it
 * matches, is closed after its reply, as Redis does.
 */
#include <string.h>

#include "server/cmd_impl.h"

typedef struct kill_filter {
    long long id;               /* 0: any */
    const fc_arg *addr, *laddr; /* NULL: any */
    bool nobody;                /* a TYPE that no client of ours has */
    bool skipme;
} kill_filter;

/* One `option value` pair at argv[i]; false after replying an error. */
static bool parse_pair(fc_cmd_ctx *c, int i, kill_filter *f)
{
    const fc_arg *v = &c->argv[i + 1];
    if (fc_arg_is(c, i, "id")) {
        if (!fc_parse_ll(v->p, v->len, &f->id) || f->id < 1) {
            fc_reply_err(c, "ERR client-id should be greater than 0");
            return false;
        }
    } else if (fc_arg_is(c, i, "type")) {
        int type = fc_client_type(v);
        if (type < 0) {
            fc_resp_errorf(c->out, "ERR Unknown client type '%.*s'", (int)fc_arg_cstr_len(v), v->p);
            return false;
        }
        f->nobody = type != FC_CLIENT_NORMAL; /* as in Redis, the last TYPE given counts */
    } else if (fc_arg_is(c, i, "addr") || fc_arg_is(c, i, "laddr")) {
        *(fc_arg_is(c, i, "addr") ? &f->addr : &f->laddr) = v;
    } else if (fc_arg_is(c, i, "user")) {
        if (v->len != 7 || memcmp(v->p, "default", 7) != 0) { /* the whole name, as Redis */
            fc_resp_errorf(c->out, "ERR No such user '%.*s'", (int)fc_arg_cstr_len(v), v->p);
            return false;
        }
    } else if (fc_arg_is(c, i, "skipme") &&
               (fc_arg_is(c, i + 1, "yes") || fc_arg_is(c, i + 1, "no"))) {
        f->skipme = fc_arg_is(c, i + 1, "yes");
    } else {
        fc_reply_err(c, FC_ERR_SYNTAX);
        return false;
    }
    return true;
}

static bool addr_is(const fc_arg *want, const char *have)
{
    size_t n = fc_arg_cstr_len(want);
    return n == strlen(have) && memcmp(want->p, have, n) == 0;
}

static bool matches(const kill_filter *f, const fc_session *s, const fc_session *self)
{
    return !f->nobody && (!f->addr || addr_is(f->addr, s->addr)) &&
           (!f->laddr || addr_is(f->laddr, s->laddr)) && (f->id == 0 || s->id == (uint64_t)f->id) &&
           !(f->skipme && s == self);
}

void fc_cmd_client_kill(fc_cmd_ctx *c)
{
    kill_filter f = {.skipme = c->argc > 3};
    if (c->argc == 3) {
        f.addr = &c->argv[2]; /* the old form */
    } else {
        for (int i = 2; i < c->argc; i += 2) {
            if (i + 1 >= c->argc) {
                fc_reply_err(c, FC_ERR_SYNTAX);
                return;
            }
            if (!parse_pair(c, i, &f))
                return;
        }
    }
    long long killed = 0;
    bool self = false;
    for (fc_session *s = c->core->sessions; s; s = s->next) {
        if (!matches(&f, s, c->sess))
            continue;
        killed++;
        if (s == c->sess) {
            self = true;
        } else {
            s->flags |= FC_SESS_KILLED;
            c->core->kills++;
        }
    }
    if (c->argc > 3)
        fc_resp_int(c->out, killed);
    else if (killed)
        fc_resp_ok(c->out);
    else
        fc_reply_err(c, "ERR No such client");
    if (self)
        c->sess->flags |= FC_SESS_CLOSE_AFTER_REPLY;
}
