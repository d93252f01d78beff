/*
 * resp_reply — incremental scanner of RESP2/RESP3 replies (see resp_reply.h for the contract).
 *
 * Grammar accepted (what Redis 7.0.15 sends; every line ends with a strict "\r\n"):
 *
 *   + - ( ,        a line of any length without CR or LF ('(' digits, ',' a double's text)
 *   : # _          a short line: ':' a strict int64, '#' "t" or "f", '_' empty
 *   $ ! =          a length line n, then n bytes of data and "\r\n"; "$-1" is a null bulk;
 *                  '=' (verbatim) needs n >= 4 for its "txt:" prefix
 *   * % ~ > |      a count line n, then n elements (2n for '%', 2n + 1 for '|': an attribute
 *                  is scanned as an aggregate whose last element is the reply it annotates);
 *                  "*-1" is a null array
 *
 * Streamed forms ("$?", "*?", ';', '.') and negative lengths other than -1 are malformed.
 * Lengths are any int64 the frame can describe: the scanner only counts, it never allocates.
 *
 * Resumption without rescanning. s->depth aggregates are open; s->left[0..depth) count the
 * elements each still expects, and s->left[depth] (the slot of the element being scanned) says
 * where inside that element we are:
 *
 *   left[depth]   meaning                                   s->pos
 *   0             between elements                          the next type byte
 *   v > 0         in the line whose type byte is at v - 1   first byte not yet searched for CR
 *   v < 0         in bulk data, -1 - v data bytes to go     next data byte (then the CRLF)
 *
 * Because the element's own slot is left[depth], at most FC_REPLY_MAX_DEPTH - 1 aggregates can
 * be open: a reply may nest FC_REPLY_MAX_DEPTH levels counting its innermost element.
 *
 * Errors are sticky: once s->err is set every call fails until fc_reply_scanner_init().
 *
 * Decoder choices the header leaves open: fc_reply_type() and fc_reply_integer() look past
 * leading attributes at the reply they annotate ('|' is never returned; 0 if that reply is
 * missing). fc_reply_array_next() accepts '*' and '~' of '$' and '_' elements; the array ends
 * at buf[len), so pass exactly one reply (fc_reply_scan's *used); "*-1" sets *count to -1. On a
 * false return *pos is unchanged, so for SCAN's [cursor, [keys]] the caller reads the cursor,
 * gets false with *pos on the key array, and iterates buf + *pos from a fresh pos of 0.
 */
#include "protocol/resp_reply.h"

#include "protocol/strnum.h"

#include <string.h>

#define STEP_NEXT 3       /* internal: the reply continues, scan the next element */
#define SHORT_LINE_MAX 21 /* "-9223372036854775808" is 20 bytes; one more rejects at once */

void fc_reply_scanner_init(fc_reply_scanner *s)
{
    memset(s, 0, sizeof(*s));
}

static int fail(fc_reply_scanner *s, const char *msg)
{
    size_t n = strlen(msg);
    if (n >= sizeof(s->err))
        n = sizeof(s->err) - 1;
    memcpy(s->err, msg, n);
    s->err[n] = '\0';
    return FC_RESP_ERR;
}

static int bad_type(fc_reply_scanner *s, char t)
{
    static const char hex[] = "0123456789abcdef";
    char msg[] = "unknown reply type byte 0x00";
    msg[sizeof(msg) - 3] = hex[(unsigned char)t >> 4];
    msg[sizeof(msg) - 2] = hex[(unsigned char)t & 15];
    return fail(s, msg);
}

static bool is_short_line(char t)
{
    return t != '\0' && strchr(":#_$!=*%~>|", t) != NULL;
}

static bool is_known_type(char t)
{
    return t != '\0' && strchr("+-(,:#_$!=*%~>|", t) != NULL;
}

/*
 * One element has ended at the current depth. Counts it in the enclosing aggregates, closing
 * those that are now complete. Returns FC_RESP_OK when the whole reply has ended.
 */
static int element_done(fc_reply_scanner *s, size_t *used)
{
    while (s->depth > 0) {
        if (--s->left[s->depth - 1] > 0) {
            s->left[s->depth] = 0;
            return STEP_NEXT;
        }
        s->depth--;
    }
    *used = s->pos;
    s->pos = 0;
    s->left[0] = 0;
    return FC_RESP_OK;
}

/* Opens an aggregate of n > 0 elements at the current depth. */
static int open_aggregate(fc_reply_scanner *s, int64_t n)
{
    if (s->depth >= FC_REPLY_MAX_DEPTH - 1)
        return fail(s, "reply nesting too deep");
    s->left[s->depth] = n;
    s->depth++;
    s->left[s->depth] = 0;
    return STEP_NEXT;
}

/*
 * Searches the line that starts at `start` for its CR from s->pos on. Returns true with *cr once
 * "\r\n" is there; false with FC_RESP_AGAIN or FC_RESP_ERR in *rc. s->pos stops at a found CR so
 * a retry only looks at it again.
 */
static bool find_crlf(fc_reply_scanner *s, const char *buf, size_t len, size_t start, size_t *cr,
                      int *rc)
{
    size_t lim = len;
    bool bounded = is_short_line(buf[start]);
    if (bounded && len - start > SHORT_LINE_MAX + 2)
        lim = start + SHORT_LINE_MAX + 2;
    const char *from = buf + s->pos;
    const char *e = memchr(from, '\r', lim - s->pos);
    size_t n = e ? (size_t)(e - from) : lim - s->pos;
    if (n && memchr(from, '\n', n)) {
        *rc = fail(s, "LF without CR in reply line");
        return false;
    }
    if (!e) {
        s->pos = lim;
        *rc = lim < len ? fail(s, "reply length line too long") : FC_RESP_AGAIN;
        return false;
    }
    s->pos += n;
    if (s->pos + 1 >= len) {
        *rc = FC_RESP_AGAIN;
        return false;
    }
    if (buf[s->pos + 1] != '\n') {
        *rc = fail(s, "CR without LF in reply line");
        return false;
    }
    *cr = s->pos;
    return true;
}

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return n > 0;
}

/* A double's text as Redis writes it: digits and . e E + -, or inf, -inf, nan. */
static bool double_text(const char *p, size_t n)
{
    if ((n == 3 && !memcmp(p, "inf", 3)) || (n == 4 && !memcmp(p, "-inf", 4)) ||
        (n == 3 && !memcmp(p, "nan", 3)))
        return true;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789.eE+-", p[i]) || p[i] == '\0')
            return false;
    return n > 0;
}

/* Validates a complete text line of type t with content p[0..n). */
static bool text_ok(char t, const char *p, size_t n)
{
    switch (t) {
    case '(': return all_digits(p + (n > 0 && p[0] == '-'), n - (n > 0 && p[0] == '-'));
    case ',': return double_text(p, n);
    case '#': return n == 1 && (p[0] == 't' || p[0] == 'f');
    case '_': return n == 0;
    case ':': {
        long long ll;
        return fc_parse_ll(p, n, &ll);
    }
    default: return true; /* + and -: any bytes but CR and LF */
    }
}

/* A length/count line p[0..n) of type t: n >= -1 for '$' and '*', n >= 0 otherwise. */
static int header(fc_reply_scanner *s, char t, const char *p, size_t n, size_t *used)
{
    long long ll;
    if (n == 1 && p[0] == '?')
        return fail(s, "streamed reply not supported");
    if (!fc_parse_ll(p, n, &ll) || ll < -1 || (ll == -1 && t != '$' && t != '*'))
        return fail(s, "invalid length in reply");
    if (strchr("$!=", t)) {
        if (ll == -1)
            return element_done(s, used);
        if (t == '=' && ll < 4)
            return fail(s, "verbatim string shorter than its format prefix");
        s->left[s->depth] = -1 - (int64_t)ll;
        return STEP_NEXT;
    }
    if (t == '%' && ll > INT64_MAX / 2)
        return fail(s, "invalid length in reply");
    if (t == '|' && ll > (INT64_MAX - 1) / 2)
        return fail(s, "invalid length in reply");
    int64_t count = t == '%' ? 2 * ll : t == '|' ? 2 * ll + 1 : ll;
    if (count <= 0)
        return element_done(s, used);
    return open_aggregate(s, count);
}

static int scan_line(fc_reply_scanner *s, const char *buf, size_t len, size_t *used)
{
    size_t start = (size_t)(s->left[s->depth] - 1), cr;
    int rc;
    if (!find_crlf(s, buf, len, start, &cr, &rc))
        return rc;
    s->pos = cr + 2;
    char t = buf[start];
    const char *p = buf + start + 1;
    size_t n = cr - start - 1;
    if (is_short_line(t) && !strchr(":#_", t))
        return header(s, t, p, n, used);
    if (!text_ok(t, p, n))
        return fail(s, "malformed reply line");
    return element_done(s, used);
}

static int scan_bulk_data(fc_reply_scanner *s, const char *buf, size_t len, size_t *used)
{
    uint64_t rest = (uint64_t)(-1 - s->left[s->depth]);
    size_t avail = len - s->pos;
    if (rest > 0) {
        size_t take = rest < avail ? (size_t)rest : avail;
        s->pos += take;
        rest -= take;
        s->left[s->depth] = -1 - (int64_t)rest;
        if (rest > 0)
            return FC_RESP_AGAIN;
        avail = len - s->pos;
    }
    if (avail >= 1 && buf[s->pos] != '\r')
        return fail(s, "bulk data not followed by CRLF");
    if (avail < 2)
        return FC_RESP_AGAIN;
    if (buf[s->pos + 1] != '\n')
        return fail(s, "bulk data not followed by CRLF");
    s->pos += 2;
    return element_done(s, used);
}

fc_resp_status fc_reply_scan(fc_reply_scanner *s, const char *buf, size_t len, size_t *used)
{
    *used = 0;
    if (s->err[0])
        return FC_RESP_ERR;
    if (len < s->pos)
        return FC_RESP_AGAIN; /* fewer bytes than before: nothing new to look at */
    for (;;) {
        int64_t v = s->left[s->depth];
        int rc;
        if (v == 0) {
            if (s->pos >= len)
                return FC_RESP_AGAIN;
            if (!is_known_type(buf[s->pos]))
                return (fc_resp_status)bad_type(s, buf[s->pos]);
            s->left[s->depth] = (int64_t)s->pos + 1;
            s->pos++;
            rc = STEP_NEXT;
        } else if (v > 0) {
            rc = scan_line(s, buf, len, used);
        } else {
            rc = scan_bulk_data(s, buf, len, used);
        }
        if (rc != STEP_NEXT)
            return (fc_resp_status)rc;
    }
}

/* ---- Decoding one complete reply. ---- */

/* Finds the "\r\n" ending the line at buf[from..len). Returns false if there is none. */
static bool line_end(const char *buf, size_t len, size_t from, size_t *cr)
{
    if (from >= len)
        return false;
    const char *e = memchr(buf + from, '\r', len - from);
    if (!e || (size_t)(e - buf) + 1 >= len || e[1] != '\n')
        return false;
    *cr = (size_t)(e - buf);
    return true;
}

/* Skips any attributes in front of the reply at buf[0..len). Returns its offset, or len. */
static size_t skip_attributes(const char *buf, size_t len)
{
    size_t off = 0;
    while (off < len && buf[off] == '|') {
        fc_reply_scanner s;
        size_t used, cr;
        long long n;
        fc_reply_scanner_init(&s);
        /* "|n" then 2n complete replies (keys and values), then the annotated reply. */
        if (!line_end(buf, len, off, &cr) || !fc_parse_ll(buf + off + 1, cr - off - 1, &n) ||
            n < 0 || n > INT64_MAX / 2)
            return len;
        off = cr + 2;
        for (long long i = 0; i < 2 * n; i++) {
            if (fc_reply_scan(&s, buf + off, len - off, &used) != FC_RESP_OK)
                return len;
            off += used;
        }
    }
    return off;
}

char fc_reply_type(const char *buf, size_t len)
{
    size_t off = skip_attributes(buf, len);
    return off < len ? buf[off] : 0;
}

bool fc_reply_integer(const char *buf, size_t len, int64_t *out)
{
    size_t off = skip_attributes(buf, len), cr;
    long long ll;
    if (off >= len || buf[off] != ':' || !line_end(buf, len, off, &cr) ||
        !fc_parse_ll(buf + off + 1, cr - off - 1, &ll))
        return false;
    *out = ll;
    return true;
}

/* Reads the bulk or null at buf[*pos..len). */
static bool read_string(const char *buf, size_t len, size_t *pos, const char **elem, size_t *elen,
                        bool *null)
{
    size_t p = *pos, cr;
    long long n;
    if (p >= len || (buf[p] != '$' && buf[p] != '_') || !line_end(buf, len, p, &cr))
        return false;
    if (buf[p] == '_') {
        if (cr != p + 1)
            return false;
        n = -1;
    } else if (!fc_parse_ll(buf + p + 1, cr - p - 1, &n) || n < -1) {
        return false;
    }
    p = cr + 2;
    if (n == -1) {
        *elem = NULL;
        *elen = 0;
        *null = true;
    } else {
        if ((uint64_t)n > len - p || len - p - (size_t)n < 2 || buf[p + n] != '\r' ||
            buf[p + n + 1] != '\n')
            return false;
        *elem = buf + p;
        *elen = (size_t)n;
        *null = false;
        p += (size_t)n + 2;
    }
    *pos = p;
    return true;
}

bool fc_reply_array_next(const char *buf, size_t len, size_t *pos, int64_t *count,
                         const char **elem, size_t *elen, bool *null)
{
    size_t p = *pos;
    if (p == 0) {
        size_t cr;
        long long n;
        if (len == 0 || (buf[0] != '*' && buf[0] != '~') || !line_end(buf, len, 0, &cr) ||
            !fc_parse_ll(buf + 1, cr - 1, &n) || n < -1 || (n == -1 && buf[0] != '*'))
            return false;
        *count = n;
        p = cr + 2;
        if (n <= 0) {
            *pos = p;
            return false;
        }
    }
    if (!read_string(buf, len, &p, elem, elen, null))
        return false;
    *pos = p;
    return true;
}
