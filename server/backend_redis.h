/*
 * backend_redis — the proxy driver (`driver = redis`): serves the command table by forwarding to
 * an upstream Redis through a small pool of fc_upstream connections.
 */
#ifndef FC_SERVER_BACKEND_REDIS_H
#define FC_SERVER_BACKEND_REDIS_H

#include <uv.h>

#include "server/backend.h"

/* Creates the backend; connections open when first needed. NULL on out-of-memory. */
fc_backend *fc_backend_redis_new(uv_loop_t *loop, fc_core *core, const fc_conf *conf);

#endif
