/*
 * glob — Redis-compatible glob matching over binary-safe byte strings.
 *
 * Semantics are Redis 7's stringmatchlen(): `*` any run (also empty), `?` one byte, `[abc]`,
 * `[^a]`, `[a-z]` (reversed ranges swapped, ends compared as signed bytes), `\x` a literal x.
 * Edge cases follow Redis exactly (see tests/unit/storage/test_glob.c): an unterminated `[`
 * runs to the end of the pattern, `[]` matches nothing, a trailing `\` is literal, ...
 * The matcher is bounded: nested `*` cannot make it exponential.
 */
#ifndef FC_STORAGE_GLOB_H
#define FC_STORAGE_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* True if str[0..slen) matches pat[0..plen). nocase folds ASCII case as Redis does. */
bool fc_glob_match(const char *pat, size_t plen, const char *str, size_t slen, bool nocase);

/* If pat is a literal prefix followed by exactly one trailing `*` (with no other special byte,
 * escapes resolved), stores the literal prefix length in *prefix_len and returns true. "*" alone
 * is a prefix pattern with an empty prefix. Used to route namespace invalidation. */
bool fc_glob_is_prefix(const char *pat, size_t plen, size_t *prefix_len);

#endif
