/*
 * util — strict number parsing and formatting with Redis's rules, for argument checking.
 *
 * Integers follow Redis's string2ll(): optional '-', no '+', no spaces, no leading zeros (except
 * "0" itself), no "-0", at most 20 characters, overflow detected. Floats follow string2ld().
 * Plain C, no libuv: the command layer uses it.
 */
#ifndef FC_SERVER_UTIL_H
#define FC_SERVER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/strnum.h"

/* Parses s[0..n) as a long double like Redis's string2ld (no spaces, not NaN). */
bool fc_parse_ld(const char *s, size_t n, long double *out);

/* Formats v as Redis's "human" long double (%.17Lf, trailing zeros stripped, "-0" -> "0").
 * Returns the length, or 0 if buf is too small. */
size_t fc_format_ld_human(char *buf, size_t len, long double v);

/* Formats v in decimal; buf needs 21 bytes. Returns the length. */
size_t fc_format_ll(char *buf, long long v);

/* ASCII case-insensitive comparison of s[0..n) with the NUL-terminated lower-case word. */
bool fc_eq_word(const char *s, size_t n, const char *word);

/* Wall-clock time in milliseconds and microseconds since the Unix epoch. */
int64_t fc_time_ms(void);
int64_t fc_time_us(void);

/* CLOCK_MONOTONIC in nanoseconds: the clock of libuv's uv_hrtime, for code without libuv. */
uint64_t fc_mono_ns(void);

#endif
