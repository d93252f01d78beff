/*
 * resp_writer — RESP2 and RESP3 reply encoders appending to an fc_buf.
 *
 * Each function appends one reply (or one aggregate header) and returns 0, -ENOBUFS when the
 * buffer cap would be crossed, or -ENOMEM. `proto` is 2 or 3 (HELLO); where RESP3 has its own
 * type (null, map, set, double, boolean) it is used as Redis 7 does, otherwise RESP2 is written.
 */
#ifndef FC_PROTOCOL_RESP_WRITER_H
#define FC_PROTOCOL_RESP_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"

int fc_resp_simple(fc_buf *b, const char *s, size_t n);  /* +s\r\n */
int fc_resp_ok(fc_buf *b);                               /* +OK\r\n */
int fc_resp_error(fc_buf *b, const char *s, size_t n);   /* -s\r\n (s has its code, "ERR ...") */
int fc_resp_errorf(fc_buf *b, const char *fmt, ...)      /* -formatted\r\n, CR/LF -> spaces */
    __attribute__((format(printf, 2, 3)));
int fc_resp_int(fc_buf *b, int64_t v);                    /* :v\r\n */
int fc_resp_bulk(fc_buf *b, const void *p, size_t n);     /* $n\r\n...\r\n */
int fc_resp_bulk_cstr(fc_buf *b, const char *s);
int fc_resp_bulk_int(fc_buf *b, int64_t v);               /* integer as a bulk string */
int fc_resp_null(fc_buf *b, int proto);                   /* $-1 (2) or _ (3) */
int fc_resp_null_array(fc_buf *b, int proto);             /* *-1 (2) or _ (3) */
int fc_resp_array(fc_buf *b, size_t n);                   /* *n\r\n */
int fc_resp_map(fc_buf *b, size_t n, int proto);          /* %n (3) or *2n (2) */
int fc_resp_set(fc_buf *b, size_t n, int proto);          /* ~n (3) or *n (2) */
int fc_resp_double(fc_buf *b, double d, int proto);       /* ,d (3) or bulk (2), Redis's %.17g */
int fc_resp_verbatim(fc_buf *b, const char *p, size_t n, int proto); /* =n+4 txt: (3) or bulk */

#endif
