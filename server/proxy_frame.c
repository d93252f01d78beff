/*
 * proxy_frame — see proxy_frame.h.
 */
#include "server/proxy_frame.h"

#include <stdio.h>
#include <string.h>

#include "protocol/resp_reply.h"
#include "protocol/resp_writer.h"

void fc_frame_begin(fc_buf *b, size_t n)
{
    fc_resp_array(b, n);
}

void fc_frame_arg(fc_buf *b, const char *p, size_t n)
{
    fc_resp_bulk(b, p, n);
}

void fc_frame_cstr(fc_buf *b, const char *s)
{
    fc_resp_bulk(b, s, strlen(s));
}

void fc_frame_ll(fc_buf *b, long long v)
{
    fc_resp_bulk_int(b, v);
}

void fc_frame_key(fc_buf *b, const char *prefix, size_t plen, const char *p, size_t n)
{
    char hdr[32];
    int h = snprintf(hdr, sizeof(hdr), "$%zu\r\n", plen + n);
    fc_buf_append(b, hdr, (size_t)h);
    fc_buf_append(b, prefix, plen);
    fc_buf_append(b, p, n);
    fc_buf_append(b, "\r\n", 2);
}

static bool is_glob_byte(char c)
{
    return c == '*' || c == '?' || c == '[' || c == ']' || c == '\\';
}

void fc_frame_pattern(fc_buf *b, const char *prefix, size_t plen, const char *pat, size_t n)
{
    size_t extra = 0;
    for (size_t i = 0; i < plen; i++)
        extra += is_glob_byte(prefix[i]);
    char hdr[32];
    int h = snprintf(hdr, sizeof(hdr), "$%zu\r\n", plen + extra + n);
    fc_buf_append(b, hdr, (size_t)h);
    for (size_t i = 0; i < plen; i++) {
        if (is_glob_byte(prefix[i]))
            fc_buf_append(b, "\\", 1);
        fc_buf_append(b, &prefix[i], 1);
    }
    fc_buf_append(b, pat, n);
    fc_buf_append(b, "\r\n", 2);
}

/* Writes the array at r[0..len) with each element's first plen bytes removed. */
static bool strip_array(fc_buf *out, const char *r, size_t len, size_t plen)
{
    size_t pos = 0;
    int64_t count = -1;
    const char *e;
    size_t elen;
    bool null;
    size_t start = out->len;
    bool header = false;
    while (fc_reply_array_next(r, len, &pos, &count, &e, &elen, &null)) {
        if (!header) {
            fc_resp_array(out, (size_t)count);
            header = true;
        }
        if (null || elen < plen)
            fc_resp_bulk(out, e, elen);
        else
            fc_resp_bulk(out, e + plen, elen - plen);
    }
    if (count == 0 && !header) {
        fc_resp_array(out, 0);
        header = true;
    }
    if (!header || pos != len) {
        out->len = start;
        return false;
    }
    return true;
}

bool fc_reply_strip_keys(fc_buf *out, const char *r, size_t len, size_t plen)
{
    return strip_array(out, r, len, plen);
}

bool fc_scan_split(const char *r, size_t len, const char **cursor, size_t *clen, size_t *arr)
{
    /* "*2\r\n$<n>\r\n<cursor>\r\n" then the key array. */
    if (len < 4 || memcmp(r, "*2\r\n", 4) != 0)
        return false;
    size_t i = 4;
    if (i >= len || r[i] != '$')
        return false;
    size_t n = 0;
    for (i++; i < len && r[i] >= '0' && r[i] <= '9'; i++)
        n = n * 10 + (size_t)(r[i] - '0');
    if (i + 2 > len || r[i] != '\r' || n > 32 || i + 2 + n + 2 > len)
        return false;
    *cursor = r + i + 2;
    *clen = n;
    *arr = i + 2 + n + 2;
    return true;
}

bool fc_reply_strip_scan(fc_buf *out, const char *r, size_t len, size_t plen)
{
    const char *cur;
    size_t clen, arr, start = out->len;
    if (!fc_scan_split(r, len, &cur, &clen, &arr))
        return false;
    fc_resp_array(out, 2);
    fc_resp_bulk(out, cur, clen);
    if (!strip_array(out, r + arr, len - arr, plen)) {
        out->len = start;
        return false;
    }
    return true;
}
