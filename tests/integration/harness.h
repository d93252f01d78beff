/*
 * harness — process and socket helpers for integration tests.
 *
 * Tests start the real daemon (FASTCACHED_BIN, default build/release/fastcached) and, as the
 * reference, a real redis-server, each on a free loopback port the harness picks, and stop only
 * the processes they started. Readiness is polled (connect until it succeeds, with a deadline),
 * never slept for.
 */
#ifndef FC_TESTS_INTEGRATION_HARNESS_H
#define FC_TESTS_INTEGRATION_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct fc_proc {
    pid_t pid;
    int port;
    char unixsocket[108]; /* empty when not used */
    char logpath[128];    /* the process's stderr+stdout */
} fc_proc;

/* A loopback TCP port that was free a moment ago. */
int fc_free_port(void);

/* Starts build/.../fastcached with --port <free> --bind 127.0.0.1 plus extra args (NULL-terminated
 * list, may be NULL) and waits until it accepts connections (deadline 10 s). Returns 0 or -1. */
int fc_start_daemon(fc_proc *p, const char *const *extra_args);

/* Starts `redis-server` on a free port with no persistence, waits until ready. 0 or -1. */
int fc_start_redis(fc_proc *p, const char *const *extra_args);

/* SIGTERM then waitpid (SIGKILL after 10 s). Returns the exit status as from waitpid's
 * WEXITSTATUS, or -1 if it died by a signal. */
int fc_stop(fc_proc *p);

/* Connects to 127.0.0.1:port; returns the fd or -1. */
int fc_connect(int port);

/* Sends all of buf. Returns 0 or -1. */
int fc_send_all(int fd, const void *buf, size_t len);

/* Encodes a command line (redis-cli quoting) as RESP and sends it: 0, or -1 on failure. */
int fc_send_line(int fd, const char *line);

/* Reads exactly one complete RESP2/RESP3 reply (any type, nested) into a malloc'd buffer with its
 * raw bytes; *len gets its length. Returns NULL on EOF/error/timeout (timeout_ms). */
char *fc_read_reply(int fd, size_t *len, int timeout_ms);

/* Encodes argv as a RESP multibulk into a malloc'd buffer (*len set). */
char *fc_encode_cmd(int argc, const char *const *argv, const size_t *argvlen, size_t *len);

/* Splits a line with redis-cli's quoting rules ("..." with \x escapes, '...') into argv
 * (malloc'd strings and lengths). Returns argc, or -1 on unbalanced quotes. */
int fc_split_args(const char *line, char ***argv, size_t **argvlen);
void fc_free_args(int argc, char **argv, size_t *argvlen);

/* Runs a command line (sh -c) and captures its stdout (malloc'd, NUL-terminated); *status gets the
 * exit status. */
char *fc_run_capture(const char *cmdline, int *status);

/* The path of the daemon binary under test. */
const char *fc_daemon_bin(void);

#endif
