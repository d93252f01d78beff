/*
 * Unit tests for conf/ttl_table: longest-prefix match, the empty table, prefixes of prefixes,
 * binary-safe keys and prefixes, duplicates, and a brute-force comparison on random sets.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "conf/ttl_table.h"

#define R(s, ms) {s, sizeof(s) - 1, ms}

static int64_t look(const fc_ttl_table *t, const char *key, size_t len)
{
    int64_t ms = -7;
    return fc_ttl_table_lookup(t, key, len, &ms) ? ms : -1;
}

#define LOOK(t, s) look(t, s, sizeof(s) - 1)

Test(ttl_table, empty_table_matches_nothing)
{
    fc_ttl_table t;
    fc_ttl_table_init(&t);
    cr_assert_eq(LOOK(&t, "users:1"), -1);
    cr_assert_eq(look(&t, "", 0), -1);
    cr_assert_eq(fc_ttl_table_build(&t, NULL, 0), 0);
    cr_assert_eq(t.n, 0);
    cr_assert_eq(LOOK(&t, "x"), -1);
    fc_ttl_rule only_empty[] = {R("", 5)};
    cr_assert_eq(fc_ttl_table_build(&t, only_empty, 1), 0);
    cr_assert_eq(t.n, 0, "an empty prefix is skipped");
    cr_assert_eq(LOOK(&t, "x"), -1);
    fc_ttl_table_deinit(&t);
}

Test(ttl_table, longest_match_wins)
{
    fc_ttl_rule rules[] = {R("users:", 300000), R("session:", 1800000), R("config:", 0),
                           R("users:admin:", 60000), R("u", 1000)};
    fc_ttl_table t;
    cr_assert_eq(fc_ttl_table_build(&t, rules, 5), 0);
    cr_assert_eq(t.n, 5);
    cr_assert_eq(LOOK(&t, "users:1"), 300000);
    cr_assert_eq(LOOK(&t, "users:"), 300000, "a key equal to the prefix matches");
    cr_assert_eq(LOOK(&t, "users:admin:7"), 60000);
    cr_assert_eq(LOOK(&t, "users:admin"), 300000);
    cr_assert_eq(LOOK(&t, "users"), 1000);
    cr_assert_eq(LOOK(&t, "u"), 1000);
    cr_assert_eq(LOOK(&t, "session:x"), 1800000);
    cr_assert_eq(LOOK(&t, "config:y"), 0, "a match with no expiry is still a match");
    cr_assert_eq(LOOK(&t, "other"), -1);
    cr_assert_eq(LOOK(&t, "sess"), -1);
    cr_assert_eq(look(&t, "", 0), -1);
    fc_ttl_table_deinit(&t);
}

Test(ttl_table, prefix_of_another_prefix_and_walk_up)
{
    /* "ac" sorts after "abz": the binary search lands on "abz", the walk finds "a". */
    fc_ttl_rule rules[] = {R("abz", 3), R("a", 1), R("ab", 2), R("b:", 4), R("abzz", 5)};
    fc_ttl_table t;
    cr_assert_eq(fc_ttl_table_build(&t, rules, 5), 0);
    cr_assert_eq(LOOK(&t, "ac"), 1);
    cr_assert_eq(LOOK(&t, "abc"), 2);
    cr_assert_eq(LOOK(&t, "abzy"), 3);
    cr_assert_eq(LOOK(&t, "abzzz"), 5);
    cr_assert_eq(LOOK(&t, "ab{"), 2, "after every ab... entry in byte order");
    cr_assert_eq(LOOK(&t, "b"), -1, "shorter than the prefix");
    cr_assert_eq(LOOK(&t, "b:1"), 4);
    cr_assert_eq(LOOK(&t, "c"), -1);
    cr_assert_eq(t.e[0].parent, -1);
    fc_ttl_table_deinit(&t);
}

Test(ttl_table, binary_safe_keys_and_prefixes)
{
    fc_ttl_rule rules[] = {{"a\0b", 3, 10}, {"a\0", 2, 20}, {"\xff\xfe", 2, 30}, {"\x80", 1, 40}};
    fc_ttl_table t;
    cr_assert_eq(fc_ttl_table_build(&t, rules, 4), 0);
    cr_assert_eq(look(&t, "a\0bc", 4), 10);
    cr_assert_eq(look(&t, "a\0c", 3), 20);
    cr_assert_eq(look(&t, "a", 1), -1);
    cr_assert_eq(look(&t, "a\1", 2), -1);
    cr_assert_eq(look(&t, "\xff\xfe\0", 3), 30);
    cr_assert_eq(look(&t, "\xff\xff", 2), -1);
    cr_assert_eq(look(&t, "\x80\x81", 2), 40, "bytes >= 0x80 sort as unsigned");
    cr_assert_eq(look(&t, "\x7f", 1), -1);
    fc_ttl_table_deinit(&t);
}

Test(ttl_table, later_duplicate_wins_and_copies_are_owned)
{
    char a[] = "dup:", b[] = "dup:";
    fc_ttl_rule rules[] = {{a, 4, 1}, R("x", 9), {b, 4, 2}};
    fc_ttl_table t;
    cr_assert_eq(fc_ttl_table_build(&t, rules, 3), 0);
    cr_assert_eq(t.n, 2);
    memset(a, 'z', 4);
    memset(b, 'z', 4);
    cr_assert_eq(LOOK(&t, "dup:1"), 2);
    cr_assert_eq(LOOK(&t, "zzzz"), -1, "the table holds its own copy");
    fc_ttl_table_deinit(&t);
    cr_assert_eq(t.n, 0);
    cr_assert_null(t.e);
}

/* Brute force: the longest rule that is a prefix of the key, later rules winning ties. */
static int64_t brute(const fc_ttl_rule *r, size_t n, const char *key, size_t len)
{
    int64_t best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].len > 0 && r[i].len <= len && memcmp(r[i].prefix, key, r[i].len) == 0 &&
            r[i].len >= best_len) {
            best = r[i].ttl_ms;
            best_len = r[i].len;
        }
    return best;
}

Test(ttl_table, random_sets_match_brute_force)
{
    unsigned seed = 12345;
    char pool[200][6];
    fc_ttl_rule rules[200];
    for (int round = 0; round < 50; round++) {
        size_t n = (size_t)(rand_r(&seed) % 200);
        for (size_t i = 0; i < n; i++) {
            size_t len = 1 + (size_t)(rand_r(&seed) % 5);
            for (size_t j = 0; j < len; j++)
                pool[i][j] = (char)("ab\0\xff"[rand_r(&seed) % 4]);
            rules[i] = (fc_ttl_rule){pool[i], len, (int64_t)i};
        }
        fc_ttl_table t;
        cr_assert_eq(fc_ttl_table_build(&t, rules, n), 0);
        for (int q = 0; q < 300; q++) {
            char key[8];
            size_t len = (size_t)(rand_r(&seed) % 8);
            for (size_t j = 0; j < len; j++)
                key[j] = (char)("ab\0\xff"[rand_r(&seed) % 4]);
            cr_assert_eq(look(&t, key, len), brute(rules, n, key, len), "round %d", round);
        }
        fc_ttl_table_deinit(&t);
    }
}

Test(ttl_table, from_conf_converts_seconds)
{
    static fc_conf c;
    char err[256];
    fc_conf_defaults(&c);
    cr_assert_eq(fc_conf_set(&c, "ttl", "users:", "300", err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(fc_conf_set(&c, "ttl", "config:", "none", err, sizeof(err)), 0, "%s", err);
    fc_ttl_table t;
    cr_assert_eq(fc_ttl_table_from_conf(&t, &c), 0);
    cr_assert_eq(LOOK(&t, "users:1"), 300000);
    cr_assert_eq(LOOK(&t, "config:y"), 0);
    cr_assert_eq(LOOK(&t, "session:x"), -1);
    fc_ttl_table_deinit(&t);
}
