/*
 * faultalloc.h - an es_allocator over libc that fails the Nth allocation
 * (once, or from then on) and counts the blocks alive, for the
 * fault-injection suite.
 */
#ifndef ES_FAULTALLOC_H
#define ES_FAULTALLOC_H

#include <stdbool.h>

/* Installs the allocator (es_set_allocator); call before any store opens. */
void fa_install(void);
/* Arms failure of the nth allocation from now (n >= 1); persistent: every
 * allocation from the nth on fails too. */
void fa_arm(long n, bool persistent);
/* Disarms: every allocation succeeds. */
void fa_disarm(void);
/* Whether an allocation failed since the last fa_arm. */
bool fa_failed(void);
/* Allocations made since the last fa_arm. */
long fa_count(void);
/* Blocks allocated through the hook and not yet freed. */
long fa_live(void);
/* Runs LeakSanitizer now when built with it (true: no leaks); true otherwise. */
bool fa_lsan_clean(void);

#endif
