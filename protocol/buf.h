/*
 * buf — a growable byte buffer with a hard cap.
 *
 * Used for client input (the parser reads spans out of it) and for the reply encoder. The buffer
 * never grows past `max`: an append or reserve that would exceed it fails with -ENOBUFS and
 * leaves the buffer unchanged, so every caller has a defined behaviour at the cap.
 *
 * Ownership: the buffer owns `data`; pointers into it are invalidated by any call that may grow
 * it (reserve/append) or by consume (which moves the remaining bytes to the front).
 */
#ifndef FC_PROTOCOL_BUF_H
#define FC_PROTOCOL_BUF_H

#include <stddef.h>

typedef struct fc_buf {
    char *data;
    size_t len; /* bytes in use: data[0..len) */
    size_t cap; /* bytes allocated */
    size_t max; /* hard cap on cap; 0 means SIZE_MAX */
} fc_buf;

/* Initializes an empty buffer (no allocation) that never grows past max bytes (0: no cap). */
void fc_buf_init(fc_buf *b, size_t max);

/* Frees the storage; the buffer is empty and may be reused after fc_buf_init. */
void fc_buf_deinit(fc_buf *b);

/* The slow path of fc_buf_reserve: grows the storage (or fails). */
int fc_buf_grow(fc_buf *b, size_t extra);

/* Ensures room for `extra` more bytes past len. Returns 0, -ENOBUFS past the cap, or -ENOMEM.
 * Inline: room that is already there (every reply but a buffer's first) costs one compare. */
static inline int fc_buf_reserve(fc_buf *b, size_t extra)
{
    return extra <= b->cap - b->len ? 0 : fc_buf_grow(b, extra); /* cap <= max: always allowed */
}

/* Appends n bytes. Returns 0, -ENOBUFS or -ENOMEM (the buffer is then unchanged). */
int fc_buf_append(fc_buf *b, const void *p, size_t n);

/* Drops the first n bytes (n <= len), moving the rest to the front. */
void fc_buf_consume(fc_buf *b, size_t n);

/* Releases memory beyond `keep` bytes of capacity when the buffer is empty or small, so that an
 * idle client holding a once-large buffer returns to a small footprint. */
void fc_buf_shrink(fc_buf *b, size_t keep);

#endif
