/*
 * proxy_frame — byte-level helpers of the proxy backend, plain C so they are unit-tested without
 * sockets: encoding rewritten requests (keys prefixed with [redis] key_prefix, glob patterns with
 * the prefix escaped), and rewriting the few replies that carry keys (KEYS, SCAN) or whose shape
 * differs from the command the client sent (SETNX served by SET NX, MSET by MULTI/EXEC).
 */
#ifndef FC_SERVER_PROXY_FRAME_H
#define FC_SERVER_PROXY_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/buf.h"

/* A multibulk request header for n arguments. */
void fc_frame_begin(fc_buf *b, size_t n);
/* One argument; fc_frame_key prepends the prefix. */
void fc_frame_arg(fc_buf *b, const char *p, size_t n);
void fc_frame_cstr(fc_buf *b, const char *s);
void fc_frame_ll(fc_buf *b, long long v);
void fc_frame_key(fc_buf *b, const char *prefix, size_t plen, const char *p, size_t n);
/* A glob pattern matching `pat` under the prefix: the prefix's glob bytes are escaped. */
void fc_frame_pattern(fc_buf *b, const char *prefix, size_t plen, const char *pat, size_t n);

/* KEYS reply (array of bulks) with the first plen bytes of every key removed. Returns false if the
 * reply is not such an array (then nothing is written). */
bool fc_reply_strip_keys(fc_buf *out, const char *r, size_t len, size_t plen);

/* Splits a SCAN reply: the cursor (bulk) and the offset of its key array. */
bool fc_scan_split(const char *r, size_t len, const char **cursor, size_t *clen, size_t *arr);

/* SCAN reply with the prefix removed from every key. */
bool fc_reply_strip_scan(fc_buf *out, const char *r, size_t len, size_t plen);

#endif
