/*
 * Unit tests for protocol/resp_parser.c.
 *
 * Every valid input (often several pipelined frames) is parsed three ways that must agree with
 * the expected frames: in one call; growing one byte at a time (every prefix length 1..n, the
 * caller re-calling with the longer length); and split in two at every point. In the first two
 * the bytes are copied so that they end right before a PROT_NONE guard page, and the copy moves
 * with every call (as a compacting client buffer would), so any read past buf[len) crashes.
 * Malformed inputs come from a table with Redis 7.0.15's exact error texts, checked against a
 * real redis-server with raw bytes.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "protocol/resp_parser.h"
#include "tests/unit/support/guard.h"

typedef struct bytes {
    const char *p;
    size_t n;
} bytes;
#define B(s) {s, sizeof(s) - 1}

/* ---- Guard page: a region whose end touches an unreadable page. ---- */

/* guard_setup / guard_place / guard_teardown: tests/unit/support/guard.h */

/* ---- Recording the frames a run produced. ---- */

#define MAX_FRAMES 8
#define MAX_ARGS 8

typedef struct frame {
    bool inl;
    size_t argc;
    size_t used;
    char arg[MAX_ARGS][64];
    size_t len[MAX_ARGS];
} frame;

typedef struct result {
    size_t nframes;
    frame f[MAX_FRAMES];
    bool err;
    char errmsg[128];
    size_t consumed; /* bytes of complete frames */
} result;

static void record(result *r, const fc_resp_parser *p, const char *buf, size_t used)
{
    cr_assert(r->nframes < MAX_FRAMES);
    frame *f = &r->f[r->nframes++];
    f->inl = p->inline_req;
    f->argc = p->argc;
    f->used = used;
    cr_assert(p->argc <= MAX_ARGS);
    for (size_t i = 0; i < p->argc; i++) {
        cr_assert(p->argv[i].len < sizeof(f->arg[i]));
        cr_assert(p->argv[i].off + p->argv[i].len <= used, "span past the frame");
        memcpy(f->arg[i], buf + p->argv[i].off, p->argv[i].len);
        f->len[i] = p->argv[i].len;
    }
}

/* Parses frames from buf[0..n), which holds the stream from byte r->consumed on; stops at AGAIN
 * or ERR. Returns false on ERR. */
static bool drain(fc_resp_parser *p, char *buf, size_t n, result *r)
{
    for (;;) {
        size_t used = 99;
        fc_resp_status st = fc_resp_parse(p, buf, n, &used);
        if (st == FC_RESP_AGAIN) {
            cr_assert_eq(used, 0);
            return true;
        }
        if (st == FC_RESP_ERR) {
            r->err = true;
            snprintf(r->errmsg, sizeof(r->errmsg), "%s", p->err);
            return false;
        }
        cr_assert(used > 0 && used <= n);
        record(r, p, buf, used);
        r->consumed += used;
        buf += used;
        n -= used;
    }
}

/* One call per frame with all the bytes, placed at the guard page. */
static void run_whole(bytes in, result *r)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    memset(r, 0, sizeof(*r));
    drain(&p, guard_place(in.p, in.n), in.n, r);
    fc_resp_parser_deinit(&p);
}

/* Bytes arrive one at a time; each call sees the unconsumed bytes ending at the guard page. */
static void run_bytewise(bytes in, result *r)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    memset(r, 0, sizeof(*r));
    for (size_t avail = 1; avail <= in.n; avail++) {
        size_t start = r->consumed;
        if (!drain(&p, guard_place(in.p + start, avail - start), avail - start, r))
            break;
    }
    fc_resp_parser_deinit(&p);
}

/* Two reads: in[0..split) then the rest, in an exact-size heap copy (ASan catches over-reads). */
static void run_split(bytes in, size_t split, result *r)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    memset(r, 0, sizeof(*r));
    char *buf = malloc(in.n);
    cr_assert(buf);
    memcpy(buf, in.p, in.n);
    if (drain(&p, buf, split, r))
        drain(&p, buf + r->consumed, in.n - r->consumed, r);
    free(buf);
    fc_resp_parser_deinit(&p);
}

static void assert_same(const result *a, const result *b, const char *what, size_t at)
{
    cr_assert_eq(a->nframes, b->nframes, "%s at %zu: frame count", what, at);
    cr_assert_eq(a->err, b->err, "%s at %zu: error", what, at);
    cr_assert_str_eq(a->errmsg, b->errmsg, "%s at %zu", what, at);
    cr_assert_eq(a->consumed, b->consumed, "%s at %zu: consumed", what, at);
    for (size_t i = 0; i < a->nframes; i++) {
        const frame *x = &a->f[i], *y = &b->f[i];
        cr_assert_eq(x->inl, y->inl, "%s at %zu: frame %zu inline", what, at, i);
        cr_assert_eq(x->argc, y->argc, "%s at %zu: frame %zu argc", what, at, i);
        cr_assert_eq(x->used, y->used, "%s at %zu: frame %zu used", what, at, i);
        for (size_t j = 0; j < x->argc; j++) {
            cr_assert_eq(x->len[j], y->len[j], "%s at %zu: frame %zu arg %zu", what, at, i, j);
            cr_assert(memcmp(x->arg[j], y->arg[j], x->len[j]) == 0, "%s at %zu", what, at);
        }
    }
}

/* ---- Valid inputs. ---- */

typedef struct exp_frame {
    bool inl;
    size_t argc;
    bytes argv[MAX_ARGS];
} exp_frame;

typedef struct valid_case {
    const char *name;
    bytes in;
    size_t rest; /* trailing bytes of an incomplete frame */
    size_t nframes;
    exp_frame f[MAX_FRAMES];
} valid_case;

static const valid_case valid_cases[] = {
    {"ping", B("*1\r\n$4\r\nPING\r\n"), 0, 1, {{false, 1, {B("PING")}}}},
    {"pipeline with binary bulks",
     B("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
       "*3\r\n$3\r\nSET\r\n$1\r\n\0\r\n$8\r\na\r\n\0*1\r\n\r\n"
       "*1\r\n$4\r\nPING\r\n"),
     0,
     3,
     {{false, 2, {B("GET"), B("k")}},
      {false, 3, {B("SET"), B("\0"), B("a\r\n\0*1\r\n")}},
      {false, 1, {B("PING")}}}},
    {"inline quotes",
     B("SET \"a b\" 'c\\'d' \"\\x41\\n\\t\\\\\\\"\\q\" x\"y z\"\r\n"),
     0,
     1,
     {{true, 5, {B("SET"), B("a b"), B("c'd"), B("A\n\t\\\"q"), B("xy z")}}}},
    {"inline separators",
     B("\x0b ECHO\tab\rcd\x0c \"e\"\x0b\r\n"),
     0,
     1,
     {{true, 4, {B("ECHO"), B("ab"), B("cd\x0c"), B("e")}}}},
    {"inline escapes", B("ECHO \"\\xff\\x0A\\x4\" '\\n' \"\" ''\n"), 0, 1,
     {{true, 5, {B("ECHO"), B("\xff\nx4"), B("\\n"), B(""), B("")}}}},
    {"empty frames", B("*0\r\n*-1\r\n\r\n\n   \r\n*-9223372036854775808\r\n"), 0, 6,
     {{false, 0, {{0}}},
      {false, 0, {{0}}},
      {true, 0, {{0}}},
      {true, 0, {{0}}},
      {true, 0, {{0}}},
      {false, 0, {{0}}}}},
    {"unchecked trailer", B("*1\r\n$3\r\nPINGX*1\r\n$2\r\nabXY"), 0, 2,
     {{false, 1, {B("PIN")}}, {false, 1, {B("ab")}}}},
    {"header ends at CR", B("*2\rX$4\r\nECHO\r\n$1\r?x\r\n"), 0, 1,
     {{false, 2, {B("ECHO"), B("x")}}}},
    {"empty bulk and partial tail", B("*2\r\n$4\r\nECHO\r\n$0\r\n\r\nPING\n*2\r\n$3\r\nGE"), 10, 2,
     {{false, 2, {B("ECHO"), B("")}}, {true, 1, {B("PING")}}}},
    {"inline then multibulk", B("ECHO \"x y\"\r\n*1\r\n$4\r\nquit\r\nget k"), 5, 2,
     {{true, 2, {B("ECHO"), B("x y")}}, {false, 1, {B("quit")}}}},
    {"double CR before LF", B("ECHO\tx\r\r\n"), 0, 1, {{true, 2, {B("ECHO"), B("x")}}}},
    /* Frames the one-pass path takes whole (the split runs take the state machine). */
    {"one-pass lengths", B("*3\r\n$3\r\nSET\r\n$10\r\nkey:000001\r\n$0\r\n\r\n"
                           "*8\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"
                           "$1\r\nf\r\n$1\r\ng\r\n$1\r\nh\r\n*1\r\n$12\r\nPI"),
     11, 2,
     {{false, 3, {B("SET"), B("key:000001"), B("")}},
      {false, 8, {B("a"), B("b"), B("c"), B("d"), B("e"), B("f"), B("g"), B("h")}}}},
};

static void check_expected(const valid_case *c, const result *r)
{
    cr_assert(!r->err, "%s: unexpected error %s", c->name, r->errmsg);
    cr_assert_eq(r->nframes, c->nframes, "%s: frames", c->name);
    cr_assert_eq(r->consumed, c->in.n - c->rest, "%s: consumed", c->name);
    for (size_t i = 0; i < c->nframes; i++) {
        const exp_frame *e = &c->f[i];
        const frame *f = &r->f[i];
        cr_assert_eq(f->inl, e->inl, "%s: frame %zu inline", c->name, i);
        cr_assert_eq(f->argc, e->argc, "%s: frame %zu argc", c->name, i);
        for (size_t j = 0; j < e->argc; j++) {
            cr_assert_eq(f->len[j], e->argv[j].n, "%s: frame %zu arg %zu len", c->name, i, j);
            cr_assert(memcmp(f->arg[j], e->argv[j].p, e->argv[j].n) == 0,
                      "%s: frame %zu arg %zu", c->name, i, j);
        }
    }
}

Test(resp_parser, valid_frames_every_split_point)
{
    guard_setup(4096);
    for (size_t k = 0; k < sizeof(valid_cases) / sizeof(valid_cases[0]); k++) {
        const valid_case *c = &valid_cases[k];
        result whole, other;
        run_whole(c->in, &whole);
        check_expected(c, &whole);
        run_bytewise(c->in, &other);
        assert_same(&whole, &other, c->name, 0);
        for (size_t s = 1; s < c->in.n; s++) {
            run_split(c->in, s, &other);
            assert_same(&whole, &other, c->name, s);
        }
    }
    guard_teardown();
}

/* fc_resp_peek gives exactly what fc_resp_parse gives for the frames it takes, and refuses what
 * it must leave to the parser: partial frames, more arguments than asked for, frames over the
 * parser's limits, inline requests, an unauthenticated parser, a parser inside a frame. */
Test(resp_parser, peek_agrees_with_parse)
{
    char in[] = "*3\r\n$3\r\nSET\r\n$10\r\nkey:000001\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n";
    size_t n = sizeof(in) - 1;
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    fc_span sp[4];
    size_t argc = 99, used = 99, off = 0;
    for (int k = 0; k < 2; k++) {
        cr_assert(fc_resp_peek(&p, in + off, n - off, sp, 4, &argc, &used));
        size_t pused;
        cr_assert_eq(fc_resp_parse(&p, in + off, n - off, &pused), FC_RESP_OK);
        cr_assert_eq(used, pused);
        cr_assert_eq(argc, p.argc);
        for (size_t i = 0; i < argc; i++)
            cr_assert(sp[i].off == p.argv[i].off && sp[i].len == p.argv[i].len);
        off += used;
    }
    cr_assert_eq(off, n);
    cr_assert_not(fc_resp_peek(&p, in, n, sp, 2, &argc, &used), "3 arguments, room for 2");
    cr_assert_not(fc_resp_peek(&p, in, 20, sp, 4, &argc, &used), "partial");
    cr_assert_not(fc_resp_peek(&p, "PING\r\n", 6, sp, 4, &argc, &used), "inline");
    p.max_bulk = 9;
    cr_assert_not(fc_resp_peek(&p, in, n, sp, 4, &argc, &used), "a bulk over max_bulk");
    p.max_bulk = FC_RESP_DEFAULT_MAX_BULK;
    p.unauth = true;
    cr_assert_not(fc_resp_peek(&p, in, n, sp, 4, &argc, &used), "unauthenticated");
    p.unauth = false;
    size_t pused;
    cr_assert_eq(fc_resp_parse(&p, in, 20, &pused), FC_RESP_AGAIN); /* now inside a frame */
    cr_assert_not(fc_resp_peek(&p, in, n, sp, 4, &argc, &used), "parser inside a frame");
    fc_resp_parser_deinit(&p);
}

/* ---- Malformed inputs. ---- */

typedef struct bad_case {
    bytes in;
    const char *err;
} bad_case;

#define MB_LEN "Protocol error: invalid multibulk length"
#define BULK_LEN "Protocol error: invalid bulk length"
#define QUOTES "Protocol error: unbalanced quotes in request"

static const bad_case bad_cases[] = {
    {B("*01\r\n$4\r\nPING\r\n"), MB_LEN},
    {B("*+1\r\n$4\r\nPING\r\n"), MB_LEN},
    {B("*-0\r\n"), MB_LEN},
    {B("*\r\n"), MB_LEN},
    {B("*1 \r\n"), MB_LEN},
    {B("* 1\r\n"), MB_LEN},
    {B("*1a\r\n"), MB_LEN},
    {B("*-\r\n"), MB_LEN},
    {B("*2147483648\r\n"), MB_LEN},
    {B("*-9223372036854775809\r\n"), MB_LEN},
    {B("*9223372036854775808\r\n"), MB_LEN},
    {B("*99999999999999999999\r\n"), MB_LEN},
    {B("*000000000000000000001\r\n"), MB_LEN},
    {B("*1\r\n$+4\r\nPING\r\n"), BULK_LEN},
    {B("*1\r\n$04\r\nPING\r\n"), BULK_LEN},
    {B("*1\r\n$-1\r\n"), BULK_LEN},
    {B("*1\r\n$-0\r\n"), BULK_LEN},
    {B("*1\r\n$4 \r\nPING\r\n"), BULK_LEN},
    {B("*1\r\n$\r\n"), BULK_LEN},
    {B("*1\r\n$536870913\r\n"), BULK_LEN},
    {B("*1\r\n$99999999999999999999\r\n"), BULK_LEN},
    {B("*2\r\n$4\r\nECHO\r\n$-1\r\n"), BULK_LEN},
    {B("*1\r\n$1000000000\r\n"), BULK_LEN},
    {B("*2\r\n$3\r\nGET\r\n$01\r\nk\r\n"), BULK_LEN},
    {B("*1\r\n$00\r\n\r\n"), BULK_LEN},
    {B("*1\r\nX4\r\nPING\r\n"), "Protocol error: expected '$', got 'X'"},
    {B("*1\r\n\r\n"), "Protocol error: expected '$', got ' '"},
    {B("*1\r\n\n\r\n"), "Protocol error: expected '$', got ' '"},
    {B("*1\r\n\xff\r\n"), "Protocol error: expected '$', got '\xff'"},
    {B("*2\r\n$4\r\nECHO\r\n:1\r\n"), "Protocol error: expected '$', got ':'"},
    {B("*2\r\n$4\r\nECHOXY*1\r\n"), "Protocol error: expected '$', got '*'"},
    {B("ECHO \"ab\"c\r\n"), QUOTES},
    {B("ECHO 'ab'c\r\n"), QUOTES},
    {B("ECHO 'ab\r\n"), QUOTES},
    {B("ECHO \"ab\r\n"), QUOTES},
    {B("ECHO \"ab\\\"\r\n"), QUOTES},
    {B("\"\r\n"), QUOTES},
    {B("a \"b\"\"c\"\n"), QUOTES},
};

Test(resp_parser, malformed_inputs_exact_errors)
{
    guard_setup(4096);
    for (size_t k = 0; k < sizeof(bad_cases) / sizeof(bad_cases[0]); k++) {
        const bad_case *c = &bad_cases[k];
        result whole, bytewise;
        run_whole(c->in, &whole);
        cr_assert(whole.err, "case %zu: no error", k);
        cr_assert_str_eq(whole.errmsg, c->err, "case %zu", k);
        cr_assert_eq(whole.nframes, 0, "case %zu", k);
        run_bytewise(c->in, &bytewise);
        assert_same(&whole, &bytewise, "bad case", k);
    }
    guard_teardown();
}

Test(resp_parser, state_resets_after_error)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    char bad[] = "*1\r\nX\r\n";
    char good[] = "*1\r\n$4\r\nPING\r\n";
    size_t used;
    cr_assert_eq(fc_resp_parse(&p, bad, sizeof(bad) - 1, &used), FC_RESP_ERR);
    cr_assert_eq(fc_resp_parse(&p, good, sizeof(good) - 1, &used), FC_RESP_OK);
    cr_assert_eq(used, sizeof(good) - 1);
    cr_assert_eq(p.argc, 1);
    cr_assert_eq(p.argv[0].off, 8);
    cr_assert_eq(p.argv[0].len, 4);
    fc_resp_parser_deinit(&p);
}

Test(resp_parser, reset_forgets_partial_frame)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    char part[] = "*2\r\n$3\r\nGET\r\n$1";
    char good[] = "PING\r\n";
    size_t used;
    cr_assert_eq(fc_resp_parse(&p, part, sizeof(part) - 1, &used), FC_RESP_AGAIN);
    fc_resp_parser_reset(&p);
    cr_assert_eq(fc_resp_parse(&p, good, sizeof(good) - 1, &used), FC_RESP_OK);
    cr_assert(p.inline_req);
    cr_assert_eq(p.argc, 1);
    cr_assert_eq(used, 6);
    fc_resp_parser_deinit(&p);
}

/* ---- Limits. ---- */

static fc_resp_status parse_str(fc_resp_parser *p, char *s, size_t n)
{
    size_t used;
    return fc_resp_parse(p, s, n, &used);
}

Test(resp_parser, bulk_limit_is_inclusive)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    cr_assert_eq(p.max_bulk, 512ull * 1024 * 1024);
    char ok[] = "*1\r\n$536870912\r\n";
    cr_assert_eq(parse_str(&p, ok, sizeof(ok) - 1), FC_RESP_AGAIN);
    cr_assert_eq(p.need, 16 + 536870912ull + 2, "need hint covers the bulk and its CRLF");
    fc_resp_parser_reset(&p);
    p.max_bulk = 10;
    char ten[] = "*1\r\n$10\r\n0123456789\r\n";
    cr_assert_eq(parse_str(&p, ten, sizeof(ten) - 1), FC_RESP_OK);
    char eleven[] = "*1\r\n$11\r\n";
    cr_assert_eq(parse_str(&p, eleven, sizeof(eleven) - 1), FC_RESP_ERR);
    cr_assert_str_eq(p.err, BULK_LEN);
    fc_resp_parser_deinit(&p);
}

Test(resp_parser, multibulk_limit_and_lazy_argv)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    char max[] = "*2147483647\r\n$1\r\na\r\n";
    cr_assert_eq(parse_str(&p, max, sizeof(max) - 1), FC_RESP_AGAIN);
    cr_assert(p.argv_cap <= 1024, "argv reserved up front: %zu", p.argv_cap);
    cr_assert_eq(p.argc, 1);
    fc_resp_parser_reset(&p);
    p.max_multibulk = 3;
    char three[] = "*3\r\n";
    cr_assert_eq(parse_str(&p, three, sizeof(three) - 1), FC_RESP_AGAIN);
    fc_resp_parser_reset(&p);
    char four[] = "*4\r\n";
    cr_assert_eq(parse_str(&p, four, sizeof(four) - 1), FC_RESP_ERR);
    cr_assert_str_eq(p.err, MB_LEN);
    fc_resp_parser_deinit(&p);
}

/* A header (or inline line) starting at line_start with no line end fails once more than
 * 64 KiB are waiting from the line start on. */
static void check_too_big(const char *prefix, size_t line_start, char fill, const char *err)
{
    size_t pre = strlen(prefix), n = line_start + 65536;
    char *buf = malloc(n + 1);
    cr_assert(buf);
    memcpy(buf, prefix, pre);
    memset(buf + pre, fill, n + 1 - pre);
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    cr_assert_eq(parse_str(&p, buf, n), FC_RESP_AGAIN, "%s: 64 KiB still waits", err);
    cr_assert_eq(parse_str(&p, buf, n + 1), FC_RESP_ERR);
    cr_assert_str_eq(p.err, err);
    fc_resp_parser_deinit(&p);
    free(buf);
}

Test(resp_parser, too_big_headers_and_inline)
{
    check_too_big("*", 0, '1', "Protocol error: too big mbulk count string");
    check_too_big("*1\r\n$", 4, '1', "Protocol error: too big bulk count string");
    check_too_big("*2\r\n$1\r\na\r\n$", 11, '1', "Protocol error: too big bulk count string");
    check_too_big("A", 0, 'A', "Protocol error: too big inline request");
}

Test(resp_parser, cr_as_last_byte_waits)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    size_t n = 65540;
    char *buf = malloc(n + 2);
    cr_assert(buf);
    buf[0] = '*';
    memset(buf + 1, '1', n - 1);
    buf[n - 1] = '\r';
    cr_assert_eq(parse_str(&p, buf, n), FC_RESP_AGAIN, "a found CR disables the size check");
    buf[n] = '\n';
    cr_assert_eq(parse_str(&p, buf, n + 1), FC_RESP_ERR);
    cr_assert_str_eq(p.err, MB_LEN);
    fc_resp_parser_deinit(&p);
    free(buf);
}

/* Redis finds line ends with strchr: a NUL before them hides them until the 64 KiB limit. */
static void check_nul_hides_line_end(const char *in, size_t in_len, const char *err)
{
    size_t n = in_len + 65536;
    char *buf = malloc(n);
    cr_assert(buf);
    memcpy(buf, in, in_len);
    memset(buf + in_len, 'x', n - in_len);
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    cr_assert_eq(parse_str(&p, buf, in_len), FC_RESP_AGAIN, "%s", err);
    cr_assert_eq(parse_str(&p, buf, n), FC_RESP_ERR, "%s", err);
    cr_assert_str_eq(p.err, err);
    fc_resp_parser_deinit(&p);
    free(buf);
}

Test(resp_parser, nul_before_line_end)
{
    check_nul_hides_line_end("*1\0\r\n$4\r\nPING\r\n", 15,
                             "Protocol error: too big mbulk count string");
    check_nul_hides_line_end("*1\r\n$\0" "4\r\nPING\r\n", 15,
                             "Protocol error: too big bulk count string");
    check_nul_hides_line_end("PING\0\r\n", 7, "Protocol error: too big inline request");
}

/* ---- Scale: linear time, hints. ---- */

Test(resp_parser, big_bulk_in_16k_reads)
{
    const size_t big = 100u * 1024 * 1024;
    const char hdr[] = "*2\r\n$3\r\nSET\r\n$104857600\r\n";
    size_t hl = sizeof(hdr) - 1, total = hl + big + 2;
    char *buf = malloc(total);
    cr_assert(buf);
    memcpy(buf, hdr, hl);
    memset(buf + hl, 'v', big);
    memcpy(buf + hl + big, "\r\n", 2);
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    clock_t t0 = clock();
    size_t used = 0, avail;
    fc_resp_status st = FC_RESP_AGAIN;
    for (avail = 16384; st == FC_RESP_AGAIN; avail += 16384) {
        if (avail > total)
            avail = total;
        st = fc_resp_parse(&p, buf, avail, &used);
        if (st == FC_RESP_AGAIN)
            cr_assert_eq(p.need, total, "need hint at %zu", avail);
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    cr_assert_eq(st, FC_RESP_OK);
    cr_assert_eq(used, total);
    cr_assert_eq(p.argc, 2);
    cr_assert_eq(p.argv[1].off, hl);
    cr_assert_eq(p.argv[1].len, big);
    cr_assert_eq(p.need, 0);
    cr_assert(secs < 2.0, "6400 resumed calls took %.2fs: data is being rescanned", secs);
    fc_resp_parser_deinit(&p);
    free(buf);
}

Test(resp_parser, million_args_in_4k_reads)
{
    const size_t nargs = 1000000;
    const char hdr[] = "*1000000\r\n";
    size_t hl = sizeof(hdr) - 1, total = hl + nargs * 7;
    char *buf = malloc(total);
    cr_assert(buf);
    memcpy(buf, hdr, hl);
    for (size_t i = 0; i < nargs; i++) {
        memcpy(buf + hl + i * 7, "$1\r\n", 4);
        buf[hl + i * 7 + 4] = (char)('a' + i % 26);
        memcpy(buf + hl + i * 7 + 5, "\r\n", 2);
    }
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    clock_t t0 = clock();
    size_t used = 0;
    fc_resp_status st = FC_RESP_AGAIN;
    for (size_t avail = 4096; st == FC_RESP_AGAIN; avail += 4096)
        st = fc_resp_parse(&p, buf, avail > total ? total : avail, &used);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    cr_assert_eq(st, FC_RESP_OK);
    cr_assert_eq(used, total);
    cr_assert_eq(p.argc, nargs);
    cr_assert_eq(p.argv[nargs - 1].off, total - 3);
    cr_assert_eq(buf[p.argv[777].off], 'a' + 777 % 26);
    cr_assert(secs < 2.0, "1M args took %.2fs", secs);
    fc_resp_parser_deinit(&p);
    free(buf);
}

Test(resp_parser, inline_unescapes_in_place)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    char in[] = "SET \"\\x41\\x42\" v\r\n";
    size_t used;
    cr_assert_eq(fc_resp_parse(&p, in, sizeof(in) - 1, &used), FC_RESP_OK);
    cr_assert_eq(used, sizeof(in) - 1);
    cr_assert(p.inline_req);
    cr_assert_eq(p.argc, 3);
    cr_assert_eq(p.argv[1].len, 2);
    cr_assert(memcmp(in + p.argv[1].off, "AB", 2) == 0);
    cr_assert(p.argv[1].off + p.argv[1].len <= used);
    cr_assert(memcmp(in + p.argv[2].off, "v", 1) == 0);
    fc_resp_parser_deinit(&p);
}

Test(resp_parser, empty_input_waits)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    size_t used = 7;
    cr_assert_eq(fc_resp_parse(&p, NULL, 0, &used), FC_RESP_AGAIN);
    cr_assert_eq(used, 0);
    fc_resp_parser_deinit(&p);
}

Test(resp_parser, need_only_for_big_bulks)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    char small[] = "*1\r\n$32767\r\nab";
    cr_assert_eq(parse_str(&p, small, sizeof(small) - 1), FC_RESP_AGAIN);
    cr_assert_eq(p.need, 0);
    fc_resp_parser_reset(&p);
    char big[] = "*2\r\n$1\r\na\r\n$32768\r\nab";
    cr_assert_eq(parse_str(&p, big, sizeof(big) - 1), FC_RESP_AGAIN);
    cr_assert_eq(p.need, 19 + 32768 + 2);
    fc_resp_parser_deinit(&p);
}

Test(resp_parser, error_clears_argc)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    char in[] = "*3\r\n$1\r\na\r\n$1\r\nb\r\n!";
    cr_assert_eq(parse_str(&p, in, sizeof(in) - 1), FC_RESP_AGAIN);
    cr_assert_eq(p.argc, 2, "arguments are collected as they arrive");
    char more[] = "*3\r\n$1\r\na\r\n$1\r\nb\r\n!\r\n";
    cr_assert_eq(parse_str(&p, more, sizeof(more) - 1), FC_RESP_ERR);
    cr_assert_str_eq(p.err, "Protocol error: expected '$', got '!'");
    cr_assert_eq(p.argc, 0);
    fc_resp_parser_deinit(&p);
}

/* Before AUTH (p.unauth), Redis 7.0's smaller limits apply, after the usual validity checks. */
Test(resp_parser, unauthenticated_limits)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    cr_assert_not(p.unauth, "off by default");
    p.unauth = true;
    char ten[] = "*10\r\n";
    cr_assert_eq(parse_str(&p, ten, sizeof(ten) - 1), FC_RESP_AGAIN);
    fc_resp_parser_reset(&p);
    char eleven[] = "*11\r\n";
    cr_assert_eq(parse_str(&p, eleven, sizeof(eleven) - 1), FC_RESP_ERR);
    cr_assert_str_eq(p.err, "Protocol error: unauthenticated multibulk length");
    fc_resp_parser_reset(&p);
    char huge[] = "*3000000000\r\n"; /* invalid whatever the state: that error wins */
    cr_assert_eq(parse_str(&p, huge, sizeof(huge) - 1), FC_RESP_ERR);
    cr_assert_str_eq(p.err, "Protocol error: invalid multibulk length");
    fc_resp_parser_reset(&p);
    char b16384[] = "*2\r\n$16384\r\n";
    cr_assert_eq(parse_str(&p, b16384, sizeof(b16384) - 1), FC_RESP_AGAIN);
    fc_resp_parser_reset(&p);
    char b16385[] = "*2\r\n$16385\r\n";
    cr_assert_eq(parse_str(&p, b16385, sizeof(b16385) - 1), FC_RESP_ERR);
    cr_assert_str_eq(p.err, "Protocol error: unauthenticated bulk length");
    fc_resp_parser_reset(&p);
    char badlen[] = "*2\r\n$99999999999999999999\r\n";
    cr_assert_eq(parse_str(&p, badlen, sizeof(badlen) - 1), FC_RESP_ERR);
    cr_assert_str_eq(p.err, BULK_LEN);
    fc_resp_parser_reset(&p);
    p.unauth = false;
    cr_assert_eq(parse_str(&p, b16385, sizeof(b16385) - 1), FC_RESP_AGAIN, "lifted after AUTH");
    fc_resp_parser_deinit(&p);
}
