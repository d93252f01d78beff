/*
 * Unit tests for protocol/resp_writer.c: exact bytes of every encoder in RESP2 and RESP3, the
 * hand-rolled integer conversion against snprintf, doubles as Redis 7.0.15 prints them (checked
 * against ZSCORE on a real redis-server), CR/LF sanitising, and all-or-nothing at the cap.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "protocol/resp_writer.h"

static fc_buf out;

static void setup(void)
{
    fc_buf_init(&out, 0);
}

static void teardown(void)
{
    fc_buf_deinit(&out);
}

#define EXPECT(lit)                                                                            \
    do {                                                                                       \
        cr_assert_eq(out.len, sizeof(lit) - 1, "got %zu bytes: %.*s", out.len, (int)out.len,   \
                     out.data);                                                                \
        cr_assert(memcmp(out.data, lit, sizeof(lit) - 1) == 0, "got %.*s", (int)out.len,       \
                  out.data);                                                                   \
        out.len = 0;                                                                           \
    } while (0)

TestSuite(resp_writer, .init = setup, .fini = teardown);

Test(resp_writer, simple_ok_error)
{
    cr_assert_eq(fc_resp_ok(&out), 0);
    EXPECT("+OK\r\n");
    cr_assert_eq(fc_resp_simple(&out, "PONG", 4), 0);
    EXPECT("+PONG\r\n");
    cr_assert_eq(fc_resp_simple(&out, "", 0), 0);
    EXPECT("+\r\n");
    cr_assert_eq(fc_resp_error(&out, "ERR syntax error", 16), 0);
    EXPECT("-ERR syntax error\r\n");
    cr_assert_eq(fc_resp_error(&out, "ERR a\r\nb", 8), 0);
    EXPECT("-ERR a  b\r\n");
    cr_assert_eq(fc_resp_simple(&out, "a\nb", 3), 0);
    EXPECT("+a b\r\n");
}

Test(resp_writer, errorf_formats_and_sanitises)
{
    cr_assert_eq(fc_resp_errorf(&out, "ERR unknown command '%s', with args beginning with: ",
                                "fo\r\no"),
                 0);
    EXPECT("-ERR unknown command 'fo  o', with args beginning with: \r\n");
    cr_assert_eq(fc_resp_errorf(&out, "WRONGTYPE %d", 42), 0);
    EXPECT("-WRONGTYPE 42\r\n");
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_assert_eq(fc_resp_errorf(&out, "ERR %s", big), 0);
    cr_assert_eq(out.len, 1 + 4 + 999 + 2);
    cr_assert(memcmp(out.data + out.len - 3, "x\r\n", 3) == 0);
}

Test(resp_writer, integers)
{
    cr_assert_eq(fc_resp_int(&out, 0), 0);
    EXPECT(":0\r\n");
    cr_assert_eq(fc_resp_int(&out, -1), 0);
    EXPECT(":-1\r\n");
    cr_assert_eq(fc_resp_int(&out, INT64_MAX), 0);
    EXPECT(":9223372036854775807\r\n");
    cr_assert_eq(fc_resp_int(&out, INT64_MIN), 0);
    EXPECT(":-9223372036854775808\r\n");
    cr_assert_eq(fc_resp_bulk_int(&out, -42), 0);
    EXPECT("$3\r\n-42\r\n");
    cr_assert_eq(fc_resp_bulk_int(&out, INT64_MIN), 0);
    EXPECT("$20\r\n-9223372036854775808\r\n");
}

/* Every power-of-ten boundary and a pseudo-random sweep must match snprintf's "%lld". */
Test(resp_writer, integers_match_snprintf)
{
    int64_t vals[200];
    size_t n = 0;
    int64_t pow10 = 1;
    for (int i = 0; i < 19; i++, pow10 = i < 19 ? pow10 * 10 : pow10) {
        vals[n++] = pow10 - 1;
        vals[n++] = pow10;
        vals[n++] = pow10 + 1;
        vals[n++] = -pow10;
        vals[n++] = -pow10 + 1;
    }
    uint64_t x = 0x9E3779B97F4A7C15ull;
    while (n < 200) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        vals[n++] = (int64_t)(x >> (x % 64));
    }
    for (size_t i = 0; i < n; i++) {
        char want[64];
        int wl = snprintf(want, sizeof(want), ":%" PRId64 "\r\n", vals[i]);
        cr_assert_eq(fc_resp_int(&out, vals[i]), 0);
        cr_assert_eq(out.len, (size_t)wl, "value %" PRId64, vals[i]);
        cr_assert(memcmp(out.data, want, (size_t)wl) == 0, "value %" PRId64, vals[i]);
        out.len = 0;
    }
}

Test(resp_writer, bulks)
{
    cr_assert_eq(fc_resp_bulk(&out, "a\r\n\0b", 5), 0);
    EXPECT("$5\r\na\r\n\0b\r\n");
    cr_assert_eq(fc_resp_bulk(&out, NULL, 0), 0);
    EXPECT("$0\r\n\r\n");
    cr_assert_eq(fc_resp_bulk_cstr(&out, "hello"), 0);
    EXPECT("$5\r\nhello\r\n");
    char big[12345];
    memset(big, 'z', sizeof(big));
    cr_assert_eq(fc_resp_bulk(&out, big, sizeof(big)), 0);
    cr_assert_eq(out.len, 8 + sizeof(big) + 2);
    cr_assert(memcmp(out.data, "$12345\r\nzz", 10) == 0);
    cr_assert(memcmp(out.data + out.len - 3, "z\r\n", 3) == 0);
}

/* The length is written digit by digit in place: every digit count from 1 to 6, at both ends. */
Test(resp_writer, bulk_length_digits)
{
    static char src[1000000];
    static const size_t lens[] = {1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000,
                                  999999};
    memset(src, 'v', sizeof(src));
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char head[16];
        int hn = snprintf(head, sizeof(head), "$%zu\r\n", lens[i]);
        cr_assert_eq(fc_resp_bulk(&out, src, lens[i]), 0);
        cr_assert_eq(out.len, (size_t)hn + lens[i] + 2, "len %zu", lens[i]);
        cr_assert(memcmp(out.data, head, (size_t)hn) == 0, "len %zu: %.*s", lens[i], hn,
                  out.data);
        cr_assert(memcmp(out.data + out.len - 3, "v\r\n", 3) == 0, "len %zu", lens[i]);
        out.len = 0;
    }
}

Test(resp_writer, nulls_and_aggregates)
{
    cr_assert_eq(fc_resp_null(&out, 2), 0);
    EXPECT("$-1\r\n");
    cr_assert_eq(fc_resp_null(&out, 3), 0);
    EXPECT("_\r\n");
    cr_assert_eq(fc_resp_null_array(&out, 2), 0);
    EXPECT("*-1\r\n");
    cr_assert_eq(fc_resp_null_array(&out, 3), 0);
    EXPECT("_\r\n");
    cr_assert_eq(fc_resp_array(&out, 0), 0);
    EXPECT("*0\r\n");
    cr_assert_eq(fc_resp_array(&out, 1234567), 0);
    EXPECT("*1234567\r\n");
    cr_assert_eq(fc_resp_map(&out, 3, 3), 0);
    EXPECT("%3\r\n");
    cr_assert_eq(fc_resp_map(&out, 3, 2), 0);
    EXPECT("*6\r\n");
    cr_assert_eq(fc_resp_set(&out, 4, 3), 0);
    EXPECT("~4\r\n");
    cr_assert_eq(fc_resp_set(&out, 4, 2), 0);
    EXPECT("*4\r\n");
}

Test(resp_writer, doubles_like_redis_7_0)
{
    cr_assert_eq(fc_resp_double(&out, 1.1, 3), 0);
    EXPECT(",1.1000000000000001\r\n");
    cr_assert_eq(fc_resp_double(&out, 1.1, 2), 0);
    EXPECT("$18\r\n1.1000000000000001\r\n");
    cr_assert_eq(fc_resp_double(&out, 5, 3), 0);
    EXPECT(",5\r\n");
    cr_assert_eq(fc_resp_double(&out, 0, 2), 0);
    EXPECT("$1\r\n0\r\n");
    cr_assert_eq(fc_resp_double(&out, 1e300, 3), 0);
    EXPECT(",1.0000000000000001e+300\r\n");
    cr_assert_eq(fc_resp_double(&out, -2.5, 2), 0);
    EXPECT("$4\r\n-2.5\r\n");
    cr_assert_eq(fc_resp_double(&out, INFINITY, 3), 0);
    EXPECT(",inf\r\n");
    cr_assert_eq(fc_resp_double(&out, -INFINITY, 3), 0);
    EXPECT(",-inf\r\n");
    cr_assert_eq(fc_resp_double(&out, INFINITY, 2), 0);
    EXPECT("$3\r\ninf\r\n");
    cr_assert_eq(fc_resp_double(&out, -INFINITY, 2), 0);
    EXPECT("$4\r\n-inf\r\n");
    cr_assert_eq(fc_resp_double(&out, NAN, 3), 0);
    EXPECT(",nan\r\n");
    cr_assert_eq(fc_resp_double(&out, NAN, 2), 0);
    EXPECT("$3\r\nnan\r\n");
}

Test(resp_writer, verbatim)
{
    cr_assert_eq(fc_resp_verbatim(&out, "a\r\nb", 4, 3), 0);
    EXPECT("=8\r\ntxt:a\r\nb\r\n");
    cr_assert_eq(fc_resp_verbatim(&out, "a\r\nb", 4, 2), 0);
    EXPECT("$4\r\na\r\nb\r\n");
    cr_assert_eq(fc_resp_verbatim(&out, "", 0, 3), 0);
    EXPECT("=4\r\ntxt:\r\n");
}

Test(resp_writer, all_or_nothing_at_cap)
{
    fc_buf b;
    fc_buf_init(&b, 16);
    cr_assert_eq(fc_resp_ok(&b), 0);
    cr_assert_eq(fc_resp_bulk(&b, "0123456789", 10), -ENOBUFS);
    cr_assert_eq(b.len, 5, "a failed reply must not leave a partial frame");
    cr_assert_eq(fc_resp_errorf(&b, "ERR %s", "too long for the cap"), -ENOBUFS);
    cr_assert_eq(fc_resp_verbatim(&b, "0123456789", 10, 3), -ENOBUFS);
    cr_assert_eq(b.len, 5);
    cr_assert(memcmp(b.data, "+OK\r\n", 5) == 0);
    fc_buf_deinit(&b);
}

/* Replies are reserved at their exact size, so a short reply fits into the last bytes. */
Test(resp_writer, exact_fit_at_cap)
{
    fc_buf b;
    fc_buf_init(&b, 12);
    cr_assert_eq(fc_resp_int(&b, 7), 0);
    cr_assert_eq(fc_resp_bulk(&b, "ab", 2), 0);
    cr_assert_eq(b.len, 4 + 8);
    cr_assert(memcmp(b.data, ":7\r\n$2\r\nab\r\n", 12) == 0);
    cr_assert_eq(fc_resp_array(&b, 1), -ENOBUFS);
    cr_assert_eq(b.len, 12);
    fc_buf_deinit(&b);
}
