/*
 * test_daemon_tools — the daemon driven by the real tools (redis-cli one-shot, --scan, --pipe,
 * -n; redis-benchmark with pipelining) and the configuration front end (--test-config, file
 * errors as file:line: message, ${VAR} expansion, flags over the file).
 *
 * Tools run through the harness's fc_run_capture under `timeout`, so a hang fails the test
 * instead of stalling the suite.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/daemon_util.h"

TestSuite(daemon_tools, .fini = dt_fini, .timeout = 60);

static fc_proc d;

/* Runs a shell command line built with printf-style arguments; returns its stdout. */
static char *run(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *run(int *status, const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    cr_assert_gt(vasprintf(&cmd, fmt, ap), 0);
    va_end(ap);
    char *out = fc_run_capture(cmd, status);
    cr_assert_not_null(out, "could not run: %s", cmd);
    free(cmd);
    return out;
}

Test(daemon_tools, redis_cli_one_shot_and_db)
{
    dt_start(&d, NULL);
    int st;
    char *out = run(&st, "timeout 10 redis-cli -p %d set users:1 x ex 60", d.port);
    cr_assert_eq(st, 0);
    cr_assert_str_eq(out, "OK\n");
    free(out);
    out = run(&st, "timeout 10 redis-cli -p %d ttl users:1", d.port);
    cr_assert(strcmp(out, "60\n") == 0 || strcmp(out, "59\n") == 0, "TTL printed %s", out);
    free(out);

    out = run(&st, "timeout 10 redis-cli -p %d -n 3 set k v", d.port);
    cr_assert_eq(st, 0);
    cr_assert_str_eq(out, "OK\n");
    free(out);
    redisContext *c = dt_connect(&d);
    cr_assert_eq(dt_int(c, "EXISTS k"), 0, "redis-cli -n 3 wrote into db 0");
    dt_expect(c, "OK", "SELECT 3");
    redisReply *r = dt_cmd(c, "GET k");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert_str_eq(r->str, "v");
    freeReplyObject(r);
    redisFree(c);
    dt_stop_ok(&d);
}

/* Counts the lines of s equal to line. */
static int count_lines(const char *s, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *p = s; *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        if (l == len && memcmp(p, line, len) == 0)
            n++;
        p += l + (nl != NULL);
    }
    return n;
}

Test(daemon_tools, redis_cli_scan_pattern)
{
    dt_start(&d, NULL);
    redisContext *c = dt_connect(&d);
    enum { N = 300 };
    for (int i = 0; i < N; i++)
        dt_expect(c, "OK", "SET users:%d x", i);
    for (int i = 0; i < 100; i++)
        dt_expect(c, "OK", "SET orders:%d x", i);
    redisFree(c);
    int st;
    char *out = run(&st, "timeout 10 redis-cli -p %d --scan --pattern 'users:*'", d.port);
    cr_assert_eq(st, 0);
    int lines = 0;
    for (const char *p = out; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, N, "--scan printed %d lines", lines);
    for (int i = 0; i < N; i++) {
        char key[32];
        snprintf(key, sizeof(key), "users:%d", i);
        cr_assert_eq(count_lines(out, key), 1, "%s printed %d times", key, count_lines(out, key));
    }
    cr_assert_null(strstr(out, "orders:"));
    free(out);
    dt_stop_ok(&d);
}

Test(daemon_tools, redis_cli_pipe)
{
    dt_start(&d, NULL);
    int st;
    char *out = run(&st, "printf 'SET a 1\\r\\nGET a\\r\\n' | timeout 10 redis-cli -p %d --pipe",
                    d.port);
    cr_assert_eq(st, 0, "redis-cli --pipe exited %d:\n%s", st, out);
    size_t n = strlen(out);
    static const char tail[] = "errors: 0, replies: 2\n";
    cr_assert(n >= sizeof(tail) - 1 && strcmp(out + n - (sizeof(tail) - 1), tail) == 0,
              "redis-cli --pipe printed:\n%s", out);
    free(out);
    redisContext *c = dt_connect(&d);
    redisReply *r = dt_cmd(c, "GET a");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert_str_eq(r->str, "1");
    freeReplyObject(r);
    redisFree(c);
    dt_stop_ok(&d);
}

Test(daemon_tools, redis_benchmark_pipelined)
{
    dt_start(&d, NULL);
    int st;
    char *out = run(&st,
                    "timeout 40 redis-benchmark -p %d -t set,get,incr,mset -n 20000 -P 16 -q "
                    "2>&1",
                    d.port);
    cr_assert_eq(st, 0, "redis-benchmark exited %d:\n%s", st, out);
    static const char *const tests[] = {"SET: ", "GET: ", "INCR: ", "MSET (10 keys): "};
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
        cr_assert_not_null(strstr(out, tests[i]), "no %s result in:\n%s", tests[i], out);
    cr_assert_null(strstr(out, "ERR"), "error in:\n%s", out);
    cr_assert_null(strstr(out, "rror"), "error in:\n%s", out);
    free(out);
    /* The daemon survived and still has the benchmark's keys. */
    redisContext *c = dt_connect(&d);
    cr_assert_geq(dt_int(c, "EXISTS key:__rand_int__ counter:__rand_int__"), 2);
    redisFree(c);
    dt_stop_ok(&d);
}

static const char good_conf[] = "; a comment\n"
                                "[server]\n"
                                "port = 7777\n"
                                "maxclients = 5\n"
                                "timeout = 30\n"
                                "[cache]\n"
                                "ttl = 100\n";

Test(daemon_tools, test_config_prints_effective_config)
{
    char *dir = dt_tmpdir();
    char *conf = dt_write_file(dir, "good.conf", good_conf);
    int st;
    char *out = run(&st, "%s -c %s --test-config", fc_daemon_bin(), conf);
    cr_assert_eq(st, 0);
    cr_assert_not_null(strstr(out, "\nport = 7777\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\nmaxclients = 5\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\ntimeout = 30\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\nttl = 100\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\nbind = 127.0.0.1\n"), "defaults missing:\n%s", out);
    /* The printout is itself a config file that reads back to the same configuration. */
    char *again = dt_write_file(dir, "again.conf", out);
    int st2;
    char *out2 = run(&st2, "%s -c %s --test-config", fc_daemon_bin(), again);
    cr_assert_eq(st2, 0);
    /* Equal after the first line, a comment that names the file read. */
    cr_assert_not_null(strchr(out, '\n'));
    cr_assert_not_null(strchr(out2, '\n'));
    cr_assert_str_eq(strchr(out2, '\n'), strchr(out, '\n'));
    /* A flag overrides the file. */
    char *out3 = run(&st2, "%s -c %s --port 7778 --test-config", fc_daemon_bin(), conf);
    cr_assert_eq(st2, 0);
    cr_assert_not_null(strstr(out3, "\nport = 7778\n"), "%s", out3);
    cr_assert_null(strstr(out3, "\nport = 7777\n"));
    cr_assert_not_null(strstr(out3, "\nmaxclients = 5\n"), "%s", out3);
    free(out3);
    free(out2);
    free(out);
    unlink(again);
    unlink(conf);
    rmdir(dir);
    free(again);
    free(conf);
    free(dir);
}

/* Runs `bin -c conf [extra]` with only stderr captured; asserts it fails and that stderr holds
 * "conf:line: " followed by msg. */
static void expect_conf_error(const char *conf, const char *extra, int line, const char *msg)
{
    int st;
    char *err = run(&st, "timeout 5 %s -c %s %s 2>&1 >/dev/null", fc_daemon_bin(), conf, extra);
    cr_assert_neq(st, 0, "accepted a bad file (%s)", extra);
    cr_assert_neq(st, 124, "the daemon ran with a bad file (%s)", extra);
    char want[512];
    snprintf(want, sizeof(want), "%s:%d: %s", conf, line, msg);
    cr_assert_not_null(strstr(err, want), "stderr lacks '%s':\n%s", want, err);
    free(err);
}

Test(daemon_tools, bad_config_file_reports_file_and_line)
{
    char *dir = dt_tmpdir();
    char *conf = dt_write_file(dir, "bad.conf", "[server]\nport = 7777\nno_such_key = 1\n");
    expect_conf_error(conf, "--test-config", 3, "unknown key");
    expect_conf_error(conf, "", 3, "unknown key"); /* the daemon proper refuses it too */
    char *conf2 = dt_write_file(dir, "bad2.conf", "[server]\nport = 99999\n");
    expect_conf_error(conf2, "--test-config", 2, "");
    unlink(conf2);
    free(conf2);
    unlink(conf);
    rmdir(dir);
    free(conf);
    free(dir);
}

Test(daemon_tools, unset_env_var_without_default_fails)
{
    char *dir = dt_tmpdir();
    char *conf = dt_write_file(dir, "env.conf",
                               "[server]\nport = ${FC_DAEMON_TEST_UNSET}\n");
    unsetenv("FC_DAEMON_TEST_UNSET");
    expect_conf_error(conf, "--test-config", 2, "");
    int st;
    char *err = run(&st, "%s -c %s --test-config 2>&1 >/dev/null", fc_daemon_bin(), conf);
    cr_assert_not_null(strstr(err, "FC_DAEMON_TEST_UNSET"), "the message names no variable: %s",
                       err);
    free(err);
    /* Set, it expands; with a default, the default applies when unset. */
    char *out = run(&st, "FC_DAEMON_TEST_UNSET=7001 %s -c %s --test-config", fc_daemon_bin(), conf);
    cr_assert_eq(st, 0);
    cr_assert_not_null(strstr(out, "\nport = 7001\n"), "%s", out);
    free(out);
    char *conf2 = dt_write_file(dir, "env2.conf",
                                "[server]\nport = ${FC_DAEMON_TEST_UNSET:-7002}\n");
    out = run(&st, "%s -c %s --test-config", fc_daemon_bin(), conf2);
    cr_assert_eq(st, 0);
    cr_assert_not_null(strstr(out, "\nport = 7002\n"), "%s", out);
    free(out);
    unlink(conf2);
    unlink(conf);
    rmdir(dir);
    free(conf2);
    free(conf);
    free(dir);
}

/* A running daemon: the file names one port, the harness's --port flag another; the flag wins. */
Test(daemon_tools, port_flag_overrides_file_when_running)
{
    int file_port = fc_free_port();
    cr_assert_gt(file_port, 0);
    char *dir = dt_tmpdir();
    char text[128];
    snprintf(text, sizeof(text), "[server]\nport = %d\nmaxclients = 3\n", file_port);
    char *conf = dt_write_file(dir, "fc.conf", text);
    const char *const args[] = {"-c", conf, NULL};
    dt_start(&d, args);
    cr_assert_neq(d.port, file_port);
    redisContext *c = dt_connect(&d);
    redisReply *r = dt_cmd(c, "CONFIG GET maxclients");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_assert_str_eq(r->element[1]->str, "3", "the rest of the file was not applied");
    freeReplyObject(r);
    redisFree(c);
    int fd = fc_connect(file_port);
    cr_assert_lt(fd, 0, "the daemon listens on the file's port too");
    unlink(conf);
    rmdir(dir);
    free(conf);
    free(dir);
    dt_stop_ok(&d);
}

Test(daemon_tools, port_in_use_fails_to_start)
{
    dt_start(&d, NULL);
    int st;
    char *err = run(&st, "timeout 5 %s --port %d --bind 127.0.0.1 2>&1 >/dev/null",
                    fc_daemon_bin(), d.port);
    cr_assert_neq(st, 124, "a second daemon kept running on a port in use");
    cr_assert_neq(st, 0, "a second daemon on a port in use exited 0");
    cr_assert_not_null(strstr(err, "address already in use"), "stderr:\n%s", err);
    free(err);
    /* The first daemon is untouched. */
    redisContext *c = dt_connect(&d);
    dt_expect(c, "PONG", "PING");
    redisFree(c);
    dt_stop_ok(&d);
}
