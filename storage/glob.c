/*
 * glob — Redis 7 stringmatchlen() semantics with a linear-time matcher.
 *
 * Model: a pattern is a sequence of tokens. A token is either a run of `*` (any byte sequence)
 * or a one-byte matcher: `?`, a class `[...]`, an escape `\x`, or a literal byte. How a pattern
 * splits into tokens never depends on the string being matched, and every one-byte matcher
 * consumes exactly one byte, so the classic greedy-star algorithm with a single resume point
 * (the most recent star) gives the same answers as Redis's recursive matcher without its
 * exponential worst case: when a later star is reached, any match that would stretch an earlier
 * star can be reproduced by stretching the later one.
 *
 * Redis quirks reproduced here (all verified against redis-server 7.0.15, see the test table):
 *   - An empty string matches only the empty pattern; KEYS and SCAN special-case the pattern
 *     "*" to match everything, so fc_glob_match("*", "") is true as the client observes.
 *   - A class runs to its first unescaped `]` or to the end of the pattern. `[]` matches nothing,
 *     `[^]` any byte, `[` alone nothing; in `x-y` the end y is taken as is (even `]` or `\`).
 *   - Range ends and the byte compare as signed chars; reversed ranges are swapped before case
 *     folding. An escaped byte inside a class is compared exactly, even with nocase.
 *   - A trailing `\` is a literal backslash.
 *   - Redis's matcher recurses once per run of stars that has more pattern after it, and gives
 *     up past 1000 levels. A match passes through every such run, so a pattern with more than
 *     1000 of them matches nothing (too_deep).
 */
#include "storage/glob.h"

/* ASCII-only lower casing of a signed byte value, as tolower() in the C locale. */
static int fold(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool bytes_equal(int a, int b, bool nocase)
{
    return nocase ? fold(a) == fold(b) : a == b;
}

/*
 * Evaluates the class whose body starts at pat[i] (just past `[`) against byte c.
 * Returns the index just past the class.
 */
static size_t match_class(const char *pat, size_t plen, size_t i, int c, bool nocase,
                          bool *matched)
{
    bool negate = false, hit = false;

    if (i < plen && pat[i] == '^') {
        negate = true;
        i++;
    }
    for (;;) {
        if (i >= plen) {
            break; /* unterminated: the class ends with the pattern */
        } else if (pat[i] == '\\' && plen - i >= 2) {
            i++;
            if ((signed char)pat[i] == c)
                hit = true;
        } else if (pat[i] == ']') {
            i++;
            break;
        } else if (plen - i >= 3 && pat[i + 1] == '-') {
            int lo = (signed char)pat[i], hi = (signed char)pat[i + 2], x = c;
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (nocase) {
                lo = fold(lo);
                hi = fold(hi);
                x = fold(x);
            }
            if (x >= lo && x <= hi)
                hit = true;
            i += 2;
        } else if (bytes_equal((signed char)pat[i], c, nocase)) {
            hit = true;
        }
        i++;
    }
    *matched = negate ? !hit : hit;
    return i;
}

/*
 * Matches the one-byte token at pat[*pi] (not a `*`) against byte c, advancing *pi past it.
 */
static bool match_one(const char *pat, size_t plen, size_t *pi, char ch, bool nocase)
{
    size_t i = *pi;
    int c = (signed char)ch;
    bool ok;

    switch (pat[i]) {
    case '?':
        *pi = i + 1;
        return true;
    case '[':
        *pi = match_class(pat, plen, i + 1, c, nocase, &ok);
        return ok;
    case '\\':
        if (plen - i >= 2)
            i++;
        /* fall through */
    default:
        *pi = i + 1;
        return bytes_equal((signed char)pat[i], c, nocase);
    }
}

#define MAX_STAR_NESTING 1000 /* Redis's stringmatchlen gives up deeper than this */

/* Whether the pattern has more than MAX_STAR_NESTING runs of stars with pattern after them. */
static bool too_deep(const char *pat, size_t plen)
{
    size_t runs = 0, p = 0;
    bool unused;
    while (p < plen) {
        if (pat[p] == '*') {
            while (p < plen && pat[p] == '*')
                p++;
            runs += p < plen;
        } else if (pat[p] == '[') {
            p = match_class(pat, plen, p + 1, 0, false, &unused);
        } else {
            p += (pat[p] == '\\' && plen - p >= 2) ? 2 : 1;
        }
    }
    return runs > MAX_STAR_NESTING;
}

bool fc_glob_match(const char *pat, size_t plen, const char *str, size_t slen, bool nocase)
{
    size_t p = 0, s = 0, star_p = 0, star_s = 0;
    bool have_star = false;

    if (slen == 0)
        return plen == 0 || (plen == 1 && pat[0] == '*');
    if (plen > 2 * MAX_STAR_NESTING && too_deep(pat, plen)) /* shorter ones cannot be */
        return false;
    while (s < slen) {
        if (p < plen && pat[p] == '*') {
            while (p < plen && pat[p] == '*')
                p++;
            if (p == plen)
                return true;
            have_star = true;
            star_p = p;
            star_s = s;
            continue;
        }
        if (p < plen && match_one(pat, plen, &p, str[s], nocase)) {
            s++;
            continue;
        }
        if (!have_star)
            return false;
        p = star_p;
        s = ++star_s;
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}

bool fc_glob_is_prefix(const char *pat, size_t plen, size_t *prefix_len)
{
    if (plen == 0 || pat[plen - 1] != '*')
        return false;
    for (size_t i = 0; i + 1 < plen; i++) {
        char c = pat[i];
        if (c == '*' || c == '?' || c == '[' || c == '\\')
            return false;
    }
    *prefix_len = plen - 1;
    return true;
}
