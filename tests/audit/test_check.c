/*
 * test_check.c - engine/check.c: a sound store passes (also while another
 * process appends), and each kind of damage made on purpose in a copy of a
 * store is found and named where it is.
 */
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "audit_tcases.h"
#include "fixture.h"

#define MAX_SEEN 32

typedef struct seen {
	size_t n;
	es_check_kind kind[MAX_SEEN];
	char stream[MAX_SEEN][64];
	int64_t version[MAX_SEEN];
	uint64_t position[MAX_SEEN];
	char message[MAX_SEEN][640];
} seen;

static int collect(const es_check_problem *p, void *user_data)
{
	seen *s = user_data;
	if (s->n < MAX_SEEN) {
		s->kind[s->n] = p->kind;
		snprintf(s->stream[s->n], sizeof s->stream[0], "%s", p->stream ? p->stream : "");
		s->version[s->n] = p->version;
		s->position[s->n] = p->position;
		snprintf(s->message[s->n], sizeof s->message[0], "%s", p->message);
	}
	s->n++;
	return 0;
}

/* The fixture store, made and closed in a fresh directory. */
static const char *make_store(void)
{
	const char *dir = es_test_tmpdir();
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = 1;
	es_db *db;
	ck_assert_es(es_db_open(&db, dir, &o), 0);
	ck_assert_es(es_audit_fixture(db), 0);
	es_db_close(db);
	return dir;
}

static int check_dir(const char *dir, seen *s, es_check_stats *st)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.read_only = 1;
	es_db *db;
	ck_assert_es(es_db_open(&db, dir, &o), 0);
	es_check_options co = ES_CHECK_OPTIONS_INIT;
	co.on_problem = collect;
	co.user_data = s;
	co.renew_every = 5; /* renewals on every walk */
	memset(s, 0, sizeof *s);
	int rc = es_check(st, db, &co);
	es_db_close(db);
	return rc;
}

START_TEST(test_clean)
{
	seen s;
	es_check_stats st;
	ck_assert_es(check_dir(make_store(), &s, &st), 0);
	ck_assert_uint_eq(st.problems, 0);
	ck_assert_uint_eq(st.events, FIXTURE_EVENTS);
	ck_assert_uint_eq(st.log_entries, FIXTURE_EVENTS);
	ck_assert_uint_eq(st.ids, FIXTURE_EVENTS);
	ck_assert_uint_eq(st.streams, 10);
	ck_assert_uint_eq(st.snapshots, 1);
	es_test_tmpdir_remove();
}
END_TEST

/* Damages a fresh store and checks: a problem of `kind` naming stream and
 * version (or position) must be among those reported. */
static void finds(fixture_damage damage, es_check_kind kind, const char *stream, int64_t version,
                  uint64_t position)
{
	const char *dir = make_store();
	ck_assert_int_eq(es_audit_damage(dir, damage), 0);
	seen s;
	es_check_stats st;
	ck_assert_es(check_dir(dir, &s, &st), ES_ECORRUPT);
	ck_assert_uint_eq(st.problems, s.n);
	bool found = false;
	for (size_t i = 0; i < s.n && i < MAX_SEEN; i++)
		if (s.kind[i] == kind && (!stream || strcmp(s.stream[i], stream) == 0) &&
		    (version < 0 || s.version[i] == version) && (!position || s.position[i] == position))
			found = true;
	for (size_t i = 0; !found && i < s.n && i < MAX_SEEN; i++)
		fprintf(stderr, "  seen: %s\n", s.message[i]);
	ck_assert_msg(found, "%s: no '%s' problem at %s %lld / position %llu",
	              fixture_damage_names[damage], es_check_kind_str(kind), stream ? stream : "-",
	              (long long)version, (unsigned long long)position);
	es_test_tmpdir_remove();
}

START_TEST(test_flipped_record_byte)
{
	finds(DAMAGE_FLIP_RECORD, ES_CHECK_RECORD_CORRUPT, "account-a", 1, 0);
}
END_TEST

START_TEST(test_deleted_log_entry)
{
	finds(DAMAGE_DELETE_LOG, ES_CHECK_LOG_GAP, NULL, -1, 3);
	finds(DAMAGE_DELETE_LOG, ES_CHECK_LOG_MISSING, "account-legacy1", 2, 3);
}
END_TEST

START_TEST(test_deleted_id_entry)
{
	finds(DAMAGE_DELETE_ID, ES_CHECK_ID_MISSING, "account-a", 2, 0);
}
END_TEST

START_TEST(test_broken_contiguity)
{
	finds(DAMAGE_DELETE_EVENT, ES_CHECK_VERSION_GAP, "account-a", 2, 0);
	finds(DAMAGE_DELETE_EVENT, ES_CHECK_LOG_DANGLING, NULL, -1, 0);
	finds(DAMAGE_DELETE_EVENT, ES_CHECK_ID_DANGLING, NULL, -1, 0);
	finds(DAMAGE_HEAD_PAST, ES_CHECK_VERSION_GAP, "account-a", 4, 0);
}
END_TEST

START_TEST(test_snapshot_past_head)
{
	finds(DAMAGE_SNAPSHOT_PAST, ES_CHECK_SNAPSHOT_ORPHAN, "account-a", 8, 0);
}
END_TEST

START_TEST(test_snapshot_bad_checksum)
{
	finds(DAMAGE_SNAPSHOT_CHECKSUM, ES_CHECK_SNAPSHOT_CORRUPT, "misc-1", 1, 0);
}
END_TEST

START_TEST(test_log_points_elsewhere)
{
	finds(DAMAGE_SWAP_LOG, ES_CHECK_LOG_DANGLING, NULL, -1, 2);
	finds(DAMAGE_SWAP_LOG, ES_CHECK_LOG_MISSING, "account-legacy1", 1, 2);
}
END_TEST

START_TEST(test_time_order)
{
	finds(DAMAGE_TIME_ORDER, ES_CHECK_TIME_ORDER, "account-a", 2, 0);
	finds(DAMAGE_TIME_ORDER, ES_CHECK_TIME_ORDER, NULL, -1, 13);
}
END_TEST

START_TEST(test_report_file)
{
	const char *dir = make_store();
	ck_assert_int_eq(es_audit_damage(dir, DAMAGE_DELETE_ID), 0);
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.read_only = 1;
	es_db *db;
	ck_assert_es(es_db_open(&db, dir, &o), 0);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	es_check_options co = ES_CHECK_OPTIONS_INIT;
	co.report = f;
	ck_assert_es(es_check(NULL, db, &co), ES_ECORRUPT);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "id missing: stream 'account-a' version 2: its id"));
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "1 integrity problem"));
	free(text);
	co.version = 42;
	ck_assert_es(es_check(NULL, db, &co), ES_EINVAL);
	ck_assert_es(es_check(NULL, NULL, NULL), ES_EINVAL);
	es_db_close(db);
	es_test_tmpdir_remove();
}
END_TEST

static int stop_at_first(const es_check_problem *p, void *user_data)
{
	(void)p;
	(void)user_data;
	return 7;
}

START_TEST(test_callback_stops)
{
	const char *dir = make_store();
	ck_assert_int_eq(es_audit_damage(dir, DAMAGE_DELETE_EVENT), 0);
	es_db *db;
	ck_assert_es(es_db_open(&db, dir, NULL), 0);
	es_check_options co = ES_CHECK_OPTIONS_INIT;
	co.on_problem = stop_at_first;
	es_check_stats st;
	ck_assert_int_eq(es_check(&st, db, &co), 7);
	ck_assert_uint_eq(st.problems, 1);
	es_db_close(db);
	es_test_tmpdir_remove();
}
END_TEST

/* Another process appends while this one checks, again and again: a
 * sound store must never look broken. */
START_TEST(test_while_appending)
{
	const char *dir = make_store();
	pid_t pid = fork();
	if (pid == 0) {
		es_open_options o = ES_OPEN_OPTIONS_INIT;
		o.nosync = 1;
		es_db *db;
		if (es_db_open(&db, dir, &o))
			_exit(1);
		int rc = es_audit_fixture_big(db, 20000);
		es_db_close(db);
		_exit(rc ? 1 : 0);
	}
	int status = 0, rounds = 0;
	for (;;) {
		seen s;
		es_check_stats st;
		int rc = check_dir(dir, &s, &st);
		ck_assert_msg(rc == 0, "round %d: %zu problems, first: %s", rounds, s.n, s.message[0]);
		rounds++;
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	seen s;
	es_check_stats st;
	ck_assert_es(check_dir(dir, &s, &st), 0);
	ck_assert_uint_eq(st.events, FIXTURE_EVENTS + 20000);
	es_test_tmpdir_remove();
}
END_TEST

START_TEST(test_kind_names)
{
	ck_assert_str_eq(es_check_kind_str(ES_CHECK_VERSION_GAP), "version gap");
	ck_assert_str_eq(es_check_kind_str(ES_CHECK_SNAPSHOT_CORRUPT), "snapshot corrupt");
	ck_assert_str_eq(es_check_kind_str((es_check_kind)0), "unknown");
}
END_TEST

TCase *es_tc_check(void)
{
	TCase *tc = tcase_create("check");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_clean);
	tcase_add_test(tc, test_flipped_record_byte);
	tcase_add_test(tc, test_deleted_log_entry);
	tcase_add_test(tc, test_deleted_id_entry);
	tcase_add_test(tc, test_broken_contiguity);
	tcase_add_test(tc, test_snapshot_past_head);
	tcase_add_test(tc, test_snapshot_bad_checksum);
	tcase_add_test(tc, test_log_points_elsewhere);
	tcase_add_test(tc, test_time_order);
	tcase_add_test(tc, test_report_file);
	tcase_add_test(tc, test_callback_stops);
	tcase_add_test(tc, test_while_appending);
	tcase_add_test(tc, test_kind_names);
	return tc;
}
