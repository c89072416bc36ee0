/*
 * test_inline.c - projections/inline.c: an inline projection commits with
 * the append it describes, a handler error fails the append and writes
 * nothing, a handler's call back into its handle is refused, and
 * concurrent writers never leave a read where model and events disagree.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "projtest.h"

#define N_WRITERS 4
#define N_STREAMS 6
#define WRITES 150 /* per writer */

static int64_t head_version(es_read *rd, const char *stream)
{
	es_stream_info info;
	int rc = es_stream_info_get(&info, rd, stream);
	if (rc == ES_ENOTFOUND)
		return -1;
	ck_assert_es(rc, 0);
	return info.head_version;
}

static uint64_t behind(es_read *rd, const char *name)
{
	es_projection_status s;
	ck_assert_es(es_projection_status_get(&s, rd, name), 0);
	return s.behind;
}

/* History is caught up on add; each later append is in the model as soon
 * as it returns, with no catch-up. */
START_TEST(inline_model_commits_with_the_append)
{
	pt_append(pt_db, "a", 3, "p");
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "counts");
	ck_assert_es(es_projection_inline_add(pt_db, &o), 0);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 3);
	pt_append(pt_db, "a", 2, "p");
	pt_append(pt_db, "b", 1, "p");
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	ck_assert_uint_eq(pt_count_in(rd, "counts", "a"), 5);
	ck_assert_uint_eq(pt_count_in(rd, "counts", "b"), 1);
	ck_assert_uint_eq(behind(rd, "counts"), 0);
	es_read_end(rd);
	ck_assert_uint_eq(c.calls, 6);
}
END_TEST

/* The handler refuses an event: the append fails with its code and a
 * message naming the projection, and neither events nor model change. */
START_TEST(handler_error_fails_the_append)
{
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "counts");
	ck_assert_es(es_projection_inline_add(pt_db, &o), 0);
	pt_append(pt_db, "a", 2, "p");
	es_event_data evs[2] = {
		{ .type = "Counted", .schema_version = 1, .payload = "p", .payload_len = 1 },
		{ .type = "Counted", .schema_version = 1, .payload = "bad", .payload_len = 3 },
	};
	ck_assert_es(es_stream_append(NULL, pt_db, "a", ES_ANY, evs, 2), ES_EREJECTED);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "inline projection 'counts'"));
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "is bad"));
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	ck_assert_int_eq(head_version(rd, "a"), 1);
	ck_assert_uint_eq(pt_count_in(rd, "counts", "a"), 2);
	ck_assert_uint_eq(behind(rd, "counts"), 0);
	es_read_end(rd);
	pt_append(pt_db, "a", 1, "p"); /* the store goes on */
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 3);
}
END_TEST

/* A type first stored by an append that the handler refused must not stay
 * known: the next new type takes its id. (The hook's read once could have
 * cached the rolled-back name for the id.) */
static char seen_type[64];

static int note_type(es_projection_ctx *ctx, const es_event *ev, void *user_data)
{
	(void)ctx;
	(void)user_data;
	if (strcmp(ev->type, "Refused") == 0)
		return es_error_set(ES_EREJECTED, "no Refused events");
	snprintf(seen_type, sizeof seen_type, "%s", ev->type);
	return 0;
}

START_TEST(refused_new_type_is_forgotten)
{
	es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
	o.name = "types";
	o.handler = note_type;
	ck_assert_es(es_projection_inline_add(pt_db, &o), 0);
	es_event_data ev = { .type = "Refused", .schema_version = 1, .payload = "x", .payload_len = 1 };
	ck_assert_es(es_stream_append(NULL, pt_db, "s", ES_ANY, &ev, 1), ES_EREJECTED);
	ev.type = "Accepted";
	ck_assert_es(es_stream_append(NULL, pt_db, "s", ES_ANY, &ev, 1), 0);
	ck_assert_str_eq(seen_type, "Accepted");
	es_read *rd;
	es_event got;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	ck_assert_es(es_stream_get(&got, rd, "s", 0), 0);
	ck_assert_str_eq(got.type, "Accepted");
	es_read_end(rd);
}
END_TEST

/* The handler sees each event as a read of the store shows it, whether the
 * hook takes the append's own events (no metadata) or reads them back
 * (with metadata). */
#define KEPT_MAX 8
static es_event kept[KEPT_MAX];
static char kept_meta[KEPT_MAX][64], kept_type[KEPT_MAX][16]; /* ev's pointers are borrowed */
static size_t n_kept;

static int keep_event(es_projection_ctx *ctx, const es_event *ev, void *user_data)
{
	(void)ctx;
	(void)user_data;
	ck_assert_uint_lt(n_kept, KEPT_MAX);
	ck_assert_uint_le(ev->metadata_len, sizeof kept_meta[0]);
	kept[n_kept] = *ev;
	if (ev->metadata_len)
		memcpy(kept_meta[n_kept], ev->metadata, ev->metadata_len);
	snprintf(kept_type[n_kept], sizeof kept_type[0], "%s", ev->type);
	n_kept++;
	return 0;
}

static void assert_seen_as_stored(es_read *rd, const es_event *got)
{
	es_event want;
	ck_assert_es(es_stream_get(&want, rd, "s", got->version), 0);
	ck_assert_uint_eq(got->position, want.position);
	ck_assert_int_eq(got->recorded_at, want.recorded_at);
	ck_assert_int_eq(got->occurred_at, want.occurred_at);
	ck_assert_mem_eq(got->id, want.id, 16);
	ck_assert_mem_eq(got->correlation_id, want.correlation_id, 16);
	ck_assert_str_eq(kept_type[got - kept], want.type);
	ck_assert_uint_eq(got->schema_version, want.schema_version);
	ck_assert_uint_eq(got->payload_len, want.payload_len);
	ck_assert_uint_eq(got->metadata_len, want.metadata_len);
	if (want.metadata_len)
		ck_assert_mem_eq(kept_meta[got - kept], want.metadata, want.metadata_len);
}

START_TEST(handler_sees_events_as_stored)
{
	es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
	o.name = "kept";
	o.handler = keep_event;
	ck_assert_es(es_projection_inline_add(pt_db, &o), 0);
	es_metadata meta = { .key = "k", .value = "v" };
	es_event_data evs[3] = {
		{ .type = "A", .schema_version = 2, .payload = "xy", .payload_len = 2, .occurred_at = 5 },
		{ .type = "B", .schema_version = 1, .payload = "z", .payload_len = 1, .correlation_id = { 7 } },
		{ .type = "A", .schema_version = 1, .payload = "m", .payload_len = 1, .metadata = &meta,
		  .metadata_count = 1 },
	};
	n_kept = 0;
	ck_assert_es(es_stream_append(NULL, pt_db, "s", ES_ANY, evs, 2), 0);
	ck_assert_es(es_stream_append(NULL, pt_db, "s", ES_ANY, evs + 2, 1), 0);
	ck_assert_uint_eq(n_kept, 3);
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	for (size_t i = 0; i < n_kept; i++) {
		ck_assert_int_eq(kept[i].version, (int64_t)i);
		assert_seen_as_stored(rd, &kept[i]);
	}
	es_read_end(rd);
}
END_TEST

/* Appends through a handle without the projection are applied by the next
 * append through one with it, in that append's transaction. */
START_TEST(other_handles_appends_are_caught_up)
{
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "counts");
	ck_assert_es(es_projection_inline_add(pt_db, &o), 0);
	es_db *other;
	es_open_options oo = ES_OPEN_OPTIONS_INIT;
	oo.nosync = 1;
	ck_assert_es(es_db_open(&other, pt_path, &oo), 0);
	pt_append(other, "x", 4, "p");
	ck_assert_uint_eq(pt_count(pt_db, "counts", "x"), 0); /* not run there */
	pt_append(pt_db, "y", 1, "p");
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	ck_assert_uint_eq(pt_count_in(rd, "counts", "x"), 4);
	ck_assert_uint_eq(pt_count_in(rd, "counts", "y"), 1);
	ck_assert_uint_eq(behind(rd, "counts"), 0);
	es_read_end(rd);
	es_db_close(other);
}
END_TEST

/* Removed, it no longer runs; a catch-up takes it on from where it was. */
START_TEST(remove_and_bad_input)
{
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "counts");
	ck_assert_es(es_projection_inline_add(pt_db, &o), 0);
	ck_assert_es(es_projection_inline_add(pt_db, &o), ES_EINVAL); /* already inline */
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "already inline"));
	pt_append(pt_db, "a", 1, "p");
	ck_assert_es(es_projection_inline_remove(pt_db, "counts"), 0);
	ck_assert_es(es_projection_inline_remove(pt_db, "counts"), ES_ENOTFOUND);
	pt_append(pt_db, "a", 2, "p");
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 1);
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), 0);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 3);
	o.name = "bad\x1fname";
	ck_assert_es(es_projection_inline_add(pt_db, &o), ES_EINVAL);
	ck_assert_es(es_projection_inline_add(NULL, &o), ES_EINVAL);
	ck_assert_es(es_projection_inline_remove(pt_db, NULL), ES_EINVAL);
	es_db *ro;
	es_open_options oo = ES_OPEN_OPTIONS_INIT;
	oo.read_only = 1;
	o.name = "counts";
	ck_assert_es(es_db_open(&ro, pt_path, &oo), 0);
	ck_assert_es(es_projection_inline_add(ro, &o), ES_EREADONLY);
	es_db_close(ro);
}
END_TEST

/* A handler that calls back into its own handle gets ES_EBUSY naming the
 * store, for every kind of call, instead of waiting forever for the write
 * lock it runs under; the append it runs in commits, the projection stays. */
#define N_CALLBACKS 6
static int callback_rc[N_CALLBACKS];
static int callback_named_store;

static int call_back_into_db(es_projection_ctx *ctx, const es_event *ev, void *user_data)
{
	(void)ev;
	es_read *rd = NULL;
	es_projection_options other = pt_options(user_data, "other");
	es_event_data e = { .type = "Counted", .schema_version = 1, .payload = "p", .payload_len = 1 };
	callback_rc[0] = es_read_begin(&rd, pt_db);
	callback_rc[1] = es_stream_append(NULL, pt_db, "x", ES_ANY, &e, 1);
	callback_rc[2] = es_db_sync(pt_db);
	callback_rc[3] = es_projection_inline_remove(pt_db, "callback");
	callback_rc[4] = es_projection_inline_add(pt_db, &other);
	callback_rc[5] = es_projection_catch_up(NULL, pt_db, &other);
	callback_named_store = strstr(es_error_last()->message, pt_path) != NULL;
	return pt_count_handler(ctx, ev, user_data);
}

static void assert_callbacks_refused(void)
{
	for (int i = 0; i < N_CALLBACKS; i++)
		ck_assert_msg(callback_rc[i] == ES_EBUSY, "call %d back into the handle: %d, not ES_EBUSY", i,
		              callback_rc[i]);
	ck_assert(callback_named_store);
}

START_TEST(handler_calling_back_into_its_handle_is_refused)
{
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "callback");
	o.handler = call_back_into_db;
	ck_assert_es(es_projection_inline_add(pt_db, &o), 0);
	pt_append(pt_db, "a", 1, "p");
	assert_callbacks_refused();
	memset(callback_rc, 0, sizeof callback_rc);
	pt_append(pt_db, "a", 1, "p"); /* still inline */
	assert_callbacks_refused();
	ck_assert_uint_eq(pt_count(pt_db, "callback", "a"), 2);
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	ck_assert_int_eq(head_version(rd, "x"), -1); /* the handler's append was not made */
	es_read_end(rd);
	ck_assert_es(es_projection_inline_remove(pt_db, "callback"), 0);
	/* A catch-up's handler runs in a write transaction too. */
	memset(callback_rc, 0, sizeof callback_rc);
	o.name = "callback-catch-up";
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), 0);
	assert_callbacks_refused();
	ck_assert_uint_eq(pt_count(pt_db, "callback-catch-up", "a"), 2);
}
END_TEST

/* ---- concurrent writers, readers checking every read ---- */

static atomic_int writers_left;
static atomic_long problems, reads;

static void *write_many(void *arg)
{
	long w = (long)arg;
	char stream[16];
	for (int i = 0; i < WRITES; i++) {
		snprintf(stream, sizeof stream, "s%d", (int)((w * 7 + i) % N_STREAMS));
		/* Every tenth append of writer 0 is refused: it fails alone in
		 * its group, and the others' appends in that group commit. */
		const char *payload = w == 0 && i % 10 == 0 ? "bad" : "p";
		es_event_data ev = { .type = "Counted", .schema_version = 1, .payload = payload,
		                     .payload_len = strlen(payload) };
		int rc = es_stream_append(NULL, pt_db, stream, ES_ANY, &ev, 1);
		if (rc != (payload[0] == 'b' ? ES_EREJECTED : 0))
			atomic_fetch_add(&problems, 1);
	}
	atomic_fetch_sub(&writers_left, 1);
	return NULL;
}

/* In every read: each stream's count equals its events, and the model is
 * at the log head. */
static void *check_reads(void *arg)
{
	(void)arg;
	char stream[16];
	while (atomic_load(&writers_left) > 0) {
		es_read *rd;
		if (es_read_begin(&rd, pt_db)) {
			atomic_fetch_add(&problems, 1);
			break;
		}
		for (int s = 0; s < N_STREAMS; s++) {
			snprintf(stream, sizeof stream, "s%d", s);
			if (pt_count_in(rd, "counts", stream) != (uint64_t)(head_version(rd, stream) + 1))
				atomic_fetch_add(&problems, 1);
		}
		if (behind(rd, "counts") != 0)
			atomic_fetch_add(&problems, 1);
		es_read_end(rd);
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

START_TEST(concurrent_appends_keep_model_in_step)
{
	pt_counter c = { .allow_bad = 0 };
	es_projection_options o = pt_options(&c, "counts");
	ck_assert_es(es_projection_inline_add(pt_db, &o), 0);
	pthread_t w[N_WRITERS], r[2];
	atomic_store(&writers_left, N_WRITERS);
	for (long i = 0; i < N_WRITERS; i++)
		pthread_create(&w[i], NULL, write_many, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_create(&r[i], NULL, check_reads, NULL);
	for (int i = 0; i < N_WRITERS; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	ck_assert_int_eq(atomic_load(&problems), 0);
	ck_assert_int_gt(atomic_load(&reads), 0);
	uint64_t total = 0;
	for (int s = 0; s < N_STREAMS; s++) {
		char stream[16];
		snprintf(stream, sizeof stream, "s%d", s);
		total += pt_count(pt_db, "counts", stream);
	}
	ck_assert_uint_eq(total, N_WRITERS * WRITES - WRITES / 10);
}
END_TEST

TCase *es_tc_inline(void)
{
	TCase *tc = tcase_create("inline");
	tcase_add_checked_fixture(tc, pt_setup, pt_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, inline_model_commits_with_the_append);
	tcase_add_test(tc, handler_error_fails_the_append);
	tcase_add_test(tc, refused_new_type_is_forgotten);
	tcase_add_test(tc, handler_sees_events_as_stored);
	tcase_add_test(tc, other_handles_appends_are_caught_up);
	tcase_add_test(tc, remove_and_bad_input);
	tcase_add_test(tc, handler_calling_back_into_its_handle_is_refused);
	tcase_add_test(tc, concurrent_appends_keep_model_in_step);
	return tc;
}
