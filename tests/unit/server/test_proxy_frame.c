/*
 * Unit tests for server/proxy_frame.c: requests re-encoded with a key prefix, glob patterns with
 * the prefix's special bytes escaped, and KEYS/SCAN replies with the prefix removed.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "server/proxy_frame.h"
#include "storage/glob.h"

static void expect(const fc_buf *b, const char *want, size_t n)
{
    cr_assert_eq(b->len, n, "got %zu bytes, want %zu", b->len, n);
    cr_assert(memcmp(b->data, want, n) == 0);
}

#define EXPECT(b, lit) expect(b, lit, sizeof(lit) - 1)

Test(proxy_frame, keys_are_prefixed_in_requests)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    fc_frame_begin(&b, 2);
    fc_frame_cstr(&b, "GET");
    fc_frame_key(&b, "svc:", 4, "users:1", 7);
    EXPECT(&b, "*2\r\n$3\r\nGET\r\n$11\r\nsvc:users:1\r\n");
    fc_buf_deinit(&b);
}

Test(proxy_frame, prefix_glob_bytes_are_escaped_in_patterns)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    fc_frame_pattern(&b, "a*[b]:", 6, "users:*", 7);
    EXPECT(&b, "$16\r\na\\*\\[b\\]:users:*\r\n");
    /* The escaped pattern matches our keys and not a look-alike tenant's. */
    const char *pat = "a\\*\\[b\\]:users:*";
    cr_assert(fc_glob_match(pat, strlen(pat), "a*[b]:users:1", 13, false));
    cr_assert_not(fc_glob_match(pat, strlen(pat), "aX[b]:users:1", 13, false));
    cr_assert_not(fc_glob_match(pat, strlen(pat), "ab:users:1", 10, false));
    fc_buf_deinit(&b);
}

Test(proxy_frame, keys_reply_is_unprefixed)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    const char r[] = "*2\r\n$7\r\nsvc:a:1\r\n$5\r\nsvc:b\r\n";
    cr_assert(fc_reply_strip_keys(&b, r, sizeof(r) - 1, 4));
    EXPECT(&b, "*2\r\n$3\r\na:1\r\n$1\r\nb\r\n");
    b.len = 0;
    cr_assert(fc_reply_strip_keys(&b, "*0\r\n", 4, 4));
    EXPECT(&b, "*0\r\n");
    fc_buf_deinit(&b);
}

Test(proxy_frame, scan_reply_keeps_cursor_and_unprefixes_keys)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    const char r[] = "*2\r\n$2\r\n17\r\n*1\r\n$5\r\nsvc:k\r\n";
    const char *cur;
    size_t clen, arr;
    cr_assert(fc_scan_split(r, sizeof(r) - 1, &cur, &clen, &arr));
    cr_assert_eq(clen, 2);
    cr_assert(memcmp(cur, "17", 2) == 0);
    cr_assert(fc_reply_strip_scan(&b, r, sizeof(r) - 1, 4));
    EXPECT(&b, "*2\r\n$2\r\n17\r\n*1\r\n$1\r\nk\r\n");
    b.len = 0;
    cr_assert_not(fc_reply_strip_scan(&b, "-ERR x\r\n", 8, 4));
    cr_assert_eq(b.len, 0);
    fc_buf_deinit(&b);
}
