/*
 * backend — the interface both drivers implement behind the one command table.
 *
 *   fc_dispatch: lookup ─► arity ─► local row? ─► row->exec          (daemon answers itself)
 *                                 └ memory?   ─► row->exec on storage/ (completes at once)
 *                                 └ redis     ─► backend->ops->exec    (completes later)
 *
 * exec must produce exactly one reply for the request: synchronously through fc_ctx_out(c), or
 * asynchronously through a slot from fc_ctx_defer(c), completed exactly once. Argument slices in
 * c->argv and c->frame are valid only during exec: copy what is needed later.
 * No libuv here: the redis backend's libuv code stays in backend_redis.c.
 */
#ifndef FC_SERVER_BACKEND_H
#define FC_SERVER_BACKEND_H

#include "server/commands.h"
#include "server/replyq.h"

typedef struct fc_backend fc_backend;

typedef struct fc_backend_ops {
    const char *name;
    void (*exec)(fc_backend *b, fc_cmd_ctx *c);
    /* Fails what is pending, releases everything, then calls done(arg). */
    void (*close)(fc_backend *b, void (*done)(void *arg), void *arg);
} fc_backend_ops;

struct fc_backend {
    const fc_backend_ops *ops;
};

#endif
