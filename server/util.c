/*
 * util — strict number parsing and formatting with Redis's rules. See util.h.
 */
#include "server/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool fc_parse_ld(const char *s, size_t n, long double *out)
{
    char buf[5 * 1024 + 1];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (isspace((unsigned char)buf[0]))
        return false;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if ((size_t)(end - buf) != n || isnan(v))
        return false;
    if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO))
        return false;
    *out = v;
    return true;
}

size_t fc_format_ld_human(char *buf, size_t len, long double v)
{
    if (isinf(v)) {
        const char *s = v > 0 ? "inf" : "-inf";
        size_t l = strlen(s);
        if (len <= l)
            return 0;
        memcpy(buf, s, l + 1);
        return l;
    }
    int r = snprintf(buf, len, "%.17Lf", v);
    if (r < 0 || (size_t)r + 1 > len)
        return 0;
    size_t l = (size_t)r;
    if (memchr(buf, '.', l)) {
        while (buf[l - 1] == '0')
            l--;
        if (buf[l - 1] == '.')
            l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return l;
}

size_t fc_format_ll(char *buf, long long v)
{
    char tmp[24];
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t l = 0;
    if (v < 0)
        buf[l++] = '-';
    while (n)
        buf[l++] = tmp[--n];
    buf[l] = '\0';
    return l;
}

bool fc_eq_word(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n; i++) {
        if (word[i] == '\0' || tolower((unsigned char)s[i]) != word[i])
            return false;
    }
    return word[i] == '\0';
}

int64_t fc_time_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t fc_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t fc_time_ms(void)
{
    return fc_time_us() / 1000;
}
