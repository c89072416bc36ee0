/*
 * pb_arena.h - protobuf-c allocation from an es_arena. Decoding a payload on
 * the fold path then costs no malloc (docs/DESIGN.md "Reading and folding"):
 * the design brief measured 6.0M payloads/s with malloc against 8.8M/s with
 * an arena. Messages unpacked this way are
 * freed with the arena (es_arena_reset / es_arena_release), not one by one.
 */
#ifndef ES_PB_ARENA_H
#define ES_PB_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <evstore/upcaster.h>

/* An allocator drawing from arena; its free is a no-op. */
ProtobufCAllocator es_pb_allocator(es_arena *arena);

#endif
