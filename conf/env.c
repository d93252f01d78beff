/*
 * env — ${NAME} and ${NAME:-default} expansion of configuration values.
 *
 *   "redis://${HOST:-localhost}:${PORT}"  ->  "redis://localhost:6380"   (HOST unset, PORT=6380)
 *
 * Rules: NAME is [A-Za-z_][A-Za-z0-9_]*. ${NAME} needs NAME to be set (it may be empty).
 * ${NAME:-default} uses default when NAME is unset or empty, as the shell does; default is
 * literal text up to the first '}' (no nesting) and may be empty. A '$' not followed by '{' is
 * literal. The result is written once, left to right, and never expanded again. The output is
 * bounded by the caller's buffer; overflowing it is an error, never a silent truncation.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

/* Output cursor: pos never exceeds cap - 1, so out[pos] can always hold the terminator. */
typedef struct {
    char *out;
    size_t pos, cap;
    bool overflow;
} sink;

static void put(sink *s, const char *p, size_t n)
{
    if (s->overflow || n > s->cap - 1 - s->pos) {
        s->overflow = true;
        return;
    }
    memcpy(s->out + s->pos, p, n);
    s->pos += n;
}

static bool name_start(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static bool name_char(char ch)
{
    return name_start(ch) || (ch >= '0' && ch <= '9');
}

/* Expands the reference starting at ref ("${..."); on success *end is past its '}'. */
static int expand_ref(const char *ref, sink *s, const char **end, char *err, size_t errlen)
{
    const char *name = ref + 2, *p = name;
    if (name_start(*p))
        while (name_char(*p))
            p++;
    const char *close = strchr(p, '}');
    if (!close) {
        snprintf(err, errlen, "unterminated '${' in value");
        return -1;
    }
    bool has_default = p > name && p[0] == ':' && p[1] == '-';
    if (p == name || (*p != '}' && !has_default)) {
        snprintf(err, errlen, "invalid variable reference '%.*s' (expected ${NAME} or "
                 "${NAME:-default})", (int)(close - ref + 1), ref);
        return -1;
    }
    char var[FC_CONF_STR];
    size_t nlen = (size_t)(p - name);
    if (nlen >= sizeof(var)) {
        snprintf(err, errlen, "environment variable name is too long");
        return -1;
    }
    memcpy(var, name, nlen);
    var[nlen] = '\0';
    const char *val = getenv(var);
    if (has_default && (!val || !*val)) {
        put(s, p + 2, (size_t)(close - (p + 2)));
    } else if (!val) {
        snprintf(err, errlen, "environment variable %s is not set", var);
        return -1;
    } else {
        put(s, val, strlen(val));
    }
    *end = close + 1;
    return 0;
}

int fc_conf_expand_env(const char *value, char *out, size_t outlen, char *err, size_t errlen)
{
    if (outlen == 0) {
        snprintf(err, errlen, "value is too long (no room)");
        return -1;
    }
    sink s = {out, 0, outlen, false};
    const char *p = value;
    while (*p) {
        const char *dollar = strstr(p, "${");
        if (!dollar) {
            put(&s, p, strlen(p));
            break;
        }
        put(&s, p, (size_t)(dollar - p));
        if (expand_ref(dollar, &s, &p, err, errlen) < 0)
            return -1;
    }
    if (s.overflow) {
        snprintf(err, errlen, "value is too long after ${} expansion (max %zu bytes)", outlen - 1);
        return -1;
    }
    out[s.pos] = '\0';
    return 0;
}
