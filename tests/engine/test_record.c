/* test_record.c - engine/record.c: the record codec, checksums, metadata, and a damaged store. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "enginetest.h"
#include "record.h"

static const es_metadata md[] = { { "user", "alice" }, { "", "empty key" }, { "k", "" } };

static es_event_data sample(int full)
{
	es_event_data ev = et_event("Sampled", "payload bytes");
	et_id(ev.id, 77);
	ev.schema_version = 3;
	if (full) {
		ev.occurred_at = -5; /* before the epoch is allowed */
		memset(ev.correlation_id, 0xcc, 16);
		memset(ev.causation_id, 0xca, 16);
		ev.metadata = md;
		ev.metadata_count = 3;
	}
	return ev;
}

static uint8_t *encode(const es_event_data *ev, size_t *len)
{
	*len = es__record_size(ev);
	uint8_t *buf = malloc(*len + 1);
	ck_assert_ptr_nonnull(buf);
	es_record_in in = { ev, 42, 1234, ET_T0 };
	es__record_encode(buf, &in);
	return buf;
}

/* Re-checksums a record, so a test can forge a valid-looking one. */
static void reseal(uint8_t *buf, size_t len)
{
	uint64_t sum = es__record_checksum(buf, len);
	memcpy(buf + ES_RECORD_OFF_CHECKSUM, &sum, 8);
}

static void assert_pairs(const uint8_t *meta, size_t len)
{
	es_event ev;
	size_t cursor = 0, klen, vlen;
	const char *k, *v;
	memset(&ev, 0, sizeof ev);
	ev.metadata = meta;
	ev.metadata_len = len;
	for (size_t i = 0; i < 3; i++) {
		ck_assert_es(es_event_metadata_next(&ev, &cursor, &k, &klen, &v, &vlen), 0);
		ck_assert_uint_eq(klen, strlen(md[i].key));
		ck_assert_mem_eq(k, md[i].key, klen);
		ck_assert_uint_eq(vlen, strlen(md[i].value));
		ck_assert_mem_eq(v, md[i].value, vlen);
	}
	ck_assert_es(es_event_metadata_next(&ev, &cursor, &k, &klen, &v, &vlen), ES_ITEROVER);
}

START_TEST(round_trip_with_every_field)
{
	es_event_data ev = sample(1);
	size_t len;
	uint8_t *buf = encode(&ev, &len);
	ck_assert_uint_eq(len, ES_RECORD_HEADER + 8 + 32 + 13 + es__metadata_size(&ev));
	es_record_view v;
	ck_assert_es(es__record_decode(&v, buf, len), 0);
	ck_assert_uint_eq(v.type_id, 42);
	ck_assert_uint_eq(v.schema_version, 3);
	ck_assert_uint_eq(v.position, 1234);
	ck_assert_int_eq(v.recorded_at, ET_T0);
	ck_assert_int_eq(v.occurred_at, -5);
	ck_assert_mem_eq(v.id, ev.id, 16);
	ck_assert_mem_eq(v.correlation_id, ev.correlation_id, 16);
	ck_assert_mem_eq(v.causation_id, ev.causation_id, 16);
	ck_assert_uint_eq(v.payload_len, 13);
	ck_assert_mem_eq(v.payload, "payload bytes", 13);
	ck_assert_uint_eq(v.metadata_len, es__metadata_size(&ev));
	assert_pairs(v.metadata, v.metadata_len);
	int64_t at;
	ck_assert_es(es__record_recorded_at(&at, buf, len), 0);
	ck_assert_int_eq(at, ET_T0);
	free(buf);
}
END_TEST

START_TEST(round_trip_minimal)
{
	static const uint8_t zero[16];
	es_event_data ev = sample(0);
	ev.payload = NULL;
	ev.payload_len = 0;
	size_t len;
	uint8_t *buf = encode(&ev, &len);
	ck_assert_uint_eq(len, ES_RECORD_HEADER);
	ck_assert_uint_eq(es__metadata_size(&ev), 0);
	es_record_view v;
	memset(&v, 0x77, sizeof v);
	ck_assert_es(es__record_decode(&v, buf, len), 0);
	ck_assert_int_eq(v.occurred_at, 0);
	ck_assert_mem_eq(v.correlation_id, zero, 16);
	ck_assert_mem_eq(v.causation_id, zero, 16);
	ck_assert_uint_eq(v.payload_len, 0);
	ck_assert_uint_eq(v.metadata_len, 0);
	free(buf);
}
END_TEST

START_TEST(every_flipped_byte_is_corrupt)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	es_event_data ev = sample(1);
	size_t len;
	uint8_t *buf = encode(&ev, &len);
	es_record_view v;
	for (size_t i = 0; i < len; i++)
		for (size_t m = 0; m < sizeof masks; m++) {
			buf[i] ^= masks[m];
			ck_assert_msg(es__record_decode(&v, buf, len) == ES_ECORRUPT,
			              "byte %zu ^ 0x%02x went unnoticed", i, masks[m]);
			buf[i] ^= masks[m];
		}
	ck_assert_es(es__record_decode(&v, buf, len), 0);
	free(buf);
}
END_TEST

START_TEST(short_and_long_buffers_are_corrupt)
{
	es_event_data ev = sample(1);
	size_t len;
	uint8_t *buf = encode(&ev, &len);
	es_record_view v;
	int64_t at;
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n + 1); /* exact size, so ASan sees any overread */
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, buf, n);
		ck_assert_es(es__record_decode(&v, copy, n), ES_ECORRUPT);
		if (n < ES_RECORD_HEADER)
			ck_assert_es(es__record_recorded_at(&at, copy, n), ES_ECORRUPT);
		free(copy);
	}
	buf[len] = 0;
	ck_assert_es(es__record_decode(&v, buf, len + 1), ES_ECORRUPT);
	free(buf);
}
END_TEST

START_TEST(bad_layout_with_valid_checksum)
{
	es_event_data ev = sample(0);
	size_t len;
	uint8_t *buf = encode(&ev, &len);
	es_record_view v;
	int64_t at;
	uint32_t plen = (uint32_t)(len - ES_RECORD_HEADER + 1);
	memcpy(buf + ES_RECORD_OFF_PAYLOAD_LEN, &plen, 4); /* payload runs past the end */
	reseal(buf, len);
	ck_assert_es(es__record_decode(&v, buf, len), ES_ECORRUPT);
	plen = UINT32_MAX;
	memcpy(buf + ES_RECORD_OFF_PAYLOAD_LEN, &plen, 4);
	reseal(buf, len);
	ck_assert_es(es__record_decode(&v, buf, len), ES_ECORRUPT);
	plen = (uint32_t)(len - ES_RECORD_HEADER);
	memcpy(buf + ES_RECORD_OFF_PAYLOAD_LEN, &plen, 4);
	buf[ES_RECORD_OFF_FLAGS] = 7; /* optional fields that are not there */
	reseal(buf, len);
	ck_assert_es(es__record_decode(&v, buf, len), ES_ECORRUPT);
	buf[ES_RECORD_OFF_FLAGS] = 8; /* an unknown flag */
	reseal(buf, len);
	ck_assert_es(es__record_decode(&v, buf, len), ES_ECORRUPT);
	buf[ES_RECORD_OFF_FLAGS] = 0;
	buf[ES_RECORD_OFF_FORMAT] = ES_RECORD_FORMAT + 1;
	reseal(buf, len);
	ck_assert_es(es__record_decode(&v, buf, len), ES_ECORRUPT);
	ck_assert_es(es__record_recorded_at(&at, buf, len), ES_ECORRUPT);
	buf[ES_RECORD_OFF_FORMAT] = ES_RECORD_FORMAT;
	reseal(buf, len);
	ck_assert_es(es__record_decode(&v, buf, len), 0);
	free(buf);
}
END_TEST

/* Walks metadata bytes; returns the first non-zero code. */
static int walk(const void *bytes, size_t len, size_t cursor)
{
	es_event ev;
	size_t klen, vlen;
	const char *k, *v;
	int rc;
	memset(&ev, 0, sizeof ev);
	ev.metadata = bytes;
	ev.metadata_len = len;
	while ((rc = es_event_metadata_next(&ev, &cursor, &k, &klen, &v, &vlen)) == 0)
		ck_assert(k + klen <= (const char *)bytes + len && v + vlen <= (const char *)bytes + len);
	return rc;
}

START_TEST(malformed_metadata_is_corrupt)
{
	static const uint8_t good[] = { 1, 0, 0, 0, 1, 0, 0, 0, 'k', 1, 0, 0, 0, 'v' };
	static const uint8_t long_key[] = { 1, 0, 0, 0, 100, 0, 0, 0, 'k' };
	static const uint8_t no_value[] = { 1, 0, 0, 0, 1, 0, 0, 0, 'k', 1, 0 };
	static const uint8_t huge_value[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t empty[] = { 0, 0, 0, 0 };
	ck_assert_es(walk(good, sizeof good, 0), ES_ITEROVER);
	ck_assert_es(walk(empty, sizeof empty, 0), ES_ITEROVER);
	ck_assert_es(walk(long_key, sizeof long_key, 0), ES_ECORRUPT);
	ck_assert_es(walk(no_value, sizeof no_value, 0), ES_ECORRUPT);
	ck_assert_es(walk(huge_value, sizeof huge_value, 0), ES_ECORRUPT);
	ck_assert_es(walk(good, 2, 0), ES_ECORRUPT);
	ck_assert_es(walk(good, sizeof good - 1, 0), ES_ECORRUPT);
	ck_assert_es(walk(good, sizeof good, sizeof good + 3), ES_ECORRUPT);
}
END_TEST

/* ---- a damaged store ---- */

#define MARK "DISTINCTIVE-PAYLOAD-7f3a9c"
#define META_MARK "DISTINCTIVE-META-51be07"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	*len = (size_t)ftell(f);
	rewind(f);
	char *buf = malloc(*len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

/* Copies the store's data.mdb to <store>/copy, flipping a byte inside every
 * occurrence of mark; returns the copy's directory (static). */
static const char *damaged_copy(const char *mark)
{
	static char copy[600];
	char path[700];
	size_t len, hits = 0, mlen = strlen(mark);
	snprintf(path, sizeof path, "%s/data.mdb", et_path);
	char *data = slurp(path, &len);
	for (char *p = data; (p = memmem(p, len - (size_t)(p - data), mark, mlen)) != NULL; p += mlen) {
		p[mlen / 2] ^= 0x20;
		hits++;
	}
	ck_assert_uint_gt(hits, 0);
	snprintf(copy, sizeof copy, "%s/copy", et_path);
	ck_assert_int_eq(mkdir(copy, 0700), 0);
	snprintf(path, sizeof path, "%s/data.mdb", copy);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(data);
	return copy;
}

/* victim: v0, v1 (marked, id 500), v2; bystander: two events. */
static void make_victim(void)
{
	es_event_data evs[3] = { et_event("T", "ordinary-0"), et_event("T", MARK), et_event("T", "ordinary-2") };
	es_metadata meta = { "note", META_MARK };
	evs[2].metadata = &meta;
	evs[2].metadata_count = 1;
	et_id(evs[1].id, 500);
	ck_assert_es(es_stream_append(NULL, et_db, "victim", ES_NO_STREAM, evs, 3), 0);
	et_append_ok(et_db, "bystander", ES_NO_STREAM, 2);
	es_db_close(et_db);
	et_db = NULL;
}

static void assert_iter_stops(es_iter *it, size_t good_first)
{
	es_event ev;
	for (size_t i = 0; i < good_first; i++)
		ck_assert_es(es_iter_next(&ev, it), 0);
	ck_assert_es(es_iter_next(&ev, it), ES_ECORRUPT);
	es_iter_free(it);
}

START_TEST(damaged_payload_reads_as_corrupt)
{
	make_victim();
	et_db = et_open_path(damaged_copy(MARK), NULL);
	es_read *rd;
	es_iter *it;
	es_event ev;
	int64_t v;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_get(&ev, rd, "victim", 1), ES_ECORRUPT);
	et_assert_msg_has("'victim' version 1");
	ck_assert_es(es_stream_get(&ev, rd, "victim", 0), 0);
	ck_assert_es(es_stream_get(&ev, rd, "victim", 2), 0);
	ck_assert_es(es_stream_iter(&it, rd, "victim", 0, ES_FORWARD, ES_NO_LIMIT), 0);
	assert_iter_stops(it, 1);
	ck_assert_es(es_stream_iter(&it, rd, "victim", ES_HEAD, ES_BACKWARD, ES_NO_LIMIT), 0);
	assert_iter_stops(it, 1);
	ck_assert_es(es_log_iter(&it, rd, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	assert_iter_stops(it, 1);
	ck_assert_es(es_stream_version_at(&v, rd, "victim", INT64_MAX), 0);
	es_read_end(rd);
	ck_assert_uint_eq(et_count(et_db, "bystander"), 2);
	es_event_data retry = et_event("T", MARK); /* a replay must read the original */
	et_id(retry.id, 500);
	ck_assert_es(es_stream_append(NULL, et_db, "victim", 0, &retry, 1), ES_ECORRUPT);
}
END_TEST

START_TEST(damaged_metadata_reads_as_corrupt)
{
	make_victim();
	et_db = et_open_path(damaged_copy(META_MARK), NULL);
	es_read *rd;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_get(&ev, rd, "victim", 2), ES_ECORRUPT);
	ck_assert_es(es_stream_get(&ev, rd, "victim", 1), 0);
	ck_assert_uint_eq(ev.payload_len, strlen(MARK));
	es_read_end(rd);
	es_db_close(et_db);
	et_db = et_open_path(et_path, NULL); /* the original is intact */
	ck_assert_uint_eq(et_count(et_db, "victim"), 3);
}
END_TEST

TCase *es_tc_record(void)
{
	TCase *tc = tcase_create("record");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trip_with_every_field);
	tcase_add_test(tc, round_trip_minimal);
	tcase_add_test(tc, every_flipped_byte_is_corrupt);
	tcase_add_test(tc, short_and_long_buffers_are_corrupt);
	tcase_add_test(tc, bad_layout_with_valid_checksum);
	tcase_add_test(tc, malformed_metadata_is_corrupt);
	tcase_add_test(tc, damaged_payload_reads_as_corrupt);
	tcase_add_test(tc, damaged_metadata_reads_as_corrupt);
	return tc;
}
