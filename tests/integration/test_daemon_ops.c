/*
 * test_daemon_ops — operations: SIGHUP reloads the config file (loglevel, default TTL) while
 * clients stay connected, a bad file keeps the running config and logs file:line, keys that need
 * a restart are reported; the pidfile is written and removed; the logfile is appended to and
 * reopened on SIGHUP (rotation); maxclients is lowered to fit a low open-files limit; a stop
 * flushes replies already computed before closing.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/daemon_util.h"

TestSuite(daemon_ops, .fini = dt_fini, .timeout = 60);

static fc_proc d;

static int count_in_file(const char *path, const char *needle)
{
    char *s = dt_slurp(path);
    int n = 0;
    for (char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    free(s);
    return n;
}

typedef struct {
    char *dir, *conf, *log;
} setup;

static setup start_with_conf(const char *body)
{
    setup s;
    s.dir = dt_tmpdir();
    char text[1024];
    char logpath[256];
    snprintf(logpath, sizeof(logpath), "%s/fc.log", s.dir);
    snprintf(text, sizeof(text), "[server]\nlogfile = %s\n%s", logpath, body);
    s.conf = dt_write_file(s.dir, "fc.conf", text);
    s.log = strdup(logpath);
    const char *args[] = {"-c", s.conf, NULL};
    dt_start(&d, args);
    cr_assert(dt_wait_in_file(s.log, "ready to accept connections"));
    return s;
}

static void free_setup(setup *s)
{
    free(s->dir);
    free(s->conf);
    free(s->log);
}

static void rewrite_conf(setup *s, const char *body)
{
    char text[1024];
    snprintf(text, sizeof(text), "[server]\nlogfile = %s\n%s", s->log, body);
    free(dt_write_file(s->dir, "fc.conf", text));
}

/* Sends SIGHUP and waits for the n-th reload outcome line. */
static void hup(setup *s, int nth)
{
    cr_assert_eq(kill(d.pid, SIGHUP), 0);
    int64_t deadline = dt_now_ms() + 5000;
    while (dt_now_ms() < deadline) {
        int n = count_in_file(s->log, "Configuration reloaded") +
                count_in_file(s->log, "Config reload failed");
        if (n >= nth)
            return;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    cr_assert_fail("no reload outcome in the log");
}

Test(daemon_ops, sighup_applies_loglevel_and_ttl_and_keeps_clients)
{
    setup s = start_with_conf("loglevel = notice\n[cache]\nttl = none\n");
    redisContext *c = dt_connect(&d);
    dt_expect(c, "OK", "SET before v");
    /* A protocol error is logged at verbose level: not visible yet. */
    int fd = fc_connect(d.port);
    cr_assert_eq(fc_send_all(fd, "*1\r\n$-7\r\n", 9), 0);
    cr_assert(dt_wait_eof(fd, 2000));
    close(fd);
    rewrite_conf(&s, "loglevel = verbose\n[cache]\nttl = 100\n");
    hup(&s, 1);
    cr_assert_eq(count_in_file(s.log, "Protocol error"), 0, "logged before the reload");
    fd = fc_connect(d.port);
    cr_assert_eq(fc_send_all(fd, "*1\r\n$-7\r\n", 9), 0);
    cr_assert(dt_wait_eof(fd, 2000));
    close(fd);
    cr_assert(dt_wait_in_file(s.log, "Protocol error"), "verbose line missing after the reload");
    /* The client connected before the reload is still served; new writes get the new TTL. */
    dt_expect(c, "OK", "SET after v");
    long long ttl = dt_int(c, "TTL after");
    cr_assert(ttl > 0 && ttl <= 100, "TTL after reload: %lld", ttl);
    cr_assert_eq(dt_int(c, "TTL before"), -1);
    redisFree(c);
    dt_stop_ok(&d);
    free_setup(&s);
}

/* SIGHUP sets a password: new connections need AUTH with it; a client connected before (when
 * there was no password) stays authenticated, as with Redis's CONFIG SET requirepass. */
Test(daemon_ops, sighup_applies_requirepass)
{
    setup s = start_with_conf("");
    redisContext *before = dt_connect(&d);
    rewrite_conf(&s, "requirepass = s3cret\n");
    hup(&s, 1);
    dt_expect(before, "OK", "SET k v");
    int fd = fc_connect(d.port);
    cr_assert_geq(fd, 0);
    const char *get = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    const char *auth = "*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n";
    cr_assert_eq(fc_send_all(fd, get, strlen(get)), 0);
    size_t n;
    char *r = fc_read_reply(fd, &n, 2000);
    cr_assert_not_null(r);
    cr_assert_str_eq(r, "-NOAUTH Authentication required.\r\n");
    free(r);
    cr_assert_eq(fc_send_all(fd, auth, strlen(auth)), 0);
    r = fc_read_reply(fd, &n, 2000);
    cr_assert_not_null(r);
    cr_assert_str_eq(r, "+OK\r\n");
    free(r);
    close(fd);
    redisFree(before);
    dt_stop_ok(&d);
    free_setup(&s);
}

Test(daemon_ops, sighup_bad_file_keeps_config_and_restart_keys_are_reported)
{
    setup s = start_with_conf("[cache]\nttl = 50\n");
    redisContext *c = dt_connect(&d);
    rewrite_conf(&s, "[cache]\nttl = 7\nbogus line\n");
    hup(&s, 1);
    cr_assert(dt_wait_in_file(s.log, "fc.conf:5: syntax error"), "no file:line message");
    dt_expect(c, "OK", "SET k v");
    long long ttl = dt_int(c, "TTL k");
    cr_assert(ttl > 7 && ttl <= 50, "the bad file changed the TTL: %lld", ttl);
    rewrite_conf(&s, "databases = 4\n[cache]\nttl = 50\n");
    hup(&s, 2);
    cr_assert(dt_wait_in_file(s.log, "[server] databases = 4 changed in the file; ignored until "
                                  "restart"));
    dt_expect(c, "OK", "SELECT 10"); /* still 16 databases */
    redisFree(c);
    dt_stop_ok(&d);
    free_setup(&s);
}

Test(daemon_ops, pidfile_written_and_removed)
{
    char *dir = dt_tmpdir();
    char pidfile[256];
    snprintf(pidfile, sizeof(pidfile), "%s/fc.pid", dir);
    const char *args[] = {"--pidfile", pidfile, NULL};
    dt_start(&d, args);
    cr_assert(dt_wait_in_file(pidfile, "\n"));
    char *s = dt_slurp(pidfile);
    cr_assert_eq(atoi(s), (int)d.pid, "pidfile holds '%s', pid %d", s, (int)d.pid);
    free(s);
    dt_stop_ok(&d);
    cr_assert_neq(access(pidfile, F_OK), 0, "pidfile left behind");
    free(dir);
}

Test(daemon_ops, logfile_appended_and_reopened_on_sighup)
{
    setup s = start_with_conf("");
    char rotated[300];
    snprintf(rotated, sizeof(rotated), "%s.1", s.log);
    cr_assert_eq(rename(s.log, rotated), 0);
    hup(&s, 0); /* the outcome goes to the new file: wait for it there */
    cr_assert(dt_wait_in_file(s.log, "Configuration reloaded"), "log not reopened");
    cr_assert_eq(count_in_file(rotated, "Received SIGHUP"), 0);
    cr_assert_eq(count_in_file(rotated, "ready to accept connections"), 1);
    dt_stop_ok(&d);
    cr_assert(dt_wait_in_file(s.log, "bye bye"));
    free_setup(&s);
}

Test(daemon_ops, maxclients_reduced_to_fit_low_open_files_limit)
{
    char *dir = dt_tmpdir();
    char logpath[256], port[16];
    snprintf(logpath, sizeof(logpath), "%s/fc.log", dir);
    snprintf(port, sizeof(port), "%d", fc_free_port());
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test: no orphans */
        struct rlimit rl = {64, 64};
        setrlimit(RLIMIT_NOFILE, &rl);
        execl(fc_daemon_bin(), fc_daemon_bin(), "--port", port, "--maxclients", "1000",
              "--logfile", logpath, (char *)NULL);
        _exit(127);
    }
    bool found = dt_wait_in_file(logpath, "maxclients has been reduced to 32");
    bool ready = dt_wait_in_file(logpath, "ready to accept connections");
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    char *log = dt_slurp(logpath);
    cr_assert(found && ready, "log:\n%s", log);
    cr_assert(strstr(log, "You requested maxclients of 1000 requiring at least 1032"), "%s", log);
    free(log);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    free(dir);
}

/* A stop right after a large GET: the whole reply is still delivered, then the close. */
Test(daemon_ops, sigterm_flushes_computed_replies)
{
    dt_start(&d, NULL);
    const size_t n = 8 * 1024 * 1024;
    redisContext *c = dt_connect(&d);
    char *v = malloc(n);
    cr_assert_not_null(v);
    memset(v, 'z', n);
    dt_expect(c, "OK", "SET big %b", v, n);
    redisFree(c);
    int fd = fc_connect(d.port);
    static const char req[] = "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n";
    cr_assert_eq(fc_send_all(fd, req, sizeof(req) - 1), 0);
    cr_assert(dt_wait_readable(fd, 5000));
    cr_assert_eq(kill(d.pid, SIGTERM), 0);
    char hdr[32];
    int hl = snprintf(hdr, sizeof(hdr), "$%zu\r\n", n);
    size_t total = (size_t)hl + n + 2;
    char *got = malloc(total);
    cr_assert_not_null(got);
    cr_assert(dt_read_exact(fd, got, total, 5000), "the reply was cut by the stop");
    cr_assert_eq(memcmp(got, hdr, (size_t)hl), 0);
    cr_assert_eq(memcmp(got + hl, v, n), 0);
    cr_assert(dt_wait_eof(fd, 3000), "no close after the drain");
    free(got);
    free(v);
    close(fd);
    int st = dt_wait_exit(&d, 5000);
    cr_assert_eq(st, 0, "exit status %d", st);
}
