/*
 * cmd_keys — the keyspace family: DEL/UNLINK, EXISTS, TOUCH, TYPE, DBSIZE, KEYS, SCAN, RANDOMKEY,
 * RENAME(NX), SELECT, FLUSHDB/FLUSHALL and fastcached's INVALIDATE.
 *
 * KEYS and SCAN never return expired keys; DBSIZE counts keys not yet reclaimed, as Redis does.
 * As in Redis 7.0, KEYS only filters expired keys out, while SCAN deletes the ones that match
 * its pattern (counted in expired_keys), and SCAN ... TYPE looks every matching key up, counting
 * a keyspace hit or miss each (an expired key is "none" to it: TYPE none returns such keys).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cmd_impl.h"
#include "server/memory.h"
#include "storage/glob.h"

void cmd_del(fc_cmd_ctx *c)
{
    fc_store *db = fc_ctx_db(c);
    int64_t n = 0;
    for (int i = 1; i < c->argc; i++)
        n += fc_store_del(db, c->argv[i].p, c->argv[i].len, c->now_ms);
    fc_resp_int(c->out, n);
}

static int64_t count_existing(fc_cmd_ctx *c)
{
    fc_store *db = fc_ctx_db(c);
    int64_t n = 0;
    for (int i = 1; i < c->argc; i++) {
        fc_entry_view e;
        n += fc_store_get(db, c->argv[i].p, c->argv[i].len, c->now_ms, 0, &e);
    }
    return n;
}

void cmd_exists(fc_cmd_ctx *c)
{
    fc_resp_int(c->out, count_existing(c));
}

void cmd_touch(fc_cmd_ctx *c)
{
    fc_resp_int(c->out, count_existing(c));
}

void cmd_type(fc_cmd_ctx *c)
{
    fc_entry_view e;
    bool found = fc_store_get(fc_ctx_db(c), c->argv[1].p, c->argv[1].len, c->now_ms, 0, &e);
    if (found)
        fc_resp_simple(c->out, "string", 6);
    else
        fc_resp_simple(c->out, "none", 4);
}

void cmd_dbsize(fc_cmd_ctx *c)
{
    fc_resp_int(c->out, (int64_t)fc_store_size(fc_ctx_db(c)));
}

/* Collects matching keys as bulk replies into a side buffer, counting them. type: SCAN's TYPE
 * argument, or NULL. */
typedef struct key_collector {
    fc_buf items;
    size_t n;
    size_t live;  /* live keys that matched the pattern (SCAN's COUNT counts these) */
    const char *pat;
    size_t plen;
    bool all;
    const fc_arg *type;
} key_collector;

static bool key_matches(const key_collector *k, const fc_entry_view *e)
{
    return k->all || fc_glob_match(k->pat, k->plen, e->key, e->klen, false);
}

static void collect(key_collector *k, const fc_entry_view *e)
{
    fc_resp_bulk(&k->items, e->key, e->klen);
    k->n++;
}

/* KEYS: live matching keys; expired ones stay where they are. */
static unsigned keys_visit(void *ctx, const fc_entry_view *e, bool expired)
{
    key_collector *k = ctx;
    if (!expired && key_matches(k, e))
        collect(k, e);
    return 0;
}

/* SCAN: pattern first, then type, then expiry, in Redis's order. Only a matching key is looked
 * at further: with TYPE it is looked up (an expired one is deleted by that lookup and its type
 * is "none"); without, an expired one is deleted. */
static unsigned scan_visit(void *ctx, const fc_entry_view *e, bool expired)
{
    key_collector *k = ctx;
    if (!key_matches(k, e))
        return 0;
    k->live += !expired;
    if (k->type) {
        if (fc_eq_word(k->type->p, k->type->len, expired ? "none" : "string"))
            collect(k, e);
        return FC_VISIT_LOOKUP | FC_VISIT_REAP;
    }
    if (expired)
        return FC_VISIT_REAP;
    collect(k, e);
    return 0;
}

static void reply_collected(fc_cmd_ctx *c, key_collector *k)
{
    fc_resp_array(c->out, k->n);
    fc_buf_append(c->out, k->items.data, k->items.len);
    fc_buf_deinit(&k->items);
}

void cmd_keys(fc_cmd_ctx *c)
{
    key_collector k = {.pat = c->argv[1].p, .plen = c->argv[1].len};
    k.all = k.plen == 1 && k.pat[0] == '*';
    fc_buf_init(&k.items, 0);
    uint64_t cursor = 0;
    do {
        cursor = fc_store_scan_visit(fc_ctx_db(c), cursor, c->now_ms, keys_visit, &k);
    } while (cursor != 0);
    reply_collected(c, &k);
}

/* Redis parses the cursor with strtoul(): C-string semantics, "" and "+0" are 0, "-1" wraps,
 * a leading space or trailing garbage or overflow is "invalid cursor". */
static bool parse_cursor(fc_cmd_ctx *c, uint64_t *cursor)
{
    char buf[64];
    const fc_arg *a = &c->argv[1];
    const char *nul = memchr(a->p, '\0', a->len);
    size_t n = nul ? (size_t)(nul - a->p) : a->len;
    if (n >= sizeof(buf) || (n > 0 && isspace((unsigned char)a->p[0]))) {
        fc_reply_err(c, "ERR invalid cursor");
        return false;
    }
    memcpy(buf, a->p, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    *cursor = strtoull(buf, &end, 10);
    if (*end != '\0' || errno == ERANGE) {
        fc_reply_err(c, "ERR invalid cursor");
        return false;
    }
    return true;
}

typedef struct scan_opts {
    long long count;
    const fc_arg *match;
    const fc_arg *type;
} scan_opts;

static bool parse_scan_opts(fc_cmd_ctx *c, scan_opts *o)
{
    o->count = 10;
    o->match = o->type = NULL;
    for (int i = 2; i < c->argc; i += 2) {
        bool has_value = c->argc - i >= 2;
        if (has_value && fc_arg_is(c, i, "count")) {
            if (!fc_arg_ll(c, i + 1, &o->count))
                return false;
            if (o->count < 1) {
                fc_reply_err(c, FC_ERR_SYNTAX);
                return false;
            }
        } else if (has_value && fc_arg_is(c, i, "match")) {
            o->match = &c->argv[i + 1];
        } else if (has_value && fc_arg_is(c, i, "type")) {
            o->type = &c->argv[i + 1];
        } else {
            fc_reply_err(c, FC_ERR_SYNTAX);
            return false;
        }
    }
    return true;
}

void cmd_scan(fc_cmd_ctx *c)
{
    uint64_t cursor;
    scan_opts o;
    if (!parse_cursor(c, &cursor) || !parse_scan_opts(c, &o))
        return;
    key_collector k = {.type = o.type};
    fc_buf_init(&k.items, 0);
    k.all = !o.match || (o.match->len == 1 && o.match->p[0] == '*');
    if (o.match) {
        k.pat = o.match->p;
        k.plen = o.match->len;
    }
    long long iterations = o.count > INT64_MAX / 10 ? INT64_MAX : o.count * 10;
    do {
        cursor = fc_store_scan_visit(fc_ctx_db(c), cursor, c->now_ms, scan_visit, &k);
    } while (cursor && iterations-- && (long long)k.live < o.count);
    char num[24];
    size_t len = (size_t)snprintf(num, sizeof(num), "%llu", (unsigned long long)cursor);
    fc_resp_array(c->out, 2);
    fc_resp_bulk(c->out, num, len);
    reply_collected(c, &k);
}

void cmd_randomkey(fc_cmd_ctx *c)
{
    fc_entry_view e;
    if (fc_store_random(fc_ctx_db(c), c->now_ms, fc_core_random(c->core), &e))
        fc_resp_bulk(c->out, e.key, e.klen);
    else
        fc_resp_null(c->out, c->sess->proto);
}

static void rename_generic(fc_cmd_ctx *c, bool nx)
{
    fc_store *db = fc_ctx_db(c);
    const fc_arg *src = &c->argv[1], *dst = &c->argv[2];
    fc_entry_view e;
    if (!fc_store_get(db, src->p, src->len, c->now_ms, FC_LOOKUP_NOSTATS, &e)) {
        fc_reply_err(c, FC_ERR_NOKEY);
        return;
    }
    if (src->len == dst->len && memcmp(src->p, dst->p, src->len) == 0) {
        if (nx)
            fc_resp_int(c->out, 0);
        else
            fc_resp_ok(c->out);
        return;
    }
    int r = fc_store_rename(db, src->p, src->len, dst->p, dst->len, nx, c->now_ms);
    if (r == -EEXIST)
        fc_resp_int(c->out, 0);
    else if (r != 0)
        fc_reply_err(c, FC_ERR_OOM);
    else if (nx)
        fc_resp_int(c->out, 1);
    else
        fc_resp_ok(c->out);
}

void cmd_rename(fc_cmd_ctx *c)
{
    rename_generic(c, false);
}

void cmd_renamenx(fc_cmd_ctx *c)
{
    rename_generic(c, true);
}

void cmd_select(fc_cmd_ctx *c)
{
    long long id;
    if (!fc_arg_ll(c, 1, &id))
        return;
    if (id < INT32_MIN || id > INT32_MAX) { /* Redis reads the index as an int */
        fc_reply_err(c, "ERR value is out of range, value must between -2147483648 and 2147483647");
        return;
    }
    if (id < 0 || id >= c->core->ndb) {
        fc_reply_err(c, FC_ERR_DBRANGE);
        return;
    }
    c->sess->db = (int)id;
    fc_resp_ok(c->out);
}

bool fc_flush_args_valid(const fc_cmd_ctx *c)
{
    return c->argc == 1 || (c->argc == 2 && (fc_arg_is(c, 1, "sync") || fc_arg_is(c, 1, "async")));
}

static bool flush_args_ok(fc_cmd_ctx *c)
{
    if (fc_flush_args_valid(c))
        return true;
    fc_reply_err(c, FC_ERR_SYNTAX);
    return false;
}

void cmd_flushdb(fc_cmd_ctx *c)
{
    if (!flush_args_ok(c))
        return;
    fc_store_flush(fc_ctx_db(c));
    fc_resp_ok(c->out);
}

void cmd_flushall(fc_cmd_ctx *c)
{
    if (!flush_args_ok(c))
        return;
    for (int i = 0; i < c->core->ndb; i++)
        fc_store_flush(c->core->dbs[i]);
    fc_resp_ok(c->out);
}

/* An INVALIDATE's reply slot, and the session it may hold behind a barrier. */
typedef struct inv_wait {
    fc_slot *slot;
    fc_session *sess;
} inv_wait;

static void invalidate_done(void *ctx, size_t n)
{
    inv_wait *w = ctx;
    fc_resp_int(fc_slot_buf(w->slot), (int64_t)n);
    w->sess->flags &= ~FC_SESS_BARRIER;
    fc_slot_complete(w->slot);
    free(w);
}

/*
 * INVALIDATE pattern: see fc_store_invalidate_start. The reply takes a slot in the client's
 * queue, completed at once or, when the count (or a large glob) finishes in the background,
 * later; meanwhile the client's later requests wait behind a barrier, so they see the keys
 * gone, as after Redis's synchronous reply. Without memory for a slot it all runs here.
 */
void cmd_invalidate(fc_cmd_ctx *c)
{
    fc_store *db = fc_ctx_db(c);
    inv_wait *w = calloc(1, sizeof(*w));
    fc_slot *slot = w ? fc_replyq_push(c->q) : NULL;
    size_t n = 0;
    if (!slot) {
        free(w);
        n = fc_store_invalidate(db, c->argv[1].p, c->argv[1].len, c->now_ms);
        fc_resp_int(c->out, (int64_t)n);
        return;
    }
    *w = (inv_wait){slot, c->sess};
    if (fc_store_invalidate_start(db, c->argv[1].p, c->argv[1].len, c->now_ms, invalidate_done, w,
                                  &n)) {
        invalidate_done(w, n);
        return;
    }
    c->sess->flags |= FC_SESS_BARRIER;
    c->core->bg_kick = true;
}
