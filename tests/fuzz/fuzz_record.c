/*
 * fuzz_record.c - the engine's record decoder (es__record_decode, private:
 * engine/record.h) and the metadata walk over what it yields
 * (es_event_metadata_next). The input is a stored record. It is decoded
 * as it is (the checksum rejects nearly every mutation), then again with
 * its checksum made right, so mutations reach the layout checks behind it.
 * Properties: a decoded view lies inside the input; the metadata walk ends
 * in ES_ITEROVER or ES_ECORRUPT, with every pair inside the metadata.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "record.h"

static void walk_metadata(const es_record_view *v)
{
	es_event ev;
	memset(&ev, 0, sizeof ev);
	ev.metadata = v->metadata;
	ev.metadata_len = v->metadata_len;
	size_t cursor = 0, kl, vl, pairs = 0;
	const char *k, *val;
	int rc;
	while ((rc = es_event_metadata_next(&ev, &cursor, &k, &kl, &val, &vl)) == 0) {
		const uint8_t *end = v->metadata + v->metadata_len;
		FUZZ_CHECK((const uint8_t *)k >= v->metadata && (const uint8_t *)k + kl <= end);
		FUZZ_CHECK((const uint8_t *)val >= v->metadata && (const uint8_t *)val + vl <= end);
		FUZZ_CHECK(cursor <= v->metadata_len);
		FUZZ_CHECK(++pairs <= v->metadata_len); /* each step consumes bytes */
	}
	FUZZ_CHECK(rc == ES_ITEROVER || rc == ES_ECORRUPT);
}

static void decode(const uint8_t *buf, size_t len)
{
	es_record_view v;
	int64_t at;
	if (es__record_recorded_at(&at, buf, len) == 0)
		FUZZ_CHECK(len >= ES_RECORD_HEADER);
	if (es__record_decode(&v, buf, len) != 0)
		return;
	FUZZ_CHECK(v.payload >= buf && v.payload + v.payload_len <= buf + len);
	FUZZ_CHECK(v.metadata == v.payload + v.payload_len);
	FUZZ_CHECK(v.metadata + v.metadata_len == buf + len);
	walk_metadata(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode(data, size);
	if (size < 8)
		return 0;
	uint8_t *copy = malloc(size);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	uint64_t sum = es__record_checksum(copy, size);
	memcpy(copy + ES_RECORD_OFF_CHECKSUM, &sum, 8);
	decode(copy, size);
	free(copy);
	return 0;
}
