/*
 * log — see log.h. The level is process-wide state set once at start (and on reload); it is the
 * one mutable global besides the signal flag, because every module logs.
 */
#include "server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static fc_loglevel min_level = FC_LOG_NOTICE;

void fc_log_set_level(fc_loglevel level)
{
    min_level = level;
}

void fc_log(fc_loglevel level, const char *fmt, ...)
{
    static const char marks[] = ".-*#";
    if (level < min_level)
        return;
    char msg[1024], ts[64];
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
    fprintf(stderr, "%d:M %s %c %s\n", (int)getpid(), ts, marks[level], msg);
}
