/*
 * ttl_table — longest-prefix lookup of a key's default TTL (see ttl_table.h).
 *
 * Build: rules are copied into one allocation (entries, then the prefix bytes), sorted with the
 * rule index as the last key so that the later of two equal prefixes can be kept, deduplicated,
 * and given their parent links with a stack of the current prefix chain (sorted order visits a
 * prefix before everything that extends it).
 */
#include "conf/ttl_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    fc_ttl_entry e;
    size_t idx; /* position in the rules, for "the later wins" */
} sort_item;

/* Byte order of two slices; a proper prefix sorts first. */
static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r != 0)
        return r;
    return (alen > blen) - (alen < blen);
}

static int cmp_items(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    int r = cmp_bytes(a->e.prefix, a->e.len, b->e.prefix, b->e.len);
    return r != 0 ? r : (a->idx > b->idx) - (a->idx < b->idx);
}

static bool is_prefix(const fc_ttl_entry *p, const char *key, size_t len)
{
    return p->len <= len && memcmp(p->prefix, key, p->len) == 0;
}

void fc_ttl_table_init(fc_ttl_table *t)
{
    memset(t, 0, sizeof(*t));
}

/* Parent links: the stack holds the chain of entries that are prefixes of the current one. */
static void link_parents(fc_ttl_table *t, int *stack)
{
    size_t depth = 0;
    for (size_t i = 0; i < t->n; i++) {
        fc_ttl_entry *e = &t->e[i];
        while (depth > 0 && !is_prefix(&t->e[stack[depth - 1]], e->prefix, e->len))
            depth--;
        e->parent = depth > 0 ? stack[depth - 1] : -1;
        stack[depth++] = (int)i;
        t->first[(unsigned char)e->prefix[0] >> 6] |= 1ull << ((unsigned char)e->prefix[0] & 63);
    }
}

int fc_ttl_table_build(fc_ttl_table *t, const fc_ttl_rule *rules, size_t n)
{
    fc_ttl_table_init(t);
    size_t count = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (rules[i].len == 0)
            continue;
        count++;
        bytes += rules[i].len;
    }
    if (count == 0)
        return 0;
    sort_item *items = malloc(count * sizeof(*items));
    int *stack = malloc(count * sizeof(*stack));
    char *block = malloc(count * sizeof(fc_ttl_entry) + bytes);
    if (!items || !stack || !block)
        goto out_free;
    char *pool = block + count * sizeof(fc_ttl_entry);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (rules[i].len == 0)
            continue;
        memcpy(pool, rules[i].prefix, rules[i].len);
        items[k].e = (fc_ttl_entry){pool, rules[i].len, rules[i].ttl_ms, -1};
        items[k++].idx = i;
        pool += rules[i].len;
    }
    qsort(items, count, sizeof(*items), cmp_items);
    t->e = (fc_ttl_entry *)(void *)block;
    for (size_t i = 0; i < count; i++) {
        bool dup = i + 1 < count && cmp_bytes(items[i].e.prefix, items[i].e.len,
                                              items[i + 1].e.prefix, items[i + 1].e.len) == 0;
        if (!dup)
            t->e[t->n++] = items[i].e;
    }
    link_parents(t, stack);
    free(items);
    free(stack);
    return 0;
out_free:
    free(items);
    free(stack);
    free(block);
    return -ENOMEM;
}

int fc_ttl_table_from_conf(fc_ttl_table *t, const fc_conf *c)
{
    size_t n = c->nttl_prefixes > 0 ? (size_t)c->nttl_prefixes : 0;
    if (n > FC_CONF_MAX_TTL_PREFIXES)
        n = FC_CONF_MAX_TTL_PREFIXES;
    fc_ttl_rule *rules = malloc((n ? n : 1) * sizeof(*rules));
    if (!rules) {
        fc_ttl_table_init(t);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const fc_conf_ttl_prefix *p = &c->ttl_prefixes[i];
        rules[i].prefix = p->prefix;
        rules[i].len = p->len <= FC_CONF_TTL_PREFIX_MAX ? p->len : FC_CONF_TTL_PREFIX_MAX;
        rules[i].ttl_ms = p->ttl * 1000;
    }
    int rc = fc_ttl_table_build(t, rules, n);
    free(rules);
    return rc;
}

void fc_ttl_table_deinit(fc_ttl_table *t)
{
    free(t->e);
    fc_ttl_table_init(t);
}

bool fc_ttl_table_lookup(const fc_ttl_table *t, const char *key, size_t len, int64_t *ttl_ms)
{
    if (t->n == 0 || len == 0)
        return false;
    unsigned char b = (unsigned char)key[0];
    if (!(t->first[b >> 6] & (1ull << (b & 63))))
        return false;
    /* The greatest entry <= key: lo ends as the count of entries <= key. */
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_bytes(t->e[mid].prefix, t->e[mid].len, key, len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int i = (int)lo - 1; i >= 0; i = t->e[i].parent) {
        if (is_prefix(&t->e[i], key, len)) {
            *ttl_ms = t->e[i].ttl_ms;
            return true;
        }
    }
    return false;
}
