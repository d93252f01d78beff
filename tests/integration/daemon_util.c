/*
 * daemon_util — helpers for the test_daemon_*.c suites (see daemon_util.h).
 */
#include "tests/integration/daemon_util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 8

static fc_proc *started[MAX_PROCS];
static int nstarted;

static void log_daemon_log(const fc_proc *p);

void dt_start(fc_proc *p, const char *const *extra_args)
{
    memset(p, 0, sizeof(*p));
    int r = fc_start_daemon(p, extra_args);
    if (r == 0 && nstarted < MAX_PROCS)
        started[nstarted++] = p;
    if (r != 0)
        log_daemon_log(p);
    cr_assert_eq(r, 0, "the daemon %s did not start", fc_daemon_bin());
}

static void log_daemon_log(const fc_proc *p)
{
    char *log = p->logpath[0] ? dt_slurp(p->logpath) : strdup("");
    cr_log_error("daemon log (%s):\n%s", p->logpath, log);
    free(log);
}

void dt_stop_ok(fc_proc *p)
{
    cr_assert_gt(p->pid, 0, "the daemon is not running");
    int st = fc_stop(p);
    p->pid = 0;
    if (st != 0)
        log_daemon_log(p);
    cr_assert_eq(st, 0, "the daemon exited with status %d after SIGTERM", st);
}

void dt_fini(void)
{
    for (int i = 0; i < nstarted; i++) {
        if (started[i]->pid > 0)
            fc_stop(started[i]);
        started[i]->pid = 0;
    }
    nstarted = 0;
}

redisContext *dt_connect(const fc_proc *p)
{
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", p->port, tv);
    cr_assert_not_null(c);
    cr_assert_eq(c->err, 0, "connect to port %d: %s", p->port, c->errstr);
    cr_assert_eq(redisSetTimeout(c, tv), REDIS_OK);
    return c;
}

static redisReply *vcmd(redisContext *c, const char *fmt, va_list ap)
{
    redisReply *r = redisvCommand(c, fmt, ap);
    cr_assert_not_null(r, "command '%s' failed: %s", fmt, c->errstr);
    return r;
}

redisReply *dt_cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmd(c, fmt, ap);
    va_end(ap);
    return r;
}

long long dt_int(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmd(c, fmt, ap);
    va_end(ap);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "'%s': expected an integer, got type %d (%s)", fmt,
                 r->type, r->str ? r->str : "");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

void dt_expect(redisContext *c, const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmd(c, fmt, ap);
    va_end(ap);
    cr_assert(r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR,
              "'%s': expected a status, got type %d", fmt, r->type);
    cr_assert_str_eq(r->str, want, "'%s'", fmt);
    freeReplyObject(r);
}

int64_t dt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool dt_wait_readable(int fd, int timeout_ms)
{
    int64_t deadline = dt_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - dt_now_ms();
        if (left < 0)
            return false;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)left);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

bool dt_wait_eof(int fd, int timeout_ms)
{
    int64_t deadline = dt_now_ms() + timeout_ms;
    char buf[4096];
    for (;;) {
        int left = (int)(deadline - dt_now_ms());
        if (left < 0 || !dt_wait_readable(fd, left))
            return false;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            return false;
    }
}

bool dt_read_exact(int fd, void *buf, size_t len, int timeout_ms)
{
    int64_t deadline = dt_now_ms() + timeout_ms;
    size_t got = 0;
    while (got < len) {
        int left = (int)(deadline - dt_now_ms());
        if (left < 0 || !dt_wait_readable(fd, left))
            return false;
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n == 0)
            return false;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return false;
        }
        got += (size_t)n;
    }
    return true;
}

char *dt_tmpdir(void)
{
    char *path = strdup("/tmp/fc_daemon_test.XXXXXX");
    cr_assert_not_null(path);
    cr_assert_not_null(mkdtemp(path), "mkdtemp: %s", strerror(errno));
    return path;
}

char *dt_write_file(const char *dir, const char *name, const char *text)
{
    char *path = NULL;
    cr_assert_gt(asprintf(&path, "%s/%s", dir, name), 0);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fputs(text, f) >= 0, true);
    cr_assert_eq(fclose(f), 0);
    return path;
}

int dt_wait_exit(fc_proc *p, int timeout_ms)
{
    int64_t deadline = dt_now_ms() + timeout_ms;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        cr_assert_neq(r, -1, "waitpid(%d): %s", (int)p->pid, strerror(errno));
        if (dt_now_ms() > deadline)
            return -2;
        struct timespec ts = {0, 5 * 1000 * 1000}; /* polling interval, not a wait for success */
        nanosleep(&ts, NULL);
    }
}

char *dt_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    size_t n;
    while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            s = realloc(s, cap);
            cr_assert_not_null(s);
        }
    }
    s[len] = '\0';
    fclose(f);
    return s;
}

int dt_connect_raw(const fc_proc *p)
{
    int fd = fc_connect(p->port);
    cr_assert_geq(fd, 0, "connect to port %d failed", p->port);
    return fd;
}

void dt_expect_raw(int fd, const char *want)
{
    size_t len = 0;
    char *r = fc_read_reply(fd, &len, 5000);
    cr_assert_not_null(r, "no reply, wanted %s", want);
    cr_assert_eq(len, strlen(want), "reply '%.*s', wanted '%s'", (int)len, r, want);
    cr_assert_eq(memcmp(r, want, len), 0, "reply '%.*s', wanted '%s'", (int)len, r, want);
    free(r);
}

bool dt_wait_in_file(const char *path, const char *needle)
{
    int64_t deadline = dt_now_ms() + 5000;
    while (dt_now_ms() < deadline) {
        char *s = dt_slurp(path);
        bool found = s && strstr(s, needle) != NULL;
        free(s);
        if (found)
            return true;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return false;
}

char *dt_reload(const fc_proc *p, const char *dir, const char *conf_text, const char *log)
{
    free(dt_write_file(dir, "fc.conf", conf_text));
    cr_assert_eq(kill(p->pid, SIGHUP), 0);
    cr_assert(dt_wait_in_file(log, "Configuration reloaded"), "no reload in the log");
    return dt_slurp(log);
}
