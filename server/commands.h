/*
 * commands — the command table and dispatch, shared by every backend.
 *
 *   argv ──► fc_dispatch ──► lookup row ──► arity ──► row->exec(ctx) ──► reply bytes in ctx->out
 *
 * A row carries what every backend needs (name, arity, flags, key positions) and the memory-mode
 * handler. Handlers write exactly one reply into ctx->out. This layer never includes uv.h.
 *
 * Ownership: argv slices point into the client's input buffer and are valid until fc_dispatch
 * returns.
 */
#ifndef FC_SERVER_COMMANDS_H
#define FC_SERVER_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"
#include "server/core.h"
#include "server/replyq.h"
#include "server/session.h"

typedef struct fc_arg {
    const char *p;
    size_t len;
} fc_arg;

struct fc_command;

typedef struct fc_cmd_ctx {
    fc_core *core;
    fc_session *sess;
    fc_buf *out;            /* where a synchronous handler writes its one reply */
    fc_replyq *q;           /* the client's ordered reply queue */
    const fc_arg *argv;
    int argc;
    int64_t now_ms;
    const struct fc_command *cmd;
    const char *frame;      /* the raw request (multibulk), NULL for inline requests */
    size_t frame_len;
} fc_cmd_ctx;

typedef void fc_cmd_fn(fc_cmd_ctx *c);

#define FC_CMD_READ 1u
#define FC_CMD_WRITE 2u
#define FC_CMD_LOCAL 4u   /* answered by the daemon itself whatever the backend */
#define FC_CMD_FAST 8u
#define FC_CMD_NOSCRIPT 16u
#define FC_CMD_NO_AUTH 32u  /* runs before AUTH when a password is set (Redis's no_auth) */
#define FC_CMD_DENYOOM 64u  /* may grow memory: refused with -OOM at maxmemory (Redis's denyoom) */

/* How the proxy backend serves a row (memory mode ignores it). */
typedef enum fc_proxy_kind {
    FC_PX_FORWARD = 0, /* keys prefixed, request forwarded, reply passed through unchanged */
    FC_PX_SET,         /* default TTL: EX appended; SET ... PERSIST: PERSIST dropped */
    FC_PX_SETNX,       /* default TTL: SET k v NX EX t, reply mapped to :1/:0 */
    FC_PX_GETSET,      /* default TTL: SET k v GET EX t */
    FC_PX_MSET,        /* default TTL: MULTI, SET k v EX t..., EXEC (atomic) */
    FC_PX_MSETNX,      /* default TTL: a script (atomic) */
    FC_PX_CREATE,      /* INCR/APPEND/...: default TTL only when the key is created (script) */
    FC_PX_INVALIDATE,  /* SCAN MATCH + UNLINK, incrementally */
    FC_PX_FLUSHDB,     /* with key_prefix: INVALIDATE * */
    FC_PX_FLUSHALL,    /* with key_prefix: INVALIDATE * in every database */
    FC_PX_KEYS,        /* with key_prefix: pattern prefixed, keys unprefixed in the reply */
    FC_PX_SCAN,        /* with key_prefix: MATCH prefixed, keys unprefixed in the reply */
    FC_PX_DBSIZE,      /* with key_prefix: counted by SCAN */
    FC_PX_RANDOMKEY,   /* with key_prefix: a random key among the prefixed ones */
} fc_proxy_kind;

typedef struct fc_command {
    const char *name;      /* lower case, matched case-insensitively */
    int arity;             /* N: exactly N words with the name; -N: at least N */
    unsigned flags;
    int first_key, last_key, key_step; /* last_key -1: the last argument */
    fc_cmd_fn *exec;
    const char *flag_names; /* for COMMAND INFO, space separated */
    fc_proxy_kind proxy;
} fc_command;

/* Finds a row by name (case-insensitive); NULL if unknown. */
const fc_command *fc_command_lookup(const char *name, size_t len);

/* Fills core->cmd_index (fc_core_init does): every row of the table, by a hash of its name. */
void fc_command_index_build(fc_core *core);

/* The same row fc_command_lookup finds, through core's index: one hash and one compare instead of
 * a binary search (dispatch runs this for every request). Renames are not applied here. */
const fc_command *fc_command_find(const fc_core *core, const char *name, size_t len);

/* Resolves core->conf's rename_commands into core->renames (once, at start). Returns 0, or
 * -EINVAL with a message when an entry names no command or its new name is already a command.
 * With renames, dispatch finds a renamed command only under its new name, a disabled one not at
 * all: both answer as unknown commands under their own names. */
int fc_command_renames_apply(fc_core *core, char *err, size_t errlen);

/* The whole table, for COMMAND. */
const fc_command *fc_command_table(size_t *n);

/* One request as the client received it. */
typedef struct fc_request {
    const fc_arg *argv;
    int argc;               /* >= 1 */
    const char *frame;      /* raw multibulk bytes, or NULL (inline request) */
    size_t frame_len;
} fc_request;

/* Runs one request: unknown command and arity errors, local commands, then the backend (the
 * memory handlers when core->backend is NULL). Exactly one reply is queued on q. */
void fc_dispatch(fc_core *core, fc_session *sess, fc_replyq *q, const fc_request *req,
                 int64_t now_ms);

/* The buffer for a synchronous reply (created in the reply queue on first use). NULL on
 * out-of-memory. */
fc_buf *fc_ctx_out(fc_cmd_ctx *c);

/* The currently selected database of the context. */
fc_store *fc_ctx_db(const fc_cmd_ctx *c);

#endif
