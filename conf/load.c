/*
 * load — INI text to fc_conf through inih, with "name:line: message" errors.
 *
 *   text ──► reader() ──one line──► inih ──(section, key, value)──► handler() ──► fc_conf_set
 *              │ counts lines, strips indentation,
 *              │ checks [section] headers
 *              └─ returns NULL (end of input) once an error is recorded
 *
 * Debian's inih (55) calls the handler without a line number, so the reader counts the lines it
 * hands out: inih parses a line completely before asking for the next one, so the handler always
 * runs for the line most recently read. The first error stops the parse; the struct then holds
 * the keys of the lines before it (callers discard it).
 *
 * Dialect, as inih 55 parses it and as fastcached.conf.example documents it:
 * - comments: lines starting with ';' or '#'; inline comments start with ';' preceded by
 *   whitespace ("a ;b" is "a", "a;b" and "a #b" are kept whole);
 * - "key = value" or "key: value"; spaces around key and value are trimmed; quotes are kept;
 * - a key given twice: the last one wins (bind is replaced, not appended);
 * - a section may appear more than once; keys before the first section are an error;
 * - indentation is ignored: the reader strips it, so inih's multi-line values (an indented line
 *   continuing the previous key) never happen and indented keys mean what they look like;
 * - a line holds at most ini_max_line - 3 characters (197 with Debian's build).
 * - [ttl] lines ("prefix = seconds") never reach inih: their prefixes may hold ':' (see ttl.c).
 * The whole input is in memory (files are read whole, up to MAX_FILE bytes).
 */
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/conf_internal.h"

#define MAX_FILE (1024 * 1024)

typedef struct {
    fc_conf *conf;
    const char *text;
    size_t len, pos;
    int line;           /* lines handed to inih so far: the current line's number */
    int err_line;       /* line of the first error we recorded, 0 if none */
    bool in_ttl;        /* inside a [ttl] section: key lines are parsed here, not by inih */
    char msg[512];      /* that error, without the "name:line: " prefix */
} source;

static void fail(source *s, const char *msg)
{
    if (s->err_line)
        return;
    s->err_line = s->line;
    snprintf(s->msg, sizeof(s->msg), "%s", msg);
}

/* Checks a "[name]" line as inih will read it: the name is everything up to the first ']'. */
static void check_section(source *s, const char *line, size_t len)
{
    const char *close = memchr(line, ']', len);
    char msg[128];
    if (!close) {
        fail(s, "missing ']' in section header");
    } else if (!fc_conf_section_known(line + 1, (size_t)(close - line - 1))) {
        snprintf(msg, sizeof(msg), "unknown section [%.*s]", (int)(close - line - 1), line + 1);
        fail(s, msg);
    } else {
        s->in_ttl = close - line - 1 == 3 && memcmp(line + 1, "ttl", 3) == 0;
    }
}

/* A [ttl] line that is not blank, a comment or a section header: applied here (inih would split
 * "users: = 300" at the ':'), and inih is handed an empty line instead. */
static bool ttl_key_line(source *s, const char *line, size_t len)
{
    if (!s->in_ttl || len == 0 || line[0] == ';' || line[0] == '#' || line[0] == '[')
        return false;
    size_t blank = 0;
    while (blank < len && strchr(" \t\r\f\v", line[blank]) && line[blank] != '\0')
        blank++;
    if (blank == len)
        return false;
    char msg[sizeof(s->msg)];
    if (fc_conf_ttl_line(s->conf, line, len, msg, sizeof(msg)) < 0)
        fail(s, msg);
    return true;
}

static char *reader(char *str, int num, void *stream)
{
    source *s = stream;
    if (s->err_line || s->pos >= s->len)
        return NULL;
    const char *p = s->text + s->pos;
    const char *nl = memchr(p, '\n', s->len - s->pos);
    size_t len = nl ? (size_t)(nl - p) : s->len - s->pos;
    s->pos += len + (nl != NULL);
    s->line++;
    if (s->line == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        len -= 3;
    }
    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    if (memchr(p, '\0', len)) {
        fail(s, "line contains a NUL byte");
        return NULL;
    }
    if (num < 3 || len > (size_t)num - 3) {
        char msg[64];
        snprintf(msg, sizeof(msg), "line is too long (max %d characters)", num < 3 ? 0 : num - 3);
        fail(s, msg);
        return NULL;
    }
    if (len && *p == '[')
        check_section(s, p, len);
    if (ttl_key_line(s, p, len))
        len = 0;
    if (s->err_line)
        return NULL;
    memcpy(str, p, len);
    str[len] = '\n';
    str[len + 1] = '\0';
    return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    source *s = user;
    char msg[sizeof(s->msg)];
    if (s->err_line)
        return 0;
    if (section[0] == '\0') {
        snprintf(msg, sizeof(msg),
                 "key '%s' is outside any section (put it under [server], [cache] or [redis])",
                 name);
        fail(s, msg);
        return 0;
    }
    if (fc_conf_set(s->conf, section, name, value, msg, sizeof(msg)) < 0) {
        fail(s, msg);
        return 0;
    }
    return 1;
}

static int parse_text(fc_conf *c, const char *name, const char *text, size_t len, char *err,
                      size_t errlen)
{
    source s = {.conf = c, .text = text, .len = len};
    int bad = ini_parse_stream(reader, &s, handler, &s);
    if (bad > 0 && (s.err_line == 0 || bad < s.err_line)) {
        s.err_line = bad;
        snprintf(s.msg, sizeof(s.msg),
                 "syntax error (expected [section], key = value, or a comment)");
    } else if (bad < 0 && s.err_line == 0) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    if (s.err_line == 0)
        return 0;
    snprintf(err, errlen, "%s:%d: %s", name, s.err_line, s.msg);
    return -1;
}

int fc_conf_load_string(fc_conf *c, const char *name, const char *text, char *err, size_t errlen)
{
    return parse_text(c, name, text, strlen(text), err, errlen);
}

/* Reads the whole file into a heap buffer (*out, *outlen). Returns 0 or -1 with a message. */
static int slurp(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open config file '%s': %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(MAX_FILE + 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out_close;
    }
    size_t n = fread(buf, 1, MAX_FILE + 1, f);
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read config file '%s': %s", path, strerror(errno));
        goto out_free_buf;
    }
    if (n > MAX_FILE) {
        snprintf(err, errlen, "config file '%s' is too large (max %d bytes)", path, MAX_FILE);
        goto out_free_buf;
    }
    fclose(f);
    *out = buf;
    *outlen = n;
    return 0;
out_free_buf:
    free(buf);
out_close:
    fclose(f);
    return -1;
}

int fc_conf_load_file(fc_conf *c, const char *path, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (slurp(path, &text, &len, err, errlen) < 0)
        return -1;
    snprintf(c->path, sizeof(c->path), "%s", path);
    int rc = parse_text(c, path, text, len, err, errlen);
    free(text);
    return rc;
}
