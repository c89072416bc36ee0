/*
 * test_diskfull.c - a full disk. A forked child lowers RLIMIT_FSIZE (so the
 * store's file cannot grow past a few hundred KiB; SIGXFSZ ignored, so the
 * write fails with EFBIG instead of killing the process) and appends until an
 * append fails. The failure must be ES_ENOSPC naming the store; nothing
 * acknowledged before it may be lost; and once space returns (the parent,
 * without the limit) the store opens, passes es_check and takes appends.
 * Run once with one writer and once with several threads, whose batches are
 * group-committed when the disk fills.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reltest.h"
#include "reliability_tcases.h"

#define DF_EVENTS 4              /* per append */
#define DF_PAYLOAD 3000
#define DF_SLACK (384 * 1024)    /* bytes the store's file may still grow */
#define DF_MAX_APPENDS 100000    /* a bound, in case the limit never bites */
#define DF_THREADS 3

enum { DF_ACK = 1, DF_FAILED = 2 };

/* One message from the child: an acknowledged append, or a failure. */
typedef struct df_msg {
	int kind;
	int rc;
	uint64_t first_n;         /* the id number of the append's first event */
	int64_t first_version;
	char stream[16];
	char text[400];
} df_msg;

typedef struct df_writer {
	int fd;
	es_db *db;
	unsigned index;
	pthread_mutex_t *send_lock;
	pthread_t thread;
} df_writer;

static uint8_t df_payload[DF_PAYLOAD];

static void df_send(df_writer *w, const df_msg *m)
{
	pthread_mutex_lock(w->send_lock);
	rt_send(w->fd, m, sizeof *m);
	pthread_mutex_unlock(w->send_lock);
}

/* Appends until the disk is full; after the failure tries a few more times:
 * those must fail the same clean way (or succeed, if freed pages suffice). */
static void *df_write(void *arg)
{
	df_writer *w = arg;
	es_event_data evs[DF_EVENTS];
	int failures = 0;
	for (uint64_t k = 0; k < DF_MAX_APPENDS && failures < 3; k++) {
		df_msg m;
		es_append_result res;
		memset(&m, 0, sizeof m);
		snprintf(m.stream, sizeof m.stream, "fill-%u", w->index);
		m.first_n = ((uint64_t)w->index + 1) << 32 | k * DF_EVENTS;
		for (int i = 0; i < DF_EVENTS; i++)
			rt_event(&evs[i], m.first_n + (uint64_t)i, df_payload, sizeof df_payload);
		int rc = es_stream_append(&res, w->db, m.stream, ES_ANY, evs, DF_EVENTS);
		m.kind = rc ? DF_FAILED : DF_ACK;
		m.rc = rc;
		m.first_version = res.first_version;
		snprintf(m.text, sizeof m.text, "%s", rc ? es_error_last()->message : "");
		failures += rc != 0;
		df_send(w, &m);
	}
	return NULL;
}

static int df_child(void *arg, int fd)
{
	int threads = *(int *)arg;
	struct stat st;
	df_writer ws[DF_THREADS];
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	char data[700];
	es_db *db;
	snprintf(data, sizeof data, "%s/data.mdb", rt_store_path());
	if (stat(data, &st) != 0)
		return 3;
	struct rlimit lim = { (rlim_t)st.st_size + DF_SLACK, (rlim_t)st.st_size + DF_SLACK };
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &lim) != 0 || es_db_open(&db, rt_store_path(), NULL) != 0)
		return 4;
	for (int i = 0; i < threads; i++) {
		ws[i] = (df_writer){ fd, db, (unsigned)i, &lock, 0 };
		pthread_create(&ws[i].thread, NULL, df_write, &ws[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(ws[i].thread, NULL);
	es_db_close(db);
	return 0;
}

/* A store with one event, closed, so the child starts from a known file. */
static void df_make_store(void)
{
	es_event_data ev;
	es_db *db = rt_open(rt_store_path(), 0);
	rt_event(&ev, 1, "x", 1);
	ck_assert_es(es_stream_append(NULL, db, "first", ES_NO_STREAM, &ev, 1), 0);
	es_db_close(db);
}

typedef struct df_result {
	df_msg acks[4096];
	size_t n_acks;
	size_t n_failed;
	df_msg failure;
} df_result;

static void df_collect(rt_child *c, df_result *r)
{
	df_msg m;
	while (rt_recv(c->fd, &m, sizeof m) == 0) {
		if (m.kind == DF_ACK && r->n_acks < sizeof r->acks / sizeof r->acks[0])
			r->acks[r->n_acks++] = m;
		else if (m.kind == DF_FAILED && (r->n_failed++ == 0 || m.rc != ES_ENOSPC))
			r->failure = m; /* the first, or one that is not ES_ENOSPC */
	}
	int status = rt_wait(c);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

/* Every acknowledged event is there; the store is sound and takes more. */
static void df_assert_after(const df_result *r)
{
	es_event_data evs[DF_EVENTS];
	es_db *db = rt_open(rt_store_path(), 0);
	for (size_t i = 0; i < r->n_acks; i++)
		for (int j = 0; j < DF_EVENTS; j++)
			rt_assert_event(db, r->acks[i].stream, r->acks[i].first_version + j,
			                r->acks[i].first_n + (uint64_t)j);
	for (uint64_t k = 0; k < 50; k++) { /* more than the limit allowed: space is back */
		for (int i = 0; i < DF_EVENTS; i++)
			rt_event(&evs[i], (99ull << 32) + k * DF_EVENTS + (uint64_t)i, df_payload, sizeof df_payload);
		ck_assert_es(es_stream_append(NULL, db, "after", ES_ANY, evs, DF_EVENTS), 0);
	}
	rt_assert_event(db, "after", 0, 99ull << 32);
	es_db_close(db);
	rt_assert_store_ok(rt_store_path());
}

static void df_run(int threads)
{
	df_result *r = calloc(1, sizeof *r);
	ck_assert_ptr_nonnull(r);
	memset(df_payload, 0xa5, sizeof df_payload);
	df_make_store();
	rt_child c = rt_fork(df_child, &threads);
	df_collect(&c, r);
	ck_assert_msg(r->n_failed > 0, "the file size limit never made an append fail");
	ck_assert_msg(r->n_acks > 0, "no append succeeded before the disk was full");
	ck_assert_msg(r->failure.rc == ES_ENOSPC, "disk full gave %d (%s): %s", r->failure.rc,
	              es_strerror(r->failure.rc), r->failure.text);
	ck_assert_msg(strstr(r->failure.text, rt_store_path()) != NULL,
	              "the message '%s' does not name the store", r->failure.text);
	df_assert_after(r);
	free(r);
}

START_TEST(disk_full_is_enospc_and_loses_nothing)
{
	df_run(1);
}
END_TEST

START_TEST(disk_full_during_group_commit)
{
	df_run(DF_THREADS);
}
END_TEST

TCase *es_tc_diskfull(void)
{
	TCase *tc = tcase_create("diskfull");
	tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
	tcase_add_test(tc, disk_full_is_enospc_and_loses_nothing);
	tcase_add_test(tc, disk_full_during_group_commit);
	tcase_set_timeout(tc, 600);
	return tc;
}
