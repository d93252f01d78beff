/*
 * commands — the command table, lookup and dispatch (see commands.h), plus the reply and argument
 * helpers every handler family shares (cmd_impl.h).
 *
 * The table is sorted by name so fc_command_lookup is a binary search with no mutable global
 * index. Dispatch, which looks up every request, goes through the core's own index instead
 * (fc_command_index_build at fc_core_init): an open-addressing table of row numbers keyed by a
 * case-folded hash of the name, one hash and usually one compare. Adding a command is one row
 * here and one handler in its family file.
 *
 * Before a known command with a valid arity runs, two gates (Redis checks AUTH after the
 * unknown-command and arity errors too): -NOAUTH for a session that must authenticate first
 * (rows without FC_CMD_NO_AUTH), and [server] invalidate_all = no for INVALIDATE '*'. With
 * [server] rename_commands, lookup goes through the small table resolved at start; without it,
 * the only cost is one test of core->nrenames.
 */
#include "server/commands.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/backend.h"
#include "server/cmd_impl.h"
#include "server/memory.h"

#define R FC_CMD_READ
#define W FC_CMD_WRITE
#define L FC_CMD_LOCAL
#define F FC_CMD_FAST
#define NA FC_CMD_NO_AUTH
#define D FC_CMD_DENYOOM

/* Sorted by name (strcmp order); checked by a unit test. */
static const fc_command table[] = {
    {"append", 3, W | D, 1, 1, 1, cmd_append, "write denyoom fast", FC_PX_CREATE},
    {"auth", -2, L | F | NA, 0, 0, 0, cmd_auth, "noscript loading stale fast no_auth allow_busy",
     FC_PX_FORWARD},
    {"client", -2, L, 0, 0, 0, cmd_client, "noscript loading stale", FC_PX_FORWARD},
    {"command", -1, L, 0, 0, 0, cmd_command, "loading stale", FC_PX_FORWARD},
    {"config", -2, L, 0, 0, 0, cmd_config, "admin noscript loading stale", FC_PX_FORWARD},
    {"dbsize", 1, R | F, 0, 0, 0, cmd_dbsize, "readonly fast", FC_PX_DBSIZE},
    {"decr", 2, W | F | D, 1, 1, 1, cmd_decr, "write denyoom fast", FC_PX_CREATE},
    {"decrby", 3, W | F | D, 1, 1, 1, cmd_decrby, "write denyoom fast", FC_PX_CREATE},
    {"del", -2, W, 1, -1, 1, cmd_del, "write", FC_PX_FORWARD},
    {"echo", 2, L | F, 0, 0, 0, cmd_echo, "fast", FC_PX_FORWARD},
    {"exists", -2, R | F, 1, -1, 1, cmd_exists, "readonly fast", FC_PX_FORWARD},
    {"expire", -3, W | F, 1, 1, 1, cmd_expire, "write fast", FC_PX_FORWARD},
    {"expireat", -3, W | F, 1, 1, 1, cmd_expireat, "write fast", FC_PX_FORWARD},
    {"expiretime", 2, R | F, 1, 1, 1, cmd_expiretime, "readonly fast", FC_PX_FORWARD},
    {"flushall", -1, W, 0, 0, 0, cmd_flushall, "write", FC_PX_FLUSHALL},
    {"flushdb", -1, W, 0, 0, 0, cmd_flushdb, "write", FC_PX_FLUSHDB},
    {"function", -2, L, 0, 0, 0, cmd_function, "noscript", FC_PX_FORWARD},
    {"get", 2, R | F, 1, 1, 1, cmd_get, "readonly fast", FC_PX_FORWARD},
    {"getdel", 2, W | F, 1, 1, 1, cmd_getdel, "write fast", FC_PX_FORWARD},
    {"getex", -2, W | F, 1, 1, 1, cmd_getex, "write fast", FC_PX_FORWARD},
    {"getrange", 4, R, 1, 1, 1, cmd_getrange, "readonly", FC_PX_FORWARD},
    {"getset", 3, W | F | D, 1, 1, 1, cmd_getset, "write denyoom fast", FC_PX_GETSET},
    {"hello", -1, L | F | NA, 0, 0, 0, cmd_hello, "noscript loading stale fast no_auth", FC_PX_FORWARD},
    {"incr", 2, W | F | D, 1, 1, 1, cmd_incr, "write denyoom fast", FC_PX_CREATE},
    {"incrby", 3, W | F | D, 1, 1, 1, cmd_incrby, "write denyoom fast", FC_PX_CREATE},
    {"incrbyfloat", 3, W | F | D, 1, 1, 1, cmd_incrbyfloat, "write denyoom fast", FC_PX_CREATE},
    {"info", -1, L, 0, 0, 0, cmd_info, "loading stale", FC_PX_FORWARD},
    {"invalidate", 2, W, 0, 0, 0, cmd_invalidate, "write", FC_PX_INVALIDATE},
    {"keys", 2, R, 0, 0, 0, cmd_keys, "readonly", FC_PX_KEYS},
    {"lastsave", 1, L | F, 0, 0, 0, cmd_lastsave, "loading stale fast", FC_PX_FORWARD},
    {"mget", -2, R | F, 1, -1, 1, cmd_mget, "readonly fast", FC_PX_FORWARD},
    {"mset", -3, W | D, 1, -1, 2, cmd_mset, "write denyoom", FC_PX_MSET},
    {"msetnx", -3, W | D, 1, -1, 2, cmd_msetnx, "write denyoom", FC_PX_MSETNX},
    {"persist", 2, W | F, 1, 1, 1, cmd_persist, "write fast", FC_PX_FORWARD},
    {"pexpire", -3, W | F, 1, 1, 1, cmd_pexpire, "write fast", FC_PX_FORWARD},
    {"pexpireat", -3, W | F, 1, 1, 1, cmd_pexpireat, "write fast", FC_PX_FORWARD},
    {"pexpiretime", 2, R | F, 1, 1, 1, cmd_pexpiretime, "readonly fast", FC_PX_FORWARD},
    {"ping", -1, L | F, 0, 0, 0, cmd_ping, "fast", FC_PX_FORWARD},
    {"psetex", 4, W | D, 1, 1, 1, cmd_psetex, "write denyoom", FC_PX_FORWARD},
    {"pttl", 2, R | F, 1, 1, 1, cmd_pttl, "readonly fast", FC_PX_FORWARD},
    {"quit", -1, L | F | NA, 0, 0, 0, cmd_quit, "noscript loading stale fast no_auth", FC_PX_FORWARD},
    {"randomkey", 1, R, 0, 0, 0, cmd_randomkey, "readonly", FC_PX_RANDOMKEY},
    {"rename", 3, W, 1, 2, 1, cmd_rename, "write", FC_PX_FORWARD},
    {"renamenx", 3, W | F, 1, 2, 1, cmd_renamenx, "write fast", FC_PX_FORWARD},
    {"reset", 1, L | F | NA, 0, 0, 0, cmd_reset, "noscript loading stale fast no_auth", FC_PX_FORWARD},
    {"scan", -2, R, 0, 0, 0, cmd_scan, "readonly", FC_PX_SCAN},
    {"select", 2, L | F, 0, 0, 0, cmd_select, "loading stale fast", FC_PX_FORWARD},
    {"set", -3, W | D, 1, 1, 1, cmd_set, "write denyoom", FC_PX_SET},
    {"setex", 4, W | D, 1, 1, 1, cmd_setex, "write denyoom", FC_PX_FORWARD},
    {"setnx", 3, W | F | D, 1, 1, 1, cmd_setnx, "write denyoom fast", FC_PX_SETNX},
    {"setrange", 4, W | D, 1, 1, 1, cmd_setrange, "write denyoom", FC_PX_CREATE},
    {"shutdown", -1, L, 0, 0, 0, cmd_shutdown, "admin noscript loading stale", FC_PX_FORWARD},
    {"strlen", 2, R | F, 1, 1, 1, cmd_strlen, "readonly fast", FC_PX_FORWARD},
    {"substr", 4, R, 1, 1, 1, cmd_getrange, "readonly", FC_PX_FORWARD},
    {"time", 1, L | F, 0, 0, 0, cmd_time, "loading stale fast", FC_PX_FORWARD},
    {"touch", -2, R | F, 1, -1, 1, cmd_touch, "readonly fast", FC_PX_FORWARD},
    {"ttl", 2, R | F, 1, 1, 1, cmd_ttl, "readonly fast", FC_PX_FORWARD},
    {"type", 2, R | F, 1, 1, 1, cmd_type, "readonly fast", FC_PX_FORWARD},
    {"unlink", -2, W | F, 1, -1, 1, cmd_del, "write fast", FC_PX_FORWARD},
};

#undef R
#undef W
#undef L
#undef F
#undef NA
#undef D

const fc_command *fc_command_table(size_t *n)
{
    *n = sizeof(table) / sizeof(table[0]);
    return table;
}

/* tolower() of the C locale, without <ctype.h>'s table lookup. */
static inline unsigned fold(unsigned char ch)
{
    return ch + ((unsigned)(ch - 'A') < 26u) * 32u;
}

/* Compares s[0..n) case-insensitively with the lower-case NUL-terminated name. */
static int cmp_name(const char *s, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        int a = (int)fold((unsigned char)s[i]);
        int b = (unsigned char)name[i];
        if (b == 0 || a != b)
            return b == 0 ? 1 : a - b;
    }
    return name[n] == 0 ? 0 : -1;
}

const fc_command *fc_command_lookup(const char *name, size_t len)
{
    size_t lo = 0, hi = sizeof(table) / sizeof(table[0]);
    if (len > 32)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = cmp_name(name, len, table[mid].name);
        if (r == 0)
            return &table[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

#define LONGEST_NAME 16 /* no row's name is longer (checked when the index is built) */

/* FNV-1a over the folded bytes, seeded with the length. */
static size_t name_slot(const char *s, size_t n)
{
    uint32_t h = 2166136261u ^ (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        h = (h ^ fold((unsigned char)s[i])) * 16777619u;
    return (h ^ (h >> 13)) & (FC_CMD_INDEX_SLOTS - 1);
}

void fc_command_index_build(fc_core *core)
{
    size_t n = sizeof(table) / sizeof(table[0]);
    _Static_assert(sizeof(table) / sizeof(table[0]) < FC_CMD_INDEX_SLOTS / 2,
                   "the command index must stay at most half full");
    memset(core->cmd_index, 0, sizeof(core->cmd_index));
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(table[i].name);
        if (len > LONGEST_NAME)
            abort(); /* a table row longer than fc_command_find looks for: a build error */
        size_t slot = name_slot(table[i].name, len);
        while (core->cmd_index[slot])
            slot = (slot + 1) & (FC_CMD_INDEX_SLOTS - 1);
        core->cmd_index[slot] = (uint8_t)(i + 1);
    }
}

const fc_command *fc_command_find(const fc_core *core, const char *name, size_t len)
{
    if (len > LONGEST_NAME)
        return NULL;
    size_t slot = name_slot(name, len);
    for (unsigned row; (row = core->cmd_index[slot]) != 0;
         slot = (slot + 1) & (FC_CMD_INDEX_SLOTS - 1)) {
        const char *cand = table[row - 1].name;
        size_t i = 0;
        while (i < len && cand[i] != '\0' && cand[i] == (char)fold((unsigned char)name[i]))
            i++;
        if (i == len && cand[len] == '\0')
            return &table[row - 1];
    }
    return NULL;
}

int fc_command_renames_apply(fc_core *core, char *err, size_t errlen)
{
    const fc_conf *cf = core->conf;
    core->nrenames = 0;
    for (int i = 0; i < cf->nrenames && i < FC_CONF_MAX_RENAMES; i++) {
        const fc_conf_rename *r = &cf->renames[i];
        fc_rename *dst = &core->renames[i];
        size_t len = strnlen(r->to, sizeof(r->to) - 1);
        dst->cmd = fc_command_lookup(r->from, strnlen(r->from, sizeof(r->from) - 1));
        if (!dst->cmd) {
            snprintf(err, errlen, "rename_commands: unknown command '%s'", r->from);
            return -EINVAL;
        }
        if (len > 0 && fc_command_lookup(r->to, len)) {
            snprintf(err, errlen, "rename_commands: new name '%s' of %s is already a command",
                     r->to, r->from);
            return -EINVAL;
        }
        memcpy(dst->name, r->to, len);
        dst->name[len] = '\0';
        dst->len = len;
    }
    core->nrenames = cf->nrenames;
    return 0;
}

/* Lookup with renames: a renamed or disabled row is not found under its own name; a new name
 * finds its row (and sets *renamed). */
static const fc_command *lookup_renamed(const fc_core *core, const fc_arg *name,
                                        const fc_command *cmd, bool *renamed)
{
    for (int i = 0; i < core->nrenames; i++) {
        const fc_rename *r = &core->renames[i];
        if (cmd && r->cmd == cmd)
            return NULL;
        if (!cmd && r->len == name->len && cmp_name(name->p, name->len, r->name) == 0) {
            *renamed = true;
            return r->cmd;
        }
    }
    return cmd;
}

static const fc_command *lookup(const fc_core *core, const fc_arg *name, bool *renamed)
{
    const fc_command *cmd = fc_command_find(core, name->p, name->len);
    return core->nrenames == 0 ? cmd : lookup_renamed(core, name, cmd, renamed);
}

static bool arity_ok(const fc_command *cmd, int argc)
{
    return (cmd->arity > 0 && cmd->arity == argc) || (cmd->arity < 0 && argc >= -cmd->arity);
}

size_t fc_arg_cstr_len(const fc_arg *a)
{
    const char *nul = memchr(a->p, '\0', a->len);
    return nul ? (size_t)(nul - a->p) : a->len;
}

/* A C-string view of a (stops at NUL, as Redis's %s does), at most max bytes. */
static size_t cstr_len(const fc_arg *a, size_t max)
{
    size_t n = fc_arg_cstr_len(a);
    return n < max ? n : max;
}

/* Redis: "unknown command '%.128s', with args beginning with: " then "'%.*s' " per argument
 * while the args text is shorter than 128, each cut to what is left of 128. */
static void reply_unknown(fc_cmd_ctx *c)
{
    char args[512];
    size_t n = 0;
    for (int i = 1; i < c->argc && n < 128; i++) {
        size_t l = cstr_len(&c->argv[i], 128 - n);
        args[n++] = '\'';
        memcpy(args + n, c->argv[i].p, l);
        n += l;
        args[n++] = '\'';
        args[n++] = ' ';
    }
    fc_resp_errorf(c->out, "ERR unknown command '%.*s', with args beginning with: %.*s",
                   (int)cstr_len(&c->argv[0], 128), c->argv[0].p, (int)n, args);
}

static bool all_stars(const fc_arg *a)
{
    for (size_t i = 0; i < a->len; i++)
        if (a->p[i] != '*')
            return false;
    return a->len > 0;
}

/* Why a known command with a valid arity may not run now, or NULL. */
static const char *refusal(const fc_core *core, const fc_session *sess, const fc_command *cmd,
                           const fc_request *req)
{
    if (!(sess->flags & FC_SESS_AUTHED) && !(cmd->flags & FC_CMD_NO_AUTH) &&
        fc_core_auth_required(core, sess))
        return "NOAUTH Authentication required.";
    if (cmd->proxy == FC_PX_INVALIDATE && !core->conf->invalidate_all && all_stars(&req->argv[1]))
        return "ERR INVALIDATE of the whole keyspace is disabled (invalidate_all = no)";
    return NULL;
}

/* A renamed command goes upstream under its real name: argv re-encoded from a copy whose first
 * word is the row's name. Only FLUSHALL, FLUSHDB and INVALIDATE reach a backend renamed; more than
 * 4 words is a syntax error for each of them. */
static void exec_renamed(fc_core *core, fc_cmd_ctx *c)
{
    fc_arg argv[4];
    if (c->argc > 4) {
        c->out = fc_replyq_sync(c->q);
        if (c->out)
            fc_reply_err(c, FC_ERR_SYNTAX);
        return;
    }
    memcpy(argv, c->argv, sizeof(argv[0]) * (size_t)c->argc);
    argv[0].p = c->cmd->name;
    argv[0].len = strlen(c->cmd->name);
    c->argv = argv;
    c->frame = NULL;
    c->frame_len = 0;
    core->backend->ops->exec(core->backend, c);
}

/* CLIENT REPLY's modes move on after each command, as Redis's resetClient: a SKIP drops the reply
 * of the command after it only. */
static void reply_mode_next(fc_session *sess)
{
    if (!(sess->flags & (FC_SESS_REPLY_SKIP | FC_SESS_REPLY_SKIP_NEXT)))
        return;
    bool next = sess->flags & FC_SESS_REPLY_SKIP_NEXT;
    sess->flags &= ~(FC_SESS_REPLY_SKIP | FC_SESS_REPLY_SKIP_NEXT);
    if (next)
        sess->flags |= FC_SESS_REPLY_SKIP;
}

/* Runs a command here, or replies why it does not run; a reply the client has muted (CLIENT
 * REPLY OFF or SKIP, as they stand after the command) is taken back out of the buffer. */
static void run_local(fc_cmd_ctx *c, const char *refused)
{
    const fc_command *cmd = c->cmd;
    fc_session *sess = c->sess;
    c->out = fc_replyq_sync(c->q);
    if (!c->out)
        return; /* out of memory: the client is closed by its owner */
    size_t len0 = c->out->len;
    if (!cmd) {
        reply_unknown(c);
    } else if (!arity_ok(cmd, c->argc)) {
        fc_reply_arity(c, cmd->name);
    } else if (refused) {
        fc_reply_err(c, refused);
    } else if ((cmd->flags & FC_CMD_DENYOOM) && !fc_memory_make_room(c->core, c->now_ms)) {
        fc_reply_err(c, FC_ERR_OOM);
    } else {
        int db = sess->db, proto = sess->proto;
        cmd->exec(c);
        /* A switch of db or protocol moves the client's next requests to another upstream
         * connection: hold them until those in flight on the old one are done, so the client's
         * requests still run upstream in the order it sent them. */
        if ((sess->db != db || sess->proto != proto) && sess->inflight > 0)
            sess->flags |= FC_SESS_DRAIN;
    }
    if (sess->flags & FC_SESS_MUTED)
        c->out->len = len0;
}

void fc_dispatch(fc_core *core, fc_session *sess, fc_replyq *q, const fc_request *req,
                 int64_t now_ms)
{
    fc_cmd_ctx c = {core,      sess,   NULL, q,          req->argv,
                    req->argc, now_ms, NULL, req->frame, req->frame_len};
    bool renamed = false;
    const fc_command *cmd = lookup(core, &req->argv[0], &renamed);
    const char *refused = NULL;
    core->stats.commands++;
    c.cmd = cmd;
    if (cmd)
        sess->last_cmd = cmd->name;
    bool runs = cmd && arity_ok(cmd, req->argc) && !(refused = refusal(core, sess, cmd, req));
    q->mute = sess->flags & FC_SESS_MUTED; /* replies completed later are dropped too */
    if (runs && core->backend && !(cmd->flags & FC_CMD_LOCAL)) {
        if (renamed)
            exec_renamed(core, &c);
        else
            core->backend->ops->exec(core->backend, &c);
    } else {
        run_local(&c, refused);
    }
    q->mute = false;
    reply_mode_next(sess);
}

fc_buf *fc_ctx_out(fc_cmd_ctx *c)
{
    if (!c->out)
        c->out = fc_replyq_sync(c->q);
    return c->out;
}

fc_store *fc_ctx_db(const fc_cmd_ctx *c)
{
    return c->core->dbs[c->sess->db];
}

void fc_reply_err(fc_cmd_ctx *c, const char *msg)
{
    fc_resp_error(c->out, msg, strlen(msg));
}

void fc_reply_arity(fc_cmd_ctx *c, const char *name)
{
    fc_resp_errorf(c->out, "ERR wrong number of arguments for '%s' command", name);
}

void fc_reply_unknown_sub(fc_cmd_ctx *c)
{
    char up[129];
    size_t n = cstr_len(&c->argv[0], 128);
    for (size_t i = 0; i < n; i++)
        up[i] = (char)toupper((unsigned char)c->argv[0].p[i]);
    up[n] = '\0';
    fc_resp_errorf(c->out, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                   (int)cstr_len(&c->argv[1], 128), c->argv[1].p, up);
}

void fc_reply_bulk_or_null(fc_cmd_ctx *c, const fc_entry_view *e, bool found)
{
    if (found)
        fc_resp_bulk(c->out, e->val, e->vlen);
    else
        fc_resp_null(c->out, c->sess->proto);
}

bool fc_arg_ll(fc_cmd_ctx *c, int i, long long *out)
{
    if (fc_parse_ll(c->argv[i].p, c->argv[i].len, out))
        return true;
    fc_reply_err(c, FC_ERR_NOTINT);
    return false;
}

bool fc_arg_is(const fc_cmd_ctx *c, int i, const char *word)
{
    return fc_eq_word(c->argv[i].p, c->argv[i].len, word);
}

int64_t fc_default_expire(const fc_cmd_ctx *c, const fc_arg *key)
{
    int64_t ttl = fc_core_key_ttl_ms(c->core, key->p, key->len);
    return ttl > 0 ? c->now_ms + ttl : FC_NO_EXPIRE;
}
