/*
 * cmd_conn — connection commands: PING, ECHO, QUIT, RESET, HELLO and CLIENT.
 *
 * HELLO ... AUTH authenticates through cmd_auth.c's check; on a session that must still
 * authenticate, HELLO without a valid AUTH is refused (after its options were parsed: a SETNAME
 * takes effect anyway, as in Redis 7.0).
 *
 * HELLO switches the session between RESP2 and RESP3 (node-redis 6 and ioredis 6 open with
 * HELLO 3). fastcached identifies itself as Redis 7.0.15 here and in INFO, because clients gate
 * features on that version; INFO also carries fastcached_version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/cmd_impl.h"

#define REDIS_COMPAT_VERSION "7.0.15"

void cmd_ping(fc_cmd_ctx *c)
{
    if (c->argc > 2)
        fc_reply_arity(c, "ping");
    else if (c->argc == 2)
        fc_resp_bulk(c->out, c->argv[1].p, c->argv[1].len);
    else
        fc_resp_simple(c->out, "PONG", 4);
}

void cmd_echo(fc_cmd_ctx *c)
{
    fc_resp_bulk(c->out, c->argv[1].p, c->argv[1].len);
}

void cmd_quit(fc_cmd_ctx *c)
{
    c->sess->flags |= FC_SESS_CLOSE_AFTER_REPLY;
    fc_resp_ok(c->out);
}

static void set_str(char **dst, const char *p, size_t n)
{
    free(*dst);
    *dst = NULL;
    if (n == 0)
        return;
    *dst = malloc(n + 1);
    if (*dst) {
        memcpy(*dst, p, n);
        (*dst)[n] = '\0';
    }
}

void cmd_reset(fc_cmd_ctx *c)
{
    /* Back to the db a new connection starts in: 0, or [redis] db through the proxy. */
    const fc_conf *cf = c->core->conf;
    c->sess->db = cf->driver == FC_DRIVER_REDIS ? cf->redis_db : 0;
    c->sess->proto = 2;
    set_str(&c->sess->name, NULL, 0);
    fc_core_default_auth(c->core, c->sess); /* as Redis: RESET de-authenticates */
    fc_resp_simple(c->out, "RESET", 5);
}

/* Redis accepts names made of '!'..'~' only. */
static bool valid_name(const fc_arg *a)
{
    for (size_t i = 0; i < a->len; i++)
        if (a->p[i] < '!' || a->p[i] > '~')
            return false;
    return true;
}

static bool set_name_or_reply(fc_cmd_ctx *c, const fc_arg *a)
{
    if (!valid_name(a)) {
        fc_reply_err(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        return false;
    }
    set_str(&c->sess->name, a->p, a->len);
    return true;
}

static void hello_reply(fc_cmd_ctx *c)
{
    int proto = c->sess->proto;
    fc_resp_map(c->out, 7, proto);
    fc_resp_bulk_cstr(c->out, "server");
    fc_resp_bulk_cstr(c->out, "redis");
    fc_resp_bulk_cstr(c->out, "version");
    fc_resp_bulk_cstr(c->out, REDIS_COMPAT_VERSION);
    fc_resp_bulk_cstr(c->out, "proto");
    fc_resp_int(c->out, proto);
    fc_resp_bulk_cstr(c->out, "id");
    fc_resp_int(c->out, (int64_t)c->sess->id);
    fc_resp_bulk_cstr(c->out, "mode");
    fc_resp_bulk_cstr(c->out, "standalone");
    fc_resp_bulk_cstr(c->out, "role");
    fc_resp_bulk_cstr(c->out, "master");
    fc_resp_bulk_cstr(c->out, "modules");
    fc_resp_array(c->out, 0);
}

void cmd_hello(fc_cmd_ctx *c)
{
    long long ver = 0;
    int j = 1;
    if (c->argc >= 2) {
        if (!fc_parse_ll(c->argv[1].p, c->argv[1].len, &ver)) {
            fc_reply_err(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            fc_reply_err(c, "NOPROTO unsupported protocol version");
            return;
        }
        j = 2;
    }
    for (; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        /* Like Redis 7.0, each option takes effect as it is parsed, left to right, even when a
         * later one is rejected: AUTH authenticates (or fails) there, SETNAME names there. */
        if (fc_arg_is(c, j, "auth") && more >= 2) {
            if (!fc_auth_check(c, &c->argv[j + 1], &c->argv[j + 2]))
                return;
            j += 2;
        } else if (fc_arg_is(c, j, "setname") && more >= 1) {
            if (!set_name_or_reply(c, &c->argv[++j]))
                return;
        } else {
            const char *nul = memchr(c->argv[j].p, '\0', c->argv[j].len);
            int n = (int)(nul ? (size_t)(nul - c->argv[j].p) : c->argv[j].len);
            fc_resp_errorf(c->out, "ERR Syntax error in HELLO option '%.*s'", n, c->argv[j].p);
            return;
        }
    }
    if (fc_core_auth_required(c->core, c->sess)) {
        fc_reply_err(c, "NOAUTH HELLO must be called with the client already authenticated, "
                        "otherwise the HELLO AUTH <user> <pass> option can be used to "
                        "authenticate the client and select the RESP protocol version at the "
                        "same time");
        return;
    }
    if (ver)
        c->sess->proto = (int)ver;
    hello_reply(c);
}

/* One line of CLIENT LIST / CLIENT INFO, in Redis 7's field order. */
static void client_line(fc_buf *b, const fc_session *s, int64_t now_ms)
{
    char line[1024];
    int n = snprintf(line, sizeof(line),
                     "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=N db=%d "
                     "sub=0 psub=0 ssub=0 multi=-1 qbuf=%zu qbuf-free=%zu argv-mem=0 "
                     "multi-mem=0 rbs=%zu rbp=0 obl=0 oll=0 omem=%zu tot-mem=%zu events=r "
                     "cmd=%s user=default redir=-1 resp=%d lib-name=%s lib-ver=%s\n",
                     (unsigned long long)s->id, s->addr, s->laddr, s->fd,
                     s->name ? s->name : "", (long long)((now_ms - s->created_ms) / 1000),
                     (long long)((now_ms - s->last_ms) / 1000), s->db, s->qbuf, s->qbuf_free,
                     s->qbuf + s->qbuf_free, s->obuf, s->qbuf + s->qbuf_free + s->obuf,
                     s->last_cmd ? s->last_cmd : "NULL", s->proto,
                     s->lib_name ? s->lib_name : "", s->lib_ver ? s->lib_ver : "");
    if (n > 0)
        fc_buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void client_list(fc_cmd_ctx *c, bool only_self)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    if (only_self) {
        client_line(&b, c->sess, c->now_ms);
    } else {
        for (const fc_session *s = c->core->sessions; s; s = s->next)
            client_line(&b, s, c->now_ms);
    }
    fc_resp_verbatim(c->out, b.data ? b.data : "", b.len, c->sess->proto);
    fc_buf_deinit(&b);
}

int fc_client_type(const fc_arg *name)
{
    static const char *const types[] = {"normal", "master", "slave", "replica", "pubsub"};
    size_t n = fc_arg_cstr_len(name);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (n == strlen(types[i]) && strncasecmp(name->p, types[i], n) == 0)
            return i == 0 ? FC_CLIENT_NORMAL : FC_CLIENT_OTHER;
    return -1;
}

/* CLIENT LIST ID id [id ...]: the lines of the given ids, in argument order. */
static void client_list_ids(fc_cmd_ctx *c)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    for (int j = 3; j < c->argc; j++) {
        long long id;
        if (!fc_parse_ll(c->argv[j].p, c->argv[j].len, &id)) {
            fc_buf_deinit(&b);
            fc_reply_err(c, "ERR Invalid client ID");
            return;
        }
        for (const fc_session *s = c->core->sessions; s; s = s->next)
            if (id > 0 && s->id == (uint64_t)id)
                client_line(&b, s, c->now_ms);
    }
    fc_resp_verbatim(c->out, b.data ? b.data : "", b.len, c->sess->proto);
    fc_buf_deinit(&b);
}

/* CLIENT LIST [TYPE type | ID id ...], Redis 7.0's argument rules. Every client of ours is a
 * normal one, so the other known types list nothing. */
static void client_list_cmd(fc_cmd_ctx *c)
{
    if (c->argc == 2) {
        client_list(c, false);
    } else if (c->argc == 4 && fc_arg_is(c, 2, "type")) {
        int type = fc_client_type(&c->argv[3]);
        if (type == FC_CLIENT_NORMAL)
            client_list(c, false);
        else if (type == FC_CLIENT_OTHER)
            fc_resp_verbatim(c->out, "", 0, c->sess->proto);
        else
            fc_resp_errorf(c->out, "ERR Unknown client type '%.*s'",
                           (int)fc_arg_cstr_len(&c->argv[3]), c->argv[3].p);
    } else if (c->argc > 3 && fc_arg_is(c, 2, "id")) {
        client_list_ids(c);
    } else {
        fc_reply_err(c, FC_ERR_SYNTAX);
    }
}

static void client_setinfo(fc_cmd_ctx *c)
{
    bool is_name = fc_arg_is(c, 2, "lib-name");
    if (!is_name && !fc_arg_is(c, 2, "lib-ver")) {
        fc_resp_errorf(c->out, "ERR Unrecognized option '%.*s'", (int)c->argv[2].len,
                       c->argv[2].p);
        return;
    }
    if (!valid_name(&c->argv[3])) {
        fc_resp_errorf(c->out, "ERR %s cannot contain spaces, newlines or special characters.",
                       is_name ? "lib-name" : "lib-ver");
        return;
    }
    set_str(is_name ? &c->sess->lib_name : &c->sess->lib_ver, c->argv[3].p, c->argv[3].len);
    fc_resp_ok(c->out);
}

/* CLIENT REPLY ON|OFF|SKIP, as Redis 7.0: OFF and SKIP answer nothing (the dispatcher drops
 * muted replies), a SKIP while OFF changes nothing, ON clears both and answers. */
static void client_reply(fc_cmd_ctx *c)
{
    fc_session *s = c->sess;
    if (fc_arg_is(c, 2, "on")) {
        s->flags &= ~(unsigned)(FC_SESS_REPLY_OFF | FC_SESS_REPLY_SKIP);
        fc_resp_ok(c->out);
    } else if (fc_arg_is(c, 2, "off")) {
        s->flags |= FC_SESS_REPLY_OFF;
    } else if (fc_arg_is(c, 2, "skip")) {
        if (!(s->flags & FC_SESS_REPLY_OFF))
            s->flags |= FC_SESS_REPLY_SKIP_NEXT;
    } else {
        fc_reply_err(c, FC_ERR_SYNTAX);
    }
}

/* CLIENT NO-EVICT ON|OFF: accepted as Redis does; fastcached never evicts clients. */
static void client_no_evict(fc_cmd_ctx *c)
{
    if (fc_arg_is(c, 2, "on") || fc_arg_is(c, 2, "off"))
        fc_resp_ok(c->out);
    else
        fc_reply_err(c, FC_ERR_SYNTAX);
}

static const char *const client_help[] = {
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME", "    Return the name of the current connection.",
    "ID", "    Return the ID of the current connection.",
    "INFO", "    Return information about the current client connection.",
    "KILL <ip:port>", "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Kill connections by type.",
    "    * USER <username>", "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)", "      Skip killing current connection (default: yes).",
    "LIST", "    Return information about client connections.",
    "SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client library name or version.",
    "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>", "    Assign the name <name> to the current connection.",
    "HELP", "    Print this help.",
};

static void reply_help(fc_cmd_ctx *c, const char *const *lines, size_t n)
{
    fc_resp_array(c->out, n);
    for (size_t i = 0; i < n; i++)
        fc_resp_simple(c->out, lines[i], strlen(lines[i]));
}

void cmd_client(fc_cmd_ctx *c)
{
    static const struct { const char *sub; int arity; } subs[] = {
        {"id", 2},   {"getname", 2}, {"setname", 3}, {"setinfo", 4}, {"list", -2},
        {"info", 2}, {"help", 2},    {"kill", -3},   {"reply", 3},   {"no-evict", 3}};
    size_t i = 0, nsubs = sizeof(subs) / sizeof(subs[0]);
    while (i < nsubs && !fc_arg_is(c, 1, subs[i].sub))
        i++;
    if (i == nsubs) {
        fc_reply_unknown_sub(c);
        return;
    }
    int ar = subs[i].arity;
    if ((ar > 0 && c->argc != ar) || c->argc < -ar) {
        fc_resp_errorf(c->out, "ERR wrong number of arguments for 'client|%s' command",
                       subs[i].sub);
        return;
    }
    switch (i) {
    case 0: fc_resp_int(c->out, (int64_t)c->sess->id); break;
    case 1:
        if (c->sess->name)
            fc_resp_bulk_cstr(c->out, c->sess->name);
        else
            fc_resp_null(c->out, c->sess->proto);
        break;
    case 2:
        if (set_name_or_reply(c, &c->argv[2]))
            fc_resp_ok(c->out);
        break;
    case 3: client_setinfo(c); break;
    case 4: client_list_cmd(c); break;
    case 5: client_list(c, true); break;
    case 6: reply_help(c, client_help, sizeof(client_help) / sizeof(client_help[0])); break;
    case 7: fc_cmd_client_kill(c); break;
    case 8: client_reply(c); break;
    default: client_no_evict(c); break;
    }
}
