/*
 * resp_reply — incremental scanner that finds the boundaries of RESP2/RESP3 *replies* (as sent by
 * a Redis server), without building objects, so a proxy can forward upstream replies byte for byte.
 *
 *   upstream bytes: +OK\r\n*2\r\n$1\r\na\r\n_\r\n:5\r\n...
 *                   |reply1|<----- reply2 ----->|repl3|
 *
 * Handles every RESP3 type: + - : $ * _ # , ( ! = % ~ > | (attributes precede the reply they
 * annotate and are part of it), streamed strings/aggregates are rejected as malformed. Nesting
 * depth is bounded (FC_REPLY_MAX_DEPTH) so hostile input cannot exhaust memory.
 *
 * Also: a small decoder for the replies the proxy must look inside (SCAN/KEYS arrays of bulk
 * strings, integers), working on one complete reply found by the scanner.
 */
#ifndef FC_PROTOCOL_RESP_REPLY_H
#define FC_PROTOCOL_RESP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/resp_parser.h" /* fc_resp_status, fc_span */

#define FC_REPLY_MAX_DEPTH 64

typedef struct fc_reply_scanner {
    size_t pos;                            /* bytes of the current reply already scanned */
    int depth;                             /* open aggregates */
    int64_t left[FC_REPLY_MAX_DEPTH];      /* elements still expected at each depth */
    char err[96];                          /* on FC_RESP_ERR */
} fc_reply_scanner;

void fc_reply_scanner_init(fc_reply_scanner *s);

/* Scans buf[0..len), which starts at the current reply. FC_RESP_OK: *used = length of one
 * complete reply, and the scanner is reset for the next one. FC_RESP_AGAIN: call again with the
 * same start and more bytes (no byte is rescanned). FC_RESP_ERR: malformed, s->err says why. */
fc_resp_status fc_reply_scan(fc_reply_scanner *s, const char *buf, size_t len, size_t *used);

/* Reads the first reply of buf[0..len) (complete) as a top-level type byte: '+', '-', ':', '$',
 * '*', '_', ... Returns 0 if len == 0. */
char fc_reply_type(const char *buf, size_t len);

/* For a complete integer reply ":n\r\n" stores n. Returns false otherwise. */
bool fc_reply_integer(const char *buf, size_t len, int64_t *out);

/*
 * Iterates a complete array reply of bulk strings/nulls (KEYS, SCAN's key list, MGET): call with
 * *pos = 0 first; each call returns true with the next element (*null set for $-1/_ elements) or
 * false at the end or on anything else. *count receives the array length on the first call.
 */
bool fc_reply_array_next(const char *buf, size_t len, size_t *pos, int64_t *count,
                         const char **elem, size_t *elen, bool *null);

#endif
