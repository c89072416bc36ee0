/*
 * pb_arena.h - a protobuf-c allocator over a caller's stack buffer. Decoding
 * a payload on the fold path then costs no malloc: DESIGN.md measured 6.0M
 * payloads/s with malloc against 8.8M/s with an arena.
 */
#ifndef ES_PB_ARENA_H
#define ES_PB_ARENA_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

typedef struct es_pb_arena {
	ProtobufCAllocator allocator;
	unsigned char *buf;
	size_t size, used;
} es_pb_arena;

/* Allocations beyond the buffer fall back to malloc and are freed one by one. */
void es_pb_arena_init(es_pb_arena *a, void *buf, size_t size);

#endif
