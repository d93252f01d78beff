/*
 * Unit tests for protocol/buf.c: lazy allocation, growth by doubling, the hard cap (exact fit,
 * one byte over, size_t overflow), buffers left unchanged by failures, consume and shrink.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "protocol/buf.h"

Test(buf, init_allocates_nothing)
{
    fc_buf b;
    fc_buf_init(&b, 100);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
    cr_assert_eq(b.max, 100);
    cr_assert_eq(fc_buf_append(&b, "x", 0), 0);
    cr_assert_null(b.data, "an empty append must not allocate");
    fc_buf_deinit(&b);
    cr_assert_null(b.data);
}

Test(buf, append_and_growth_doubles)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    char chunk[100];
    memset(chunk, 'a', sizeof(chunk));
    size_t reallocs = 0, last_cap = 0;
    for (int i = 0; i < 1000; i++) {
        chunk[0] = (char)i;
        cr_assert_eq(fc_buf_append(&b, chunk, sizeof(chunk)), 0);
        if (b.cap != last_cap) {
            cr_assert(last_cap == 0 || b.cap >= 2 * last_cap, "grew %zu -> %zu", last_cap, b.cap);
            reallocs++;
            last_cap = b.cap;
        }
    }
    cr_assert_eq(b.len, 100000);
    cr_assert(reallocs <= 12, "%zu reallocations for 1000 appends", reallocs);
    cr_assert_eq(b.data[999 * 100], (char)999);
    cr_assert_eq(b.data[500 * 100 + 1], 'a');
    fc_buf_deinit(&b);
}

Test(buf, cap_is_exact_and_failures_leave_buffer_unchanged)
{
    fc_buf b;
    fc_buf_init(&b, 100);
    char data[101];
    memset(data, 'q', sizeof(data));
    cr_assert_eq(fc_buf_append(&b, data, 70), 0);
    cr_assert_leq(b.cap, 100, "doubling must stop at max");
    cr_assert_eq(fc_buf_append(&b, data, 31), -ENOBUFS);
    cr_assert_eq(b.len, 70);
    cr_assert_eq(fc_buf_append(&b, data, 30), 0, "exactly max fits");
    cr_assert_eq(b.len, 100);
    cr_assert_eq(b.cap, 100);
    cr_assert_eq(fc_buf_reserve(&b, 1), -ENOBUFS);
    cr_assert_eq(fc_buf_reserve(&b, 0), 0);
    cr_assert_eq(fc_buf_reserve(&b, SIZE_MAX), -ENOBUFS, "len + extra overflow");
    cr_assert_eq(b.len, 100);
    fc_buf_deinit(&b);
}

Test(buf, unlimited_rejects_overflow)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    cr_assert_eq(fc_buf_append(&b, "abc", 3), 0);
    cr_assert_eq(fc_buf_reserve(&b, SIZE_MAX - 1), -ENOBUFS);
    cr_assert_eq(b.len, 3);
    cr_assert(memcmp(b.data, "abc", 3) == 0);
    fc_buf_deinit(&b);
}

Test(buf, reserve_then_write_in_place)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    cr_assert_eq(fc_buf_reserve(&b, 5000), 0);
    cr_assert_geq(b.cap, 5000);
    cr_assert_eq(b.len, 0);
    memset(b.data, 'r', 5000);
    b.len = 5000;
    size_t cap = b.cap;
    cr_assert_eq(fc_buf_reserve(&b, cap - 5000), 0);
    cr_assert_eq(b.cap, cap, "reserve within capacity must not reallocate");
    fc_buf_deinit(&b);
}

Test(buf, consume_moves_rest_to_front)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    cr_assert_eq(fc_buf_append(&b, "hello world", 11), 0);
    fc_buf_consume(&b, 6);
    cr_assert_eq(b.len, 5);
    cr_assert(memcmp(b.data, "world", 5) == 0);
    fc_buf_consume(&b, 0);
    cr_assert_eq(b.len, 5);
    fc_buf_consume(&b, 5);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(fc_buf_append(&b, "x", 1), 0);
    cr_assert_eq(b.data[0], 'x');
    fc_buf_deinit(&b);
}

Test(buf, shrink_releases_idle_capacity)
{
    fc_buf b;
    fc_buf_init(&b, 0);
    cr_assert_eq(fc_buf_reserve(&b, 1 << 20), 0);
    cr_assert_eq(fc_buf_append(&b, "abcdef", 6), 0);
    fc_buf_shrink(&b, 4);
    cr_assert_geq(b.cap, 1 << 20, "more bytes in use than keep: no shrink");
    fc_buf_shrink(&b, 1024);
    cr_assert_eq(b.cap, 1024);
    cr_assert_eq(b.len, 6);
    cr_assert(memcmp(b.data, "abcdef", 6) == 0);
    fc_buf_shrink(&b, 4096);
    cr_assert_eq(b.cap, 1024, "shrink never grows");
    fc_buf_consume(&b, 6);
    fc_buf_shrink(&b, 0);
    cr_assert_null(b.data);
    cr_assert_eq(b.cap, 0);
    cr_assert_eq(fc_buf_append(&b, "z", 1), 0, "usable after shrinking to nothing");
    fc_buf_deinit(&b);
}
