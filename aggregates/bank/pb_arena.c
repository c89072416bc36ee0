/*
 * pb_arena.c - protobuf-c allocation from an es_arena (see pb_arena.h).
 */
#include "pb_arena.h"

static void *arena_alloc(void *data, size_t size)
{
	return es_arena_alloc(data, size);
}

static void arena_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr; /* released with the arena */
}

ProtobufCAllocator es_pb_allocator(es_arena *arena)
{
	ProtobufCAllocator a = { arena_alloc, arena_free, arena };
	return a;
}
