/*
 * entry — the layout of one key/value item: a single allocation holding everything.
 *
 *   +--------+------+-----+-----------+------+------+---------+---------+
 *   | next 8 | meta | clk | expire 8? | klen | vlen | key ... | val ... |
 *   +--------+------+-----+-----------+------+------+---------+---------+
 *
 * meta bit 0: an expire slot is present (its value may be FC_NO_EXPIRE after PERSIST);
 * bits 1-2 / 3-4: the width of klen / vlen as 1, 2, 4 or 8 bytes; bits 5-7 with the clk byte
 * form the 11-bit eviction clock (evict.c): the LRU access tick, or for LFU an 8-bit
 * logarithmic counter (clk) and a 3-bit decay epoch (meta bits 5-7). Fields after clk are
 * unaligned and read with memcpy. A 10-byte key with a 10-byte value needs 32 bytes (40 with an
 * expiry), and takes a slab slot of exactly that size (slab.h). Internal to storage/.
 */
#ifndef FC_STORAGE_ENTRY_H
#define FC_STORAGE_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct fc_entry {
    struct fc_entry *next; /* bucket chain */
    uint8_t meta;
    uint8_t clk; /* eviction clock, low 8 bits (see above) */
    unsigned char body[];
} fc_entry;

#define FC_ENTRY_BASE offsetof(fc_entry, body)
#define FC_META_EXP 1u
#define FC_META_LAYOUT 0x1fu /* the bits fc_meta_make sets; the rest belong to the clock */
#define FC_CLOCK_BITS 11
#define FC_CLOCK_MASK ((1u << FC_CLOCK_BITS) - 1)

/* The 11-bit eviction clock of e. */
static inline unsigned fc_entry_clock(const fc_entry *e)
{
    return (unsigned)e->clk | (unsigned)(e->meta >> 5) << 8;
}

static inline void fc_entry_set_clock(fc_entry *e, unsigned v)
{
    e->clk = (uint8_t)v;
    e->meta = (uint8_t)((e->meta & FC_META_LAYOUT) | ((v >> 8) & 7u) << 5);
}

static inline unsigned fc_width_code(size_t n)
{
    return n <= 0xff ? 0 : n <= 0xffff ? 1 : n <= 0xffffffffu ? 2 : 3;
}

static inline size_t fc_meta_kw(uint8_t meta)
{
    return (size_t)1 << ((meta >> 1) & 3);
}

static inline size_t fc_meta_vw(uint8_t meta)
{
    return (size_t)1 << ((meta >> 3) & 3);
}

static inline uint8_t fc_meta_make(bool has_exp, size_t klen, size_t vlen)
{
    return (uint8_t)((has_exp ? FC_META_EXP : 0) | fc_width_code(klen) << 1 |
                     fc_width_code(vlen) << 3);
}

/* Bytes from the start of the allocation to the key. */
static inline size_t fc_meta_hdr(uint8_t meta)
{
    return FC_ENTRY_BASE + ((meta & FC_META_EXP) ? 8 : 0) + fc_meta_kw(meta) + fc_meta_vw(meta);
}

static inline size_t fc_read_len(const unsigned char *p, size_t w)
{
    switch (w) {
    case 1:
        return p[0];
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return (size_t)v;
    }
    }
}

static inline void fc_write_len(unsigned char *p, size_t w, size_t n)
{
    uint64_t v64 = n;
    uint32_t v32 = (uint32_t)n;
    uint16_t v16 = (uint16_t)n;
    if (w == 1)
        p[0] = (unsigned char)n;
    else if (w == 2)
        memcpy(p, &v16, 2);
    else if (w == 4)
        memcpy(p, &v32, 4);
    else
        memcpy(p, &v64, 8);
}

static inline const unsigned char *fc_entry_lens(const fc_entry *e)
{
    return e->body + ((e->meta & FC_META_EXP) ? 8 : 0);
}

static inline size_t fc_entry_klen(const fc_entry *e)
{
    return fc_read_len(fc_entry_lens(e), fc_meta_kw(e->meta));
}

static inline size_t fc_entry_vlen(const fc_entry *e)
{
    return fc_read_len(fc_entry_lens(e) + fc_meta_kw(e->meta), fc_meta_vw(e->meta));
}

static inline char *fc_entry_key(const fc_entry *e)
{
    return (char *)e + fc_meta_hdr(e->meta);
}

static inline char *fc_entry_val(const fc_entry *e)
{
    return fc_entry_key(e) + fc_entry_klen(e);
}

static inline int64_t fc_entry_expire(const fc_entry *e)
{
    int64_t v = 0;
    if (e->meta & FC_META_EXP)
        memcpy(&v, e->body, 8);
    return v;
}

/* Requires the expire slot (meta & FC_META_EXP). */
static inline void fc_entry_write_expire(fc_entry *e, int64_t at)
{
    memcpy(e->body, &at, 8);
}

/* Expired once its time has passed: at == now_ms is still live, as Redis's keyIsExpired
 * (now > when) has it, so SET k v PXAT <now> then GET k in the same millisecond finds it. */
static inline bool fc_entry_is_expired(const fc_entry *e, int64_t now_ms)
{
    int64_t at = fc_entry_expire(e);
    return at != 0 && at < now_ms;
}

static inline uint64_t fc_load8(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* a[0..n) == b[0..n) for the key lengths of a namespaced cache (4 to 32 bytes) with overlapping
 * 4- and 8-byte loads, inline: a memcmp call costs more than the compare itself at these sizes.
 * Every load stays inside both ranges. */
static inline bool fc_key_bytes_eq(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    if (n >= 8 && n <= 32) {
        uint64_t d = (fc_load8(x) ^ fc_load8(y)) | (fc_load8(x + n - 8) ^ fc_load8(y + n - 8));
        if (n > 16)
            d |= (fc_load8(x + 8) ^ fc_load8(y + 8)) |
                 (fc_load8(x + n - 16) ^ fc_load8(y + n - 16));
        return d == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, x, 4);
        memcpy(&y0, y, 4);
        memcpy(&x1, x + n - 4, 4);
        memcpy(&y1, y + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    return n == 0 || memcmp(x, y, n) == 0;
}

static inline bool fc_entry_key_eq(const fc_entry *e, const char *key, size_t klen)
{
    return fc_entry_klen(e) == klen && fc_key_bytes_eq(fc_entry_key(e), key, klen);
}

#endif
