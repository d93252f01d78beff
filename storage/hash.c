/*
 * hash — SipHash-c-d over byte strings, implemented from the SipHash paper (Aumasson and
 * Bernstein, 2012): four 64-bit state words initialised from the key and the constant
 * "somepseudorandomlygeneratedbytes", c compression rounds per 8-byte little-endian message
 * word, a final word holding the remaining bytes with the length in its top byte, then d
 * finalisation rounds after xoring 0xff into v2.
 */
#include "storage/hash.h"

#include <string.h>

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

typedef struct sip_state {
    uint64_t v0, v1, v2, v3;
} sip_state;

static inline void sip_round(sip_state *s)
{
    s->v0 += s->v1;
    s->v1 = rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl(s->v2, 32);
}

static inline uint64_t load_le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void absorb(sip_state *s, uint64_t m, int crounds)
{
    s->v3 ^= m;
    for (int i = 0; i < crounds; i++)
        sip_round(s);
    s->v0 ^= m;
}

static inline uint64_t siphash(uint64_t k0, uint64_t k1, const void *data, size_t len,
                               int crounds, int drounds)
{
    const unsigned char *p = data;
    sip_state s = {
        k0 ^ 0x736f6d6570736575ULL,
        k1 ^ 0x646f72616e646f6dULL,
        k0 ^ 0x6c7967656e657261ULL,
        k1 ^ 0x7465646279746573ULL,
    };
    size_t words = len / 8;

    for (size_t i = 0; i < words; i++, p += 8)
        absorb(&s, load_le64(p), crounds);
    uint64_t last = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++)
        last |= (uint64_t)p[i] << (8 * i);
    absorb(&s, last, crounds);
    s.v2 ^= 0xff;
    for (int i = 0; i < drounds; i++)
        sip_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t fc_hash_siphash13(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
    return siphash(k0, k1, data, len, 1, 3);
}

uint64_t fc_hash_siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
    return siphash(k0, k1, data, len, 2, 4);
}

uint64_t fc_hash_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
