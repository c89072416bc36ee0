/* test_group.c - engine/group.c: concurrent commits grouped into one
 * transaction (counted by the engine: es__group_stats), each request still
 * failing alone. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "engine_tcases.h"
#include "enginetest.h"

/* The clock stalls the first commit's transaction (at its second clock
 * call: the first assigns ids) until the test's other commits wait in the
 * queue, so that they go into the next group together. It gives up after
 * 10 s, so that a commit that never queues fails the test's counts rather
 * than hanging it. */
static _Thread_local int clock_calls_left_to_stall; /* 0: never stall */
static int others; /* how many commits the stalled one waits for */
static _Atomic int stalled; /* the stalled commit is in its transaction */

typedef struct group_stats {
	uint64_t groups, requests;
	int waiting;
} group_stats;

static group_stats stats(void)
{
	group_stats st;
	es__group_stats(et_db, &st.groups, &st.requests, &st.waiting);
	return st;
}

static int64_t stalling_clock(void *user_data)
{
	(void)user_data;
	if (clock_calls_left_to_stall && --clock_calls_left_to_stall == 0) {
		stalled = 1;
		for (int ms = 0; ms < 10000 && stats().waiting < others; ms++)
			usleep(1000);
	}
	return ET_T0;
}

/* A durable store on the stalling clock: the group's final sync runs too. */
static void reopen_stalling(void)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.clock = stalling_clock;
	es_db_close(et_db);
	ck_assert_es(es_db_open(&et_db, et_path, &o), 0);
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

/* Commits waiting while a group's transaction runs share the next one: one
 * transaction for the first commit, then one for all the others (a store
 * committing one by one would show a transaction per commit). */
START_TEST(concurrent_commits_share_a_transaction)
{
	enum { N = 8 };
	char names[N][16];
	commit_job jobs[N];
	reopen_stalling();
	others = N - 1;
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "s%d", i);
		jobs[i] = (commit_job){ .streams = { names[i] }, .expected = { ES_NO_STREAM }, .n = 1,
		                        .stall = i == 0 };
		ck_assert_int_eq(pthread_create(&jobs[i].thread, NULL, run_commit, &jobs[i]), 0);
		for (int ms = 0; i == 0 && !stalled && ms < 10000; ms++)
			usleep(1000); /* the first leads, alone */
	}
	for (int i = 0; i < N; i++) {
		pthread_join(jobs[i].thread, NULL);
		ck_assert_msg(jobs[i].rc == 0, "commit %d: %s", i, jobs[i].message);
	}
	group_stats st = stats();
	ck_assert_uint_eq(st.requests, N);
	ck_assert_uint_eq(st.groups, 2);
	ck_assert_int_eq(st.waiting, 0);
	ck_assert_uint_eq(et_log_head(et_db), N);
}
END_TEST

/* A request that fails after writing part of itself in the group's
 * transaction fails alone, leaves nothing behind, and the requests before
 * and after it in the same group commit with contiguous positions. */
START_TEST(a_failing_request_fails_alone_in_its_group)
{
	reopen_stalling();
	others = 3;
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
	group_stats st = stats();
	ck_assert_uint_eq(st.groups, 2); /* the first, then the other three together */
	ck_assert_uint_eq(st.requests, 4);
}
END_TEST

TCase *es_tc_group(void)
{
	TCase *tc = tcase_create("group");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_add_test(tc, concurrent_commits_share_a_transaction);
	tcase_add_test(tc, a_failing_request_fails_alone_in_its_group);
	return tc;
}
