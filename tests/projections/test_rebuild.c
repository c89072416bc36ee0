/*
 * test_rebuild.c - projections/rebuild.c: a rebuild replaces the model in
 * one step, with writers appending meanwhile, and a failed one leaves the
 * model in use as it was.
 */
#include <pthread.h>
#include <string.h>

#include "projtest.h"

#define WRITER_EVENTS 300

static void *append_meanwhile(void *arg)
{
	for (int i = 0; i < WRITER_EVENTS; i++)
		pt_append(arg, i % 2 ? "w-odd" : "w-even", 1, "p");
	return NULL;
}

static uint64_t stream_events(const char *stream)
{
	es_read *rd;
	es_stream_info info;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	int rc = es_stream_info_get(&info, rd, stream);
	es_read_end(rd);
	return rc == 0 ? (uint64_t)(info.head_version + 1) : 0;
}

/* Appends while the rebuild runs, between its batches: the swap must wait
 * until the rebuilt model has them too. Only in its first batches: when the
 * counts restarted in each round, this appended in every round and the
 * rebuild never ended (seen under TSan). */
static void append_during(const es_projection_stats *st, uint64_t head, void *user_data)
{
	(void)head;
	if (st->batches <= 3)
		pt_append(user_data, "w-during", 2, "p");
}

START_TEST(rebuild_while_writers_append)
{
	pt_append(pt_db, "a", 10, "p");
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "counts");
	o.batch = 16;
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), 0);
	pthread_t t;
	pthread_create(&t, NULL, append_meanwhile, pt_db);
	es_projection_stats st;
	o.progress = append_during;
	o.progress_user_data = pt_db;
	ck_assert_es(es_projection_rebuild(&st, pt_db, &o), 0);
	o.progress = NULL;
	ck_assert_uint_eq(pt_count(pt_db, "counts", "w-during"), stream_events("w-during")); /* before any catch-up */
	pthread_join(t, NULL);
	ck_assert_uint_ge(st.events, 10);
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), 0); /* what came after the swap */
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 10);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "w-odd"), stream_events("w-odd"));
	ck_assert_uint_eq(pt_count(pt_db, "counts", "w-even"), stream_events("w-even"));
	ck_assert_uint_eq(stream_events("w-odd") + stream_events("w-even"), WRITER_EVENTS);
	es_read *rd;
	es_projection_status s;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	ck_assert_es(es_projection_status_get(&s, rd, "counts"), 0);
	ck_assert_uint_eq(s.behind, 0);
	ck_assert_es(es_projection_status_get(&s, rd, "counts\x1frebuild"), ES_ENOTFOUND); /* cleaned up */
	es_read_end(rd);
}
END_TEST

/* Appends after every batch, forever: the last ones (at most a batch) are
 * applied in the swap, so the rebuild ends. (Before, it swapped only at
 * the exact head and caught up again after each of these.) */
static void append_after_each(const es_projection_stats *st, uint64_t head, void *user_data)
{
	(void)head;
	if (st->batches < 500) /* a bound, so a regression fails instead of hanging */
		pt_append(user_data, "w-after", 2, "p");
}

START_TEST(rebuild_ends_while_writes_keep_coming)
{
	pt_append(pt_db, "a", 40, "p");
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "counts");
	o.batch = 16;
	o.progress = append_after_each;
	o.progress_user_data = pt_db;
	es_projection_stats st;
	ck_assert_es(es_projection_rebuild(&st, pt_db, &o), 0);
	ck_assert_uint_lt(st.batches, 20); /* not the 500 of the bound */
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 40);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "w-after"), stream_events("w-after"));
	ck_assert_uint_eq(st.events, 40 + stream_events("w-after"));
	es_read *rd;
	es_projection_status s;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	ck_assert_es(es_projection_status_get(&s, rd, "counts"), 0);
	ck_assert_uint_eq(s.behind, 0);
	es_read_end(rd);
}
END_TEST

/* A refusal among the events the swap applies fails the rebuild, and the
 * model in use stays as it was. */
static void append_bad_once(const es_projection_stats *st, uint64_t head, void *user_data)
{
	(void)head;
	if (st->batches == 1)
		pt_append(user_data, "b", 1, "bad");
}

START_TEST(refusal_in_the_swap_fails_the_rebuild)
{
	pt_append(pt_db, "a", 3, "p");
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "counts");
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), 0);
	o.progress = append_bad_once;
	o.progress_user_data = pt_db;
	ck_assert_es(es_projection_rebuild(NULL, pt_db, &o), ES_EREJECTED);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "the rebuild of 'counts' refused position 4"));
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 3);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "b"), 0);
}
END_TEST

/* A rebuild that fails leaves the live model alone; the next one starts
 * afresh, not from the failed one's leftovers. */
START_TEST(failed_rebuild_changes_nothing)
{
	pt_append(pt_db, "a", 4, "p");
	pt_append(pt_db, "a", 1, "bad");
	pt_append(pt_db, "b", 2, "p");
	pt_counter c = { .allow_bad = 1 };
	es_projection_options o = pt_options(&c, "counts");
	o.batch = 2;
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), 0);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 5);
	c.allow_bad = 0; /* the new logic refuses "bad" */
	ck_assert_es(es_projection_rebuild(NULL, pt_db, &o), ES_EREJECTED);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 5); /* the old model still answers */
	ck_assert_uint_eq(pt_count(pt_db, "counts", "b"), 2);
	c.allow_bad = 1;
	es_projection_stats st;
	ck_assert_es(es_projection_rebuild(&st, pt_db, &o), 0);
	ck_assert_uint_eq(st.events, 7); /* every event again, none of the failed run's */
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 5);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "b"), 2);
}
END_TEST

static void note_progress(const es_projection_stats *st, uint64_t head, void *user_data)
{
	uint64_t *calls = user_data;
	ck_assert_uint_le(st->position, head);
	ck_assert_uint_eq(st->batches, ++*calls); /* counts the whole rebuild, not its last round */
}

START_TEST(rebuild_reports_progress_and_refuses_reserved_names)
{
	pt_append(pt_db, "a", 9, "p");
	pt_counter c = { 0 };
	uint64_t calls = 0;
	es_projection_options o = pt_options(&c, "counts");
	o.batch = 3;
	o.progress = note_progress;
	o.progress_user_data = &calls;
	ck_assert_es(es_projection_rebuild(NULL, pt_db, &o), 0);
	ck_assert_uint_ge(calls, 3);
	o = pt_options(&c, "bad\x1fname");
	ck_assert_es(es_projection_rebuild(NULL, pt_db, &o), ES_EINVAL);
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), ES_EINVAL);
	ck_assert_es(es_projection_rebuild(NULL, NULL, &o), ES_EINVAL);
}
END_TEST

/* A rebuild's swap empties whole key ranges: pages it copies to the end of
 * the file and then frees are counted but never written, so the file is
 * shorter than its page count. es_db_open once refused such a store as
 * truncated (es-bench W7 made one); it must open, and check clean. */
START_TEST(store_opens_after_a_large_swap)
{
	static char stream[500][32]; /* a batch borrows names and events until its commit */
	es_event_data evs[500];
	es_batch *b;
	for (int i = 0; i < 20000; i += 500) {
		for (int j = 0; j < 500; j++) /* fresh: a batch writes each event's generated id back */
			evs[j] = (es_event_data){ .type = "Counted", .schema_version = 1, .payload = "p", .payload_len = 1 };
		ck_assert_es(es_batch_new(&b, pt_db), 0);
		for (int j = 0; j < 500; j++) {
			snprintf(stream[j], sizeof stream[j], "stream-%06d", i + j);
			ck_assert_es(es_batch_append(b, stream[j], ES_NO_STREAM, &evs[j], 1), 0);
		}
		ck_assert_es(es_batch_commit(b, NULL), 0);
	}
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "counts");
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), 0);
	ck_assert_es(es_projection_rebuild(NULL, pt_db, &o), 0);
	es_db_close(pt_db);
	ck_assert_es(es_db_open(&pt_db, pt_path, NULL), 0);
	ck_assert_es(es_check(NULL, pt_db, NULL), 0);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "stream-019999"), 1);
}
END_TEST

TCase *es_tc_rebuild(void)
{
	TCase *tc = tcase_create("rebuild");
	tcase_add_checked_fixture(tc, pt_setup, pt_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rebuild_while_writers_append);
	tcase_add_test(tc, rebuild_ends_while_writes_keep_coming);
	tcase_add_test(tc, refusal_in_the_swap_fails_the_rebuild);
	tcase_add_test(tc, failed_rebuild_changes_nothing);
	tcase_add_test(tc, rebuild_reports_progress_and_refuses_reserved_names);
	tcase_add_test(tc, store_opens_after_a_large_swap);
	return tc;
}
