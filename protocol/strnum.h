/*
 * strnum — strict decimal parsing with Redis's string2ll()/string2ull() rules, shared by the
 * request parser (bulk and multibulk lengths) and the command layer (arguments, stored values):
 * optional '-', no '+', no spaces, no leading zeros (except "0"), no "-0", at most 20 bytes,
 * overflow detected. Binary-safe: a NUL byte makes the input invalid.
 */
#ifndef FC_PROTOCOL_STRNUM_H
#define FC_PROTOCOL_STRNUM_H

#include <stdbool.h>
#include <stddef.h>

/* Parses s[0..n) as an unsigned 64-bit integer (no sign accepted). */
bool fc_parse_ull(const char *s, size_t n, unsigned long long *out);

/* Parses s[0..n) as a signed 64-bit integer. */
bool fc_parse_ll(const char *s, size_t n, long long *out);

#endif
