/*
 * guard — a test region whose end touches an unreadable page, so a parser that reads one byte
 * past its input crashes the test instead of passing by luck. One region per test process
 * (Criterion runs each test in its own process).
 */
#ifndef FC_TESTS_UNIT_SUPPORT_GUARD_H
#define FC_TESTS_UNIT_SUPPORT_GUARD_H

#include <stddef.h>

/* Maps room bytes (rounded up to pages) followed by a PROT_NONE page. */
void guard_setup(size_t room);
void guard_teardown(void);

/* Copies n bytes so that they end right at the guard page and returns where they start. */
char *guard_place(const char *src, size_t n);

#endif
