/*
 * conf — the key table, its setters and printers, defaults, cross-key validation and printing.
 *
 *   file line / flag ──► fc_conf_set(section, key, raw) ──► ${ENV} expansion ──► row->set()
 *                                                                                   │
 *   fc_conf_defaults ──► row->set(row->def) ─────────────────────────────────────────┤
 *                                                                                   ▼
 *                                                                           struct fc_conf
 *
 * Invariant: a field of fc_conf is only ever written by its row's setter, which checks the
 * row's bounds; so a struct built by defaults + file + flags is always within bounds, and
 * fc_conf_validate() only has cross-key rules left to check (it re-checks bounds too, for
 * structs filled by hand). A failed set leaves the field unchanged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/conf_internal.h"

_Static_assert(sizeof(fc_driver) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(fc_loglevel) == sizeof(int), "enums are stored as int");

/* Big enough for a whole bind list; each field then applies its own, smaller, limit. */
#define EXPAND_MAX (FC_CONF_STR * FC_CONF_MAX_BIND)

static const char *const driver_names[] = {"memory", "redis", NULL};
static const char *const loglevel_names[] = {"debug", "verbose", "notice", "warning", NULL};
static const char *const yes_no_names[] = {"no", "yes", NULL}; /* indexed by value */
static const char *const policy_names[] = {
    "noeviction",   "allkeys-lru",    "volatile-lru", "allkeys-lfu", "volatile-lfu",
    "allkeys-random", "volatile-random", "volatile-ttl", NULL};

/* ---- field access ---------------------------------------------------------------------- */

static void *field(fc_conf *c, const fc_conf_key *k)
{
    return (char *)c + k->off;
}

static const void *cfield(const fc_conf *c, const fc_conf_key *k)
{
    return (const char *)c + k->off;
}

/* Integer fields are int, int64_t or uint64_t (sizes, always <= INT64_MAX by their bounds). */
static void store_int(fc_conf *c, const fc_conf_key *k, int64_t v)
{
    if (k->width == sizeof(int)) {
        int x = (int)v;
        memcpy(field(c, k), &x, sizeof x);
    } else {
        memcpy(field(c, k), &v, sizeof v);
    }
}

static int64_t load_int(const fc_conf *c, const fc_conf_key *k)
{
    if (k->width == sizeof(int)) {
        int x;
        memcpy(&x, cfield(c, k), sizeof x);
        return x;
    }
    int64_t v;
    memcpy(&v, cfield(c, k), sizeof v);
    return v;
}

/* ---- number parsing -------------------------------------------------------------------- */

/* Strict decimal: optional '-', at least one digit, nothing else; false on overflow. */
static bool parse_i64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    bool neg = len > 0 && s[0] == '-';
    if (neg)
        i++;
    if (i == len)
        return false;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Redis's memory units: k=1000, kb=1024, m=1e6, mb=2^20, g=1e9, gb=2^30; b=1. */
static bool size_unit(const char *u, int64_t *mul)
{
    static const struct {
        const char *name;
        int64_t mul;
    } units[] = {{"", 1},          {"b", 1},           {"k", 1000},
                 {"kb", 1024},     {"m", 1000000},     {"mb", 1048576},
                 {"g", 1000000000}, {"gb", 1073741824}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(u, units[i].name) == 0) {
            *mul = units[i].mul;
            return true;
        }
    }
    return false;
}

static bool parse_size(const char *s, int64_t *out)
{
    size_t digits = strspn(s, "0123456789");
    int64_t n, mul;
    if (digits == 0 || !parse_i64(s, digits, &n) || !size_unit(s + digits, &mul))
        return false;
    if (n > INT64_MAX / mul)
        return false;
    *out = n * mul;
    return true;
}

static int range_check(const fc_conf_key *k, int64_t v, const char *raw, char *err,
                       size_t errlen)
{
    if (v >= k->min && v <= k->max)
        return 0;
    if (v < 0 && strcmp(k->name, "ttl") == 0)
        snprintf(err, errlen, "ttl must not be negative (got %s; use 0 or none for no expiry)",
                 raw);
    else
        snprintf(err, errlen, "%s must be between %" PRId64 " and %" PRId64 " (got %s)", k->name,
                 k->min, k->max, raw);
    return -1;
}

/* ---- setters --------------------------------------------------------------------------- */

static int set_int(fc_conf *c, const fc_conf_key *k, const char *v, char *err, size_t errlen)
{
    int64_t n;
    if (!parse_i64(v, strlen(v), &n)) {
        snprintf(err, errlen, "invalid %s '%s' (expected an integer)", k->name, v);
        return -1;
    }
    if (range_check(k, n, v, err, errlen) < 0)
        return -1;
    store_int(c, k, n);
    return 0;
}

static int set_ttl(fc_conf *c, const fc_conf_key *k, const char *v, char *err, size_t errlen)
{
    int64_t n = 0;
    if (strcasecmp(v, "none") != 0 && !parse_i64(v, strlen(v), &n)) {
        snprintf(err, errlen, "invalid ttl '%s' (expected a number of seconds or none)", v);
        return -1;
    }
    if (range_check(k, n, v, err, errlen) < 0)
        return -1;
    store_int(c, k, n);
    return 0;
}

static int set_size(fc_conf *c, const fc_conf_key *k, const char *v, char *err, size_t errlen)
{
    int64_t n;
    if (!parse_size(v, &n)) {
        snprintf(err, errlen, "invalid %s '%s' (expected a size such as 1024, 64kb, 512mb or 1gb)",
                 k->name, v);
        return -1;
    }
    if (range_check(k, n, v, err, errlen) < 0)
        return -1;
    store_int(c, k, n);
    return 0;
}

static int set_str(fc_conf *c, const fc_conf_key *k, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if ((int64_t)n > k->max || n >= k->width) {
        snprintf(err, errlen, "%s is too long (max %" PRId64 " bytes)", k->name, k->max);
        return -1;
    }
    memcpy(field(c, k), v, n + 1);
    return 0;
}

static bool is_ip(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* "a b c": the whole list is replaced, or nothing changes. */
static int set_bind(fc_conf *c, const fc_conf_key *k, const char *v, char *err, size_t errlen)
{
    (void)k;
    char list[FC_CONF_MAX_BIND][FC_CONF_STR];
    int n = 0;
    for (const char *p = v + strspn(v, " \t"); *p; p += strspn(p, " \t")) {
        size_t len = strcspn(p, " \t");
        if (n == FC_CONF_MAX_BIND) {
            snprintf(err, errlen, "too many bind addresses (max %d)", FC_CONF_MAX_BIND);
            return -1;
        }
        if (len >= FC_CONF_STR) {
            snprintf(err, errlen, "bind address is too long (max %d bytes)", FC_CONF_STR - 1);
            return -1;
        }
        memcpy(list[n], p, len);
        list[n][len] = '\0';
        if (!is_ip(list[n])) {
            snprintf(err, errlen, "invalid bind address '%s' (expected an IPv4 or IPv6 address)",
                     list[n]);
            return -1;
        }
        n++;
        p += len;
    }
    memcpy(c->bind, list, sizeof(list[0]) * (size_t)n);
    c->nbind = n;
    return 0;
}

static int set_enum(fc_conf *c, const fc_conf_key *k, const char *v, char *err, size_t errlen)
{
    for (int i = 0; k->names[i]; i++) {
        if (strcasecmp(v, k->names[i]) == 0) {
            store_int(c, k, i);
            return 0;
        }
    }
    size_t used = (size_t)snprintf(err, errlen, "unknown %s '%s' (expected ", k->name, v);
    for (int i = 0; k->names[i] && used < errlen; i++) {
        const char *sep = i == 0 ? "" : k->names[i + 1] ? ", " : " or ";
        used += (size_t)snprintf(err + used, errlen - used, "%s%s", sep, k->names[i]);
    }
    if (used < errlen)
        snprintf(err + used, errlen - used, ")");
    return -1;
}

/* unixsocketperm: octal digits as Redis's unixsocketperm (e.g. 700 or 0770). */
static int set_octal(fc_conf *c, const fc_conf_key *k, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    int64_t x = 0;
    if (n == 0 || n > 12 || strspn(v, "01234567") != n) {
        snprintf(err, errlen, "invalid %s '%s' (expected octal permissions such as 700 or 0770)",
                 k->name, v);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        x = x * 8 + (v[i] - '0');
    if (x < k->min || x > k->max) {
        snprintf(err, errlen, "%s must be between 0 and 0777 (got %s)", k->name, v);
        return -1;
    }
    store_int(c, k, x);
    return 0;
}

/* ---- printers -------------------------------------------------------------------------- */

static void print_octal(const fc_conf *c, const fc_conf_key *k, char *out, size_t len)
{
    snprintf(out, len, "%04" PRIo64, load_int(c, k));
}

static void print_int(const fc_conf *c, const fc_conf_key *k, char *out, size_t len)
{
    snprintf(out, len, "%" PRId64, load_int(c, k));
}

static void print_ttl(const fc_conf *c, const fc_conf_key *k, char *out, size_t len)
{
    int64_t v = load_int(c, k);
    if (v == 0)
        snprintf(out, len, "none");
    else
        snprintf(out, len, "%" PRId64, v);
}

static void print_size(const fc_conf *c, const fc_conf_key *k, char *out, size_t len)
{
    int64_t v = load_int(c, k);
    if (v != 0 && v % 1073741824 == 0)
        snprintf(out, len, "%" PRId64 "gb", v / 1073741824);
    else if (v != 0 && v % 1048576 == 0)
        snprintf(out, len, "%" PRId64 "mb", v / 1048576);
    else if (v != 0 && v % 1024 == 0)
        snprintf(out, len, "%" PRId64 "kb", v / 1024);
    else
        snprintf(out, len, "%" PRId64, v);
}

static void print_str(const fc_conf *c, const fc_conf_key *k, char *out, size_t len)
{
    snprintf(out, len, "%.*s", (int)k->width, (const char *)cfield(c, k));
}

/* Secrets are masked: --test-config output is meant to be shown and pasted around. */
static void print_secret(const fc_conf *c, const fc_conf_key *k, char *out, size_t len)
{
    snprintf(out, len, "%s", *(const char *)cfield(c, k) ? "********" : "");
}

static void print_bind(const fc_conf *c, const fc_conf_key *k, char *out, size_t len)
{
    (void)k;
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < c->nbind && i < FC_CONF_MAX_BIND && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%.*s", i ? " " : "", FC_CONF_STR,
                                 c->bind[i]);
}

static void print_enum(const fc_conf *c, const fc_conf_key *k, char *out, size_t len)
{
    int64_t v = load_int(c, k);
    out[0] = '\0';
    for (int64_t i = 0; k->names[i]; i++)
        if (i == v)
            snprintf(out, len, "%s", k->names[i]);
}

/* ---- the table ------------------------------------------------------------------------- */

#define F(f) offsetof(fc_conf, f), sizeof(((fc_conf *)0)->f)

const fc_conf_key fc_conf_keys[] = {
    {"server", "bind", "--bind", "127.0.0.1", set_bind, print_bind, 0, 0, F(bind), NULL,
     "addresses to listen on, space separated"},
    {"server", "port", "--port", "6379", set_int, print_int, 0, 65535, F(port), NULL,
     "TCP port; 0 disables TCP"},
    {"server", "unixsocket", "--unixsocket", "", set_str, print_str, 0, 107, F(unixsocket),
     NULL, "Unix socket path; empty for none"},
    {"server", "maxclients", "--maxclients", "10000", set_int, print_int, 1, INT32_MAX,
     F(maxclients), NULL, "maximum simultaneous clients"},
    {"server", "timeout", "--timeout", "0", set_int, print_int, 0, INT32_MAX, F(timeout), NULL,
     "idle seconds before a client is closed; 0 never"},
    {"server", "loglevel", "--loglevel", "notice", set_enum, print_enum, 0, 3, F(loglevel),
     loglevel_names, "debug, verbose, notice or warning"},
    {"server", "databases", "--databases", "16", set_int, print_int, 1, 1024, F(databases), NULL,
     "number of databases (SELECT 0..n-1)"},
    {"server", "proto_max_bulk_len", "--proto-max-bulk-len", "512mb", set_size, print_size, 1,
     INT64_MAX, F(proto_max_bulk_len), NULL, "largest bulk string accepted"},
    {"server", "client_query_buffer_limit", "--client-query-buffer-limit", "1gb", set_size,
     print_size, 1, INT64_MAX, F(client_query_buffer_limit), NULL,
     "largest pending input per client"},
    {"server", "client_output_buffer_limit", "--client-output-buffer-limit", "256mb", set_size,
     print_size, 1, INT64_MAX, F(client_output_buffer_limit), NULL,
     "largest pending output per client; past it the client is closed"},
    {"server", "tcp_keepalive", "--tcp-keepalive", "300", set_int, print_int, 0, INT32_MAX,
     F(tcp_keepalive), NULL, "TCP keepalive interval in seconds; 0 off"},
    {"server", "pidfile", "--pidfile", "", set_str, print_str, 0, FC_CONF_STR - 1, F(pidfile),
     NULL, "file to write the process id to; empty for none"},
    {"server", "logfile", "--logfile", "", set_str, print_str, 0, FC_CONF_STR - 1, F(logfile),
     NULL, "log file (appended, reopened on SIGHUP); empty for stderr"},
    {"server", "requirepass", "--requirepass", "", set_str, print_secret, 0, FC_CONF_STR - 1,
     F(requirepass), NULL, "password clients must AUTH with; empty for none"},
    {"server", "protected_mode", "--protected-mode", "yes", set_enum, print_enum, 0, 1,
     F(protected_mode), yes_no_names,
     "yes: without requirepass, only loopback and unix socket clients are accepted"},
    {"server", "unixsocketperm", "--unixsocketperm", "0", set_octal, print_octal, 0, 0777,
     F(unixsocketperm), NULL, "octal permissions of the unix socket; 0 leaves them as created"},
    {"server", "rename_commands", "--rename-commands", "", fc_conf_set_renames,
     fc_conf_print_renames, 0, 0, F(renames), NULL,
     "cmd:newname or cmd:\"\" (disabled) for config flushall flushdb invalidate shutdown"},
    {"server", "invalidate_all", "--invalidate-all", "yes", set_enum, print_enum, 0, 1,
     F(invalidate_all), yes_no_names, "no: INVALIDATE * (whole keyspace) is refused"},
    {"cache", "driver", "--driver", "memory", set_enum, print_enum, 0, 1, F(driver),
     driver_names, "memory or redis"},
    {"cache", "ttl", "--ttl", "none", set_ttl, print_ttl, 0, INT32_MAX, F(ttl), NULL,
     "default TTL in seconds for writes without one; none or 0 for no expiry"},
    {"cache", "maxmemory", "--maxmemory", "0", set_size, print_size, 0, INT64_MAX, F(maxmemory),
     NULL, "memory limit of the memory driver (k/m/g suffixes); 0 for none"},
    {"cache", "maxmemory_policy", "--maxmemory-policy", "noeviction", set_enum, print_enum, 0, 7,
     F(maxmemory_policy), policy_names, "what a write does at maxmemory (Redis's policies)"},
    {"cache", "namespaces", "--namespaces", "", fc_conf_set_namespaces, fc_conf_print_namespaces,
     0, 0, F(namespaces), NULL, "key prefixes counted in INFO namespaces, comma separated"},
    {"cache", "namespaces_max", "--namespaces-max", "1024", set_int, print_int, 0, 65536,
     F(namespaces_max), NULL, "auto-detected namespaces (key up to its first ':') at most; 0 none"},
    {"redis", "host", "--redis-host", "localhost", set_str, print_str, 0, FC_CONF_STR - 1,
     F(redis_host), NULL, "upstream Redis host (driver redis)"},
    {"redis", "port", "--redis-port", "6379", set_int, print_int, 1, 65535, F(redis_port), NULL,
     "upstream Redis port"},
    {"redis", "db", "--redis-db", "0", set_int, print_int, 0, INT32_MAX, F(redis_db), NULL,
     "upstream Redis database"},
    {"redis", "password", "--redis-password", "", set_str, print_secret, 0, FC_CONF_STR - 1,
     F(redis_password), NULL, "upstream Redis password; empty for none"},
    {"redis", "unixsocket", "--redis-unixsocket", "", set_str, print_str, 0, 107,
     F(redis_unixsocket), NULL, "upstream Redis unix socket; overrides host and port"},
    {"redis", "connections", "--redis-connections", "2", set_int, print_int, 1, 64,
     F(redis_connections), NULL, "upstream connections per database and protocol"},
    {"redis", "key_prefix", "--redis-key-prefix", "", set_str, print_str, 0, FC_CONF_STR - 1,
     F(redis_key_prefix), NULL, "prefix added to every key upstream; empty for none"},
    {"redis", "connect_timeout_ms", "--redis-connect-timeout-ms", "1000", set_int, print_int, 1,
     INT32_MAX, F(redis_connect_timeout_ms), NULL, "upstream connect timeout in ms"},
    {"redis", "request_timeout_ms", "--redis-request-timeout-ms", "2000", set_int, print_int, 1,
     INT32_MAX, F(redis_request_timeout_ms), NULL, "upstream request timeout in ms"},
};

const size_t fc_conf_nkeys = sizeof(fc_conf_keys) / sizeof(fc_conf_keys[0]);

/* "ttl" has no rows: its keys are key prefixes (ttl.c). */
static const char *const sections[] = {"server", "cache", "redis", "ttl"};

const fc_conf_key *fc_conf_key_find(const char *section, const char *name)
{
    for (size_t i = 0; i < fc_conf_nkeys; i++)
        if (strcmp(fc_conf_keys[i].section, section) == 0 &&
            strcmp(fc_conf_keys[i].name, name) == 0)
            return &fc_conf_keys[i];
    return NULL;
}

const fc_conf_key *fc_conf_key_by_flag(const char *flag, size_t len)
{
    for (size_t i = 0; i < fc_conf_nkeys; i++)
        if (strlen(fc_conf_keys[i].flag) == len && memcmp(fc_conf_keys[i].flag, flag, len) == 0)
            return &fc_conf_keys[i];
    return NULL;
}

bool fc_conf_section_known(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if (strlen(sections[i]) == len && memcmp(sections[i], name, len) == 0)
            return true;
    return false;
}

size_t fc_conf_key_count(void)
{
    return fc_conf_nkeys;
}

bool fc_conf_key_at(size_t i, const char **section, const char **name)
{
    if (i >= fc_conf_nkeys)
        return false;
    *section = fc_conf_keys[i].section;
    *name = fc_conf_keys[i].name;
    return true;
}

/* ---- public entry points ---------------------------------------------------------------- */

void fc_conf_defaults(fc_conf *c)
{
    char err[FC_CONF_STR];
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < fc_conf_nkeys; i++)
        fc_conf_keys[i].set(c, &fc_conf_keys[i], fc_conf_keys[i].def, err, sizeof(err));
}

int fc_conf_set(fc_conf *c, const char *section, const char *key, const char *value, char *err,
                size_t errlen)
{
    if (!fc_conf_section_known(section, strlen(section))) {
        snprintf(err, errlen, "unknown section [%s]", section);
        return -1;
    }
    if (strcmp(section, "ttl") == 0)
        return fc_conf_set_ttl_prefix(c, key, strlen(key), value, err, errlen);
    const fc_conf_key *k = fc_conf_key_find(section, key);
    if (!k) {
        snprintf(err, errlen, "unknown key '%s' in section [%s]", key, section);
        return -1;
    }
    char buf[EXPAND_MAX];
    if (fc_conf_expand_env(value, buf, sizeof(buf), err, errlen) < 0)
        return -1;
    return k->set(c, k, buf, err, errlen);
}

int fc_conf_validate(const fc_conf *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < fc_conf_nkeys; i++) {
        const fc_conf_key *k = &fc_conf_keys[i];
        if (k->set == set_str || k->set == set_bind || k->set == fc_conf_set_renames ||
            k->set == fc_conf_set_namespaces)
            continue;
        char raw[32];
        int64_t v = load_int(c, k);
        snprintf(raw, sizeof(raw), "%" PRId64, v);
        if (range_check(k, v, raw, err, errlen) < 0)
            return -1;
    }
    if (c->nrenames < 0 || c->nrenames > FC_CONF_MAX_RENAMES) {
        snprintf(err, errlen, "nrenames must be between 0 and %d", FC_CONF_MAX_RENAMES);
        return -1;
    }
    if (fc_conf_validate_ttl(c, err, errlen) < 0)
        return -1;
    if (fc_conf_validate_namespaces(c, err, errlen) < 0)
        return -1;
    if (c->nbind < 0 || c->nbind > FC_CONF_MAX_BIND) {
        snprintf(err, errlen, "nbind must be between 0 and %d", FC_CONF_MAX_BIND);
        return -1;
    }
    if (c->port == 0 && c->unixsocket[0] == '\0') {
        snprintf(err, errlen, "nothing to listen on: port is 0 and unixsocket is not set");
        return -1;
    }
    if (c->port != 0 && c->nbind == 0) {
        snprintf(err, errlen, "bind is empty but port is %d (set bind, or port = 0)", c->port);
        return -1;
    }
    if (strnlen(c->unixsocket, sizeof(c->unixsocket)) > 107) {
        snprintf(err, errlen, "unixsocket is too long (max 107 bytes)");
        return -1;
    }
    if (c->driver == FC_DRIVER_REDIS && c->redis_host[0] == '\0') {
        snprintf(err, errlen, "driver is redis but [redis] host is empty");
        return -1;
    }
    if (c->driver == FC_DRIVER_REDIS && c->redis_db >= c->databases) {
        snprintf(err, errlen, "[redis] db %d is not below [server] databases (%d)", c->redis_db,
                 c->databases);
        return -1;
    }
    return 0;
}

/* Whether "name = val" reads back as val: the loader would cut it at " ;", trim its edges,
 * expand "${", or reject a line longer than it accepts (197 characters with Debian's inih). */
static bool reads_back(const char *name, const char *val)
{
    size_t n = strlen(val);
    if (strlen(name) + 3 + n > 197)
        return false;
    if (n && (strchr(" \t\r\n\f\v", val[0]) || strchr(" \t\r\n\f\v", val[n - 1])))
        return false;
    return !strstr(val, "${") && !strchr(val, '\n') && !strstr(val, " ;") && !strstr(val, "\t;");
}

void fc_conf_print(const fc_conf *c, FILE *out)
{
    fprintf(out, "; fastcached %s effective configuration", FC_VERSION);
    if (c->path[0])
        fprintf(out, " (file: %.*s)", (int)strcspn(c->path, "\r\n"), c->path);
    fputc('\n', out);
    const char *section = "";
    for (size_t i = 0; i < fc_conf_nkeys; i++) {
        const fc_conf_key *k = &fc_conf_keys[i];
        if (strcmp(section, k->section) != 0) {
            fprintf(out, "%s[%s]\n", i ? "\n" : "", k->section);
            section = k->section;
        }
        char val[EXPAND_MAX + FC_CONF_MAX_BIND];
        k->print(c, k, val, sizeof(val));
        if (!reads_back(k->name, val))
            fprintf(out, "; warning: the next value will not read back exactly\n");
        fprintf(out, "%s =%s%s\n", k->name, val[0] ? " " : "", val);
    }
    fc_conf_print_ttl(c, out);
}

const char *fc_conf_driver_name(fc_driver d)
{
    return (unsigned)d < 2 ? driver_names[d] : "unknown";
}

const char *fc_conf_loglevel_name(fc_loglevel l)
{
    return (unsigned)l < 4 ? loglevel_names[l] : "unknown";
}

const char *fc_conf_maxmemory_policy_name(int p)
{
    return (unsigned)p < 8 ? policy_names[p] : "unknown";
}
