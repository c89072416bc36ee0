/*
 * alloc.c - the allocator hook (es_set_allocator) and the allocation
 * functions built on it (es_malloc and friends), all declared in errors.h.
 * Part of the core library only: the hook is process state, and the bank and
 * audit libraries reach it through these public functions.
 */
#include <stdlib.h>
#include <string.h>

#include "evstore/errors.h"

static void *libc_malloc(size_t size, void *user_data)
{
	(void)user_data;
	return malloc(size);
}

static void *libc_realloc(void *ptr, size_t size, void *user_data)
{
	(void)user_data;
	return realloc(ptr, size);
}

static void libc_free(void *ptr, void *user_data)
{
	(void)user_data;
	free(ptr);
}

static const es_allocator libc_allocator = { libc_malloc, libc_realloc, libc_free, NULL };

/* A copy, so callers need not keep theirs alive. Plain (not atomic): the
 * header says it is set while nothing else runs in evstore. */
static es_allocator current = { libc_malloc, libc_realloc, libc_free, NULL };

void es_set_allocator(const es_allocator *a)
{
	/* Half an allocator would mix families; take all three or none. */
	if (a && a->malloc_fn && a->realloc_fn && a->free_fn)
		current = *a;
	else
		current = libc_allocator;
}

/* Size 0 is asked for as 1, so a NULL result always means "out of memory". */
void *es_malloc(size_t size)
{
	return current.malloc_fn(size ? size : 1, current.user_data);
}

void *es_calloc(size_t count, size_t size)
{
	if (size && count > ((size_t)-1) / size)
		return NULL;
	void *p = es_malloc(count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

void *es_realloc(void *ptr, size_t size)
{
	return current.realloc_fn(ptr, size ? size : 1, current.user_data);
}

void es_free(void *ptr)
{
	if (ptr)
		current.free_fn(ptr, current.user_data);
}
