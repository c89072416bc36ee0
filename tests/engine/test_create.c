/*
 * test_create.c - engine/create.c: a new store is built aside and renamed
 * into place, leaving nothing else behind; a data file that never finished
 * its first commit (what a power cut during creation by an older evstore
 * left: see tests/powerloss/states/) is set aside and the store made
 * afresh; a data file whose meta pages are merely damaged is refused, not
 * replaced.
 */
#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_tcases.h"
#include "enginetest.h"

#define PAGE 4096

static char store[600], data[700];

static void paths(void)
{
	snprintf(store, sizeof store, "%s/new", et_path);
	snprintf(data, sizeof data, "%s/data.mdb", store);
}

static int exists(const char *dir, const char *name)
{
	char p[800];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/* An LMDB environment in store that never committed: both meta pages,
 * transaction 0 (what LMDB's first 8 KiB pwrite holds). */
static void uncommitted_env(void)
{
	MDB_env *env;
	ck_assert_int_eq(mkdir(store, 0700), 0);
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_open(env, store, 0, 0600), 0);
	mdb_env_close(env);
}

static void overwrite(off_t off, int byte, size_t len)
{
	uint8_t buf[PAGE];
	FILE *f = fopen(data, "r+");
	if (!f)
		f = fopen(data, "w");
	ck_assert_ptr_nonnull(f);
	memset(buf, byte, len);
	ck_assert_int_eq(fseek(f, off, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* The store opens, takes an append and keeps the old file aside. */
static void assert_rebuilt(void)
{
	es_db *db;
	ck_assert_es(es_db_open(&db, store, NULL), 0);
	et_append_ok(db, "s", ES_NO_STREAM, 2);
	es_db_close(db);
	ck_assert(exists(store, "data.mdb.unfinished"));
	ck_assert(!exists(store, "data.mdb.new"));
	db = et_open_path(store, NULL);
	ck_assert_int_eq(et_head(db, "s"), 1);
	es_db_close(db);
}

START_TEST(new_store_leaves_nothing_else)
{
	paths();
	es_db *db = et_open_path(store, NULL);
	es_db_close(db);
	ck_assert(exists(store, "data.mdb"));
	ck_assert(!exists(store, "data.mdb.new"));
	ck_assert(!exists(store, "data.mdb.new-lock"));
	ck_assert(!exists(store, "data.mdb.unfinished"));
}
END_TEST

START_TEST(only_the_first_meta_page)
{
	es_db *db;
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	paths();
	uncommitted_env();
	ck_assert_int_eq(truncate(data, PAGE), 0);
	o.read_only = 1; /* read-only, nothing is changed: a clear refusal */
	ck_assert_es(es_db_open(&db, store, &o), ES_ENOTFOUND);
	ck_assert_msg(strstr(es_error_last()->message, "creation was cut short"), "%s", es_error_last()->message);
	assert_rebuilt();
}
END_TEST

START_TEST(first_meta_page_lost)
{
	paths();
	uncommitted_env();
	overwrite(0, 0, PAGE);
	assert_rebuilt();
}
END_TEST

START_TEST(second_meta_page_torn)
{
	paths();
	uncommitted_env();
	overwrite(PAGE + 16, 0x5a, 512); /* from its magic on: the sectors after the first lost */
	assert_rebuilt();
}
END_TEST

START_TEST(leftover_temporary_is_replaced)
{
	paths();
	ck_assert_int_eq(mkdir(store, 0700), 0);
	snprintf(data, sizeof data, "%s/data.mdb.new", store);
	overwrite(0, 0x33, 100); /* creates it: garbage from an interrupted creation */
	es_db *db = et_open_path(store, NULL);
	et_append_ok(db, "s", ES_NO_STREAM, 1);
	es_db_close(db);
	ck_assert(!exists(store, "data.mdb.new"));
}
END_TEST

/* A store that held commits, both meta pages then damaged: refused with a
 * clear error, never set aside (its pages may still be recovered). */
START_TEST(damaged_meta_pages_of_a_store_are_refused)
{
	es_db *db;
	paths();
	db = et_open_path(store, NULL);
	et_append_ok(db, "s", ES_NO_STREAM, 50);
	es_db_close(db);
	overwrite(16, 0x77, 64);
	overwrite(PAGE + 16, 0x77, 64);
	ck_assert_int_ne(es_db_open(&db, store, NULL), 0);
	ck_assert_msg(strstr(es_error_last()->message, "not an evstore store") &&
	              strstr(es_error_last()->message, store), "%s", es_error_last()->message);
	ck_assert(!exists(store, "data.mdb.unfinished"));
}
END_TEST

/* Processes creating one store at once: flock lets one build it, the
 * others open what it built, and every append lands in the same store. */
START_TEST(concurrent_creators_make_one_store)
{
	enum { PROCS = 4 };
	pid_t pids[PROCS];
	paths();
	for (int i = 0; i < PROCS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			es_db *db;
			es_event_data ev = et_event("Created", "x");
			int rc = es_db_open(&db, store, NULL);
			if (rc == 0)
				rc = es_stream_append(NULL, db, "s", ES_ANY, &ev, 1);
			es_db_close(db);
			_exit(rc ? 1 : 0);
		}
	}
	for (int i = 0; i < PROCS; i++) {
		int status;
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "creator %d failed", i);
	}
	es_db *db = et_open_path(store, NULL);
	ck_assert_int_eq(et_head(db, "s"), PROCS - 1);
	es_db_close(db);
	ck_assert(!exists(store, "data.mdb.unfinished"));
}
END_TEST

TCase *es_tc_create(void)
{
	TCase *tc = tcase_create("create");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_add_test(tc, new_store_leaves_nothing_else);
	tcase_add_test(tc, only_the_first_meta_page);
	tcase_add_test(tc, first_meta_page_lost);
	tcase_add_test(tc, second_meta_page_torn);
	tcase_add_test(tc, leftover_temporary_is_replaced);
	tcase_add_test(tc, damaged_meta_pages_of_a_store_are_refused);
	tcase_add_test(tc, concurrent_creators_make_one_store);
	return tc;
}
