/*
 * slab — the allocator of small entries: 96 size classes carved from 64 KiB slabs.
 *
 *   arena (4 MiB, mmap) ─► slabs (64 KiB, aligned) ─► slots of one class each
 *                              │ header at the slab's start: class, live count, free list
 *
 * A cache holds millions of entries of a few dozen bytes. Kept in glibc they cost an 8-byte
 * header and 16-byte rounding each, and freeing millions at once (an expiry wave, a flush) left
 * glibc merging them inside some later unrelated malloc or free: single calls of 1.5-5 ms at 10M
 * keys. Here a free is a push on its slab's list, and a slab whose last slot is freed goes back
 * to a pool of empty slabs; beyond a few kept warm, their pages are returned to the kernel
 * (MADV_DONTNEED), so RSS follows a mass free.
 *
 * Classes: 8-byte steps up to 256 bytes, then 16 per doubling up to FC_SLAB_MAX (at most 6.25%
 * rounding). A slot's class is read from its slab's header (p rounded down to 64 KiB), so a free
 * needs no size. Freed slots are reused only by their own class; a slab returns to the pool only
 * when all its slots are free. Not thread-safe; one fc_slab per store. Under AddressSanitizer
 * free slots and unused slab space are poisoned, so a use after free still faults.
 */
#ifndef FC_STORAGE_SLAB_H
#define FC_STORAGE_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define FC_SLAB_MAX 4096u
#define FC_SLAB_CLASSES 96u
#define FC_SLAB_BYTES ((size_t)64 << 10)
#define FC_SLAB_KEEP 16u /* empty slabs kept resident for reuse */

struct fc_slab_page;

typedef struct fc_slab {
    struct fc_slab_page *partial[FC_SLAB_CLASSES]; /* slabs with a free slot, per class */
    struct fc_slab_page **empty;                   /* the pool of empty slabs */
    size_t nempty, empty_cap;
    size_t nwarm;                 /* empty[0..nwarm) are resident; the rest were returned */
    char *next, *end;             /* unused slabs of the newest arena */
    void **arenas;                /* every arena, for deinit */
    size_t narenas, arenas_cap;
    size_t used;                  /* slabs holding at least one slot */
} fc_slab;

void fc_slab_init(fc_slab *a);

/* Returns every arena to the kernel; pointers into them become invalid. */
void fc_slab_deinit(fc_slab *a);

/* The slot size serving a request of n bytes (1 <= n <= FC_SLAB_MAX). */
size_t fc_slab_class_size(size_t n);

/* A slot of at least n bytes (1 <= n <= FC_SLAB_MAX), 8-byte aligned, or NULL when out of
 * memory. Its contents are undefined. */
void *fc_slab_alloc(fc_slab *a, size_t n);

/* Frees a slot of a; p must come from fc_slab_alloc(a, ...). */
void fc_slab_free(fc_slab *a, void *p);

/* The usable size of slot p (its class size). */
size_t fc_slab_usable(const void *p);

/* Bytes of slabs in use and of empty slabs still resident (what the allocator holds). */
size_t fc_slab_resident(const fc_slab *a);

#endif
