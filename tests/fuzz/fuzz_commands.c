/*
 * fuzz_commands — libFuzzer target for the command layer (server/commands.c and the handlers).
 *
 * Input: commands separated by '\n'. A command line is
 *     [cmd byte] [time byte] word ' ' word ' ' ...
 *   cmd byte & 0x7f  index into the command table; the value one past the last row means "the
 *                    first word is the command name" (unknown commands, odd casing);
 *   cmd byte & 0x80  run it on the second session instead of the first;
 *   time byte        milliseconds added to now_ms before the command.
 * At most MAX_ARGS words of at most MAX_ARG bytes each (longer words are cut).
 *
 * A real core with the default configuration (16 databases) backs every input; only
 * proto_max_bulk_len is lowered (1 MiB) so SETRANGE/APPEND cannot spend an iteration allocating
 * 512 MiB. Invariants checked after every command: the bytes it appended to `out` are exactly one
 * well-formed reply (RESP2 types only while the session speaks RESP2) — except SHUTDOWN, which
 * answers nothing when it is accepted, and the commands CLIENT REPLY OFF or SKIP mutes; after
 * SHUTDOWN or QUIT the input stops, as the connection would.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/commands.h"

#define MAX_ARGS 12
#define MAX_ARG 64
#define MAX_CMDS 200
#define MAX_DEPTH 16

static void die(const char *what, const fc_buf *out, size_t from)
{
    fprintf(stderr, "fuzz_commands: %s; reply: \"", what);
    for (size_t i = from; i < out->len && i < from + 400; i++) {
        unsigned char ch = (unsigned char)out->data[i];
        if (ch >= 32 && ch < 127)
            fputc(ch, stderr);
        else
            fprintf(stderr, "\\x%02x", ch);
    }
    fprintf(stderr, "\"\n");
    abort();
}

/* Finds the CRLF ending the line at p; returns the index of the CR or 0 when malformed. */
static size_t line_end(const char *d, size_t p, size_t len)
{
    for (size_t i = p; i + 1 < len; i++) {
        if (d[i] == '\r')
            return d[i + 1] == '\n' ? i : 0;
        if (d[i] == '\n')
            return 0;
    }
    return 0;
}

/* Parses a decimal integer in d[p..e); false when it is not one. */
static bool parse_int(const char *d, size_t p, size_t e, long long *v)
{
    bool neg = false;
    if (p < e && d[p] == '-') {
        neg = true;
        p++;
    }
    if (p == e || e - p > 19)
        return false;
    unsigned long long x = 0; /* 19 digits cannot overflow 64 bits */
    for (; p < e; p++) {
        if (d[p] < '0' || d[p] > '9')
            return false;
        x = x * 10 + (unsigned)(d[p] - '0');
    }
    if (x > (unsigned long long)INT64_MAX + neg)
        return false;
    *v = neg ? (long long)(0 - x) : (long long)x;
    return true;
}

/* Checks one RESP value at d[*p..len) and advances *p past it. */
static bool check_value(const char *d, size_t *p, size_t len, int proto, int depth)
{
    if (*p >= len || depth > MAX_DEPTH)
        return false;
    char t = d[*p];
    if (proto == 2 && !strchr("+-:$*", t))
        return false;
    if (!strchr("+-:$*_,#(=!%~>|", t))
        return false;
    size_t e = line_end(d, *p + 1, len); /* never 0 when found: the line starts at *p + 1 */
    if (e == 0)
        return false;
    size_t body = *p + 1;
    long long n;
    *p = e + 2;
    switch (t) {
    case '+':
    case '-':
        return e > body || t == '+';
    case ':':
        return parse_int(d, body, e, &n);
    case '_':
        return e == body;
    case '#':
        return e == body + 1 && (d[body] == 't' || d[body] == 'f');
    case ',':
    case '(':
        return e > body;
    case '$':
    case '=':
    case '!':
        if (!parse_int(d, body, e, &n) || n < -1 || (n == -1 && t != '$'))
            return false;
        if (n == -1)
            return true;
        if ((size_t)n > len || len - *p < (size_t)n + 2 || d[*p + n] != '\r' ||
            d[*p + n + 1] != '\n')
            return false;
        if (t == '=' && (n < 4 || d[*p + 3] != ':'))
            return false;
        *p += (size_t)n + 2;
        return true;
    default: /* aggregates */
        if (!parse_int(d, body, e, &n) || n < -1 || (n == -1 && t != '*'))
            return false;
        if (t == '%' || t == '|')
            n *= 2;
        for (long long i = 0; i < n; i++)
            if (!check_value(d, p, len, proto, depth + 1))
                return false;
        if (t == '|') /* an attribute precedes the value it describes */
            return check_value(d, p, len, proto, depth + 1);
        return true;
    }
}

typedef struct {
    fc_conf conf;
    fc_core core;
    fc_session sess[2];
    fc_buf out;
} world;

static void world_init(world *w)
{
    fc_conf_defaults(&w->conf);
    w->conf.proto_max_bulk_len = 1024 * 1024;
    if (fc_core_init(&w->core, &w->conf, 1000000) != 0)
        abort();
    for (int i = 0; i < 2; i++) {
        fc_session_init(&w->sess[i], 1000000);
        fc_core_attach(&w->core, &w->sess[i]);
    }
    fc_buf_init(&w->out, 0);
}

static void world_deinit(world *w)
{
    for (int i = 0; i < 2; i++) {
        fc_core_detach(&w->core, &w->sess[i]);
        fc_session_deinit(&w->sess[i]);
    }
    fc_core_deinit(&w->core);
    fc_buf_deinit(&w->out);
}

/* Splits line[0..n) on ' ' into argv after argv[0]; returns the new argc. */
static int split_words(const char *line, size_t n, fc_arg *argv, int argc)
{
    size_t i = 0;
    while (i < n && argc < MAX_ARGS) {
        const char *sp = memchr(line + i, ' ', n - i);
        size_t wl = sp ? (size_t)(sp - (line + i)) : n - i;
        argv[argc].p = line + i;
        argv[argc].len = wl > MAX_ARG ? MAX_ARG : wl;
        argc++;
        i += wl + 1;
    }
    return argc;
}

/* Runs one command line; returns false when the connection would end (QUIT, SHUTDOWN). */
static bool run_line(world *w, const fc_command *table, size_t ncmd, const char *line, size_t n,
                     int64_t *now)
{
    if (n < 2)
        return true;
    unsigned char sel = (unsigned char)line[0];
    fc_session *s = &w->sess[sel >> 7];
    size_t idx = (sel & 0x7f) % (ncmd + 1);
    *now += (unsigned char)line[1];
    fc_arg argv[MAX_ARGS];
    int argc = 0;
    if (idx < ncmd) {
        argv[0].p = table[idx].name;
        argv[0].len = strlen(table[idx].name);
        argc = 1;
    }
    argc = split_words(line + 2, n - 2, argv, argc);
    if (argc == 0)
        return true;
    w->out.len = 0;
    /* In memory mode every reply is synchronous and lands in out. */
    fc_replyq q;
    fc_replyq_init(&q, &w->out, NULL, NULL);
    fc_request req = {.argv = argv, .argc = argc, .frame = NULL, .frame_len = 0};
    unsigned muted = s->flags & FC_SESS_MUTED;
    fc_dispatch(&w->core, s, &q, &req, *now);
    muted |= s->flags & FC_SESS_MUTED;
    if (!fc_replyq_empty(&q))
        die("memory mode left a reply queued", &w->out, 0);
    fc_replyq_deinit(&q);
    if (w->core.shutdown_requested && w->out.len == 0)
        return false;
    if (muted && w->out.len == 0) /* CLIENT REPLY OFF or SKIP: nothing is sent */
        return !(s->flags & FC_SESS_CLOSE_AFTER_REPLY);
    size_t p = 0;
    if (!check_value(w->out.data, &p, w->out.len, s->proto, 0))
        die("malformed reply", &w->out, 0);
    if (p != w->out.len)
        die("more than one reply", &w->out, 0);
    if (w->core.shutdown_requested)
        die("SHUTDOWN accepted with a reply", &w->out, 0);
    return !(s->flags & FC_SESS_CLOSE_AFTER_REPLY);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
    if (n > 16 * 1024)
        return 0;
    /* An exact-size copy so an over-read of an argument is an ASan report. */
    char *text = malloc(n ? n : 1);
    if (!text)
        abort();
    memcpy(text, in, n);
    size_t ncmd;
    const fc_command *table = fc_command_table(&ncmd);
    world *w = malloc(sizeof(*w));
    if (!w)
        abort();
    world_init(w);
    int64_t now = 1000000;
    size_t i = 0;
    for (int k = 0; k < MAX_CMDS && i < n; k++) {
        const char *nl = memchr(text + i, '\n', n - i);
        size_t ln = nl ? (size_t)(nl - (text + i)) : n - i;
        if (!run_line(w, table, ncmd, text + i, ln, &now))
            break;
        i += ln + 1;
    }
    world_deinit(w);
    free(w);
    free(text);
    return 0;
}
