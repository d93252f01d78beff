/*
 * server — event loop, listeners, cron and signals (see server.h).
 *
 * The cron timer runs every 100 ms (Redis's hz 10). Each tick works on the eviction a write left
 * over (memory.h), active expiry, and freeing what FLUSHDB/FLUSHALL/INVALIDATE detached plus
 * background INVALIDATE jobs (store.h), in small steps with a clock check between them, so no
 * loop iteration stalls clients for long; when the budget ran out with work left, the next tick
 * comes after 1 ms instead of 100 ms. The budget is 0.7 ms from the start of the tick's loop turn
 * (whose clients may have run first; at least CRON_MIN_NS for the tick itself), so that the
 * turn, whose last step may end past it (a reclaim step: ~50-70 µs at 10M keys, once 0.17 ms
 * past a 0.8 ms budget while freeing 5M invalidated keys), stays under 1 ms.
 */
#include "server/server.h"

#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/access.h"
#include "server/backend_redis.h"
#include "server/client.h"
#include "server/log.h"
#include "server/memory.h"
#include "server/reload.h"
#include "server/util.h"

#define CRON_MS 100
#define CRON_BUDGET_NS (700 * 1000)
#define CRON_MIN_NS (150 * 1000)
#define EXPIRE_STEP 64
#define RECLAIM_STEP 1024      /* entries freed (or empty buckets passed) per step */
#define SHUTDOWN_GRACE_MS 1500 /* how long a stop waits for computed replies to be written */
#define DRAIN_POLL_MS 10

/* Protected mode (access.h): a TCP peer other than loopback while no password is set. */
static bool protected_refused(fc_server *srv, fc_client *c)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (!srv->conf->protected_mode || srv->conf->requirepass[0])
        return false;
    if (getpeername(c->sock.fd, (struct sockaddr *)&ss, &len) != 0)
        return true;
    return fc_access_denied(srv->conf, (const struct sockaddr *)&ss);
}

static void on_connection(fc_listener *l, int fd)
{
    fc_server *srv = l->data;
    if (fd < 0) {
        fc_log_warning("Accepting client connection: %s", uv_strerror(fd));
        return;
    }
    fc_client *c = fc_client_new(srv, fd, l->unix_domain);
    if (!c) {
        fc_log_warning("Accepting client connection: out of memory");
        return;
    }
    srv->core.stats.connections++;
    if ((int64_t)srv->core.nclients >= srv->conf->maxclients) {
        srv->core.stats.rejected++;
        fc_client_reject(c, "ERR max number of clients reached");
        return;
    }
    if (!l->unix_domain && protected_refused(srv, c)) {
        fc_client_reject(c, fc_access_denied_msg);
        return;
    }
    if (fc_client_start(c) != 0)
        fc_client_close(c);
}

/* "-::1" in Redis's bind means: skip this address if it is unavailable. */
static int listen_tcp(fc_server *srv, const char *addr, int port)
{
    bool optional = addr[0] == '-';
    const char *a = addr + optional;
    struct sockaddr_storage ss;
    int r = strchr(a, ':') ? uv_ip6_addr(a, port, (struct sockaddr_in6 *)&ss)
                           : uv_ip4_addr(a, port, (struct sockaddr_in *)&ss);
    if (r != 0) {
        fc_log_warning("Invalid bind address '%s'", a);
        return r;
    }
    fc_listener *l = &srv->listeners[srv->nlisteners];
    r = fc_listener_tcp(srv->loop, l, (const struct sockaddr *)&ss, 511, on_connection);
    l->data = srv;
    srv->nlisteners++;
    if (r != 0) {
        fc_log_warning("Could not create server TCP listening socket %s:%d: %s", a, port,
                       uv_strerror(r));
        return optional ? 0 : r;
    }
    return 0;
}

static int listen_unix(fc_server *srv, const char *path)
{
    srv->has_unix = true;
    unlink(path);
    int r = fc_listener_unix(srv->loop, &srv->unix_listener, path, 511, on_connection);
    srv->unix_listener.data = srv;
    if (r == 0 && srv->conf->unixsocketperm && chmod(path, (mode_t)srv->conf->unixsocketperm))
        r = -errno; /* [server] unixsocketperm */
    if (r != 0)
        fc_log_warning("Could not create server unix socket %s: %s", path, uv_strerror(r));
    return r;
}

static void close_idle_clients(fc_server *srv, int64_t now_ms)
{
    int64_t limit = srv->conf->timeout * 1000;
    fc_session *s = srv->core.sessions;
    while (s) {
        fc_session *next = s->next;
        if (fc_client_check_stall(FC_CLIENT_OF(s), now_ms)) {
            s = next;
            continue;
        }
        if (limit > 0 && now_ms - s->last_ms > limit) {
            fc_log_verbose("Closing idle client id=%llu", (unsigned long long)s->id);
            fc_client_close(FC_CLIENT_OF(s));
        }
        s = next;
    }
}

/* When this tick's work must stop: CRON_BUDGET_NS after its loop turn began (clients may have used
 * part of it), yet never less than CRON_MIN_NS from now. */
static uint64_t cron_deadline(const fc_server *srv)
{
    uint64_t now = uv_hrtime(), end = srv->core.turn_start_ns + CRON_BUDGET_NS;
    return end > now + CRON_MIN_NS ? end : now + CRON_MIN_NS;
}

/* Eviction a write left over, active expiry and background store work, until the deadline.
 * Returns true if work was left over. */
static bool background_work(fc_server *srv, int64_t now_ms, uint64_t deadline)
{
    if (srv->core.evict_pending && fc_memory_evict_step(&srv->core, now_ms, deadline))
        return true;
    int ndb = srv->core.ndb, idle_dbs = 0;
    while (idle_dbs < ndb) {
        if (uv_hrtime() >= deadline)
            return true;
        fc_store *db = srv->core.dbs[srv->expire_db];
        size_t expired = 0;
        if (fc_store_volatile_size(db) > 0)
            expired = fc_store_expire_cycle(db, now_ms, EXPIRE_STEP);
        bool reclaiming = fc_store_reclaim_step(db, RECLAIM_STEP); /* lazy free, INVALIDATE jobs */
        srv->core.stats.expired_active += expired;
        /* Stay on a db while it yields expired keys or frees; else move on. */
        if (expired * 4 < EXPIRE_STEP && !reclaiming) {
            srv->expire_db = (srv->expire_db + 1) % ndb;
            idle_dbs++;
        } else {
            idle_dbs = 0;
        }
    }
    return false;
}

static void flush_dirty(fc_server *srv);

/* INFO's fc_cron_max_us and fc_cron_over_1ms: how long the cron held the loop. */
static void account_tick(fc_server *srv, uint64_t ns)
{
    fc_core_stats *st = &srv->core.stats;
    if (ns > st->cron_max_ns)
        st->cron_max_ns = ns;
    st->cron_over_1ms += ns > 1000 * 1000;
}

uint64_t fc_server_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#ifdef FC_TURN_CPU
static uint64_t thread_faults(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

static fc_turn_probe probe_now(const fc_server *srv)
{
    const fc_core_stats *st = &srv->core.stats;
    return (fc_turn_probe){fc_server_thread_cpu_ns(), thread_faults(), st->commands,
                           fc_memory_evicted(&srv->core), st->net_in, st->connections,
                           srv->cron_ns};
}

void fc_server_probe_begin(fc_server *srv)
{
    srv->turn0 = probe_now(srv);
}

/* A turn over 1 ms: counted when it took a page fault, and logged with what it did. */
static void probe_long_turn(fc_server *srv, uint64_t ns)
{
    fc_turn_probe a = srv->turn0, b = probe_now(srv);
    srv->core.stats.turn_over_1ms_faulted += b.faults != a.faults;
    fc_log_warning("Long loop turn: %llu us of CPU, %llu us wall; %llu commands, %llu evictions, "
                   "%llu page faults, %llu bytes read, %llu connections accepted, %llu us of cron",
                   (unsigned long long)(ns / 1000),
                   (unsigned long long)((uv_hrtime() - srv->core.turn_start_ns) / 1000),
                   (unsigned long long)(b.commands - a.commands),
                   (unsigned long long)(b.evicted - a.evicted),
                   (unsigned long long)(b.faults - a.faults),
                   (unsigned long long)(b.net_in - a.net_in),
                   (unsigned long long)(b.connections - a.connections),
                   (unsigned long long)((b.cron_ns - a.cron_ns) / 1000));
}
#endif

/* Runs once per loop turn, just before the loop polls again: the turn's work started at its first
 * callback (fc_server_turn_begin) and every client waited for all of it. (libuv's idle-time
 * metrics would time every turn, but cost an extra epoll_wait per blocking poll.) */
static void on_meter(uv_prepare_t *h)
{
    fc_server *srv = h->data;
    if (!srv->core.turn_start_ns)
        return;
#ifdef FC_TURN_CPU
    uint64_t ns = fc_server_thread_cpu_ns() - srv->turn0.cpu_ns;
    if (ns > 1000 * 1000)
        probe_long_turn(srv, ns);
#else
    uint64_t ns = uv_hrtime() - srv->core.turn_start_ns;
#endif
    srv->core.turn_start_ns = 0;
    fc_core_stats *st = &srv->core.stats;
    if (ns > st->turn_max_ns)
        st->turn_max_ns = ns;
    st->turn_over_1ms += ns > 1000 * 1000;
}

/* Listeners that ran out of file descriptors (sock.c) try again once per tick. */
static void resume_listeners(fc_server *srv)
{
    for (int i = 0; i < srv->nlisteners && !srv->stopping; i++)
        fc_listener_resume(&srv->listeners[i]);
    if (srv->has_unix && !srv->stopping)
        fc_listener_resume(&srv->unix_listener);
}

static void on_cron(uv_timer_t *t)
{
    fc_server *srv = t->data;
    fc_server_turn_begin(srv);
    uint64_t t0 = uv_hrtime();
    int64_t now = fc_time_ms();
    close_idle_clients(srv, now);
    resume_listeners(srv);
    bool more = background_work(srv, now, cron_deadline(srv));
    account_tick(srv, uv_hrtime() - t0);
#ifdef FC_TURN_CPU
    srv->cron_ns += uv_hrtime() - t0;
#endif
    uv_timer_start(&srv->cron, on_cron, more ? 1 : CRON_MS, 0);
    flush_dirty(srv); /* replies the work completed (INVALIDATE jobs): the poll may block */
}

/* Writes the replies of every client queued by fc_server_mark_dirty. */
static void flush_dirty(fc_server *srv)
{
    if (srv->core.bg_kick) { /* an INVALIDATE left work for the cron: start it now */
        srv->core.bg_kick = false;
        uv_timer_start(&srv->cron, on_cron, 0, 0);
    }
    while (srv->dirty) {
        fc_client *c = srv->dirty;
        srv->dirty = c->dirty_next;
        c->dirty = false;
        c->dirty_next = NULL;
        fc_client_flush(c);
    }
}

/* Prefetches the keys of every staged client (all buckets, then all first entries, then the
 * second entries of chains whose first is another key: no command runs in between, so no hint
 * goes stale), then runs them in the order they were read. A lone
 * client has nothing to overlap with (its own pipeline is prefetched as it runs): no hint. */
static void run_staged(fc_server *srv)
{
    for (int stage = 0; stage < 3 && srv->staged && srv->staged->staged_next; stage++)
        for (fc_client *c = srv->staged; c; c = c->staged_next)
            fc_client_hint(c, stage);
    while (srv->staged) {
        fc_client *c = srv->staged;
        srv->staged = c->staged_next;
        c->staged = false;
        c->staged_next = NULL;
        fc_client_run_staged(c);
    }
    srv->staged_tail = &srv->staged;
}

static void on_flush_check(uv_check_t *h)
{
    fc_server *srv = h->data;
    run_staged(srv);
    flush_dirty(srv);
    uv_check_stop(&srv->flusher);
}

void fc_server_mark_dirty(fc_server *srv, fc_client *c)
{
    if (c->dirty)
        return;
    c->dirty = true;
    c->dirty_next = srv->dirty;
    srv->dirty = c;
    if (!srv->stopped)
        uv_check_start(&srv->flusher, on_flush_check);
}

void fc_server_stage(fc_server *srv, fc_client *c)
{
    if (c->staged)
        return;
    c->staged = true;
    c->staged_next = NULL;
    *srv->staged_tail = c;
    srv->staged_tail = &c->staged_next;
    if (!srv->stopped)
        uv_check_start(&srv->flusher, on_flush_check);
}

void fc_server_unstage(fc_server *srv, fc_client *c)
{
    for (fc_client **p = &srv->staged; *p; p = &(*p)->staged_next) {
        if (*p == c) {
            *p = c->staged_next;
            if (!*p)
                srv->staged_tail = p;
            break;
        }
    }
    c->staged = false;
    c->staged_next = NULL;
}

void fc_server_unmark_dirty(fc_server *srv, fc_client *c)
{
    for (fc_client **p = &srv->dirty; *p; p = &(*p)->dirty_next) {
        if (*p == c) {
            *p = c->dirty_next;
            break;
        }
    }
    c->dirty = false;
    c->dirty_next = NULL;
}

/* Each deferred client goes on for one more budget; the ones deferred again (pushed on the
 * emptied list meanwhile) wait for the next turn. The replies leave at once: this turn's poll may
 * block (nothing else to do, the idle handle stopped) before the check phase would flush them. */
static void on_resume_idle(uv_idle_t *h)
{
    fc_server *srv = h->data;
    fc_server_turn_begin(srv);
    fc_client *list = srv->deferred;
    srv->deferred = NULL;
    while (list) {
        fc_client *c = list;
        list = c->deferred_next;
        c->deferred_next = NULL;
        c->deferred = false;
        fc_client_continue(c);
    }
    flush_dirty(srv);
    if (!srv->deferred)
        uv_idle_stop(&srv->resumer);
}

void fc_server_defer(fc_server *srv, fc_client *c)
{
    if (c->deferred)
        return;
    c->deferred = true;
    c->deferred_next = srv->deferred;
    srv->deferred = c;
    if (!srv->stopped)
        uv_idle_start(&srv->resumer, on_resume_idle);
}

void fc_server_undefer(fc_server *srv, fc_client *c)
{
    for (fc_client **p = &srv->deferred; *p; p = &(*p)->deferred_next) {
        if (*p == c) {
            *p = c->deferred_next;
            break;
        }
    }
    c->deferred = false;
    c->deferred_next = NULL;
}

static void on_signal(uv_signal_t *h, int signum)
{
    fc_server *srv = h->data;
    if (signum == SIGHUP) {
        fc_reload(srv);
        return;
    }
    fc_log_warning("Received %s, scheduling shutdown...", signum == SIGINT ? "SIGINT" : "SIGTERM");
    fc_server_stop(srv);
}

static int start_listeners(fc_server *srv)
{
    const fc_conf *cf = srv->conf;
    int r = 0;
    /* The unix socket first (with its permissions): once the TCP port accepts, everything the
     * daemon listens on is ready, so a client that waits for the port may use either. */
    if (cf->unixsocket[0])
        r = listen_unix(srv, cf->unixsocket);
    if (r == 0 && cf->port > 0) {
        for (int i = 0; i < cf->nbind && r == 0; i++)
            r = listen_tcp(srv, cf->bind[i], cf->port);
    }
    return r;
}

/*
 * Turns off glibc's automatic return of freed memory (M_TRIM_THRESHOLD at its int maximum, 2 GB).
 * glibc gives memory back only from the top of its heap, all at once: when a free() merges with
 * the top chunk and the top passes the threshold, the whole top goes back in one brk(). After a
 * mass expiry (or flush, or invalidation) the last frees merge hundreds of MB of free memory
 * into the top and the kernel unmaps all of it inside that one free(): cron ticks of ~4.3 ms at
 * 10M keys (perf: unmap_page_range, page freeing, memcg accounting). Handing it back in slices
 * with malloc_trim cost ~1 ms per call (it walks every free chunk), so freed memory now stays in
 * the process and is reused by later writes (README, "Memory"). Large buffers (>= 128 KB) are
 * still mmap()ed and unmapped when freed: setting the threshold also fixes glibc's mmap
 * threshold at its 128 KB default.
 */
static void keep_freed_memory(void)
{
#ifdef __GLIBC__
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

int fc_server_init(fc_server *srv, uv_loop_t *loop, const fc_conf *conf)
{
    memset(srv, 0, sizeof(*srv));
    srv->loop = loop;
    srv->conf = conf;
    if (fc_core_init(&srv->core, conf, fc_time_ms()) != 0)
        return UV_ENOMEM;
    keep_freed_memory();
    char err[256];
    if (fc_command_renames_apply(&srv->core, err, sizeof(err)) != 0) {
        fc_log_warning("%s", err);
        return UV_EINVAL;
    }
    srv->core.tcp_port = conf->port;
    if (conf->driver == FC_DRIVER_REDIS) {
        srv->core.backend = fc_backend_redis_new(loop, &srv->core, conf);
        if (!srv->core.backend)
            return UV_ENOMEM;
    }
    snprintf(srv->core.config_file, sizeof(srv->core.config_file), "%s", conf->path);
    uv_timer_init(loop, &srv->cron);
    srv->cron.data = srv;
    uv_check_init(loop, &srv->flusher);
    srv->flusher.data = srv;
    srv->staged = NULL;
    srv->staged_tail = &srv->staged;
    uv_idle_init(loop, &srv->resumer);
    srv->resumer.data = srv;
    uv_prepare_init(loop, &srv->meter);
    srv->meter.data = srv;
    uv_prepare_start(&srv->meter, on_meter);
    uv_signal_init(loop, &srv->sigint);
    uv_signal_init(loop, &srv->sigterm);
    uv_signal_init(loop, &srv->sighup);
    uv_timer_init(loop, &srv->drain);
    srv->sigint.data = srv->sigterm.data = srv->sighup.data = srv->drain.data = srv;
    /* Signals are caught before anything listens: a SIGTERM sent as soon as the port accepts is
     * a clean shutdown, not a kill by the default action. */
    uv_signal_start(&srv->sigint, on_signal, SIGINT);
    uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
    uv_signal_start(&srv->sighup, on_signal, SIGHUP);
    int r = start_listeners(srv);
    if (r != 0) {
        fc_server_stop(srv);
        uv_run(loop, UV_RUN_DEFAULT);
        return r;
    }
    uv_timer_start(&srv->cron, on_cron, CRON_MS, 0);
    return 0;
}

int fc_server_run(fc_server *srv)
{
    if (srv->conf->driver == FC_DRIVER_REDIS)
        fc_log_notice("upstream: %s%s%s:%d db %d, %d connection(s) per db and protocol%s%s",
                      srv->conf->redis_unixsocket[0] ? "unix socket " : "",
                      srv->conf->redis_unixsocket[0] ? srv->conf->redis_unixsocket : "",
                      srv->conf->redis_unixsocket[0] ? "" : srv->conf->redis_host,
                      srv->conf->redis_port, srv->conf->redis_db, srv->conf->redis_connections,
                      srv->conf->redis_key_prefix[0] ? ", key prefix " : "",
                      srv->conf->redis_key_prefix);
    fc_log_notice("fastcached %s ready to accept connections (driver %s, port %d%s%s)", FC_VERSION,
                  fc_conf_driver_name(srv->conf->driver), srv->conf->port,
                  srv->conf->unixsocket[0] ? ", unix socket " : "", srv->conf->unixsocket);
    uv_run(srv->loop, UV_RUN_DEFAULT);
    return 0;
}

static void close_if_open(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void fc_server_set_reload(fc_server *srv, fc_conf *conf, int argc, char **argv)
{
    srv->live_conf = conf;
    srv->argc = argc;
    srv->argv = argv;
}

/* The end of a stop: every connection and handle closed, so the loop runs out. */
static void finish_stop(fc_server *srv)
{
    srv->stopped = true;
    while (srv->core.sessions)
        fc_client_close(FC_CLIENT_OF(srv->core.sessions));
    if (srv->core.backend) {
        /* Fails what is still in flight upstream; the clients waiting for it are then freed. */
        srv->core.backend->ops->close(srv->core.backend, NULL, NULL);
        srv->core.backend = NULL;
    }
    close_if_open((uv_handle_t *)&srv->cron);
    close_if_open((uv_handle_t *)&srv->flusher);
    close_if_open((uv_handle_t *)&srv->resumer);
    close_if_open((uv_handle_t *)&srv->meter);
    close_if_open((uv_handle_t *)&srv->sigint);
    close_if_open((uv_handle_t *)&srv->sigterm);
    close_if_open((uv_handle_t *)&srv->sighup);
    close_if_open((uv_handle_t *)&srv->drain);
}

static bool all_drained(fc_server *srv)
{
    for (fc_session *s = srv->core.sessions; s; s = s->next)
        if (!fc_client_drained(FC_CLIENT_OF(s)))
            return false;
    return true;
}

static void on_drain(uv_timer_t *t)
{
    fc_server *srv = t->data;
    bool done = all_drained(srv);
    if (!done && uv_now(srv->loop) < srv->drain_deadline)
        return;
    if (!done)
        fc_log_warning("Closing the clients whose replies could not be sent within %d ms",
                       SHUTDOWN_GRACE_MS);
    uv_timer_stop(t);
    finish_stop(srv);
}

void fc_server_stop(fc_server *srv)
{
    if (srv->stopping)
        return;
    srv->stopping = true;
    for (int i = 0; i < srv->nlisteners; i++)
        fc_listener_close(&srv->listeners[i]);
    if (srv->has_unix)
        fc_listener_close(&srv->unix_listener);
    for (fc_session *s = srv->core.sessions; s; s = s->next)
        fc_client_stop_reading(FC_CLIENT_OF(s));
    /* Background INVALIDATEs finish now, so their replies are among those the drain sends. */
    for (int i = 0; srv->core.backend == NULL && i < srv->core.ndb; i++)
        while (fc_store_reclaim_step(srv->core.dbs[i], 1u << 16))
            ;
    uv_update_time(srv->loop);
    srv->drain_deadline = uv_now(srv->loop) + SHUTDOWN_GRACE_MS;
    uv_timer_start(&srv->drain, on_drain, 0, DRAIN_POLL_MS);
}

void fc_server_deinit(fc_server *srv)
{
    if (srv->has_unix && srv->conf->unixsocket[0])
        unlink(srv->conf->unixsocket);
    fc_core_deinit(&srv->core);
}
