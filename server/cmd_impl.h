/*
 * cmd_impl — what the command handler files share: handler declarations, Redis's error texts and
 * argument helpers. Internal to server/; never includes uv.h.
 */
#ifndef FC_SERVER_CMD_IMPL_H
#define FC_SERVER_CMD_IMPL_H

#include "protocol/resp_writer.h"
#include "server/commands.h"
#include "server/util.h"
#include "storage/store.h"

#define FC_ERR_SYNTAX "ERR syntax error"
#define FC_ERR_NOTINT "ERR value is not an integer or out of range"
#define FC_ERR_NOTFLOAT "ERR value is not a valid float"
#define FC_ERR_OVERFLOW "ERR increment or decrement would overflow"
#define FC_ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define FC_ERR_NOKEY "ERR no such key"
#define FC_ERR_DBRANGE "ERR DB index is out of range"

/* Writes an error reply; msg starts with its code ("ERR ..."). */
void fc_reply_err(fc_cmd_ctx *c, const char *msg);
/* Writes "ERR wrong number of arguments for '<name>' command". */
void fc_reply_arity(fc_cmd_ctx *c, const char *name);
/* Writes "ERR unknown subcommand '<sub>'. Try <CMD> HELP." */
void fc_reply_unknown_sub(fc_cmd_ctx *c);
/* Bulk or null (the context's protocol). */
void fc_reply_bulk_or_null(fc_cmd_ctx *c, const fc_entry_view *e, bool found);

/* Parses argv[i] as a strict integer; on failure replies FC_ERR_NOTINT and returns false. */
bool fc_arg_ll(fc_cmd_ctx *c, int i, long long *out);
/* True if argv[i] equals the lower-case word, ASCII case-insensitively. */
bool fc_arg_is(const fc_cmd_ctx *c, int i, const char *word);

/* The length of a up to its first NUL: Redis compares and prints such arguments as C strings. */
size_t fc_arg_cstr_len(const fc_arg *a);

/* A client type name as Redis's getClientTypeByName reads it (a C string, any case):
 * FC_CLIENT_NORMAL (every client of ours), FC_CLIENT_OTHER (master, slave, replica, pubsub:
 * none of ours), or -1 for an unknown name (cmd_conn.c). */
enum { FC_CLIENT_NORMAL, FC_CLIENT_OTHER };
int fc_client_type(const fc_arg *name);

/* True when given[0..glen) equals secret[0..slen), in time that depends on glen only (no early
 * exit on the first differing byte, secret's length not observable). */
bool fc_secure_equal(const char *given, size_t glen, const char *secret, size_t slen);
/* Checks user/pass against the default user (cmd_auth.c). On success marks the session
 * authenticated and returns true; otherwise replies WRONGPASS and returns false. */
bool fc_auth_check(fc_cmd_ctx *c, const fc_arg *user, const fc_arg *pass);
void fc_cmd_client_kill(fc_cmd_ctx *c); /* CLIENT KILL (cmd_kill.c) */

/* FLUSHDB/FLUSHALL take nothing, ASYNC or SYNC (both drivers check it the same way). */
bool fc_flush_args_valid(const fc_cmd_ctx *c);

/* Absolute expiry for a write to key that names none: now + the key's default TTL (its longest
 * [ttl] prefix, else [cache] ttl), or FC_NO_EXPIRE. */
int64_t fc_default_expire(const fc_cmd_ctx *c, const fc_arg *key);

/* Strings (cmd_string.c). */
fc_cmd_fn cmd_get, cmd_set, cmd_setnx, cmd_setex, cmd_psetex, cmd_getset, cmd_getdel,
    cmd_getex, cmd_mget, cmd_mset, cmd_msetnx, cmd_append, cmd_strlen, cmd_incr, cmd_decr,
    cmd_incrby, cmd_decrby, cmd_incrbyfloat, cmd_getrange, cmd_setrange;
/* Keyspace and expiry (cmd_keys.c, cmd_expire.c). */
fc_cmd_fn cmd_del, cmd_exists, cmd_touch, cmd_dbsize, cmd_keys, cmd_scan, cmd_type,
    cmd_randomkey, cmd_rename, cmd_renamenx, cmd_flushdb, cmd_flushall, cmd_invalidate,
    cmd_select, cmd_ttl, cmd_pttl, cmd_expiretime, cmd_pexpiretime, cmd_expire, cmd_pexpire,
    cmd_expireat, cmd_pexpireat, cmd_persist;
/* Connection and server (cmd_conn.c, cmd_server.c, cmd_info.c). */
fc_cmd_fn cmd_ping, cmd_echo, cmd_quit, cmd_hello, cmd_client, cmd_command, cmd_info,
    cmd_config, cmd_time, cmd_shutdown, cmd_function, cmd_reset, cmd_lastsave, cmd_auth;

#endif
