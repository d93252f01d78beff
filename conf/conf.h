/*
 * conf — turns defaults + an INI file (with ${ENV} expansion) + command-line flags into a plain
 * struct fc_conf, or an error message.
 *
 * Precedence: flag > file > default. Every key lives in one table (conf.c) with its section,
 * type, bounds and setter, so the file and the flags share one validation path.
 *
 * Errors are written into a caller buffer as "file:line: message" (file errors) or
 * "--flag: message" (flag errors). Nothing here prints or exits; server/main.c does.
 */
#ifndef FC_CONF_CONF_H
#define FC_CONF_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FC_VERSION "0.1.0"
#define FC_CONF_MAX_BIND 16
#define FC_CONF_STR 256

typedef enum { FC_DRIVER_MEMORY = 0, FC_DRIVER_REDIS = 1 } fc_driver;
typedef enum { FC_LOG_DEBUG = 0, FC_LOG_VERBOSE, FC_LOG_NOTICE, FC_LOG_WARNING } fc_loglevel;

/* One entry of [server] rename_commands: `from` (lower case, one of the renamable commands)
 * answers as an unknown command; `to` (lower case) runs it instead, or "" = disabled. */
#define FC_CONF_MAX_RENAMES 8
#define FC_CONF_CMD_NAME 33 /* command names of at most 32 bytes, NUL-terminated */
typedef struct fc_conf_rename {
    char from[FC_CONF_CMD_NAME];
    char to[FC_CONF_CMD_NAME];
} fc_conf_rename;

/* One entry of the [ttl] section: keys starting with prefix[0..len) get ttl seconds as their
 * default TTL (0 = no expiry, whatever [cache] ttl says). The longest matching prefix wins. */
#define FC_CONF_MAX_TTL_PREFIXES 1024
#define FC_CONF_TTL_PREFIX_MAX 128 /* bytes */
typedef struct fc_conf_ttl_prefix {
    int64_t ttl;                           /* seconds, 0..INT32_MAX; 0 = none */
    size_t len;                            /* 1..FC_CONF_TTL_PREFIX_MAX */
    char prefix[FC_CONF_TTL_PREFIX_MAX + 1]; /* NUL-terminated (prefixes hold no NUL) */
} fc_conf_ttl_prefix;

/* One entry of [cache] namespaces: keys starting with prefix[0..len) are counted together in
 * INFO namespaces (the longest configured prefix wins, [ttl] prefixes count as configured). */
#define FC_CONF_MAX_NAMESPACES 64
typedef struct fc_conf_namespace {
    size_t len;                              /* 1..FC_CONF_TTL_PREFIX_MAX */
    char prefix[FC_CONF_TTL_PREFIX_MAX + 1]; /* NUL-terminated */
} fc_conf_namespace;

typedef struct fc_conf {
    /* [server] */
    char bind[FC_CONF_MAX_BIND][FC_CONF_STR]; /* "bind = 127.0.0.1 ::1": space separated */
    int nbind;
    int port;                    /* 0..65535; 0 disables TCP (then unixsocket is required) */
    char unixsocket[FC_CONF_STR]; /* empty: none */
    int64_t maxclients;          /* >= 1, default 10000 */
    int64_t timeout;             /* idle seconds before a client is closed; 0 = never */
    fc_loglevel loglevel;        /* debug | verbose | notice | warning */
    int databases;               /* 1..1024, default 16 */
    uint64_t proto_max_bulk_len; /* default 512mb; k/m/g suffixes */
    uint64_t client_query_buffer_limit; /* default 1gb */
    uint64_t client_output_buffer_limit; /* default 256mb; pending replies past it close a client */
    int64_t tcp_keepalive;       /* SO_KEEPALIVE interval in seconds; 0 = off; default 300 */
    char pidfile[FC_CONF_STR];   /* written at start, removed at exit; empty: none */
    char logfile[FC_CONF_STR];   /* log destination (append); empty: stderr */
    /* [server] access control (README "Security and limits") */
    char requirepass[FC_CONF_STR]; /* AUTH password of the default user; empty: none */
    int protected_mode;          /* 1 (yes): no requirepass => only loopback/unix clients */
    int unixsocketperm;          /* 0..0777: chmod of the unix socket; 0 = as created */
    fc_conf_rename renames[FC_CONF_MAX_RENAMES]; /* rename_commands, in the order given */
    int nrenames;
    int invalidate_all;          /* 1 (yes): INVALIDATE with an all-'*' pattern is allowed */
    /* [cache] */
    fc_driver driver;            /* memory | redis */
    int64_t ttl;                 /* default TTL seconds for writes without one; 0 = none */
    uint64_t maxmemory;          /* bytes the memory driver may hold; 0 = unbounded */
    int maxmemory_policy;        /* index into fc_conf_maxmemory_policy_name(); 0 noeviction */
    fc_conf_namespace namespaces[FC_CONF_MAX_NAMESPACES]; /* in the order given, no duplicates */
    int nnamespaces;
    int64_t namespaces_max;      /* auto-detected namespaces at most; 0 = no auto-detection */
    /* [redis] */
    char redis_host[FC_CONF_STR];
    int redis_port;
    int redis_db;
    char redis_password[FC_CONF_STR];
    char redis_unixsocket[FC_CONF_STR]; /* upstream unix socket; overrides host/port */
    int redis_connections;       /* upstream connections per (db, protocol), 1..64, default 2 */
    char redis_key_prefix[FC_CONF_STR]; /* prepended to every key upstream; "" for none */
    int64_t redis_connect_timeout_ms;   /* default 1000 */
    int64_t redis_request_timeout_ms;   /* default 2000 */
    /* [ttl]: default TTL per key prefix, in the order first given (a prefix given again keeps
     * its place and takes the new value). Not in the key table: see fc_conf_set_ttl_prefix. */
    fc_conf_ttl_prefix ttl_prefixes[FC_CONF_MAX_TTL_PREFIXES];
    int nttl_prefixes;
    /* Where the file was read from, for messages ("" when none). */
    char path[FC_CONF_STR];
} fc_conf;

typedef enum {
    FC_CONF_RUN,         /* start the daemon */
    FC_CONF_TEST,        /* --test-config: print the effective config and exit 0 */
    FC_CONF_VERSION,     /* --version */
    FC_CONF_HELP,        /* --help */
} fc_conf_action;

/* Fills c with the defaults. */
void fc_conf_defaults(fc_conf *c);

/* Loads an INI file over c. Returns 0, or -1 with "path:line: message" in err. */
int fc_conf_load_file(fc_conf *c, const char *path, char *err, size_t errlen);

/* Loads INI text (same rules; `name` is used in messages). For tests and the fuzzer. */
int fc_conf_load_string(fc_conf *c, const char *name, const char *text, char *err, size_t errlen);

/* Sets one key as the file would (section, key, raw value with ${ENV} already expanded or not:
 * expansion is applied here). Returns 0 or -1 with a message (no "file:line: " prefix). */
int fc_conf_set(fc_conf *c, const char *section, const char *key, const char *value, char *err,
                size_t errlen);

/* Sets the default TTL of the keys starting with prefix[0..len) ([ttl] section): value is a
 * number of seconds or none (expanded as fc_conf_set does). A prefix already present takes the
 * new value. Returns 0 or -1 with a message: empty or too long prefix, a NUL byte in it, too
 * many prefixes, or a bad value. fc_conf_set(c, "ttl", prefix, value, ...) calls this. */
int fc_conf_set_ttl_prefix(fc_conf *c, const char *prefix, size_t len, const char *value,
                           char *err, size_t errlen);

/* Expands ${NAME} and ${NAME:-default} in value into out. Returns 0, or -1 with a message
 * (unset variable without default, unterminated ${, result too long). */
int fc_conf_expand_env(const char *value, char *out, size_t outlen, char *err, size_t errlen);

/* Parses argv: defaults, then the -c/--config file, then flags over it. Returns 0 with *action
 * set, or -1 with a message in err. */
int fc_conf_from_args(fc_conf *c, int argc, char **argv, fc_conf_action *action, char *err,
                      size_t errlen);

/* Checks cross-key rules (e.g. port 0 needs a unixsocket). Returns 0 or -1 with a message. */
int fc_conf_validate(const fc_conf *c, char *err, size_t errlen);

/* Writes the effective configuration as an INI file that fc_conf_load_file accepts. */
void fc_conf_print(const fc_conf *c, FILE *out);

/* The --help text. */
void fc_conf_usage(FILE *out, const char *prog);

const char *fc_conf_driver_name(fc_driver d);
const char *fc_conf_loglevel_name(fc_loglevel l);
/* Redis's maxmemory-policy name for a [cache] maxmemory_policy value: noeviction, allkeys-lru,
 * volatile-lru, allkeys-lfu, volatile-lfu, allkeys-random, volatile-random, volatile-ttl. */
const char *fc_conf_maxmemory_policy_name(int p);

/* The key table, for tests and documentation: how many keys there are, and the section and key
 * name of key i (static strings). fc_conf_key_at returns false when i >= fc_conf_key_count(). */
size_t fc_conf_key_count(void);
bool fc_conf_key_at(size_t i, const char **section, const char **name);

#endif
