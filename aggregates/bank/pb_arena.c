/*
 * pb_arena.c - bump allocation for protobuf-c unpacking (see pb_arena.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "pb_arena.h"

static void *arena_alloc(void *data, size_t size)
{
	es_pb_arena *a = data;
	size_t at = (a->used + 15) & ~(size_t)15;
	if (at <= a->size && size <= a->size - at) {
		a->used = at + size;
		return a->buf + at;
	}
	return malloc(size);
}

static void arena_free(void *data, void *ptr)
{
	es_pb_arena *a = data;
	uintptr_t p = (uintptr_t)ptr, lo = (uintptr_t)a->buf;
	if (ptr && (p < lo || p >= lo + a->size))
		free(ptr);
}

void es_pb_arena_init(es_pb_arena *a, void *buf, size_t size)
{
	a->allocator.alloc = arena_alloc;
	a->allocator.free = arena_free;
	a->allocator.allocator_data = a;
	a->buf = buf;
	a->size = size;
	a->used = 0;
}
