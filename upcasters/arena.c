/*
 * arena.c - bump allocation for decoding and upcasting payloads: one reset
 * per event instead of a malloc/free per field.
 */
#include <stdint.h>
#include <stdlib.h>

#include "evstore/upcaster.h"
#include "es_alloc.h"

#define ALIGN 16

typedef struct spill_block {
	struct spill_block *next;
	_Alignas(ALIGN) unsigned char data[];
} spill_block;

void es_arena_init(es_arena *a, void *buf, size_t size)
{
	a->buf = buf;
	a->size = buf ? size : 0;
	a->used = 0;
	a->spill = NULL;
}

void *es_arena_alloc(es_arena *a, size_t size)
{
	size_t at = (a->used + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	/* Without a buffer every request spills: even size 0 must not return
	 * NULL + 0, which is undefined and reads as "out of memory". */
	if (a->buf && at <= a->size && size <= a->size - at) {
		a->used = at + size;
		return a->buf + at;
	}
	if (size > SIZE_MAX - sizeof(spill_block))
		return NULL;
	spill_block *b = es_malloc(sizeof *b + size);
	if (!b)
		return NULL;
	b->next = a->spill;
	a->spill = b;
	return b->data;
}

void es_arena_release(es_arena *a)
{
	for (spill_block *b = a->spill, *next; b; b = next) {
		next = b->next;
		es_free(b);
	}
	a->spill = NULL;
}

void es_arena_reset(es_arena *a)
{
	es_arena_release(a);
	a->used = 0;
}
