/*
 * test_compat — byte-for-byte comparison of fastcached against a real redis-server.
 *
 * Both servers are started by the test. Every .txt file in tests/integration/cases/ (directory
 * overridable with FC_CASES_DIR) is run on fresh connections after FLUSHALL on both servers. A
 * line is a command in redis-cli quoting, sent to both; the two replies must be identical bytes.
 * Blank lines and lines starting with '#' are ignored. Directives (a line starting with '@'):
 *
 *   @sort            next command: its array reply (or, when the array ends with a nested array
 *                    as SCAN's does, that nested array) is compared with elements sorted
 *   @skip-ref        next command: sent to both, only the reply's type byte is compared
 *   @approx N        next command: both replies are integers within N of each other
 *   @noid            next command: the integer after the "id" map key (HELLO) is masked
 *   @expect BYTES    next command: sent to fastcached only; its reply must equal BYTES
 *                    (escapes \r \n \t \\ \xHH) — for our extensions Redis 7.0 lacks
 *   @raw BYTES       sends BYTES (same escapes) to both, reads everything until the peer closes
 *                    or goes quiet, and compares the bytes and whether the connection closed;
 *                    a closed connection is reopened (back to RESP2, db 0)
 *   @proto 3         HELLO 3 on both connections now (reply checked modulo the id)
 *   @rawrep N BYTES  like @raw, with BYTES repeated N times (oversized lines and frames)
 *   @reconnect       closes both connections and opens fresh ones (after a @raw that leaves a
 *                    partial frame behind)
 *
 * A mismatch prints file:line, the command and both replies escaped; every mismatch is counted
 * and the test fails at the end, so one run lists them all.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/harness.h"

#define REPLY_TIMEOUT_MS 3000
#define RAW_IDLE_MS 150
#define RAW_CATCHUP_MS 3000

typedef struct side {
    fc_proc proc;
    int fd;
} side;

typedef struct runner {
    side s[2]; /* 0: fastcached, 1: redis */
    const char *file;
    int line;
    int compared;
    int mismatches;
    /* pending directives for the next command */
    bool sort, skip_ref, noid, expect;
    long long approx;
    char expect_bytes[4096];
    size_t expect_len;
} runner;

static runner R;

/* ---- escaping ---- */

static void print_escaped(FILE *f, const char *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n && i < 2000; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\r')
            fputs("\\r", f);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch == '\\' || ch == '"')
            fprintf(f, "\\%c", ch);
        else if (ch < 32 || ch >= 127)
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
    if (n > 2000)
        fputs("...", f);
    fputc('"', f);
}

/* Decodes \r \n \t \\ \xHH escapes of s into out; returns the length. */
static size_t unescape(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    while (*s && n < cap) {
        if (*s == '\\' && s[1]) {
            char e = s[1];
            if (e == 'x' && s[2] && s[3]) {
                char hex[3] = {s[2], s[3], 0};
                out[n++] = (char)strtol(hex, NULL, 16);
                s += 4;
                continue;
            }
            out[n++] = e == 'r' ? '\r' : e == 'n' ? '\n' : e == 't' ? '\t' : e == '0' ? '\0' : e;
            s += 2;
        } else {
            out[n++] = *s++;
        }
    }
    return n;
}

/* ---- in-memory reply spans (for @sort and @noid) ---- */

/* Length of the complete reply at p[0..n), or 0 if malformed/incomplete. */
static size_t span(const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    if (!nl || n < 3)
        return 0;
    size_t hdr = (size_t)(nl - p) + 1;
    long long v = strtoll(p + 1, NULL, 10);
    switch (p[0]) {
    case '$': case '=': case '!':
        return v < 0 ? hdr : hdr + (size_t)v + 2 <= n ? hdr + (size_t)v + 2 : 0;
    case '*': case '~': case '>': case '%': {
        size_t off = hdr;
        if (p[0] == '%')
            v *= 2;
        for (long long i = 0; i < v; i++) {
            size_t e = span(p + off, n - off);
            if (!e)
                return 0;
            off += e;
        }
        return off;
    }
    default:
        return hdr;
    }
}

typedef struct elem {
    const char *p;
    size_t n;
} elem;

static int elem_cmp(const void *a, const void *b)
{
    const elem *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int r = memcmp(x->p, y->p, m);
    return r ? r : (x->n > y->n) - (x->n < y->n);
}

/* Sorts the elements of the aggregate at p (in place via a copy). */
static void sort_aggregate(char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    if (!nl || (p[0] != '*' && p[0] != '~'))
        return;
    long long cnt = strtoll(p + 1, NULL, 10);
    if (cnt <= 1)
        return;
    size_t off = (size_t)(nl - p) + 1, start = off;
    elem *el = calloc((size_t)cnt, sizeof(*el));
    for (long long i = 0; i < cnt; i++) {
        el[i].p = p + off;
        el[i].n = span(p + off, n - off);
        off += el[i].n;
    }
    qsort(el, (size_t)cnt, sizeof(*el), elem_cmp);
    char *tmp = malloc(off - start), *w = tmp;
    for (long long i = 0; i < cnt; i++) {
        memcpy(w, el[i].p, el[i].n);
        w += el[i].n;
    }
    memcpy(p + start, tmp, off - start);
    free(tmp);
    free(el);
}

/* @sort: sorts the reply's array, or its last element when that is an array (SCAN). */
static void sort_reply(char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    if (!nl || p[0] != '*')
        return;
    long long cnt = strtoll(p + 1, NULL, 10);
    size_t off = (size_t)(nl - p) + 1, last = 0;
    for (long long i = 0; i < cnt; i++) {
        last = off;
        off += span(p + off, n - off);
    }
    if (cnt == 2 && p[last] == '*')
        sort_aggregate(p + last, n - last);
    else
        sort_aggregate(p, n);
}

/* @noid: removes the digits after "$2\r\nid\r\n:"; returns the new length. */
static size_t mask_id(char *p, size_t n)
{
    const char key[] = "$2\r\nid\r\n:";
    char *k = memmem(p, n, key, sizeof(key) - 1);
    if (!k)
        return n;
    char *d = k + sizeof(key) - 1, *e = d;
    while (e < p + n && *e != '\r')
        e++;
    memmove(d, e, (size_t)(p + n - e));
    return n - (size_t)(e - d);
}

/* ---- connections ---- */

static void reconnect(int i)
{
    if (R.s[i].fd >= 0)
        close(R.s[i].fd);
    R.s[i].fd = fc_connect(R.s[i].proc.port);
}

static char *roundtrip(int i, const char *cmd, size_t cmdlen, size_t *len)
{
    if (R.s[i].fd < 0 || fc_send_all(R.s[i].fd, cmd, cmdlen) != 0)
        return NULL;
    return fc_read_reply(R.s[i].fd, len, REPLY_TIMEOUT_MS);
}

static void mismatch(const char *what, const char *cmd, size_t cmdlen, const char *a, size_t an,
                     const char *b, size_t bn)
{
    R.mismatches++;
    fprintf(stderr, "%s:%d: %s\n  command:    ", R.file, R.line, what);
    print_escaped(stderr, cmd, cmdlen);
    fputs("\n  fastcached: ", stderr);
    if (a)
        print_escaped(stderr, a, an);
    else
        fputs("(no reply)", stderr);
    fputs("\n  redis:      ", stderr);
    if (b)
        print_escaped(stderr, b, bn);
    else
        fputs("(no reply)", stderr);
    fputc('\n', stderr);
}

/* What one server sent back to raw bytes. */
typedef struct drained {
    char *buf;
    size_t len, cap;
    bool closed;
} drained;

/* Appends replies from fd until EOF or idle_ms of silence; sets d->closed on EOF. */
static void drain(int fd, drained *d, int idle_ms)
{
    if (fd < 0) {
        d->closed = true;
        return;
    }
    while (!d->closed) {
        size_t rl;
        char *r = fc_read_reply(fd, &rl, idle_ms);
        if (!r) {
            char c;
            ssize_t got = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
            d->closed = got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
            return;
        }
        while (d->len + rl + 1 > d->cap) {
            d->cap = d->cap ? d->cap * 2 : 4096;
            d->buf = realloc(d->buf, d->cap);
        }
        memcpy(d->buf + d->len, r, rl);
        d->len += rl;
        free(r);
    }
}

/* Drains both servers; while one is behind the other (fewer bytes, or still open when the other
 * closed) it is given up to RAW_CATCHUP_MS more, so a slow server is not a mismatch. */
static void drain_both(drained d[2])
{
    drain(R.s[0].fd, &d[0], RAW_IDLE_MS);
    drain(R.s[1].fd, &d[1], RAW_IDLE_MS);
    for (int waited = 0; waited < RAW_CATCHUP_MS; waited += RAW_IDLE_MS) {
        int lag = -1;
        if (d[0].len > d[1].len && !d[1].closed)
            lag = 1;
        else if (d[1].len > d[0].len && !d[0].closed)
            lag = 0;
        else if (d[0].closed != d[1].closed)
            lag = d[0].closed ? 1 : 0;
        if (lag < 0)
            break;
        drain(R.s[lag].fd, &d[lag], RAW_IDLE_MS);
    }
}

/* ---- directives and commands ---- */

static void do_raw_bytes(const char *bytes, size_t n);

static void do_raw(const char *arg)
{
    char bytes[8192];
    do_raw_bytes(bytes, unescape(arg, bytes, sizeof(bytes)));
}

static void do_rawrep(const char *arg)
{
    char unit[1024];
    char *end;
    long count = strtol(arg, &end, 10);
    size_t ulen = unescape(*end == ' ' ? end + 1 : end, unit, sizeof(unit));
    if (count <= 0 || count > 1000000 || ulen == 0) {
        fprintf(stderr, "%s:%d: bad @rawrep\n", R.file, R.line);
        R.mismatches++;
        return;
    }
    char *bytes = malloc((size_t)count * ulen);
    for (long i = 0; i < count; i++)
        memcpy(bytes + (size_t)i * ulen, unit, ulen);
    do_raw_bytes(bytes, (size_t)count * ulen);
    free(bytes);
}

static void do_raw_bytes(const char *bytes, size_t n)
{
    drained d[2] = {{0}, {0}};
    for (int i = 0; i < 2; i++)
        if (R.s[i].fd >= 0)
            fc_send_all(R.s[i].fd, bytes, n);
    drain_both(d);
    R.compared++;
    if (d[0].len != d[1].len || (d[0].len && memcmp(d[0].buf, d[1].buf, d[0].len) != 0))
        mismatch("raw reply differs", bytes, n, d[0].buf ? d[0].buf : "", d[0].len,
                 d[1].buf ? d[1].buf : "", d[1].len);
    else if (d[0].closed != d[1].closed)
        mismatch(d[0].closed ? "fastcached closed, redis did not"
                             : "redis closed, fastcached did not",
                 bytes, n, d[0].buf ? d[0].buf : "", d[0].len, d[1].buf ? d[1].buf : "", d[1].len);
    for (int i = 0; i < 2; i++) {
        if (d[i].closed)
            reconnect(i);
        free(d[i].buf);
    }
}

static bool approx_equal(const char *a, size_t an, const char *b, size_t bn, long long tol)
{
    if (an < 3 || bn < 3 || a[0] != ':' || b[0] != ':')
        return false;
    long long x = strtoll(a + 1, NULL, 10), y = strtoll(b + 1, NULL, 10);
    return llabs(x - y) <= tol;
}

static void compare(const char *cmd, size_t cmdlen)
{
    size_t len[2] = {0, 0};
    char *out[2] = {NULL, NULL};
    R.compared++;
    out[0] = roundtrip(0, cmd, cmdlen, &len[0]);
    if (R.expect) {
        if (!out[0] || len[0] != R.expect_len || memcmp(out[0], R.expect_bytes, len[0]) != 0)
            mismatch("reply differs from @expect (shown as redis)", cmd, cmdlen, out[0], len[0],
                     R.expect_bytes, R.expect_len);
        free(out[0]);
        return;
    }
    out[1] = roundtrip(1, cmd, cmdlen, &len[1]);
    bool same;
    if (!out[0] || !out[1]) {
        same = false;
    } else if (R.skip_ref) {
        same = out[0][0] == out[1][0];
    } else if (R.approx >= 0) {
        same = approx_equal(out[0], len[0], out[1], len[1], R.approx);
    } else {
        char *c0 = malloc(len[0] + 1), *c1 = malloc(len[1] + 1);
        memcpy(c0, out[0], len[0]);
        memcpy(c1, out[1], len[1]);
        for (int i = 0; i < 2; i++) {
            if (R.sort)
                sort_reply(i ? c1 : c0, len[i]);
            if (R.noid)
                len[i] = mask_id(i ? c1 : c0, len[i]);
        }
        same = len[0] == len[1] && memcmp(c0, c1, len[0]) == 0;
        free(c0);
        free(c1);
    }
    if (!same)
        mismatch("reply differs", cmd, cmdlen, out[0], len[0], out[1], len[1]);
    for (int i = 0; i < 2; i++)
        if (!out[i])
            reconnect(i);
    free(out[0]);
    free(out[1]);
}

static void clear_pending(void)
{
    R.sort = R.skip_ref = R.noid = R.expect = false;
    R.approx = -1;
}

static void run_command_line(const char *line)
{
    char **av;
    size_t *al;
    int ac = fc_split_args(line, &av, &al);
    if (ac <= 0) {
        fprintf(stderr, "%s:%d: bad case line (unbalanced quotes?)\n", R.file, R.line);
        R.mismatches++;
        return;
    }
    size_t n;
    char *cmd = fc_encode_cmd(ac, (const char *const *)av, al, &n);
    compare(cmd, n);
    free(cmd);
    fc_free_args(ac, av, al);
    clear_pending();
}

static void run_directive(const char *line)
{
    if (strcmp(line, "@sort") == 0) {
        R.sort = true;
    } else if (strcmp(line, "@skip-ref") == 0) {
        R.skip_ref = true;
    } else if (strcmp(line, "@noid") == 0) {
        R.noid = true;
    } else if (strncmp(line, "@approx ", 8) == 0) {
        R.approx = strtoll(line + 8, NULL, 10);
    } else if (strncmp(line, "@expect ", 8) == 0) {
        R.expect = true;
        R.expect_len = unescape(line + 8, R.expect_bytes, sizeof(R.expect_bytes));
    } else if (strncmp(line, "@raw ", 5) == 0) {
        do_raw(line + 5);
        clear_pending();
    } else if (strncmp(line, "@rawrep ", 8) == 0) {
        do_rawrep(line + 8);
        clear_pending();
    } else if (strcmp(line, "@reconnect") == 0) {
        reconnect(0);
        reconnect(1);
    } else if (strcmp(line, "@proto 3") == 0) {
        R.noid = true;
        run_command_line("HELLO 3");
    } else {
        fprintf(stderr, "%s:%d: unknown directive %s\n", R.file, R.line, line);
        R.mismatches++;
    }
}

static void run_file(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    R.file = path;
    R.line = 0;
    clear_pending();
    for (int i = 0; i < 2; i++) {
        R.s[i].fd = -1;
        reconnect(i);
        cr_assert_geq(R.s[i].fd, 0, "connect to %s", i ? "redis" : "fastcached");
        size_t n;
        char *r = roundtrip(i, "*1\r\n$8\r\nFLUSHALL\r\n", 18, &n);
        cr_assert(r && strcmp(r, "+OK\r\n") == 0, "FLUSHALL on %s", i ? "redis" : "fastcached");
        free(r);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) >= 0) {
        R.line++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = 0;
        const char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == 0 || *s == '#')
            continue;
        if (*s == '@')
            run_directive(s);
        else
            run_command_line(s);
    }
    free(line);
    fclose(f);
    for (int i = 0; i < 2; i++) {
        if (R.s[i].fd >= 0)
            close(R.s[i].fd);
        R.s[i].fd = -1;
    }
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void start_servers(void)
{
    memset(&R, 0, sizeof(R));
    cr_assert_eq(fc_start_daemon(&R.s[0].proc, NULL), 0, "fastcached did not start (%s)",
                 fc_daemon_bin());
    cr_assert_eq(fc_start_redis(&R.s[1].proc, NULL), 0, "redis-server did not start");
}

/* The same cases through the proxy driver: fastcached in front of its own upstream redis-server,
 * compared with a separate reference redis-server. */
static fc_proc upstream;

static void start_servers_proxy(void)
{
    memset(&R, 0, sizeof(R));
    cr_assert_eq(fc_start_redis(&upstream, NULL), 0, "upstream redis-server did not start");
    char port[16];
    snprintf(port, sizeof(port), "%d", upstream.port);
    const char *args[] = {"--driver", "redis", "--redis-host", "127.0.0.1", "--redis-port", port,
                          NULL};
    cr_assert_eq(fc_start_daemon(&R.s[0].proc, args), 0, "fastcached did not start (%s)",
                 fc_daemon_bin());
    cr_assert_eq(fc_start_redis(&R.s[1].proc, NULL), 0, "redis-server did not start");
}

static void stop_servers(void)
{
    for (int i = 0; i < 2; i++)
        if (R.s[i].proc.pid > 0)
            fc_stop(&R.s[i].proc);
    if (upstream.pid > 0)
        fc_stop(&upstream);
}

static void run_all_cases(const char *label);

Test(compat, cases, .init = start_servers, .fini = stop_servers, .timeout = 600)
{
    run_all_cases("memory");
}

Test(compat, cases_proxy, .init = start_servers_proxy, .fini = stop_servers, .timeout = 600)
{
    run_all_cases("redis");
}

static void run_all_cases(const char *label)
{
    const char *dir = getenv("FC_CASES_DIR");
    if (!dir || !*dir)
        dir = "tests/integration/cases";
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s (run from the repo root or set FC_CASES_DIR)", dir);
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".txt") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), name_cmp);
    cr_assert_gt(n, 0, "no case files in %s", dir);
    for (size_t i = 0; i < n; i++) {
        run_file(dir, names[i]);
        free(names[i]);
    }
    fprintf(stderr, "compat (%s driver): %d commands compared in %zu files, %d mismatches\n",
            label, R.compared, n, R.mismatches);
    cr_assert_eq(R.mismatches, 0, "%d mismatches against redis-server (details above)",
                 R.mismatches);
    /* A clean exit after SIGTERM (and, in the ASan build, no leak or error report). */
    cr_assert_eq(fc_stop(&R.s[0].proc), 0, "fastcached exit status (log: %s)",
                 R.s[0].proc.logpath);
    cr_assert_geq(R.compared, 300, "too few compared commands: %d", R.compared);
}

Test(compat, split_args)
{
    char **av;
    size_t *al;
    int ac = fc_split_args("set \"a\\x00\\n\" 'b\\'c' d", &av, &al);
    cr_assert_eq(ac, 4);
    cr_assert_str_eq(av[3], "d");
    cr_assert_eq(al[1], 3);
    cr_assert(memcmp(av[1], "a\0\n", 3) == 0);
    cr_assert_str_eq(av[2], "b'c");
    fc_free_args(ac, av, al);
    cr_assert_eq(fc_split_args("get \"a\"b", &av, &al), -1);
    cr_assert_eq(fc_split_args("get 'a", &av, &al), -1);
}
