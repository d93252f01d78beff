/*
 * log — leveled logging to stderr or a file, in Redis's line format:
 *   "<pid>:M 26 Nov 2026 05:35:01.123 * message"  (. debug, - verbose, * notice, # warning)
 * The only code that writes to stderr besides main.c's start-up errors. Each line is one write(2)
 * on a file opened with O_APPEND, so lines from a rotated file and the new one never interleave.
 */
#ifndef FC_SERVER_LOG_H
#define FC_SERVER_LOG_H

#include "conf/conf.h"

void fc_log_set_level(fc_loglevel level);

/* Sends the log to `path` (opened for append, created 0644), or to stderr when path is empty.
 * Called again with the same path it reopens the file (log rotation on SIGHUP). On failure the
 * previous destination is kept and a negative errno is returned. */
int fc_log_open(const char *path);

/* Closes the log file, if any; the log goes back to stderr. */
void fc_log_close(void);
void fc_log(fc_loglevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define fc_log_debug(...) fc_log(FC_LOG_DEBUG, __VA_ARGS__)
#define fc_log_verbose(...) fc_log(FC_LOG_VERBOSE, __VA_ARGS__)
#define fc_log_notice(...) fc_log(FC_LOG_NOTICE, __VA_ARGS__)
#define fc_log_warning(...) fc_log(FC_LOG_WARNING, __VA_ARGS__)

#endif
