/*
 * Integration tests for INVALIDATE on the memory driver when its work outlives the command:
 * a prefix whose keys may have expired (the count finishes in the background) and a large
 * general glob (a background job). The reply must still be the exact count, in order with the
 * client's other replies, and later requests of the same client must see the keys gone.
 */
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "daemon_util.h"

static fc_proc d;

TestSuite(invalidate_bg, .fini = dt_fini, .timeout = 60);

/* Writes n keys fmt(i) with value "v" (PX px when px > 0), pipelined, checking every reply. */
static void load(redisContext *c, const char *fmt, int n, int px)
{
    char key[64];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), fmt, i);
        if (px > 0)
            redisAppendCommand(c, "SET %s v PX %d", key, px);
        else
            redisAppendCommand(c, "SET %s v", key);
    }
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        cr_assert_eq(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
    }
}

static long long reply_int(redisContext *c)
{
    redisReply *r = NULL;
    cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "type %d", r->type);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

Test(invalidate_bg, expired_keys_are_not_counted_and_later_requests_wait)
{
    dt_start(&d, NULL);
    redisContext *c = dt_connect(&d);
    load(c, "a:%d", 15000, 0);
    load(c, "a:x%d", 5000, 1); /* expired by the time INVALIDATE runs */
    usleep(5000);
    /* One write: the INVALIDATE (counted now or in the background), then reads behind it. */
    redisAppendCommand(c, "INVALIDATE a:*");
    redisAppendCommand(c, "EXISTS a:7");
    redisAppendCommand(c, "DBSIZE");
    cr_assert_eq(reply_int(c), 15000, "only the live keys count");
    cr_assert_eq(reply_int(c), 0);
    cr_assert_eq(reply_int(c), 0);
    cr_assert_eq(dt_int(c, "INVALIDATE a:*"), 0);
    redisFree(c);
    dt_stop_ok(&d);
}

Test(invalidate_bg, large_glob_runs_as_a_job_with_ordered_replies)
{
    dt_start(&d, NULL);
    redisContext *c = dt_connect(&d);
    redisContext *other = dt_connect(&d);
    load(c, "u:%d:a", 40000, 0);
    load(c, "u:%d:b", 40000, 0);
    redisAppendCommand(c, "INVALIDATE u:*:b");
    redisAppendCommand(c, "EXISTS u:5:b u:5:a");
    redisAppendCommand(c, "DBSIZE");
    cr_assert_eq(redisBufferWrite(c, &(int){0}), REDIS_OK);
    dt_expect(other, "PONG", "PING"); /* the daemon serves others while the job runs */
    cr_assert_eq(reply_int(c), 40000);
    cr_assert_eq(reply_int(c), 1, "u:5:b gone, u:5:a kept");
    cr_assert_eq(reply_int(c), 40000);
    redisFree(other);
    redisFree(c);
    dt_stop_ok(&d);
}

Test(invalidate_bg, client_gone_before_the_reply)
{
    dt_start(&d, NULL);
    redisContext *c = dt_connect(&d);
    load(c, "g:%d:a", 30000, 0);
    load(c, "g:%d:b", 30000, 0);
    redisContext *quitter = dt_connect(&d);
    redisAppendCommand(quitter, "INVALIDATE g:*:b");
    cr_assert_eq(redisBufferWrite(quitter, &(int){0}), REDIS_OK);
    redisFree(quitter); /* closes with the reply pending */
    int64_t deadline = dt_now_ms() + 10000;
    long long n = -1;
    while (dt_now_ms() < deadline && (n = dt_int(c, "DBSIZE")) != 30000)
        usleep(2000);
    cr_assert_eq(n, 30000, "the job finished without its client");
    dt_expect(c, "PONG", "PING");
    redisFree(c);
    dt_stop_ok(&d);
}

/* Regression: a SIGTERM (or SHUTDOWN) while a background INVALIDATE was pending closed the
 * client without its reply; the stop now finishes background work before the drain. */
Test(invalidate_bg, sigterm_delivers_a_pending_reply)
{
    dt_start(&d, NULL);
    redisContext *c = dt_connect(&d);
    load(c, "s:%d:a", 100000, 0);
    load(c, "s:%d:b", 100000, 0);
    int fd = dt_connect_raw(&d);
    static const char req[] = "*2\r\n$10\r\nINVALIDATE\r\n$5\r\ns:*:b\r\n";
    cr_assert_eq(write(fd, req, sizeof(req) - 1), (ssize_t)(sizeof(req) - 1));
    bool started = false; /* CLIENT LIST names the last command a client ran */
    for (int i = 0; i < 2000 && !started; i++) {
        redisReply *r = dt_cmd(c, "CLIENT LIST");
        started = r->type == REDIS_REPLY_STRING && strstr(r->str, "cmd=invalidate");
        freeReplyObject(r);
    }
    cr_assert(started);
    cr_assert_eq(kill(d.pid, SIGTERM), 0);
    dt_expect_raw(fd, ":100000\r\n");
    cr_assert(dt_wait_eof(fd, 5000));
    close(fd);
    redisFree(c);
    cr_assert_eq(dt_wait_exit(&d, 5000), 0);
}
