/*
 * namespaces — [cache] namespaces: key prefixes whose keys INFO namespaces counts together.
 *
 *   namespaces = users:, session:, users:admin:
 *
 * Entries are separated by commas and/or blanks (so a prefix cannot hold either), each 1..128
 * bytes, at most FC_CONF_MAX_NAMESPACES; an entry given twice is kept once. Matching is byte for
 * byte and the longest configured prefix wins, exactly like [ttl], whose prefixes are configured
 * namespaces too (the server merges both lists). A failed set leaves c->namespaces unchanged:
 * the list is built aside, then copied.
 */
#include <stdio.h>
#include <string.h>

#include "conf/conf_internal.h"

#define SEPARATORS ", \t"

static bool listed(const fc_conf_namespace *list, int n, const char *p, size_t len)
{
    for (int i = 0; i < n; i++)
        if (list[i].len == len && memcmp(list[i].prefix, p, len) == 0)
            return true;
    return false;
}

int fc_conf_set_namespaces(fc_conf *c, const fc_conf_key *k, const char *value, char *err,
                           size_t errlen)
{
    (void)k;
    fc_conf_namespace list[FC_CONF_MAX_NAMESPACES];
    int n = 0;
    for (const char *p = value + strspn(value, SEPARATORS); *p; p += strspn(p, SEPARATORS)) {
        size_t len = strcspn(p, SEPARATORS);
        if (len > FC_CONF_TTL_PREFIX_MAX) {
            snprintf(err, errlen, "namespaces: prefix '%.40s...' is too long (max %d bytes)", p,
                     FC_CONF_TTL_PREFIX_MAX);
            return -1;
        }
        if (!listed(list, n, p, len)) {
            if (n == FC_CONF_MAX_NAMESPACES) {
                snprintf(err, errlen, "namespaces: too many prefixes (max %d)",
                         FC_CONF_MAX_NAMESPACES);
                return -1;
            }
            list[n].len = len;
            memcpy(list[n].prefix, p, len);
            list[n].prefix[len] = '\0';
            n++;
        }
        p += len;
    }
    memcpy(c->namespaces, list, sizeof(list[0]) * (size_t)n);
    c->nnamespaces = n;
    return 0;
}

void fc_conf_print_namespaces(const fc_conf *c, const fc_conf_key *k, char *out, size_t len)
{
    (void)k;
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < c->nnamespaces && i < FC_CONF_MAX_NAMESPACES && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%.*s", i ? ", " : "",
                                 FC_CONF_TTL_PREFIX_MAX, c->namespaces[i].prefix);
}

int fc_conf_validate_namespaces(const fc_conf *c, char *err, size_t errlen)
{
    if (c->nnamespaces < 0 || c->nnamespaces > FC_CONF_MAX_NAMESPACES) {
        snprintf(err, errlen, "nnamespaces must be between 0 and %d", FC_CONF_MAX_NAMESPACES);
        return -1;
    }
    for (int i = 0; i < c->nnamespaces; i++) {
        size_t len = c->namespaces[i].len;
        if (len == 0 || len > FC_CONF_TTL_PREFIX_MAX ||
            strnlen(c->namespaces[i].prefix, len + 1) != len) {
            snprintf(err, errlen, "[cache] namespaces entry %d is out of bounds", i);
            return -1;
        }
    }
    return 0;
}
