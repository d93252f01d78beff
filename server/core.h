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
#include "conf/ttl_table.h"
#include "server/session.h"
#include "storage/store.h"

typedef struct fc_core_stats {
    uint64_t connections;          /* accepted */
    uint64_t rejected;             /* refused: maxclients */
    uint64_t commands;             /* processed */
    uint64_t net_in, net_out;      /* bytes */
    uint64_t expired_active;       /* reclaimed by the active cycle (also in store stats) */
    uint64_t cron_max_ns;          /* longest cron tick (background work of one loop turn) */
    uint64_t cron_over_1ms;        /* cron ticks that took longer than 1 ms */
    uint64_t turn_max_ns;          /* longest loop turn: its callbacks, not its wait for I/O */
    uint64_t turn_over_1ms;        /* loop turns that took longer than 1 ms */
    uint64_t turn_over_1ms_faulted; /* of those, turns with a page fault (-DFC_TURN_CPU only) */
} fc_core_stats;

struct fc_command;

#define FC_CMD_INDEX_SLOTS 256 /* open addressing over the command table; a power of two */

/* One resolved [server] rename_commands entry: `cmd` answers to `name` (lower case, len bytes),
 * or to nothing at all when len is 0 (disabled); its own name is unknown either way. */
typedef struct fc_rename {
    const struct fc_command *cmd;
    char name[FC_CONF_CMD_NAME];
    size_t len;
} fc_rename;

/* How long one loop turn may run clients' requests (and the evictions they cause) before the
 * rest waits for the next turn: the turn's age past this, from turn_start_ns (client.h,
 * "Fairness"). */
#define FC_TURN_BUDGET_NS (500 * 1000)

typedef struct fc_core {
    const fc_conf *conf;
    fc_store **dbs;
    int ndb;
    int64_t default_ttl_ms;        /* [cache] ttl; 0: no default expiry */
    fc_ttl_table ttl_prefixes;     /* [ttl]: per-prefix defaults over default_ttl_ms */
    int64_t start_ms;
    int64_t start_us_mono;         /* for uptime */
    uint64_t next_client_id;
    uint64_t rng;                  /* xorshift state for RANDOMKEY */
    fc_core_stats stats;
    fc_session *sessions;          /* doubly linked, newest first */
    size_t nclients;
    bool shutdown_requested;       /* SHUTDOWN: the server stops after this batch */
    unsigned kills;                /* sessions marked FC_SESS_KILLED, not closed yet */
    bool bg_kick;                  /* background store work was queued: run the cron soon */
    bool evict_pending;            /* a write left memory over maxmemory: the cron evicts on */
    bool turn_evicted;             /* a write evicted in this loop turn (reset at its start) */
    uint64_t turn_start_ns;        /* this loop turn's first callback (uv_hrtime), or 0 */
    int tcp_port;                  /* the port actually bound (0 when none) */
    struct fc_backend *backend;    /* NULL: memory mode (handlers run on dbs) */
    struct fc_nstab *ns;           /* INFO namespaces counters (memory mode only), else NULL */
    fc_rename renames[FC_CONF_MAX_RENAMES]; /* fc_command_renames_apply; nrenames 0: none */
    uint8_t cmd_index[FC_CMD_INDEX_SLOTS]; /* fc_command_index_build: row + 1 by name hash */
    int nrenames;
    char executable[256];
    char config_file[256];
} fc_core;

/* Creates the databases. Returns 0 or -ENOMEM. */
int fc_core_init(fc_core *core, const fc_conf *conf, int64_t now_ms);
void fc_core_deinit(fc_core *core);

/* The default TTL of a write to key[0..len) that names none, in ms (0: no expiry): the longest
 * [ttl] prefix of the key, else [cache] ttl. No allocation; cheap when [ttl] is empty. */
static inline int64_t fc_core_key_ttl_ms(const fc_core *core, const char *key, size_t len)
{
    int64_t ms;
    if (core->ttl_prefixes.n == 0 || !fc_ttl_table_lookup(&core->ttl_prefixes, key, len, &ms))
        return core->default_ttl_ms;
    return ms;
}

/* Applies the TTL settings of conf ([cache] ttl and [ttl]) to the core. On -ENOMEM nothing
 * changes. */
int fc_core_set_ttls(fc_core *core, const fc_conf *conf);

/* Configures the [ttl] prefixes and [cache] namespaces of conf as namespaces of core->ns (new
 * ones are added; none is removed). Returns 0 (also with no table: proxy mode) or -ENOMEM. */
int fc_core_set_namespaces(fc_core *core, const fc_conf *conf);

/* Links a new session (assigning its id) into the list, or unlinks it. */
void fc_core_attach(fc_core *core, fc_session *s);
void fc_core_detach(fc_core *core, fc_session *s);

/* Sets the session's initial authentication as Redis does for a new connection or RESET:
 * authenticated exactly when no requirepass is configured. */
void fc_core_default_auth(const fc_core *core, fc_session *s);

/* True while the session must AUTH before running commands other than AUTH/HELLO/QUIT/RESET
 * (a password is configured now and the session never authenticated). */
bool fc_core_auth_required(const fc_core *core, const fc_session *s);

/* Next pseudo-random 64-bit number. */
uint64_t fc_core_random(fc_core *core);

#endif
