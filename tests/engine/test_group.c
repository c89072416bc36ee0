/* test_group.c - engine/group.c: concurrent commits grouped into one transaction. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine_tcases.h"
#include "enginetest.h"

/* The clock stalls the first commit's transaction (its second clock call:
 * the first assigns ids) so that the commits started meanwhile queue up
 * and go into the next group together. */
static _Thread_local int clock_calls_left_to_stall; /* 0: never stall */

static int64_t stalling_clock(void *user_data)
{
	(void)user_data;
	if (clock_calls_left_to_stall && --clock_calls_left_to_stall == 0)
		usleep(300 * 1000);
	return ET_T0;
}

typedef struct commit_job {
	pthread_t thread;
	const char *streams[2];
	int64_t expected[2];
	size_t n;
	int stall;
	int rc;
	char message[512];
	es_append_result results[2];
	es_event_data events[2];
} commit_job;

static void *run_commit(void *arg)
{
	commit_job *j = arg;
	es_batch *b;
	clock_calls_left_to_stall = j->stall ? 2 : 0;
	j->rc = es_batch_new(&b, et_db);
	for (size_t i = 0; j->rc == 0 && i < j->n; i++) {
		j->events[i] = et_event("Happened", j->streams[i]);
		j->rc = es_batch_append(b, j->streams[i], j->expected[i], &j->events[i], 1);
	}
	j->rc = j->rc ? j->rc : es_batch_commit(b, j->results);
	snprintf(j->message, sizeof j->message, "%s", es_error_last()->message);
	return NULL;
}

static void start(commit_job *j)
{
	ck_assert_int_eq(pthread_create(&j->thread, NULL, run_commit, j), 0);
	usleep(50 * 1000); /* queue in this order */
}

/* A request that fails after writing part of itself in the group's
 * transaction fails alone, leaves nothing behind, and the requests before
 * and after it in the same group commit with contiguous positions. */
START_TEST(a_failing_request_fails_alone_in_its_group)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.clock = stalling_clock; /* durable: the group's final sync runs too */
	es_db_close(et_db);
	ck_assert_es(es_db_open(&et_db, et_path, &o), 0);
	commit_job first = { .streams = { "first" }, .expected = { ES_NO_STREAM }, .n = 1, .stall = 1 };
	commit_job before = { .streams = { "before" }, .expected = { ES_NO_STREAM }, .n = 1 };
	commit_job failing = { .streams = { "partial", "missing" }, .expected = { ES_ANY, 4 }, .n = 2 };
	commit_job after = { .streams = { "after" }, .expected = { ES_NO_STREAM }, .n = 1 };
	start(&first);
	start(&before);
	start(&failing);
	start(&after);
	commit_job *jobs[] = { &first, &before, &failing, &after };
	for (int i = 0; i < 4; i++)
		pthread_join(jobs[i]->thread, NULL);

	ck_assert_int_eq(failing.rc, ES_ECONFLICT);
	ck_assert_msg(strstr(failing.message, "'missing'"), "message: %s", failing.message);
	ck_assert_int_eq(et_head(et_db, "partial"), -2); /* its first entry was rolled back */
	ck_assert_int_eq(first.rc, 0);
	ck_assert_int_eq(before.rc, 0);
	ck_assert_int_eq(after.rc, 0);
	ck_assert_uint_eq(et_log_head(et_db), 3);
	ck_assert_uint_eq(before.events[0].position + 1, after.events[0].position);
	ck_assert_int_eq(after.results[0].head_version, 0);
	ck_assert_uint_eq(et_count(et_db, "after"), 1);
}
END_TEST

TCase *es_tc_group(void)
{
	TCase *tc = tcase_create("group");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_add_test(tc, a_failing_request_fails_alone_in_its_group);
	return tc;
}
