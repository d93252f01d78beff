/*
 * core — the daemon's state that commands see: databases, config, counters and the list of
 * client sessions. Plain C with no libuv, so the command layer stays free of the event loop;
 * server.c embeds one fc_core and fills it.
 */
#ifndef FC_SERVER_CORE_H
#define FC_SERVER_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "server/session.h"
#include "storage/store.h"

typedef struct fc_core_stats {
    uint64_t connections;          /* accepted */
    uint64_t rejected;             /* refused: maxclients */
    uint64_t commands;             /* processed */
    uint64_t net_in, net_out;      /* bytes */
    uint64_t expired_active;       /* reclaimed by the active cycle (also in store stats) */
} fc_core_stats;

typedef struct fc_core {
    const fc_conf *conf;
    fc_store **dbs;
    int ndb;
    int64_t default_ttl_ms;        /* 0: no default expiry */
    int64_t start_ms;
    int64_t start_us_mono;         /* for uptime */
    uint64_t next_client_id;
    uint64_t rng;                  /* xorshift state for RANDOMKEY */
    fc_core_stats stats;
    fc_session *sessions;          /* doubly linked, newest first */
    size_t nclients;
    bool shutdown_requested;       /* SHUTDOWN: the server stops after this batch */
    int tcp_port;                  /* the port actually bound (0 when none) */
    struct fc_backend *backend;    /* NULL: memory mode (handlers run on dbs) */
    char executable[256];
    char config_file[256];
} fc_core;

/* Creates the databases. Returns 0 or -ENOMEM. */
int fc_core_init(fc_core *core, const fc_conf *conf, int64_t now_ms);
void fc_core_deinit(fc_core *core);

/* Links a new session (assigning its id) into the list, or unlinks it. */
void fc_core_attach(fc_core *core, fc_session *s);
void fc_core_detach(fc_core *core, fc_session *s);

/* Next pseudo-random 64-bit number. */
uint64_t fc_core_random(fc_core *core);

#endif
