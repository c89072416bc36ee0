/* test_append.c - engine/append.c: expected versions, idempotency, batches, recorded_at. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evstore/check.h>

#include "enginetest.h"

/* Appends one event with a generated id; returns the code, fills *res. */
static int append1(es_append_result *res, const char *stream, int64_t expected)
{
	es_event_data ev = et_event("Tested", "x");
	res->first_version = res->head_version = 12345;
	res->replayed = 7;
	return es_stream_append(res, et_db, stream, expected, &ev, 1);
}

static void assert_conflict(const char *stream, int64_t expected, int64_t head)
{
	es_append_result res;
	uint64_t log = et_log_head(et_db);
	ck_assert_es(append1(&res, stream, expected), ES_ECONFLICT);
	ck_assert_int_eq(res.head_version, head);
	et_assert_msg_has(stream);
	ck_assert_uint_eq(et_log_head(et_db), log);
}

static void assert_appended(const char *stream, int64_t expected, int64_t version)
{
	es_append_result res;
	ck_assert_es(append1(&res, stream, expected), 0);
	ck_assert_int_eq(res.first_version, version);
	ck_assert_int_eq(res.head_version, version);
	ck_assert_int_eq(res.replayed, 0);
	ck_assert_int_eq(et_head(et_db, stream), version);
}

START_TEST(expected_on_new_stream)
{
	assert_conflict("new", ES_STREAM_EXISTS, -1);
	assert_conflict("new", 0, -1);
	assert_conflict("new", 5, -1);
	ck_assert_int_eq(et_head(et_db, "new"), -2);
	ck_assert_msg(strstr(es_error_last()->message, "new") != NULL, "not found names the stream");
	assert_appended("new", ES_NO_STREAM, 0);
	assert_appended("other", ES_ANY, 0);
	ck_assert_uint_eq(et_log_head(et_db), 2);
}
END_TEST

START_TEST(expected_on_existing_stream)
{
	et_append_ok(et_db, "s", ES_NO_STREAM, 3);
	assert_conflict("s", ES_NO_STREAM, 2);
	et_assert_msg_has("version 2");
	assert_conflict("s", 0, 2);
	assert_conflict("s", 1, 2);
	assert_conflict("s", 3, 2);
	assert_appended("s", ES_STREAM_EXISTS, 3);
	assert_appended("s", 3, 4);
	assert_appended("s", ES_ANY, 5);
	ck_assert_uint_eq(et_log_head(et_db), 6);
	ck_assert_uint_eq(et_count(et_db, "s"), 6);
}
END_TEST

static void make_soft_deleted(const char *stream)
{
	et_append_ok(et_db, stream, ES_NO_STREAM, 2);
	ck_assert_es(es_stream_delete(et_db, stream, 1), 0);
}

START_TEST(expected_on_soft_deleted_stream)
{
	make_soft_deleted("a");
	assert_conflict("a", ES_STREAM_EXISTS, 1);
	et_assert_msg_has("soft-deleted");
	assert_conflict("a", 0, 1);
	assert_conflict("a", 2, 1);
	assert_appended("a", ES_NO_STREAM, 2);
	make_soft_deleted("b");
	assert_appended("b", ES_ANY, 2);
	make_soft_deleted("c");
	assert_appended("c", 1, 2); /* the head survives a soft delete */
	ck_assert_uint_eq(et_count(et_db, "a"), 1);
	ck_assert_uint_eq(et_count(et_db, "c"), 1);
}
END_TEST

static void assert_deleted(const char *stream, int64_t expected)
{
	es_append_result res;
	uint64_t log = et_log_head(et_db);
	ck_assert_es(append1(&res, stream, expected), ES_EDELETED);
	et_assert_msg_has(stream);
	ck_assert_es(es_stream_append(NULL, et_db, stream, expected, NULL, 0), ES_EDELETED);
	ck_assert_uint_eq(et_log_head(et_db), log);
}

START_TEST(expected_on_tombstoned_stream)
{
	et_append_ok(et_db, "t", ES_NO_STREAM, 2);
	ck_assert_es(es_stream_tombstone(et_db, "t", 1), 0);
	const int64_t all[] = { ES_ANY, ES_NO_STREAM, ES_STREAM_EXISTS, 1, 0, 2 };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		assert_deleted("t", all[i]);
	ck_assert_es(es_stream_tombstone(et_db, "reserved", ES_NO_STREAM), 0);
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		assert_deleted("reserved", all[i]);
	ck_assert_int_eq(et_head(et_db, "t"), 1);
}
END_TEST

START_TEST(append_zero_events)
{
	es_append_result res = { 9, 9, 9 };
	ck_assert_es(es_stream_append(&res, et_db, "z", ES_NO_STREAM, NULL, 0), 0);
	ck_assert_int_eq(res.first_version, -1);
	ck_assert_int_eq(res.head_version, -1);
	ck_assert_int_eq(res.replayed, 0);
	ck_assert_int_eq(et_head(et_db, "z"), -2); /* not created */
	ck_assert_es(es_stream_append(&res, et_db, "z", ES_STREAM_EXISTS, NULL, 0), ES_ECONFLICT);
	ck_assert_int_eq(res.head_version, -1);
	et_append_ok(et_db, "z", ES_NO_STREAM, 2);
	uint64_t log = et_log_head(et_db);
	ck_assert_es(es_stream_append(&res, et_db, "z", 1, NULL, 0), 0);
	ck_assert_int_eq(res.first_version, -1);
	ck_assert_int_eq(res.head_version, 1);
	ck_assert_es(es_stream_append(&res, et_db, "z", 0, NULL, 0), ES_ECONFLICT);
	ck_assert_int_eq(res.head_version, 1);
	ck_assert_es(es_stream_append(&res, et_db, "z", ES_NO_STREAM, NULL, 0), ES_ECONFLICT);
	ck_assert_uint_eq(et_log_head(et_db), log);
	ck_assert_int_eq(et_head(et_db, "z"), 1);
}
END_TEST

static void assert_read_back(const char *stream, const es_event_data *evs, size_t n)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_iter(&it, rd, stream, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_es(es_iter_next(&ev, it), 0);
		ck_assert_int_eq(ev.version, evs[i].version);
		ck_assert_uint_eq(ev.position, evs[i].position);
		ck_assert_int_eq(ev.recorded_at, evs[i].recorded_at);
		ck_assert_mem_eq(ev.id, evs[i].id, 16);
		ck_assert_uint_eq(ev.payload_len, evs[i].payload_len);
		ck_assert_mem_eq(ev.payload, evs[i].payload, ev.payload_len);
	}
	ck_assert_es(es_iter_next(&ev, it), ES_ITEROVER);
	es_iter_free(it);
	es_read_end(rd);
}

START_TEST(append_hundred_in_one_call)
{
	static const uint8_t zero[16];
	es_event_data before = et_event("Tested", "before");
	ck_assert_es(es_stream_append(NULL, et_db, "before", ES_ANY, &before, 1), 0);
	es_event_data *evs = et_events(100, "h", 0);
	es_append_result res;
	ck_assert_es(es_stream_append(&res, et_db, "h", ES_NO_STREAM, evs, 100), 0);
	ck_assert_int_eq(res.first_version, 0);
	ck_assert_int_eq(res.head_version, 99);
	for (size_t i = 0; i < 100; i++) {
		ck_assert_int_eq(evs[i].version, (int64_t)i);
		ck_assert_uint_eq(evs[i].position, i + 2);
		ck_assert(memcmp(evs[i].id, zero, 16) != 0);
		ck_assert_int_eq(evs[i].recorded_at, evs[0].recorded_at); /* the batch's time */
		if (i > 0)
			ck_assert(memcmp(evs[i].id, evs[i - 1].id, 16) != 0);
	}
	ck_assert_int_gt(evs[0].recorded_at, before.recorded_at);
	assert_read_back("h", evs, 100);
	ck_assert_uint_eq(et_log_head(et_db), 101);
	et_events_free(evs, 100);
}
END_TEST

/* ---- idempotency ---- */

/* Appends ids base..base+n-1 at the given expected version; returns the array. */
static es_event_data *stored(const char *stream, int64_t expected, size_t n, uint32_t base)
{
	es_event_data *evs = et_events(n, stream, base);
	ck_assert_es(es_stream_append(NULL, et_db, stream, expected, evs, n), 0);
	return evs;
}

/* The stream holds orig's ids at orig's versions. */
static void assert_ids_at(const char *stream, const es_event_data *orig, size_t n)
{
	es_read *rd;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_es(es_stream_get(&ev, rd, stream, orig[i].version), 0);
		ck_assert_mem_eq(ev.id, orig[i].id, 16);
		ck_assert_uint_eq(ev.position, orig[i].position);
	}
	es_read_end(rd);
}

static void assert_replayed(const char *stream, int64_t expected, const es_event_data *orig,
                            size_t n, uint32_t base)
{
	es_event_data *retry = et_events(n, stream, base);
	uint64_t log = et_log_head(et_db);
	int64_t head = et_head(et_db, stream);
	et_now += 1000000000; /* a rewrite would get a different recorded_at */
	es_append_result res = { 9, 9, 0 };
	ck_assert_es(es_stream_append(&res, et_db, stream, expected, retry, n), 0);
	ck_assert_int_eq(res.replayed, 1);
	ck_assert_int_eq(res.first_version, orig[0].version);
	ck_assert_int_eq(res.head_version, head);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(retry[i].version, orig[i].version);
		ck_assert_uint_eq(retry[i].position, orig[i].position);
		ck_assert_int_eq(retry[i].recorded_at, orig[i].recorded_at);
	}
	ck_assert_uint_eq(et_log_head(et_db), log);
	ck_assert_int_eq(et_head(et_db, stream), head);
	assert_ids_at(stream, orig, n);
	et_events_free(retry, n);
}

START_TEST(retry_same_exact_version)
{
	et_append_ok(et_db, "s", ES_NO_STREAM, 2);
	es_event_data *orig = stored("s", 1, 3, 100);
	ck_assert_int_eq(orig[0].version, 2);
	assert_replayed("s", 1, orig, 3, 100);
	et_append_ok(et_db, "s", ES_ANY, 2); /* the head moves on; the retry still replays */
	assert_replayed("s", 1, orig, 3, 100);
	ck_assert_uint_eq(et_count(et_db, "s"), 7);
	et_events_free(orig, 3);
}
END_TEST

START_TEST(retry_with_any_and_no_stream)
{
	es_event_data *orig = stored("s", ES_NO_STREAM, 2, 200);
	assert_replayed("s", ES_NO_STREAM, orig, 2, 200);
	assert_replayed("s", ES_ANY, orig, 2, 200);
	et_append_ok(et_db, "s", ES_ANY, 1);
	assert_replayed("s", ES_ANY, orig, 2, 200);
	es_event_data *more = stored("s", ES_STREAM_EXISTS, 2, 300);
	assert_replayed("s", ES_STREAM_EXISTS, more, 2, 300);
	ck_assert_uint_eq(et_count(et_db, "s"), 5);
	et_events_free(orig, 2);
	et_events_free(more, 2);
}
END_TEST

START_TEST(retry_generated_ids_after_failure)
{
	static const uint8_t zero[16];
	et_append_ok(et_db, "g", ES_NO_STREAM, 1);
	es_event_data *evs = et_events(2, "g", 0);
	ck_assert_es(es_stream_append(NULL, et_db, "g", ES_NO_STREAM, evs, 2), ES_ECONFLICT);
	ck_assert(memcmp(evs[0].id, zero, 16) != 0); /* written back even on failure */
	ck_assert(memcmp(evs[1].id, zero, 16) != 0);
	uint8_t first_id[16];
	memcpy(first_id, evs[0].id, 16);
	es_append_result res;
	ck_assert_es(es_stream_append(&res, et_db, "g", 0, evs, 2), 0);
	ck_assert_int_eq(res.replayed, 0);
	ck_assert_mem_eq(evs[0].id, first_id, 16);
	uint64_t log = et_log_head(et_db);
	ck_assert_es(es_stream_append(&res, et_db, "g", 0, evs, 2), 0);
	ck_assert_int_eq(res.replayed, 1);
	ck_assert_int_eq(res.first_version, 1);
	ck_assert_uint_eq(et_log_head(et_db), log);
	et_events_free(evs, 2);
}
END_TEST

/* Appends ids (given as numbers) and asserts ES_EDUPLICATE naming dup_id and
 * the stream `where` it is stored. */
static void assert_dup_in(const char *where, const char *stream, int64_t expected,
                          const uint32_t *ids, size_t n, uint32_t dup_id)
{
	es_event_data *evs = et_events(n, stream, 1);
	for (size_t i = 0; i < n; i++)
		et_id(evs[i].id, ids[i]);
	uint64_t log = et_log_head(et_db);
	int64_t head = et_head(et_db, stream);
	ck_assert_es(es_stream_append(NULL, et_db, stream, expected, evs, n), ES_EDUPLICATE);
	uint8_t dup[16];
	char text[ES_ID_TEXT_SIZE];
	et_id(dup, dup_id);
	es_id_format(dup, text);
	et_assert_msg_has(text);
	et_assert_msg_has(where);
	ck_assert_uint_eq(et_log_head(et_db), log);
	ck_assert_int_eq(et_head(et_db, stream), head);
	et_events_free(evs, n);
}

static void assert_duplicate(const char *stream, int64_t expected, const uint32_t *ids,
                             size_t n, uint32_t dup_id)
{
	assert_dup_in(stream, stream, expected, ids, n, dup_id);
}

/* Generated ids and the newest stream's events are put at the end of their
 * tables when they sort last; when something already sorts after them (here
 * a caller's all-ones id, and events of a newer stream), the ordinary put
 * still stores, finds and refuses them as before. */
START_TEST(puts_where_something_sorts_after)
{
	es_event_data high = et_event("Tested", "high");
	memset(high.id, 0xff, 16);
	ck_assert_es(es_stream_append(NULL, et_db, "a", ES_NO_STREAM, &high, 1), 0);
	es_event_data *gen = stored("b", ES_NO_STREAM, 3, 0); /* ids sort before all-ones */
	assert_ids_at("b", gen, 3);
	es_append_result res;
	ck_assert_es(es_stream_append(&res, et_db, "b", ES_NO_STREAM, gen, 3), 0);
	ck_assert_int_eq(res.replayed, 1);
	ck_assert_es(es_stream_append(NULL, et_db, "c", ES_ANY, gen, 1), ES_EDUPLICATE);
	et_append_ok(et_db, "a", 0, 5); /* "b" is newer: "a" is not at the end */
	et_append_ok(et_db, "b", 2, 5);
	ck_assert_uint_eq(et_count(et_db, "a"), 6);
	ck_assert_uint_eq(et_count(et_db, "b"), 8);
	ck_assert_es(es_check(NULL, et_db, NULL), 0); /* indexes agree both ways */
	et_events_free(gen, 3);
}
END_TEST

/* Batches that append to the newest stream (through the end cursors) and
 * to an older one (ordinary puts into the same tables) in turn, over many
 * page splits, leave every table ordered and complete. */
START_TEST(batches_mix_the_newest_stream_with_older_ones)
{
	et_append_ok(et_db, "older", ES_NO_STREAM, 1);
	et_append_ok(et_db, "newest", ES_NO_STREAM, 1);
	for (int round = 0; round < 5; round++) {
		es_event_data *a = et_events(150, "older", 0), *b = et_events(150, "newest", 0);
		es_event_data *c = et_events(50, "older", 0);
		es_batch *batch;
		ck_assert_es(es_batch_new(&batch, et_db), 0);
		ck_assert_es(es_batch_append(batch, "older", ES_ANY, a, 150), 0);
		ck_assert_es(es_batch_append(batch, "newest", ES_ANY, b, 150), 0);
		ck_assert_es(es_batch_append(batch, "older", ES_ANY, c, 50), 0);
		ck_assert_es(es_batch_commit(batch, NULL), 0);
		et_events_free(a, 150);
		et_events_free(b, 150);
		et_events_free(c, 50);
	}
	ck_assert_uint_eq(et_count(et_db, "older"), 1 + 5 * 200);
	ck_assert_uint_eq(et_count(et_db, "newest"), 1 + 5 * 150);
	ck_assert_uint_eq(et_log_head(et_db), 2 + 5 * 350);
	ck_assert_es(es_check(NULL, et_db, NULL), 0);
}
END_TEST

START_TEST(partial_overlap_is_duplicate)
{
	es_event_data *orig = stored("s", ES_NO_STREAM, 3, 10); /* ids 10, 11, 12 at 0..2 */
	assert_duplicate("s", ES_ANY, (const uint32_t[]){ 12, 13 }, 2, 12);
	assert_duplicate("s", ES_ANY, (const uint32_t[]){ 13, 12 }, 2, 12);
	assert_duplicate("s", ES_NO_STREAM, (const uint32_t[]){ 10, 11, 12, 13 }, 4, 10);
	assert_duplicate("s", 2, (const uint32_t[]){ 99, 10 }, 2, 10);
	ck_assert_uint_eq(et_count(et_db, "s"), 3);
	et_events_free(orig, 3);
}
END_TEST

START_TEST(ids_of_another_stream_are_duplicate)
{
	es_event_data *orig = stored("a", ES_NO_STREAM, 2, 20);
	assert_dup_in("'a'", "b", ES_ANY, (const uint32_t[]){ 20, 21 }, 2, 20);
	assert_dup_in("'a'", "b", ES_NO_STREAM, (const uint32_t[]){ 21 }, 1, 21);
	ck_assert_int_eq(et_head(et_db, "b"), -2);
	et_append_ok(et_db, "b", ES_NO_STREAM, 1);
	assert_dup_in("'a'", "b", 0, (const uint32_t[]){ 20, 21 }, 2, 20);
	et_events_free(orig, 2);
}
END_TEST

START_TEST(retry_at_another_place_is_duplicate)
{
	es_event_data *orig = stored("s", ES_NO_STREAM, 2, 30); /* ids 30, 31 at 0..1 */
	et_append_ok(et_db, "s", ES_ANY, 1);
	assert_duplicate("s", 2, (const uint32_t[]){ 30, 31 }, 2, 30);
	assert_duplicate("s", 0, (const uint32_t[]){ 30, 31 }, 2, 30);
	assert_duplicate("s", ES_STREAM_EXISTS, (const uint32_t[]){ 30, 31 }, 2, 30);
	assert_duplicate("s", ES_NO_STREAM, (const uint32_t[]){ 31, 30 }, 2, 31);
	assert_duplicate("s", ES_NO_STREAM, (const uint32_t[]){ 31 }, 1, 31);
	ck_assert_uint_eq(et_count(et_db, "s"), 3);
	et_events_free(orig, 2);
}
END_TEST

START_TEST(same_id_twice_in_request_is_invalid)
{
	char text[ES_ID_TEXT_SIZE];
	es_event_data *evs = et_events(3, "d", 40);
	et_id(evs[2].id, 40);
	es_id_format(evs[0].id, text);
	ck_assert_es(es_stream_append(NULL, et_db, "d", ES_ANY, evs, 3), ES_EINVAL);
	et_assert_msg_has(text);
	es_batch *b;
	es_event_data *other = et_events(1, "e", 41);
	ck_assert_es(es_batch_new(&b, et_db), 0);
	ck_assert_es(es_batch_append(b, "d", ES_ANY, evs, 2), 0);
	ck_assert_es(es_batch_append(b, "e", ES_ANY, other, 1), 0);
	es_id_format(other[0].id, text);
	ck_assert_es(es_batch_commit(b, NULL), ES_EINVAL);
	et_assert_msg_has(text);
	ck_assert_uint_eq(et_log_head(et_db), 0);
	ck_assert_int_eq(et_head(et_db, "d"), -2);
	et_events_free(evs, 3);
	et_events_free(other, 1);
}
END_TEST

/* ---- batches ---- */

START_TEST(batch_conflict_writes_nothing)
{
	et_append_ok(et_db, "a", ES_NO_STREAM, 1);
	et_append_ok(et_db, "b", ES_NO_STREAM, 1);
	uint64_t log = et_log_head(et_db);
	es_event_data ea = et_event("Debited", "5"), eb = et_event("Credited", "5");
	es_event_data ec = et_event("Opened", "c");
	es_batch *b;
	es_append_result res[3];
	ck_assert_es(es_batch_new(&b, et_db), 0);
	ck_assert_es(es_batch_append(b, "a", 0, &ea, 1), 0);
	ck_assert_es(es_batch_append(b, "c", ES_NO_STREAM, &ec, 1), 0);
	ck_assert_es(es_batch_append(b, "b", 7, &eb, 1), 0);
	ck_assert_es(es_batch_commit(b, res), ES_ECONFLICT);
	et_assert_msg_has("'b'");
	ck_assert_int_eq(res[2].head_version, 0);
	ck_assert_uint_eq(et_log_head(et_db), log);
	ck_assert_int_eq(et_head(et_db, "a"), 0);
	ck_assert_int_eq(et_head(et_db, "b"), 0);
	ck_assert_int_eq(et_head(et_db, "c"), -2);
	ck_assert_uint_eq(et_count(et_db, "a"), 1);
}
END_TEST

START_TEST(batch_transfer_is_atomic)
{
	et_append_ok(et_db, "acc-a", ES_NO_STREAM, 1);
	et_append_ok(et_db, "acc-b", ES_NO_STREAM, 1);
	es_event_data debit = et_event("Debited", "100"), credit = et_event("Credited", "100");
	es_batch *b;
	es_append_result res[2];
	ck_assert_es(es_batch_new(&b, et_db), 0);
	ck_assert_es(es_batch_append(b, "acc-a", 0, &debit, 1), 0);
	ck_assert_es(es_batch_append(b, "acc-b", 0, &credit, 1), 0);
	ck_assert_es(es_batch_commit(b, res), 0);
	ck_assert_int_eq(res[0].first_version, 1);
	ck_assert_int_eq(res[1].first_version, 1);
	ck_assert_int_eq(res[1].head_version, 1);
	ck_assert_uint_eq(debit.position, 3);
	ck_assert_uint_eq(credit.position, 4);
	ck_assert_int_eq(credit.recorded_at, debit.recorded_at); /* atomic in time too */
	es_read *rd;
	int64_t v;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_version_at(&v, rd, "acc-a", debit.recorded_at - 1), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_es(es_stream_version_at(&v, rd, "acc-b", debit.recorded_at - 1), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_es(es_stream_version_at(&v, rd, "acc-b", debit.recorded_at), 0);
	ck_assert_int_eq(v, 1);
	es_read_end(rd);
	ck_assert_uint_eq(et_log_head(et_db), 4);
	ck_assert_uint_eq(et_count(et_db, "acc-a"), 2);
	ck_assert_uint_eq(et_count(et_db, "acc-b"), 2);
}
END_TEST

START_TEST(batch_retry_replays_every_stream)
{
	et_append_ok(et_db, "acc-a", ES_NO_STREAM, 1);
	es_event_data debit = et_event("Debited", "7"), credit = et_event("Credited", "7");
	es_append_result res[2];
	for (int attempt = 0; attempt < 2; attempt++) {
		es_batch *b;
		ck_assert_es(es_batch_new(&b, et_db), 0);
		ck_assert_es(es_batch_append(b, "acc-a", 0, &debit, 1), 0);
		ck_assert_es(es_batch_append(b, "acc-b", ES_NO_STREAM, &credit, 1), 0);
		ck_assert_es(es_batch_commit(b, res), 0);
		ck_assert_int_eq(res[0].replayed, attempt);
		ck_assert_int_eq(res[1].replayed, attempt);
		ck_assert_int_eq(res[0].first_version, 1);
		ck_assert_int_eq(res[1].first_version, 0);
		ck_assert_uint_eq(et_log_head(et_db), 3);
	}
	ck_assert_uint_eq(debit.position, 2);
	ck_assert_uint_eq(credit.position, 3);
}
END_TEST

START_TEST(batch_same_events_in_two_entries)
{
	es_event_data ev = et_event("Tested", "once"); /* generated id, shared by both entries */
	es_batch *b;
	ck_assert_es(es_batch_new(&b, et_db), 0);
	ck_assert_es(es_batch_append(b, "x", ES_ANY, &ev, 1), 0);
	ck_assert_es(es_batch_append(b, "y", ES_ANY, &ev, 1), 0);
	ck_assert_es(es_batch_commit(b, NULL), ES_EINVAL);
	char text[ES_ID_TEXT_SIZE];
	es_id_format(ev.id, text);
	et_assert_msg_has(text);
	ck_assert_uint_eq(et_log_head(et_db), 0);
}
END_TEST

START_TEST(batch_same_stream_twice)
{
	es_event_data *one = et_events(2, "s1", 0), *two = et_events(1, "s2", 0);
	es_batch *b;
	es_append_result res[2];
	ck_assert_es(es_batch_new(&b, et_db), 0);
	ck_assert_es(es_batch_append(b, "s", ES_NO_STREAM, one, 2), 0);
	ck_assert_es(es_batch_append(b, "s", 1, two, 1), 0);
	ck_assert_es(es_batch_commit(b, res), 0);
	ck_assert_int_eq(res[0].first_version, 0);
	ck_assert_int_eq(res[0].head_version, 1);
	ck_assert_int_eq(res[1].first_version, 2);
	ck_assert_int_eq(res[1].head_version, 2);
	ck_assert_uint_eq(et_count(et_db, "s"), 3);
	/* The second entry sees the first: NO_STREAM twice conflicts, nothing lands. */
	es_event_data e1 = et_event("Tested", "1"), e2 = et_event("Tested", "2");
	ck_assert_es(es_batch_new(&b, et_db), 0);
	ck_assert_es(es_batch_append(b, "t", ES_NO_STREAM, &e1, 1), 0);
	ck_assert_es(es_batch_append(b, "t", ES_NO_STREAM, &e2, 1), 0);
	ck_assert_es(es_batch_commit(b, res), ES_ECONFLICT);
	ck_assert_int_eq(res[1].head_version, 0);
	ck_assert_int_eq(et_head(et_db, "t"), -2);
	ck_assert_uint_eq(et_log_head(et_db), 3);
	et_events_free(one, 2);
	et_events_free(two, 1);
}
END_TEST

START_TEST(batch_free_and_bad_arguments)
{
	es_event_data ev = et_event("Tested", "x");
	es_batch *b;
	ck_assert_es(es_batch_new(NULL, et_db), ES_EINVAL);
	ck_assert_es(es_batch_new(&b, NULL), ES_EINVAL);
	ck_assert_es(es_batch_append(NULL, "s", ES_ANY, &ev, 1), ES_EINVAL);
	ck_assert_es(es_batch_commit(NULL, NULL), ES_EINVAL);
	es_batch_free(NULL);
	ck_assert_es(es_batch_new(&b, et_db), 0);
	ck_assert_es(es_batch_append(b, "", ES_ANY, &ev, 1), ES_EINVAL);
	ck_assert_es(es_batch_append(b, "s", ES_ANY, NULL, 1), ES_EINVAL);
	ck_assert_es(es_batch_append(b, "s", -7, &ev, 1), ES_EINVAL);
	ck_assert_es(es_batch_append(b, "s", ES_ANY, &ev, 1), 0);
	es_batch_free(b);
	ck_assert_uint_eq(et_log_head(et_db), 0);
	ck_assert_es(es_batch_new(&b, et_db), 0);
	ck_assert_es(es_batch_commit(b, NULL), 0); /* empty batch */
	ck_assert_uint_eq(et_log_head(et_db), 0);
}
END_TEST

/* ---- recorded_at ---- */

static int64_t append_at(const char *stream, int64_t clock)
{
	es_event_data ev = et_event("Tested", "t");
	et_now = clock;
	ck_assert_es(es_stream_append(NULL, et_db, stream, ES_ANY, &ev, 1), 0);
	return ev.recorded_at;
}

START_TEST(recorded_at_strictly_increases)
{
	int64_t t1 = append_at("a", ET_T0);
	ck_assert_int_eq(t1, ET_T0);
	int64_t t2 = append_at("b", ET_T0 - 5000000000); /* clock went back 5 s */
	ck_assert_int_eq(t2, t1 + 1);
	int64_t t3 = append_at("a", ET_T0 - 5000000000); /* and stands still */
	ck_assert_int_eq(t3, t2 + 1);
	int64_t t4 = append_at("a", ET_T0 + 1000);
	ck_assert_int_eq(t4, ET_T0 + 1000);
	et_reopen();
	int64_t t5 = append_at("c", ET_T0 - 1); /* across reopen */
	ck_assert_int_eq(t5, t4 + 1);
	es_event_data *evs = et_events(3, "d", 0);
	ck_assert_es(es_stream_append(NULL, et_db, "d", ES_ANY, evs, 3), 0); /* standing still */
	ck_assert_int_eq(evs[0].recorded_at, t5 + 1); /* one time for the whole batch */
	ck_assert_int_eq(evs[2].recorded_at, t5 + 1);
	ck_assert_int_eq(append_at("d", ET_T0 - 1), t5 + 2);
	et_events_free(evs, 3);
}
END_TEST

START_TEST(recorded_at_in_log_order)
{
	for (int i = 0; i < 30; i++)
		append_at(i % 2 ? "odd" : "even", ET_T0 + (i % 3 ? -i : i) * 1000);
	es_read *rd;
	es_iter *it;
	es_event ev;
	int64_t last = 0;
	uint64_t n = 0;
	int rc;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_log_iter(&it, rd, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	while ((rc = es_iter_next(&ev, it)) == 0) {
		ck_assert_int_gt(ev.recorded_at, last);
		ck_assert_uint_eq(ev.position, ++n);
		last = ev.recorded_at;
	}
	ck_assert_es(rc, ES_ITEROVER);
	ck_assert_uint_eq(n, 30);
	es_iter_free(it);
	es_read_end(rd);
}
END_TEST

/* ---- import batches ---- */

/* Commits an import batch: stream a gets two events, b one, at the given times. */
static int import3(es_event_data *evs, int64_t t0, int64_t t1, int64_t t2, es_append_result *res)
{
	es_batch *b;
	evs[0].recorded_at = t0;
	evs[1].recorded_at = t1;
	evs[2].recorded_at = t2;
	ck_assert_es(es_batch_new(&b, et_db), 0);
	ck_assert_es(es_batch_import(b), 0);
	ck_assert_es(es_batch_append(b, "old-a", ES_ANY, evs, 2), 0);
	ck_assert_es(es_batch_append(b, "old-b", ES_ANY, evs + 2, 1), 0);
	return es_batch_commit(b, res);
}

START_TEST(import_keeps_recorded_at)
{
	es_event_data *evs = et_events(3, "imp", 0);
	es_append_result res[2];
	const int64_t t[3] = { ET_T0 - 3000, ET_T0 - 2000, ET_T0 - 1000 };
	ck_assert_es(import3(evs, t[0], t[1], t[2], res), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(evs[i].recorded_at, t[i]);
	ck_assert_int_eq(res[1].first_version, 0);
	int64_t v;
	es_read *rd;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_get(&ev, rd, "old-a", 1), 0);
	ck_assert_int_eq(ev.recorded_at, t[1]);
	ck_assert_es(es_stream_version_at(&v, rd, "old-a", t[1] - 1), 0);
	ck_assert_int_eq(v, 0);
	es_read_end(rd);
	ck_assert_int_eq(append_at("new", ET_T0 - 1000000), t[2] + 1); /* the clock was behind */
	ck_assert_es(import3(evs, t[0], t[1], t[2], res), 0); /* a retried import replays */
	ck_assert_int_eq(res[0].replayed, 1);
	ck_assert_int_eq(res[1].replayed, 1);
	ck_assert_uint_eq(et_log_head(et_db), 4);
	et_events_free(evs, 3);
}
END_TEST

START_TEST(import_allows_equal_times)
{
	int64_t last = append_at("new", ET_T0);
	es_event_data *evs = et_events(3, "imp", 0);
	ck_assert_es(import3(evs, last, last, last + 5, NULL), 0); /* a source's multi-event commit */
	ck_assert_int_eq(evs[1].recorded_at, last);
	ck_assert_int_eq(append_at("new", ET_T0), last + 6);
	et_events_free(evs, 3);
}
END_TEST

START_TEST(import_refuses_time_going_back)
{
	int64_t last = append_at("new", ET_T0);
	es_event_data *evs = et_events(3, "imp", 0);
	char text[32];
	ck_assert_es(import3(evs, last - 1, last + 10, last + 20, NULL), ES_EINVAL);
	et_assert_msg_has("'old-a'");
	snprintf(text, sizeof text, "%lld", (long long)last);
	et_assert_msg_has(text);
	ck_assert_es(import3(evs, last + 10, last + 9, last + 20, NULL), ES_EINVAL);
	ck_assert_es(import3(evs, last + 10, last + 20, last + 15, NULL), ES_EINVAL);
	et_assert_msg_has("'old-b'");
	ck_assert_es(import3(evs, 0, last + 20, last + 30, NULL), ES_EINVAL);
	ck_assert_uint_eq(et_log_head(et_db), 1);
	ck_assert_int_eq(et_head(et_db, "old-a"), -2);
	ck_assert_es(es_batch_import(NULL), ES_EINVAL);
	et_events_free(evs, 3);
}
END_TEST

START_TEST(recorded_at_at_the_end_of_time)
{
	es_event_data *evs = et_events(3, "imp", 0);
	ck_assert_es(import3(evs, ET_T0, INT64_MAX - 2, INT64_MAX - 1, NULL), 0);
	ck_assert_int_eq(append_at("late", ET_T0), INT64_MAX); /* the last instant there is */
	es_event_data ev = et_event("Tested", "t");
	ck_assert_es(es_stream_append(NULL, et_db, "late", ES_ANY, &ev, 1), ES_ERANGE);
	et_now = INT64_MAX;
	ck_assert_es(es_stream_append(NULL, et_db, "late", ES_ANY, &ev, 1), ES_ERANGE);
	ck_assert_uint_eq(et_log_head(et_db), 4);
	et_events_free(evs, 3);
}
END_TEST

/* ---- bad input ---- */

static void assert_invalid_event(es_event_data ev)
{
	ck_assert_es(es_stream_append(NULL, et_db, "s", ES_ANY, &ev, 1), ES_EINVAL);
}

START_TEST(append_bad_arguments)
{
	char name[ES_STREAM_NAME_MAX + 2];
	es_event_data ev = et_event("Tested", "x"), bad;
	ck_assert_es(es_stream_append(NULL, NULL, "s", ES_ANY, &ev, 1), ES_EINVAL);
	ck_assert_es(es_stream_append(NULL, et_db, NULL, ES_ANY, &ev, 1), ES_EINVAL);
	ck_assert_es(es_stream_append(NULL, et_db, "", ES_ANY, &ev, 1), ES_EINVAL);
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	ck_assert_es(es_stream_append(NULL, et_db, name, ES_ANY, &ev, 1), ES_EINVAL);
	ck_assert_es(es_stream_append(NULL, et_db, "s", ES_ANY, NULL, 1), ES_EINVAL);
	const int64_t bad_expected[] = { -4, -100, INT64_MIN };
	for (size_t i = 0; i < 3; i++)
		ck_assert_es(es_stream_append(NULL, et_db, "s", bad_expected[i], &ev, 1), ES_EINVAL);
	bad = ev; bad.type = NULL; assert_invalid_event(bad);
	bad = ev; bad.type = ""; assert_invalid_event(bad);
	bad = ev; bad.type = name; assert_invalid_event(bad);
	bad = ev; bad.payload = NULL; assert_invalid_event(bad);
	bad = ev; bad.metadata_count = 1; assert_invalid_event(bad);
	es_metadata md = { "k", NULL };
	bad = ev; bad.metadata = &md; bad.metadata_count = 1; assert_invalid_event(bad);
	ck_assert_uint_eq(et_log_head(et_db), 0);
	name[ES_STREAM_NAME_MAX] = '\0'; /* 255 bytes: the longest allowed */
	ev.type = name;
	ck_assert_es(es_stream_append(NULL, et_db, name, ES_ANY, &ev, 1), 0);
	ck_assert_uint_eq(et_count(et_db, name), 1);
}
END_TEST

static void reopen_with_max(size_t max)
{
	es_db_close(et_db);
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.max_event_size = max;
	et_db = et_open_path(et_path, &o);
}

START_TEST(oversize_event_is_too_big)
{
	static char big[2048];
	memset(big, 'b', sizeof big);
	reopen_with_max(1024);
	es_event_data ev = et_event("Tested", "");
	ev.payload = big;
	ev.payload_len = 1024;
	ck_assert_es(es_stream_append(NULL, et_db, "s", ES_ANY, &ev, 1), 0);
	ev.payload_len = 1025;
	memset(ev.id, 0, 16);
	ck_assert_es(es_stream_append(NULL, et_db, "s", ES_ANY, &ev, 1), ES_ETOOBIG);
	et_assert_msg_has("'s'");
	es_metadata md = { "key", "value" };
	ev.payload_len = 1010; /* + 20 bytes of metadata */
	ev.metadata = &md;
	ev.metadata_count = 1;
	ck_assert_es(es_stream_append(NULL, et_db, "s", ES_ANY, &ev, 1), ES_ETOOBIG);
	es_batch *b;
	ck_assert_es(es_batch_new(&b, et_db), 0);
	ck_assert_es(es_batch_append(b, "s", ES_ANY, &ev, 1), ES_ETOOBIG);
	es_batch_free(b);
	ck_assert_uint_eq(et_log_head(et_db), 1);
}
END_TEST

START_TEST(default_max_event_size)
{
	size_t max = ES_DEFAULT_MAX_EVENT_SIZE;
	char *big = calloc(1, max + 1);
	ck_assert_ptr_nonnull(big);
	es_event_data ev = et_event("Tested", "");
	ev.payload = big;
	ev.payload_len = max + 1;
	ck_assert_es(es_stream_append(NULL, et_db, "s", ES_ANY, &ev, 1), ES_ETOOBIG);
	ev.payload_len = max;
	memset(ev.id, 0, 16);
	ck_assert_es(es_stream_append(NULL, et_db, "s", ES_ANY, &ev, 1), 0);
	free(big);
	ck_assert_uint_eq(et_log_head(et_db), 1);
}
END_TEST

TCase *es_tc_append(void)
{
	TCase *tc = tcase_create("append");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, expected_on_new_stream);
	tcase_add_test(tc, expected_on_existing_stream);
	tcase_add_test(tc, expected_on_soft_deleted_stream);
	tcase_add_test(tc, expected_on_tombstoned_stream);
	tcase_add_test(tc, append_zero_events);
	tcase_add_test(tc, append_hundred_in_one_call);
	tcase_add_test(tc, retry_same_exact_version);
	tcase_add_test(tc, retry_with_any_and_no_stream);
	tcase_add_test(tc, retry_generated_ids_after_failure);
	tcase_add_test(tc, puts_where_something_sorts_after);
	tcase_add_test(tc, batches_mix_the_newest_stream_with_older_ones);
	tcase_add_test(tc, partial_overlap_is_duplicate);
	tcase_add_test(tc, ids_of_another_stream_are_duplicate);
	tcase_add_test(tc, retry_at_another_place_is_duplicate);
	tcase_add_test(tc, same_id_twice_in_request_is_invalid);
	tcase_add_test(tc, batch_conflict_writes_nothing);
	tcase_add_test(tc, batch_transfer_is_atomic);
	tcase_add_test(tc, batch_retry_replays_every_stream);
	tcase_add_test(tc, batch_same_events_in_two_entries);
	tcase_add_test(tc, batch_same_stream_twice);
	tcase_add_test(tc, batch_free_and_bad_arguments);
	tcase_add_test(tc, recorded_at_strictly_increases);
	tcase_add_test(tc, recorded_at_in_log_order);
	tcase_add_test(tc, import_keeps_recorded_at);
	tcase_add_test(tc, import_allows_equal_times);
	tcase_add_test(tc, import_refuses_time_going_back);
	tcase_add_test(tc, recorded_at_at_the_end_of_time);
	tcase_add_test(tc, append_bad_arguments);
	tcase_add_test(tc, oversize_event_is_too_big);
	tcase_add_test(tc, default_max_event_size);
	return tc;
}
