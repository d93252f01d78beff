/*
 * Unit tests for the [ttl] section of the configuration (conf/ttl.c, conf/load.c): the line
 * syntax (':' in prefixes, quotes, inline comments, '=' in prefixes), every error message with
 * its line, the bounds, duplicates, printing and the --test-config round trip.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "tests/unit/support/conf_text.h"

#define ERRLEN 512

/* fc_conf is large with its [ttl] table: one static instance per test process. */
static fc_conf conf_a, conf_b;

static const fc_conf_ttl_prefix *find(const fc_conf *c, const char *prefix, size_t len)
{
    for (int i = 0; i < c->nttl_prefixes; i++)
        if (c->ttl_prefixes[i].len == len && memcmp(c->ttl_prefixes[i].prefix, prefix, len) == 0)
            return &c->ttl_prefixes[i];
    return NULL;
}

static int64_t ttl_of(const fc_conf *c, const char *prefix)
{
    const fc_conf_ttl_prefix *p = find(c, prefix, strlen(prefix));
    cr_assert_not_null(p, "no [ttl] entry '%s'", prefix);
    return p->ttl;
}

Test(conf_ttl, section_with_colons_none_and_cache_ttl)
{
    char err[ERRLEN];
    int rc = conf_load(&conf_a,
                       "[cache]\nttl = 60\n[ttl]\nusers: = 300\nsession:  =  1800\nconfig: = none\n"
                       "  zero: = 0\n; a comment\n# another\n\n[server]\nport = 7001\n",
                       err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(conf_a.ttl, 60);
    cr_assert_eq(conf_a.port, 7001, "sections after [ttl] are read by inih again");
    cr_assert_eq(conf_a.nttl_prefixes, 4);
    cr_assert_eq(ttl_of(&conf_a, "users:"), 300);
    cr_assert_eq(ttl_of(&conf_a, "session:"), 1800);
    cr_assert_eq(ttl_of(&conf_a, "config:"), 0);
    cr_assert_eq(ttl_of(&conf_a, "zero:"), 0);
    cr_assert_str_eq(conf_a.ttl_prefixes[0].prefix, "users:", "kept in the order given");
}

Test(conf_ttl, quotes_comments_equals_and_crlf)
{
    char err[ERRLEN];
    int rc = conf_load(&conf_a,
                       "[ttl]\r\n\"  padded \" = 5\r\nk=v: = 6 ; the last '=' splits\r\n"
                       "\";semi\" = NONE\r\n\"#hash\" = 7\r\na;b = 8\r\n\"x = 9\r\n",
                       err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(ttl_of(&conf_a, "  padded "), 5);
    cr_assert_eq(ttl_of(&conf_a, "k=v:"), 6);
    cr_assert_eq(ttl_of(&conf_a, ";semi"), 0);
    cr_assert_eq(ttl_of(&conf_a, "#hash"), 7);
    cr_assert_eq(ttl_of(&conf_a, "a;b"), 8, "';' not after a blank is not a comment");
    cr_assert_eq(ttl_of(&conf_a, "\"x"), 9, "an unbalanced quote is kept");
}

Test(conf_ttl, duplicates_last_wins_in_place)
{
    char err[ERRLEN];
    int rc = conf_load(&conf_a, "[ttl]\na: = 1\nb: = 2\n[cache]\nttl = 3\n[ttl]\na: = none\n", err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(conf_a.nttl_prefixes, 2);
    cr_assert_str_eq(conf_a.ttl_prefixes[0].prefix, "a:");
    cr_assert_eq(conf_a.ttl_prefixes[0].ttl, 0);
    cr_assert_eq(conf_a.ttl_prefixes[1].ttl, 2);
}

Test(conf_ttl, env_expansion_of_values)
{
    char err[ERRLEN];
    setenv("FC_USERS_TTL", "42", 1);
    unsetenv("FC_UNSET_TTL");
    int rc =
        conf_load(&conf_a, "[ttl]\nusers: = ${FC_USERS_TTL}\nx: = ${FC_UNSET_TTL:-none}\n", err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(ttl_of(&conf_a, "users:"), 42);
    cr_assert_eq(ttl_of(&conf_a, "x:"), 0);
}

Test(conf_ttl, error_messages_with_lines)
{
    conf_load_fails(
        "[ttl]\nusers: = soon\n",
        "t.conf:2: invalid ttl 'soon' for prefix 'users:' (expected a number of seconds "
        "or none)");
    conf_load_fails("[ttl]\n\nusers: = -5\n",
                    "t.conf:3: ttl for prefix 'users:' must not be negative (got -5; use 0 or none "
                    "for no expiry)");
    conf_load_fails("[ttl]\nusers: = 2147483648\n",
                    "t.conf:2: ttl for prefix 'users:' must be at most 2147483647 seconds (got "
                    "2147483648)");
    conf_load_fails("[ttl]\nusers: = 99999999999999999999999\n",
                    "t.conf:2: ttl for prefix 'users:' must be at most 2147483647 seconds (got "
                    "99999999999999999999999)");
    conf_load_fails("[ttl]\nusers: = \n",
                    "t.conf:2: invalid ttl '' for prefix 'users:' (expected a "
                    "number of seconds or none)");
    conf_load_fails("[ttl]\nusers:\n",
                    "t.conf:2: invalid [ttl] line (expected: prefix = seconds, or prefix = none)");
    conf_load_fails("[ttl]\n = 5\n", "t.conf:2: empty prefix in [ttl] (use [cache] ttl for the "
                                     "default of all keys)");
    conf_load_fails("[ttl]\n\"\" = 5\n", "t.conf:2: empty prefix in [ttl] (use [cache] ttl for the "
                                         "default of all keys)");
    conf_load_fails("[ttl]\nusers: = ${FC_NOT_SET_AT_ALL}\n",
                    "t.conf:2: environment variable FC_NOT_SET_AT_ALL is not set");
    conf_load_fails("[ttl]\na: = 1\n[ttlx]\n", "t.conf:3: unknown section [ttlx]");
}

Test(conf_ttl, prefix_length_bound)
{
    char text[400], err[ERRLEN];
    char p[FC_CONF_TTL_PREFIX_MAX + 2];
    memset(p, 'p', sizeof(p) - 1);
    p[FC_CONF_TTL_PREFIX_MAX] = '\0';
    snprintf(text, sizeof(text), "[ttl]\n%s = 1\n", p);
    cr_assert_eq(conf_load(&conf_a, text, err), 0, "%s", err);
    cr_assert_eq(conf_a.ttl_prefixes[0].len, FC_CONF_TTL_PREFIX_MAX);
    p[FC_CONF_TTL_PREFIX_MAX] = 'p';
    p[FC_CONF_TTL_PREFIX_MAX + 1] = '\0';
    snprintf(text, sizeof(text), "[ttl]\n%s = 1\n", p);
    cr_assert_eq(conf_load(&conf_a, text, err), -1);
    cr_assert_str_eq(err, "t.conf:2: [ttl] prefix "
                          "'pppppppppppppppppppppppppppppppppppppppp...' is too long (max 128 "
                          "bytes)");
}

Test(conf_ttl, entry_count_bound)
{
    char err[ERRLEN], name[16];
    fc_conf_defaults(&conf_a);
    for (int i = 0; i < FC_CONF_MAX_TTL_PREFIXES; i++) {
        snprintf(name, sizeof(name), "p%d:", i);
        cr_assert_eq(fc_conf_set(&conf_a, "ttl", name, "1", err, ERRLEN), 0, "%s", err);
    }
    cr_assert_eq(fc_conf_set(&conf_a, "ttl", "p7:", "2", err, ERRLEN), 0, "a known one updates");
    cr_assert_eq(fc_conf_set(&conf_a, "ttl", "one-more:", "1", err, ERRLEN), -1);
    cr_assert_str_eq(err, "too many [ttl] prefixes (max 1024)");
    cr_assert_eq(conf_a.nttl_prefixes, FC_CONF_MAX_TTL_PREFIXES);
    cr_assert_eq(ttl_of(&conf_a, "p7:"), 2);
    cr_assert_eq(fc_conf_validate(&conf_a, err, ERRLEN), 0, "%s", err);
    conf_a.nttl_prefixes = FC_CONF_MAX_TTL_PREFIXES + 1;
    cr_assert_eq(fc_conf_validate(&conf_a, err, ERRLEN), -1);
}

Test(conf_ttl, set_api_failure_leaves_entries_unchanged)
{
    char err[ERRLEN];
    fc_conf_defaults(&conf_a);
    cr_assert_eq(fc_conf_set_ttl_prefix(&conf_a, "a\0b", 3, "1", err, ERRLEN), -1);
    cr_assert_str_eq(err, "[ttl] prefix contains a NUL byte");
    cr_assert_eq(fc_conf_set(&conf_a, "ttl", "a:", "1", err, ERRLEN), 0);
    cr_assert_eq(fc_conf_set(&conf_a, "ttl", "a:", "x", err, ERRLEN), -1);
    cr_assert_eq(ttl_of(&conf_a, "a:"), 1);
    cr_assert_eq(conf_a.nttl_prefixes, 1);
}

Test(conf_ttl, print_round_trip)
{
    char err[ERRLEN];
    int rc = conf_load(&conf_a,
                       "[cache]\nttl = 60\n[ttl]\nusers: = 300\nconfig: = none\n\"  padded \" = 5\n"
                       "\";semi\" = 6\n\"\"q\" = 7\nk=v: = 8\n[redis]\nport = 6390\n",
                       err);
    cr_assert_eq(rc, 0, "%s", err);
    char *text = conf_print_string(&conf_a);
    cr_assert_not_null(strstr(text, "\n\n[ttl]\nusers: = 300\nconfig: = none\n"
                                    "\"  padded \" = 5\n\";semi\" = 6\n\"\"q\" = 7\nk=v: = 8\n"),
                       "%s", text);
    cr_assert_null(strstr(text, "warning"), "%s", text);
    cr_assert_eq(conf_load(&conf_b, text, err), 0, "%s\n%s", err, text);
    cr_assert_eq(conf_b.nttl_prefixes, conf_a.nttl_prefixes);
    for (int i = 0; i < conf_a.nttl_prefixes; i++) {
        cr_assert_eq(conf_b.ttl_prefixes[i].len, conf_a.ttl_prefixes[i].len);
        cr_assert_str_eq(conf_b.ttl_prefixes[i].prefix, conf_a.ttl_prefixes[i].prefix);
        cr_assert_eq(conf_b.ttl_prefixes[i].ttl, conf_a.ttl_prefixes[i].ttl);
    }
    cr_assert_eq(conf_b.redis_port, 6390);
    free(text);

    fc_conf_defaults(&conf_a);
    text = conf_print_string(&conf_a);
    cr_assert_null(strstr(text, "[ttl]"), "no section without entries");
    free(text);
}

Test(conf_ttl, print_warns_when_a_prefix_cannot_read_back)
{
    char err[ERRLEN];
    fc_conf_defaults(&conf_a);
    cr_assert_eq(fc_conf_set(&conf_a, "ttl", "a ;b", "1", err, ERRLEN), 0);
    char *text = conf_print_string(&conf_a);
    cr_assert_not_null(strstr(text, "; warning: the next value will not read back exactly\n"
                                    "a ;b = 1\n"),
                       "%s", text);
    free(text);
}
