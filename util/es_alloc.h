/*
 * es_alloc.h - string copies through the allocator hook, for every module's
 * internals (the engine's, the bank's, audit's). The allocation functions
 * themselves are public (es_malloc and friends in errors.h), since the bank
 * and audit libraries allocate through the core's hook. Memory from these is
 * freed with es_free, never with free(), and vice versa.
 */
#ifndef ES_UTIL_ALLOC_H
#define ES_UTIL_ALLOC_H

#include <string.h>

#include "evstore/errors.h"

/* A NUL-terminated copy of the len bytes at s; NULL when out of memory. */
static inline char *es__memdup_str(const char *s, size_t len)
{
	char *copy = es_malloc(len + 1);
	if (copy) {
		memcpy(copy, s, len);
		copy[len] = '\0';
	}
	return copy;
}

/* At most n bytes of s, NUL-terminated. */
static inline char *es__strndup(const char *s, size_t n)
{
	return es__memdup_str(s, strnlen(s, n));
}

static inline char *es__strdup(const char *s)
{
	return es__memdup_str(s, strlen(s));
}

#endif
