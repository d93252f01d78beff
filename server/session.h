/*
 * session — the per-connection state that commands read and change (selected db, protocol,
 * names), kept apart from the libuv client so the command layer does not see the event loop.
 * client.c embeds one fc_session per connection.
 */
#ifndef FC_SERVER_SESSION_H
#define FC_SERVER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_SESS_CLOSE_AFTER_REPLY 1u /* QUIT or a protocol error: flush, then close */
#define FC_SESS_UNIX 2u              /* connected over the unix socket */
#define FC_SESS_BARRIER 4u           /* a multi-step proxied command runs: hold later requests */
#define FC_SESS_DRAIN 8u             /* db/protocol switched with requests in flight: hold until 0 */
#define FC_SESS_HOLD (FC_SESS_BARRIER | FC_SESS_DRAIN)
#define FC_SESS_AUTHED 16u           /* authenticated (set at start when no requirepass) */
#define FC_SESS_KILLED 32u           /* CLIENT KILL by another client: the server closes it */
#define FC_SESS_REPLY_OFF 64u        /* CLIENT REPLY OFF: no reply is sent until ON */
#define FC_SESS_REPLY_SKIP 128u      /* CLIENT REPLY SKIP: this command's reply is dropped */
#define FC_SESS_REPLY_SKIP_NEXT 256u /* ... set by the SKIP itself, for the command after it */
#define FC_SESS_MUTED (FC_SESS_REPLY_OFF | FC_SESS_REPLY_SKIP)

typedef struct fc_session {
    uint64_t id;
    int db;
    int proto;                /* 2 or 3 */
    unsigned flags;
    char *name;               /* CLIENT SETNAME, heap, NULL when unset */
    char *lib_name, *lib_ver; /* CLIENT SETINFO */
    char addr[128], laddr[128]; /* "ip:port" */
    int fd;
    int64_t created_ms, last_ms;
    const char *last_cmd;     /* name of the last command (static string) */
    size_t qbuf, qbuf_free, obuf; /* for CLIENT LIST, refreshed by the client */
    size_t inflight;          /* requests a backend has not completed yet (proxy) */
    struct fc_session *prev, *next;
} fc_session;

void fc_session_init(fc_session *s, int64_t now_ms);
void fc_session_deinit(fc_session *s);

#endif
