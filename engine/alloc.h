/*
 * alloc.h - the allocation functions every module's internals use, so that
 * es_set_allocator (errors.h) sees all of evstore's own memory. Memory from
 * one of these is freed with es__free, never with free(), and vice versa.
 */
#ifndef ES_ENGINE_ALLOC_H
#define ES_ENGINE_ALLOC_H

#include <stddef.h>

void *es__malloc(size_t size);
/* Zeroed; NULL when count * size overflows. */
void *es__calloc(size_t count, size_t size);
void *es__realloc(void *ptr, size_t size);
/* NULL is a no-op. */
void es__free(void *ptr);
char *es__strdup(const char *s);
/* At most n bytes of s, NUL-terminated. */
char *es__strndup(const char *s, size_t n);

#endif
