/*
 * cmd_info — INFO in Redis's text format: "# Section\r\nkey:value\r\n..." with sections joined by
 * a blank line. Sections: server, clients, memory, persistence, stats, replication, cpu, keyspace
 * (the default ones), and namespaces (per-namespace counters, a fastcached extension).
 * The reply is a bulk string (RESP2) or a verbatim "txt" string (RESP3), as Redis 7 sends.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "server/cmd_impl.h"
#include "server/memory.h"
#include "storage/nstab.h"

static void add(fc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(fc_buf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0)
        fc_buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void sec_server(fc_cmd_ctx *c, fc_buf *b)
{
    struct utsname u;
    uname(&u);
    int64_t up = (c->now_ms - c->core->start_ms) / 1000;
    add(b, "# Server\r\nredis_version:7.0.15\r\nfastcached_version:%s\r\nredis_mode:standalone\r\n"
           "os:%s %s %s\r\narch_bits:%d\r\nmultiplexing_api:epoll\r\nprocess_id:%d\r\n"
           "tcp_port:%d\r\nuptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\n"
           "executable:%s\r\nconfig_file:%s\r\n",
        FC_VERSION, u.sysname, u.release, u.machine, (int)(sizeof(void *) * 8), (int)getpid(),
        c->core->tcp_port, (long long)up, (long long)(up / 86400), c->core->executable,
        c->core->config_file);
}

static void sec_clients(fc_cmd_ctx *c, fc_buf *b)
{
    add(b, "# Clients\r\nconnected_clients:%zu\r\nmaxclients:%lld\r\nblocked_clients:0\r\n",
        c->core->nclients, (long long)c->core->conf->maxclients);
}

static size_t rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

static void sec_memory(fc_cmd_ctx *c, fc_buf *b)
{
    add(b, "# Memory\r\nused_memory:%zu\r\nused_memory_rss:%zu\r\nmaxmemory:%llu\r\n"
           "maxmemory_policy:%s\r\nmem_allocator:libc\r\n",
        fc_memory_used(c->core), rss_bytes(), (unsigned long long)fc_memory_limit(c->core),
        fc_memory_policy_name(c->core));
}

static void sec_stats(fc_cmd_ctx *c, fc_buf *b)
{
    uint64_t hits = 0, misses = 0, expired = 0;
    for (int i = 0; i < c->core->ndb; i++) {
        const fc_store_stats *st = fc_store_get_stats(c->core->dbs[i]);
        hits += st->hits;
        misses += st->misses;
        expired += st->expired;
    }
    const fc_core_stats *s = &c->core->stats;
    add(b, "# Stats\r\ntotal_connections_received:%llu\r\ntotal_commands_processed:%llu\r\n"
           "total_net_input_bytes:%llu\r\ntotal_net_output_bytes:%llu\r\n"
           "rejected_connections:%llu\r\nexpired_keys:%llu\r\nevicted_keys:%llu\r\n"
           "keyspace_hits:%llu\r\nkeyspace_misses:%llu\r\n"
           "fc_cron_max_us:%llu\r\nfc_cron_over_1ms:%llu\r\n"
           "fc_turn_max_us:%llu\r\nfc_turn_over_1ms:%llu\r\n",
        (unsigned long long)s->connections, (unsigned long long)s->commands,
        (unsigned long long)s->net_in, (unsigned long long)s->net_out,
        (unsigned long long)s->rejected, (unsigned long long)expired,
        (unsigned long long)fc_memory_evicted(c->core), (unsigned long long)hits,
        (unsigned long long)misses, (unsigned long long)(s->cron_max_ns / 1000),
        (unsigned long long)s->cron_over_1ms, (unsigned long long)(s->turn_max_ns / 1000),
        (unsigned long long)s->turn_over_1ms);
#ifdef FC_TURN_CPU /* the diagnostic build (server.h, fc_server_probe_begin) */
    add(b, "fc_turn_over_1ms_faulted:%llu\r\n", (unsigned long long)s->turn_over_1ms_faulted);
#endif
}

static void sec_persistence(fc_cmd_ctx *c, fc_buf *b)
{
    (void)c;
    add(b, "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:0\r\n"
           "rdb_bgsave_in_progress:0\r\naof_enabled:0\r\n");
}

static void sec_replication(fc_cmd_ctx *c, fc_buf *b)
{
    (void)c;
    add(b, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n");
}

static void sec_cpu(fc_cmd_ctx *c, fc_buf *b)
{
    (void)c;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    add(b, "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\n",
        (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, (long)ru.ru_utime.tv_sec,
        (long)ru.ru_utime.tv_usec);
}

static void sec_keyspace(fc_cmd_ctx *c, fc_buf *b)
{
    add(b, "# Keyspace\r\n");
    for (int i = 0; i < c->core->ndb; i++) {
        size_t n = fc_store_size(c->core->dbs[i]);
        if (n)
            add(b, "db%d:keys=%zu,expires=%zu,avg_ttl=0\r\n", i, n,
                fc_store_volatile_size(c->core->dbs[i]));
    }
}

/* ---- namespaces ---------------------------------------------------------------------------- */

/* Keys with a prefix in every database (the nstab count function). */
static uint64_t count_all_dbs(void *ctx, const char *prefix, size_t len)
{
    const fc_core *core = ctx;
    uint64_t n = 0;
    for (int i = 0; i < core->ndb; i++)
        n += fc_store_count_prefix(core->dbs[i], prefix, len);
    return n;
}

/* A namespace's name as an INFO field name. Client libraries split an INFO line at its first
 * ':' (redis-py: key before it; a value holding ',' and '=' becomes a dict of k=v items), and
 * names mostly end with ':', so the name cannot appear raw: ':' and every byte that could split
 * the line or its value (',', '=', blanks, controls, non-ASCII), and '%' itself, are written as
 * %XX (upper-case hex), which urllib.parse.unquote and friends reverse. So
 * "ns_users%3A:keys=3,hits=2,..." reads back in redis-py as
 * info["ns_users%3A"] == {"keys": 3, "hits": 2, ...}, one entry per namespace. */
static void add_ns_name(fc_buf *b, const char *name, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    fc_buf_append(b, "ns_", 3);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch > 0x20 && ch < 0x7F && !strchr(":,=%", ch)) {
            fc_buf_append(b, (const char *)&ch, 1);
        } else {
            char esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            fc_buf_append(b, esc, 3);
        }
    }
}

/* One line per namespace in creation order; empty in proxy mode (no table). */
static void sec_namespaces(fc_cmd_ctx *c, fc_buf *b)
{
    add(b, "# Namespaces\r\n");
    fc_nstab *t = c->core->ns;
    size_t n = t ? fc_nstab_size(t) : 0;
    uint64_t *keys = n ? malloc(n * sizeof(*keys)) : NULL;
    if (!keys)
        return;
    fc_nstab_keys(t, count_all_dbs, c->core, keys);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *name = fc_nstab_name(t, i, &len);
        const fc_ns_stats *st = fc_nstab_stats(t, i);
        add_ns_name(b, name, len);
        add(b, ":keys=%llu,hits=%llu,misses=%llu,sets=%llu,invalidations=%llu,evictions=%llu\r\n",
            (unsigned long long)keys[i], (unsigned long long)st->hits,
            (unsigned long long)st->misses, (unsigned long long)st->sets,
            (unsigned long long)st->invalidations, (unsigned long long)st->evictions);
    }
    free(keys);
}

/* As in Redis, sections not in "default" (here: namespaces) come only when named, or with
 * "all" / "everything". */
static const struct {
    const char *name;
    void (*fn)(fc_cmd_ctx *, fc_buf *);
    bool in_default;
} sections[] = {
    {"server", sec_server, true},           {"clients", sec_clients, true},
    {"memory", sec_memory, true},           {"persistence", sec_persistence, true},
    {"stats", sec_stats, true},             {"replication", sec_replication, true},
    {"cpu", sec_cpu, true},                 {"keyspace", sec_keyspace, true},
    {"namespaces", sec_namespaces, false},
};

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

static bool wanted(const fc_cmd_ctx *c, size_t s)
{
    if (c->argc == 1)
        return sections[s].in_default;
    for (int i = 1; i < c->argc; i++)
        if (fc_arg_is(c, i, "all") || fc_arg_is(c, i, "everything") ||
            (sections[s].in_default && fc_arg_is(c, i, "default")) ||
            fc_arg_is(c, i, sections[s].name))
            return true;
    return false;
}

void cmd_info(fc_cmd_ctx *c)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    for (size_t s = 0; s < NSECTIONS; s++) {
        if (!wanted(c, s))
            continue;
        if (b.len)
            fc_buf_append(&b, "\r\n", 2);
        sections[s].fn(c, &b);
    }
    fc_resp_verbatim(c->out, b.data ? b.data : "", b.len, c->sess->proto);
    fc_buf_deinit(&b);
}
