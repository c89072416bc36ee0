/*
 * es_pb_arena.h - protobuf-c allocation from an es_arena, for the modules
 * that unpack payloads (the bank's fold and upcasters, audit's dump and
 * restore). Decoding a payload on the fold path then costs no malloc
 * (docs/DESIGN.md "Reading and folding": the design brief measured 6.0M
 * payloads/s with malloc against 8.8M/s with an arena). Messages unpacked
 * this way are freed with the arena (es_arena_reset / es_arena_release),
 * never one by one. Header-only, so the core library needs no protobuf-c.
 */
#ifndef ES_PB_ARENA_H
#define ES_PB_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <evstore/upcaster.h>

static inline void *es__pb_arena_alloc(void *arena, size_t size)
{
	return es_arena_alloc(arena, size);
}

static inline void es__pb_arena_free(void *arena, void *ptr)
{
	(void)arena;
	(void)ptr; /* released with the arena */
}

/* An allocator drawing from arena; its free is a no-op. */
static inline ProtobufCAllocator es__pb_allocator(es_arena *arena)
{
	ProtobufCAllocator a = { es__pb_arena_alloc, es__pb_arena_free, arena };
	return a;
}

#endif
