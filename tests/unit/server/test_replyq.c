/*
 * Unit tests for server/replyq.c: replies leave in request order whatever order they complete in,
 * synchronous replies go straight to `out` while nothing is pending, and on_ready fires per
 * completion.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "protocol/resp_writer.h"
#include "server/replyq.h"

static int ready_calls;

static void count_ready(void *owner)
{
    (void)owner;
    ready_calls++;
}

static void expect_out(const fc_buf *out, const char *want)
{
    cr_assert_eq(out->len, strlen(want), "out has %zu bytes, want '%s'", out->len, want);
    cr_assert(out->len == 0 || memcmp(out->data, want, out->len) == 0);
}

Test(replyq, sync_replies_go_straight_to_out_when_nothing_is_pending)
{
    fc_buf out;
    fc_replyq q;
    fc_buf_init(&out, 0);
    fc_replyq_init(&q, &out, count_ready, NULL);
    cr_assert_eq(fc_replyq_sync(&q), &out);
    cr_assert(fc_replyq_empty(&q));
    fc_replyq_deinit(&q);
    fc_buf_deinit(&out);
}

Test(replyq, out_of_order_completions_leave_in_request_order)
{
    fc_buf out;
    fc_replyq q;
    fc_buf_init(&out, 0);
    ready_calls = 0;
    fc_replyq_init(&q, &out, count_ready, NULL);
    fc_slot *a = fc_replyq_push(&q);                 /* GET a (upstream) */
    fc_resp_simple(fc_replyq_sync(&q), "PONG", 4);   /* PING (local) */
    fc_slot *b = fc_replyq_push(&q);                 /* GET b (upstream) */
    cr_assert_eq(q.pending, 2);
    fc_resp_bulk(fc_slot_buf(b), "B", 1);
    fc_slot_complete(b);
    expect_out(&out, "");                            /* b waits behind a */
    fc_resp_bulk(fc_slot_buf(a), "A", 1);
    fc_slot_complete(a);
    expect_out(&out, "$1\r\nA\r\n+PONG\r\n$1\r\nB\r\n");
    cr_assert(fc_replyq_empty(&q));
    cr_assert_eq(q.pending, 0);
    cr_assert_eq(ready_calls, 2);
    cr_assert_eq(fc_replyq_sync(&q), &out);          /* back to the direct path */
    fc_replyq_deinit(&q);
    fc_buf_deinit(&out);
}

/* CLIENT REPLY OFF/SKIP: a slot pushed while the queue is muted completes into nothing; a
 * synchronous slot is never muted by the queue (the dispatcher takes a muted one back itself). */
Test(replyq, muted_pending_slots_complete_into_nothing)
{
    fc_buf out;
    fc_replyq q;
    fc_buf_init(&out, 0);
    fc_replyq_init(&q, &out, NULL, NULL);
    q.mute = true;
    fc_slot *a = fc_replyq_push(&q);                 /* GET a while muted */
    fc_resp_simple(fc_replyq_sync(&q), "OK", 2);     /* CLIENT REPLY ON, answered */
    q.mute = false;
    fc_slot *b = fc_replyq_push(&q);                 /* GET b after it */
    fc_resp_bulk(fc_slot_buf(a), "A", 1);
    fc_slot_complete(a);
    fc_resp_bulk(fc_slot_buf(b), "B", 1);
    fc_slot_complete(b);
    expect_out(&out, "+OK\r\n$1\r\nB\r\n");
    cr_assert_eq(q.pending, 0);
    fc_replyq_deinit(&q);
    fc_buf_deinit(&out);
}
