/*
 * log — see log.h. The level is process-wide state set once at start (and on reload); it is the
 * one mutable global besides the signal flag, because every module logs.
 */
#include "server/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static fc_loglevel min_level = FC_LOG_NOTICE;
static int log_fd = STDERR_FILENO;

int fc_log_open(const char *path)
{
    if (!path[0]) {
        fc_log_close();
        return 0;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    fc_log_close();
    log_fd = fd;
    return 0;
}

void fc_log_close(void)
{
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = STDERR_FILENO;
}

void fc_log_set_level(fc_loglevel level)
{
    min_level = level;
}

void fc_log(fc_loglevel level, const char *fmt, ...)
{
    static const char marks[] = ".-*#";
    if (level < min_level)
        return;
    char msg[1024], ts[64], line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(ts, sizeof(ts), "%d %b %Y %H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03d", (int)(tv.tv_usec / 1000));
    int w0 = snprintf(line, sizeof(line), "%d:M %s %c %s\n", (int)getpid(), ts, marks[level], msg);
    if (w0 < 0)
        return;
    size_t len = (size_t)w0 < sizeof(line) ? (size_t)w0 : sizeof(line) - 1;
    ssize_t w = write(log_fd, line, len);
    (void)w; /* nowhere to report a failing log */
}
