/*
 * Unit tests for server/util.c: Redis's strict integer rules, cursor parsing, the "human" long
 * double format of INCRBYFLOAT.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "server/util.h"

static bool ll(const char *s, long long *v)
{
    return fc_parse_ll(s, strlen(s), v);
}

Test(util, strict_integers_accept)
{
    long long v;
    cr_assert(ll("0", &v) && v == 0);
    cr_assert(ll("-1", &v) && v == -1);
    cr_assert(ll("9223372036854775807", &v) && v == INT64_MAX);
    cr_assert(ll("-9223372036854775808", &v) && v == INT64_MIN);
}

Test(util, strict_integers_reject_what_redis_rejects)
{
    const char *bad[] = {"", "+1", " 1", "1 ", "01", "-0", "1.0", "1e3", "-", "00",
                         "9223372036854775808", "-9223372036854775809", "123456789012345678901",
                         "abc", "0x10"};
    long long v;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(ll(bad[i], &v), "accepted '%s'", bad[i]);
    cr_assert_not(fc_parse_ll("1\0", 2, &v), "NUL inside");
}

Test(util, unsigned_range)
{
    unsigned long long v;
    cr_assert(fc_parse_ull("18446744073709551615", 20, &v) && v == UINT64_MAX);
    cr_assert_not(fc_parse_ull("18446744073709551616", 20, &v));
}

Test(util, long_double_parsing)
{
    long double v;
    cr_assert(fc_parse_ld("10.5", 4, &v) && v == 10.5L);
    cr_assert(fc_parse_ld("5.0e3", 5, &v) && v == 5000.0L);
    cr_assert_not(fc_parse_ld(" 1", 2, &v));
    cr_assert_not(fc_parse_ld("1 ", 2, &v));
    cr_assert_not(fc_parse_ld("nan", 3, &v));
    cr_assert_not(fc_parse_ld("", 0, &v));
    cr_assert_not(fc_parse_ld("abc", 3, &v));
}

static void expect_human(long double v, const char *want)
{
    char buf[5200];
    size_t n = fc_format_ld_human(buf, sizeof(buf), v);
    cr_assert_eq(n, strlen(want), "format of %Lg: got '%s' want '%s'", v, buf, want);
    cr_assert_str_eq(buf, want);
}

Test(util, long_double_human_format)
{
    expect_human(10.5L, "10.5");
    expect_human(3.0L, "3");
    expect_human(5000.0L, "5000");
    expect_human(-0.0L, "0");
    expect_human(0.1L, "0.1");
    expect_human(-1.5L, "-1.5");
}

Test(util, format_ll)
{
    char buf[24];
    cr_assert_eq(fc_format_ll(buf, INT64_MIN), 20);
    cr_assert_str_eq(buf, "-9223372036854775808");
    cr_assert_eq(fc_format_ll(buf, 0), 1);
    cr_assert_str_eq(buf, "0");
}

Test(util, eq_word_is_case_insensitive_and_exact)
{
    cr_assert(fc_eq_word("NX", 2, "nx"));
    cr_assert(fc_eq_word("nX", 2, "nx"));
    cr_assert_not(fc_eq_word("NXX", 3, "nx"));
    cr_assert_not(fc_eq_word("N", 1, "nx"));
}
