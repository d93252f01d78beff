/*
 * Unit tests for storage/entry.h's inline key compare: every length from 0 to 40 (the 4- and
 * 8-byte overlapping loads cover 4..32, memcmp the rest), a difference at every position, and
 * buffers that end exactly where the key ends (ASan then catches any load past either range).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "storage/entry.h"

#define MAXN 40

TestSuite(entry);

Test(entry, key_compare_sees_every_byte_at_every_length)
{
    for (size_t n = 0; n <= MAXN; n++) {
        char *a = malloc(n ? n : 1), *b = malloc(n ? n : 1); /* exact sizes: no slack to read */
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] = (char)('a' + (i * 7) % 26);
        cr_assert(fc_key_bytes_eq(a, b, n), "equal keys of %zu bytes", n);
        for (size_t i = 0; i < n; i++) {
            b[i] ^= 0x20;
            cr_assert(!fc_key_bytes_eq(a, b, n), "%zu bytes, byte %zu differs", n, i);
            cr_assert(!fc_key_bytes_eq(b, a, n));
            b[i] ^= 0x20;
            b[i] ^= (char)0x80; /* a high bit alone */
            cr_assert(!fc_key_bytes_eq(a, b, n), "%zu bytes, high bit of byte %zu", n, i);
            b[i] ^= (char)0x80;
        }
        free(a);
        free(b);
    }
}

Test(entry, key_compare_needs_equal_lengths_first)
{
    unsigned char buf[64];
    fc_entry *e = (fc_entry *)buf;
    memset(buf, 0, sizeof(buf));
    e->meta = fc_meta_make(false, 12, 1);
    fc_write_len((unsigned char *)fc_entry_lens(e), fc_meta_kw(e->meta), 12);
    fc_write_len((unsigned char *)fc_entry_lens(e) + 1, fc_meta_vw(e->meta), 1);
    memcpy(fc_entry_key(e), "users:1:namex", 13);
    cr_assert_eq(fc_entry_klen(e), 12);
    cr_assert(fc_entry_key_eq(e, "users:1:name", 12));
    cr_assert(!fc_entry_key_eq(e, "users:1:nam", 11), "a prefix is another key");
    cr_assert(!fc_entry_key_eq(e, "users:1:namf", 12));
    cr_assert(!fc_entry_key_eq(e, "users:2:name", 12));
}
