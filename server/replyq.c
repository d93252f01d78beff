/*
 * replyq — ordered reply slots (see replyq.h).
 */
#include "server/replyq.h"

#include <stdlib.h>

struct fc_slot {
    fc_slot *next;
    fc_replyq *q;
    fc_buf buf;
    bool done;
    bool mute; /* completed into nothing (CLIENT REPLY OFF or SKIP) */
};

void fc_replyq_init(fc_replyq *q, fc_buf *out, void (*on_ready)(void *), void *owner)
{
    q->out = out;
    q->head = q->tail = NULL;
    q->pending = 0;
    q->mute = false;
    q->on_ready = on_ready;
    q->owner = owner;
}

static void slot_free(fc_slot *s)
{
    fc_buf_deinit(&s->buf);
    free(s);
}

void fc_replyq_deinit(fc_replyq *q)
{
    while (q->head) {
        fc_slot *s = q->head;
        q->head = s->next;
        slot_free(s);
    }
    q->tail = NULL;
}

static fc_slot *append(fc_replyq *q, bool done)
{
    fc_slot *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->q = q;
    s->done = done;
    s->mute = !done && q->mute; /* a synchronous reply is muted by the dispatcher itself */
    fc_buf_init(&s->buf, 0);
    if (q->tail)
        q->tail->next = s;
    else
        q->head = s;
    q->tail = s;
    if (!done)
        q->pending++;
    return s;
}

fc_buf *fc_replyq_sync(fc_replyq *q)
{
    if (!q->head)
        return q->out;
    fc_slot *s = append(q, true);
    return s ? &s->buf : NULL;
}

fc_slot *fc_replyq_push(fc_replyq *q)
{
    return append(q, false);
}

fc_buf *fc_slot_buf(fc_slot *s)
{
    return &s->buf;
}

bool fc_replyq_empty(const fc_replyq *q)
{
    return q->head == NULL;
}

size_t fc_replyq_bytes(const fc_replyq *q)
{
    size_t n = 0;
    for (const fc_slot *s = q->head; s; s = s->next)
        n += s->buf.len;
    return n;
}

void fc_slot_complete(fc_slot *s)
{
    fc_replyq *q = s->q;
    s->done = true;
    q->pending--;
    while (q->head && q->head->done) {
        fc_slot *h = q->head;
        q->head = h->next;
        if (!q->head)
            q->tail = NULL;
        if (h->buf.len && !h->mute)
            fc_buf_append(q->out, h->buf.data, h->buf.len);
        slot_free(h);
    }
    if (q->on_ready)
        q->on_ready(q->owner);
}
