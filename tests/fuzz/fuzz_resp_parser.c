/*
 * fuzz_resp_parser — libFuzzer target for protocol/resp_parser.
 *
 * Input layout:  [k] [k chunk-size bytes] [request bytes ...]
 *   k = byte0 % 16; each size byte s feeds s+1 bytes (the sizes are reused cyclically; k = 0
 *   feeds everything at once).
 *
 * The request bytes are parsed twice:
 *   chunked   like server/client.c: bytes arrive in chunks, appended to an input buffer; every
 *             complete frame is parsed from the buffer (base = first unparsed byte), then the used
 *             bytes are consumed (moved to the front) and the parser resumes on the next chunk.
 *             The buffer is reallocated to its exact length on every append, so ASan catches any
 *             read past `len`.
 *   one piece the whole input in one exact-size buffer, frames parsed until AGAIN or ERR.
 * Invariants: used <= len; every span lies inside its frame; both runs produce the same frames
 * (argv bytes, inline flag), the same final error text, and leave the same number of bytes.
 * Inputs are capped below the 64 KiB "too big" limits, which by design depend on how much has
 * arrived (as in Redis).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp_parser.h"

#define MAX_INPUT (48 * 1024)

/* A growable log of what a run produced, compared byte for byte between the two runs. */
typedef struct {
    unsigned char *d;
    size_t len, cap;
} log_buf;

static void log_add(log_buf *l, const void *p, size_t n)
{
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap < l->len + n)
            cap *= 2;
        l->d = realloc(l->d, cap);
        if (!l->d)
            abort();
        l->cap = cap;
    }
    memcpy(l->d + l->len, p, n);
    l->len += n;
}

static void log_size(log_buf *l, size_t v)
{
    log_add(l, &v, sizeof(v));
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz_resp_parser: invariant violated: %s\n", what);
    abort();
}

/* Checks the frame just parsed from base[0..len) and logs it. */
static void record_frame(log_buf *l, const fc_resp_parser *p, const char *base, size_t len,
                         size_t used)
{
    if (used == 0 || used > len)
        die("used out of range");
    log_add(l, "F", 1);
    log_size(l, used);
    log_size(l, p->argc);
    log_add(l, p->inline_req ? "i" : "m", 1);
    for (size_t i = 0; i < p->argc; i++) {
        fc_span s = p->argv[i];
        if ((size_t)s.off > used || (size_t)s.len > used - s.off)
            die("span outside the frame");
        log_size(l, s.len);
        log_add(l, base + s.off, s.len);
    }
}

static void record_end(log_buf *l, const fc_resp_parser *p, fc_resp_status st, size_t left)
{
    if (st == FC_RESP_ERR) {
        if (p->err[0] == '\0' || memchr(p->err, '\0', sizeof(p->err)) == NULL)
            die("error text missing or unterminated");
        log_add(l, "E", 1);
        log_add(l, p->err, strlen(p->err));
    } else {
        log_add(l, "A", 1);
        log_size(l, left);
    }
}

/* Parses every complete frame at the front of buf[0..*len), then consumes them. Returns the last
 * status (FC_RESP_AGAIN when the buffer ran out). */
static fc_resp_status drain(fc_resp_parser *p, log_buf *l, char *buf, size_t *len)
{
    size_t off = 0;
    fc_resp_status st = FC_RESP_AGAIN;
    while (off < *len) {
        size_t used = 12345;
        st = fc_resp_parse(p, buf + off, *len - off, &used);
        if (st == FC_RESP_AGAIN) {
            if (used != 0)
                die("AGAIN with used != 0");
            break;
        }
        if (st == FC_RESP_ERR)
            break;
        record_frame(l, p, buf + off, *len - off, used);
        off += used;
    }
    memmove(buf, buf + off, *len - off);
    *len -= off;
    return st;
}

static void run_chunked(const uint8_t *sizes, size_t nsizes, const uint8_t *data, size_t n,
                        log_buf *l)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    char *buf = NULL;
    size_t len = 0, fed = 0, k = 0;
    fc_resp_status st = FC_RESP_AGAIN;
    while (fed < n) {
        size_t chunk = nsizes ? (size_t)sizes[k++ % nsizes] + 1 : n;
        if (chunk > n - fed)
            chunk = n - fed;
        char *nb = malloc(len + chunk); /* exact size: an over-read is an ASan report */
        if (!nb)
            abort();
        if (len)
            memcpy(nb, buf, len);
        memcpy(nb + len, data + fed, chunk);
        free(buf);
        buf = nb;
        len += chunk;
        fed += chunk;
        st = drain(&p, l, buf, &len);
        if (st == FC_RESP_ERR)
            break;
    }
    record_end(l, &p, st, len);
    free(buf);
    fc_resp_parser_deinit(&p);
}

static void run_whole(const uint8_t *data, size_t n, log_buf *l)
{
    fc_resp_parser p;
    fc_resp_parser_init(&p);
    char *buf = malloc(n ? n : 1);
    if (!buf)
        abort();
    memcpy(buf, data, n);
    size_t len = n;
    fc_resp_status st = drain(&p, l, buf, &len);
    record_end(l, &p, st, len);
    free(buf);
    fc_resp_parser_deinit(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
    if (n < 1)
        return 0;
    size_t nsizes = in[0] % 16;
    if (n < 1 + nsizes)
        return 0;
    const uint8_t *sizes = in + 1, *data = in + 1 + nsizes;
    size_t dn = n - 1 - nsizes;
    if (dn > MAX_INPUT)
        return 0;
    log_buf a = {0}, b = {0};
    run_chunked(sizes, nsizes, data, dn, &a);
    run_whole(data, dn, &b);
    if (a.len != b.len || (a.len && memcmp(a.d, b.d, a.len) != 0))
        die("chunked and one-piece parses differ");
    free(a.d);
    free(b.d);
    return 0;
}
