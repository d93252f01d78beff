/*
 * daemon_util — helpers shared by the tests/integration/test_daemon_*.c files (on top of the
 * harness): start a daemon that the suite's fini stops even when an assertion failed, hiredis
 * wrappers that assert the reply type, raw-socket reads with a deadline, temp files, a clock.
 *
 * Every helper that can fail asserts with Criterion, so it may only be called from a test body.
 * Processes started through dt_start are recorded and stopped by dt_fini (use it as the suite's
 * .fini); a test that stops or reaps one itself sets its pid to 0.
 */
#ifndef FC_TESTS_INTEGRATION_DAEMON_UTIL_H
#define FC_TESTS_INTEGRATION_DAEMON_UTIL_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/integration/harness.h"

/* Starts the daemon with extra args (NULL-terminated, may be NULL); asserts it came up. */
void dt_start(fc_proc *p, const char *const *extra_args);

/* Stops the daemon with SIGTERM and asserts it exited with status 0 (under ASan this also catches
 * leaks and errors reported at exit); on failure the daemon's log is printed. Sets p->pid to 0. */
void dt_stop_ok(fc_proc *p);

/* Stops every process started by dt_start that still has a pid (the suites' .fini). */
void dt_fini(void);

/* Connects hiredis to the daemon's TCP port (5 s timeouts on connect and I/O); asserts. */
redisContext *dt_connect(const fc_proc *p);

/* Runs a command (hiredis format) and returns the reply; asserts it is not NULL. */
redisReply *dt_cmd(redisContext *c, const char *fmt, ...);

/* Runs a command and asserts an integer reply; returns it. */
long long dt_int(redisContext *c, const char *fmt, ...);

/* Runs a command and asserts a status or error reply equal to `want`. */
void dt_expect(redisContext *c, const char *want, const char *fmt, ...);

/* Monotonic milliseconds. */
int64_t dt_now_ms(void);

/* Polls (up to 5 s) until needle appears in the file at path (a log line, typically). */
bool dt_wait_in_file(const char *path, const char *needle);

/* Rewrites dir/fc.conf with conf_text, sends SIGHUP and waits (5 s) for "Configuration reloaded"
 * in the log file; returns the log's text (malloc'd). Asserts. */
char *dt_reload(const fc_proc *p, const char *dir, const char *conf_text, const char *log);

/* A raw socket to the daemon (asserts it connects). */
int dt_connect_raw(const fc_proc *p);

/* Reads one reply from a raw socket and asserts its exact bytes (5 s deadline). */
void dt_expect_raw(int fd, const char *want);

/* Waits up to timeout_ms for fd to become readable; true if it did. */
bool dt_wait_readable(int fd, int timeout_ms);

/* Reads until EOF or error within timeout_ms, discarding data; true if EOF (read returned 0) or
 * the peer reset the connection came before the deadline. */
bool dt_wait_eof(int fd, int timeout_ms);

/* Reads exactly len bytes into buf within timeout_ms; true on success. */
bool dt_read_exact(int fd, void *buf, size_t len, int timeout_ms);

/* Creates a fresh temporary directory (malloc'd path); asserts. */
char *dt_tmpdir(void);

/* Writes text to dir/name and returns the malloc'd path; asserts. */
char *dt_write_file(const char *dir, const char *name, const char *text);

/* Waits for the child to exit within timeout_ms. Returns its exit status, -1 if killed by a
 * signal, -2 on timeout (the process is left running). Sets p->pid to 0 once reaped. */
int dt_wait_exit(fc_proc *p, int timeout_ms);

/* Reads a whole file into a malloc'd NUL-terminated string (empty string if missing). */
char *dt_slurp(const char *path);

#endif
