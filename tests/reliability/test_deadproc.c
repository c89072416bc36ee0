/*
 * test_deadproc.c - a store left locked by a process that died: SIGKILLed
 * while it held a read (its reader slot stays taken), or in the middle of a
 * write transaction (it held LMDB's writer lock), or with a second process
 * queued behind it for that lock. The next process opens the store and
 * appends as usual, the dead writer's batch is not there, and es_check
 * passes.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reltest.h"
#include "reliability_tcases.h"

/* A store with stream "base" holding events 1..n. */
static void dp_make_store(int n)
{
	es_event_data ev;
	es_db *db = rt_open(rt_store_path(), 0);
	for (int i = 1; i <= n; i++) {
		rt_event(&ev, (uint64_t)i, "base", 4);
		ck_assert_es(es_stream_append(NULL, db, "base", ES_ANY, &ev, 1), 0);
	}
	es_db_close(db);
}

/* Appends events first_n..first_n+count-1 to stream, one per transaction,
 * and reads them back: the store works. */
static void dp_assert_appends(const char *stream, uint64_t first_n, int count)
{
	es_event_data ev;
	es_append_result res;
	es_db *db = rt_open(rt_store_path(), 1); /* about locks, not durability */
	for (int i = 0; i < count; i++) {
		rt_event(&ev, first_n + (uint64_t)i, "after", 5);
		ck_assert_es(es_stream_append(&res, db, stream, ES_ANY, &ev, 1), 0);
		rt_assert_event(db, stream, res.first_version, first_n + (uint64_t)i);
	}
	rt_assert_event(db, "base", 0, 1);
	es_db_close(db);
}

/* ---- a dead reader ---- */

static int dp_reader(void *arg, int fd)
{
	(void)arg;
	es_db *db;
	es_read *rd;
	es_event ev;
	if (es_db_open(&db, rt_store_path(), NULL) || es_read_begin(&rd, db) ||
	    es_stream_get(&ev, rd, "base", 0))
		return 3;
	rt_send(fd, "R", 1);
	for (;;)
		pause(); /* killed while the read is open */
}

START_TEST(dead_reader_leaves_the_store_usable)
{
	char c;
	dp_make_store(3);
	rt_child reader = rt_fork(dp_reader, NULL);
	ck_assert_int_eq(rt_recv(reader.fd, &c, 1), 0);
	rt_kill(&reader);
	/* Many transactions: a stale reader slot would pin every old page. */
	dp_assert_appends("after", 100, 300);
	rt_assert_store_ok(rt_store_path());
}
END_TEST

/* ---- a dead writer ---- */

typedef struct dp_blocker {
	int fd;
	int calls;
} dp_blocker;

/* The engine reads the clock once to make event ids, before the write
 * transaction, and once more inside it for the commit time: the second
 * call is made while this process holds the writer lock. There it stops. */
static int64_t dp_blocking_clock(void *user_data)
{
	dp_blocker *b = user_data;
	struct timespec ts;
	if (++b->calls == 2) {
		rt_send(b->fd, "W", 1);
		for (;;)
			pause();
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int dp_writer(void *arg, int fd)
{
	(void)arg;
	dp_blocker b = { fd, 0 };
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_event_data evs[3];
	es_db *db;
	o.clock = dp_blocking_clock;
	o.clock_user_data = &b;
	if (es_db_open(&db, rt_store_path(), &o) != 0)
		return 3;
	for (int i = 0; i < 3; i++)
		rt_event(&evs[i], 500 + (uint64_t)i, "doomed", 6);
	es_stream_append(NULL, db, "doomed", ES_NO_STREAM, evs, 3); /* never returns */
	return 4;
}

/* A second process that appends once (queued behind the writer's lock). */
static int dp_queued(void *arg, int fd)
{
	(void)arg;
	es_db *db;
	es_event_data ev;
	rt_event(&ev, 700, "queued", 6);
	int rc = es_db_open(&db, rt_store_path(), NULL);
	if (rc == 0)
		rc = es_stream_append(NULL, db, "queued", ES_NO_STREAM, &ev, 1);
	rt_send(fd, &rc, sizeof rc);
	es_db_close(db);
	return 0;
}

static void dp_assert_no_doomed(void)
{
	es_db *db = rt_open(rt_store_path(), 0);
	es_read *rd;
	es_stream_info info;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_stream_info_get(&info, rd, "doomed"), ES_ENOTFOUND);
	es_read_end(rd);
	es_db_close(db);
}

START_TEST(dead_writer_leaves_the_store_usable)
{
	char c;
	dp_make_store(3);
	rt_child writer = rt_fork(dp_writer, NULL);
	ck_assert_int_eq(rt_recv(writer.fd, &c, 1), 0);
	rt_kill(&writer);
	dp_assert_no_doomed();
	dp_assert_appends("after", 100, 20);
	rt_assert_store_ok(rt_store_path());
}
END_TEST

START_TEST(queued_writer_gets_the_lock_of_a_dead_one)
{
	char c;
	int rc = -1;
	dp_make_store(3);
	rt_child writer = rt_fork(dp_writer, NULL);
	ck_assert_int_eq(rt_recv(writer.fd, &c, 1), 0);
	rt_child queued = rt_fork(dp_queued, NULL);
	/* Not a timing assertion: while the writer lives and holds the lock the
	 * queued append cannot finish, however long we look. This shows the
	 * writer really holds it; it does not wait for anything. */
	struct pollfd p = { queued.fd, POLLIN, 0 };
	ck_assert_int_eq(poll(&p, 1, 200), 0);
	rt_kill(&writer);
	ck_assert_int_eq(rt_recv(queued.fd, &rc, sizeof rc), 0);
	ck_assert_es(rc, 0);
	ck_assert_int_eq(rt_wait(&queued), 0);
	dp_assert_no_doomed();
	dp_assert_appends("after", 100, 20);
	rt_assert_store_ok(rt_store_path());
}
END_TEST

TCase *es_tc_deadproc(void)
{
	TCase *tc = tcase_create("deadproc");
	tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
	tcase_add_test(tc, dead_reader_leaves_the_store_usable);
	tcase_add_test(tc, dead_writer_leaves_the_store_usable);
	tcase_add_test(tc, queued_writer_gets_the_lock_of_a_dead_one);
	tcase_set_timeout(tc, 600);
	return tc;
}
