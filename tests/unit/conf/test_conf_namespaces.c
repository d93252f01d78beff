/*
 * Unit tests for [cache] namespaces and namespaces_max (conf/namespaces.c, conf/conf.c): the
 * list syntax (commas and blanks, duplicates, ':' inside prefixes), every error message with its
 * line, the flags, validation of a struct filled by hand, and the --test-config round trip.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "tests/unit/support/conf_text.h"

#define ERRLEN CONF_ERRLEN

/* fc_conf is large: one static instance per test process. */
static fc_conf conf_a, conf_b;

static void assert_list(const fc_conf *c, const char *const *want, int n)
{
    cr_assert_eq(c->nnamespaces, n);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(c->namespaces[i].len, strlen(want[i]));
        cr_assert_str_eq(c->namespaces[i].prefix, want[i]);
    }
}

Test(conf_namespaces, defaults)
{
    fc_conf_defaults(&conf_a);
    cr_assert_eq(conf_a.nnamespaces, 0);
    cr_assert_eq(conf_a.namespaces_max, 1024);
}

Test(conf_namespaces, list_syntax)
{
    char err[ERRLEN];
    cr_assert_eq(conf_load(&conf_a,
                           "[cache]\n"
                           "namespaces = users:, session: users:admin:,,cart:42 ; comment\n"
                           "namespaces_max = 10\n",
                           err),
                 0, "%s", err);
    assert_list(&conf_a, (const char *const[]){"users:", "session:", "users:admin:", "cart:42"}, 4);
    cr_assert_eq(conf_a.namespaces_max, 10);
    /* Duplicates are kept once; tabs separate; prefixes may hold ':' and '='. */
    cr_assert_eq(conf_load(&conf_a, "[cache]\nnamespaces = a:,\tb=c:, a: , x\n", err), 0, "%s",
                 err);
    assert_list(&conf_a, (const char *const[]){"a:", "b=c:", "x"}, 3);
    /* Given again: the last line wins; empty clears. */
    cr_assert_eq(conf_load(&conf_a, "[cache]\nnamespaces = a:\nnamespaces = b:\n", err), 0);
    assert_list(&conf_a, (const char *const[]){"b:"}, 1);
    cr_assert_eq(conf_load(&conf_a, "[cache]\nnamespaces = a:\nnamespaces =\n", err), 0);
    cr_assert_eq(conf_a.nnamespaces, 0);
    cr_assert_eq(conf_load(&conf_a, "[cache]\nnamespaces_max = 0\n", err), 0);
    cr_assert_eq(conf_a.namespaces_max, 0);
}

Test(conf_namespaces, env_expansion)
{
    char err[ERRLEN];
    setenv("FC_TEST_NS", "tenant:, job:", 1);
    cr_assert_eq(
        conf_load(&conf_a, "[cache]\nnamespaces = ${FC_TEST_NS}, ${FC_NO_SUCH:-x:}\n", err), 0,
        "%s", err);
    assert_list(&conf_a, (const char *const[]){"tenant:", "job:", "x:"}, 3);
}

Test(conf_namespaces, errors)
{
    char longp[130];
    memset(longp, 'p', 129);
    longp[129] = '\0';
    /* Through ${ENV} (a literal this long would pass the 197-character line limit first). */
    setenv("FC_TEST_LONG", longp, 1);
    conf_load_fails("[cache]\nnamespaces = a:, ${FC_TEST_LONG}\n",
                    "t.conf:2: namespaces: prefix 'pppppppppppppppppppppppppppppppppppppppp...' is "
                    "too long (max 128 bytes)");
    char many[1024] = "[cache]\nnamespaces = ${FC_TEST_MANY}\n";
    char list[1024] = "";
    for (int i = 0; i < 65; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "n%d, ", i);
    setenv("FC_TEST_MANY", list, 1);
    conf_load_fails(many, "t.conf:2: namespaces: too many prefixes (max 64)");
    conf_load_fails("[cache]\nnamespaces_max = -1\n",
                    "t.conf:2: namespaces_max must be between 0 and 65536 (got -1)");
    conf_load_fails("[cache]\nnamespaces_max = 65537\n",
                    "t.conf:2: namespaces_max must be between 0 and 65536 (got 65537)");
    conf_load_fails("[cache]\nnamespaces_max = lots\n",
                    "t.conf:2: invalid namespaces_max 'lots' (expected an integer)");
    /* A failed set leaves the previous list. */
    char err[ERRLEN];
    cr_assert_eq(conf_load(&conf_a, "[cache]\nnamespaces = keep:\n", err), 0);
    cr_assert_eq(fc_conf_set(&conf_a, "cache", "namespaces", list, err, sizeof(err)), -1);
    assert_list(&conf_a, (const char *const[]){"keep:"}, 1);
}

Test(conf_namespaces, flags)
{
    char *argv[] = {"fastcached", "--namespaces", "a:, b:", "--namespaces-max=3", NULL};
    fc_conf_action action;
    char err[ERRLEN];
    cr_assert_eq(fc_conf_from_args(&conf_a, 4, argv, &action, err, sizeof(err)), 0, "%s", err);
    assert_list(&conf_a, (const char *const[]){"a:", "b:"}, 2);
    cr_assert_eq(conf_a.namespaces_max, 3);
}

Test(conf_namespaces, validate_checks_bounds_of_a_hand_filled_struct)
{
    char err[ERRLEN];
    fc_conf_defaults(&conf_a);
    cr_assert_eq(fc_conf_validate(&conf_a, err, sizeof(err)), 0, "%s", err);
    conf_a.nnamespaces = 65;
    cr_assert_eq(fc_conf_validate(&conf_a, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "nnamespaces must be between 0 and 64");
    conf_a.nnamespaces = 1;
    conf_a.namespaces[0].len = 0;
    cr_assert_eq(fc_conf_validate(&conf_a, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "[cache] namespaces entry 0 is out of bounds");
    conf_a.namespaces[0].len = 3;
    strcpy(conf_a.namespaces[0].prefix, "ab");
    cr_assert_eq(fc_conf_validate(&conf_a, err, sizeof(err)), -1, "len must match the string");
    conf_a.nnamespaces = 0;
    conf_a.namespaces_max = 70000;
    cr_assert_eq(fc_conf_validate(&conf_a, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "namespaces_max must be between 0 and 65536 (got 70000)");
}

Test(conf_namespaces, print_round_trip)
{
    char err[ERRLEN];
    cr_assert_eq(
        conf_load(&conf_a, "[cache]\nnamespaces = users:, a=b:, x\nnamespaces_max = 7\n", err), 0);
    char *buf = conf_print_string(&conf_a);
    cr_assert_not_null(strstr(buf, "\n[cache]\n"), "%s", buf);
    cr_assert_not_null(strstr(buf, "\nnamespaces = users:, a=b:, x\nnamespaces_max = 7\n"), "%s",
                       buf);
    cr_assert_eq(conf_load(&conf_b, buf, err), 0, "%s\n%s", err, buf);
    assert_list(&conf_b, (const char *const[]){"users:", "a=b:", "x"}, 3);
    cr_assert_eq(conf_b.namespaces_max, 7);
    free(buf);
    /* Defaults print as an empty list. */
    fc_conf_defaults(&conf_a);
    buf = conf_print_string(&conf_a);
    cr_assert_not_null(strstr(buf, "\nnamespaces =\nnamespaces_max = 1024\n"), "%s", buf);
    free(buf);
}
