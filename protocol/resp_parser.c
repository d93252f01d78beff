/*
 * resp_parser — incremental RESP2 request parser (see resp_parser.h for the contract).
 *
 * It reproduces what Redis 7.0.15 (networking.c, processMultibulkBuffer/processInlineBuffer)
 * accepts and rejects, checked against a real redis-server with raw bytes:
 *
 *   multibulk  "*" count CR any-byte, then count x ( "$" len CR any-byte, len bytes, 2 bytes )
 *   inline     everything up to the first LF (a CR right before it is dropped), split like
 *              sdssplitargs: blanks separate, "..." with C escapes, '...' with only \'
 *
 * Surprises kept on purpose: a header line ends at its CR and the byte after the CR is skipped
 * whatever it is; the 2 bytes after bulk data are skipped unchecked ("$3\r\nPINGX" is "PIN");
 * "*0" and "*-N" are empty frames; Redis finds line ends with strchr, so a NUL before the CR
 * (or LF for inline) hides the end forever and only the 64 KiB "too big" limit ends the wait.
 *
 * Resumption: the private fields say where the frame is, so no byte is scanned twice.
 *
 *   state        pos                     bulk_len                     remaining
 *   MB_HDR       0 (line start)          scan offset                  -1
 *   BULK_HDR     start of "$..." line    scan offset                  bulks still expected
 *   BULK_DATA    start of the data       length of the data           bulks still expected
 *   INLINE       0 (line start)          scan offset                  -1
 *
 * "Scan offset" is the first byte not yet searched for the line end; ST_STUCK is or-ed into the
 * state once a NUL was found before the line end. argv spans are pushed as bulks complete; argv
 * grows by doubling, so a huge announced count costs memory only as arguments actually arrive.
 */
#include "protocol/resp_parser.h"

#include "protocol/strnum.h"

#include <stdlib.h>
#include <string.h>

enum { ST_START = 0, ST_MB_HDR, ST_BULK_HDR, ST_BULK_DATA, ST_INLINE };
#define ST_STUCK 0x100

#define STEP_NEXT 3              /* internal: the frame continues, run the next state */
#define BIG_ARG (32 * 1024)      /* PROTO_MBULK_BIG_ARG: bulks this large set p->need */
#define ARGV_INITIAL_MAX 1024    /* at most this many spans reserved from a count alone */

static void reset_state(fc_resp_parser *p)
{
    p->state = ST_START;
    p->pos = 0;
    p->remaining = -1;
    p->bulk_len = -1;
    p->need = 0;
}

void fc_resp_parser_init(fc_resp_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->max_bulk = FC_RESP_DEFAULT_MAX_BULK;
    /* Redis 7.0.15 rejects counts above INT_MAX ("*2147483647" waits, "*2147483648" fails). */
    p->max_multibulk = INT32_MAX;
    reset_state(p);
}

void fc_resp_parser_deinit(fc_resp_parser *p)
{
    free(p->argv);
    p->argv = NULL;
    p->argv_cap = 0;
    p->argc = 0;
    reset_state(p);
}

void fc_resp_parser_reset(fc_resp_parser *p)
{
    p->argc = 0;
    p->inline_req = false;
    reset_state(p);
}

static int fail(fc_resp_parser *p, const char *msg)
{
    size_t n = strlen(msg);
    if (n >= sizeof(p->err))
        n = sizeof(p->err) - 1;
    memcpy(p->err, msg, n);
    p->err[n] = '\0';
    return FC_RESP_ERR;
}

/* Makes room for n spans. Returns false when the size overflows or memory runs out. */
static bool argv_reserve(fc_resp_parser *p, size_t n)
{
    if (n <= p->argv_cap)
        return true;
    size_t cap = p->argv_cap ? p->argv_cap : 8;
    while (cap < n) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    if (cap > SIZE_MAX / sizeof(fc_span))
        return false;
    fc_span *a = realloc(p->argv, cap * sizeof(fc_span));
    if (!a)
        return false;
    p->argv = a;
    p->argv_cap = cap;
    return true;
}

static bool argv_push(fc_resp_parser *p, size_t off, size_t len)
{
    if (p->argc == SIZE_MAX || !argv_reserve(p, p->argc + 1))
        return false;
    p->argv[p->argc].off = (uint32_t)off;
    p->argv[p->argc].len = (uint32_t)len;
    p->argc++;
    return true;
}

/*
 * Looks for the line end `ch` from the scan offset (p->bulk_len) like strchr would: a NUL first
 * means the end is never found. Returns true with *at = index of ch; otherwise remembers how far
 * it searched. The scan offset stops at a found ch so a retry finds it again in O(1).
 */
static bool scan_line(fc_resp_parser *p, const char *buf, size_t len, char ch, size_t *at)
{
    if (p->state & ST_STUCK)
        return false;
    size_t from = (size_t)p->bulk_len;
    if (from > len)
        return false; /* the caller shrank the buffer: wait for the bytes again */
    const char *s = buf + from;
    const char *e = memchr(s, ch, len - from);
    size_t lim = e ? (size_t)(e - s) : len - from;
    if (lim && memchr(s, '\0', lim)) {
        p->state |= ST_STUCK;
        return false;
    }
    if (!e) {
        p->bulk_len = (int64_t)len;
        return false;
    }
    p->bulk_len = (int64_t)(from + lim);
    *at = from + lim;
    return true;
}

static int mb_header(fc_resp_parser *p, const char *buf, size_t len, size_t *used)
{
    size_t cr;
    if (!scan_line(p, buf, len, '\r', &cr)) {
        if (len > FC_RESP_MAX_INLINE)
            return fail(p, "Protocol error: too big mbulk count string");
        return FC_RESP_AGAIN;
    }
    if (cr + 1 >= len)
        return FC_RESP_AGAIN; /* Redis wants one more byte (not necessarily LF) after CR */
    long long ll;
    if (!fc_parse_ll(buf + 1, cr - 1, &ll) || (ll > 0 && (uint64_t)ll > p->max_multibulk))
        return fail(p, "Protocol error: invalid multibulk length");
    if (p->unauth && ll > FC_RESP_UNAUTH_MAX_MULTIBULK)
        return fail(p, "Protocol error: unauthenticated multibulk length");
    p->pos = cr + 2;
    if (ll <= 0) {
        *used = p->pos;
        return FC_RESP_OK;
    }
    size_t initial = (uint64_t)ll < ARGV_INITIAL_MAX ? (size_t)ll : ARGV_INITIAL_MAX;
    if (!argv_reserve(p, initial))
        return fail(p, "out of memory");
    p->remaining = ll;
    p->state = ST_BULK_HDR;
    p->bulk_len = (int64_t)p->pos;
    return STEP_NEXT;
}

static int expected_dollar(fc_resp_parser *p, char got)
{
    static const char prefix[] = "Protocol error: expected '$', got '";
    char msg[sizeof(prefix) + 2];
    memcpy(msg, prefix, sizeof(prefix) - 1);
    /* Redis's addReplyErrorFormat turns CR and LF into spaces. */
    msg[sizeof(prefix) - 1] = (got == '\r' || got == '\n') ? ' ' : got;
    msg[sizeof(prefix)] = '\'';
    msg[sizeof(prefix) + 1] = '\0';
    return fail(p, msg);
}

static int bulk_header(fc_resp_parser *p, const char *buf, size_t len)
{
    size_t cr;
    if (!scan_line(p, buf, len, '\r', &cr)) {
        if (len >= p->pos && len - p->pos > FC_RESP_MAX_INLINE)
            return fail(p, "Protocol error: too big bulk count string");
        return FC_RESP_AGAIN;
    }
    if (cr + 1 >= len)
        return FC_RESP_AGAIN;
    if (buf[p->pos] != '$')
        return expected_dollar(p, buf[p->pos]);
    long long ll;
    size_t start = p->pos + 1;
    if (cr < start || !fc_parse_ll(buf + start, cr - start, &ll) || ll < 0 ||
        (uint64_t)ll > p->max_bulk)
        return fail(p, "Protocol error: invalid bulk length");
    if (p->unauth && ll > FC_RESP_UNAUTH_MAX_BULK)
        return fail(p, "Protocol error: unauthenticated bulk length");
    p->pos = cr + 2;
    /* Spans are 32-bit offsets: a frame beyond 4 GiB cannot be described. */
    if (p->pos > UINT32_MAX || (uint64_t)ll + 2 > (uint64_t)UINT32_MAX - p->pos)
        return fail(p, "Protocol error: invalid bulk length");
    p->bulk_len = ll;
    p->need = ll >= BIG_ARG ? p->pos + (size_t)ll + 2 : 0;
    p->state = ST_BULK_DATA;
    return STEP_NEXT;
}

static int bulk_data(fc_resp_parser *p, size_t len, size_t *used)
{
    size_t n = (size_t)p->bulk_len;
    if (len < p->pos || len - p->pos < n + 2)
        return FC_RESP_AGAIN;
    if (!argv_push(p, p->pos, n))
        return fail(p, "out of memory");
    p->pos += n + 2; /* the 2 bytes after the data are not checked, as in Redis */
    p->need = 0;
    if (--p->remaining == 0) {
        *used = p->pos;
        return FC_RESP_OK;
    }
    p->state = ST_BULK_HDR;
    p->bulk_len = (int64_t)p->pos;
    return STEP_NEXT;
}

static int parse_multibulk(fc_resp_parser *p, const char *buf, size_t len, size_t *used)
{
    for (;;) {
        int rc;
        switch (p->state & ~ST_STUCK) {
        case ST_MB_HDR:
            rc = mb_header(p, buf, len, used);
            break;
        case ST_BULK_HDR:
            rc = bulk_header(p, buf, len);
            break;
        default:
            rc = bulk_data(p, len, used);
            break;
        }
        if (rc != STEP_NEXT)
            return rc;
    }
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The byte at i, or 0 at and past the end (the line holds no NUL: see scan_line). */
static int at(const char *buf, size_t end, size_t i)
{
    return i < end ? (unsigned char)buf[i] : 0;
}

static char unescape(int c)
{
    switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return (char)c;
    }
}

/* A closing quote at i must be followed by a blank or the end of the line. */
static bool close_ok(const char *buf, size_t end, size_t i)
{
    return i + 1 >= end || is_space((unsigned char)buf[i + 1]);
}

/*
 * Reads one sdssplitargs token starting at *ip (not a blank), writing the unescaped bytes at *wp.
 * The write index never passes the read index, so unescaping in place is safe. Returns false on
 * unbalanced quotes.
 */
static bool read_token(char *buf, size_t end, size_t *ip, size_t *wp)
{
    size_t i = *ip, w = *wp;
    int quote = 0;
    for (;;) {
        int c = at(buf, end, i);
        if (quote == '"' && c == '\\' && at(buf, end, i + 1) == 'x' &&
            hex_val(at(buf, end, i + 2)) >= 0 && hex_val(at(buf, end, i + 3)) >= 0) {
            buf[w++] = (char)(hex_val(at(buf, end, i + 2)) * 16 + hex_val(at(buf, end, i + 3)));
            i += 4;
        } else if (quote == '"' && c == '\\' && i + 1 < end) {
            buf[w++] = unescape(at(buf, end, i + 1));
            i += 2;
        } else if (quote == '\'' && c == '\\' && at(buf, end, i + 1) == '\'') {
            buf[w++] = '\'';
            i += 2;
        } else if (quote && c == quote) {
            if (!close_ok(buf, end, i))
                return false;
            i++;
            break;
        } else if (quote && i >= end) {
            return false;
        } else if (quote) {
            buf[w++] = (char)c;
            i++;
        } else if (i >= end || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            if (i < end)
                i++;
            break;
        } else if (c == '"' || c == '\'') {
            quote = c;
            i++;
        } else {
            buf[w++] = (char)c;
            i++;
        }
    }
    *ip = i;
    *wp = w;
    return true;
}

/* Splits buf[0..end) in place into p->argv. */
static int split_inline(fc_resp_parser *p, char *buf, size_t end)
{
    size_t i = 0, w = 0;
    for (;;) {
        while (i < end && is_space((unsigned char)buf[i]))
            i++;
        if (i >= end)
            return FC_RESP_OK;
        size_t start = w;
        if (!read_token(buf, end, &i, &w))
            return fail(p, "Protocol error: unbalanced quotes in request");
        if (!argv_push(p, start, w - start))
            return fail(p, "out of memory");
    }
}

static int parse_inline(fc_resp_parser *p, char *buf, size_t len, size_t *used)
{
    size_t lf;
    if (!scan_line(p, buf, len, '\n', &lf)) {
        if (len > FC_RESP_MAX_INLINE)
            return fail(p, "Protocol error: too big inline request");
        return FC_RESP_AGAIN;
    }
    if (lf >= UINT32_MAX)
        return fail(p, "Protocol error: too big inline request");
    size_t end = (lf > 0 && buf[lf - 1] == '\r') ? lf - 1 : lf;
    p->inline_req = true;
    int rc = split_inline(p, buf, end);
    if (rc == FC_RESP_OK)
        *used = lf + 1;
    return rc;
}

/*
 * Fast path: reads "<digits>\r" at *pos, where the digits are "0" or 1 to 9 digits without a
 * leading zero, and the byte after the CR is present. On success *pos is past that byte (like
 * the general path, which skips it unchecked). Anything else is left to the general path, which
 * gives the same answer fc_parse_ll would (it has no NUL to care about: digits only).
 */
static bool fast_len(const char *buf, size_t len, size_t *pos, uint32_t *out)
{
    size_t start = *pos, i = start;
    size_t end = len - start > 9 ? start + 9 : len; /* 9 digits always fit in 32 bits */
    uint32_t v = 0;
    unsigned d;
    while (i < end && (d = (unsigned char)(buf[i] - '0')) <= 9) {
        v = v * 10 + d;
        i++;
    }
    if (i == start || (buf[start] == '0' && i - start > 1) || i + 1 >= len || buf[i] != '\r')
        return false;
    *pos = i + 2;
    *out = v;
    return true;
}

/*
 * The common frame in one pass: a complete multibulk request of at most ARGV_INITIAL_MAX bulks
 * (and max_mb), each shorter than BIG_ARG and at most max_bulk, every length in plain digits.
 * The spans go to spans[0..cap); a frame of more than cap bulks fails with *argc set to its
 * count (so the caller may make room and retry). Returns false for anything else (partial
 * frames, errors, limits, big bulks, "*0"), with *used untouched.
 */
static bool one_pass(const char *buf, size_t len, uint64_t max_bulk, uint64_t max_mb,
                     fc_span *spans, size_t cap, size_t *argc, size_t *used)
{
    size_t pos = 1;
    uint32_t count;
    *argc = 0;
    if (len > UINT32_MAX || !fast_len(buf, len, &pos, &count) || count == 0 ||
        count > ARGV_INITIAL_MAX || count > max_mb)
        return false;
    if (count > cap) {
        *argc = count;
        return false;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint32_t n;
        if (pos >= len || buf[pos] != '$')
            return false;
        pos++;
        if (!fast_len(buf, len, &pos, &n) || n >= BIG_ARG || n > max_bulk ||
            len - pos < (size_t)n + 2)
            return false;
        spans[i] = (fc_span){(uint32_t)pos, n};
        pos += (size_t)n + 2;
    }
    *argc = count;
    *used = pos;
    return true;
}

/* The one-pass path of fc_resp_parse, for an authenticated client: the state machine parses
 * whatever it refuses from the frame's first byte, so every answer and error stays its own.
 * argv is filled in place; argc is set only on success. */
static bool parse_fast(fc_resp_parser *p, const char *buf, size_t len, size_t *used)
{
    size_t count;
    if (p->unauth)
        return false;
    if (!one_pass(buf, len, p->max_bulk, p->max_multibulk, p->argv, p->argv_cap, &count, used) &&
        (count <= p->argv_cap || !argv_reserve(p, count) ||
         !one_pass(buf, len, p->max_bulk, p->max_multibulk, p->argv, p->argv_cap, &count, used)))
        return false;
    p->argc = count;
    p->inline_req = false;
    return true;
}

bool fc_resp_peek(const fc_resp_parser *p, const char *buf, size_t len, fc_span *spans,
                  size_t cap, size_t *argc, size_t *used)
{
    return p->state == ST_START && !p->unauth && len > 0 && buf[0] == '*' &&
           one_pass(buf, len, p->max_bulk, p->max_multibulk, spans, cap, argc, used);
}

fc_resp_status fc_resp_parse(fc_resp_parser *p, char *buf, size_t len, size_t *used)
{
    *used = 0;
    if (p->state == ST_START) {
        if (len == 0)
            return FC_RESP_AGAIN;
        if (buf[0] == '*' && parse_fast(p, buf, len, used))
            return FC_RESP_OK; /* the state is still ST_START, as after reset_state */
        p->argc = 0;
        p->inline_req = false;
        p->need = 0;
        p->pos = 0;
        p->bulk_len = 0;
        p->state = buf[0] == '*' ? ST_MB_HDR : ST_INLINE;
    }
    int rc;
    if ((p->state & ~ST_STUCK) == ST_INLINE)
        rc = parse_inline(p, buf, len, used);
    else
        rc = parse_multibulk(p, buf, len, used);
    if (rc == FC_RESP_ERR)
        p->argc = 0;
    if (rc != FC_RESP_AGAIN)
        reset_state(p);
    return (fc_resp_status)rc;
}
