/*
 * test_journal.c - engine/journal.c and its helpers: what recovery gives
 * back after the machine went down. A forked writer commits and dies
 * without closing, its checkpoints manual so the commits are only in the
 * journal; the test then opens the store as after a restart (another
 * EVSTORE_BOOT_ID), which puts the checkpoint's meta page back and replays
 * the journal. (The power-loss campaign, tests/powerloss/, cuts at every
 * write; this suite pins down the journal's own cases.)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evstore/check.h"
#include "db.h"
#include "journal.h"
#include "enginetest.h"

/* The store of these tests: not the fixture's, whose journal exists. */
static char store[600];

static es_db *open_at(const char *boot, size_t journal_size, int read_only)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_db *db = NULL;
	o.journal_size = journal_size;
	o.read_only = read_only;
	setenv("EVSTORE_BOOT_ID", boot, 1);
	return read_only ? (es_db_open(&db, store, &o) == 0 ? db : NULL) : et_open_path(store, &o);
}

/* Appends count one-event commits over 7 streams, checkpointing after the
 * first sync_after (0: never). */
static void append_many(es_db *db, int count, int sync_after, size_t payload)
{
	char *body = malloc(payload + 1), stream[32];
	ck_assert_ptr_nonnull(body);
	memset(body, 'p', payload);
	body[payload] = '\0';
	for (int i = 0; i < count; i++) {
		es_event_data ev = et_event("Journaled", body);
		snprintf(stream, sizeof stream, "j-%d", i % 7);
		ck_assert_es(es_stream_append(NULL, db, stream, ES_ANY, &ev, 1), 0);
		if (i + 1 == sync_after)
			ck_assert_es(es_db_sync(db), 0);
	}
	free(body);
}

/* A writer on the machine before the cut: commits, and dies unclosed. */
static void crashed_writer(int count, int sync_after, size_t journal_size, size_t payload)
{
	es_db_close(et_db);
	et_db = NULL;
	snprintf(store, sizeof store, "%s/s", et_path);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		es_db *db = open_at("before-the-cut", journal_size, 0);
		es__jcheckpoint_manual(db);
		append_many(db, count, sync_after, payload);
		_exit(0);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer failed");
}

static void assert_clean(es_db *db)
{
	es_check_stats st;
	ck_assert_es(es_check(&st, db, NULL), 0);
	ck_assert_uint_eq(st.problems, 0);
}

START_TEST(power_cut_replays_the_journal)
{
	crashed_writer(40, 0, 0, 10);
	et_db = open_at("after-the-cut", 0, 0);
	ck_assert_uint_eq(et_db->journal->replayed, 40);
	ck_assert_uint_eq(et_log_head(et_db), 40);
	ck_assert_uint_eq(et_count(et_db, "j-0"), 6);
	assert_clean(et_db);
	es_db_close(et_db);
	et_db = open_at("after-the-cut", 0, 0); /* closed cleanly: nothing to replay */
	ck_assert_uint_eq(et_db->journal->replayed, 0);
	ck_assert_uint_eq(et_log_head(et_db), 40);
	et_append_ok(et_db, "j-0", 5, 1);
}
END_TEST

/* The record at offset `at` (the n-th after the checkpoint) of the journal. */
static uint64_t record_offset(int n)
{
	char path[700];
	es_journal j = { .fd = -1 };
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", store, ES__JOURNAL_FILE);
	ck_assert_int_ge(j.fd = open(path, O_RDONLY), 0);
	ck_assert_int_eq(fstat(j.fd, &st), 0);
	j.size = (uint64_t)st.st_size;
	ck_assert_es(es__jfile_header_read(&j, &j.hdr), 0);
	j.epoch = j.hdr.epoch;
	j.salt = j.hdr.salt;
	uint64_t at = j.hdr.cp_tail;
	for (int i = 0; i < n; i++) {
		es_jrec r;
		uint8_t *rec;
		ck_assert_int_eq(es__jrec_read(&j, at, j.hdr.cp_txnid + 1 + (uint64_t)i, &r, &rec), 0);
		ck_assert_uint_eq(r.kind, ES__JREC);
		es_free(rec);
		at += ES__JREC_HEAD + r.body_len;
	}
	close(j.fd);
	return at;
}

START_TEST(torn_record_ends_the_replay)
{
	crashed_writer(10, 5, 0, 10);
	/* the checkpoint holds 5; tear the third record after it */
	uint64_t at = record_offset(2) + ES__JREC_HEAD + 3;
	char path[700];
	snprintf(path, sizeof path, "%s/%s", store, ES__JOURNAL_FILE);
	int fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	uint8_t b;
	ck_assert_int_eq(pread(fd, &b, 1, (off_t)at), 1);
	b ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &b, 1, (off_t)at), 1);
	close(fd);
	et_db = open_at("after-the-cut", 0, 0);
	ck_assert_uint_eq(et_db->journal->replayed, 2);
	ck_assert_uint_eq(et_log_head(et_db), 7);
	assert_clean(et_db);
	et_append_ok(et_db, "j-0", ES_ANY, 1); /* the torn record's place is written over */
	ck_assert_uint_eq(et_log_head(et_db), 8);
}
END_TEST

START_TEST(wrapping_keeps_every_commit)
{
	/* about 400 bytes a record: the 64 KiB journal wraps over a dozen times,
	 * and with checkpoints manual the full journal makes commits checkpoint */
	crashed_writer(2000, 0, ES__JOURNAL_MIN_SIZE, 100);
	char path[700];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", store, ES__JOURNAL_FILE);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, ES__JOURNAL_MIN_SIZE);
	et_db = open_at("after-the-cut", 0, 0);
	ck_assert_uint_gt(et_db->journal->replayed, 0);
	ck_assert_uint_lt(et_db->journal->replayed, 2000);
	ck_assert_uint_eq(et_log_head(et_db), 2000);
	assert_clean(et_db);
}
END_TEST

START_TEST(big_transaction_grows_the_journal)
{
	struct stat st;
	char path[700];
	crashed_writer(3, 0, ES__JOURNAL_MIN_SIZE, 200000);
	snprintf(path, sizeof path, "%s/%s", store, ES__JOURNAL_FILE);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_gt(st.st_size, 200000);
	et_db = open_at("after-the-cut", 0, 0);
	ck_assert_uint_ge(et_db->journal->replayed, 1);
	ck_assert_uint_eq(et_log_head(et_db), 3);
	assert_clean(et_db);
}
END_TEST

START_TEST(read_only_open_waits_for_recovery)
{
	es_db *db;
	crashed_writer(5, 0, 0, 10);
	ck_assert_ptr_null(open_at("after-the-cut", 0, 1));
	ck_assert_int_eq(es_error_last()->code, ES_EBUSY);
	et_assert_msg_has("open it writable once");
	et_db = open_at("after-the-cut", 0, 0);
	ck_assert_ptr_nonnull(db = open_at("after-the-cut", 0, 1));
	ck_assert_uint_eq(et_log_head(db), 5);
	es_db_close(db);
}
END_TEST

START_TEST(process_crash_needs_no_replay)
{
	crashed_writer(20, 0, 0, 10);
	et_db = open_at("before-the-cut", 0, 0); /* the same boot: LMDB's state is whole */
	ck_assert_uint_eq(et_db->journal->replayed, 0);
	ck_assert_uint_eq(et_log_head(et_db), 20);
	assert_clean(et_db);
}
END_TEST

TCase *es_tc_journal(void)
{
	TCase *tc = tcase_create("journal");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, power_cut_replays_the_journal);
	tcase_add_test(tc, torn_record_ends_the_replay);
	tcase_add_test(tc, wrapping_keeps_every_commit);
	tcase_add_test(tc, big_transaction_grows_the_journal);
	tcase_add_test(tc, read_only_open_waits_for_recovery);
	tcase_add_test(tc, process_crash_needs_no_replay);
	return tc;
}
