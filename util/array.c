/*
 * array.c - es__array_grow (see es_array.h).
 */
#include <stdlib.h>

#include "es_array.h"
#include "evstore/errors.h"

int es__array_grow(void **arr, size_t *cap, size_t n, size_t size, const char *what)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 8;
	void *p = c > ((size_t)-1) / size ? NULL : es_realloc(*arr, c * size);
	if (!p)
		return es_error_set(ES_ENOMEM, "%s: out of memory", what);
	*arr = p;
	*cap = c;
	return 0;
}
