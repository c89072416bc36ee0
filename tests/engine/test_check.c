/*
 * test_check.c - engine/check.c, es_check: every kind of problem it reports.
 * First damage only the engine's own tables can express, made by writing
 * raw LMDB entries into a good store (through the engine's private es__write
 * and sub-db handles), plus its options and callbacks. Then damage made from
 * outside (through the LMDB API, tests/audit/fixture.c) in a copy of the
 * audit suite's bank store: a sound store passes, also while another process
 * appends, and each kind of damage is found and named where it is.
 */
#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "engine_tcases.h"
#include "enginetest.h"
#include "fixture.h"
#include "record.h"

/* ---- raw writes ---- */

typedef struct raw_op {
	size_t dbi_offset;   /* offsetof(es_dbis, <sub-db>) */
	const void *key;
	size_t klen;
	const void *val;     /* NULL: delete */
	size_t vlen;
} raw_op;

static int apply_raw(es_db *db, MDB_txn *txn, void *user_data)
{
	const raw_op *op = user_data;
	MDB_dbi dbi = *(const MDB_dbi *)((const char *)&db->dbi + op->dbi_offset);
	MDB_val k = { op->klen, (void *)op->key }, v = { op->vlen, (void *)op->val };
	int rc = op->val ? mdb_put(txn, dbi, &k, &v, 0) : mdb_del(txn, dbi, &k, NULL);
	return rc ? es__error_lmdb(rc, "raw write") : 0;
}

#define RAW(field, k, kl, v, vl)                                                         \
	do {                                                                             \
		raw_op op_ = { offsetof(es_dbis, field), (k), (kl), (v), (vl) };          \
		ck_assert_es(es__write(et_db, apply_raw, &op_), 0);                       \
	} while (0)

/* Rewrites a stream's record through fix. */
typedef struct rec_edit {
	const char *stream;
	void (*fix)(es_stream_rec *rec, void *arg);
	void *arg;
} rec_edit;

static int apply_edit(es_db *db, MDB_txn *txn, void *user_data)
{
	rec_edit *e = user_data;
	es_stream_rec rec;
	int rc = es__stream_rec_get(txn, db, e->stream, &rec);
	if (rc == 0) {
		e->fix(&rec, e->arg);
		rc = es__stream_rec_put(txn, db, e->stream, &rec);
	}
	return rc;
}

static void edit(const char *stream, void (*fix)(es_stream_rec *, void *), void *arg)
{
	rec_edit e = { stream, fix, arg };
	ck_assert_es(es__write(et_db, apply_edit, &e), 0);
}

static es_stream_rec rec_of(const char *stream)
{
	es_read *rd;
	es_stream_rec rec;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es__stream_rec_get(rd->txn, et_db, stream, &rec), 0);
	es_read_end(rd);
	return rec;
}

/* ---- the store and the check ---- */

/* "s": 3 events with a snapshot at version 1; "t": 2 events. */
static void fill(void)
{
	es_snapshot_key key = { 1, 0 };
	et_append_ok(et_db, "s", ES_NO_STREAM, 3);
	et_append_ok(et_db, "t", ES_NO_STREAM, 2);
	ck_assert_es(es_snapshot_write(et_db, "s", 1, &key, "state", 5), 0);
	ck_assert_es(es_check(NULL, et_db, NULL), 0);
}

static int collect(const es_check_problem *p, void *user_data)
{
	*(unsigned *)user_data |= 1u << p->kind;
	ck_assert(p->message && p->message[0]);
	return 0;
}

/* Runs es_check on a freshly opened handle (no cached type names) and
 * returns the kinds it reported, as bits. */
static unsigned problems(void)
{
	unsigned kinds = 0;
	es_check_options o = ES_CHECK_OPTIONS_INIT;
	o.on_problem = collect;
	o.user_data = &kinds;
	et_reopen();
	ck_assert_es(es_check(NULL, et_db, &o), ES_ECORRUPT);
	return kinds;
}

#define HAS(kinds, kind) ck_assert_msg((kinds) & (1u << (kind)), "%s not reported (kinds 0x%x)", \
                                       es_check_kind_str(kind), (kinds))

static void event_key(uint8_t key[16], const char *stream, int64_t version)
{
	es__event_key(key, rec_of(stream).id, version);
}

/* A copy of stream's record at version, in buf. */
static size_t record_copy(uint8_t *buf, size_t size, const char *stream, int64_t version)
{
	es_read *rd;
	uint8_t key[16];
	event_key(key, stream, version);
	MDB_val k = { 16, key }, v;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_int_eq(mdb_get(rd->txn, et_db->dbi.events, &k, &v), 0);
	ck_assert_uint_le(v.mv_size, size);
	memcpy(buf, v.mv_data, v.mv_size);
	es_read_end(rd);
	return v.mv_size;
}

/* ---- events and stream records ---- */

START_TEST(events_under_an_unnamed_stream_id)
{
	uint8_t key[16], rec[512];
	size_t n = record_copy(rec, sizeof rec, "s", 0);
	es__event_key(key, 999, 0);
	RAW(events, key, 16, rec, n);
	HAS(problems(), ES_CHECK_STREAM_RECORD);
}
END_TEST

START_TEST(events_of_a_named_stream_without_record)
{
	uint8_t key[16], rec[512], id[8];
	size_t n = record_copy(rec, sizeof rec, "s", 0);
	es__put_be64(id, 999);
	es__event_key(key, 999, 0);
	RAW(stream_names, id, 8, "ghost", 5);
	RAW(events, key, 16, rec, n);
	HAS(problems(), ES_CHECK_STREAM_RECORD);
}
END_TEST

START_TEST(malformed_stream_record)
{
	RAW(streams, "s", 1, "short", 5);
	HAS(problems(), ES_CHECK_STREAM_RECORD);
}
END_TEST

static void take_id(es_stream_rec *rec, void *arg) { rec->id = *(uint64_t *)arg; }
static void bad_flags(es_stream_rec *rec, void *arg) { (void)arg; rec->flags = 64; }
static void head_one(es_stream_rec *rec, void *arg) { (void)arg; rec->head = 1; }
static void shift_first_time(es_stream_rec *rec, void *arg) { (void)arg; rec->first_recorded_at++; }
static void shift_last_time(es_stream_rec *rec, void *arg) { (void)arg; rec->last_recorded_at--; }

START_TEST(stream_record_with_another_streams_id)
{
	uint64_t sid = rec_of("s").id;
	edit("t", take_id, &sid);
	HAS(problems(), ES_CHECK_STREAM_RECORD);
}
END_TEST

START_TEST(stream_record_with_unknown_flags)
{
	edit("t", bad_flags, NULL);
	HAS(problems(), ES_CHECK_STREAM_RECORD);
}
END_TEST

START_TEST(event_past_the_head)
{
	edit("s", head_one, NULL);
	HAS(problems(), ES_CHECK_BEYOND_HEAD);
}
END_TEST

START_TEST(stream_times_disagree_with_events)
{
	edit("s", shift_first_time, NULL);
	edit("t", shift_last_time, NULL);
	HAS(problems(), ES_CHECK_TIME_ORDER);
}
END_TEST

START_TEST(malformed_event_key)
{
	RAW(events, "12345", 5, "x", 1);
	HAS(problems(), ES_CHECK_RECORD_CORRUPT);
}
END_TEST

START_TEST(type_without_a_name)
{
	uint8_t id[4] = { 0, 0, 0, 1 };
	RAW(type_names, id, 4, NULL, 0);
	HAS(problems(), ES_CHECK_TYPE);
}
END_TEST

/* ---- the log and the id index ---- */

START_TEST(malformed_log_entry)
{
	RAW(log, "abc", 3, "x", 1);
	HAS(problems(), ES_CHECK_LOG_DANGLING);
}
END_TEST

START_TEST(log_entry_points_at_another_event)
{
	uint8_t pos[8], key[16];
	es__put_be64(pos, 1);
	event_key(key, "t", 0);
	RAW(log, pos, 8, key, 16);
	unsigned kinds = problems();
	HAS(kinds, ES_CHECK_LOG_MISSING);
	HAS(kinds, ES_CHECK_LOG_DANGLING);
}
END_TEST

START_TEST(log_entry_points_at_nothing)
{
	uint8_t pos[8], key[16];
	es__put_be64(pos, 6);
	event_key(key, "s", 99);
	RAW(log, pos, 8, key, 16);
	unsigned kinds = problems();
	HAS(kinds, ES_CHECK_LOG_DANGLING);
	HAS(kinds, ES_CHECK_META); /* next_position no longer follows the log */
}
END_TEST

START_TEST(malformed_id_entry)
{
	RAW(event_ids, "0123456789abcdef", 16, "x", 1);
	HAS(problems(), ES_CHECK_ID_DANGLING);
}
END_TEST

START_TEST(id_entry_points_at_an_event_with_another_id)
{
	uint8_t key[16];
	event_key(key, "t", 1);
	RAW(event_ids, "0123456789abcdef", 16, key, 16);
	HAS(problems(), ES_CHECK_ID_DANGLING);
}
END_TEST

START_TEST(id_of_an_event_indexed_elsewhere)
{
	uint8_t rec[512], key[16];
	record_copy(rec, sizeof rec, "s", 2);
	event_key(key, "t", 1);
	RAW(event_ids, rec + ES_RECORD_OFF_ID, 16, key, 16);
	HAS(problems(), ES_CHECK_ID_MISSING);
}
END_TEST

START_TEST(store_counters_disagree)
{
	uint64_t next = 100, clock = 1;
	RAW(meta, "next_position", 13, &next, 8);
	RAW(meta, "clock", 5, &clock, 8);
	HAS(problems(), ES_CHECK_META);
}
END_TEST

/* ---- snapshots ---- */

START_TEST(malformed_snapshot_key)
{
	RAW(snapshots, "12345", 5, "x", 1);
	HAS(problems(), ES_CHECK_SNAPSHOT_ORPHAN);
}
END_TEST

START_TEST(snapshot_of_no_stream)
{
	uint8_t key[16];
	es__event_key(key, 999, 0);
	RAW(snapshots, key, 16, "x", 1);
	HAS(problems(), ES_CHECK_SNAPSHOT_ORPHAN);
}
END_TEST

START_TEST(snapshot_of_a_missing_event)
{
	uint8_t key[16];
	event_key(key, "s", 1);
	RAW(events, key, 16, NULL, 0);
	unsigned kinds = problems();
	HAS(kinds, ES_CHECK_SNAPSHOT_ORPHAN);
	HAS(kinds, ES_CHECK_VERSION_GAP);
}
END_TEST

START_TEST(malformed_snapshot_envelope)
{
	uint8_t key[16];
	event_key(key, "s", 2);
	RAW(snapshots, key, 16, "\x02short", 6);
	HAS(problems(), ES_CHECK_SNAPSHOT_CORRUPT);
}
END_TEST

/* ---- options and callbacks ---- */

static int stop_at_first(const es_check_problem *p, void *user_data)
{
	(void)p;
	(*(int *)user_data)++;
	return 42;
}

START_TEST(callback_stops_the_check)
{
	int calls = 0;
	es_check_options o = ES_CHECK_OPTIONS_INIT;
	o.on_problem = stop_at_first;
	o.user_data = &calls;
	RAW(streams, "s", 1, "short", 5);
	RAW(streams, "t", 1, "short", 5);
	ck_assert_int_eq(es_check(NULL, et_db, &o), 42);
	ck_assert_int_eq(calls, 1);
}
END_TEST

START_TEST(report_and_renewals)
{
	es_check_options o = ES_CHECK_OPTIONS_INIT;
	es_check_stats st;
	FILE *report = tmpfile();
	ck_assert_ptr_nonnull(report);
	o.report = report;
	o.renew_every = 1; /* a fresh read transaction for every item */
	ck_assert_es(es_check(&st, et_db, &o), 0);
	ck_assert_uint_eq(st.events, 5);
	ck_assert_uint_eq(st.snapshots, 1);
	RAW(streams, "s", 1, "short", 5);
	ck_assert_es(es_check(&st, et_db, &o), ES_ECORRUPT);
	ck_assert_uint_ge(st.problems, 1);
	ck_assert_int_gt(ftell(report), 0);
	fclose(report);
}
END_TEST

START_TEST(bad_arguments_and_kind_texts)
{
	es_check_options o = ES_CHECK_OPTIONS_INIT;
	o.version = 99;
	ck_assert_es(es_check(NULL, NULL, NULL), ES_EINVAL);
	ck_assert_es(es_check(NULL, et_db, &o), ES_EINVAL);
	for (int k = ES_CHECK_STREAM_RECORD; k <= ES_CHECK_META; k++)
		ck_assert_str_ne(es_check_kind_str((es_check_kind)k), "unknown");
	ck_assert_str_eq(es_check_kind_str((es_check_kind)0), "unknown");
}
END_TEST

/* ---- damage made from outside, in the audit fixture's store ---- */

/* These tests make their own stores; the checked fixture's goes unused. */
#define MAX_SEEN 32

typedef struct seen {
	size_t n;
	es_check_kind kind[MAX_SEEN];
	char stream[MAX_SEEN][64];
	int64_t version[MAX_SEEN];
	uint64_t position[MAX_SEEN];
	char message[MAX_SEEN][640];
} seen;

static int remember(const es_check_problem *p, void *user_data)
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
	co.on_problem = remember;
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

static int stop_with_7(const es_check_problem *p, void *user_data)
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
	co.on_problem = stop_with_7;
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
	tcase_set_timeout(tc, 120); /* test_while_appending */
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_add_checked_fixture(tc, fill, NULL);
	tcase_add_test(tc, events_under_an_unnamed_stream_id);
	tcase_add_test(tc, events_of_a_named_stream_without_record);
	tcase_add_test(tc, malformed_stream_record);
	tcase_add_test(tc, stream_record_with_another_streams_id);
	tcase_add_test(tc, stream_record_with_unknown_flags);
	tcase_add_test(tc, event_past_the_head);
	tcase_add_test(tc, stream_times_disagree_with_events);
	tcase_add_test(tc, malformed_event_key);
	tcase_add_test(tc, type_without_a_name);
	tcase_add_test(tc, malformed_log_entry);
	tcase_add_test(tc, log_entry_points_at_another_event);
	tcase_add_test(tc, log_entry_points_at_nothing);
	tcase_add_test(tc, malformed_id_entry);
	tcase_add_test(tc, id_entry_points_at_an_event_with_another_id);
	tcase_add_test(tc, id_of_an_event_indexed_elsewhere);
	tcase_add_test(tc, store_counters_disagree);
	tcase_add_test(tc, malformed_snapshot_key);
	tcase_add_test(tc, snapshot_of_no_stream);
	tcase_add_test(tc, snapshot_of_a_missing_event);
	tcase_add_test(tc, malformed_snapshot_envelope);
	tcase_add_test(tc, callback_stops_the_check);
	tcase_add_test(tc, report_and_renewals);
	tcase_add_test(tc, bad_arguments_and_kind_texts);
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
