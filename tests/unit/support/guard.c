/*
 * guard — see guard.h.
 */
#include "tests/unit/support/guard.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *guard_base;
static size_t guard_size;

void guard_setup(size_t room)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t data = (room + pg - 1) / pg * pg;
    guard_base = mmap(NULL, data + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(guard_base != MAP_FAILED);
    cr_assert(mprotect(guard_base + data, pg, PROT_NONE) == 0);
    guard_size = data;
}

void guard_teardown(void)
{
    munmap(guard_base, guard_size + (size_t)sysconf(_SC_PAGESIZE));
    guard_base = NULL;
}

char *guard_place(const char *src, size_t n)
{
    cr_assert(n <= guard_size);
    char *dst = guard_base + guard_size - n;
    memmove(dst, src, n);
    return dst;
}
