/*
 * nstab — placeholder: tracks nothing yet (see nstab.h for the contract).
 */
#include <stdlib.h>

#include "storage/nstab.h"

struct fc_nstab {
    size_t max_auto;
};

fc_nstab *fc_nstab_new(size_t max_auto)
{
    fc_nstab *t = calloc(1, sizeof(*t));
    if (t)
        t->max_auto = max_auto;
    return t;
}

void fc_nstab_free(fc_nstab *t)
{
    free(t);
}

int fc_nstab_configure(fc_nstab *t, const char *prefix, size_t len)
{
    (void)t, (void)prefix, (void)len;
    return 0;
}

fc_ns_stats *fc_nstab_lookup(fc_nstab *t, const char *key, size_t klen)
{
    (void)t, (void)key, (void)klen;
    return NULL;
}

size_t fc_nstab_size(const fc_nstab *t)
{
    (void)t;
    return 0;
}

const char *fc_nstab_name(const fc_nstab *t, size_t i, size_t *len)
{
    (void)t, (void)i;
    *len = 0;
    return "";
}

fc_ns_stats *fc_nstab_stats(fc_nstab *t, size_t i)
{
    (void)t, (void)i;
    return NULL;
}

void fc_nstab_keys(const fc_nstab *t, fc_ns_count_fn *count, void *ctx, uint64_t *keys)
{
    (void)t, (void)count, (void)ctx, (void)keys;
}

void fc_nstab_note_invalidate(fc_nstab *t, const char *p, size_t plen, fc_ns_count_fn *count,
                              void *ctx)
{
    (void)t, (void)p, (void)plen, (void)count, (void)ctx;
}
