/*
 * test_subscription.c - subscriptions/subscription.c: where a subscription
 * starts, history then live events in position order with its signals,
 * wake-ups from other threads and processes, and bad input.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "subtest.h"

static es_subscription *open_sub(const es_subscription_options *o)
{
	es_subscription *sub = NULL;
	ck_assert_es(es_subscription_open(&sub, st_db, o), 0);
	return sub;
}

static void expect_timeout(es_subscription *sub, int ms)
{
	es_subscription_item it;
	ck_assert_es(es_subscription_next(&it, sub, ms), ES_ETIMEDOUT);
}

START_TEST(history_then_caught_up)
{
	st_append(st_db, "a", "Made", 2);
	st_append(st_db, "b", "Made", 1);
	es_subscription *sub = open_sub(NULL);
	st_expect_event(sub, 1, "a", "Made");
	st_expect_event(sub, 2, "a", "Made");
	st_expect_event(sub, 3, "b", "Made");
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 3);
	expect_timeout(sub, 0);
	st_append(st_db, "c", "Late", 1);
	st_expect_event(sub, 4, "c", "Late"); /* live: no second caught-up */
	expect_timeout(sub, 20);
	ck_assert_uint_eq(es_subscription_position(sub), 4);
	es_subscription_free(sub);
}
END_TEST

START_TEST(empty_store_is_caught_up_at_zero)
{
	es_subscription *sub = open_sub(NULL);
	ck_assert_uint_eq(es_subscription_position(sub), 0);
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 0);
	expect_timeout(sub, 0);
	es_subscription_free(sub);
}
END_TEST

START_TEST(from_end_and_after)
{
	st_append(st_db, "a", "Made", 5);
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.start = ES_SUBSCRIPTION_FROM_END;
	es_subscription *end = open_sub(&o);
	o.start = ES_SUBSCRIPTION_AFTER;
	o.after = 3; /* exclusive */
	es_subscription *after = open_sub(&o);
	st_expect_signal(end, ES_SUBSCRIPTION_CAUGHT_UP, 5);
	st_expect_event(after, 4, "a", "Made");
	st_expect_event(after, 5, "a", "Made");
	st_expect_signal(after, ES_SUBSCRIPTION_CAUGHT_UP, 5);
	st_append(st_db, "b", "New", 1);
	st_expect_event(end, 6, "b", "New");
	st_expect_event(after, 6, "b", "New");
	es_subscription_free(end);
	es_subscription_free(after);
	o.after = 6; /* the head itself: nothing yet */
	after = open_sub(&o);
	st_expect_signal(after, ES_SUBSCRIPTION_CAUGHT_UP, 6);
	es_subscription_free(after);
}
END_TEST

START_TEST(resume_from_checkpoint)
{
	st_append(st_db, "a", "Made", 6);
	es_subscription *sub = open_sub(NULL);
	for (uint64_t p = 1; p <= 4; p++)
		st_expect_event(sub, p, "a", "Made");
	ck_assert_es(es_checkpoint_save(st_db, "reader", es_subscription_position(sub)), 0);
	es_subscription_free(sub);
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.start = ES_SUBSCRIPTION_FROM_CHECKPOINT;
	o.checkpoint = "reader";
	sub = open_sub(&o);
	st_expect_event(sub, 5, "a", "Made"); /* no repeat, no gap */
	st_expect_event(sub, 6, "a", "Made");
	es_subscription_free(sub);
	o.checkpoint = "nobody";
	ck_assert_es(es_subscription_open(&sub, st_db, &o), ES_ENOTFOUND);
	ck_assert_ptr_null(sub);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "nobody"));
}
END_TEST

START_TEST(fell_behind_then_caught_up)
{
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.behind_after = 5;
	es_subscription *sub = open_sub(&o);
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 0);
	st_append(st_db, "a", "Made", 3); /* within behind_after: stays live */
	for (uint64_t p = 1; p <= 3; p++)
		st_expect_event(sub, p, "a", "Made");
	st_append(st_db, "a", "Made", 8);
	st_expect_signal(sub, ES_SUBSCRIPTION_FELL_BEHIND, 3);
	for (uint64_t p = 4; p <= 11; p++)
		st_expect_event(sub, p, "a", "Made");
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 11);
	es_subscription_free(sub);
}
END_TEST

/* Small chunks: every chunk's read ends before the next begins, and an
 * event stays valid until the next call, across chunk boundaries too. */
START_TEST(chunks_keep_order_and_events_valid)
{
	for (int i = 0; i < 10; i++) {
		char stream[16];
		snprintf(stream, sizeof stream, "s-%d", i);
		st_append(st_db, stream, "Made", 3);
	}
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.chunk = 4;
	es_subscription *sub = open_sub(&o);
	for (uint64_t p = 1; p <= 30; p++) {
		es_subscription_item it = st_next(sub);
		char want[16];
		snprintf(want, sizeof want, "s-%d", (int)((p - 1) / 3));
		ck_assert_uint_eq(it.event.position, p);
		ck_assert_str_eq(it.event.stream, want);
		ck_assert_int_eq(memcmp(it.event.payload, "p", 1), 0);
	}
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 30);
	es_subscription_free(sub);
}
END_TEST

START_TEST(deleted_streams_still_delivered)
{
	st_append(st_db, "gone", "Made", 2);
	st_append(st_db, "ended", "Made", 1);
	ck_assert_es(es_stream_delete(st_db, "gone", 1), 0);
	ck_assert_es(es_stream_tombstone(st_db, "ended", 0), 0);
	es_subscription *sub = open_sub(NULL);
	st_expect_event(sub, 1, "gone", "Made");
	st_expect_event(sub, 2, "gone", "Made");
	st_expect_event(sub, 3, "ended", "Made");
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 3);
	es_subscription_free(sub);
}
END_TEST

static void *append_later(void *arg)
{
	struct timespec ts = { 0, 50 * 1000000L };
	nanosleep(&ts, NULL);
	st_append(arg, "late", "Woke", 1);
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(wakes_on_commit_from_another_thread)
{
	es_subscription *sub = open_sub(NULL);
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 0);
	pthread_t t;
	pthread_create(&t, NULL, append_later, st_db);
	int64_t start = now_ms();
	st_expect_event(sub, 1, "late", "Woke"); /* within the 10 s timeout */
	ck_assert_int_lt(now_ms() - start, 10000);
	pthread_join(t, NULL);
	es_subscription_free(sub);
}
END_TEST

/* A commit by another process wakes a waiting subscriber. */
START_TEST(wakes_on_commit_from_another_process)
{
	es_subscription *sub = open_sub(NULL);
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		es_db *db;
		es_open_options o = ES_OPEN_OPTIONS_INIT;
		if (es_db_open(&db, st_path, &o) != 0)
			_exit(1);
		append_later(db);
		es_db_close(db);
		_exit(0);
	}
	st_expect_event(sub, 1, "late", "Woke");
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	es_subscription_free(sub);
}
END_TEST

/* Without the notify file (as where the directory is read-only), a
 * read-only subscriber polls, and still sees a writer's commits. */
START_TEST(polls_without_notify_file)
{
	char notify[600];
	snprintf(notify, sizeof notify, "%s/notify", st_path);
	ck_assert_int_eq(unlink(notify), 0);
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.read_only = 1;
	es_db *reader;
	ck_assert_es(es_db_open(&reader, st_path, &o), 0);
	ck_assert_int_ne(access(notify, F_OK), 0); /* a read-only open makes no file */
	es_subscription *sub = NULL;
	ck_assert_es(es_subscription_open(&sub, reader, NULL), 0);
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 0);
	pthread_t t;
	pthread_create(&t, NULL, append_later, st_db);
	st_expect_event(sub, 1, "late", "Woke");
	pthread_join(t, NULL);
	es_subscription_free(sub);
	es_db_close(reader);
}
END_TEST

/* Writers in several threads and a second process; two subscribers see
 * every event exactly once, in position order, with no gap. */
#define WRITERS 4
#define PER_WRITER 100

static void *write_many(void *arg)
{
	for (int i = 0; i < PER_WRITER; i++)
		st_append(arg, "w", "Many", 1 + i % 3);
	return NULL;
}

static void read_all(es_subscription *sub, uint64_t total)
{
	uint64_t want = 1;
	while (want <= total) {
		es_subscription_item it = st_next(sub);
		if (it.kind != ES_SUBSCRIPTION_EVENT)
			continue;
		ck_assert_msg(it.event.position == want, "got position %llu, expected %llu",
		              (unsigned long long)it.event.position, (unsigned long long)want);
		want++;
	}
	es_subscription_item it;
	int rc;
	while ((rc = es_subscription_next(&it, sub, 50)) == 0) /* a caught-up signal at most */
		ck_assert_int_eq(it.kind, ES_SUBSCRIPTION_CAUGHT_UP);
	ck_assert_es(rc, ES_ETIMEDOUT);
}

START_TEST(concurrent_writers_no_gap_no_repeat)
{
	es_subscription *a = open_sub(NULL), *b = open_sub(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		es_db *db;
		if (es_db_open(&db, st_path, NULL) != 0)
			_exit(1);
		write_many(db);
		es_db_close(db);
		_exit(0);
	}
	pthread_t t[WRITERS];
	for (int i = 0; i < WRITERS; i++)
		pthread_create(&t[i], NULL, write_many, st_db);
	uint64_t per = 0;
	for (int i = 0; i < PER_WRITER; i++)
		per += 1 + i % 3;
	read_all(a, per * (WRITERS + 1));
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	read_all(b, per * (WRITERS + 1));
	es_subscription_free(a);
	es_subscription_free(b);
}
END_TEST

/* A subscriber that records each event (a side effect outside the store),
 * then saves its checkpoint, is killed with SIGKILL at random moments and
 * restarted from its checkpoint while writers go on. Its record must hold
 * every position in order; a position may repeat only right after a kill
 * (at-least-once), never be skipped. */
#define KILL_EVENTS 600

static void subscriber_child(const char *record)
{
	es_db *db;
	es_subscription *sub;
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.start = ES_SUBSCRIPTION_FROM_CHECKPOINT;
	o.checkpoint = "killed";
	if (es_db_open(&db, st_path, NULL) != 0 || es_subscription_open(&sub, db, &o) != 0)
		_exit(2);
	FILE *f = fopen(record, "a");
	es_subscription_item it;
	while (f && es_subscription_next(&it, sub, 5000) == 0) {
		if (it.kind == ES_SUBSCRIPTION_EVENT) {
			fprintf(f, "%llu\n", (unsigned long long)it.event.position);
			fflush(f);
		}
		if (es_checkpoint_save(db, "killed", it.position) != 0)
			_exit(3);
		if (it.position == KILL_EVENTS)
			_exit(0);
	}
	_exit(4);
}

static void *write_slowly(void *arg)
{
	for (int i = 0; i < KILL_EVENTS; i++) {
		st_append(arg, "k", "Killed", 1);
		if (i % 20 == 0) {
			struct timespec ts = { 0, 2 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

START_TEST(checkpoint_survives_kill9)
{
	char record[600];
	snprintf(record, sizeof record, "%s/record", st_path);
	ck_assert_es(es_checkpoint_save(st_db, "killed", 0), 0);
	pthread_t writer;
	pthread_create(&writer, NULL, write_slowly, st_db);
	uint64_t rng = 0x5eed;
	int kills = 0, status = 0;
	for (int round = 0; round < 200; round++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			subscriber_child(record);
		struct timespec ts = { 0, (long)es_test_random_between(&rng, 1, 15) * 1000000L };
		nanosleep(&ts, NULL);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break; /* it finished */
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		kills++;
	}
	pthread_join(writer, NULL);
	if (!WIFEXITED(status)) { /* the last one was killed: finish the run */
		pid_t pid = fork();
		if (pid == 0)
			subscriber_child(record);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "subscriber status %d", status);
	ck_assert_int_gt(kills, 0);
	FILE *f = fopen(record, "r");
	unsigned long long p, want = 1, repeats = 0;
	while (fscanf(f, "%llu", &p) == 1) {
		if (p == want - 1) { /* the event handled just before a kill */
			repeats++;
			continue;
		}
		ck_assert_msg(p == want, "record has %llu where %llu was due", p, want);
		want++;
	}
	fclose(f);
	ck_assert_uint_eq(want - 1, KILL_EVENTS);
	ck_assert_uint_le(repeats, (unsigned long long)kills);
}
END_TEST

/* ---- memory stays flat however far behind ---- */

static size_t live_bytes, peak_bytes;

static void *count_malloc(size_t size, void *user_data)
{
	(void)user_data;
	size_t *p = malloc(size + 16);
	if (!p)
		return NULL;
	*p = size;
	live_bytes += size;
	if (live_bytes > peak_bytes)
		peak_bytes = live_bytes;
	return (char *)p + 16;
}

static void count_free(void *ptr, void *user_data)
{
	(void)user_data;
	if (!ptr)
		return;
	size_t *p = (size_t *)((char *)ptr - 16);
	live_bytes -= *p;
	free(p);
}

static void *count_realloc(void *ptr, size_t size, void *user_data)
{
	void *fresh = count_malloc(size, user_data);
	if (fresh && ptr) {
		size_t old = *(size_t *)((char *)ptr - 16);
		memcpy(fresh, ptr, old < size ? old : size);
		count_free(ptr, user_data);
	}
	return fresh;
}

/* The peak of the library's live allocations while a subscription reads
 * the first n events of the store. */
static size_t peak_reading(size_t n)
{
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.chunk = 128;
	size_t base = live_bytes;
	peak_bytes = live_bytes;
	es_subscription *sub = open_sub(&o);
	for (size_t seen = 0; seen < n;)
		seen += st_next(sub).kind == ES_SUBSCRIPTION_EVENT;
	es_subscription_free(sub);
	return peak_bytes - base;
}

START_TEST(memory_flat_far_behind)
{
	char stream[32];
	es_allocator a = { count_malloc, count_realloc, count_free, NULL };
	es_db_close(st_db); /* the store's own memory, too, through the counter */
	es_set_allocator(&a);
	ck_assert_es(es_db_open(&st_db, st_path, NULL), 0);
	for (int i = 0; i < 4000; i++) { /* 20000 events over 4000 streams */
		snprintf(stream, sizeof stream, "stream-with-a-long-name-%d", i);
		st_append(st_db, stream, "Made", 5);
	}
	size_t small = peak_reading(2000), big = peak_reading(20000);
	es_db_close(st_db);
	es_set_allocator(NULL);
	ck_assert_es(es_db_open(&st_db, st_path, NULL), 0);
	ck_assert_msg(big <= small + 4096, "peak %zu bytes over 20000 events, %zu over 2000", big, small);
	ck_assert_uint_lt(big, 256 * 1024);
}
END_TEST

/* Subscribers are not counted, but a chunk needs one of the store's 256
 * reader slots. */
START_TEST(no_reader_slot_is_a_clear_error)
{
	st_append(st_db, "a", "Made", 1);
	es_subscription *sub = open_sub(NULL);
	es_read *reads[300];
	size_t n = 0;
	while (n < 300 && es_read_begin(&reads[n], st_db) == 0)
		n++;
	ck_assert_uint_lt(n, 300);
	es_subscription_item it;
	ck_assert_es(es_subscription_next(&it, sub, 0), ES_EBUSY);
	ck_assert_str_ne(es_error_last()->message, "");
	es_read_end(reads[--n]);
	st_expect_event(sub, 1, "a", "Made"); /* a slot again: it goes on */
	while (n > 0)
		es_read_end(reads[--n]);
	es_subscription_free(sub);
}
END_TEST

START_TEST(bad_input)
{
	es_subscription *sub = (es_subscription *)1;
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	ck_assert_es(es_subscription_open(NULL, st_db, NULL), ES_EINVAL);
	ck_assert_es(es_subscription_open(&sub, NULL, NULL), ES_EINVAL);
	ck_assert_ptr_null(sub);
	o.version = 99;
	ck_assert_es(es_subscription_open(&sub, st_db, &o), ES_EINVAL);
	o.version = ES_SUBSCRIPTION_OPTIONS_VERSION;
	o.start = (es_subscription_start)77;
	ck_assert_es(es_subscription_open(&sub, st_db, &o), ES_EINVAL);
	o.start = ES_SUBSCRIPTION_AFTER;
	o.after = 1; /* the store is empty */
	ck_assert_es(es_subscription_open(&sub, st_db, &o), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "after the log head"));
	o.start = ES_SUBSCRIPTION_FROM_CHECKPOINT;
	ck_assert_es(es_subscription_open(&sub, st_db, &o), ES_EINVAL); /* no name */
	ck_assert_es(es_subscription_options_init(&o, ES_SUBSCRIPTION_OPTIONS_VERSION), 0);
	ck_assert_int_eq(o.start, ES_SUBSCRIPTION_FROM_START);
	ck_assert_es(es_subscription_options_init(&o, 2), ES_EINVAL);
	ck_assert_es(es_subscription_options_init(NULL, ES_SUBSCRIPTION_OPTIONS_VERSION), ES_EINVAL);
	es_subscription_item it;
	ck_assert_es(es_subscription_next(&it, NULL, 0), ES_EINVAL);
	sub = open_sub(NULL);
	ck_assert_es(es_subscription_next(NULL, sub, 0), ES_EINVAL);
	es_subscription_free(sub);
	es_subscription_free(NULL);
	ck_assert_uint_eq(es_subscription_position(NULL), 0);
}
END_TEST

TCase *es_tc_subscription(void)
{
	TCase *tc = tcase_create("subscription");
	tcase_add_checked_fixture(tc, st_setup, st_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, history_then_caught_up);
	tcase_add_test(tc, empty_store_is_caught_up_at_zero);
	tcase_add_test(tc, from_end_and_after);
	tcase_add_test(tc, resume_from_checkpoint);
	tcase_add_test(tc, fell_behind_then_caught_up);
	tcase_add_test(tc, chunks_keep_order_and_events_valid);
	tcase_add_test(tc, deleted_streams_still_delivered);
	tcase_add_test(tc, wakes_on_commit_from_another_thread);
	tcase_add_test(tc, wakes_on_commit_from_another_process);
	tcase_add_test(tc, polls_without_notify_file);
	tcase_add_test(tc, concurrent_writers_no_gap_no_repeat);
	tcase_add_test(tc, checkpoint_survives_kill9);
	tcase_add_test(tc, memory_flat_far_behind);
	tcase_add_test(tc, no_reader_slot_is_a_clear_error);
	tcase_add_test(tc, bad_input);
	return tc;
}
