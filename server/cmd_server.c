/*
 * cmd_server — server-side commands that tools send: COMMAND (COUNT, INFO, DOCS, LIST, GETKEYS),
 * CONFIG GET (and RESETSTAT), TIME, LASTSAVE, SHUTDOWN and FUNCTION FLUSH (there are no
 * functions).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/cmd_impl.h"
#include "server/memory.h"
#include "storage/glob.h"

/* COMMAND INFO entry, Redis 7's 10-field shape (categories, tips, key specs and subcommands are
 * empty). */
static void command_entry(fc_cmd_ctx *c, const fc_command *cmd)
{
    fc_resp_array(c->out, 10);
    fc_resp_bulk_cstr(c->out, cmd->name);
    fc_resp_int(c->out, cmd->arity);
    const char *f = cmd->flag_names;
    size_t nflags = 0;
    for (const char *p = f; *p; p++)
        nflags += (p == f || p[-1] == ' ') && *p != ' ';
    fc_resp_set(c->out, nflags, c->sess->proto);
    while (*f) {
        size_t n = strcspn(f, " ");
        fc_resp_simple(c->out, f, n);
        f += n + (f[n] == ' ');
    }
    fc_resp_int(c->out, cmd->first_key);
    fc_resp_int(c->out, cmd->last_key);
    fc_resp_int(c->out, cmd->key_step);
    fc_resp_set(c->out, 0, c->sess->proto);
    fc_resp_set(c->out, 0, c->sess->proto);
    fc_resp_array(c->out, 0);
    fc_resp_array(c->out, 0);
}

/* Whether COMMAND LIST's filter keeps cmd (pattern NULL: every command, none: no command). */
static bool list_keeps(const fc_command *cmd, const fc_arg *pattern, bool none)
{
    if (none || !pattern)
        return !none;
    return fc_glob_match(pattern->p, pattern->len, cmd->name, strlen(cmd->name), true);
}

/* COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern], parsed as Redis 7.0
 * does (FILTERBY only as the last three arguments). The table has no modules and no ACL
 * categories (as COMMAND INFO shows), so those filters keep nothing; PATTERN is a nocase glob
 * over the names. */
static void command_list(fc_cmd_ctx *c, const fc_command *t, size_t n)
{
    const fc_arg *pattern = NULL;
    bool none = false;
    if (c->argc != 2) {
        if (c->argc != 5 || !fc_arg_is(c, 2, "filterby")) {
            fc_reply_err(c, FC_ERR_SYNTAX);
            return;
        }
        if (fc_arg_is(c, 3, "pattern")) {
            pattern = &c->argv[4];
        } else if (fc_arg_is(c, 3, "module") || fc_arg_is(c, 3, "aclcat")) {
            none = true;
        } else {
            fc_reply_err(c, FC_ERR_SYNTAX);
            return;
        }
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += list_keeps(&t[i], pattern, none);
    fc_resp_array(c->out, count);
    for (size_t i = 0; i < n; i++)
        if (list_keeps(&t[i], pattern, none))
            fc_resp_bulk_cstr(c->out, t[i].name);
}

/* COMMAND GETKEYS command [arg ...]: the keys at our table's positions, checked in Redis 7.0's
 * order (unknown command, no keys, then the command's arity). */
static void command_getkeys(fc_cmd_ctx *c)
{
    const fc_command *cmd = fc_command_lookup(c->argv[2].p, c->argv[2].len);
    int argc = c->argc - 2;
    if (!cmd) {
        fc_reply_err(c, "ERR Invalid command specified");
    } else if (cmd->first_key == 0) {
        fc_reply_err(c, "ERR The command has no key arguments");
    } else if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        fc_reply_err(c, "ERR Invalid number of arguments specified for command");
    } else {
        int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
        fc_resp_array(c->out, (size_t)((last - cmd->first_key) / cmd->key_step + 1));
        for (int i = cmd->first_key; i <= last; i += cmd->key_step)
            fc_resp_bulk(c->out, c->argv[2 + i].p, c->argv[2 + i].len);
    }
}

void cmd_command(fc_cmd_ctx *c)
{
    size_t n;
    const fc_command *t = fc_command_table(&n);
    if (c->argc == 1 || (c->argc == 2 && fc_arg_is(c, 1, "info"))) { /* no names: all */
        fc_resp_array(c->out, n);
        for (size_t i = 0; i < n; i++)
            command_entry(c, &t[i]);
    } else if (fc_arg_is(c, 1, "count")) {
        if (c->argc != 2)
            fc_reply_arity(c, "command|count");
        else
            fc_resp_int(c->out, (int64_t)n);
    } else if (fc_arg_is(c, 1, "info")) {
        fc_resp_array(c->out, (size_t)c->argc - 2);
        for (int i = 2; i < c->argc; i++) {
            const fc_command *cmd = fc_command_lookup(c->argv[i].p, c->argv[i].len);
            if (cmd)
                command_entry(c, cmd);
            else
                fc_resp_null(c->out, c->sess->proto);
        }
    } else if (fc_arg_is(c, 1, "docs")) {
        fc_resp_map(c->out, 0, c->sess->proto);
    } else if (fc_arg_is(c, 1, "list")) {
        command_list(c, t, n);
    } else if (fc_arg_is(c, 1, "getkeys")) {
        if (c->argc < 4)
            fc_reply_arity(c, "command|getkeys");
        else
            command_getkeys(c);
    } else {
        fc_reply_unknown_sub(c);
    }
}

typedef struct config_item {
    const char *name;
    char value[FC_CONF_STR + 8];
} config_item;

static size_t config_items(const fc_cmd_ctx *c, config_item *it, size_t cap)
{
    const fc_conf *cf = c->core->conf;
    size_t n = 0;
#define ITEM(nm, ...)                                                                             \
    do {                                                                                          \
        if (n < cap) {                                                                            \
            it[n].name = nm;                                                                      \
            snprintf(it[n].value, sizeof(it[n].value), __VA_ARGS__);                              \
            n++;                                                                                  \
        }                                                                                         \
    } while (0)
    ITEM("save", "%s", "");
    ITEM("appendonly", "%s", "no");
    ITEM("databases", "%d", c->core->ndb);
    ITEM("port", "%d", c->core->tcp_port);
    ITEM("bind", "%s", cf->nbind > 0 ? cf->bind[0] : "");
    ITEM("maxclients", "%lld", (long long)cf->maxclients);
    ITEM("timeout", "%lld", (long long)cf->timeout);
    ITEM("maxmemory", "%llu", (unsigned long long)fc_memory_limit(c->core));
    ITEM("maxmemory-policy", "%s", fc_memory_policy_name(c->core));
    ITEM("proto-max-bulk-len", "%llu", (unsigned long long)cf->proto_max_bulk_len);
    ITEM("client-query-buffer-limit", "%llu", (unsigned long long)cf->client_query_buffer_limit);
    ITEM("loglevel", "%s", fc_conf_loglevel_name(cf->loglevel));
    ITEM("unixsocket", "%s", cf->unixsocket);
    ITEM("requirepass", "%s", "");
    ITEM("cluster-enabled", "%s", "no");
#undef ITEM
    return n;
}

static bool is_glob(const fc_arg *a)
{
    return memchr(a->p, '*', a->len) || memchr(a->p, '?', a->len) || memchr(a->p, '[', a->len);
}

/* Whether argument a asks for the parameter: a plain name case-insensitively, else as a glob. */
static bool config_arg_matches(const fc_arg *a, const char *name)
{
    size_t len = strlen(name);
    if (!is_glob(a))
        return a->len == len && strncasecmp(a->p, name, len) == 0;
    return fc_glob_match(a->p, a->len, name, len, true);
}

/* As Redis 7.0: each parameter is answered once, under the spelling of the first argument that
 * asked for it: a plain name as the client typed it, a glob's match under its own name. */
static void config_get(fc_cmd_ctx *c)
{
    config_item items[32];
    size_t n = config_items(c, items, 32);
    const fc_arg *asked[32] = {NULL};
    size_t nmatch = 0;
    for (int a = 2; a < c->argc; a++)
        for (size_t i = 0; i < n; i++)
            if (!asked[i] && config_arg_matches(&c->argv[a], items[i].name)) {
                asked[i] = &c->argv[a];
                nmatch++;
            }
    fc_resp_map(c->out, nmatch, c->sess->proto);
    for (size_t i = 0; i < n; i++) {
        if (!asked[i])
            continue;
        if (is_glob(asked[i]))
            fc_resp_bulk_cstr(c->out, items[i].name);
        else
            fc_resp_bulk(c->out, asked[i]->p, asked[i]->len);
        fc_resp_bulk_cstr(c->out, items[i].value);
    }
}

void cmd_config(fc_cmd_ctx *c)
{
    if (fc_arg_is(c, 1, "get")) {
        if (c->argc < 3)
            fc_reply_arity(c, "config|get");
        else
            config_get(c);
    } else if (fc_arg_is(c, 1, "resetstat")) {
        if (c->argc != 2) {
            fc_reply_arity(c, "config|resetstat");
            return;
        }
        /* As Redis's resetServerStats: every counter INFO stats shows, expired_keys,
         * evicted_keys and keyspace_hits/misses (kept by each database) included. */
        memset(&c->core->stats, 0, sizeof(c->core->stats));
        for (int i = 0; i < c->core->ndb; i++)
            fc_store_reset_stats(c->core->dbs[i]);
        fc_resp_ok(c->out);
    } else if (fc_arg_is(c, 1, "set")) {
        if (c->argc < 4)
            fc_reply_arity(c, "config|set");
        else
            fc_reply_err(c, "ERR CONFIG SET is not supported by fastcached; edit the config file");
    } else {
        fc_reply_unknown_sub(c);
    }
}

void cmd_time(fc_cmd_ctx *c)
{
    int64_t us = fc_time_us();
    fc_resp_array(c->out, 2);
    fc_resp_bulk_int(c->out, us / 1000000);
    fc_resp_bulk_int(c->out, us % 1000000);
}

void cmd_lastsave(fc_cmd_ctx *c)
{
    fc_resp_int(c->out, c->core->start_ms / 1000);
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], checked as Redis does: every argument first, then
 * the illegal pairs (ABORT with any other flag, NOSAVE with SAVE), both a syntax error. */
void cmd_shutdown(fc_cmd_ctx *c)
{
    static const char *const names[] = {"nosave", "save", "now", "force", "abort"};
    unsigned flags = 0;
    for (int i = 1; i < c->argc; i++) {
        size_t k = 0;
        while (k < 5 && !fc_arg_is(c, i, names[k]))
            k++;
        if (k == 5) {
            fc_reply_err(c, FC_ERR_SYNTAX);
            return;
        }
        flags |= 1u << k;
    }
    bool abort = flags & (1u << 4);
    if ((abort && flags != (1u << 4)) || (flags & 3u) == 3u) {
        fc_reply_err(c, FC_ERR_SYNTAX);
        return;
    }
    if (abort) {
        fc_reply_err(c, "ERR No shutdown in progress.");
        return;
    }
    /* Like Redis, no reply: the connection closes as the server exits. */
    c->core->shutdown_requested = true;
    c->sess->flags |= FC_SESS_CLOSE_AFTER_REPLY;
}

/* FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern]: no libraries exist, so after Redis's option
 * checks the answer is always empty. */
static void function_list(fc_cmd_ctx *c)
{
    bool withcode = false, libname = false;
    for (int i = 2; i < c->argc; i++) {
        if (!withcode && fc_arg_is(c, i, "withcode")) {
            withcode = true;
        } else if (!libname && fc_arg_is(c, i, "libraryname")) {
            if (i + 1 >= c->argc) {
                fc_reply_err(c, "ERR library name argument was not given");
                return;
            }
            libname = true;
            i++;
        } else {
            const char *nul = memchr(c->argv[i].p, '\0', c->argv[i].len);
            int n = (int)(nul ? (size_t)(nul - c->argv[i].p) : c->argv[i].len);
            fc_resp_errorf(c->out, "ERR Unknown argument %.*s", n, c->argv[i].p);
            return;
        }
    }
    fc_resp_array(c->out, 0);
}

/* FUNCTION STATS with no scripting engine running and no libraries, in Redis 7.0's shape. */
static void function_stats(fc_cmd_ctx *c)
{
    int proto = c->sess->proto;
    fc_resp_map(c->out, 2, proto);
    fc_resp_bulk_cstr(c->out, "running_script");
    fc_resp_null(c->out, proto);
    fc_resp_bulk_cstr(c->out, "engines");
    fc_resp_map(c->out, 1, proto);
    fc_resp_bulk_cstr(c->out, "LUA");
    fc_resp_map(c->out, 2, proto);
    fc_resp_bulk_cstr(c->out, "libraries_count");
    fc_resp_int(c->out, 0);
    fc_resp_bulk_cstr(c->out, "functions_count");
    fc_resp_int(c->out, 0);
}

void cmd_function(fc_cmd_ctx *c)
{
    if (fc_arg_is(c, 1, "flush")) {
        if (c->argc > 3)
            fc_resp_errorf(c->out,
                           "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                           "Try FUNCTION HELP.",
                           (int)c->argv[1].len, c->argv[1].p);
        else if (c->argc == 3 && !fc_arg_is(c, 2, "sync") && !fc_arg_is(c, 2, "async"))
            fc_reply_err(c, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        else
            fc_resp_ok(c->out);
    } else if (fc_arg_is(c, 1, "list")) {
        function_list(c);
    } else if (fc_arg_is(c, 1, "stats")) {
        if (c->argc != 2)
            fc_reply_arity(c, "function|stats");
        else
            function_stats(c);
    } else {
        fc_reply_unknown_sub(c);
    }
}
