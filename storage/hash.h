/*
 * hash — keyed hashing of byte strings (SipHash, written from the published algorithm).
 *
 * The store hashes keys with SipHash-1-3 keyed by a per-store secret, so a client cannot choose
 * keys that collide in one bucket without knowing the key. SipHash-2-4 is exported too because
 * its published test vectors check the shared core.
 */
#ifndef FC_STORAGE_HASH_H
#define FC_STORAGE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-1-3 of data[0..len) under the 128-bit key (k0, k1), k0 the first 8 key bytes as a
 * little-endian integer. Reads exactly len bytes. */
uint64_t fc_hash_siphash13(uint64_t k0, uint64_t k1, const void *data, size_t len);

/* SipHash-2-4, same conventions (the variant the reference test vectors use). */
uint64_t fc_hash_siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len);

/* A well-mixed 64-bit value derived from x (splitmix64 finaliser); used to expand seeds. */
uint64_t fc_hash_mix64(uint64_t x);

#endif
