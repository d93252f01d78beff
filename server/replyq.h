/*
 * replyq — keeps a client's pipelined replies in request order when some complete later
 * (proxy backend) than others (local commands, memory backend).
 *
 *   requests:  GET a (upstream)   PING (local)   GET b (upstream)
 *   slots:     [pending] ───────► [done "+PONG"] ► [pending]
 *   out:       bytes of every completed slot at the head, moved in order
 *
 * While no slot is pending, a synchronous reply is written straight into `out` (the memory mode
 * hot path costs nothing). Once a slot is pending, later synchronous replies get done slots of
 * their own behind it. Completing the head slot drains every completed slot after it into `out`
 * and calls on_ready so the owner flushes.
 *
 * Ownership: the queue owns its slots. A pending slot must be completed exactly once (its
 * producer's contract); the owner of the queue must outlive its pending slots — a client closed
 * with slots pending is freed only when `pending` drops to 0 (on_ready tells it).
 * Plain C: no libuv.
 */
#ifndef FC_SERVER_REPLYQ_H
#define FC_SERVER_REPLYQ_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/buf.h"

typedef struct fc_slot fc_slot;

typedef struct fc_replyq {
    fc_buf *out;       /* where completed replies go, in order */
    fc_slot *head, *tail;
    size_t pending;    /* slots not yet completed */
    bool mute;         /* set around a request whose reply is dropped: its pending slots drop it */
    void (*on_ready)(void *owner); /* after a completion moved bytes to out (or pending hit 0) */
    void *owner;
} fc_replyq;

void fc_replyq_init(fc_replyq *q, fc_buf *out, void (*on_ready)(void *), void *owner);

/* Frees completed slots; pending ones must have been completed first (pending == 0). */
void fc_replyq_deinit(fc_replyq *q);

/* The buffer a synchronous reply goes to now: `out` when nothing is queued, else the buffer of a
 * new completed slot at the tail. NULL on out-of-memory. */
fc_buf *fc_replyq_sync(fc_replyq *q);

/* Appends a pending slot; its reply is written into fc_slot_buf() and published by
 * fc_slot_complete(). NULL on out-of-memory. */
fc_slot *fc_replyq_push(fc_replyq *q);

/* The buffer to write a pending slot's reply into. */
fc_buf *fc_slot_buf(fc_slot *s);

/* Marks the slot complete; moves every completed slot at the head into out, then on_ready. */
void fc_slot_complete(fc_slot *s);

/* True if no slot is queued (replies go straight to out). */
bool fc_replyq_empty(const fc_replyq *q);

/* Bytes held in queued slots (completed replies waiting behind a pending one, and what pending
 * producers wrote so far). Walks the queue: O(slots). */
size_t fc_replyq_bytes(const fc_replyq *q);

#endif
