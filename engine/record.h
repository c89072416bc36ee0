/*
 * record.h - the on-disk event record: a fixed-layout header, optional
 * fields, the payload and the encoded metadata, sealed by an XXH3-64 checksum.
 *
 * Layout (little-endian integers; LMDB values are only 2-byte aligned, so
 * every field is memcpy'd, never cast):
 *   0  u64  XXH3-64 checksum of every byte after it (one contiguous hash)
 *   8  u8   record format (1)
 *   9  u8   flags: 1 occurred_at, 2 correlation id, 4 causation id
 *  10  u16  reserved, 0
 *  12  u32  type id
 *  16  u32  schema version
 *  20  u32  payload length
 *  24  u64  global position
 *  32  i64  recorded_at
 *  40  u8[16] event id
 *  56  [i64 occurred_at] [u8[16] correlation] [u8[16] causation]
 *      payload, then metadata: u32 count, then per pair u32 klen, key,
 *      u32 vlen, value.
 */
#ifndef ES_ENGINE_RECORD_H
#define ES_ENGINE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "evstore/engine.h"

#define ES_RECORD_FORMAT 1
#define ES_RECORD_HEADER 56
/* Field offsets, for code that inspects raw records (es-check, tests). */
#define ES_RECORD_OFF_CHECKSUM 0
#define ES_RECORD_OFF_FORMAT 8
#define ES_RECORD_OFF_FLAGS 9
#define ES_RECORD_OFF_PAYLOAD_LEN 20
#define ES_RECORD_OFF_RECORDED_AT 32
#define ES_RECORD_OFF_ID 40

/* The checksum a record's bytes must carry at ES_RECORD_OFF_CHECKSUM. */
uint64_t es__record_checksum(const uint8_t *buf, size_t len);

/* What the write path knows about an event beyond es_event_data. */
typedef struct es_record_in {
	const es_event_data *ev;
	uint32_t type_id;
	uint64_t position;
	int64_t recorded_at;
} es_record_in;

/* Encoded size of metadata, or 0 with no metadata. */
size_t es__metadata_size(const es_event_data *ev);
/* Total encoded size of a record. */
size_t es__record_size(const es_event_data *ev);
/* Encodes into buf (es__record_size bytes). */
void es__record_encode(uint8_t *buf, const es_record_in *in);

/* Decoded view; pointers borrow from the record bytes. */
typedef struct es_record_view {
	uint32_t type_id;
	uint32_t schema_version;
	uint64_t position;
	int64_t recorded_at;
	int64_t occurred_at;
	uint8_t id[16];
	uint8_t correlation_id[16];
	uint8_t causation_id[16];
	const uint8_t *payload;
	size_t payload_len;
	const uint8_t *metadata;
	size_t metadata_len;
} es_record_view;

/* 0, or ES_ECORRUPT when malformed or the checksum fails (no message set). */
int es__record_decode(es_record_view *out, const uint8_t *buf, size_t len);
/* recorded_at only, checked for length but not checksum (binary search). */
int es__record_recorded_at(int64_t *out, const uint8_t *buf, size_t len);

#endif
