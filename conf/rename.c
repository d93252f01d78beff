/*
 * rename — [server] rename_commands: disable or rename the dangerous commands.
 *
 *   rename_commands = flushall:"" config:admin-config shutdown:
 *
 * Space-separated `command:newname` entries. An empty new name (`flushall:` or `flushall:""`)
 * disables the command. Only the commands that can destroy data or reconfigure the daemon are
 * renamable (see `renamable`); the old name then answers as an unknown command and the new one
 * runs the command. New names are 1..32 letters, digits, '-', '_' or '.', matched
 * case-insensitively (stored in lower case). Whether a new name collides with another command of
 * the table is checked by the server at start (conf/ does not know the table).
 *
 * A failed set leaves c->renames unchanged (the list is built aside, then copied).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_internal.h"

static const char *const renamable[] = {"config", "flushall", "flushdb", "invalidate",
                                        "shutdown"};
#define NRENAMABLE (sizeof(renamable) / sizeof(renamable[0]))

static bool renamable_name(const char *s, size_t n)
{
    for (size_t i = 0; i < NRENAMABLE; i++)
        if (strlen(renamable[i]) == n && strncasecmp(renamable[i], s, n) == 0)
            return true;
    return false;
}

static bool name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.';
}

static void lower_copy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] - 'A' + 'a') : src[i];
    dst[n] = '\0';
}

/* Parses one `from:to` token into *r. Returns 0 or -1 with a message. */
static int parse_entry(const char *tok, size_t len, fc_conf_rename *r, char *err, size_t errlen)
{
    const char *colon = memchr(tok, ':', len);
    if (!colon || colon == tok) {
        snprintf(err, errlen,
                 "invalid rename_commands entry '%.*s' (expected command:newname, or "
                 "command:\"\" to disable)",
                 (int)len, tok);
        return -1;
    }
    size_t flen = (size_t)(colon - tok), tlen = len - flen - 1;
    const char *to = colon + 1;
    if (!renamable_name(tok, flen)) {
        snprintf(err, errlen,
                 "rename_commands: '%.*s' cannot be renamed (only config, flushall, flushdb, "
                 "invalidate and shutdown)",
                 (int)flen, tok);
        return -1;
    }
    if (tlen == 2 && to[0] == '"' && to[1] == '"')
        tlen = 0;
    for (size_t i = 0; i < tlen; i++) {
        if (!name_char(to[i]) || tlen >= FC_CONF_CMD_NAME) {
            snprintf(err, errlen,
                     "rename_commands: invalid new name '%.*s' for %.*s (1 to %d letters, digits, "
                     "'-', '_' or '.'; \"\" to disable)",
                     (int)tlen, to, (int)flen, tok, FC_CONF_CMD_NAME - 1);
            return -1;
        }
    }
    if (tlen > 0 && renamable_name(to, tlen)) {
        snprintf(err, errlen, "rename_commands: new name '%.*s' is the name of a renamable command",
                 (int)tlen, to);
        return -1;
    }
    lower_copy(r->from, tok, flen);
    lower_copy(r->to, to, tlen);
    return 0;
}

/* Rejects a command listed twice, and two commands given the same new name. */
static int check_unique(const fc_conf_rename *list, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++) {
            if (strcmp(list[i].from, list[j].from) == 0) {
                snprintf(err, errlen, "rename_commands: %s is listed twice", list[i].from);
                return -1;
            }
            if (list[i].to[0] && strcmp(list[i].to, list[j].to) == 0) {
                snprintf(err, errlen, "rename_commands: %s and %s are both renamed to '%s'",
                         list[j].from, list[i].from, list[i].to);
                return -1;
            }
        }
    }
    return 0;
}

int fc_conf_set_renames(fc_conf *c, const fc_conf_key *k, const char *value, char *err,
                        size_t errlen)
{
    (void)k;
    fc_conf_rename list[FC_CONF_MAX_RENAMES];
    int n = 0;
    for (const char *p = value + strspn(value, " \t"); *p; p += strspn(p, " \t")) {
        size_t len = strcspn(p, " \t");
        if (n == FC_CONF_MAX_RENAMES) {
            snprintf(err, errlen, "rename_commands: too many entries (max %d)",
                     FC_CONF_MAX_RENAMES);
            return -1;
        }
        if (parse_entry(p, len, &list[n], err, errlen) < 0)
            return -1;
        n++;
        p += len;
    }
    if (check_unique(list, n, err, errlen) < 0)
        return -1;
    memcpy(c->renames, list, sizeof(list[0]) * (size_t)n);
    c->nrenames = n;
    return 0;
}

void fc_conf_print_renames(const fc_conf *c, const fc_conf_key *k, char *out, size_t len)
{
    (void)k;
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < c->nrenames && i < FC_CONF_MAX_RENAMES && used < len; i++) {
        const fc_conf_rename *r = &c->renames[i];
        used += (size_t)snprintf(out + used, len - used, "%s%.*s:%.*s", i ? " " : "",
                                 FC_CONF_CMD_NAME, r->from, FC_CONF_CMD_NAME,
                                 r->to[0] ? r->to : "\"\"");
    }
}
