/*
 * buf — a growable byte buffer with a hard cap (see buf.h for the contract).
 *
 *   data: [ used: 0..len ) [ spare: len..cap )        cap <= max (max 0 means SIZE_MAX)
 *
 * Invariants: len <= cap <= effective max; data is NULL exactly when cap is 0. Growth at least
 * doubles the capacity (amortised O(1) appends) but never crosses the cap: a request that fits
 * under the cap and whose doubling would not is granted exactly the cap. A failed reserve or
 * append leaves the buffer unchanged.
 */
#include "protocol/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 64

static size_t effective_max(const fc_buf *b)
{
    return b->max ? b->max : SIZE_MAX;
}

void fc_buf_init(fc_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void fc_buf_deinit(fc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

/* Chooses the new capacity for at least `want` bytes: double, at least BUF_MIN_CAP, <= max. */
static size_t grown_cap(size_t cap, size_t want, size_t max)
{
    size_t c = cap < BUF_MIN_CAP ? BUF_MIN_CAP : cap;
    while (c < want) {
        if (c > SIZE_MAX / 2) {
            c = SIZE_MAX;
            break;
        }
        c *= 2;
    }
    return c > max ? max : c;
}

int fc_buf_grow(fc_buf *b, size_t extra)
{
    size_t max = effective_max(b);
    if (extra > SIZE_MAX - b->len || b->len + extra > max)
        return -ENOBUFS;
    size_t want = b->len + extra;
    if (want <= b->cap)
        return 0;
    size_t ncap = grown_cap(b->cap, want, max);
    char *nd = realloc(b->data, ncap);
    if (!nd)
        return -ENOMEM;
    b->data = nd;
    b->cap = ncap;
    return 0;
}

int fc_buf_append(fc_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int rc = fc_buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void fc_buf_consume(fc_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void fc_buf_shrink(fc_buf *b, size_t keep)
{
    if (b->cap <= keep || b->len > keep)
        return;
    if (keep == 0) {
        free(b->data);
        b->data = NULL;
        b->cap = 0;
        return;
    }
    /* Shrinking is an optimisation: on failure the larger block is simply kept. */
    char *nd = realloc(b->data, keep);
    if (nd) {
        b->data = nd;
        b->cap = keep;
    }
}
