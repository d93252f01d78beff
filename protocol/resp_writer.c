/*
 * resp_writer — RESP2/RESP3 reply encoders (see resp_writer.h for the contract).
 *
 * Every encoder reserves the whole reply first and then writes into the spare space, so a reply
 * is either appended completely or not at all (the buffer is unchanged on -ENOBUFS/-ENOMEM).
 * Integers and lengths are converted by hand (two digits per step) because they are on the hot
 * path of every GET reply; snprintf is used only for doubles, which must match Redis 7.0's
 * "%.17g" byte for byte.
 *
 * Simple strings and errors are one protocol line, so CR and LF inside them are replaced by
 * spaces, as Redis's addReplyErrorFormat does; a reply can never break the stream's framing.
 */
#include "protocol/resp_writer.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define I64_DIGITS 20 /* "-9223372036854775808" is 20 bytes; UINT64_MAX has 20 digits too */

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

/* A number's decimal digits, formatted right-aligned into a small buffer. */
typedef struct dec {
    char buf[I64_DIGITS];
    const char *s;
    size_t n;
} dec;

static void u64_to_dec(uint64_t v, bool neg, dec *d)
{
    char *e = d->buf + sizeof(d->buf), *s = e;
    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        *--s = digit_pairs[i + 1];
        *--s = digit_pairs[i];
    }
    if (v >= 10) {
        unsigned i = (unsigned)v * 2;
        *--s = digit_pairs[i + 1];
        *--s = digit_pairs[i];
    } else {
        *--s = (char)('0' + v);
    }
    if (neg)
        *--s = '-';
    d->s = s;
    d->n = (size_t)(e - s);
}

static void i64_to_dec(int64_t v, dec *d)
{
    if (v >= 0)
        u64_to_dec((uint64_t)v, false, d);
    else
        u64_to_dec(-(uint64_t)v, true, d);
}

/* Appends "<type><digits>\r\n" + payload[0..n) + ("\r\n" if trailer), reserving exactly. */
static int write_framed(fc_buf *b, char type, const dec *d, const void *payload, size_t n,
                        bool trailer)
{
    size_t fixed = 1 + d->n + 2 + (trailer ? 2 : 0);
    if (n > SIZE_MAX - fixed)
        return -ENOBUFS;
    int rc = fc_buf_reserve(b, fixed + n);
    if (rc)
        return rc;
    char *w = b->data + b->len;
    *w++ = type;
    memcpy(w, d->s, d->n);
    w += d->n;
    *w++ = '\r';
    *w++ = '\n';
    if (n) {
        memcpy(w, payload, n);
        w += n;
    }
    if (trailer) {
        *w++ = '\r';
        *w++ = '\n';
    }
    b->len += fixed + n;
    return 0;
}

/* Appends "<type><v>\r\n"; v is an unsigned length or count. */
static int write_header(fc_buf *b, char type, uint64_t v)
{
    dec d;
    u64_to_dec(v, false, &d);
    return write_framed(b, type, &d, NULL, 0, false);
}

/* Appends "<type>" + s + "\r\n" with CR/LF in s replaced by spaces. */
static int write_line(fc_buf *b, char type, const char *s, size_t n)
{
    if (n > SIZE_MAX - 3)
        return -ENOBUFS;
    int rc = fc_buf_reserve(b, n + 3);
    if (rc)
        return rc;
    char *w = b->data + b->len;
    w[0] = type;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        w[1 + i] = (c == '\r' || c == '\n') ? ' ' : c;
    }
    w[n + 1] = '\r';
    w[n + 2] = '\n';
    b->len += n + 3;
    return 0;
}

int fc_resp_simple(fc_buf *b, const char *s, size_t n)
{
    return write_line(b, '+', s, n);
}

int fc_resp_ok(fc_buf *b)
{
    return fc_buf_append(b, "+OK\r\n", 5);
}

int fc_resp_error(fc_buf *b, const char *s, size_t n)
{
    return write_line(b, '-', s, n);
}

int fc_resp_errorf(fc_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return -EINVAL;
    }
    /* '-' + text + NUL written by vsnprintf, later overwritten by "\r\n". */
    int rc = fc_buf_reserve(b, (size_t)n + 3);
    if (rc) {
        va_end(ap2);
        return rc;
    }
    char *w = b->data + b->len;
    w[0] = '-';
    vsnprintf(w + 1, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    for (int i = 1; i <= n; i++) {
        if (w[i] == '\r' || w[i] == '\n')
            w[i] = ' ';
    }
    w[n + 1] = '\r';
    w[n + 2] = '\n';
    b->len += (size_t)n + 3;
    return 0;
}

int fc_resp_int(fc_buf *b, int64_t v)
{
    dec d;
    i64_to_dec(v, &d);
    return write_framed(b, ':', &d, NULL, 0, false);
}

/* Decimal digits of v (1 for 0). */
static size_t dec_digits(uint64_t v)
{
    size_t n = 1;
    while (v >= 100) {
        v /= 100;
        n += 2;
    }
    return n + (v >= 10);
}

/* Every GET's reply: the length's digits are written straight into the buffer (right to left),
 * with no intermediate copy. */
int fc_resp_bulk(fc_buf *b, const void *p, size_t n)
{
    size_t nd = dec_digits(n);
    if (n > SIZE_MAX - (nd + 5))
        return -ENOBUFS;
    int rc = fc_buf_reserve(b, nd + 5 + n);
    if (rc)
        return rc;
    char *w = b->data + b->len;
    w[0] = '$';
    uint64_t v = n;
    for (char *d = w + nd; d > w; v /= 10)
        *d-- = (char)('0' + v % 10);
    w += nd + 1;
    *w++ = '\r';
    *w++ = '\n';
    if (n)
        memcpy(w, p, n);
    w[n] = '\r';
    w[n + 1] = '\n';
    b->len += nd + 5 + n;
    return 0;
}

int fc_resp_bulk_cstr(fc_buf *b, const char *s)
{
    return fc_resp_bulk(b, s, strlen(s));
}

int fc_resp_bulk_int(fc_buf *b, int64_t v)
{
    dec d;
    i64_to_dec(v, &d);
    return fc_resp_bulk(b, d.s, d.n);
}

int fc_resp_null(fc_buf *b, int proto)
{
    return proto == 3 ? fc_buf_append(b, "_\r\n", 3) : fc_buf_append(b, "$-1\r\n", 5);
}

int fc_resp_null_array(fc_buf *b, int proto)
{
    return proto == 3 ? fc_buf_append(b, "_\r\n", 3) : fc_buf_append(b, "*-1\r\n", 5);
}

int fc_resp_array(fc_buf *b, size_t n)
{
    return write_header(b, '*', n);
}

int fc_resp_map(fc_buf *b, size_t n, int proto)
{
    if (proto == 3)
        return write_header(b, '%', n);
    return write_header(b, '*', (uint64_t)n * 2);
}

int fc_resp_set(fc_buf *b, size_t n, int proto)
{
    return write_header(b, proto == 3 ? '~' : '*', n);
}

/*
 * Redis 7.0's addReplyDouble: infinities are spelled "inf"/"-inf" explicitly; everything else,
 * NaN included, is snprintf("%.17g") (glibc prints NaN as "nan", or "-nan" with the sign bit).
 */
int fc_resp_double(fc_buf *b, double d, int proto)
{
    char txt[64];
    int n;
    if (isinf(d))
        n = snprintf(txt, sizeof(txt), "%s", d > 0 ? "inf" : "-inf");
    else
        n = snprintf(txt, sizeof(txt), "%.17g", d);
    if (n < 0 || (size_t)n >= sizeof(txt))
        return -EINVAL;
    if (proto != 3)
        return fc_resp_bulk(b, txt, (size_t)n);
    return write_line(b, ',', txt, (size_t)n);
}

int fc_resp_verbatim(fc_buf *b, const char *p, size_t n, int proto)
{
    if (proto != 3)
        return fc_resp_bulk(b, p, n);
    if (n > SIZE_MAX - 4)
        return -ENOBUFS;
    dec d;
    u64_to_dec((uint64_t)n + 4, false, &d);
    /* Reserve the whole reply first so that nothing is written unless all of it fits. */
    if (n > SIZE_MAX - (1 + d.n + 2 + 4 + 2))
        return -ENOBUFS;
    int rc = fc_buf_reserve(b, 1 + d.n + 2 + 4 + n + 2);
    if (rc == 0)
        rc = write_framed(b, '=', &d, NULL, 0, false);
    if (rc)
        return rc;
    char *w = b->data + b->len;
    memcpy(w, "txt:", 4);
    if (n)
        memcpy(w + 4, p, n);
    w[4 + n] = '\r';
    w[5 + n] = '\n';
    b->len += n + 6;
    return 0;
}
