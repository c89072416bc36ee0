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

/* One memcpy and the swap a width and an order need: put stores v at p, get
 * reads it back. */
#define ES__PUT(name, type, order)                        \
	static inline void name(uint8_t *p, type v)       \
	{                                                 \
		v = order(v);                             \
		memcpy(p, &v, sizeof v);                  \
	}
#define ES__GET(name, type, order)                        \
	static inline type name(const uint8_t *p)         \
	{                                                 \
		type v;                                   \
		memcpy(&v, p, sizeof v);                  \
		return order(v);                          \
	}

ES__PUT(es__put_le32, uint32_t, ES__LE32)
ES__PUT(es__put_le64, uint64_t, ES__LE64)
ES__PUT(es__put_be32, uint32_t, ES__BE32)
ES__PUT(es__put_be64, uint64_t, ES__BE64)
ES__GET(es__get_le32, uint32_t, ES__LE32)
ES__GET(es__get_le64, uint64_t, ES__LE64)
ES__GET(es__get_be64, uint64_t, ES__BE64)

#endif
