/*
 * test_readonly.c - read-only stores. A store opened read-only reads
 * everything, follows another process's appends, and refuses every kind of
 * write (appends, snapshots, bank commands, sync) with ES_EREADONLY naming
 * the store, leaving it unchanged. A store whose files and directory the
 * user may not write is refused with ES_EACCES naming it, and works again
 * once the permissions are back; so is a writable open when only the
 * commit journal is unwritable. Root ignores permission bits, so when the
 * suite runs as root that part runs in a child that drops to the "nobody"
 * user (uid/gid 65534); if it cannot, the part is skipped and says so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <evstore/bank.h>

#include "reltest.h"
#include "reliability_tcases.h"

#define RO_NOBODY 65534

/* A store with a bank account (two events) and a raw stream. No Check
 * assertions: it also runs in a child that changed users. */
static int ro_make_store(const char *path)
{
	es_event_data ev;
	es_db *db;
	int rc = es_db_open(&db, path, NULL);
	if (rc)
		return rc;
	rt_event(&ev, 1, "raw", 3);
	if (!(rc = es_bank_open(db, "ro", "Read Only", "USD", 0)) && !(rc = es_bank_deposit(db, "ro", 500, "start")))
		rc = es_stream_append(NULL, db, "raw", ES_NO_STREAM, &ev, 1);
	es_db_close(db);
	return rc;
}

static es_db *ro_open_read_only(const char *path)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_db *db = NULL;
	o.read_only = 1;
	ck_assert_es(es_db_open(&db, path, &o), 0);
	return db;
}

static uint64_t ro_log_head(es_db *db)
{
	es_read *rd;
	uint64_t head;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_log_head(&head, rd), 0);
	es_read_end(rd);
	return head;
}

/* Each write is refused with ES_EREADONLY, naming the store. */
static void ro_assert_refused(int rc)
{
	ck_assert_es(rc, ES_EREADONLY);
	rt_assert_msg_has(rt_store_path());
}

static void ro_assert_writes_refused(es_db *db)
{
	es_event_data ev;
	es_batch *b = NULL;
	es_snapshot_key key = { 1, 0 };
	rt_event(&ev, 2, "raw", 3);
	ro_assert_refused(es_stream_append(NULL, db, "raw", ES_ANY, &ev, 1));
	ro_assert_refused(es_batch_new(&b, db));
	ro_assert_refused(es_snapshot_write(db, "raw", 0, &key, "s", 1));
	ro_assert_refused(es_db_sync(db));
	ck_assert_es(es_bank_deposit(db, "ro", 10, "refused"), ES_EREADONLY);
	ck_assert_es(es_stream_delete(db, "raw", ES_ANY), ES_EREADONLY);
}

/* Another process appends while the read-only handle is open. */
static int ro_appender(void *arg, int fd)
{
	(void)arg; (void)fd;
	es_db *db;
	int rc = es_db_open(&db, rt_store_path(), NULL);
	if (rc == 0)
		rc = es_bank_deposit(db, "ro", 25, "from another process");
	es_db_close(db);
	return rc == 0 ? 0 : 3;
}

START_TEST(read_only_handle_reads_and_refuses_every_write)
{
	es_bank_account a;
	ck_assert_es(ro_make_store(rt_store_path()), 0);
	es_db *db = ro_open_read_only(rt_store_path());
	uint64_t head = ro_log_head(db);
	ck_assert_es(es_bank_account_load(&a, NULL, db, "ro"), 0);
	ck_assert_int_eq(a.balance, 500);
	ro_assert_writes_refused(db);
	ck_assert_uint_eq(ro_log_head(db), head);
	rt_child c = rt_fork(ro_appender, NULL);
	ck_assert_int_eq(rt_wait(&c), 0);
	ck_assert_uint_eq(ro_log_head(db), head + 1);
	ck_assert_es(es_bank_account_load(&a, NULL, db, "ro"), 0);
	ck_assert_int_eq(a.balance, 525);
	es_db_close(db);
	rt_assert_store_ok(rt_store_path());
}
END_TEST

/* ---- permissions ---- */

enum { RO_OK = 0, RO_SETUP = 10, RO_RW_OPENED, RO_RW_MSG, RO_RO_RESULT, RO_MKDIR, RO_RESTORED,
       RO_JOURNAL_RW, RO_JOURNAL_RO, RO_JOURNAL_BACK };

static int ro_chmod_store(const char *path, mode_t dir_mode, mode_t file_mode)
{
	char file[700];
	const char *names[] = { "data.mdb", "lock.mdb" };
	for (int i = 0; i < 2; i++) {
		snprintf(file, sizeof file, "%s/%s", path, names[i]);
		if (chmod(file, file_mode) != 0)
			return -1;
	}
	return chmod(path, dir_mode);
}

/* Opening must fail with ES_EACCES naming the store, read-only or not
 * (LMDB needs to write its lock file even to read). */
static int ro_opens_refused(const char *path)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_db *db = NULL;
	int rc = es_db_open(&db, path, NULL);
	if (rc != ES_EACCES)
		return es_db_close(db), RO_RW_OPENED;
	if (!strstr(es_error_last()->message, path))
		return RO_RW_MSG;
	o.read_only = 1;
	if ((rc = es_db_open(&db, path, &o)) != ES_EACCES)
		return es_db_close(db), RO_RO_RESULT;
	return RO_OK;
}

/* Only the commit journal unwritable: a writable open fails with ES_EACCES
 * naming it, a read-only open (which does not use it) reads, and the store
 * opens writable again once the journal's mode is back. */
static int ro_journal_steps(const char *path)
{
	char journal[700];
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_db *db = NULL;
	snprintf(journal, sizeof journal, "%s/journal", path);
	if (chmod(journal, 0400) != 0)
		return RO_SETUP;
	if (es_db_open(&db, path, NULL) != ES_EACCES || !strstr(es_error_last()->message, journal))
		return es_db_close(db), RO_JOURNAL_RW;
	o.read_only = 1;
	if (es_db_open(&db, path, &o) != 0)
		return RO_JOURNAL_RO;
	es_db_close(db);
	if (chmod(journal, 0600) != 0 || es_db_open(&db, path, NULL) != 0)
		return RO_JOURNAL_BACK;
	es_db_close(db);
	return RO_OK;
}

/* As a user the permission bits bind: runs every step, returns the first
 * failing step's number. */
static int ro_permission_steps(void)
{
	char sub[700];
	es_db *db = NULL;
	const char *path = rt_store_path();
	if (ro_make_store(path) != 0 || ro_chmod_store(path, 0500, 0400) != 0)
		return RO_SETUP;
	int step = ro_opens_refused(path);
	if (step)
		return step;
	snprintf(sub, sizeof sub, "%s/new-store", path); /* inside a directory we may not write */
	if (es_db_open(&db, sub, NULL) != ES_EACCES || !strstr(es_error_last()->message, sub))
		return es_db_close(db), RO_MKDIR;
	if (ro_chmod_store(path, 0700, 0600) != 0 || es_db_open(&db, path, NULL) != 0 ||
	    es_bank_deposit(db, "ro", 1, "permissions are back") != 0)
		return es_db_close(db), RO_RESTORED;
	es_db_close(db);
	return ro_journal_steps(path);
}

static int ro_as_nobody(void *arg, int fd)
{
	(void)arg; (void)fd;
	if (chown(rt_path(""), RO_NOBODY, RO_NOBODY) != 0 || setgid(RO_NOBODY) != 0 || setuid(RO_NOBODY) != 0)
		return 99; /* cannot drop privileges here */
	return ro_permission_steps();
}

START_TEST(unwritable_store_is_eacces_and_recovers)
{
	int status;
	if (geteuid() != 0) {
		ck_assert_int_eq(ro_permission_steps(), RO_OK);
		rt_assert_store_ok(rt_store_path());
		return;
	}
	rt_child c = rt_fork(ro_as_nobody, NULL);
	status = rt_wait(&c);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 99) {
		printf("readonly: running as root and cannot drop to uid %d: permission part skipped\n", RO_NOBODY);
		return;
	}
	ck_assert_msg(WEXITSTATUS(status) == RO_OK, "permission step %d failed", WEXITSTATUS(status));
	rt_assert_store_ok(rt_store_path());
}
END_TEST

TCase *es_tc_readonly(void)
{
	TCase *tc = tcase_create("readonly");
	tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
	tcase_add_test(tc, read_only_handle_reads_and_refuses_every_write);
	tcase_add_test(tc, unwritable_store_is_eacces_and_recovers);
	tcase_set_timeout(tc, 600);
	return tc;
}
