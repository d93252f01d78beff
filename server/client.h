/*
 * client — one connection: input buffer, parse loop, reply buffers, writes.
 *
 *   socket ──recv──► in ──fc_resp_parse──► argv ──fc_dispatch──► out ──send (sock.h)──► socket
 *
 * Memory mode parses a read's pipelined frames ahead (up to 16 at a time, fc_resp_peek), prefetches
 * their keys' buckets and entries (storage/prefetch.h) so the batch's cache misses overlap, then
 * runs them from those spans without parsing again; frames the lookahead refuses go through
 * fc_resp_parse one by one as before.
 *
 * Replies to one read batch are accumulated in `out` and flushed together, after every read
 * of the loop turn (the server's check handle, fc_server_mark_dirty): first with
 * fc_sock_try_write, and what the kernel does not take is handed to fc_sock_write, after swapping
 * `out` with `wbuf` so new replies never touch the bytes of a write in flight.
 *
 * Output limits: the pending output (out + wbuf + reply slots) is checked after every command and
 * every completion; past conf->client_output_buffer_limit the client is closed with a warning.
 * After a read batch whose replies leave more than the soft threshold (half the limit, at most
 * 8 MB) unsent, parsing stops (the rest of the input waits) and reading stops (out_paused)
 * until the writes drain below it: a client that pipelines faster than it reads is slowed down
 * instead of growing the daemon's memory. A client paused so with no write completing for
 * OUTPUT_STALL_MS (10 s) does not read at all and is closed (fc_client_check_stall, from cron).
 *
 * Fairness (one loop turn): a client runs at most TURN_ARGS request words (client.c: about 340 SETs
 * or 500 GETs) and reads at most TURN_READ bytes per loop turn, and once the turn is older than
 * FC_TURN_BUDGET_NS (core.h: 0.5 ms, looked at every 16 requests) a client with more requests
 * waits for the next one, so costly commands (SETs that evict) cut the batch earlier; eviction
 * itself stops at the same age and leaves the rest to the cron (memory.h). fc_sock calls the read
 * callback up to 32 times per readiness event, so without this one pipelining connection
 * (redis-cli --pipe) could run tens of thousands of requests in one turn while every other client
 * waits. Past the budget the client stops reading and joins the server's deferred list
 * (fc_server_defer); the server's idle handle calls fc_client_continue in the next turn, before
 * polling for I/O, which runs the input left over (in order, the same budget) and reads again once
 * it is used up.
 *
 * Ownership: the client owns its buffers; the buffer of a write in flight (wbuf) belongs to the
 * socket until write_cb; the struct embeds its socket and is freed only after close_cb AND after
 * its last pending reply slot completed (a proxied request may outlive the connection).
 */
#ifndef FC_SERVER_CLIENT_H
#define FC_SERVER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "protocol/buf.h"
#include "protocol/resp_parser.h"
#include "server/commands.h"
#include "server/replyq.h"
#include "server/session.h"
#include "server/sock.h"

#define FC_CLIENT_PEEK_ARGS 4 /* requests with more arguments are parsed one by one, unhinted */

struct fc_server;

typedef struct fc_client {
    fc_sock sock;
    struct fc_server *srv;
    fc_session sess;
    fc_buf in;
    fc_resp_parser parser;
    fc_buf out;     /* replies not yet handed to a write */
    fc_buf wbuf;    /* bytes of the write in flight */
    fc_replyq q;    /* orders replies that complete later (proxy) before `out` */
    bool writing;
    bool closing;
    bool handle_closed; /* close_cb ran; freed once no reply slot is pending */
    bool paused;        /* reading stopped: too many replies pending, or a barrier */
    bool out_paused;    /* reading stopped: unsent output above the soft threshold */
    int64_t progress_ms; /* when out_paused was set or a write last completed */
    bool in_process;    /* inside the parse loop (completions must not re-enter it) */
    bool dirty;         /* queued on the server's flush list */
    struct fc_client *dirty_next;
    bool deferred;      /* reading stopped: this turn's budget is spent (fc_client_continue) */
    struct fc_client *deferred_next;
    bool staged;        /* read, waiting to run with the turn's other reads (fc_server_stage) */
    struct fc_client *staged_next;
    uint64_t hint;      /* the bucket hint of its first request's key while staged */
    size_t peek_used;   /* the request at offset 0 of `in` that the staged hint parsed: its */
    size_t peek_argc;   /* length (0: none), arguments and spans, which process_input takes */
    fc_span peek[FC_CLIENT_PEEK_ARGS]; /* instead of parsing it again (take_peek) */
    size_t turn_args;   /* request words run, and bytes read, against this turn's budget */
    size_t turn_read;
    fc_arg *argv;
    size_t argv_cap;
} fc_client;

/* Recovers the client from its session (the command layer only sees sessions). */
#define FC_CLIENT_OF(s) ((fc_client *)((char *)(s) - offsetof(fc_client, sess)))

/* Allocates a client for an accepted connection (unix_domain: from the unix socket), polled on
 * the server's loop; the client owns fd from here (NULL, with fd closed, on failure). */
fc_client *fc_client_new(struct fc_server *srv, int fd, bool unix_domain);

/* Starts reading; registers the session. Returns 0 or a negative errno. */
int fc_client_start(fc_client *c);

/* Writes an error line, then closes once it is sent (maxclients refusal). */
void fc_client_reject(fc_client *c, const char *err);

/* Sends the replies that are ready. */
void fc_client_flush(fc_client *c);

/* Closes the connection; memory is released in the close callback. Idempotent. */
void fc_client_close(fc_client *c);

/* Closes every client that CLIENT KILL marked (FC_SESS_KILLED) while a command ran. */
void fc_client_close_killed(struct fc_core *core);

/* Shutdown: stops reading requests; replies already computed are still sent. */
void fc_client_stop_reading(fc_client *c);

/* True when every reply already in `out` was written (shutdown may close it); replies pending
 * upstream are not waited for. */
bool fc_client_drained(const fc_client *c);

/* A new loop turn for a client on the server's deferred list (already unlinked from it): resets
 * its budget, runs the requests left in its input (at most one budget's worth; past it the client
 * is deferred again) and starts reading again once they ran and nothing else holds it. Does nothing
 * for a closing client or while the server stops. */
void fc_client_continue(fc_client *c);

/* Staged clients (memory mode: a short read's requests wait for the end of the poll phase so
 * that the keys of every connection read in this turn are prefetched together): stage 0 parses
 * the waiting request when it is the only one (a pipeline's keys are prefetched as it runs),
 * keeps the parse for process_input and prefetches its key's bucket, stage 1 the bucket's first
 * entry, stage 2 the second when the first holds another key. */
void fc_client_hint(fc_client *c, int stage);

/* Runs a staged client's requests (already unlinked from the server's staged list) as its read
 * callback would have (the read emptied the socket), then queues its replies for the flush. */
void fc_client_run_staged(fc_client *c);

/* Closes a client paused on output whose writes made no progress for 10 s; true if it did. */
bool fc_client_check_stall(fc_client *c, int64_t now_ms);

/* Bytes of replies not yet written to the socket: out + wbuf + reply slots. */
size_t fc_client_pending_output(const fc_client *c);

#endif
