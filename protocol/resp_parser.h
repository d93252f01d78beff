/*
 * resp_parser — incremental, zero-copy RESP2 request parser (multibulk and inline).
 *
 *   client input buffer:  *2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPI...
 *                         |<------- frame 1 (used) ------>|<- frame 2, AGAIN
 *   argv[0] = {off,len} of "GET", argv[1] = {off,len} of "k", offsets from the frame start.
 *
 * The parser knows bytes only: it never writes replies and knows nothing of clients. It is
 * resumable at any byte: the caller passes the buffer that starts at the current frame, with as
 * many bytes as have arrived, again and again; state kept in the parser avoids rescanning bytes
 * already parsed, so a frame split anywhere parses the same, in linear time.
 *
 * Ownership: argv spans are offsets into the buffer passed to the call that returned FC_RESP_OK;
 * they stay valid until the caller consumes the frame. Inline requests with quotes are unescaped
 * in place (the unescaped text is never longer), which is why `buf` is not const; such frames are
 * marked `inline_req` so a proxy re-encodes them instead of forwarding the raw bytes.
 */
#ifndef FC_PROTOCOL_RESP_PARSER_H
#define FC_PROTOCOL_RESP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { FC_RESP_OK, FC_RESP_AGAIN, FC_RESP_ERR } fc_resp_status;

typedef struct fc_span {
    uint32_t off, len; /* offsets survive buffer compaction */
} fc_span;

#define FC_RESP_DEFAULT_MAX_BULK (512ull * 1024 * 1024) /* proto-max-bulk-len */
#define FC_RESP_MAX_INLINE (64 * 1024)                   /* PROTO_INLINE_MAX_SIZE */
#define FC_RESP_MAX_MULTIBULK 2147483647ull /* INT_MAX: Redis 7.0 rejects counts above this */
#define FC_RESP_UNAUTH_MAX_MULTIBULK 10    /* before AUTH (Redis 7.0) */
#define FC_RESP_UNAUTH_MAX_BULK 16384       /* before AUTH (Redis 7.0) */

typedef struct fc_resp_parser {
    /* Limits, settable after init. */
    uint64_t max_bulk;      /* largest accepted bulk length (inclusive) */
    uint64_t max_multibulk; /* largest accepted multibulk count (inclusive) */
    /* Redis's limits for a client that has not authenticated yet, set by the caller before each
     * call: a multibulk count above FC_RESP_UNAUTH_MAX_MULTIBULK fails with "Protocol error:
     * unauthenticated multibulk length", a bulk above FC_RESP_UNAUTH_MAX_BULK with
     * "Protocol error: unauthenticated bulk length" (each after the usual validity checks). */
    bool unauth;
    /* Result of the last FC_RESP_OK: argv[0..argc) are spans into the buffer. */
    fc_span *argv;
    size_t argc;
    bool inline_req; /* the frame was an inline command */
    /* Hint: when > 0, the total frame length the parser knows it needs (for one big reserve). */
    size_t need;
    /* On FC_RESP_ERR: Redis's error text without "-ERR " and CRLF, e.g.
     * "Protocol error: invalid multibulk length". */
    char err[128];
    /* Private state. */
    size_t argv_cap;
    size_t pos;        /* bytes of the current frame already parsed */
    int64_t remaining; /* bulk arguments still expected; -1 before the header */
    int64_t bulk_len;  /* length of the bulk being read; -1 before its header */
    int state;
} fc_resp_parser;

/* Initializes with Redis's default limits. */
void fc_resp_parser_init(fc_resp_parser *p);
void fc_resp_parser_deinit(fc_resp_parser *p);

/* Forgets any partial frame (after the caller dropped the bytes it was parsing). */
void fc_resp_parser_reset(fc_resp_parser *p);

/*
 * Parses one request from buf[0..len), where buf starts at the current frame.
 * FC_RESP_OK: p->argv[0..p->argc) hold the arguments and *used is the frame's length; argc may
 *   be 0 for frames Redis ignores silently (empty inline line, "*0", "*-1"): the caller skips them.
 * FC_RESP_AGAIN: incomplete; call again with the same buf start and more bytes.
 * FC_RESP_ERR: p->err holds Redis's protocol error text; the caller replies it and closes.
 * Returns FC_RESP_ERR with "out of memory" if argv cannot grow.
 */
fc_resp_status fc_resp_parse(fc_resp_parser *p, char *buf, size_t len, size_t *used);

/*
 * Lookahead over a batch: true if buf[0..len) starts with a complete multibulk frame that
 * fc_resp_parse would accept as it is, of the common shape (at most min(cap, 1024) bulks, each
 * under 32 KiB, lengths in plain digits, within p's limits; p not unauth and not inside a
 * frame: false while p holds a partial one, which only fc_resp_parse may finish); then
 * spans[0..*argc) are its arguments (offsets from buf) and *used its length, exactly what
 * fc_resp_parse would give. Stateless: p is only read for its limits, and a caller may run the
 * frame from these spans instead of calling fc_resp_parse (whose state must be at a frame
 * boundary). False says nothing about the frame: fc_resp_parse decides.
 */
bool fc_resp_peek(const fc_resp_parser *p, const char *buf, size_t len, fc_span *spans,
                  size_t cap, size_t *argc, size_t *used);

#endif
