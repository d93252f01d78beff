/*
 * Unit tests for protocol/resp_reply.c.
 *
 * Valid replies (every RESP2/RESP3 kind, nested and empty aggregates, and raw replies captured
 * from a real redis-server 7.0.15) are concatenated into one pipelined buffer and scanned three
 * ways that must find the same reply boundaries: in one go; growing one byte at a time; and
 * split in two at every point. Every call sees bytes copied so that they end right before a
 * PROT_NONE guard page, and the copy moves with every call (as a compacting buffer would), so
 * any read past buf[len) crashes. Malformed inputs come from a table, scanned whole and byte by
 * byte. Linear-time tests feed a 100 MB bulk and a 1M-element array in small pieces.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "protocol/resp_reply.h"
#include "tests/unit/support/guard.h"

typedef struct bytes {
    const char *p;
    size_t n;
} bytes;
#define B(s)                                                                                       \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

/* ---- Guard page: a region whose end touches an unreadable page. ---- */

/* guard_setup / guard_place / guard_teardown: tests/unit/support/guard.h */

/* ---- Driving the scanner over arrivals of bytes. ---- */

#define MAX_REPLIES 256

typedef struct result {
    size_t n;
    size_t end[MAX_REPLIES]; /* offset just past each reply, from the input start */
    bool err;
    char errmsg[96];
} result;

/*
 * Scans in[0..arrive[k]) for k = 0..narrive-1, as bytes arrive: after each arrival, replies are
 * taken until AGAIN or ERR; every call sees the unconsumed bytes placed at the guard page.
 */
static void run(const bytes in, const size_t *arrive, size_t narrive, result *r)
{
    fc_reply_scanner s;
    fc_reply_scanner_init(&s);
    memset(r, 0, sizeof(*r));
    size_t start = 0;
    for (size_t k = 0; k < narrive && !r->err; k++) {
        for (;;) {
            size_t avail = arrive[k] - start, used = 12345;
            const char *buf = guard_place(in.p + start, avail);
            fc_resp_status st = fc_reply_scan(&s, buf, avail, &used);
            if (st == FC_RESP_AGAIN) {
                cr_assert_eq(used, 0);
                break;
            }
            if (st == FC_RESP_ERR) {
                r->err = true;
                cr_assert(s.err[0] != '\0');
                memcpy(r->errmsg, s.err, sizeof(r->errmsg));
                break;
            }
            cr_assert_eq(st, FC_RESP_OK);
            cr_assert(used > 0 && used <= avail);
            cr_assert(r->n < MAX_REPLIES);
            start += used;
            r->end[r->n++] = start;
        }
    }
}

static void run_whole(const bytes in, result *r)
{
    run(in, &in.n, 1, r);
}

static void run_bytewise(const bytes in, result *r)
{
    size_t *arrive = malloc(in.n * sizeof(*arrive));
    cr_assert(arrive);
    for (size_t i = 0; i < in.n; i++)
        arrive[i] = i + 1;
    run(in, arrive, in.n, r);
    free(arrive);
}

static void run_split(const bytes in, size_t at, result *r)
{
    size_t arrive[2] = {at, in.n};
    run(in, arrive, 2, r);
}

static void assert_same(const result *a, const result *b, const char *how, size_t at)
{
    cr_assert_eq(a->err, b->err, "%s %zu: err differs", how, at);
    cr_assert_eq(a->n, b->n, "%s %zu: %zu replies, expected %zu", how, at, a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        cr_assert_eq(a->end[i], b->end[i], "%s %zu: reply %zu ends at %zu, expected %zu", how, at,
                     i, a->end[i], b->end[i]);
    if (a->err)
        cr_assert_str_eq(a->errmsg, b->errmsg, "%s %zu", how, at);
}

/* Scans `in` whole, byte by byte and at every 2-way split; all must give `want`. */
static void check_all_ways(const bytes in, const result *want)
{
    result r;
    run_whole(in, &r);
    assert_same(&r, want, "whole", 0);
    run_bytewise(in, &r);
    assert_same(&r, want, "bytewise", 0);
    for (size_t at = 0; at <= in.n; at++) {
        run_split(in, at, &r);
        assert_same(&r, want, "split", at);
    }
}

/* ---- Valid replies. ---- */

typedef struct valid {
    bytes in;
    char type; /* what fc_reply_type says */
} valid;

static const valid valids[] = {
    {B("+OK\r\n"), '+'},
    {B("+\r\n"), '+'},
    {B("-ERR x\r\n"), '-'},
    {B(":0\r\n"), ':'},
    {B(":-9223372036854775808\r\n"), ':'},
    {B(":9223372036854775807\r\n"), ':'},
    {B("$0\r\n\r\n"), '$'},
    {B("$5\r\nhe\r\nl\r\n"), '$'},
    {B("$3\r\na\0b\r\n"), '$'},
    {B("$1\r\n\r\r\n"), '$'},
    {B("$-1\r\n"), '$'},
    {B("*0\r\n"), '*'},
    {B("*-1\r\n"), '*'},
    {B("_\r\n"), '_'},
    {B("#t\r\n"), '#'},
    {B("#f\r\n"), '#'},
    {B(",1.5\r\n"), ','},
    {B(",-inf\r\n"), ','},
    {B(",inf\r\n"), ','},
    {B(",nan\r\n"), ','},
    {B(",-1.25e+300\r\n"), ','},
    {B("(12345678901234567890123\r\n"), '('},
    {B("(-5\r\n"), '('},
    {B("!0\r\n\r\n"), '!'},
    {B("!21\r\nSYNTAX invalid syntax\r\n"), '!'},
    {B("=4\r\ntxt:\r\n"), '='},
    {B("=8\r\nmkd:**x*\r\n"), '='},
    {B("%0\r\n"), '%'},
    {B("~0\r\n"), '~'},
    {B(">0\r\n"), '>'},
    {B("%1\r\n+k\r\n:1\r\n"), '%'},
    {B("~2\r\n:1\r\n:2\r\n"), '~'},
    {B(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"), '>'},
    {B("*3\r\n*-1\r\n$-1\r\n_\r\n"), '*'},
    /* An array of [a map {a: set {1, 2}, b: empty set}, an empty array]. */
    {B("*2\r\n%2\r\n+a\r\n~2\r\n:1\r\n:2\r\n+b\r\n~0\r\n*0\r\n"), '*'},
    /* Five levels, ending in a map whose key is a set of a push. */
    {B("*1\r\n*1\r\n*1\r\n*1\r\n%1\r\n~1\r\n>1\r\n:1\r\n$0\r\n\r\n"), '*'},
    /* Attributes: the attribute and the reply it annotates are one reply. */
    {B("|1\r\n+a\r\n:1\r\n+OK\r\n"), '+'},
    {B("|0\r\n:7\r\n"), ':'},
    {B("|1\r\n+a\r\n:1\r\n|1\r\n+b\r\n*1\r\n:2\r\n*1\r\n:3\r\n"), '*'},
    {B("*2\r\n|1\r\n+k\r\n+v\r\n:1\r\n:2\r\n"), '*'},
    {B("|1\r\n%1\r\n+k\r\n+v\r\n~1\r\n|0\r\n:1\r\n$-1\r\n"), '$'},
};

/* ---- Raw replies captured from redis-server 7.0.15 (python3 sockets, HELLO 2 and 3). ---- */

typedef struct captured {
    const char *p;
    size_t n;
    size_t first; /* end of the first reply: a push message is a reply of its own */
} captured;

static const captured capture[] = {
    /* RESP2: SCAN 0 */
    {"*2\r\n$1\r\n0\r\n*4\r\n$1\r\ns\r\n$1\r\nh\r\n$1\r\nb\r\n$1\r\na\r\n", 43, 43},
    /* RESP2: MGET a nokey b */
    {"*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n", 23, 23},
    /* RESP2: CONFIG GET maxmemory-* */
    {"*8\r\n$17\r\nmaxmemory-samples\r\n$1\r\n5\r\n$27\r\nmaxmemory-eviction-tenacity\r\n$"
     "2\r\n10\r\n$17\r\nmaxmemory-clients\r\n$1\r\n0\r\n$16\r\nmaxmemory-policy\r\n$"
     "10\r\nnoeviction\r\n",
     148, 148},
    /* RESP2: INCRBYFLOAT fl 1.5 */
    {"$3\r\n1.5\r\n", 9, 9},
    /* RESP2: INCRBYFLOAT fl 0.25 */
    {"$4\r\n1.75\r\n", 10, 10},
    /* RESP2: GET nokey */
    {"$-1\r\n", 5, 5},
    /* RESP2: FOO bar */
    {"-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n", 62, 62},
    /* RESP2: INCR s */
    {"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 68, 68},
    /* RESP2: SMEMBERS s */
    {"*2\r\n$1\r\nx\r\n$1\r\ny\r\n", 18, 18},
    /* RESP2: HGETALL h */
    {"*2\r\n$1\r\nf\r\n$1\r\nv\r\n", 18, 18},
    /* RESP2: TTL a */
    {":-1\r\n", 5, 5},
    /* RESP2: LRANGE nol 0 -1 */
    {"*0\r\n", 4, 4},
    /* RESP2: ZADD z 1.5 m */
    {":1\r\n", 4, 4},
    /* RESP2: ZRANGE z 0 -1 WITHSCORES */
    {"*2\r\n$1\r\nm\r\n$3\r\n1.5\r\n", 20, 20},
    /* RESP2: EVAL return {1,{2,{3,'x'}},false,true} 0 */
    {"*4\r\n:1\r\n*2\r\n:2\r\n*2\r\n:3\r\n$1\r\nx\r\n$-1\r\n:1\r\n", 40, 40},
    /* RESP3: HELLO 3 */
    {"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$"
     "2\r\nid\r\n:6\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$"
     "7\r\nmodules\r\n*0\r\n",
     145, 145},
    /* RESP3: SCAN 0 */
    {"*2\r\n$1\r\n0\r\n*6\r\n$1\r\ns\r\n$1\r\na\r\n$1\r\nh\r\n$1\r\nz\r\n$1\r\nb\r\n$2\r\nfl\r\n",
     58, 58},
    /* RESP3: MGET a nokey b */
    {"*3\r\n$1\r\n1\r\n_\r\n$1\r\n2\r\n", 21, 21},
    /* RESP3: CONFIG GET maxmemory-* */
    {"%4\r\n$17\r\nmaxmemory-samples\r\n$1\r\n5\r\n$27\r\nmaxmemory-eviction-tenacity\r\n$"
     "2\r\n10\r\n$17\r\nmaxmemory-clients\r\n$1\r\n0\r\n$16\r\nmaxmemory-policy\r\n$"
     "10\r\nnoeviction\r\n",
     148, 148},
    /* RESP3: INCRBYFLOAT fl 1.5 */
    {"$4\r\n3.25\r\n", 10, 10},
    /* RESP3: INCRBYFLOAT fl 0.25 */
    {"$3\r\n3.5\r\n", 9, 9},
    /* RESP3: GET nokey */
    {"_\r\n", 3, 3},
    /* RESP3: FOO bar */
    {"-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n", 62, 62},
    /* RESP3: INCR s */
    {"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 68, 68},
    /* RESP3: SMEMBERS s */
    {"~2\r\n$1\r\nx\r\n$1\r\ny\r\n", 18, 18},
    /* RESP3: HGETALL h */
    {"%1\r\n$1\r\nf\r\n$1\r\nv\r\n", 18, 18},
    /* RESP3: TTL a */
    {":-1\r\n", 5, 5},
    /* RESP3: LRANGE nol 0 -1 */
    {"*0\r\n", 4, 4},
    /* RESP3: ZADD z 1.5 m */
    {":0\r\n", 4, 4},
    /* RESP3: ZRANGE z 0 -1 WITHSCORES */
    {"*1\r\n*2\r\n$1\r\nm\r\n,1.5\r\n", 21, 21},
    /* RESP3: EVAL return {1,{2,{3,'x'}},false,true} 0 */
    {"*4\r\n:1\r\n*2\r\n:2\r\n*2\r\n:3\r\n$1\r\nx\r\n_\r\n:1\r\n", 38, 38},
    /* RESP3: DEBUG PROTOCOL double */
    {",3.141\r\n", 8, 8},
    /* RESP3: DEBUG PROTOCOL bignum */
    {"(1234567999999999999999999999999999999\r\n", 40, 40},
    /* RESP3: DEBUG PROTOCOL map */
    {"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n", 28, 28},
    /* RESP3: DEBUG PROTOCOL attrib */
    {"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply "
     "following the attribute\r\n",
     93, 93},
    /* RESP3: DEBUG PROTOCOL push */
    {">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n",
     79, 32},
    /* RESP3: DEBUG PROTOCOL verbatim */
    {"=29\r\ntxt:This is a verbatim\nstring\r\n", 36, 36},
    /* RESP3: DEBUG PROTOCOL true */
    {"#t\r\n", 4, 4},
    /* RESP3: DEBUG PROTOCOL false */
    {"#f\r\n", 4, 4},
    /* RESP3: GET trk */
    {"_\r\n", 3, 3},
    /* RESP3: SET trk 2 */
    {"+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\ntrk\r\n", 39, 5},
};

#define NVALID (sizeof(valids) / sizeof(valids[0]))
#define NCAPTURE (sizeof(capture) / sizeof(capture[0]))

Test(resp_reply, each_valid_reply_alone)
{
    guard_setup(4096);
    for (size_t i = 0; i < NVALID; i++) {
        result want = {.n = 1, .end = {valids[i].in.n}};
        check_all_ways(valids[i].in, &want);
        cr_assert_eq(fc_reply_type(guard_place(valids[i].in.p, valids[i].in.n), valids[i].in.n),
                     valids[i].type, "valid %zu", i);
    }
    guard_teardown();
}

Test(resp_reply, captured_replies_frame_exactly)
{
    guard_setup(4096);
    for (size_t i = 0; i < NCAPTURE; i++) {
        bytes in = {capture[i].p, capture[i].n};
        result r;
        run_whole(in, &r);
        cr_assert(!r.err, "capture %zu: %s", i, r.errmsg);
        cr_assert_eq(r.n, capture[i].first == in.n ? 1 : 2, "capture %zu", i);
        cr_assert_eq(r.end[0], capture[i].first, "capture %zu", i);
        cr_assert_eq(r.end[r.n - 1], in.n, "capture %zu", i);
        result want = r;
        check_all_ways(in, &want);
    }
    guard_teardown();
}

/* All valid and captured replies back to back, at every split point. */
Test(resp_reply, pipeline_every_split_point)
{
    size_t total = 0;
    for (size_t i = 0; i < NVALID; i++)
        total += valids[i].in.n;
    for (size_t i = 0; i < NCAPTURE; i++)
        total += capture[i].n;
    char *all = malloc(total);
    cr_assert(all);
    result want = {0};
    size_t off = 0;
    for (size_t i = 0; i < NVALID || i < NCAPTURE; i++) {
        if (i < NVALID) {
            memcpy(all + off, valids[i].in.p, valids[i].in.n);
            off += valids[i].in.n;
            want.end[want.n++] = off;
        }
        if (i < NCAPTURE) {
            memcpy(all + off, capture[i].p, capture[i].n);
            off += capture[i].n;
            if (capture[i].first != capture[i].n)
                want.end[want.n++] = off - capture[i].n + capture[i].first;
            want.end[want.n++] = off;
        }
    }
    cr_assert_eq(off, total);
    guard_setup(total);
    bytes in = {all, total};
    check_all_ways(in, &want);
    guard_teardown();
    free(all);
}

/* The scanner is reusable after each reply and needs no reset between replies. */
Test(resp_reply, scanner_resets_after_each_reply)
{
    fc_reply_scanner s;
    fc_reply_scanner_init(&s);
    size_t used;
    cr_assert_eq(fc_reply_scan(&s, "*2\r\n:1\r\n:2\r\n+X", 15, &used), FC_RESP_OK);
    cr_assert_eq(used, 12);
    cr_assert_eq(s.pos, 0);
    cr_assert_eq(s.depth, 0);
    cr_assert_eq(fc_reply_scan(&s, "+X", 2, &used), FC_RESP_AGAIN);
    cr_assert_eq(fc_reply_scan(&s, "+X\r\n", 4, &used), FC_RESP_OK);
    cr_assert_eq(used, 4);
    cr_assert_eq(fc_reply_scan(&s, "", 0, &used), FC_RESP_AGAIN);
    cr_assert_eq(used, 0);
}

/* Partial state lives in pos/depth/left: nothing already seen is looked at again. */
Test(resp_reply, resumes_where_it_stopped)
{
    fc_reply_scanner s;
    fc_reply_scanner_init(&s);
    size_t used;
    const char *in = "*2\r\n+hello world\r\n$10\r\n0123456789\r\n";
    cr_assert_eq(fc_reply_scan(&s, in, 9, &used), FC_RESP_AGAIN);
    cr_assert_eq(s.depth, 1);
    cr_assert_eq(s.left[0], 2);
    cr_assert_eq(s.pos, 9); /* inside "+hello...", searched up to the end */
    cr_assert_eq(fc_reply_scan(&s, in, 27, &used), FC_RESP_AGAIN);
    cr_assert_eq(s.left[0], 1);
    cr_assert_eq(s.pos, 27); /* 4 data bytes counted */
    cr_assert_eq(s.left[1], -1 - 6);
    cr_assert_eq(fc_reply_scan(&s, in, 33, &used), FC_RESP_AGAIN);
    cr_assert_eq(s.pos, 33); /* data done, waiting for its CRLF */
    cr_assert_eq(fc_reply_scan(&s, in, 34, &used), FC_RESP_AGAIN);
    cr_assert_eq(fc_reply_scan(&s, in, 35, &used), FC_RESP_OK);
    cr_assert_eq(used, 35);
}

/* ---- Nesting bounds. ---- */

static bytes nested(char *buf, int levels, const char *leaf)
{
    size_t off = 0;
    for (int i = 0; i < levels; i++) {
        memcpy(buf + off, "*1\r\n", 4);
        off += 4;
    }
    memcpy(buf + off, leaf, strlen(leaf));
    return (bytes){buf, off + strlen(leaf)};
}

Test(resp_reply, nesting_depth_is_bounded)
{
    static char buf[4 * 100 + 8];
    guard_setup(4096);
    /* FC_REPLY_MAX_DEPTH levels counting the innermost element are accepted. */
    bytes ok = nested(buf, FC_REPLY_MAX_DEPTH - 1, ":1\r\n");
    result want = {.n = 1, .end = {ok.n}};
    check_all_ways(ok, &want);
    ok = nested(buf, FC_REPLY_MAX_DEPTH - 1, "*0\r\n");
    want.end[0] = ok.n;
    check_all_ways(ok, &want);
    /* One more level fails as soon as the aggregate that would hold it is opened. */
    bytes bad = nested(buf, FC_REPLY_MAX_DEPTH, ":1\r\n");
    result werr = {.err = true};
    strcpy(werr.errmsg, "reply nesting too deep");
    check_all_ways(bad, &werr);
    bad = nested(buf, 100, "$-1\r\n");
    check_all_ways(bad, &werr);
    guard_teardown();
}

Test(resp_reply, huge_lengths_only_count)
{
    fc_reply_scanner s;
    size_t used;
    static const char *const waits[] = {
        "$9223372036854775807\r\n", "*9223372036854775807\r\n",   "%4611686018427387903\r\n",
        "|4611686018427387903\r\n", "!9223372036854775807\r\nab", "=9223372036854775807\r\n",
        "$536870913\r\n",
    };
    for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
        fc_reply_scanner_init(&s);
        cr_assert_eq(fc_reply_scan(&s, waits[i], strlen(waits[i]), &used), FC_RESP_AGAIN, "%s",
                     waits[i]);
        cr_assert_eq(s.pos, strlen(waits[i]));
    }
}

Test(resp_reply, errors_are_sticky_until_init)
{
    fc_reply_scanner s;
    fc_reply_scanner_init(&s);
    size_t used;
    cr_assert_eq(fc_reply_scan(&s, "$-2\r\n", 5, &used), FC_RESP_ERR);
    cr_assert_str_eq(s.err, "invalid length in reply");
    cr_assert_eq(fc_reply_scan(&s, "+OK\r\n", 5, &used), FC_RESP_ERR);
    fc_reply_scanner_init(&s);
    cr_assert_eq(fc_reply_scan(&s, "+OK\r\n", 5, &used), FC_RESP_OK);
    cr_assert_eq(used, 5);
}

/* ---- Malformed replies. ---- */

typedef struct malformed {
    bytes in;
    size_t ok_before; /* complete replies before the error */
    const char *err;
} malformed;

#define E_TYPE(hex) "unknown reply type byte 0x" hex
#define E_LEN "invalid length in reply"
#define E_BULK "bulk data not followed by CRLF"
#define E_LINE "malformed reply line"
#define E_LF "LF without CR in reply line"
#define E_CR "CR without LF in reply line"
#define E_LONG "reply length line too long"
#define E_STREAM "streamed reply not supported"

static const malformed malformeds[] = {
    {B("?x\r\n"), 0, E_TYPE("3f")},
    {B("\r\n"), 0, E_TYPE("0d")},
    {B("\0"), 0, E_TYPE("00")},
    {B("\xff"), 0, E_TYPE("ff")},
    {B("*2\r\n:1\r\n;3\r\n"), 0, E_TYPE("3b")},
    {B(".\r\n"), 0, E_TYPE("2e")},
    {B("+OK\r\n$3\r\nabcX"), 1, E_BULK},
    {B("$3\r\nabc\rX"), 0, E_BULK},
    {B("$3\r\nabc\n\r"), 0, E_BULK},
    {B("$0\r\n\n"), 0, E_BULK},
    {B("*1\r\n$3\r\nabcde"), 0, E_BULK},
    {B("!1\r\nxx\r\n"), 0, E_BULK},
    {B("=4\r\ntxt:x\r\n"), 0, E_BULK},
    {B("$-2\r\n"), 0, E_LEN},
    {B("*-2\r\n"), 0, E_LEN},
    {B("$-9223372036854775808\r\n"), 0, E_LEN},
    {B("%-1\r\n"), 0, E_LEN},
    {B("~-1\r\n"), 0, E_LEN},
    {B(">-1\r\n"), 0, E_LEN},
    {B("|-1\r\n"), 0, E_LEN},
    {B("!-1\r\n"), 0, E_LEN},
    {B("=-1\r\n"), 0, E_LEN},
    {B("$01\r\n"), 0, E_LEN},
    {B("$+1\r\n"), 0, E_LEN},
    {B("$ 1\r\n"), 0, E_LEN},
    {B("$\r\n"), 0, E_LEN},
    {B("*1x\r\n"), 0, E_LEN},
    {B("*-0\r\n"), 0, E_LEN},
    {B("$9223372036854775808\r\n"), 0, E_LEN},
    {B("%4611686018427387904\r\n"), 0, E_LEN},
    {B("|4611686018427387904\r\n"), 0, E_LEN},
    {B("$?\r\n"), 0, E_STREAM},
    {B("*?\r\n"), 0, E_STREAM},
    {B("%?\r\n"), 0, E_STREAM},
    {B("=3\r\ntxt\r\n"), 0, "verbatim string shorter than its format prefix"},
    {B("+OK\n"), 0, E_LF},
    {B("+O\nK\r\n"), 0, E_LF},
    {B("-ERR\n\r\n"), 0, E_LF},
    {B("+OK\rX"), 0, E_CR},
    {B(":1\r\r\n"), 0, E_CR},
    {B("$3\rabc\r\n"), 0, E_CR},
    {B(":12345678901234567890123456\r\n"), 0, E_LONG},
    {B("$1111111111111111111111111"), 0, E_LONG},
    {B("_                        "), 0, E_LONG},
    {B(":abc\r\n"), 0, E_LINE},
    {B(":\r\n"), 0, E_LINE},
    {B(":-0\r\n"), 0, E_LINE},
    {B(":01\r\n"), 0, E_LINE},
    {B(":9223372036854775808\r\n"), 0, E_LINE},
    {B("#x\r\n"), 0, E_LINE},
    {B("#\r\n"), 0, E_LINE},
    {B("#tt\r\n"), 0, E_LINE},
    {B("_x\r\n"), 0, E_LINE},
    {B(",\r\n"), 0, E_LINE},
    {B(",1.5x\r\n"), 0, E_LINE},
    {B(",1\0\r\n"), 0, E_LINE},
    {B("(\r\n"), 0, E_LINE},
    {B("(1a\r\n"), 0, E_LINE},
    {B("(-\r\n"), 0, E_LINE},
    {B("%1\r\n+k\r\n#y\r\n"), 0, E_LINE},
};

Test(resp_reply, malformed_every_split_point)
{
    guard_setup(4096);
    for (size_t i = 0; i < sizeof(malformeds) / sizeof(malformeds[0]); i++) {
        const malformed *m = &malformeds[i];
        result want = {.err = true, .n = m->ok_before};
        if (m->ok_before)
            want.end[0] = 5;
        snprintf(want.errmsg, sizeof(want.errmsg), "%s", m->err);
        check_all_ways(m->in, &want);
    }
    guard_teardown();
}

/* ---- Linear time: big inputs in small pieces, each under 1 s of CPU. ---- */

/* Feeds in[0..n) in pieces of `piece` bytes; returns the CPU seconds taken. */
static double feed(const char *in, size_t n, size_t piece, bool check_pos)
{
    fc_reply_scanner s;
    fc_reply_scanner_init(&s);
    size_t used = 0;
    clock_t t0 = clock();
    for (size_t have = piece < n ? piece : n;; have = have + piece < n ? have + piece : n) {
        fc_resp_status st = fc_reply_scan(&s, in, have, &used);
        if (have == n) {
            cr_assert_eq(st, FC_RESP_OK, "%s", s.err);
            break;
        }
        cr_assert_eq(st, FC_RESP_AGAIN, "at %zu: %s", have, s.err);
        if (check_pos)
            cr_assert(s.pos + 2 >= have, "pos %zu at %zu", s.pos, have);
    }
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    cr_assert_eq(used, n);
    return cpu;
}

Test(resp_reply, linear_100mb_bulk_in_16k_pieces)
{
    size_t data = 100u * 1000 * 1000;
    char *in = malloc(data + 32);
    cr_assert(in);
    int h = sprintf(in, "$%zu\r\n", data);
    memset(in + h, '\r', data);
    memcpy(in + h + data, "\r\n", 2);
    double cpu = feed(in, (size_t)h + data + 2, 16 * 1024, true);
    cr_assert(cpu < 1.0, "%.3f s", cpu);
    free(in);
}

Test(resp_reply, linear_10mb_simple_string_in_4k_pieces)
{
    size_t data = 10u * 1000 * 1000;
    char *in = malloc(data + 3);
    cr_assert(in);
    in[0] = '-';
    memset(in + 1, 'e', data);
    memcpy(in + 1 + data, "\r\n", 2);
    double cpu = feed(in, data + 3, 4096, true);
    cr_assert(cpu < 1.0, "%.3f s", cpu);
    free(in);
}

Test(resp_reply, linear_1m_element_array_in_4k_pieces)
{
    size_t count = 1000 * 1000;
    char *in = malloc(32 + count * 9);
    cr_assert(in);
    size_t off = (size_t)sprintf(in, "*%zu\r\n", count);
    for (size_t i = 0; i < count; i++) {
        static const char *const elems[] = {":1\r\n", "$1\r\na\r\n", "_\r\n", "*1\r\n#t\r\n"};
        const char *e = elems[i % 4];
        memcpy(in + off, e, strlen(e));
        off += strlen(e);
    }
    double cpu = feed(in, off, 4096, true);
    cr_assert(cpu < 1.0, "%.3f s", cpu);
    free(in);
}

/* ---- The decoder: type, integer, arrays of strings. ---- */

static const char *place(const char *s, size_t n)
{
    return guard_place(s, n);
}

Test(resp_reply, type_skips_attributes)
{
    guard_setup(4096);
    cr_assert_eq(fc_reply_type(place("", 0), 0), 0);
    cr_assert_eq(fc_reply_type(place("-ERR\r\n", 6), 6), '-');
    cr_assert_eq(fc_reply_type(place(">2\r\n", 4), 4), '>');
    cr_assert_eq(fc_reply_type(place("|1\r\n+a\r\n+b\r\n", 12), 12), 0); /* nothing after it */
    cr_assert_eq(fc_reply_type(place("|1\r\n+a\r\n", 8), 8), 0);
    cr_assert_eq(fc_reply_type(place("|x\r\n", 4), 4), 0);
    cr_assert_eq(fc_reply_type(place("|1\r\n+a\r\n+b\r\n-E\r\n", 16), 16), '-');
    guard_teardown();
}

Test(resp_reply, integer_replies)
{
    guard_setup(4096);
    int64_t v = 99;
    cr_assert(fc_reply_integer(place(":42\r\n", 5), 5, &v));
    cr_assert_eq(v, 42);
    cr_assert(fc_reply_integer(place(":-9223372036854775808\r\n", 23), 23, &v));
    cr_assert_eq(v, INT64_MIN);
    cr_assert(fc_reply_integer(place("|1\r\n+a\r\n+b\r\n:5\r\n", 16), 16, &v));
    cr_assert_eq(v, 5);
    v = 99;
    cr_assert_not(fc_reply_integer(place("+42\r\n", 5), 5, &v));
    cr_assert_not(fc_reply_integer(place(":4x\r\n", 5), 5, &v));
    cr_assert_not(fc_reply_integer(place(":42\r", 4), 4, &v));
    cr_assert_not(fc_reply_integer(place(":42", 3), 3, &v));
    cr_assert_not(fc_reply_integer(place(":\r\n", 3), 3, &v));
    cr_assert_not(fc_reply_integer(place("", 0), 0, &v));
    cr_assert_not(fc_reply_integer(place("$2\r\n42\r\n", 8), 8, &v));
    cr_assert_eq(v, 99);
    guard_teardown();
}

typedef struct elems {
    int64_t count;
    size_t n;
    char s[16][32];
    bool null[16];
    size_t end; /* *pos after the last true */
} elems;

static void iterate(const char *src, size_t len, elems *e)
{
    const char *buf = place(src, len);
    size_t pos = 0;
    const char *el;
    size_t elen;
    bool null;
    memset(e, 0, sizeof(*e));
    e->count = -99;
    while (fc_reply_array_next(buf, len, &pos, &e->count, &el, &elen, &null)) {
        cr_assert(e->n < 16 && elen < 32);
        cr_assert(null || (el >= buf && el + elen <= buf + len));
        if (!null)
            memcpy(e->s[e->n], el, elen);
        e->null[e->n++] = null;
        e->end = pos;
    }
}

Test(resp_reply, array_next_scan_reply)
{
    guard_setup(4096);
    const captured *c = &capture[0]; /* RESP2 SCAN: [cursor, [keys]] */
    elems e;
    iterate(c->p, c->n, &e);
    cr_assert_eq(e.count, 2);
    cr_assert_eq(e.n, 1); /* stops at the key array, leaving pos on it */
    cr_assert_str_eq(e.s[0], "0");
    cr_assert_eq(e.end, 11);
    iterate(c->p + e.end, c->n - e.end, &e);
    cr_assert_eq(e.count, 4);
    cr_assert_eq(e.n, 4);
    cr_assert_str_eq(e.s[0], "s");
    cr_assert_str_eq(e.s[3], "a");
    cr_assert_eq(e.end, c->n - 11);
    guard_teardown();
}

Test(resp_reply, array_next_mget_nulls)
{
    guard_setup(4096);
    for (size_t i = 0; i < NCAPTURE; i++) {
        if (strncmp(capture[i].p, "*3\r\n$1\r\n1\r\n", 11) != 0)
            continue; /* MGET a nokey b, in RESP2 ($-1) and RESP3 (_) */
        elems e;
        iterate(capture[i].p, capture[i].n, &e);
        cr_assert_eq(e.count, 3);
        cr_assert_eq(e.n, 3);
        cr_assert_str_eq(e.s[0], "1");
        cr_assert(e.null[1] && !e.null[0] && !e.null[2]);
        cr_assert_str_eq(e.s[2], "2");
        cr_assert_eq(e.end, capture[i].n);
    }
    guard_teardown();
}

Test(resp_reply, array_next_edges)
{
    guard_setup(4096);
    elems e;
    iterate("*0\r\n", 4, &e);
    cr_assert_eq(e.count, 0);
    cr_assert_eq(e.n, 0);
    iterate("*-1\r\n", 5, &e);
    cr_assert_eq(e.count, -1);
    cr_assert_eq(e.n, 0);
    iterate("~2\r\n$1\r\nx\r\n$0\r\n\r\n", 17, &e);
    cr_assert_eq(e.count, 2);
    cr_assert_eq(e.n, 2);
    cr_assert_str_eq(e.s[0], "x");
    cr_assert_str_eq(e.s[1], "");
    iterate("%1\r\n$1\r\nk\r\n$1\r\nv\r\n", 18, &e);
    cr_assert_eq(e.count, -99);
    iterate("+OK\r\n", 5, &e);
    cr_assert_eq(e.count, -99);
    iterate("*2\r\n:1\r\n:2\r\n", 12, &e);
    cr_assert_eq(e.count, 2);
    cr_assert_eq(e.n, 0);
    /* Truncated or lying lengths end the iteration without reading past the buffer. */
    iterate("*2\r\n$1\r\nx\r\n$5\r\nab", 17, &e);
    cr_assert_eq(e.n, 1);
    iterate("*1\r\n$3\r\nabcd\r\n", 14, &e);
    cr_assert_eq(e.n, 0);
    iterate("*1\r\n$9223372036854775807\r\nab\r\n", 30, &e);
    cr_assert_eq(e.n, 0);
    iterate("*1\r\n$-2\r\n", 9, &e);
    cr_assert_eq(e.n, 0);
    iterate("*1\r\n_x\r\n", 8, &e);
    cr_assert_eq(e.n, 0);
    iterate("*1\r\n$1\r\na", 9, &e);
    cr_assert_eq(e.n, 0);
    iterate("*1", 2, &e);
    cr_assert_eq(e.count, -99);
    guard_teardown();
}
