/*
 * reload — the open-files limit for maxclients, and the SIGHUP configuration reload (see
 * reload.h).
 *
 * Which keys changed is found by printing the running and the new configuration with
 * fc_conf_print and comparing them line by line (same table, same order), so a key added to the
 * table later is reported too, as "ignored until restart" unless it is listed in runtime_keys
 * and copied in apply(). The [ttl] section (printed last, any number of lines) is compared on
 * its own, entry by entry; all of it applies at run time. New [cache] namespaces and [ttl]
 * prefixes are added to INFO namespaces; none is removed before a restart.
 */
#include "server/reload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "server/client.h"
#include "server/log.h"
#include "server/server.h"

/* "section key" of the settings apply() copies into the running configuration. A new
 * requirepass applies to new connections and to AUTH; clients already authenticated (or
 * connected while there was no password) stay so, as with Redis's CONFIG SET requirepass. */
static const char *const runtime_keys[] = {
    "server loglevel",           "server maxclients",
    "server timeout",            "server client_output_buffer_limit",
    "server client_query_buffer_limit", "server proto_max_bulk_len",
    "server tcp_keepalive",      "server logfile",
    "cache ttl",                 "server requirepass",
    "cache namespaces",
};

int fc_reload_fit_maxclients(fc_conf *c, char *err, size_t errlen)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)c->maxclients + FC_RESERVED_FDS;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return 0;
    rlim_t was = rl.rlim_cur;
    struct rlimit want = {need, rl.rlim_max >= need ? rl.rlim_max : need};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
        fc_log_notice("Increased maximum number of open files to %llu (it was originally set to "
                      "%llu).", (unsigned long long)need, (unsigned long long)was);
        return 0;
    }
    int e = errno;
    rlim_t best = rl.rlim_cur;
    struct rlimit hard = {rl.rlim_max, rl.rlim_max};
    if (rl.rlim_max > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &hard) == 0)
        best = rl.rlim_max;
    if (best <= FC_RESERVED_FDS) {
        snprintf(err, errlen,
                 "the open files limit (ulimit -n) of %llu is too low: more than %d are needed",
                 (unsigned long long)best, FC_RESERVED_FDS);
        return -1;
    }
    long long fit = (long long)(best - FC_RESERVED_FDS);
    fc_log_warning("You requested maxclients of %lld requiring at least %llu max file "
                   "descriptors.", (long long)c->maxclients, (unsigned long long)need);
    fc_log_warning("Server can't set maximum open files to %llu because of OS error: %s.",
                   (unsigned long long)need, strerror(e));
    fc_log_warning("Current maximum open files is %llu. maxclients has been reduced to %lld to "
                   "compensate for low ulimit. If you need higher maxclients increase "
                   "'ulimit -n'.", (unsigned long long)best, fit);
    c->maxclients = fit;
    return 0;
}

/* The configuration as fc_conf_print writes it (malloc'd), or NULL. */
static char *print_conf(const fc_conf *c)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    fc_conf_print(c, f);
    fclose(f);
    return buf;
}

static bool is_runtime(const char *section, const char *line)
{
    char key[160];
    snprintf(key, sizeof(key), "%s %.*s", section, (int)strcspn(line, " ="), line);
    for (size_t i = 0; i < sizeof(runtime_keys) / sizeof(runtime_keys[0]); i++)
        if (strcmp(runtime_keys[i], key) == 0)
            return true;
    return false;
}

/* The next line of *p that is not a comment (advancing *p), or NULL at the end. */
static char *next_line(char **p)
{
    char *line;
    while ((line = strsep(p, "\n")) != NULL)
        if (line[0] != ';' && line[0] != '\0')
            return line;
    return NULL;
}

/* Cuts text before its [ttl] section (printed last) and returns that section's lines, or "". */
static const char *split_ttl(char *text)
{
    char *t = text ? strstr(text, "\n[ttl]\n") : NULL;
    if (!t)
        return "";
    *t = '\0';
    return t + 7;
}

/* True when the "prefix = value" lines of section contain line. */
static bool has_line(const char *section, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = section; *p;) {
        size_t len = strcspn(p, "\n");
        if (len == n && strncmp(p, line, n) == 0)
            return true;
        p += len + (p[len] == '\n');
    }
    return false;
}

/* Logs the [ttl] lines added or changed, and those gone (every [ttl] entry applies at run time). */
static void log_ttl_changes(const char *old_ttl, const char *new_ttl)
{
    char *ta = strdup(old_ttl), *tb = strdup(new_ttl);
    char *p = tb, *line;
    while (ta && tb && (line = next_line(&p)) != NULL)
        if (!has_line(old_ttl, line))
            fc_log_notice("Config reload: [ttl] %s", line);
    p = ta;
    while (ta && tb && (line = next_line(&p)) != NULL)
        if (!has_line(new_ttl, line))
            fc_log_notice("Config reload: [ttl] removed: %s", line);
    free(ta);
    free(tb);
}

/* Logs every key whose value differs between the running and the new configuration. */
static void log_changes(const fc_conf *old, const fc_conf *next)
{
    char *a = print_conf(old), *b = print_conf(next);
    const char *ttl_a = split_ttl(a), *ttl_b = split_ttl(b);
    char *pa = a, *pb = b, *la, *lb;
    char section[32] = "";
    while (a && b && (la = next_line(&pa)) != NULL && (lb = next_line(&pb)) != NULL) {
        if (la[0] == '[') {
            snprintf(section, sizeof(section), "%.*s", (int)strcspn(la + 1, "]"), la + 1);
            continue;
        }
        if (strcmp(la, lb) == 0)
            continue;
        if (is_runtime(section, lb))
            fc_log_notice("Config reload: [%s] %s (was: %s)", section, lb, la);
        else
            fc_log_warning("Config reload: [%s] %s changed in the file; ignored until restart",
                           section, lb);
    }
    if (a && b)
        log_ttl_changes(ttl_a, ttl_b);
    free(a);
    free(b);
}

/* Copies the runtime settings into the live configuration and the clients. */
static void apply(fc_server *srv, fc_conf *live, const fc_conf *next)
{
    char err[256];
    fc_conf fit = *next;
    if (fc_reload_fit_maxclients(&fit, err, sizeof(err)) != 0)
        fc_log_warning("Config reload: maxclients kept at %lld: %s", (long long)live->maxclients,
                       err);
    else
        live->maxclients = fit.maxclients;
    live->loglevel = next->loglevel;
    fc_log_set_level(live->loglevel);
    if (fc_core_set_ttls(&srv->core, next) != 0) {
        fc_log_warning("Config reload: out of memory, [cache] ttl and [ttl] not applied");
    } else {
        live->ttl = next->ttl;
        live->nttl_prefixes = next->nttl_prefixes;
        memcpy(live->ttl_prefixes, next->ttl_prefixes, sizeof(live->ttl_prefixes));
    }
    /* New [cache] namespaces and [ttl] prefixes become namespaces; removed ones stay counted
     * (with their counters) until restart. */
    if (fc_core_set_namespaces(&srv->core, next) != 0)
        fc_log_warning("Config reload: out of memory, some namespaces not added");
    live->nnamespaces = next->nnamespaces;
    memcpy(live->namespaces, next->namespaces, sizeof(live->namespaces));
    live->timeout = next->timeout;
    live->client_output_buffer_limit = next->client_output_buffer_limit;
    live->tcp_keepalive = next->tcp_keepalive;
    live->client_query_buffer_limit = next->client_query_buffer_limit;
    live->proto_max_bulk_len = next->proto_max_bulk_len;
    memcpy(live->logfile, next->logfile, sizeof(live->logfile));
    memcpy(live->requirepass, next->requirepass, sizeof(live->requirepass));
    for (fc_session *s = srv->core.sessions; s; s = s->next) {
        fc_client *c = FC_CLIENT_OF(s);
        size_t qlimit = (size_t)live->client_query_buffer_limit;
        c->in.max = qlimit >= c->in.cap ? qlimit : c->in.cap; /* never below what it holds */
        c->parser.max_bulk = live->proto_max_bulk_len;
    }
}

static void reopen_log(const char *path)
{
    int r = fc_log_open(path);
    if (r < 0)
        fc_log_warning("Cannot open log file '%s': %s (logging continues where it was)", path,
                       strerror(-r));
}

void fc_reload(fc_server *srv)
{
    fc_conf *live = srv->live_conf;
    if (!live) {
        fc_log_notice("Received SIGHUP: nothing to reload");
        return;
    }
    reopen_log(live->logfile);
    fc_log_notice("Received SIGHUP, reloading the configuration%s%s", live->path[0] ? " from " : "",
                  live->path);
    fc_conf *next = malloc(sizeof(*next));
    if (!next) {
        fc_log_warning("Config reload failed: out of memory");
        return;
    }
    fc_conf_action action;
    char err[600];
    if (fc_conf_from_args(next, srv->argc, srv->argv, &action, err, sizeof(err)) != 0) {
        fc_log_warning("Config reload failed, keeping the running configuration: %s", err);
        free(next);
        return;
    }
    log_changes(live, next);
    bool new_log = strcmp(live->logfile, next->logfile) != 0;
    apply(srv, live, next);
    if (new_log)
        reopen_log(live->logfile);
    free(next);
    fc_log_notice("Configuration reloaded");
}
