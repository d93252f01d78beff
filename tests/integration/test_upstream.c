/*
 * Integration tests for server/upstream.c: a real libuv loop in the test process against a real
 * redis-server started by the test. Every test ends with uv_loop_close() == 0, so a handle or
 * request leaked by the upstream fails it, and every callback is counted (exactly once each).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "server/upstream.h"
#include "tests/integration/harness.h"

typedef struct env {
    uv_loop_t loop;
    uv_timer_t tick; /* wakes uv_run(UV_RUN_ONCE) so run_until can check its deadline */
} env;

typedef struct result {
    int calls;
    int status;
    char *reply;
    size_t len;
    int order; /* completion rank */
} result;

static int completions;

static void env_init(env *e)
{
    cr_assert_eq(uv_loop_init(&e->loop), 0);
    uv_timer_init(&e->loop, &e->tick);
    completions = 0;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

typedef bool pred_fn(void *arg);

/* Runs the loop until pred(arg) or ms pass. Returns pred's final value. */
static bool run_until(env *e, pred_fn *pred, void *arg, int ms)
{
    uint64_t deadline = uv_hrtime() / 1000000 + (uint64_t)ms;
    uv_timer_start(&e->tick, on_tick, 5, 5);
    while (!pred(arg) && uv_hrtime() / 1000000 < deadline)
        uv_run(&e->loop, UV_RUN_ONCE);
    uv_timer_stop(&e->tick);
    return pred(arg);
}

static bool flag_set(void *arg)
{
    return *(bool *)arg;
}

static void set_flag(void *arg)
{
    *(bool *)arg = true;
}

static bool upstream_ready(void *arg)
{
    return fc_upstream_ready(arg);
}

/* Closes u, checks done() comes after its handles, then that the loop has nothing left. */
static void finish(env *e, fc_upstream *u)
{
    bool done = false;
    fc_upstream_close(u, set_flag, &done);
    cr_assert(!done, "done must wait for libuv's close callbacks");
    cr_assert(run_until(e, flag_set, &done, 5000), "close never completed");
    uv_close((uv_handle_t *)&e->tick, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&e->loop), 0, "a handle was leaked");
}

static void on_result(void *ctx, int status, const char *reply, size_t len)
{
    result *r = ctx;
    r->calls++;
    r->status = status;
    r->order = completions++;
    free(r->reply);
    r->reply = NULL;
    r->len = 0;
    if (status == 0) {
        cr_assert(reply != NULL && len > 0);
        r->reply = malloc(len + 1);
        memcpy(r->reply, reply, len);
        r->reply[len] = 0;
        r->len = len;
    } else {
        cr_assert(reply == NULL && len == 0);
    }
}

static bool result_done(void *arg)
{
    return ((result *)arg)->calls > 0;
}

/* Sends one command line (redis-cli quoting) expecting nreplies replies. */
static int send_line(fc_upstream *u, const char *line, unsigned nreplies, result *r)
{
    char **av;
    size_t *al, len;
    int ac = fc_split_args(line, &av, &al);
    cr_assert(ac > 0);
    char *frame = fc_encode_cmd(ac, (const char *const *)av, al, &len);
    fc_free_args(ac, av, al);
    int rc = fc_upstream_send(u, frame, len, nreplies, on_result, r);
    free(frame);
    return rc;
}

/* Sends a command and waits for its callback; returns its result (caller frees reply). */
static result call(env *e, fc_upstream *u, const char *line, int ms)
{
    result r = {0};
    cr_assert_eq(send_line(u, line, 1, &r), 0, "send %s", line);
    cr_assert(run_until(e, result_done, &r, ms), "no callback for %s", line);
    cr_assert_eq(r.calls, 1);
    return r;
}

static void expect_reply(env *e, fc_upstream *u, const char *line, const char *want)
{
    result r = call(e, u, line, 5000);
    cr_assert_eq(r.status, 0, "%s: status %s (%s)", line, uv_err_name(r.status),
                 fc_upstream_last_error(u));
    cr_assert_str_eq(r.reply, want, "%s", line);
    free(r.reply);
}

static fc_upstream_opts opts_for(int port)
{
    return (fc_upstream_opts){
        .host = "127.0.0.1",
        .port = port,
        .proto = 2,
        .connect_timeout_ms = 1000,
        .request_timeout_ms = 5000,
        .backoff_min_ms = 10,
        .backoff_max_ms = 200,
        .max_queued = 100000,
    };
}

static fc_upstream *connect_ready(env *e, const fc_upstream_opts *o)
{
    fc_upstream *u = fc_upstream_new(&e->loop, o);
    cr_assert(u != NULL);
    cr_assert(run_until(e, upstream_ready, u, 5000), "not ready: %s", fc_upstream_last_error(u));
    return u;
}

/* Starts redis-server on a given port (the harness picks its own ports). */
static void start_redis_on(fc_proc *p, int port)
{
    char portbuf[16], dir[] = "/tmp/fc-upstream.XXXXXX";
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    memset(p, 0, sizeof(*p));
    p->port = port;
    snprintf(p->logpath, sizeof(p->logpath), "%s/redis.log", dir);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test: no orphans */
        int fd = open(p->logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("redis-server", "redis-server", "--port", portbuf, "--bind", "127.0.0.1", "--save",
               "", "--appendonly", "no", "--dir", dir, (char *)NULL);
        _exit(127);
    }
    p->pid = pid;
    for (int i = 0; i < 2000; i++) {
        int fd = fc_connect(port);
        if (fd >= 0) {
            close(fd);
            return;
        }
        usleep(5000);
    }
    cr_assert_fail("redis-server did not start on port %d", port);
}

static void kill9(fc_proc *p)
{
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
}

/* Sends PING until one succeeds (the upstream reconnects in between). */
static bool ping_until_ok(env *e, fc_upstream *u, int ms)
{
    uint64_t deadline = uv_hrtime() / 1000000 + (uint64_t)ms;
    while (uv_hrtime() / 1000000 < deadline) {
        result r = {0};
        int rc = send_line(u, "PING", 1, &r);
        if (rc == 0)
            cr_assert(run_until(e, result_done, &r, 5000), "PING hung");
        else
            run_until(e, flag_set, &(bool){false}, 20);
        bool ok = rc == 0 && r.status == 0 && strcmp(r.reply, "+PONG\r\n") == 0;
        free(r.reply);
        if (ok)
            return true;
    }
    return false;
}

/* ---- pipelining and matching ---- */

#define NPIPE 10000

typedef struct echo_req {
    result r;
    char want[64];
} echo_req;

static bool all_done(void *arg)
{
    return completions >= *(int *)arg;
}

Test(upstream, pipelined_10k_in_order, .timeout = 60)
{
    fc_proc redis;
    env e;
    cr_assert_eq(fc_start_redis(&redis, NULL), 0);
    env_init(&e);
    fc_upstream_opts o = opts_for(redis.port);
    fc_upstream *u = fc_upstream_new(&e.loop, &o);
    echo_req *reqs = calloc(NPIPE, sizeof(*reqs));
    for (int i = 0; i < NPIPE; i++) {
        char line[64];
        snprintf(line, sizeof(line), "ECHO id-%d", i);
        snprintf(reqs[i].want, sizeof(reqs[i].want), "$%zu\r\nid-%d\r\n",
                 strlen(line) - 5, i);
        /* The first half is queued before the connection is up, the rest after. */
        if (i == NPIPE / 2)
            cr_assert(run_until(&e, upstream_ready, u, 5000));
        cr_assert_eq(send_line(u, line, 1, &reqs[i].r), 0);
    }
    cr_assert_eq(fc_upstream_pending(u), NPIPE);
    int n = NPIPE;
    cr_assert(run_until(&e, all_done, &n, 20000), "only %d of %d", completions, NPIPE);
    for (int i = 0; i < NPIPE; i++) {
        cr_assert_eq(reqs[i].r.calls, 1);
        cr_assert_eq(reqs[i].r.status, 0);
        cr_assert_eq(reqs[i].r.order, i, "request %d completed as %d", i, reqs[i].r.order);
        cr_assert_str_eq(reqs[i].r.reply, reqs[i].want);
        free(reqs[i].r.reply);
    }
    free(reqs);
    cr_assert_eq(fc_upstream_pending(u), 0);
    finish(&e, u);
    fc_stop(&redis);
}

Test(upstream, one_request_three_replies, .timeout = 30)
{
    fc_proc redis;
    env e;
    cr_assert_eq(fc_start_redis(&redis, NULL), 0);
    env_init(&e);
    fc_upstream_opts o = opts_for(redis.port);
    fc_upstream *u = connect_ready(&e, &o);
    const char *frame = "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
                        "*1\r\n$4\r\nEXEC\r\n";
    result r = {0}, after = {0};
    cr_assert_eq(fc_upstream_send(u, frame, strlen(frame), 3, on_result, &r), 0);
    cr_assert_eq(send_line(u, "GET k", 1, &after), 0);
    cr_assert(run_until(&e, result_done, &after, 5000));
    cr_assert_eq(r.calls, 1);
    cr_assert_str_eq(r.reply, "+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n");
    cr_assert_str_eq(after.reply, "$1\r\nv\r\n");
    cr_assert_eq(after.order, 1);
    free(r.reply);
    free(after.reply);
    cr_assert_eq(fc_upstream_send(u, frame, strlen(frame), 0, on_result, &r), UV_EINVAL);
    finish(&e, u);
    fc_stop(&redis);
}

/* ---- handshake ---- */

Test(upstream, auth_select_hello3, .timeout = 30)
{
    fc_proc redis;
    env e;
    const char *args[] = {"--requirepass", "s3cret", NULL};
    cr_assert_eq(fc_start_redis(&redis, args), 0);
    env_init(&e);
    fc_upstream_opts o = opts_for(redis.port);
    o.password = "s3cret";
    o.db = 3;
    o.proto = 3;
    fc_upstream *u = fc_upstream_new(&e.loop, &o);
    cr_assert(!fc_upstream_ready(u));
    /* Sent before the connection is up: it must go out after the whole handshake. */
    result info = call(&e, u, "CLIENT INFO", 5000);
    cr_assert(fc_upstream_ready(u));
    cr_assert_eq(info.status, 0);
    cr_assert(strstr(info.reply, " db=3 ") != NULL, "%s", info.reply);
    cr_assert(strstr(info.reply, " resp=3") != NULL, "%s", info.reply);
    free(info.reply);
    expect_reply(&e, u, "PING", "+PONG\r\n");
    expect_reply(&e, u, "HSET h a 1", ":1\r\n");
    expect_reply(&e, u, "HGETALL h", "%1\r\n$1\r\na\r\n$1\r\n1\r\n"); /* RESP3 map */
    expect_reply(&e, u, "GET missing", "_\r\n");                       /* RESP3 null */
    finish(&e, u);

    /* The same key is in db 3 only, and RESP2 without HELLO answers with an array. */
    env_init(&e);
    o.proto = 2;
    u = connect_ready(&e, &o);
    expect_reply(&e, u, "HGETALL h", "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    finish(&e, u);
    env_init(&e);
    o.db = 0;
    u = connect_ready(&e, &o);
    expect_reply(&e, u, "HGETALL h", "*0\r\n");
    finish(&e, u);
    fc_stop(&redis);
}

Test(upstream, wrong_password_fails_and_logs, .timeout = 30)
{
    fc_proc redis;
    env e;
    const char *args[] = {"--requirepass", "s3cret", NULL};
    cr_assert_eq(fc_start_redis(&redis, args), 0);
    char logpath[] = "/tmp/fc-upstream-log.XXXXXX";
    int logfd = mkstemp(logpath);
    cr_assert(logfd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(logfd, 2);
    env_init(&e);
    fc_upstream_opts o = opts_for(redis.port);
    o.password = "wrong";
    o.request_timeout_ms = 300;
    fc_upstream *u = fc_upstream_new(&e.loop, &o);
    result r = {0};
    cr_assert_eq(send_line(u, "PING", 1, &r), 0);
    cr_assert(run_until(&e, result_done, &r, 3000));
    cr_assert_eq(r.status, UV_ECONNREFUSED, "%s", uv_err_name(r.status));
    cr_assert(!fc_upstream_ready(u));
    cr_assert(strstr(fc_upstream_last_error(u), "WRONGPASS") != NULL, "%s",
              fc_upstream_last_error(u));
    finish(&e, u);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[4096] = {0};
    ssize_t n = pread(logfd, buf, sizeof(buf) - 1, 0);
    close(logfd);
    unlink(logpath);
    cr_assert(n > 0);
    cr_assert(strstr(buf, "connection attempt failed: handshake AUTH failed: WRONGPASS") != NULL, "log: %s", buf);
    fc_stop(&redis);
}

Test(upstream, script_load_in_handshake, .timeout = 30)
{
    fc_proc redis;
    env e;
    cr_assert_eq(fc_start_redis(&redis, NULL), 0);
    env_init(&e);
    fc_upstream_opts o = opts_for(redis.port);
    const char *scripts[] = {"return 1", "return 'two'", NULL};
    o.scripts = scripts;
    fc_upstream *u = connect_ready(&e, &o);
    expect_reply(&e, u, "EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0", ":1\r\n");
    expect_reply(&e, u, "SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "*1\r\n:1\r\n");
    finish(&e, u);

    /* A script that does not compile fails the handshake: requests fail, the reason is kept. */
    env_init(&e);
    const char *bad[] = {"return (", NULL};
    o.scripts = bad;
    o.request_timeout_ms = 200;
    u = fc_upstream_new(&e.loop, &o);
    result r = call(&e, u, "PING", 3000);
    cr_assert_eq(r.status, UV_ECONNREFUSED);
    cr_assert(strstr(fc_upstream_last_error(u), "SCRIPT LOAD failed: ERR") != NULL, "%s",
              fc_upstream_last_error(u));
    finish(&e, u);
    fc_stop(&redis);
}

/* ---- failures and recovery ---- */

Test(upstream, not_running_then_started, .timeout = 30)
{
    env e;
    int port = fc_free_port();
    env_init(&e);
    fc_upstream_opts o = opts_for(port);
    o.connect_timeout_ms = 200;
    o.request_timeout_ms = 300;
    fc_upstream *u = fc_upstream_new(&e.loop, &o);
    uint64_t t0 = uv_hrtime();
    result r = call(&e, u, "PING", 3000);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    cr_assert_eq(r.status, UV_ECONNREFUSED, "%s", uv_err_name(r.status));
    cr_assert(ms >= 250 && ms < 1000, "failed after %llu ms", (unsigned long long)ms);
    cr_assert_str_eq(fc_upstream_last_error(u), "connection refused");
    cr_assert_eq(fc_upstream_pending(u), 0);

    fc_proc redis;
    start_redis_on(&redis, port);
    cr_assert(ping_until_ok(&e, u, 5000), "no reconnect: %s", fc_upstream_last_error(u));
    cr_assert(fc_upstream_ready(u));
    finish(&e, u);
    fc_stop(&redis);
}

#define NKILL 1000

/* 1000 ECHOs with unique ids: the first half is answered, then the server sleeps (DEBUG SLEEP)
 * with the other half in flight and is killed. */
Test(upstream, kill9_with_requests_in_flight, .timeout = 60)
{
    fc_proc redis;
    env e;
    const char *args[] = {"--enable-debug-command", "yes", NULL};
    cr_assert_eq(fc_start_redis(&redis, args), 0);
    env_init(&e);
    fc_upstream_opts o = opts_for(redis.port);
    o.request_timeout_ms = 20000;
    fc_upstream *u = connect_ready(&e, &o);
    echo_req *reqs = calloc(NKILL, sizeof(*reqs));
    char pad[1001];
    memset(pad, 'x', 1000);
    pad[1000] = 0;
    for (int i = 0; i < NKILL; i++) {
        char line[1100];
        int n = snprintf(line, sizeof(line), "ECHO u%d-%s", i, pad);
        snprintf(reqs[i].want, sizeof(reqs[i].want), "$%d\r\nu%d-", n - 5, i);
        if (i == NKILL / 2) {
            /* Redis writes replies only between event-loop turns: let the first half out. */
            int half = NKILL / 2;
            cr_assert(run_until(&e, all_done, &half, 5000));
            snprintf(line, sizeof(line), "DEBUG SLEEP 5");
            snprintf(reqs[i].want, sizeof(reqs[i].want), "+OK");
        }
        cr_assert_eq(send_line(u, line, 1, &reqs[i].r), 0);
    }
    run_until(&e, flag_set, &(bool){false}, 100);
    cr_assert_eq(completions, NKILL / 2, "the server should be asleep");
    uint64_t t0 = uv_hrtime();
    kill9(&redis);
    int n = NKILL;
    cr_assert(run_until(&e, all_done, &n, 10000), "hung: %d of %d", completions, NKILL);
    cr_assert_lt((uv_hrtime() - t0) / 1000000, 1000, "failures must not wait for deadlines");
    int ok = 0, failed = 0;
    for (int i = 0; i < NKILL; i++) {
        result *r = &reqs[i].r;
        cr_assert_eq(r->calls, 1);
        if (r->status == 0) {
            ok++;
            cr_assert(strncmp(r->reply, reqs[i].want, strlen(reqs[i].want)) == 0,
                      "request %d got another's reply", i);
            cr_assert_eq(r->len, strlen(reqs[i].want) + 1000 + 2);
        } else {
            failed++;
            cr_assert_eq(r->status, UV_ECONNRESET, "%s", uv_err_name(r->status));
        }
        free(r->reply);
    }
    free(reqs);
    cr_assert_eq(ok, NKILL / 2);
    cr_assert_eq(failed, NKILL / 2);
    cr_assert_eq(fc_upstream_pending(u), 0);

    start_redis_on(&redis, redis.port);
    cr_assert(ping_until_ok(&e, u, 5000), "no recovery: %s", fc_upstream_last_error(u));
    expect_reply(&e, u, "ECHO back", "$4\r\nback\r\n");
    finish(&e, u);
    fc_stop(&redis);
}

Test(upstream, request_timeout_then_recovers, .timeout = 30)
{
    fc_proc redis;
    env e;
    const char *args[] = {"--enable-debug-command", "yes", NULL};
    cr_assert_eq(fc_start_redis(&redis, args), 0);
    env_init(&e);
    fc_upstream_opts o = opts_for(redis.port);
    o.request_timeout_ms = 200;
    fc_upstream *u = connect_ready(&e, &o);
    result slow = {0}, behind = {0};
    uint64_t t0 = uv_hrtime();
    cr_assert_eq(send_line(u, "DEBUG SLEEP 1", 1, &slow), 0);
    cr_assert_eq(send_line(u, "PING", 1, &behind), 0);
    cr_assert(run_until(&e, result_done, &behind, 3000));
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    cr_assert_eq(slow.calls, 1);
    cr_assert_eq(slow.status, UV_ETIMEDOUT, "%s", uv_err_name(slow.status));
    cr_assert_lt(behind.status, 0, "a reply queued behind a timeout cannot be trusted");
    cr_assert(ms >= 190 && ms < 800, "timed out after %llu ms", (unsigned long long)ms);
    cr_assert(ping_until_ok(&e, u, 5000), "no recovery: %s", fc_upstream_last_error(u));
    finish(&e, u);
    fc_stop(&redis);
}

/* ---- a scripted fake server: answers each connection's first read with fixed bytes ---- */

static pid_t fake_server(int *port, const char *answer)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(lfd, 16), 0);
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        alarm(30); /* never outlives a failed test by long */
        for (;;) {
            int fd = accept(lfd, NULL, NULL);
            char buf[4096];
            if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0 ||
                fc_send_all(fd, answer, strlen(answer)) != 0)
                _exit(1);
            while (read(fd, buf, sizeof(buf)) > 0) {
            }
            close(fd);
        }
    }
    close(lfd);
    return pid;
}

static void stop_fake(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

Test(upstream, malformed_reply_resets, .timeout = 30)
{
    int port;
    pid_t fake = fake_server(&port, "+OK\r\n$abc\r\n");
    env e;
    env_init(&e);
    fc_upstream_opts o = opts_for(port);
    fc_upstream *u = connect_ready(&e, &o);
    result a = {0}, b = {0};
    cr_assert_eq(send_line(u, "GET a", 1, &a), 0);
    cr_assert_eq(send_line(u, "GET b", 1, &b), 0);
    cr_assert(run_until(&e, result_done, &b, 3000));
    cr_assert_eq(a.status, 0);
    cr_assert_str_eq(a.reply, "+OK\r\n");
    cr_assert_eq(b.status, UV_ECONNRESET);
    cr_assert(strncmp(fc_upstream_last_error(u), "malformed reply", 15) == 0, "%s",
              fc_upstream_last_error(u));
    free(a.reply);
    finish(&e, u);
    stop_fake(fake);
}

Test(upstream, push_messages_are_not_replies, .timeout = 30)
{
    int port;
    /* A push before, and one between the two replies of one request. */
    pid_t fake = fake_server(&port, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n+A\r\n"
                                    ">1\r\n+x\r\n:2\r\n+C\r\n");
    env e;
    env_init(&e);
    fc_upstream_opts o = opts_for(port);
    fc_upstream *u = connect_ready(&e, &o);
    result ab = {0}, c = {0};
    cr_assert_eq(fc_upstream_send(u, "*1\r\n$1\r\nA\r\n*1\r\n$1\r\nB\r\n", 22, 2, on_result, &ab),
                 0);
    cr_assert_eq(send_line(u, "C", 1, &c), 0);
    cr_assert(run_until(&e, result_done, &c, 3000));
    cr_assert_eq(ab.status, 0);
    cr_assert_str_eq(ab.reply, "+A\r\n:2\r\n");
    cr_assert_eq(c.status, 0);
    cr_assert_str_eq(c.reply, "+C\r\n");
    free(ab.reply);
    free(c.reply);
    finish(&e, u);
    stop_fake(fake);
}

Test(upstream, reply_with_nothing_in_flight_resets, .timeout = 30)
{
    int port;
    pid_t fake = fake_server(&port, "+A\r\n+EXTRA\r\n");
    env e;
    env_init(&e);
    fc_upstream_opts o = opts_for(port);
    fc_upstream *u = connect_ready(&e, &o);
    result a = {0};
    cr_assert_eq(send_line(u, "A", 1, &a), 0);
    cr_assert(run_until(&e, result_done, &a, 3000));
    cr_assert_str_eq(a.reply, "+A\r\n");
    free(a.reply);
    run_until(&e, flag_set, &(bool){false}, 100);
    cr_assert_str_eq(fc_upstream_last_error(u), "reply with no request in flight");
    finish(&e, u);
    stop_fake(fake);
}

Test(upstream, silent_handshake_hits_connect_timeout, .timeout = 30)
{
    int port;
    pid_t fake = fake_server(&port, ""); /* accepts, reads AUTH, never answers */
    env e;
    env_init(&e);
    fc_upstream_opts o = opts_for(port);
    o.password = "pw";
    o.connect_timeout_ms = 100;
    o.request_timeout_ms = 400;
    fc_upstream *u = fc_upstream_new(&e.loop, &o);
    result r = call(&e, u, "PING", 3000);
    cr_assert_eq(r.status, UV_ECONNREFUSED);
    cr_assert_str_eq(fc_upstream_last_error(u), "connect timeout");
    finish(&e, u);
    stop_fake(fake);
}

/* ---- close ---- */

typedef struct reentrant {
    fc_upstream *u;
    bool closed;
    result r;
} reentrant;

static void close_in_cb(void *ctx, int status, const char *reply, size_t len)
{
    reentrant *re = ctx;
    on_result(&re->r, status, reply, len);
    fc_upstream_close(re->u, set_flag, &re->closed);
    /* After close nothing is accepted, and the callback is not called. */
    cr_assert_eq(fc_upstream_send(re->u, "*1\r\n$4\r\nPING\r\n", 14, 1, on_result, &re->r),
                 UV_ECANCELED);
}

Test(upstream, close_from_a_callback, .timeout = 30)
{
    fc_proc redis;
    env e;
    cr_assert_eq(fc_start_redis(&redis, NULL), 0);
    env_init(&e);
    fc_upstream_opts o = opts_for(redis.port);
    reentrant re = {.u = connect_ready(&e, &o)};
    result rest[20] = {0};
    cr_assert_eq(fc_upstream_send(re.u, "*1\r\n$4\r\nPING\r\n", 14, 1, close_in_cb, &re), 0);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(send_line(re.u, "PING", 1, &rest[i]), 0);
    cr_assert(run_until(&e, flag_set, &re.closed, 5000));
    cr_assert_eq(re.r.calls, 1);
    cr_assert_str_eq(re.r.reply, "+PONG\r\n");
    free(re.r.reply);
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(rest[i].calls, 1);
        cr_assert_eq(rest[i].status, UV_ECANCELED);
    }
    uv_close((uv_handle_t *)&e.tick, NULL);
    uv_run(&e.loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&e.loop), 0);
    fc_stop(&redis);
}

#define NCLOSE 100

static void close_with_pending(env *e, fc_upstream *u, result *rs)
{
    bool done = false;
    fc_upstream_close(u, set_flag, &done);
    for (int i = 0; i < NCLOSE; i++) {
        cr_assert_eq(rs[i].calls, 1, "request %d: %d calls", i, rs[i].calls);
        cr_assert_eq(rs[i].status, UV_ECANCELED);
    }
    cr_assert(!done);
    cr_assert(run_until(e, flag_set, &done, 5000));
    for (int i = 0; i < NCLOSE; i++)
        cr_assert_eq(rs[i].calls, 1);
    uv_close((uv_handle_t *)&e->tick, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&e->loop), 0);
}

Test(upstream, close_fails_in_flight_with_ecanceled, .timeout = 30)
{
    fc_proc redis;
    env e;
    const char *args[] = {"--enable-debug-command", "yes", NULL};
    cr_assert_eq(fc_start_redis(&redis, args), 0);
    env_init(&e);
    fc_upstream_opts o = opts_for(redis.port);
    fc_upstream *u = connect_ready(&e, &o);
    result rs[NCLOSE] = {0};
    cr_assert_eq(send_line(u, "DEBUG SLEEP 0.3", 1, &rs[0]), 0);
    for (int i = 1; i < NCLOSE; i++)
        cr_assert_eq(send_line(u, "PING", 1, &rs[i]), 0);
    run_until(&e, flag_set, &(bool){false}, 50); /* written, waiting for the sleep */
    cr_assert_eq(fc_upstream_pending(u), NCLOSE);
    close_with_pending(&e, u, rs);
    fc_stop(&redis);
}

Test(upstream, close_fails_queued_with_ecanceled, .timeout = 30)
{
    env e;
    env_init(&e);
    fc_upstream_opts o = opts_for(fc_free_port());
    o.max_queued = NCLOSE;
    fc_upstream *u = fc_upstream_new(&e.loop, &o);
    result rs[NCLOSE + 1] = {0};
    for (int i = 0; i < NCLOSE; i++)
        cr_assert_eq(send_line(u, "PING", 1, &rs[i]), 0);
    cr_assert_eq(send_line(u, "PING", 1, &rs[NCLOSE]), UV_EAGAIN, "the queue is bounded");
    close_with_pending(&e, u, rs);
    cr_assert_eq(rs[NCLOSE].calls, 0);
}

Test(upstream, hostname_and_unix_socket, .timeout = 30)
{
    fc_proc redis;
    env e;
    char sock[64], dir[] = "/tmp/fc-upsock.XXXXXX";
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(sock, sizeof(sock), "%s/r.sock", dir);
    const char *args[] = {"--unixsocket", sock, "--bind", "127.0.0.1 -::1", NULL};
    cr_assert_eq(fc_start_redis(&redis, args), 0);
    env_init(&e);
    fc_upstream_opts o = opts_for(redis.port);
    o.host = "localhost"; /* resolved with uv_getaddrinfo */
    fc_upstream *u = connect_ready(&e, &o);
    expect_reply(&e, u, "ECHO tcp", "$3\r\ntcp\r\n");
    finish(&e, u);
    env_init(&e);
    o.unixsocket = sock;
    o.host = NULL;
    u = connect_ready(&e, &o);
    expect_reply(&e, u, "ECHO unix", "$4\r\nunix\r\n");
    finish(&e, u);
    fc_stop(&redis);
    unlink(sock);
    rmdir(dir);
}
