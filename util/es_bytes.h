/*
 * es_bytes.h - fixed-width integers in stored bytes. Keys are big-endian so
 * that LMDB's byte order is numeric order; integer fields inside values are
 * little-endian (docs/DESIGN.md, "Storage layout"). LMDB values are only
 * 2-byte aligned, so every access goes through memcpy, never a cast.
 */
#ifndef ES_UTIL_BYTES_H
#define ES_UTIL_BYTES_H

#include <stdint.h>
#include <string.h>

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ES__LE32(v) (v)
#define ES__LE64(v) (v)
#define ES__BE32(v) __builtin_bswap32(v)
#define ES__BE64(v) __builtin_bswap64(v)
#else
#define ES__LE32(v) __builtin_bswap32(v)
#define ES__LE64(v) __builtin_bswap64(v)
#define ES__BE32(v) (v)
#define ES__BE64(v) (v)
#endif

static inline void es__put_le32(uint8_t *p, uint32_t v)
{
	v = ES__LE32(v);
	memcpy(p, &v, 4);
}

static inline void es__put_le64(uint8_t *p, uint64_t v)
{
	v = ES__LE64(v);
	memcpy(p, &v, 8);
}

static inline uint32_t es__get_le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return ES__LE32(v);
}

static inline uint64_t es__get_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return ES__LE64(v);
}

static inline void es__put_be32(uint8_t *p, uint32_t v)
{
	v = ES__BE32(v);
	memcpy(p, &v, 4);
}

static inline void es__put_be64(uint8_t *p, uint64_t v)
{
	v = ES__BE64(v);
	memcpy(p, &v, 8);
}

static inline uint64_t es__get_be64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return ES__BE64(v);
}

#endif
