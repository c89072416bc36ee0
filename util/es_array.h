/*
 * es_array.h - growing a malloc'd array by doubling, shared by every module's
 * internals (batches, snapshot lists, emitted events, upcaster steps).
 */
#ifndef ES_UTIL_ARRAY_H
#define ES_UTIL_ARRAY_H

#include <stddef.h>

/* Makes room for element n of *arr (elements of `size` bytes, *cap of them
 * allocated), doubling as needed. 0, or ES_ENOMEM with a message naming `what`. */
int es__array_grow(void **arr, size_t *cap, size_t n, size_t size, const char *what);

#endif
