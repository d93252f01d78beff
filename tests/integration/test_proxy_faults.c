/*
 * test_proxy_faults — the redis driver when the upstream fails: down at start, killed with -9 and
 * restarted under pipelined load, stalled by DEBUG SLEEP, and a client that leaves with 1000
 * requests in flight. The rule checked everywhere: every request gets its own reply or an
 * `-ERR upstream ...` error, in order, within the request timeout plus a margin; nothing hangs,
 * nothing is answered with another request's reply, and the daemon exits cleanly afterwards.
 *
 * The upstream here must come back on the same port, so these tests start redis-server
 * themselves (start_redis_at) instead of through fc_start_redis, which picks a fresh port.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/daemon_util.h"

#define IO_MS 5000
#define MAX_UP 4

static pid_t up_pids[MAX_UP];

static void faults_fini(void)
{
    dt_fini();
    for (int i = 0; i < MAX_UP; i++) {
        if (up_pids[i] > 0) {
            kill(up_pids[i], SIGKILL);
            waitpid(up_pids[i], NULL, 0);
            up_pids[i] = 0;
        }
    }
}

TestSuite(test_proxy_faults, .fini = faults_fini, .timeout = 60);

/* ---- helpers ------------------------------------------------------------------------------ */

/* Starts redis-server on exactly this port (slot names the pid slot) without waiting. */
static void spawn_redis_at(int slot, int port, const char *extra)
{
    char portbuf[16];
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test: no orphans */
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(nul, 2);
        if (chdir("/tmp") != 0)
            _exit(127);
        execlp("redis-server", "redis-server", "--port", portbuf, "--bind", "127.0.0.1", "--save",
               "", "--appendonly", "no", "--daemonize", "no", "--enable-debug-command",
               extra ? extra : "no", (char *)NULL);
        _exit(127);
    }
    up_pids[slot] = pid;
}

/* Waits until redis-server answers on port (10 s). */
static void wait_redis(int port)
{
    int64_t deadline = dt_now_ms() + 10000;
    for (;;) {
        int fd = fc_connect(port);
        if (fd >= 0) {
            close(fd);
            return;
        }
        cr_assert_lt(dt_now_ms(), deadline, "redis-server on %d did not start", port);
        usleep(5000); /* polling interval */
    }
}

static void start_redis_at(int slot, int port, const char *debug)
{
    spawn_redis_at(slot, port, debug);
    wait_redis(port);
}

/* Starts fastcached in front of 127.0.0.1:port with the given timeouts (ms). */
static void start_proxy_at(fc_proc *d, int port, const char *connect_ms, const char *request_ms)
{
    char p[16];
    snprintf(p, sizeof(p), "%d", port);
    const char *args[] = {"--driver", "redis", "--redis-host", "127.0.0.1", "--redis-port", p,
                          "--redis-connect-timeout-ms", connect_ms, "--redis-request-timeout-ms",
                          request_ms, NULL};
    dt_start(d, args);
}

static int raw_connect(int port)
{
    int fd = fc_connect(port);
    cr_assert_geq(fd, 0, "connect to %d", port);
    return fd;
}

static void send_line(int fd, const char *line)
{
    cr_assert_eq(fc_send_line(fd, line), 0, "send %s", line);
}

static char *read_reply(int fd, int timeout_ms)
{
    size_t len;
    char *rep = fc_read_reply(fd, &len, timeout_ms);
    cr_assert_not_null(rep, "no reply within %d ms", timeout_ms);
    return rep;
}

static char *raw_cmd(int fd, const char *line)
{
    send_line(fd, line);
    return read_reply(fd, IO_MS);
}

static bool is_upstream_err(const char *rep)
{
    return strncmp(rep, "-ERR upstream ", 14) == 0;
}

/* ---- upstream down at start -------------------------------------------------------------- */

Test(test_proxy_faults, upstream_down_at_start_then_started)
{
    static fc_proc px;
    int port = fc_free_port();
    start_proxy_at(&px, port, "200", "500");
    int fd = raw_connect(px.port);
    for (int i = 0; i < 3; i++) {
        int64_t t0 = dt_now_ms();
        char *rep = raw_cmd(fd, "GET k");
        int64_t took = dt_now_ms() - t0;
        cr_assert(is_upstream_err(rep), "with no upstream GET gave %s", rep);
        cr_assert_lt(took, 1500, "the error took %lld ms", (long long)took);
        free(rep);
    }
    char *rep = raw_cmd(fd, "PING");
    cr_assert_str_eq(rep, "+PONG\r\n");
    free(rep);

    start_redis_at(0, port, NULL);
    int64_t t0 = dt_now_ms();
    for (;;) {
        rep = raw_cmd(fd, "SET k v");
        bool ok = strcmp(rep, "+OK\r\n") == 0;
        cr_assert(ok || is_upstream_err(rep), "SET gave %s", rep);
        free(rep);
        if (ok)
            break;
        cr_assert_lt(dt_now_ms() - t0, 5000, "the upstream was not reconnected");
        usleep(20000); /* polling interval */
    }
    cr_log_info("reconnected %lld ms after the upstream started", (long long)(dt_now_ms() - t0));
    rep = raw_cmd(fd, "GET k");
    cr_assert_str_eq(rep, "$1\r\nv\r\n");
    free(rep);
    close(fd);
    dt_stop_ok(&px);
}

/* ---- kill -9 under pipelined load -------------------------------------------------------- */

#define NCLIENTS 20
#define PIPE 50
#define REQ_MS 500
#define MARGIN_MS 1500

typedef struct load_client {
    int fd;
    int n; /* next sequence number */
} load_client;

/* Command i of client c's batch starting at sequence base: SET, GET, ECHO of the same number. */
static void batch_line(int c, int seq, int kind, char *out, size_t cap)
{
    if (kind == 0)
        snprintf(out, cap, "SET key:%d:%d %d", c, seq, seq);
    else if (kind == 1)
        snprintf(out, cap, "GET key:%d:%d", c, seq);
    else
        snprintf(out, cap, "ECHO u:%d:%d", c, seq);
}

/* Sends one pipeline of PIPE commands (one write). */
static void send_batch(load_client *lc, int c)
{
    char *all = NULL;
    size_t total = 0;
    for (int i = 0; i < PIPE; i++) {
        char line[64];
        batch_line(c, lc->n + i / 3, i % 3, line, sizeof(line));
        char **argv;
        size_t *argvlen, len;
        int argc = fc_split_args(line, &argv, &argvlen);
        char *req = fc_encode_cmd(argc, (const char *const *)argv, argvlen, &len);
        all = realloc(all, total + len);
        memcpy(all + total, req, len);
        total += len;
        free(req);
        fc_free_args(argc, argv, argvlen);
    }
    cr_assert_eq(fc_send_all(lc->fd, all, total), 0);
    free(all);
}

/* Checks one reply against its own request; returns true if it was not an error. A GET may see
 * nil only when the upstream was restarted during the batch (its SET may have been lost). */
static bool check_reply(int c, int seq, int kind, const char *rep, bool restarted)
{
    char want[64];
    if (is_upstream_err(rep))
        return false;
    if (kind == 0) {
        cr_assert_str_eq(rep, "+OK\r\n", "client %d SET %d", c, seq);
    } else if (kind == 1) {
        int n = snprintf(want, sizeof(want), "%d", seq);
        char full[96];
        snprintf(full, sizeof(full), "$%d\r\n%s\r\n", n, want);
        if (!(restarted && strcmp(rep, "$-1\r\n") == 0))
            cr_assert_str_eq(rep, full, "client %d GET %d got another reply", c, seq);
    } else {
        snprintf(want, sizeof(want), "u:%d:%d", c, seq);
        char full[96];
        snprintf(full, sizeof(full), "$%zu\r\n%s\r\n", strlen(want), want);
        cr_assert_str_eq(rep, full, "client %d ECHO %d got another reply", c, seq);
    }
    return true;
}

/* Reads every client's batch. Returns the number of error replies. */
static int read_round(load_client *lc, int64_t t0, bool restarted)
{
    int errors = 0;
    for (int c = 0; c < NCLIENTS; c++) {
        for (int i = 0; i < PIPE; i++) {
            char *rep = read_reply(lc[c].fd, REQ_MS + MARGIN_MS);
            if (!check_reply(c, lc[c].n + i / 3, i % 3, rep, restarted))
                errors++;
            free(rep);
        }
        lc[c].n += PIPE / 3 + 1;
    }
    int64_t took = dt_now_ms() - t0;
    cr_assert_lt(took, REQ_MS + MARGIN_MS, "a round took %lld ms", (long long)took);
    return errors;
}

static int run_round(load_client *lc, bool restarted)
{
    int64_t t0 = dt_now_ms();
    for (int c = 0; c < NCLIENTS; c++)
        send_batch(&lc[c], c);
    return read_round(lc, t0, restarted);
}

/* The killer thread: SIGKILL to the upstream after a delay, while the test thread keeps rounds
 * going, so the kill lands with requests on the wire. */
typedef struct killer {
    pid_t pid;
    int delay_us;
    atomic_bool done;
} killer;

static void *killer_main(void *arg)
{
    killer *k = arg;
    usleep((useconds_t)k->delay_us);
    kill(k->pid, SIGKILL);
    atomic_store(&k->done, true);
    return NULL;
}

/* Runs rounds until the upstream has been killed; returns the errors seen. */
static int kill_during_rounds(load_client *lc, int delay_us)
{
    killer k = {.pid = up_pids[0], .delay_us = delay_us};
    atomic_init(&k.done, false);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, killer_main, &k), 0);
    int errors = 0, rounds = 0;
    while (!atomic_load(&k.done)) {
        errors += run_round(lc, true);
        rounds++;
    }
    pthread_join(t, NULL);
    waitpid(up_pids[0], NULL, 0);
    up_pids[0] = 0;
    cr_log_info("upstream killed after %d rounds, %d errors so far", rounds, errors);
    return errors;
}

Test(test_proxy_faults, kill9_and_restart_under_pipelined_load, .timeout = 90)
{
    static fc_proc px;
    int port = fc_free_port();
    start_redis_at(0, port, NULL);
    start_proxy_at(&px, port, "200", "500");
    load_client lc[NCLIENTS];
    for (int c = 0; c < NCLIENTS; c++)
        lc[c] = (load_client){raw_connect(px.port), 0};
    cr_assert_eq(run_round(lc, false), 0, "errors before any fault");
    for (int kill = 0; kill < 3; kill++) {
        int errors = kill_during_rounds(lc, 20000 + kill * 15000);
        /* Down: upstream requests fail in time (ECHO is local and still answers). */
        errors += run_round(lc, true);
        spawn_redis_at(0, port, NULL);
        int64_t t0 = dt_now_ms();
        int rounds = 0;
        while (run_round(lc, true) > 0) {
            rounds++;
            cr_assert_lt(dt_now_ms() - t0, 8000, "no clean round after restart %d", kill + 1);
        }
        cr_assert_eq(run_round(lc, false), 0, "errors after restart %d recovered", kill + 1);
        cr_log_info("kill %d: %d errors while down, clean %lld ms after restart (%d rounds)",
                    kill + 1, errors, (long long)(dt_now_ms() - t0), rounds);
        cr_assert_gt(errors, 0, "killing the upstream caused no error at all");
    }
    for (int c = 0; c < NCLIENTS; c++)
        close(lc[c].fd);
    dt_stop_ok(&px);
}

/* ---- slow upstream ------------------------------------------------------------------------ */

Test(test_proxy_faults, debug_sleep_upstream_times_out_but_local_commands_answer)
{
    static fc_proc px;
    int port = fc_free_port();
    start_redis_at(0, port, "yes");
    start_proxy_at(&px, port, "200", "500");
    int a = raw_connect(px.port), b = raw_connect(px.port), up = raw_connect(port);
    char *rep = raw_cmd(a, "SET k v");
    cr_assert_str_eq(rep, "+OK\r\n");
    free(rep);

    send_line(up, "DEBUG SLEEP 2");
    usleep(50000); /* let redis-server start sleeping */
    int64_t t0 = dt_now_ms();
    send_line(a, "GET k");
    rep = raw_cmd(b, "PING");
    int64_t ping_ms = dt_now_ms() - t0;
    cr_assert_str_eq(rep, "+PONG\r\n");
    free(rep);
    cr_assert_lt(ping_ms, 200, "PING took %lld ms while the upstream slept", (long long)ping_ms);
    rep = read_reply(a, 3000);
    int64_t took = dt_now_ms() - t0;
    cr_assert_str_eq(rep, "-ERR upstream timeout\r\n");
    free(rep);
    cr_assert(took >= 400 && took <= 1500, "the timeout came after %lld ms", (long long)took);
    rep = raw_cmd(b, "PING");
    cr_assert_str_eq(rep, "+PONG\r\n");
    free(rep);

    rep = read_reply(up, 5000); /* the sleep is over */
    cr_assert_str_eq(rep, "+OK\r\n");
    free(rep);
    t0 = dt_now_ms();
    for (;;) {
        rep = raw_cmd(a, "GET k");
        bool ok = strcmp(rep, "$1\r\nv\r\n") == 0;
        cr_assert(ok || is_upstream_err(rep), "GET gave %s", rep);
        free(rep);
        if (ok)
            break;
        cr_assert_lt(dt_now_ms() - t0, 3000, "GETs do not work again after the sleep");
        usleep(20000); /* polling interval */
    }
    close(a);
    close(b);
    close(up);
    dt_stop_ok(&px);
}

/* ---- a client leaves with requests in flight -------------------------------------------- */

Test(test_proxy_faults, client_disconnects_with_1000_requests_in_flight)
{
    static fc_proc px;
    int port = fc_free_port();
    start_redis_at(0, port, "yes");
    start_proxy_at(&px, port, "200", "3000");
    int up = raw_connect(port);
    for (int round = 0; round < 3; round++) {
        /* The upstream sleeps, so the client's requests stay in flight when it leaves. */
        send_line(up, "DEBUG SLEEP 0.3");
        usleep(20000);
        int fd = raw_connect(px.port);
        char *all = NULL;
        size_t total = 0;
        for (int i = 0; i < 1000; i++) {
            size_t len;
            char key[32];
            snprintf(key, sizeof(key), "k%d", i);
            const char *argv[] = {i % 2 ? "GET" : "SET", key, "v"};
            const size_t lens[] = {3, strlen(key), 1};
            char *req = fc_encode_cmd(i % 2 ? 2 : 3, argv, lens, &len);
            all = realloc(all, total + len);
            memcpy(all + total, req, len);
            total += len;
            free(req);
        }
        cr_assert_eq(fc_send_all(fd, all, total), 0);
        free(all);
        usleep(50000); /* the daemon reads and forwards them */
        close(fd);
        char *rep = read_reply(up, 3000);
        cr_assert_str_eq(rep, "+OK\r\n");
        free(rep);
    }
    int fd = raw_connect(px.port);
    char *rep = raw_cmd(fd, "PING");
    cr_assert_str_eq(rep, "+PONG\r\n");
    free(rep);
    rep = raw_cmd(fd, "GET k0");
    cr_assert_str_eq(rep, "$1\r\nv\r\n");
    free(rep);
    close(fd);
    close(up);
    dt_stop_ok(&px);
}

/* ---- INVALIDATE when its client leaves or the upstream dies ------------------------------ */

static void fill_keys(int port, int n)
{
    fc_proc p = {.port = port};
    redisContext *u = dt_connect(&p);
    for (int i = 0; i < n; i++)
        redisAppendCommand(u, "SET inv:%d %d", i, i);
    for (int i = 0; i < n; i++) {
        redisReply *r;
        cr_assert_eq(redisGetReply(u, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
    redisFree(u);
}

Test(test_proxy_faults, invalidate_when_client_leaves_or_upstream_dies)
{
    static fc_proc px;
    int port = fc_free_port();
    start_redis_at(0, port, NULL);
    start_proxy_at(&px, port, "200", "1000");
    fill_keys(port, 20000);
    int fd = raw_connect(px.port);
    send_line(fd, "INVALIDATE inv:*");
    usleep(5000);
    close(fd); /* leaves while the SCAN loop runs */

    fill_keys(port, 20000);
    fd = raw_connect(px.port);
    send_line(fd, "INVALIDATE inv:*");
    send_line(fd, "GET inv:1");
    usleep(5000);
    kill(up_pids[0], SIGKILL);
    waitpid(up_pids[0], NULL, 0);
    up_pids[0] = 0;
    char *rep = read_reply(fd, 1000 + MARGIN_MS);
    cr_assert(is_upstream_err(rep) || rep[0] == ':', "INVALIDATE gave %s", rep);
    free(rep);
    rep = read_reply(fd, 1000 + MARGIN_MS);
    cr_assert(is_upstream_err(rep) || strcmp(rep, "$-1\r\n") == 0, "GET gave %s", rep);
    free(rep);

    /* The client is not left behind its barrier: once the upstream is back, it works. */
    start_redis_at(0, port, NULL);
    int64_t t0 = dt_now_ms();
    for (;;) {
        rep = raw_cmd(fd, "SET k v");
        bool ok = strcmp(rep, "+OK\r\n") == 0;
        cr_assert(ok || is_upstream_err(rep), "SET gave %s", rep);
        free(rep);
        if (ok)
            break;
        cr_assert_lt(dt_now_ms() - t0, 5000, "no recovery after the upstream restarted");
        usleep(20000); /* polling interval */
    }
    fill_keys(port, 100);
    rep = raw_cmd(fd, "INVALIDATE inv:*");
    cr_assert_str_eq(rep, ":100\r\n");
    free(rep);
    close(fd);
    dt_stop_ok(&px);
}

/* ---- shutdown with requests in flight ----------------------------------------------------- */

Test(test_proxy_faults, sigterm_with_requests_in_flight_exits_cleanly)
{
    static fc_proc px;
    int port = fc_free_port();
    start_redis_at(0, port, "yes");
    start_proxy_at(&px, port, "200", "3000");
    int up = raw_connect(port);
    send_line(up, "DEBUG SLEEP 1");
    usleep(20000);
    int fd = raw_connect(px.port);
    for (int i = 0; i < 100; i++)
        send_line(fd, i % 2 ? "GET k" : "SET k v");
    usleep(50000);
    int64_t t0 = dt_now_ms();
    dt_stop_ok(&px); /* SIGTERM; exit status 0, and no ASan report */
    int64_t took = dt_now_ms() - t0;
    cr_log_info("shutdown took %lld ms with the upstream asleep", (long long)took);
    cr_assert_lt(took, 800, "shutdown waited for the sleeping upstream");
    /* Whatever was answered is a reply or an upstream error, then EOF. */
    for (;;) {
        size_t len;
        char *rep = fc_read_reply(fd, &len, 1000);
        if (!rep)
            break;
        cr_assert(strcmp(rep, "+OK\r\n") == 0 || strncmp(rep, "-ERR upstream", 13) == 0 ||
                      strcmp(rep, "$1\r\nv\r\n") == 0 || strcmp(rep, "$-1\r\n") == 0,
                  "got %s", rep);
        free(rep);
    }
    close(fd);
    char *rep = read_reply(up, 3000);
    free(rep);
    close(up);
}
