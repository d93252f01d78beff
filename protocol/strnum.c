/*
 * strnum — strict decimal parsing (see strnum.h).
 */
#include "protocol/strnum.h"

#include <stdint.h>

bool fc_parse_ull(const char *s, size_t n, unsigned long long *out)
{
    if (n == 0 || n > 20)
        return false;
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    if (s[0] < '1' || s[0] > '9')
        return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool fc_parse_ll(const char *s, size_t n, long long *out)
{
    bool neg = n > 0 && s[0] == '-';
    unsigned long long v;
    if (!fc_parse_ull(s + neg, n - neg, &v))
        return false;
    if (neg) {
        if (v == 0 || v > (unsigned long long)INT64_MAX + 1)
            return false;
        *out = (long long)(0 - v);
    } else {
        if (v > (unsigned long long)INT64_MAX)
            return false;
        *out = (long long)v;
    }
    return true;
}
