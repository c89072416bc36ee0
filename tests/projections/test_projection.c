/*
 * test_projection.c - projections/projection.c: catch-up in batches, only
 * new events on the next call, a handler failure stops the projection at
 * its event, and exactly once across kill -9.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "projtest.h"

START_TEST(catch_up_in_batches_then_only_new_events)
{
	pt_append(pt_db, "a", 10, "p");
	pt_append(pt_db, "b", 3, "p");
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "counts");
	o.batch = 4;
	es_projection_stats st;
	ck_assert_es(es_projection_catch_up(&st, pt_db, &o), 0);
	ck_assert_uint_eq(st.events, 13);
	ck_assert_uint_eq(st.batches, 4); /* 4 + 4 + 4 + 1 */
	ck_assert_uint_eq(st.position, 13);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 10);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "b"), 3);
	ck_assert_es(es_projection_catch_up(&st, pt_db, &o), 0); /* nothing new: nothing written */
	ck_assert_uint_eq(st.events, 0);
	ck_assert_uint_eq(st.batches, 0);
	pt_append(pt_db, "b", 2, "p");
	ck_assert_es(es_projection_catch_up(&st, pt_db, &o), 0);
	ck_assert_uint_eq(st.events, 2);
	ck_assert_uint_eq(c.calls, 15);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "b"), 5);
}
END_TEST

START_TEST(new_projection_on_empty_store_has_a_position)
{
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "empty");
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), 0);
	es_read *rd;
	es_projection_status s;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	ck_assert_es(es_projection_status_get(&s, rd, "empty"), 0);
	ck_assert_uint_eq(s.position, 0);
	ck_assert_uint_eq(s.behind, 0);
	es_read_end(rd);
}
END_TEST

/* A type filter that matches nothing still moves the position on. */
START_TEST(filter_matching_nothing_moves_on)
{
	pt_append(pt_db, "a", 20, "p");
	pt_counter c = { 0 };
	const char *types[] = { "NeverWritten" };
	es_projection_options o = pt_options(&c, "none");
	o.types = types;
	o.n_types = 1;
	es_projection_stats st;
	ck_assert_es(es_projection_catch_up(&st, pt_db, &o), 0);
	ck_assert_uint_eq(st.events, 0);
	ck_assert_uint_eq(st.position, 20);
	ck_assert_uint_eq(c.calls, 0);
}
END_TEST

START_TEST(handler_failure_stops_at_its_event)
{
	pt_append(pt_db, "a", 5, "p");  /* positions 1-5 */
	pt_append(pt_db, "a", 1, "bad"); /* 6 */
	pt_append(pt_db, "a", 3, "p");  /* 7-9 */
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "counts");
	o.batch = 4;
	es_projection_stats st;
	ck_assert_es(es_projection_catch_up(&st, pt_db, &o), ES_EREJECTED);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "projection 'counts' stopped at position 6"));
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "event 5 of 'a' is bad"));
	ck_assert_uint_eq(st.position, 5);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 5); /* 5 in the batch before it, nothing after */
	es_read *rd;
	es_projection_status s;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	ck_assert_es(es_projection_status_get(&s, rd, "counts"), 0);
	ck_assert_int_eq(s.error, ES_EREJECTED);
	ck_assert_uint_eq(s.error_position, 6);
	ck_assert_uint_eq(s.position, 5);
	ck_assert_uint_eq(s.behind, 4);
	ck_assert_ptr_nonnull(strstr(s.message, "is bad"));
	es_read_end(rd);
	ck_assert_es(es_projection_catch_up(&st, pt_db, &o), ES_EREJECTED); /* no skipping */
	c.allow_bad = 1; /* the handler fixed: a retry resumes there */
	ck_assert_es(es_projection_catch_up(&st, pt_db, &o), 0);
	ck_assert_uint_eq(st.events, 4);
	ck_assert_uint_eq(pt_count(pt_db, "counts", "a"), 9);
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	ck_assert_es(es_projection_status_get(&s, rd, "counts"), 0);
	ck_assert_int_eq(s.error, 0);
	ck_assert_uint_eq(s.behind, 0);
	es_read_end(rd);
}
END_TEST

/* A process running catch-ups is killed at random moments while writers
 * append; after the last restart every count equals the stream's events:
 * nothing applied twice, nothing lost. */
#define KILL_STREAMS 5
#define KILL_ROUNDS 60

static void catch_up_forever(const char *path)
{
	es_db *db;
	if (es_db_open(&db, path, NULL) != 0)
		_exit(2);
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "killed");
	o.batch = 7;
	for (;;)
		if (es_projection_catch_up(NULL, db, &o) != 0)
			_exit(3);
}

START_TEST(exactly_once_across_kill9)
{
	es_db_close(pt_db); /* durable, as a real deployment */
	ck_assert_es(es_db_open(&pt_db, pt_path, NULL), 0);
	uint64_t rng = 0xfeed;
	char stream[16];
	int kills = 0;
	for (int round = 0; round < KILL_ROUNDS; round++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			catch_up_forever(pt_path);
		for (int i = 0; i < 3; i++) {
			snprintf(stream, sizeof stream, "s-%d", (int)es_test_random_between(&rng, 0, KILL_STREAMS - 1));
			pt_append(pt_db, stream, (size_t)es_test_random_between(&rng, 1, 5), "p");
		}
		struct timespec ts = { 0, (long)es_test_random_between(&rng, 0, 4) * 1000000L };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status), "the projection process exited %d", WEXITSTATUS(status));
		kills++;
	}
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "killed");
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), 0);
	for (int s = 0; s < KILL_STREAMS; s++) {
		es_stream_info info;
		es_read *rd;
		snprintf(stream, sizeof stream, "s-%d", s);
		ck_assert_es(es_read_begin(&rd, pt_db), 0);
		int rc = es_stream_info_get(&info, rd, stream);
		es_read_end(rd);
		uint64_t want = rc == 0 ? (uint64_t)(info.head_version + 1) : 0;
		ck_assert_uint_eq(pt_count(pt_db, "killed", stream), want);
	}
	ck_assert_int_eq(kills, KILL_ROUNDS);
}
END_TEST

START_TEST(bad_options)
{
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "x");
	ck_assert_es(es_projection_catch_up(NULL, NULL, &o), ES_EINVAL);
	ck_assert_es(es_projection_catch_up(NULL, pt_db, NULL), ES_EINVAL);
	o.version = 9;
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), ES_EINVAL);
	o = pt_options(&c, "");
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), ES_EINVAL);
	o = pt_options(&c, "x");
	o.handler = NULL;
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "no handler"));
	const char *bad[] = { "" };
	o = pt_options(&c, "x");
	o.types = bad;
	o.n_types = 1;
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "types[0]"));
	es_projection_options init;
	ck_assert_es(es_projection_options_init(&init, ES_PROJECTION_OPTIONS_VERSION), 0);
	ck_assert_uint_eq(init.batch, 0);
}
END_TEST

static int put_long_key(es_projection_ctx *ctx, const es_event *ev, void *user_data)
{
	char key[400];
	(void)ev, (void)user_data;
	memset(key, 'k', sizeof key);
	return es_projection_put(ctx, key, sizeof key, "v", 1);
}

START_TEST(handler_key_checked)
{
	pt_append(pt_db, "a", 1, "p");
	es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
	o.name = "long";
	o.handler = put_long_key;
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "a key of 1 to 300 bytes"));
}
END_TEST

TCase *es_tc_projection(void)
{
	TCase *tc = tcase_create("projection");
	tcase_add_checked_fixture(tc, pt_setup, pt_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, catch_up_in_batches_then_only_new_events);
	tcase_add_test(tc, new_projection_on_empty_store_has_a_position);
	tcase_add_test(tc, filter_matching_nothing_moves_on);
	tcase_add_test(tc, handler_failure_stops_at_its_event);
	tcase_add_test(tc, exactly_once_across_kill9);
	tcase_add_test(tc, bad_options);
	tcase_add_test(tc, handler_key_checked);
	return tc;
}
