/* test_read.c - engine/read.c: reads, stream and log iterators, es_stream_get, renew. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enginetest.h"

/* Appends n events to stream, one call each, payload "<stream>-<version>". */
static void fill(const char *stream, int n)
{
	for (int i = 0; i < n; i++) {
		char payload[64];
		int64_t head = et_head(et_db, stream);
		snprintf(payload, sizeof payload, "%s-%lld", stream, (long long)(head < 0 ? 0 : head + 1));
		es_event_data ev = et_event("Filled", payload);
		ck_assert_es(es_stream_append(NULL, et_db, stream, ES_ANY, &ev, 1), 0);
	}
}

/* Interleaves streams a (n_a events), b and c so positions are not contiguous. */
static void fill_three(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		fill("a", 2);
		fill("b", 1);
		fill("c", 1);
	}
}

static void assert_payload(const es_event *ev, const char *stream, int64_t version)
{
	char want[64];
	snprintf(want, sizeof want, "%s-%lld", stream, (long long)version);
	ck_assert_str_eq(ev->stream, stream);
	ck_assert_int_eq(ev->version, version);
	ck_assert_str_eq(ev->type, "Filled");
	ck_assert_uint_eq(ev->payload_len, strlen(want));
	ck_assert_mem_eq(ev->payload, want, ev->payload_len);
}

/* Iterates stream and asserts exactly the versions want[0..n-1]. */
static void assert_stream_iter(const char *stream, int64_t from, es_direction dir, size_t limit,
                               const int64_t *want, size_t n)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_iter(&it, rd, stream, from, dir, limit), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_es(es_iter_next(&ev, it), 0);
		assert_payload(&ev, stream, want[i]);
	}
	ck_assert_es(es_iter_next(&ev, it), ES_ITEROVER);
	ck_assert_es(es_iter_next(&ev, it), ES_ITEROVER);
	es_iter_free(it);
	es_read_end(rd);
}

#define WANT(...) (const int64_t[]){ __VA_ARGS__ }, sizeof((const int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)

START_TEST(stream_forward_with_from_and_limit)
{
	fill_three(5); /* a: 0..9 */
	assert_stream_iter("a", 0, ES_FORWARD, ES_NO_LIMIT, WANT(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
	assert_stream_iter("a", 3, ES_FORWARD, 4, WANT(3, 4, 5, 6));
	assert_stream_iter("a", 8, ES_FORWARD, 10, WANT(8, 9));
	assert_stream_iter("a", 9, ES_FORWARD, ES_NO_LIMIT, WANT(9));
	assert_stream_iter("a", -5, ES_FORWARD, 2, WANT(0, 1));
	assert_stream_iter("a", 10, ES_FORWARD, ES_NO_LIMIT, NULL, 0);
	assert_stream_iter("a", 0, ES_FORWARD, 0, NULL, 0);
	assert_stream_iter("b", 0, ES_FORWARD, ES_NO_LIMIT, WANT(0, 1, 2, 3, 4));
}
END_TEST

START_TEST(stream_backward_with_from_and_limit)
{
	fill_three(5);
	assert_stream_iter("a", ES_HEAD, ES_BACKWARD, ES_NO_LIMIT, WANT(9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
	assert_stream_iter("a", 5, ES_BACKWARD, 2, WANT(5, 4));
	assert_stream_iter("a", 1, ES_BACKWARD, 5, WANT(1, 0));
	assert_stream_iter("a", 0, ES_BACKWARD, ES_NO_LIMIT, WANT(0));
	assert_stream_iter("a", 42, ES_BACKWARD, 1, WANT(9));
	assert_stream_iter("a", -1, ES_BACKWARD, ES_NO_LIMIT, NULL, 0);
	assert_stream_iter("c", ES_HEAD, ES_BACKWARD, 0, NULL, 0);
}
END_TEST

START_TEST(stream_get_by_version)
{
	fill_three(3);
	es_read *rd;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_get(&ev, rd, "a", 3), 0);
	assert_payload(&ev, "a", 3);
	ck_assert_uint_eq(ev.position, 6); /* a0 a1 b0 c0 a2 a3 */
	ck_assert_es(es_stream_get(&ev, rd, "c", 2), 0);
	assert_payload(&ev, "c", 2);
	ck_assert_uint_eq(ev.position, 12);
	ck_assert_es(es_stream_get(&ev, rd, "a", 6), ES_ENOTFOUND);
	et_assert_msg_has("'a'");
	ck_assert_es(es_stream_get(&ev, rd, "a", -1), ES_ENOTFOUND);
	ck_assert_es(es_stream_get(&ev, rd, "a", INT64_MAX), ES_ENOTFOUND);
	ck_assert_es(es_stream_get(&ev, rd, "nope", 0), ES_ENOTFOUND);
	et_assert_msg_has("nope");
	es_read_end(rd);
}
END_TEST

/* Iterates the log and asserts positions want[0..n-1] with the fill layout
 * of fill_three (a0 a1 b0 c0 | a2 a3 b1 c1 | ...). */
static void assert_log_iter(uint64_t from, es_direction dir, size_t limit, const int64_t *want, size_t n)
{
	static const char *const names[] = { "a", "a", "b", "c" };
	es_read *rd;
	es_iter *it;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_log_iter(&it, rd, from, dir, limit), 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t p = (uint64_t)want[i], round = (p - 1) / 4, slot = (p - 1) % 4;
		int64_t version = slot < 2 ? (int64_t)(round * 2 + slot) : (int64_t)round;
		ck_assert_es(es_iter_next(&ev, it), 0);
		ck_assert_uint_eq(ev.position, p);
		assert_payload(&ev, names[slot], version);
	}
	ck_assert_es(es_iter_next(&ev, it), ES_ITEROVER);
	es_iter_free(it);
	es_read_end(rd);
}

START_TEST(log_forward_and_backward)
{
	fill_three(3); /* positions 1..12 */
	assert_log_iter(0, ES_FORWARD, ES_NO_LIMIT, WANT(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
	assert_log_iter(1, ES_FORWARD, 2, WANT(1, 2));
	assert_log_iter(5, ES_FORWARD, 3, WANT(5, 6, 7));
	assert_log_iter(11, ES_FORWARD, ES_NO_LIMIT, WANT(11, 12));
	assert_log_iter(13, ES_FORWARD, ES_NO_LIMIT, NULL, 0);
	assert_log_iter(ES_LOG_END, ES_BACKWARD, ES_NO_LIMIT, WANT(12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1));
	assert_log_iter(7, ES_BACKWARD, 2, WANT(7, 6));
	assert_log_iter(100, ES_BACKWARD, 1, WANT(12));
	assert_log_iter(1, ES_BACKWARD, ES_NO_LIMIT, WANT(1));
	assert_log_iter(0, ES_BACKWARD, ES_NO_LIMIT, NULL, 0);
	assert_log_iter(ES_LOG_END, ES_FORWARD, ES_NO_LIMIT, NULL, 0);
	assert_log_iter(3, ES_FORWARD, 0, NULL, 0);
}
END_TEST

START_TEST(log_of_empty_store)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	uint64_t head = 99;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_log_head(&head, rd), 0);
	ck_assert_uint_eq(head, 0);
	ck_assert_es(es_log_iter(&it, rd, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	ck_assert_es(es_iter_next(&ev, it), ES_ITEROVER);
	es_iter_free(it);
	ck_assert_es(es_log_iter(&it, rd, ES_LOG_END, ES_BACKWARD, ES_NO_LIMIT), 0);
	ck_assert_es(es_iter_next(&ev, it), ES_ITEROVER);
	es_iter_free(it);
	ck_assert_es(es_stream_get(&ev, rd, "a", 0), ES_ENOTFOUND);
	ck_assert_es(es_stream_iter(&it, rd, "a", 0, ES_FORWARD, 1), ES_ENOTFOUND);
	es_read_end(rd);
}
END_TEST

static const es_metadata md[] = {
	{ "user", "alice" }, { "empty", "" }, { "trace", "id=42;span=7" },
};

/* An event with every optional field set. */
static es_event_data full_event(const char *payload)
{
	es_event_data ev = et_event("Full", payload);
	ev.schema_version = 7;
	ev.occurred_at = 1234567890123456789;
	for (int i = 0; i < 16; i++) {
		ev.correlation_id[i] = (uint8_t)(0xc0 + i);
		ev.causation_id[i] = (uint8_t)(0x10 + i);
	}
	ev.metadata = md;
	ev.metadata_count = 3;
	return ev;
}

static void assert_full(const es_event *got, const es_event_data *sent)
{
	ck_assert_str_eq(got->type, "Full");
	ck_assert_uint_eq(got->schema_version, 7);
	ck_assert_int_eq(got->occurred_at, sent->occurred_at);
	ck_assert_mem_eq(got->correlation_id, sent->correlation_id, 16);
	ck_assert_mem_eq(got->causation_id, sent->causation_id, 16);
	ck_assert_mem_eq(got->id, sent->id, 16);
	ck_assert_int_eq(got->recorded_at, sent->recorded_at);
	ck_assert_uint_eq(got->payload_len, sent->payload_len);
	ck_assert_mem_eq(got->payload, sent->payload, sent->payload_len);
	size_t cursor = 0, klen, vlen;
	const char *k, *v;
	for (size_t i = 0; i < 3; i++) {
		ck_assert_es(es_event_metadata_next(got, &cursor, &k, &klen, &v, &vlen), 0);
		ck_assert_uint_eq(klen, strlen(md[i].key));
		ck_assert_mem_eq(k, md[i].key, klen);
		ck_assert_uint_eq(vlen, strlen(md[i].value));
		ck_assert_mem_eq(v, md[i].value, vlen);
	}
	ck_assert_es(es_event_metadata_next(got, &cursor, &k, &klen, &v, &vlen), ES_ITEROVER);
}

static void assert_plain(const es_event *got)
{
	static const uint8_t zero[16];
	size_t cursor = 0, klen, vlen;
	const char *k, *v;
	ck_assert_str_eq(got->type, "Plain");
	ck_assert_int_eq(got->occurred_at, 0);
	ck_assert_mem_eq(got->correlation_id, zero, 16);
	ck_assert_mem_eq(got->causation_id, zero, 16);
	ck_assert_uint_eq(got->payload_len, 0);
	ck_assert_es(es_event_metadata_next(got, &cursor, &k, &klen, &v, &vlen), ES_ITEROVER);
}

START_TEST(fields_round_trip)
{
	es_event_data evs[2] = { full_event("\x01\x00\x02 binary"), et_event("Plain", "") };
	evs[0].payload_len = 9;
	evs[1].payload = NULL;
	ck_assert_es(es_stream_append(NULL, et_db, "f", ES_NO_STREAM, evs, 2), 0);
	for (int pass = 0; pass < 2; pass++) {
		es_read *rd;
		es_iter *it;
		es_event ev;
		ck_assert_es(es_read_begin(&rd, et_db), 0);
		ck_assert_es(es_stream_get(&ev, rd, "f", 0), 0);
		assert_full(&ev, &evs[0]);
		ck_assert_es(es_log_iter(&it, rd, 0, ES_FORWARD, ES_NO_LIMIT), 0);
		ck_assert_es(es_iter_next(&ev, it), 0);
		assert_full(&ev, &evs[0]);
		ck_assert_es(es_iter_next(&ev, it), 0);
		assert_plain(&ev);
		ck_assert_str_eq(ev.stream, "f");
		es_iter_free(it);
		es_read_end(rd);
		et_reopen(); /* the type names come back from disk */
	}
}
END_TEST

START_TEST(metadata_next_bad_arguments)
{
	es_event ev;
	size_t cursor = 0, klen, vlen;
	const char *k, *v;
	memset(&ev, 0, sizeof ev);
	ck_assert_es(es_event_metadata_next(NULL, &cursor, &k, &klen, &v, &vlen), ES_EINVAL);
	ck_assert_es(es_event_metadata_next(&ev, NULL, &k, &klen, &v, &vlen), ES_EINVAL);
	ck_assert_es(es_event_metadata_next(&ev, &cursor, NULL, &klen, &v, &vlen), ES_EINVAL);
	ck_assert_es(es_event_metadata_next(&ev, &cursor, &k, &klen, &v, NULL), ES_EINVAL);
	et_assert_msg_has("value_len are required");
	ck_assert_es(es_event_metadata_next(&ev, &cursor, &k, &klen, &v, &vlen), ES_ITEROVER);
}
END_TEST

/* Metadata whose second entry claims more bytes than there are: the first
 * pair still reads, then ES_ECORRUPT names the event and where it broke. */
START_TEST(metadata_next_malformed)
{
	static const uint8_t bytes[] = { 2, 0, 0, 0, 1, 0, 0, 0, 'k', 1, 0, 0, 0, 'v',
	                                 1, 0, 0, 0, 'x', 99, 0, 0, 0, 'y' };
	es_event ev;
	memset(&ev, 0, sizeof ev);
	ev.stream = "meta";
	ev.version = 7;
	ev.metadata = bytes;
	ev.metadata_len = sizeof bytes;
	size_t cursor = 0, klen, vlen;
	const char *k, *v;
	ck_assert_es(es_event_metadata_next(&ev, &cursor, &k, &klen, &v, &vlen), 0);
	ck_assert_uint_eq(klen, 1);
	ck_assert_int_eq(k[0], 'k');
	ck_assert_es(es_event_metadata_next(&ev, &cursor, &k, &klen, &v, &vlen), ES_ECORRUPT);
	et_assert_msg_has("stream 'meta' version 7: its metadata is malformed after byte 14");
}
END_TEST

/* ---- renew ---- */

static void *append_in_thread(void *arg)
{
	const char *stream = arg;
	es_event_data evs[2] = { et_event("Filled", ""), et_event("Filled", "") };
	char p[2][64];
	int64_t head = et_head(et_db, stream);
	for (int i = 0; i < 2; i++) {
		snprintf(p[i], sizeof p[i], "%s-%lld", stream, (long long)(head + 1 + i));
		evs[i].payload = p[i];
		evs[i].payload_len = strlen(p[i]);
	}
	int rc = es_stream_append(NULL, et_db, stream, head, evs, 2);
	return rc == 0 ? arg : NULL;
}

static void *delete_in_thread(void *arg)
{
	return es_stream_delete(et_db, arg, ES_ANY) == 0 ? arg : NULL;
}

static void *tombstone_in_thread(void *arg)
{
	return es_stream_tombstone(et_db, arg, ES_ANY) == 0 ? arg : NULL;
}

/* Writes from another thread while this one holds a read (the header asks
 * not to append from a thread that holds a read). */
static void in_thread(void *(*fn)(void *), const char *stream)
{
	pthread_t t;
	void *ok;
	ck_assert_int_eq(pthread_create(&t, NULL, fn, (void *)stream), 0);
	ck_assert_int_eq(pthread_join(t, &ok), 0);
	ck_assert_ptr_nonnull(ok);
}

static void append_two_elsewhere(const char *stream)
{
	in_thread(append_in_thread, stream);
}

START_TEST(renew_continues_log_iterator)
{
	fill_three(1); /* a0 a1 b0 c0 */
	es_read *rd;
	es_iter *fwd, *back;
	es_event ev;
	uint64_t head;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_log_iter(&fwd, rd, 3, ES_FORWARD, ES_NO_LIMIT), 0);
	ck_assert_es(es_log_iter(&back, rd, ES_LOG_END, ES_BACKWARD, ES_NO_LIMIT), 0);
	ck_assert_es(es_iter_next(&ev, fwd), 0);
	ck_assert_es(es_iter_next(&ev, fwd), 0);
	ck_assert_uint_eq(ev.position, 4);
	ck_assert_es(es_iter_next(&ev, back), 0);
	ck_assert_uint_eq(ev.position, 4);
	append_two_elsewhere("b"); /* positions 5, 6 */
	ck_assert_es(es_iter_next(&ev, fwd), ES_ITEROVER); /* the snapshot holds */
	ck_assert_es(es_log_head(&head, rd), 0);
	ck_assert_uint_eq(head, 4);
	ck_assert_es(es_read_renew(rd), 0);
	ck_assert_es(es_log_head(&head, rd), 0);
	ck_assert_uint_eq(head, 6);
	ck_assert_es(es_iter_next(&ev, fwd), 0);
	ck_assert_uint_eq(ev.position, 5);
	assert_payload(&ev, "b", 1);
	ck_assert_es(es_iter_next(&ev, fwd), 0);
	assert_payload(&ev, "b", 2);
	ck_assert_es(es_iter_next(&ev, fwd), ES_ITEROVER);
	ck_assert_es(es_iter_next(&ev, back), 0);
	ck_assert_uint_eq(ev.position, 3);
	es_iter_free(fwd);
	es_iter_free(back);
	es_read_end(rd);
}
END_TEST

START_TEST(renew_continues_stream_iterator)
{
	fill("s", 3);
	es_read *rd;
	es_iter *it, *limited;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_iter(&it, rd, "s", 0, ES_FORWARD, ES_NO_LIMIT), 0);
	ck_assert_es(es_stream_iter(&limited, rd, "s", 1, ES_FORWARD, 3), 0);
	ck_assert_es(es_iter_next(&ev, it), 0);
	ck_assert_es(es_iter_next(&ev, it), 0);
	assert_payload(&ev, "s", 1);
	ck_assert_es(es_iter_next(&ev, limited), 0);
	append_two_elsewhere("s"); /* versions 3, 4 */
	ck_assert_es(es_read_renew(rd), 0);
	for (int64_t v = 2; v <= 4; v++) {
		ck_assert_es(es_iter_next(&ev, it), 0);
		assert_payload(&ev, "s", v);
	}
	ck_assert_es(es_iter_next(&ev, it), ES_ITEROVER);
	ck_assert_es(es_iter_next(&ev, limited), 0);
	assert_payload(&ev, "s", 2);
	ck_assert_es(es_iter_next(&ev, limited), 0);
	assert_payload(&ev, "s", 3);
	ck_assert_es(es_iter_next(&ev, limited), ES_ITEROVER); /* the limit still counts */
	es_iter_free(it);
	es_iter_free(limited);
	es_read_end(rd);
}
END_TEST

START_TEST(renew_sees_deletes)
{
	fill("s", 3);
	es_read *rd;
	es_iter *it;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_iter(&it, rd, "s", 0, ES_FORWARD, ES_NO_LIMIT), 0);
	ck_assert_es(es_iter_next(&ev, it), 0);
	assert_payload(&ev, "s", 0);
	in_thread(delete_in_thread, "s");
	append_two_elsewhere("s"); /* recreated: versions 3, 4; 1 and 2 are hidden */
	ck_assert_es(es_iter_next(&ev, it), 0); /* the old snapshot still shows 1 */
	assert_payload(&ev, "s", 1);
	ck_assert_es(es_read_renew(rd), 0);
	ck_assert_es(es_iter_next(&ev, it), 0);
	assert_payload(&ev, "s", 3);
	in_thread(tombstone_in_thread, "s");
	ck_assert_es(es_read_renew(rd), 0);
	ck_assert_es(es_iter_next(&ev, it), ES_EDELETED);
	et_assert_msg_has("'s'");
	es_iter_free(it);
	es_read_end(rd);
}
END_TEST

START_TEST(events_outlive_their_iterator)
{
	static const char *const names[] = { "a", "a", "b", "c" };
	fill_three(1); /* a0 a1 b0 c0 */
	es_read *rd;
	es_iter *it;
	es_event evs[4], ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_log_iter(&it, rd, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_es(es_iter_next(&evs[i], it), 0);
	es_iter_free(it);
	for (int i = 0; i < 4; i++) /* valid until the read ends */
		assert_payload(&evs[i], names[i], i == 1);
	ck_assert_es(es_stream_iter(&it, rd, "b", 0, ES_FORWARD, ES_NO_LIMIT), 0);
	ck_assert_es(es_iter_next(&ev, it), 0);
	es_iter_free(it);
	assert_payload(&ev, "b", 0);
	char *name = strdup("c");
	ck_assert_ptr_nonnull(name);
	ck_assert_es(es_stream_get(&ev, rd, name, 0), 0);
	free(name);
	assert_payload(&ev, "c", 0);
	es_read_end(rd);
}
END_TEST

START_TEST(names_of_many_streams)
{
	enum { N = 300 };
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "many-%d", i);
		fill(name, 1);
	}
	es_event *evs = calloc(N, sizeof *evs);
	ck_assert_ptr_nonnull(evs);
	for (int pass = 0; pass < 2; pass++) { /* again after a renew */
		es_read *rd;
		es_iter *it;
		ck_assert_es(es_read_begin(&rd, et_db), 0);
		if (pass)
			ck_assert_es(es_read_renew(rd), 0);
		ck_assert_es(es_log_iter(&it, rd, ES_LOG_END, ES_BACKWARD, ES_NO_LIMIT), 0);
		for (int i = N - 1; i >= 0; i--)
			ck_assert_es(es_iter_next(&evs[i], it), 0);
		es_iter_free(it);
		for (int i = 0; i < N; i++) {
			snprintf(name, sizeof name, "many-%d", i);
			assert_payload(&evs[i], name, 0);
		}
		es_read_end(rd);
	}
	free(evs);
}
END_TEST

START_TEST(read_bad_arguments)
{
	fill("a", 1);
	es_read *rd;
	es_iter *it;
	es_event ev;
	uint64_t head;
	ck_assert_es(es_read_begin(NULL, et_db), ES_EINVAL);
	ck_assert_es(es_read_begin(&rd, NULL), ES_EINVAL);
	ck_assert_es(es_read_renew(NULL), ES_EINVAL);
	es_read_end(NULL);
	es_iter_free(NULL);
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_iter(NULL, rd, "a", 0, ES_FORWARD, 1), ES_EINVAL);
	ck_assert_es(es_stream_iter(&it, NULL, "a", 0, ES_FORWARD, 1), ES_EINVAL);
	ck_assert_es(es_stream_iter(&it, rd, NULL, 0, ES_FORWARD, 1), ES_EINVAL);
	ck_assert_es(es_stream_iter(&it, rd, "a", 0, (es_direction)5, 1), ES_EINVAL);
	ck_assert_es(es_log_iter(NULL, rd, 0, ES_FORWARD, 1), ES_EINVAL);
	ck_assert_es(es_log_iter(&it, NULL, 0, ES_FORWARD, 1), ES_EINVAL);
	ck_assert_es(es_log_iter(&it, rd, 0, (es_direction)-1, 1), ES_EINVAL);
	ck_assert_es(es_stream_get(NULL, rd, "a", 0), ES_EINVAL);
	ck_assert_es(es_stream_get(&ev, NULL, "a", 0), ES_EINVAL);
	ck_assert_es(es_stream_get(&ev, rd, NULL, 0), ES_EINVAL);
	ck_assert_es(es_log_head(NULL, rd), ES_EINVAL);
	ck_assert_es(es_log_head(&head, NULL), ES_EINVAL);
	ck_assert_es(es_log_iter(&it, rd, 0, ES_FORWARD, 1), 0);
	ck_assert_es(es_iter_next(NULL, it), ES_EINVAL);
	ck_assert_es(es_iter_next(&ev, NULL), ES_EINVAL);
	ck_assert_es(es_iter_next(&ev, it), 0);
	es_iter_free(it);
	es_read_end(rd);
}
END_TEST

TCase *es_tc_read(void)
{
	TCase *tc = tcase_create("read");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, stream_forward_with_from_and_limit);
	tcase_add_test(tc, stream_backward_with_from_and_limit);
	tcase_add_test(tc, stream_get_by_version);
	tcase_add_test(tc, log_forward_and_backward);
	tcase_add_test(tc, log_of_empty_store);
	tcase_add_test(tc, fields_round_trip);
	tcase_add_test(tc, metadata_next_bad_arguments);
	tcase_add_test(tc, metadata_next_malformed);
	tcase_add_test(tc, renew_continues_log_iterator);
	tcase_add_test(tc, renew_continues_stream_iterator);
	tcase_add_test(tc, renew_sees_deletes);
	tcase_add_test(tc, events_outlive_their_iterator);
	tcase_add_test(tc, names_of_many_streams);
	tcase_add_test(tc, read_bad_arguments);
	return tc;
}
