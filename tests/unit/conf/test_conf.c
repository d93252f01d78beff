/*
 * Unit tests for conf/: defaults, the INI dialect, every error message (with its line number),
 * ${ENV} expansion, flag precedence, validation, the --test-config round trip, and the example
 * file. Hermetic: environment variables are set in the test process (Criterion runs each test
 * in its own process), files are temporary files under /tmp.
 */
#include <criterion/criterion.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "tests/unit/support/conf_text.h"

#define ERRLEN 512

/* ---- helpers --------------------------------------------------------------------------- */

/* Defaults, then text as "t.conf". Returns the load result; err holds the message. */
static int load(fc_conf *c, const char *text, char *err)
{
    fc_conf_defaults(c);
    err[0] = '\0';
    return fc_conf_load_string(c, "t.conf", text, err, ERRLEN);
}

/* Expects text to fail with exactly want. */
static void load_fails(const char *text, const char *want)
{
    fc_conf c;
    char err[ERRLEN];
    cr_assert_eq(load(&c, text, err), -1, "accepted: %s", text);
    cr_assert_str_eq(err, want);
}

/* Writes text to a new temporary file; path receives its name. */
static void write_tmp(char path[64], const char *text)
{
    strcpy(path, "/tmp/fc_conf_test_XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* fc_conf_from_args with a NULL-terminated list of words after the program name. */
static int args(fc_conf *c, fc_conf_action *action, char *err, ...)
{
    char *argv[32] = {"fastcached"};
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    err[0] = '\0';
    return fc_conf_from_args(c, argc, argv, action, err, ERRLEN);
}

static void args_fail(const char *want, ...)
{
    char *argv[32] = {"fastcached"};
    int argc = 1;
    va_list ap;
    va_start(ap, want);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    fc_conf c;
    fc_conf_action action;
    char err[ERRLEN];
    cr_assert_eq(fc_conf_from_args(&c, argc, argv, &action, err, sizeof(err)), -1);
    cr_assert_str_eq(err, want);
}

/* Field-by-field equality (unused bind slots and path are ignored). */
static void assert_same(const fc_conf *a, const fc_conf *b, bool with_password)
{
    cr_assert_eq(a->nbind, b->nbind);
    for (int i = 0; i < a->nbind; i++)
        cr_assert_str_eq(a->bind[i], b->bind[i]);
    cr_assert_eq(a->port, b->port);
    cr_assert_str_eq(a->unixsocket, b->unixsocket);
    cr_assert_eq(a->maxclients, b->maxclients);
    cr_assert_eq(a->timeout, b->timeout);
    cr_assert_eq(a->loglevel, b->loglevel);
    cr_assert_eq(a->databases, b->databases);
    cr_assert_eq(a->proto_max_bulk_len, b->proto_max_bulk_len);
    cr_assert_eq(a->client_query_buffer_limit, b->client_query_buffer_limit);
    cr_assert_eq(a->driver, b->driver);
    cr_assert_eq(a->ttl, b->ttl);
    cr_assert_str_eq(a->redis_host, b->redis_host);
    cr_assert_eq(a->redis_port, b->redis_port);
    cr_assert_eq(a->redis_db, b->redis_db);
    if (with_password)
        cr_assert_str_eq(a->redis_password, b->redis_password);
}

/* ---- defaults -------------------------------------------------------------------------- */

Test(conf, defaults)
{
    fc_conf c;
    memset(&c, 0x5a, sizeof(c));
    fc_conf_defaults(&c);
    cr_assert_eq(c.nbind, 1);
    cr_assert_str_eq(c.bind[0], "127.0.0.1");
    cr_assert_eq(c.port, 6379);
    cr_assert_str_eq(c.unixsocket, "");
    cr_assert_eq(c.maxclients, 10000);
    cr_assert_eq(c.timeout, 0);
    cr_assert_eq(c.loglevel, FC_LOG_NOTICE);
    cr_assert_eq(c.databases, 16);
    cr_assert_eq(c.proto_max_bulk_len, 512ull * 1024 * 1024);
    cr_assert_eq(c.client_query_buffer_limit, 1024ull * 1024 * 1024);
    cr_assert_eq(c.driver, FC_DRIVER_MEMORY);
    cr_assert_eq(c.ttl, 0);
    cr_assert_str_eq(c.redis_host, "localhost");
    cr_assert_eq(c.redis_port, 6379);
    cr_assert_eq(c.redis_db, 0);
    cr_assert_str_eq(c.redis_password, "");
    cr_assert_str_eq(c.path, "");
    char err[ERRLEN];
    cr_assert_eq(fc_conf_validate(&c, err, sizeof(err)), 0, "%s", err);
}

Test(conf, names)
{
    cr_assert_str_eq(fc_conf_driver_name(FC_DRIVER_MEMORY), "memory");
    cr_assert_str_eq(fc_conf_driver_name(FC_DRIVER_REDIS), "redis");
    cr_assert_str_eq(fc_conf_loglevel_name(FC_LOG_DEBUG), "debug");
    cr_assert_str_eq(fc_conf_loglevel_name(FC_LOG_VERBOSE), "verbose");
    cr_assert_str_eq(fc_conf_loglevel_name(FC_LOG_NOTICE), "notice");
    cr_assert_str_eq(fc_conf_loglevel_name(FC_LOG_WARNING), "warning");
    cr_assert_str_eq(fc_conf_loglevel_name((fc_loglevel)9), "unknown");
}

Test(conf, key_table)
{
    const char *s, *n;
    cr_assert_eq(fc_conf_key_count(), 33);
    cr_assert(fc_conf_key_at(0, &s, &n));
    cr_assert_str_eq(s, "server");
    cr_assert_str_eq(n, "bind");
    cr_assert(fc_conf_key_at(32, &s, &n));
    cr_assert_str_eq(s, "redis");
    cr_assert_str_eq(n, "request_timeout_ms");
    cr_assert_not(fc_conf_key_at(33, &s, &n));
}

Test(conf, maxmemory_keys)
{
    fc_conf c;
    char err[ERRLEN];
    fc_conf_defaults(&c);
    cr_assert_eq(c.maxmemory, 0);
    cr_assert_str_eq(fc_conf_maxmemory_policy_name(c.maxmemory_policy), "noeviction");
    cr_assert_eq(fc_conf_set(&c, "cache", "maxmemory", "4mb", err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.maxmemory, 4 * 1048576);
    cr_assert_eq(fc_conf_set(&c, "cache", "maxmemory", "2g", err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.maxmemory, 2000000000);
    cr_assert_eq(fc_conf_set(&c, "cache", "maxmemory_policy", "volatile-ttl", err, sizeof(err)),
                 0);
    cr_assert_str_eq(fc_conf_maxmemory_policy_name(c.maxmemory_policy), "volatile-ttl");
    cr_assert_eq(fc_conf_set(&c, "cache", "maxmemory_policy", "lru", err, sizeof(err)), -1);
    cr_assert(strstr(err, "unknown maxmemory_policy 'lru' (expected noeviction, allkeys-lru"),
              "%s", err);
    cr_assert_eq(fc_conf_set(&c, "cache", "maxmemory", "-1", err, sizeof(err)), -1);
    cr_assert_str_eq(fc_conf_maxmemory_policy_name(99), "unknown");
}

/* ---- good files ------------------------------------------------------------------------ */

Test(conf, every_key)
{
    fc_conf c;
    char err[ERRLEN];
    int rc = load(&c,
                  "[server]\n"
                  "bind = 0.0.0.0 ::1\n"
                  "port = 7000\n"
                  "unixsocket = /tmp/fc.sock\n"
                  "maxclients = 50\n"
                  "timeout = 300\n"
                  "loglevel = debug\n"
                  "databases = 4\n"
                  "proto_max_bulk_len = 1mb\n"
                  "client_query_buffer_limit = 64kb\n"
                  "[cache]\n"
                  "driver = redis\n"
                  "ttl = 3600\n"
                  "[redis]\n"
                  "host = cache.example\n"
                  "port = 6380\n"
                  "db = 3\n"
                  "password = s3cret\n",
                  err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(c.nbind, 2);
    cr_assert_str_eq(c.bind[0], "0.0.0.0");
    cr_assert_str_eq(c.bind[1], "::1");
    cr_assert_eq(c.port, 7000);
    cr_assert_str_eq(c.unixsocket, "/tmp/fc.sock");
    cr_assert_eq(c.maxclients, 50);
    cr_assert_eq(c.timeout, 300);
    cr_assert_eq(c.loglevel, FC_LOG_DEBUG);
    cr_assert_eq(c.databases, 4);
    cr_assert_eq(c.proto_max_bulk_len, 1048576);
    cr_assert_eq(c.client_query_buffer_limit, 65536);
    cr_assert_eq(c.driver, FC_DRIVER_REDIS);
    cr_assert_eq(c.ttl, 3600);
    cr_assert_str_eq(c.redis_host, "cache.example");
    cr_assert_eq(c.redis_port, 6380);
    cr_assert_eq(c.redis_db, 3);
    cr_assert_str_eq(c.redis_password, "s3cret");
    cr_assert_eq(fc_conf_validate(&c, err, sizeof(err)), 0, "%s", err);
}

Test(conf, empty_text_keeps_defaults)
{
    fc_conf c, d;
    char err[ERRLEN];
    cr_assert_eq(load(&c, "", err), 0);
    cr_assert_eq(load(&c, "\n; only a comment\n\n", err), 0);
    fc_conf_defaults(&d);
    assert_same(&c, &d, true);
}

Test(conf, comments)
{
    fc_conf c;
    char err[ERRLEN];
    int rc = load(&c,
                  "; semicolon comment\n"
                  "# hash comment\n"
                  "[server]\n"
                  "port = 6380 ; inline comment\n"
                  "unixsocket = /tmp/a;b\n"
                  "[redis]\n"
                  "password = pa#ss #not a comment\n"
                  "host = h\t; tab before the semicolon\n"
                  "  # indented comment\n",
                  err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(c.port, 6380);
    cr_assert_str_eq(c.unixsocket, "/tmp/a;b");
    cr_assert_str_eq(c.redis_password, "pa#ss #not a comment");
    cr_assert_str_eq(c.redis_host, "h");
}

Test(conf, duplicates_last_wins)
{
    fc_conf c;
    char err[ERRLEN];
    int rc = load(&c,
                  "[server]\nport = 1\nbind = 10.0.0.1 10.0.0.2\n"
                  "[cache]\nttl = 5\n"
                  "[server]\nport = 2\nbind = 10.0.0.3\n",
                  err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(c.port, 2);
    cr_assert_eq(c.nbind, 1);
    cr_assert_str_eq(c.bind[0], "10.0.0.3");
    cr_assert_eq(c.ttl, 5);
}

Test(conf, indentation_colon_crlf_bom)
{
    fc_conf c;
    char err[ERRLEN];
    /* Indented keys are keys, not inih continuation lines. */
    int rc = load(&c, "  [server]\n    port = 7001\n\tbind = 10.1.1.1\n  timeout: 9\n", err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(c.port, 7001);
    cr_assert_str_eq(c.bind[0], "10.1.1.1");
    cr_assert_eq(c.timeout, 9);
    rc = load(&c, "\xEF\xBB\xBF[cache]\r\nttl = 7\r\n\r\n[redis]\r\nhost = h\r\n", err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(c.ttl, 7);
    cr_assert_str_eq(c.redis_host, "h");
}

Test(conf, value_syntax)
{
    fc_conf c;
    char err[ERRLEN];
    cr_assert_eq(load(&c, "[redis]\npassword = a=b:c\nhost=\"quoted\"\n", err), 0, "%s", err);
    cr_assert_str_eq(c.redis_password, "a=b:c");
    cr_assert_str_eq(c.redis_host, "\"quoted\"");
    cr_assert_eq(load(&c, "[server]\nloglevel = WARNING\n[cache]\ndriver = Redis\n", err), 0);
    cr_assert_eq(c.loglevel, FC_LOG_WARNING);
    cr_assert_eq(c.driver, FC_DRIVER_REDIS);
    cr_assert_eq(load(&c, "[server]\nunixsocket =\nport = 0\n", err), 0);
    cr_assert_str_eq(c.unixsocket, "");
    cr_assert_eq(c.port, 0);
}

Test(conf, sizes)
{
    static const struct {
        const char *text;
        uint64_t want;
    } ok[] = {
        {"1", 1},
        {"1000", 1000},
        {"1b", 1},
        {"2k", 2000},
        {"2kb", 2048},
        {"2K", 2000},
        {"2KB", 2048},
        {"3m", 3000000},
        {"3mb", 3145728},
        {"3Mb", 3145728},
        {"4g", 4000000000ull},
        {"4gb", 4294967296ull},
        {"4GB", 4294967296ull},
        {"9223372036854775807", 9223372036854775807ull},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        fc_conf c;
        char err[ERRLEN];
        fc_conf_defaults(&c);
        cr_assert_eq(fc_conf_set(&c, "server", "proto_max_bulk_len", ok[i].text, err, ERRLEN), 0,
                     "%s: %s", ok[i].text, err);
        cr_assert_eq(c.proto_max_bulk_len, ok[i].want, "%s", ok[i].text);
    }
    static const char *const bad[] = {"",    "mb",   "1.5mb", "-1", "1 mb", "10x", "+1",
                                      "1tb", "1kbb", "0x10",  " 1", "9223372036854775807kb",
                                      "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fc_conf c;
        char err[ERRLEN], want[ERRLEN];
        fc_conf_defaults(&c);
        cr_assert_eq(fc_conf_set(&c, "server", "client_query_buffer_limit", bad[i], err, ERRLEN),
                     -1, "%s", bad[i]);
        snprintf(want, sizeof(want),
                 "invalid client_query_buffer_limit '%s' (expected a size such as 1024, 64kb, "
                 "512mb or 1gb)",
                 bad[i]);
        cr_assert_str_eq(err, want);
        cr_assert_eq(c.client_query_buffer_limit, 1073741824, "unchanged after an error");
    }
    load_fails("[server]\nproto_max_bulk_len = 0\n",
               "t.conf:2: proto_max_bulk_len must be between 1 and 9223372036854775807 (got 0)");
}

Test(conf, ttl_values)
{
    fc_conf c;
    char err[ERRLEN];
    fc_conf_defaults(&c);
    cr_assert_eq(fc_conf_set(&c, "cache", "ttl", "3600", err, ERRLEN), 0);
    cr_assert_eq(c.ttl, 3600);
    cr_assert_eq(fc_conf_set(&c, "cache", "ttl", "none", err, ERRLEN), 0);
    cr_assert_eq(c.ttl, 0);
    cr_assert_eq(fc_conf_set(&c, "cache", "ttl", "5", err, ERRLEN), 0);
    cr_assert_eq(fc_conf_set(&c, "cache", "ttl", "NONE", err, ERRLEN), 0);
    cr_assert_eq(c.ttl, 0);
    cr_assert_eq(fc_conf_set(&c, "cache", "ttl", "0", err, ERRLEN), 0);
    cr_assert_eq(c.ttl, 0);
    cr_assert_eq(fc_conf_set(&c, "cache", "ttl", "2147483647", err, ERRLEN), 0);
    cr_assert_eq(c.ttl, 2147483647);
    load_fails("[cache]\nttl = -5\n",
               "t.conf:2: ttl must not be negative (got -5; use 0 or none for no expiry)");
    load_fails("[cache]\nttl = 1h\n",
               "t.conf:2: invalid ttl '1h' (expected a number of seconds or none)");
    load_fails("[cache]\nttl = 2147483648\n",
               "t.conf:2: ttl must be between 0 and 2147483647 (got 2147483648)");
}

Test(conf, bind_lists)
{
    fc_conf c;
    char err[ERRLEN];
    cr_assert_eq(load(&c, "[server]\nbind =   127.0.0.1 \t ::  fe80::1  \n", err), 0, "%s", err);
    cr_assert_eq(c.nbind, 3);
    cr_assert_str_eq(c.bind[0], "127.0.0.1");
    cr_assert_str_eq(c.bind[1], "::");
    cr_assert_str_eq(c.bind[2], "fe80::1");
    cr_assert_eq(load(&c, "[server]\nbind =\nport = 0\nunixsocket = /tmp/s\n", err), 0);
    cr_assert_eq(c.nbind, 0);
    cr_assert_eq(fc_conf_validate(&c, err, sizeof(err)), 0, "%s", err);

    char many[600] = "1.1.1.1";
    for (int i = 0; i < FC_CONF_MAX_BIND; i++)
        strcat(many, " 1.1.1.1");
    fc_conf_defaults(&c);
    cr_assert_eq(fc_conf_set(&c, "server", "bind", many, err, ERRLEN), -1);
    cr_assert_str_eq(err, "too many bind addresses (max 16)");
    cr_assert_eq(c.nbind, 1, "the list is unchanged after an error");
    cr_assert_str_eq(c.bind[0], "127.0.0.1");
    strrchr(many, ' ')[0] = '\0';
    cr_assert_eq(fc_conf_set(&c, "server", "bind", many, err, ERRLEN), 0, "%s", err);
    cr_assert_eq(c.nbind, 16);
    load_fails("[server]\nbind = 127.0.0.1 localhost\n",
               "t.conf:2: invalid bind address 'localhost' (expected an IPv4 or IPv6 address)");
    load_fails("[server]\nbind = 256.0.0.1\n",
               "t.conf:2: invalid bind address '256.0.0.1' (expected an IPv4 or IPv6 address)");
}

/* ---- errors ---------------------------------------------------------------------------- */

Test(conf, error_messages)
{
    load_fails("[server]\nport = 1\n[foo]\nx = 1\n", "t.conf:3: unknown section [foo]");
    load_fails("[server]\n[nokeys]\n", "t.conf:2: unknown section [nokeys]");
    load_fails("[Server]\n", "t.conf:1: unknown section [Server]");
    load_fails("[server]\nport = 1\n\nfoo = 2\n", "t.conf:4: unknown key 'foo' in section [server]");
    load_fails("[cache]\nport = 1\n", "t.conf:2: unknown key 'port' in section [cache]");
    load_fails("[server]\nport = abc\n", "t.conf:2: invalid port 'abc' (expected an integer)");
    load_fails("[server]\nport =\n", "t.conf:2: invalid port '' (expected an integer)");
    load_fails("[server]\nport = 6379x\n", "t.conf:2: invalid port '6379x' (expected an integer)");
    load_fails("[server]\nport = 65536\n", "t.conf:2: port must be between 0 and 65535 (got 65536)");
    load_fails("[server]\nport = -1\n", "t.conf:2: port must be between 0 and 65535 (got -1)");
    load_fails("[redis]\nport = 0\n", "t.conf:2: port must be between 1 and 65535 (got 0)");
    load_fails("[server]\nmaxclients = 0\n",
               "t.conf:2: maxclients must be between 1 and 2147483647 (got 0)");
    load_fails("[server]\ndatabases = 1025\n",
               "t.conf:2: databases must be between 1 and 1024 (got 1025)");
    load_fails("[server]\ntimeout = 99999999999999999999\n",
               "t.conf:2: invalid timeout '99999999999999999999' (expected an integer)");
    load_fails("[cache]\ndriver = disk\n",
               "t.conf:2: unknown driver 'disk' (expected memory or redis)");
    load_fails("[server]\nloglevel = loud\n",
               "t.conf:2: unknown loglevel 'loud' (expected debug, verbose, notice or warning)");
    load_fails("port = 1\n", "t.conf:1: key 'port' is outside any section (put it under "
                             "[server], [cache] or [redis])");
    load_fails("[server]\nport 6379\n",
               "t.conf:2: syntax error (expected [section], key = value, or a comment)");
    load_fails("[server\nport = 1\n", "t.conf:1: missing ']' in section header");
    load_fails("[server]\n= 5\n", "t.conf:2: unknown key '' in section [server]");
}

Test(conf, first_error_wins)
{
    /* A syntax error (seen by inih) before a key error (seen by us), and the reverse. */
    load_fails("[server]\nnonsense\nport = x\n",
               "t.conf:2: syntax error (expected [section], key = value, or a comment)");
    load_fails("[server]\nport = x\nnonsense\n",
               "t.conf:2: invalid port 'x' (expected an integer)");
    load_fails("[server]\nport = 1\nport = x\n[bad]\n",
               "t.conf:3: invalid port 'x' (expected an integer)");
}

Test(conf, long_lines)
{
    char text[400], want[ERRLEN];
    /* 197 characters fit; 198 do not. */
    snprintf(text, sizeof(text), "[redis]\npassword = %0186d\n", 0);
    cr_assert_eq(strlen(strchr(text, '\n') + 1), 198);
    fc_conf c;
    char err[ERRLEN];
    cr_assert_eq(load(&c, text, err), 0, "%s", err);
    cr_assert_eq(strlen(c.redis_password), 186);
    snprintf(text, sizeof(text), "[redis]\npassword = %0187d\n", 0);
    snprintf(want, sizeof(want), "t.conf:2: line is too long (max 197 characters)");
    load_fails(text, want);
}

Test(conf, missing_file)
{
    fc_conf c;
    char err[ERRLEN];
    fc_conf_defaults(&c);
    cr_assert_eq(fc_conf_load_file(&c, "/nonexistent/x.conf", err, sizeof(err)), -1);
    cr_assert_str_eq(err, "cannot open config file '/nonexistent/x.conf': No such file or "
                          "directory");
}

Test(conf, load_file)
{
    char path[64], err[ERRLEN], want[ERRLEN];
    fc_conf c;
    write_tmp(path, "[server]\nport = 7777\n[cache]\nttl = 60\n");
    fc_conf_defaults(&c);
    int rc = fc_conf_load_file(&c, path, err, sizeof(err));
    unlink(path);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(c.port, 7777);
    cr_assert_eq(c.ttl, 60);
    cr_assert_str_eq(c.path, path);

    write_tmp(path, "[server]\n\n\n\nport = 99999\n");
    rc = fc_conf_load_file(&c, path, err, sizeof(err));
    unlink(path);
    cr_assert_eq(rc, -1);
    snprintf(want, sizeof(want), "%s:5: port must be between 0 and 65535 (got 99999)", path);
    cr_assert_str_eq(err, want);
}

Test(conf, nul_byte_in_file)
{
    char path[64] = "/tmp/fc_conf_test_XXXXXX", err[ERRLEN], want[ERRLEN];
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "[server]\nport = 1\0\n", 19), 19);
    close(fd);
    fc_conf c;
    fc_conf_defaults(&c);
    int rc = fc_conf_load_file(&c, path, err, sizeof(err));
    unlink(path);
    cr_assert_eq(rc, -1);
    snprintf(want, sizeof(want), "%s:2: line contains a NUL byte", path);
    cr_assert_str_eq(err, want);
}

Test(conf, set_errors)
{
    fc_conf c;
    char err[ERRLEN];
    fc_conf_defaults(&c);
    cr_assert_eq(fc_conf_set(&c, "nope", "port", "1", err, ERRLEN), -1);
    cr_assert_str_eq(err, "unknown section [nope]");
    cr_assert_eq(fc_conf_set(&c, "server", "prot", "1", err, ERRLEN), -1);
    cr_assert_str_eq(err, "unknown key 'prot' in section [server]");
    char big[300];
    memset(big, 'h', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_assert_eq(fc_conf_set(&c, "redis", "host", big, err, ERRLEN), -1);
    cr_assert_str_eq(err, "host is too long (max 255 bytes)");
    big[108] = '\0';
    cr_assert_eq(fc_conf_set(&c, "server", "unixsocket", big, err, ERRLEN), -1);
    cr_assert_str_eq(err, "unixsocket is too long (max 107 bytes)");
    big[107] = '\0';
    cr_assert_eq(fc_conf_set(&c, "server", "unixsocket", big, err, ERRLEN), 0);
    cr_assert_eq(strlen(c.unixsocket), 107);
}

/* ---- environment expansion ------------------------------------------------------------- */

Test(conf, expand_ok)
{
    setenv("FC_A", "alpha", 1);
    setenv("FC_EMPTY", "", 1);
    unsetenv("FC_UNSET");
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain", "plain"},
        {"", ""},
        {"${FC_A}", "alpha"},
        {"x${FC_A}y", "xalphay"},
        {"${FC_A}${FC_A}", "alphaalpha"},
        {"${FC_A:-dflt}", "alpha"},
        {"${FC_UNSET:-dflt}", "dflt"},
        {"${FC_UNSET:-}", ""},
        {"${FC_EMPTY}", ""},
        {"${FC_EMPTY:-dflt}", "dflt"},
        {"${FC_UNSET:-a b:c-d}", "a b:c-d"},
        {"${FC_UNSET:-${FC_A}", "${FC_A"},
        {"$FC_A", "$FC_A"},
        {"cost: $5", "cost: $5"},
        {"$", "$"},
        {"$${FC_A}", "$alpha"},
        {"a}b", "a}b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[FC_CONF_STR], err[ERRLEN] = "";
        cr_assert_eq(fc_conf_expand_env(cases[i].in, out, sizeof(out), err, sizeof(err)), 0,
                     "%s: %s", cases[i].in, err);
        cr_assert_str_eq(out, cases[i].want, "input %s", cases[i].in);
    }
}

Test(conf, expand_errors)
{
    unsetenv("FC_UNSET");
    setenv("FC_A", "alpha", 1);
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"${FC_UNSET}", "environment variable FC_UNSET is not set"},
        {"x ${FC_UNSET} y", "environment variable FC_UNSET is not set"},
        {"${FC_A", "unterminated '${' in value"},
        {"${", "unterminated '${' in value"},
        {"${FC_UNSET:-abc", "unterminated '${' in value"},
        {"${}", "invalid variable reference '${}' (expected ${NAME} or ${NAME:-default})"},
        {"${1X}", "invalid variable reference '${1X}' (expected ${NAME} or ${NAME:-default})"},
        {"${A B}", "invalid variable reference '${A B}' (expected ${NAME} or ${NAME:-default})"},
        {"${A-b}", "invalid variable reference '${A-b}' (expected ${NAME} or ${NAME:-default})"},
        {"${:-x}", "invalid variable reference '${:-x}' (expected ${NAME} or ${NAME:-default})"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[FC_CONF_STR], err[ERRLEN] = "";
        cr_assert_eq(fc_conf_expand_env(cases[i].in, out, sizeof(out), err, sizeof(err)), -1,
                     "%s", cases[i].in);
        cr_assert_str_eq(err, cases[i].want, "input %s", cases[i].in);
    }
}

Test(conf, expand_bounds)
{
    char out[8], err[ERRLEN];
    setenv("FC_SEVEN", "1234567", 1);
    cr_assert_eq(fc_conf_expand_env("${FC_SEVEN}", out, sizeof(out), err, sizeof(err)), 0);
    cr_assert_str_eq(out, "1234567");
    cr_assert_eq(fc_conf_expand_env("1234567", out, sizeof(out), err, sizeof(err)), 0);
    cr_assert_eq(fc_conf_expand_env("x${FC_SEVEN}", out, sizeof(out), err, sizeof(err)), -1);
    cr_assert_str_eq(err, "value is too long after ${} expansion (max 7 bytes)");
    cr_assert_eq(fc_conf_expand_env("12345678", out, sizeof(out), err, sizeof(err)), -1);
    cr_assert_str_eq(err, "value is too long after ${} expansion (max 7 bytes)");
    cr_assert_eq(fc_conf_expand_env("${FC_UNSET:-12345678}", out, sizeof(out), err, 8 + 64), -1);
}

Test(conf, expand_in_files)
{
    fc_conf c;
    char err[ERRLEN];
    setenv("FC_HOST", "db.internal", 1);
    setenv("FC_PORT", "6390", 1);
    unsetenv("FC_PASS");
    unsetenv("FC_NOPE");
    int rc = load(&c,
                  "[redis]\nhost = ${FC_HOST}\nport = ${FC_PORT:-6379}\n"
                  "password = ${FC_PASS:-}\n[server]\nbind = ${FC_BIND:-127.0.0.1 ::1}\n",
                  err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_str_eq(c.redis_host, "db.internal");
    cr_assert_eq(c.redis_port, 6390);
    cr_assert_str_eq(c.redis_password, "");
    cr_assert_eq(c.nbind, 2);
    load_fails("[redis]\n\nhost = ${FC_NOPE}\n",
               "t.conf:3: environment variable FC_NOPE is not set");
    load_fails("[redis]\nhost = ${FC_HOST\n", "t.conf:2: unterminated '${' in value");
    setenv("FC_PORT", "http", 1);
    load_fails("[redis]\nport = ${FC_PORT}\n",
               "t.conf:2: invalid port 'http' (expected an integer)");
    char big[400];
    memset(big, 'x', 300);
    big[300] = '\0';
    setenv("FC_BIG", big, 1);
    load_fails("[redis]\nhost = ${FC_BIG}\n", "t.conf:2: host is too long (max 255 bytes)");
}

/* ---- flags ----------------------------------------------------------------------------- */

Test(conf, flags_default_run)
{
    fc_conf c, d;
    fc_conf_action action = FC_CONF_HELP;
    char err[ERRLEN];
    cr_assert_eq(args(&c, &action, err, NULL), 0, "%s", err);
    cr_assert_eq(action, FC_CONF_RUN);
    fc_conf_defaults(&d);
    assert_same(&c, &d, true);
}

Test(conf, flags_every_listed_flag)
{
    fc_conf c;
    fc_conf_action action;
    char err[ERRLEN];
    int rc = args(&c, &action, err, "--port", "7000", "--bind", "0.0.0.0 ::1", "--driver",
                  "redis", "--ttl", "30", "--unixsocket", "/tmp/x.sock", "--loglevel", "warning",
                  "--redis-host", "up", "--redis-port=6390", "--redis-db", "2",
                  "--redis-password", "pw", "--maxclients", "9", "--timeout", "8",
                  "--databases", "7", "--proto-max-bulk-len", "2mb",
                  "--client-query-buffer-limit=3mb", NULL);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(action, FC_CONF_RUN);
    cr_assert_eq(c.port, 7000);
    cr_assert_eq(c.nbind, 2);
    cr_assert_eq(c.driver, FC_DRIVER_REDIS);
    cr_assert_eq(c.ttl, 30);
    cr_assert_str_eq(c.unixsocket, "/tmp/x.sock");
    cr_assert_eq(c.loglevel, FC_LOG_WARNING);
    cr_assert_str_eq(c.redis_host, "up");
    cr_assert_eq(c.redis_port, 6390);
    cr_assert_eq(c.redis_db, 2);
    cr_assert_str_eq(c.redis_password, "pw");
    cr_assert_eq(c.maxclients, 9);
    cr_assert_eq(c.timeout, 8);
    cr_assert_eq(c.databases, 7);
    cr_assert_eq(c.proto_max_bulk_len, 2097152);
    cr_assert_eq(c.client_query_buffer_limit, 3145728);
    cr_assert_eq(args(&c, &action, err, "--ttl", "none", NULL), 0);
    cr_assert_eq(c.ttl, 0);
}

Test(conf, flags_precedence)
{
    char path[64], err[ERRLEN];
    write_tmp(path, "[server]\nport = 7100\nloglevel = debug\n[cache]\nttl = 10\n");
    fc_conf c;
    fc_conf_action action;
    /* Flag before -c, flag after -c, --config=FILE: the flag wins either way. */
    int rc1 = args(&c, &action, err, "--port", "7200", "-c", path, NULL);
    fc_conf c1 = c;
    int rc2 = args(&c, &action, err, "--config", path, "--ttl", "20", NULL);
    fc_conf c2 = c;
    char eq[128];
    snprintf(eq, sizeof(eq), "--config=%s", path);
    int rc3 = args(&c, &action, err, "--ttl=30", eq, "--port=7300", "--port", "7301", NULL);
    unlink(path);
    cr_assert_eq(rc1, 0);
    cr_assert_eq(c1.port, 7200);              /* flag > file */
    cr_assert_eq(c1.ttl, 10);                 /* file > default */
    cr_assert_eq(c1.loglevel, FC_LOG_DEBUG);  /* file */
    cr_assert_eq(c1.databases, 16);           /* default */
    cr_assert_str_eq(c1.path, path);
    cr_assert_eq(rc2, 0);
    cr_assert_eq(c2.port, 7100);
    cr_assert_eq(c2.ttl, 20);
    cr_assert_eq(rc3, 0, "%s", err);
    cr_assert_eq(c.port, 7301, "the last of a repeated flag wins");
    cr_assert_eq(c.ttl, 30);
    cr_assert_eq(c.loglevel, FC_LOG_DEBUG);
}

Test(conf, flags_actions)
{
    fc_conf c;
    fc_conf_action action;
    char err[ERRLEN];
    cr_assert_eq(args(&c, &action, err, "--test-config", NULL), 0);
    cr_assert_eq(action, FC_CONF_TEST);
    cr_assert_eq(args(&c, &action, err, "--port", "1", "--test-config", NULL), 0);
    cr_assert_eq(action, FC_CONF_TEST);
    cr_assert_eq(c.port, 1);
    cr_assert_eq(args(&c, &action, err, "--version", NULL), 0);
    cr_assert_eq(action, FC_CONF_VERSION);
    cr_assert_eq(args(&c, &action, err, "--help", NULL), 0);
    cr_assert_eq(action, FC_CONF_HELP);
    cr_assert_eq(args(&c, &action, err, "-h", NULL), 0);
    cr_assert_eq(action, FC_CONF_HELP);
    /* --help short-circuits: the file named after it is not read. */
    cr_assert_eq(args(&c, &action, err, "--help", "-c", "/nonexistent", NULL), 0);
    cr_assert_eq(action, FC_CONF_HELP);
    cr_assert_eq(args(&c, &action, err, NULL), 0);
    cr_assert_eq(action, FC_CONF_RUN, "no state left from the previous calls");
}

Test(conf, flag_errors)
{
    args_fail("--port: invalid port 'abc' (expected an integer)", "--port", "abc", NULL);
    args_fail("--port: port must be between 0 and 65535 (got 70000)", "--port=70000", NULL);
    args_fail("--port: missing value", "--port", NULL);
    args_fail("-c: missing value", "-c", NULL);
    args_fail("--config: missing value", "--port", "1", "--config", NULL);
    args_fail("--bogus: unknown option (see --help)", "--bogus", NULL);
    args_fail("--bogus: unknown option (see --help)", "--bogus=1", NULL);
    args_fail("-x: unknown option (see --help)", "-x", NULL);
    args_fail("--: unknown option (see --help)", "--", NULL);
    args_fail("unexpected argument 'extra' (see --help)", "--port", "1", "extra", NULL);
    args_fail("--help: takes no value", "--help=yes", NULL);
    args_fail("--test-config: takes no value", "--test-config=1", NULL);
    args_fail("--driver: unknown driver 'disk' (expected memory or redis)", "--driver", "disk",
              NULL);
    args_fail("--loglevel: unknown loglevel 'x' (expected debug, verbose, notice or warning)",
              "--loglevel=x", NULL);
    args_fail("--ttl: ttl must not be negative (got -1; use 0 or none for no expiry)", "--ttl",
              "-1", NULL);
    args_fail("cannot open config file '/nonexistent/f.conf': No such file or directory",
              "--port", "1", "-c", "/nonexistent/f.conf", NULL);
    unsetenv("FC_UNSET");
    args_fail("--redis-host: environment variable FC_UNSET is not set", "--redis-host",
              "${FC_UNSET}", NULL);
    /* The cross-key rules run on the merged result. */
    args_fail("nothing to listen on: port is 0 and unixsocket is not set", "--port", "0", NULL);
}

Test(conf, flag_error_in_file_has_location)
{
    char path[64], err[ERRLEN], want[ERRLEN];
    write_tmp(path, "[server]\nport = 1\n[cache]\ndriver = disk\n");
    fc_conf c;
    fc_conf_action action;
    int rc = args(&c, &action, err, "-c", path, "--driver", "memory", NULL);
    unlink(path);
    cr_assert_eq(rc, -1);
    snprintf(want, sizeof(want), "%s:4: unknown driver 'disk' (expected memory or redis)", path);
    cr_assert_str_eq(err, want);
}

/* ---- validation ------------------------------------------------------------------------ */

static void validate_fails(const fc_conf *c, const char *want)
{
    char err[ERRLEN];
    cr_assert_eq(fc_conf_validate(c, err, sizeof(err)), -1);
    cr_assert_str_eq(err, want);
}

Test(conf, validate_rules)
{
    fc_conf c;
    char err[ERRLEN];
    fc_conf_defaults(&c);
    c.port = 0;
    validate_fails(&c, "nothing to listen on: port is 0 and unixsocket is not set");
    strcpy(c.unixsocket, "/tmp/s.sock");
    cr_assert_eq(fc_conf_validate(&c, err, sizeof(err)), 0, "%s", err);

    fc_conf_defaults(&c);
    c.nbind = 0;
    validate_fails(&c, "bind is empty but port is 6379 (set bind, or port = 0)");

    fc_conf_defaults(&c);
    c.driver = FC_DRIVER_REDIS;
    cr_assert_eq(fc_conf_validate(&c, err, sizeof(err)), 0, "%s", err);
    c.redis_host[0] = '\0';
    validate_fails(&c, "driver is redis but [redis] host is empty");
    c.driver = FC_DRIVER_MEMORY;
    cr_assert_eq(fc_conf_validate(&c, err, sizeof(err)), 0, "host only matters for redis");

    fc_conf_defaults(&c);
    c.driver = FC_DRIVER_REDIS;
    c.redis_db = 16;
    validate_fails(&c, "[redis] db 16 is not below [server] databases (16)");
    c.databases = 17;
    cr_assert_eq(fc_conf_validate(&c, err, sizeof(err)), 0, "%s", err);

    /* Structs filled by hand are range-checked too. */
    fc_conf_defaults(&c);
    c.databases = 0;
    validate_fails(&c, "databases must be between 1 and 1024 (got 0)");
    fc_conf_defaults(&c);
    c.driver = (fc_driver)7;
    validate_fails(&c, "driver must be between 0 and 1 (got 7)");
    fc_conf_defaults(&c);
    c.ttl = -1;
    validate_fails(&c, "ttl must not be negative (got -1; use 0 or none for no expiry)");
    fc_conf_defaults(&c);
    c.nbind = 17;
    validate_fails(&c, "nbind must be between 0 and 16");
}

/* ---- printing -------------------------------------------------------------------------- */

Test(conf, print_round_trip)
{
    fc_conf c, back;
    char err[ERRLEN];
    int rc = load(&c,
                  "[server]\nbind = 10.0.0.1 ::1\nport = 7000\nunixsocket = /tmp/r.sock\n"
                  "maxclients = 12\ntimeout = 34\nloglevel = verbose\ndatabases = 3\n"
                  "proto_max_bulk_len = 1000\nclient_query_buffer_limit = 3k\n"
                  "[cache]\ndriver = redis\nttl = 99\n"
                  "[redis]\nhost = up.example\nport = 6390\ndb = 5\npassword = hunter2\n",
                  err);
    cr_assert_eq(rc, 0, "%s", err);
    char *text = conf_print_string(&c);
    cr_assert_null(strstr(text, "hunter2"), "the password is never printed");
    cr_assert_not_null(strstr(text, "\npassword = ********\n"));
    cr_assert_not_null(strstr(text, "\nclient_query_buffer_limit = 3000\n"));
    cr_assert_eq(load(&back, text, err), 0, "%s\n%s", err, text);
    assert_same(&c, &back, false);
    cr_assert_str_eq(back.redis_password, "********");
    free(text);

    fc_conf_defaults(&c);
    text = conf_print_string(&c);
    cr_assert_not_null(strstr(text, "\nttl = none\n"));
    cr_assert_not_null(strstr(text, "\nproto_max_bulk_len = 512mb\n"));
    cr_assert_not_null(strstr(text, "\nclient_query_buffer_limit = 1gb\n"));
    cr_assert_not_null(strstr(text, "\npassword =\n"));
    cr_assert_not_null(strstr(text, "\nunixsocket =\n"));
    cr_assert_eq(load(&back, text, err), 0, "%s\n%s", err, text);
    assert_same(&c, &back, true);
    free(text);
}

Test(conf, print_sizes_round_trip)
{
    static const char *const sizes[] = {"1", "1023", "1024", "1025", "1536k", "3mb",
                                        "5g",  "5gb", "7000000000"};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        fc_conf c, back;
        char err[ERRLEN];
        fc_conf_defaults(&c);
        cr_assert_eq(fc_conf_set(&c, "server", "proto_max_bulk_len", sizes[i], err, ERRLEN), 0);
        char *text = conf_print_string(&c);
        cr_assert_eq(load(&back, text, err), 0, "%s", err);
        cr_assert_eq(back.proto_max_bulk_len, c.proto_max_bulk_len, "%s", sizes[i]);
        free(text);
    }
}

Test(conf, print_warns_when_a_value_cannot_read_back)
{
    fc_conf c;
    char err[ERRLEN];
    setenv("FC_TRICKY", "a ;b", 1);
    fc_conf_defaults(&c);
    cr_assert_eq(fc_conf_set(&c, "redis", "host", "${FC_TRICKY}", err, ERRLEN), 0);
    cr_assert_str_eq(c.redis_host, "a ;b");
    char *text = conf_print_string(&c);
    cr_assert_not_null(strstr(text, "; warning: the next value will not read back exactly\n"
                                    "host = a ;b\n"));
    int warnings = 0;
    for (const char *p = text; (p = strstr(p, "; warning")) != NULL; p++)
        warnings++;
    cr_assert_eq(warnings, 1, "only the host line is flagged:\n%s", text);
    free(text);

    /* A line longer than the loader accepts. */
    char list[800] = "";
    for (int i = 0; i < FC_CONF_MAX_BIND; i++)
        strcat(list, i ? " 1111:2222:3333:4444:5555:6666:7777:8888" : "::1");
    fc_conf_defaults(&c);
    cr_assert_eq(fc_conf_set(&c, "server", "bind", list, err, ERRLEN), 0, "%s", err);
    text = conf_print_string(&c);
    cr_assert_not_null(strstr(text, "; warning: the next value will not read back exactly\n"
                                    "bind = ::1 1111:"));
    free(text);
}

/* Records every (section, key) an INI text sets; for checks against the key table. */
typedef struct {
    char keys[64][80];
    int n;
} key_set;

static int collect(void *user, const char *section, const char *name, const char *value)
{
    (void)value;
    key_set *ks = user;
    if (ks->n < 64)
        snprintf(ks->keys[ks->n++], sizeof(ks->keys[0]), "%s.%s", section, name);
    return 1;
}

static bool has_key(const key_set *ks, const char *section, const char *name)
{
    char want[80];
    snprintf(want, sizeof(want), "%s.%s", section, name);
    for (int i = 0; i < ks->n; i++)
        if (strcmp(ks->keys[i], want) == 0)
            return true;
    return false;
}

Test(conf, print_names_every_key)
{
    fc_conf c;
    fc_conf_defaults(&c);
    char *text = conf_print_string(&c);
    key_set ks = {.n = 0};
    cr_assert_eq(ini_parse_string(text, collect, &ks), 0);
    cr_assert_eq((size_t)ks.n, fc_conf_key_count());
    const char *s, *n;
    for (size_t i = 0; fc_conf_key_at(i, &s, &n); i++)
        cr_assert(has_key(&ks, s, n), "%s.%s missing", s, n);
    free(text);
}

Test(conf, usage_lists_flags)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fc_conf_usage(f, "fastcached");
    fclose(f);
    static const char *const want[] = {"Usage: fastcached", "--config", "--test-config",
                                       "--version", "--help", "--port", "--bind", "--driver",
                                       "--ttl", "--unixsocket", "--loglevel", "--redis-host"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_assert_not_null(strstr(buf, want[i]), "%s", want[i]);
    free(buf);
}

/* ---- the example file ------------------------------------------------------------------ */

/* The example at the repository root: from the working directory, or next to this file. */
static const char *example_path(void)
{
    static char path[512];
    const char *candidates[] = {"fastcached.conf.example", "../fastcached.conf.example",
                                "../../fastcached.conf.example"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
        if (access(candidates[i], R_OK) == 0)
            return candidates[i];
    /* The Makefile's binary is build/<cfg>/unit_tests: the root is two levels up. */
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 64);
    if (n > 0) {
        path[n] = '\0';
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(path, '/');
            if (slash)
                *slash = '\0';
        }
        strcat(path, "/fastcached.conf.example");
        if (access(path, R_OK) == 0)
            return path;
    }
    snprintf(path, sizeof(path), "%s", __FILE__);
    char *cut = strstr(path, "tests/unit/conf/test_conf.c");
    cr_assert_not_null(cut, "cannot locate fastcached.conf.example");
    strcpy(cut, "fastcached.conf.example");
    return path;
}

Test(conf, example_loads_as_defaults)
{
    unsetenv("REDIS_HOST");
    unsetenv("REDIS_PASSWORD");
    fc_conf c, d;
    char err[ERRLEN];
    fc_conf_defaults(&c);
    cr_assert_eq(fc_conf_load_file(&c, example_path(), err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(fc_conf_validate(&c, err, sizeof(err)), 0, "%s", err);
    fc_conf_defaults(&d);
    assert_same(&c, &d, true);

    setenv("REDIS_HOST", "redis.internal", 1);
    setenv("REDIS_PASSWORD", "pw", 1);
    fc_conf_defaults(&c);
    cr_assert_eq(fc_conf_load_file(&c, example_path(), err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.redis_host, "redis.internal");
    cr_assert_str_eq(c.redis_password, "pw");
}

Test(conf, example_names_every_key)
{
    key_set ks = {.n = 0};
    cr_assert_eq(ini_parse(example_path(), collect, &ks), 0);
    const char *s, *n;
    for (size_t i = 0; fc_conf_key_at(i, &s, &n); i++)
        cr_assert(has_key(&ks, s, n), "fastcached.conf.example does not set [%s] %s", s, n);
    cr_assert_eq((size_t)ks.n, fc_conf_key_count(), "each key once, and no other");
}

Test(conf, test_config_output_round_trip)
{
    char path[64], err[ERRLEN];
    setenv("FC_UPSTREAM", "10.9.8.7", 1);
    write_tmp(path, "[server]\nport = 7100\ndatabases = 2\n[cache]\ndriver = redis\n"
                    "[redis]\nhost = ${FC_UPSTREAM}\ndb = 1\n");
    fc_conf c, back;
    fc_conf_action action;
    int rc = args(&c, &action, err, "--test-config", "-c", path, "--ttl", "15", "--bind",
                  "0.0.0.0", NULL);
    unlink(path);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(action, FC_CONF_TEST);
    char *text = conf_print_string(&c);
    cr_assert_eq(load(&back, text, err), 0, "%s\n%s", err, text);
    assert_same(&c, &back, true);
    cr_assert_str_eq(back.redis_host, "10.9.8.7");
    cr_assert_eq(back.ttl, 15);
    cr_assert_eq(back.port, 7100);
    cr_assert_str_eq(back.bind[0], "0.0.0.0");
    free(text);
}
