/*
 * fuzz_glob — libFuzzer target comparing storage/glob's linear matcher with a slow reference.
 *
 * Input layout:  [flags] [plen] [pattern: plen % (rest+1) bytes] [string: the remaining bytes]
 *   flags bit 0 = nocase.
 *
 * The reference follows Redis 7.0's stringmatchlen() step by step (a recursive matcher over
 * pointers and lengths): a read past the end of the pattern sees the NUL that terminates every
 * sds string in Redis, bytes compare as signed chars, case folding is tolower() of the C locale.
 * It is memoized on (pattern offset, string offset), which does not change its answers (the
 * recursion is a pure function of the two offsets), so nested stars stay cheap. KEYS and SCAN
 * special-case the pattern "*", which fc_glob_match reproduces for the empty string.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/glob.h"

#define MAX_LEN 200

typedef struct {
    const char *pat, *str;
    size_t plen, slen;
    bool nocase;
    signed char memo[(MAX_LEN + 1) * (MAX_LEN + 1)]; /* -1 unknown, else the answer */
} ref_ctx;

/* The pattern byte at i as Redis reads it: past the end is the sds terminator. */
static int P(const ref_ctx *r, size_t i)
{
    return i < r->plen ? (signed char)r->pat[i] : 0;
}

static int S(const ref_ctx *r, size_t i)
{
    return (signed char)r->str[i];
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static bool ref_match(ref_ctx *r, size_t pi, size_t si);

/* The class at pattern[pi] == '[' against string[si]; advances *pi to the class's last byte. */
static bool ref_class(ref_ctx *r, size_t *pip, size_t si)
{
    size_t pi = *pip + 1;
    size_t plen = r->plen - pi; /* patternLen after the '[' */
    bool not = P(r, pi) == '^', match = false;
    if (not) {
        pi++;
        plen--;
    }
    for (;;) {
        if (P(r, pi) == '\\' && plen >= 2) {
            pi++;
            plen--;
            if (P(r, pi) == S(r, si))
                match = true;
        } else if (P(r, pi) == ']') {
            break;
        } else if (plen == 0) {
            pi--;
            plen++;
            break;
        } else if (plen >= 3 && P(r, pi + 1) == '-') {
            int start = P(r, pi), end = P(r, pi + 2), c = S(r, si);
            if (start > end) {
                int t = start;
                start = end;
                end = t;
            }
            if (r->nocase) {
                start = lower(start);
                end = lower(end);
                c = lower(c);
            }
            pi += 2;
            plen -= 2;
            if (c >= start && c <= end)
                match = true;
        } else if (r->nocase ? lower(P(r, pi)) == lower(S(r, si)) : P(r, pi) == S(r, si)) {
            match = true;
        }
        pi++;
        plen--;
    }
    *pip = pi;
    return not ? !match : match;
}

static bool ref_impl(ref_ctx *r, size_t pi, size_t si)
{
    while (pi < r->plen && si < r->slen) {
        switch (P(r, pi)) {
        case '*':
            while (pi < r->plen && P(r, pi + 1) == '*')
                pi++;
            if (r->plen - pi == 1)
                return true;
            for (; si < r->slen; si++)
                if (ref_match(r, pi + 1, si))
                    return true;
            return false;
        case '?':
            si++;
            break;
        case '[':
            if (!ref_class(r, &pi, si))
                return false;
            si++;
            break;
        case '\\':
            if (r->plen - pi >= 2)
                pi++;
            /* fall through */
        default:
            if (r->nocase ? lower(P(r, pi)) != lower(S(r, si)) : P(r, pi) != S(r, si))
                return false;
            si++;
            break;
        }
        pi++;
        if (si == r->slen) {
            while (P(r, pi) == '*')
                pi++;
            break;
        }
    }
    return pi == r->plen && si == r->slen;
}

static bool ref_match(ref_ctx *r, size_t pi, size_t si)
{
    signed char *m = &r->memo[pi * (MAX_LEN + 1) + si];
    if (*m < 0)
        *m = ref_impl(r, pi, si) ? 1 : 0;
    return *m;
}

static ref_ctx ctx;

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
    if (n < 2)
        return 0;
    bool nocase = in[0] & 1;
    size_t rest = n - 2;
    size_t plen = in[1] % (rest + 1);
    size_t slen = rest - plen;
    if (plen > MAX_LEN || slen > MAX_LEN)
        return 0;
    /* Exact-size copies so an over-read is an ASan report. */
    char *pat = malloc(plen ? plen : 1), *str = malloc(slen ? slen : 1);
    if (!pat || !str)
        abort();
    memcpy(pat, in + 2, plen);
    memcpy(str, in + 2 + plen, slen);
    ctx.pat = pat;
    ctx.str = str;
    ctx.plen = plen;
    ctx.slen = slen;
    ctx.nocase = nocase;
    memset(ctx.memo, -1, sizeof(ctx.memo));
    bool want = (plen == 1 && pat[0] == '*') || ref_match(&ctx, 0, 0);
    bool got = fc_glob_match(pat, plen, str, slen, nocase);
    if (got != want) {
        fprintf(stderr, "fuzz_glob: fc_glob_match=%d reference=%d nocase=%d\n", got, want,
                nocase);
        abort();
    }
    size_t pre;
    if (fc_glob_is_prefix(pat, plen, &pre)) {
        /* A prefix pattern matches exactly the strings that start with the prefix. */
        bool starts = slen >= pre && memcmp(str, pat, pre) == 0;
        if (pre >= plen || (!nocase && starts != got && slen > 0)) {
            fprintf(stderr, "fuzz_glob: fc_glob_is_prefix disagrees with matching\n");
            abort();
        }
    }
    free(pat);
    free(str);
    return 0;
}
