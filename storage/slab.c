/*
 * slab — size classes over 64 KiB slabs (see slab.h for the why).
 *
 * A slab's header sits at its aligned start; its slots follow at HDR + i * size. Slots never
 * used yet are handed out by a bump offset, freed ones from a list threaded through their first
 * 8 bytes. A class's slabs with a free slot form a doubly linked list (the partial list); a full
 * slab is off it and goes back on at its first free. When a slab's live count drops to 0 it
 * leaves its class for the empty pool: the first FC_SLAB_KEEP stay resident, later ones have
 * their pages returned (MADV_DONTNEED); a new slab is taken from the pool's resident end first.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "storage/slab.h"

#if defined(__SANITIZE_ADDRESS__)
#define FC_SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FC_SLAB_ASAN 1
#endif
#endif
#ifdef FC_SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_BYTES ((size_t)4 << 20)
#define HDR 64u

typedef struct fc_slab_page {
    struct fc_slab_page *next, *prev; /* the class's partial list */
    void *free;                       /* freed slots */
    uint32_t bump;                    /* offset of the first never-used slot */
    uint32_t live;                    /* slots in use */
    uint16_t size;                    /* slot size */
    uint8_t cls;
    uint8_t listed; /* on the partial list */
} page;

_Static_assert(sizeof(page) <= HDR, "the slab header fits before the first slot");
_Static_assert(FC_SLAB_MAX <= UINT16_MAX, "slot sizes fit the header");

static size_t class_bytes(unsigned c)
{
    if (c < 32)
        return (size_t)(c + 1) * 8;
    unsigned k = c - 32, g = k / 16;
    return ((size_t)256 << g) + (size_t)(k % 16 + 1) * ((size_t)16 << g);
}

static unsigned class_of(size_t n)
{
    if (n <= 256)
        return n ? (unsigned)((n + 7) / 8 - 1) : 0;
    unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
    return 32 + (lg - 8) * 16 + (unsigned)((n - 1) >> (lg - 4)) - 16;
}

size_t fc_slab_class_size(size_t n)
{
    return class_bytes(class_of(n));
}

static page *page_of(const void *p)
{
    return (page *)((uintptr_t)p & ~(uintptr_t)(FC_SLAB_BYTES - 1));
}

size_t fc_slab_usable(const void *p)
{
    return page_of(p)->size;
}

void fc_slab_init(fc_slab *a)
{
    *a = (fc_slab){0};
}

void fc_slab_deinit(fc_slab *a)
{
    for (size_t i = 0; i < a->narenas; i++) {
        char *base = a->arenas[i]; /* slabs were carved from every arena but the newest's tail */
        UNPOISON(base, i + 1 < a->narenas ? ARENA_BYTES : (size_t)(a->next - base));
        munmap(base, ARENA_BYTES); /* (a later mapping there must not inherit the poison) */
    }
    free(a->arenas);
    free(a->empty);
    fc_slab_init(a);
}

/* Maps a new arena of ARENA_BYTES aligned to FC_SLAB_BYTES. */
static bool arena_grow(fc_slab *a)
{
    if (a->narenas == a->arenas_cap) {
        size_t cap = a->arenas_cap ? 2 * a->arenas_cap : 8;
        void **v = realloc(a->arenas, cap * sizeof(*v));
        if (!v)
            return false;
        a->arenas = v;
        a->arenas_cap = cap;
    }
    size_t len = ARENA_BYTES + FC_SLAB_BYTES;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return false;
    char *base = (char *)(((uintptr_t)m + FC_SLAB_BYTES - 1) & ~(uintptr_t)(FC_SLAB_BYTES - 1));
    if (base > m)
        munmap(m, (size_t)(base - m));
    munmap(base + ARENA_BYTES, (size_t)(m + len - base - ARENA_BYTES));
    a->arenas[a->narenas++] = base;
    a->next = base;
    a->end = base + ARENA_BYTES;
    return true;
}

/* An unused slab: a resident one from the pool, else a returned one (it faults its pages back
 * in, as a fresh one would), else a fresh one from the arena. */
static page *slab_take(fc_slab *a)
{
    page *pg;
    if (a->nwarm) {
        pg = a->empty[--a->nwarm];
        a->empty[a->nwarm] = a->empty[--a->nempty];
    } else if (a->nempty) {
        pg = a->empty[--a->nempty];
    } else if (a->next < a->end || arena_grow(a)) {
        pg = (page *)a->next;
        a->next += FC_SLAB_BYTES;
        POISON(pg, FC_SLAB_BYTES); /* slots are unpoisoned as they are handed out */
    } else {
        return NULL;
    }
    UNPOISON(pg, HDR);
    return pg;
}

static void list_add(page **head, page *pg)
{
    pg->prev = NULL;
    pg->next = *head;
    if (*head)
        (*head)->prev = pg;
    *head = pg;
    pg->listed = 1;
}

static void list_del(page **head, page *pg)
{
    if (pg->prev)
        pg->prev->next = pg->next;
    else
        *head = pg->next;
    if (pg->next)
        pg->next->prev = pg->prev;
    pg->listed = 0;
}

static page *slab_new(fc_slab *a, unsigned c)
{
    page *pg = slab_take(a);
    if (!pg)
        return NULL;
    *pg = (page){.bump = HDR, .size = (uint16_t)class_bytes(c), .cls = (uint8_t)c};
    list_add(&a->partial[c], pg);
    a->used++;
    return pg;
}

void *fc_slab_alloc(fc_slab *a, size_t n)
{
    unsigned c = class_of(n);
    page *pg = a->partial[c];
    if (!pg && !(pg = slab_new(a, c)))
        return NULL;
    char *p;
    if (pg->free) {
        p = pg->free;
        UNPOISON(p, pg->size);
        pg->free = *(void **)p;
    } else {
        p = (char *)pg + pg->bump;
        UNPOISON(p, pg->size);
        pg->bump += pg->size;
    }
    pg->live++;
    if (!pg->free && pg->bump + pg->size > FC_SLAB_BYTES)
        list_del(&a->partial[c], pg);
    return p;
}

/* Puts an emptied slab in the pool, returning its pages past the first FC_SLAB_KEEP. */
static void slab_release(fc_slab *a, page *pg)
{
    a->used--;
    if (a->nempty == a->empty_cap) {
        size_t cap = a->empty_cap ? 2 * a->empty_cap : 64;
        page **v = realloc(a->empty, cap * sizeof(*v));
        if (!v) { /* keep it in its class, empty: it is reused from there */
            list_add(&a->partial[pg->cls], pg);
            a->used++;
            return;
        }
        a->empty = v;
        a->empty_cap = cap;
    }
    POISON(pg, FC_SLAB_BYTES);
    if (a->nwarm < FC_SLAB_KEEP) { /* the first returned one moves to the end */
        if (a->nempty > a->nwarm)
            a->empty[a->nempty] = a->empty[a->nwarm];
        a->nempty++;
        a->empty[a->nwarm++] = pg;
        return;
    }
    madvise(pg, FC_SLAB_BYTES, MADV_DONTNEED);
    a->empty[a->nempty++] = pg;
}

void fc_slab_free(fc_slab *a, void *p)
{
    page *pg = page_of(p);
    *(void **)p = pg->free;
    pg->free = p;
    POISON(p, pg->size);
    if (--pg->live == 0) {
        if (pg->listed)
            list_del(&a->partial[pg->cls], pg);
        slab_release(a, pg);
    } else if (!pg->listed) {
        list_add(&a->partial[pg->cls], pg);
    }
}

size_t fc_slab_resident(const fc_slab *a)
{
    return (a->used + a->nwarm) * FC_SLAB_BYTES;
}
