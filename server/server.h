/*
 * server — the event loop: listeners (TCP on each bind address, optional unix socket), client
 * accept, the cron timer (active expiry, incremental rehash, idle timeouts) and signals.
 *
 * Lifecycle: fc_server_init() binds and listens; fc_server_run() runs the loop until SIGINT,
 * SIGTERM or SHUTDOWN, then closes every handle so uv_loop_close() succeeds; fc_server_deinit()
 * frees the rest.
 *
 * Stopping drains: the listeners close and no client is read any more, but replies already
 * computed are still written, for up to SHUTDOWN_GRACE_MS (server.c); then every connection is
 * closed. SIGHUP reloads the config file (server/reload.h) when fc_server_set_reload was called.
 */
#ifndef FC_SERVER_SERVER_H
#define FC_SERVER_SERVER_H

#include <stdbool.h>
#include <uv.h>

#include "conf/conf.h"
#include "server/core.h"
#include "server/sock.h"

#ifdef FC_TURN_CPU
/* What a -DFC_TURN_CPU build snapshots at the start of each loop turn, to log what a turn over
 * 1 ms did ("Long loop turn" warnings; README, "Latency"). */
typedef struct fc_turn_probe {
    uint64_t cpu_ns, faults, commands, evicted, net_in, connections, cron_ns;
} fc_turn_probe;
#endif

typedef struct fc_server {
    uv_loop_t *loop;
    const fc_conf *conf;
    fc_core core;
    fc_listener listeners[FC_CONF_MAX_BIND * 2];
    int nlisteners;
    fc_listener unix_listener;
    bool has_unix;
    uv_timer_t cron;
    uv_prepare_t meter;          /* ends each loop turn's timing (INFO fc_turn_max_us) */
#ifdef FC_TURN_CPU
    fc_turn_probe turn0;         /* the counters when this loop turn began */
    uint64_t cron_ns;            /* the cron's wall time so far */
#endif
    uv_check_t flusher;          /* flushes clients whose replies completed during this turn */
    struct fc_client *dirty;     /* those clients, linked through dirty_next */
    uv_idle_t resumer;           /* active while clients are deferred: continues them next turn */
    struct fc_client *deferred;  /* clients whose turn budget ran out (through deferred_next) */
    struct fc_client *staged;    /* clients read in this poll, to run at its end (staged_next) */
    struct fc_client **staged_tail;
    uv_signal_t sigint, sigterm, sighup;
    bool stopping;               /* draining: no accepts, no reads, pending writes go on */
    bool stopped;                /* every handle closed (or closing) */
    uv_timer_t drain;            /* polls the clients while draining */
    uint64_t drain_deadline;     /* uv_now() value at which the drain gives up */
    fc_conf *live_conf;          /* the same struct as conf, writable, for SIGHUP (or NULL) */
    int argc;                    /* the command line, to re-read the file with its flags */
    char **argv;
    int expire_db; /* next db for the active expiry cycle */
} fc_server;

/* Binds and listens. Returns 0, or a negative uv error after logging why. */
int fc_server_init(fc_server *srv, uv_loop_t *loop, const fc_conf *conf);

/* Runs until a stop; returns 0 after a clean shutdown. */
int fc_server_run(fc_server *srv);

/* Queues the client for one flush after this loop turn's I/O (replies completed by upstream
 * callbacks leave in one write instead of one per reply). */
void fc_server_mark_dirty(fc_server *srv, struct fc_client *c);

/* Removes the client from the flush queue (before it is freed). */
void fc_server_unmark_dirty(fc_server *srv, struct fc_client *c);

/* Queues a client whose short read left requests to run at the end of this poll phase, after
 * the keys of every queued client were prefetched together (fc_client_hint): with one request
 * per connection (no pipelining) the lookups' cache misses then overlap across connections, as
 * a pipeline's do within one. In the order of the reads. */
void fc_server_stage(fc_server *srv, struct fc_client *c);

/* Removes the client from the staged list (before it is freed). */
void fc_server_unstage(fc_server *srv, struct fc_client *c);

/* The calling thread's CPU time in ns, for builds with -DFC_TURN_CPU (a diagnostic: a system
 * call, ~0.4 µs here, twice per turn): INFO fc_turn_max_us then counts the turn's CPU time, which
 * leaves out the time the daemon was preempted by other processes. */
uint64_t fc_server_thread_cpu_ns(void);

#ifdef FC_TURN_CPU
/* Snapshots the thread's CPU time, its page faults (getrusage: a first touch of memory can take
 * milliseconds in a VM whose host backs guest memory lazily) and the counters a long turn is
 * logged with. INFO fc_turn_over_1ms_faulted counts the long turns that took a page fault. */
void fc_server_probe_begin(fc_server *srv);
#endif

/* Notes the start of this loop turn's work (the first client read or write, timer or idle
 * callback since the loop last polled): INFO fc_turn_max_us is the longest span from it to the
 * next poll. A clock read once per turn. */
static inline void fc_server_turn_begin(fc_server *srv)
{
    if (!srv->core.turn_start_ns) {
        srv->core.turn_start_ns = uv_hrtime();
        srv->core.turn_evicted = false;
#ifdef FC_TURN_CPU
        fc_server_probe_begin(srv);
#endif
    }
}

/* Queues the client to go on in the next loop turn (fc_client_continue, from an idle handle,
 * before that turn polls for I/O). Sets c->deferred; idempotent. */
void fc_server_defer(fc_server *srv, struct fc_client *c);

/* Removes the client from the deferred list (before it is freed). */
void fc_server_undefer(fc_server *srv, struct fc_client *c);

/* Starts a clean stop: no more accepts, clients drained (bounded) then closed, handles closed.
 * Idempotent. */
void fc_server_stop(fc_server *srv);

/* Enables SIGHUP reload: conf must be the struct given to fc_server_init (the server writes the
 * runtime settings into it); argc/argv are the command line it came from and must outlive the
 * server. Call after fc_server_init. */
void fc_server_set_reload(fc_server *srv, fc_conf *conf, int argc, char **argv);

void fc_server_deinit(fc_server *srv);

#endif
