/*
 * ttl — the [ttl] section: default TTL per key prefix.
 *
 *   [ttl]
 *   users: = 300          ; keys starting with "users:" get 300 s
 *   session: = 1800
 *   config: = none        ; no expiry, even when [cache] ttl is set
 *   "  padded " = 60      ; quotes keep edge spaces (or a leading ; # [ ")
 *
 * Keys of this section are arbitrary prefixes, not rows of the key table, and may contain ':'
 * (which inih would take as its key/value separator), so load.c hands these lines to
 * fc_conf_ttl_line instead of inih. A line is "prefix = value": the inline comment (';' after a
 * space or tab) is cut as inih does, the split is at the LAST '=' (values never contain one, so a
 * prefix may), both sides are trimmed, and a prefix wrapped in double quotes loses them.
 *
 * Entries stay in the order first given; a prefix given again takes the new value. A failed set
 * leaves c unchanged. Longest-prefix lookup happens elsewhere (conf/ttl_table.h), over a
 * structure built from this list.
 */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_internal.h"

#define VALUE_MAX 64 /* an expanded value longer than this is not a number anyway */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Seconds or none (0). Returns 0, or -1 with a message naming the prefix. */
static int parse_value(const char *v, const char *prefix, int64_t *out, char *err, size_t errlen)
{
    if (strcasecmp(v, "none") == 0) {
        *out = 0;
        return 0;
    }
    const char *digits = v[0] == '-' ? v + 1 : v;
    size_t n = strlen(digits);
    if (n == 0 || strspn(digits, "0123456789") != n) {
        snprintf(err, errlen,
                 "invalid ttl '%s' for prefix '%s' (expected a number of seconds or none)", v,
                 prefix);
        return -1;
    }
    int64_t x = 0;
    for (size_t i = 0; i < n && x <= INT32_MAX; i++)
        x = x * 10 + (digits[i] - '0');
    if (v[0] == '-' && x != 0) {
        snprintf(err, errlen,
                 "ttl for prefix '%s' must not be negative (got %s; use 0 or none for no expiry)",
                 prefix, v);
        return -1;
    }
    if (x > INT32_MAX) {
        snprintf(err, errlen, "ttl for prefix '%s' must be at most %d seconds (got %s)", prefix,
                 INT32_MAX, v);
        return -1;
    }
    *out = x;
    return 0;
}

int fc_conf_set_ttl_prefix(fc_conf *c, const char *prefix, size_t len, const char *value,
                           char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen,
                 "empty prefix in [ttl] (use [cache] ttl for the default of all keys)");
        return -1;
    }
    if (len > FC_CONF_TTL_PREFIX_MAX) {
        snprintf(err, errlen, "[ttl] prefix '%.40s...' is too long (max %d bytes)", prefix,
                 FC_CONF_TTL_PREFIX_MAX);
        return -1;
    }
    if (memchr(prefix, '\0', len)) {
        snprintf(err, errlen, "[ttl] prefix contains a NUL byte");
        return -1;
    }
    char name[FC_CONF_TTL_PREFIX_MAX + 1], buf[VALUE_MAX];
    memcpy(name, prefix, len);
    name[len] = '\0';
    if (fc_conf_expand_env(value, buf, sizeof(buf), err, errlen) < 0)
        return -1;
    int64_t ttl;
    if (parse_value(buf, name, &ttl, err, errlen) < 0)
        return -1;
    int i = 0;
    while (i < c->nttl_prefixes &&
           !(c->ttl_prefixes[i].len == len && memcmp(c->ttl_prefixes[i].prefix, name, len) == 0))
        i++;
    if (i == FC_CONF_MAX_TTL_PREFIXES) {
        snprintf(err, errlen, "too many [ttl] prefixes (max %d)", FC_CONF_MAX_TTL_PREFIXES);
        return -1;
    }
    fc_conf_ttl_prefix *e = &c->ttl_prefixes[i];
    e->ttl = ttl;
    e->len = len;
    memcpy(e->prefix, name, len + 1);
    if (i == c->nttl_prefixes)
        c->nttl_prefixes++;
    return 0;
}

int fc_conf_ttl_line(fc_conf *c, const char *line, size_t len, char *err, size_t errlen)
{
    for (size_t i = 1; i < len; i++) {
        if (line[i] == ';' && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
            len = i;
            break;
        }
    }
    const char *eq = NULL;
    for (size_t i = 0; i < len; i++)
        if (line[i] == '=')
            eq = line + i;
    if (!eq) {
        snprintf(err, errlen, "invalid [ttl] line (expected: prefix = seconds, or prefix = none)");
        return -1;
    }
    const char *p = line, *pe = eq, *v = eq + 1, *ve = line + len;
    while (p < pe && is_blank(*p))
        p++;
    while (pe > p && is_blank(pe[-1]))
        pe--;
    while (v < ve && is_blank(*v))
        v++;
    while (ve > v && is_blank(ve[-1]))
        ve--;
    if (pe - p >= 2 && *p == '"' && pe[-1] == '"') {
        p++;
        pe--;
    }
    char value[VALUE_MAX * 4];
    if ((size_t)(ve - v) >= sizeof(value)) {
        snprintf(err, errlen, "invalid ttl '%.20s...' (expected a number of seconds or none)", v);
        return -1;
    }
    memcpy(value, v, (size_t)(ve - v));
    value[ve - v] = '\0';
    return fc_conf_set_ttl_prefix(c, p, (size_t)(pe - p), value, err, errlen);
}

/* Whether the prefix needs quotes to read back (edge blanks, or a first byte that would make
 * the line a comment, a section header, or a quoted prefix). */
static bool needs_quotes(const fc_conf_ttl_prefix *e)
{
    char first = e->prefix[0], last = e->prefix[e->len - 1];
    return is_blank(first) || is_blank(last) || first == ';' || first == '#' || first == '[' ||
           first == '"';
}

/* Whether the line cannot read back: an inline comment start inside, or too long a line. */
static bool reads_back(const fc_conf_ttl_prefix *e, size_t line_len)
{
    for (size_t i = 1; i < e->len; i++)
        if (e->prefix[i] == ';' && (e->prefix[i - 1] == ' ' || e->prefix[i - 1] == '\t'))
            return false;
    return line_len <= 197 && !strchr(e->prefix, '\n');
}

void fc_conf_print_ttl(const fc_conf *c, FILE *out)
{
    if (c->nttl_prefixes <= 0)
        return;
    fprintf(out, "\n[ttl]\n");
    for (int i = 0; i < c->nttl_prefixes && i < FC_CONF_MAX_TTL_PREFIXES; i++) {
        const fc_conf_ttl_prefix *e = &c->ttl_prefixes[i];
        size_t len = e->len <= FC_CONF_TTL_PREFIX_MAX ? e->len : FC_CONF_TTL_PREFIX_MAX;
        if (len == 0)
            continue;
        char val[24];
        if (e->ttl == 0)
            snprintf(val, sizeof(val), "none");
        else
            snprintf(val, sizeof(val), "%" PRId64, e->ttl);
        const char *q = needs_quotes(e) ? "\"" : "";
        size_t line_len = len + 2 * strlen(q) + 3 + strlen(val);
        if (!reads_back(e, line_len))
            fprintf(out, "; warning: the next value will not read back exactly\n");
        fprintf(out, "%s%.*s%s = %s\n", q, (int)len, e->prefix, q, val);
    }
}

int fc_conf_validate_ttl(const fc_conf *c, char *err, size_t errlen)
{
    if (c->nttl_prefixes < 0 || c->nttl_prefixes > FC_CONF_MAX_TTL_PREFIXES) {
        snprintf(err, errlen, "nttl_prefixes must be between 0 and %d", FC_CONF_MAX_TTL_PREFIXES);
        return -1;
    }
    for (int i = 0; i < c->nttl_prefixes; i++) {
        const fc_conf_ttl_prefix *e = &c->ttl_prefixes[i];
        if (e->len == 0 || e->len > FC_CONF_TTL_PREFIX_MAX || e->ttl < 0 || e->ttl > INT32_MAX) {
            snprintf(err, errlen, "[ttl] entry %d is out of bounds", i);
            return -1;
        }
    }
    return 0;
}
