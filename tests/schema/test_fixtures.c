/*
 * test_fixtures.c - format compatibility: the stores committed under
 * tests/fixtures/ (one written by this release, one holding release 1 and 2
 * bank events) open read-only and give every answer in their .answers files.
 * A change that stops this release reading an older store fails here.
 * Each store is copied to a temporary directory first: LMDB wants to create
 * lock.mdb beside data.mdb, and the source tree may be read-only.
 */
#include <stdio.h>
#include <string.h>

#include "answers.h"
#include "testutil.h"
#include "schema_tcases.h"

#ifndef ES_FIXTURES_DIR
#error "ES_FIXTURES_DIR must name tests/fixtures"
#endif

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	ck_assert_msg(in && out, "copying %s to %s", from, to);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	ck_assert(!ferror(in));
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
}

static int count_checkpoint(const char *name, uint64_t position, void *user_data)
{
	(void)name, (void)position;
	++*(int *)user_data;
	return 0;
}

/* The fixtures predate checkpoints: read-only, a store without the
 * checkpoints sub-db has none; a write open adds it. */
static void check_no_checkpoints(es_db *db)
{
	es_read *rd;
	uint64_t pos;
	int n = 0;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_checkpoint_list(rd, count_checkpoint, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_es(es_checkpoint_get(&pos, rd, "any"), ES_ENOTFOUND);
	es_read_end(rd);
}

/* Opens a copy of the fixture read-only and checks every answer. */
static void check_fixture(const char *name, size_t at_least)
{
	char from[512], to[600], answers[512];
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_db *db = NULL;
	size_t checked = 0;
	const char *dir = es_test_tmpdir();
	snprintf(from, sizeof from, "%s/%s/data.mdb", ES_FIXTURES_DIR, name);
	snprintf(to, sizeof to, "%s/data.mdb", dir);
	snprintf(answers, sizeof answers, "%s/%s.answers", ES_FIXTURES_DIR, name);
	copy_file(from, to);
	o.read_only = 1;
	ck_assert_es(es_db_open(&db, dir, &o), 0);
	ck_assert_int_eq(answers_check(db, answers, 0, &checked), 0);
	ck_assert_uint_ge(checked, at_least);
	check_no_checkpoints(db);
	es_db_close(db);
	ck_assert_es(es_db_open(&db, dir, NULL), 0);
	ck_assert_es(es_checkpoint_save(db, "after-upgrade", 1), 0);
	es_db_close(db);
	es_test_tmpdir_remove();
}

START_TEST(test_current_release_store)
{
	check_fixture("v1-store", 100);
}
END_TEST

START_TEST(test_legacy_store)
{
	check_fixture("legacy-store", 50);
}
END_TEST

/* The legacy store really holds old schemas: nothing to pass by accident. */
START_TEST(test_legacy_store_is_legacy)
{
	char from[512], to[600];
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_db *db = NULL;
	es_read *rd;
	es_iter *it;
	es_event ev;
	size_t by_schema[4] = { 0 };
	const char *dir = es_test_tmpdir();
	snprintf(from, sizeof from, "%s/legacy-store/data.mdb", ES_FIXTURES_DIR);
	snprintf(to, sizeof to, "%s/data.mdb", dir);
	copy_file(from, to);
	o.read_only = 1;
	ck_assert_es(es_db_open(&db, dir, &o), 0);
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_log_iter(&it, rd, 1, ES_FORWARD, ES_NO_LIMIT), 0);
	int rc;
	while ((rc = es_iter_next(&ev, it)) == 0)
		if (strncmp(ev.stream, "account-", 8) == 0 && ev.schema_version <= 3)
			by_schema[ev.schema_version]++;
	ck_assert_es(rc, ES_ITEROVER);
	es_iter_free(it);
	es_read_end(rd);
	ck_assert_uint_gt(by_schema[1], 5);
	ck_assert_uint_gt(by_schema[2], 5);
	ck_assert_uint_eq(by_schema[3], 0);
	es_db_close(db);
	es_test_tmpdir_remove();
}
END_TEST

TCase *es_tc_fixtures(void)
{
	TCase *tc = tcase_create("fixtures");
	tcase_add_test(tc, test_current_release_store);
	tcase_add_test(tc, test_legacy_store);
	tcase_add_test(tc, test_legacy_store_is_legacy);
	tcase_set_timeout(tc, 60);
	return tc;
}
