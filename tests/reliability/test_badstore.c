/*
 * test_badstore.c - stores that cannot be used, through the tools a person
 * would point at them: es-bank and es-check must exit 1 with a message that
 * says what is wrong and where, never crash. A store written by a newer
 * format version, a plain file, a directory holding garbage, a store whose
 * data file was truncated (which LMDB alone would fault on with SIGBUS), and
 * an empty data file opened read-only, and damaged LMDB pages (es-check
 * reports them rather than dying in LMDB). The engine suite covers the
 * library's codes for the first three; the last two are checked here too.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <evstore/bank.h>

#include "reltest.h"
#include "reliability_tcases.h"

/* What a tool run left: its exit status (-1 if a signal ended it) and its
 * output. */
typedef struct bs_run {
	int exit_code;
	char out[1024];
	char err[1024];
} bs_run;

static void bs_slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, size - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* Runs argv[0] with stdout and stderr captured. */
static void bs_exec(bs_run *r, char *const argv[])
{
	char out[700], err[700];
	int status;
	snprintf(out, sizeof out, "%s", rt_path("tool.out"));
	snprintf(err, sizeof err, "%s", rt_path("tool.err"));
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	bs_slurp(out, r->out, sizeof r->out);
	bs_slurp(err, r->err, sizeof r->err);
}

/* es-bank and es-check on dir both exit 1, print nothing on stdout, and
 * say `text` and the directory on stderr. */
static void bs_assert_tools_refuse(const char *dir, const char *text)
{
	char *bank[] = { ES_BANK_BIN, "--db", (char *)dir, "balance", "alice", NULL };
	char *deposit[] = { ES_BANK_BIN, "--db", (char *)dir, "deposit", "alice", "1", NULL };
	char *check[] = { ES_CHECK_BIN, "--db", (char *)dir, NULL };
	char *const *runs[] = { bank, deposit, check };
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		bs_run r;
		bs_exec(&r, runs[i]);
		ck_assert_msg(r.exit_code == 1, "%s %s: exit %d, stderr '%s'", runs[i][0], runs[i][3] ? runs[i][3] : "",
		              r.exit_code, r.err);
		ck_assert_msg(strstr(r.err, text) && strstr(r.err, dir), "%s: stderr '%s' lacks '%s' or '%s'",
		              runs[i][0], r.err, text, dir);
		ck_assert_msg(runs[i] == check || r.out[0] == '\0', "%s printed '%s'", runs[i][0], r.out);
	}
}

/* A store with one account, made through the library. */
static void bs_make_store(const char *dir)
{
	es_db *db = rt_open(dir, 0);
	ck_assert_es(es_bank_open(db, "alice", "Alice", "USD", 0), 0);
	ck_assert_es(es_bank_deposit(db, "alice", 1234, "start"), 0);
	es_db_close(db);
}

static void bs_set_format(const char *dir, uint64_t format)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(format >> (8 * i));
	MDB_val k = { 6, "format" }, v = { 8, le };
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 16), 0);
	ck_assert_int_eq(mdb_env_open(env, dir, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	ck_assert_int_eq(mdb_put(txn, meta, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void bs_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(newer_format_through_the_tools)
{
	bs_make_store(rt_store_path());
	bs_set_format(rt_store_path(), ES_FORMAT_VERSION + 1);
	bs_assert_tools_refuse(rt_store_path(), "newer than this library reads");
}
END_TEST

START_TEST(plain_file_through_the_tools)
{
	bs_write_file(rt_store_path(), "hello\n", 6);
	bs_assert_tools_refuse(rt_store_path(), "not a directory");
}
END_TEST

START_TEST(garbage_through_the_tools)
{
	static char garbage[16384];
	char data[700];
	for (size_t i = 0; i < sizeof garbage; i++)
		garbage[i] = (char)("no store here "[i % 14]);
	ck_assert_int_eq(mkdir(rt_store_path(), 0700), 0);
	snprintf(data, sizeof data, "%s/data.mdb", rt_store_path());
	bs_write_file(data, garbage, sizeof garbage);
	bs_assert_tools_refuse(rt_store_path(), "not an evstore store");
}
END_TEST

/* A copy cut short: its meta pages are intact but name pages past the end. */
START_TEST(truncated_store_is_corrupt_not_a_crash)
{
	char data[700];
	es_db *db = NULL;
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	bs_make_store(rt_store_path());
	snprintf(data, sizeof data, "%s/data.mdb", rt_store_path());
	ck_assert_int_eq(truncate(data, 2 * sysconf(_SC_PAGESIZE)), 0);
	ck_assert_es(es_db_open(&db, rt_store_path(), NULL), ES_ECORRUPT);
	rt_assert_msg_has("truncated");
	o.read_only = 1;
	ck_assert_es(es_db_open(&db, rt_store_path(), &o), ES_ECORRUPT);
	bs_assert_tools_refuse(rt_store_path(), "truncated");
}
END_TEST

/* An empty data file: no store to read (LMDB alone says "Bad file
 * descriptor"); opened for writing it becomes a new store. */
START_TEST(empty_data_file_is_no_store_to_read)
{
	char data[700];
	es_db *db = NULL;
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	char *check[] = { ES_CHECK_BIN, "--db", (char *)rt_store_path(), NULL };
	bs_run r;
	ck_assert_int_eq(mkdir(rt_store_path(), 0700), 0);
	snprintf(data, sizeof data, "%s/data.mdb", rt_store_path());
	bs_write_file(data, "", 0);
	o.read_only = 1;
	ck_assert_es(es_db_open(&db, rt_store_path(), &o), ES_ENOTFOUND);
	rt_assert_msg_has(rt_store_path());
	bs_exec(&r, check);
	ck_assert_msg(r.exit_code == 1 && strstr(r.err, "no store at"), "es-check: exit %d, '%s'",
	              r.exit_code, r.err);
	bs_make_store(rt_store_path());
	rt_assert_store_ok(rt_store_path());
}
END_TEST

/* Pages damaged where the disk lost a flush: es-check says where, exit 1. */
START_TEST(damaged_pages_through_es_check)
{
	char *check[] = { ES_CHECK_BIN, "--db", (char *)rt_store_path(), NULL };
	bs_run r;
	es_db *db = rt_open(rt_store_path(), 0);
	for (int i = 0; i < 10; i++)
		es_test_fill(db, "evpage", 300);
	es_db_close(db);
	ck_assert_int_gt(es_test_damage_leaves(rt_store_path(), "evpage"), 0);
	bs_exec(&r, check);
	ck_assert_msg(r.exit_code == 1 && strstr(r.out, "the store's B-tree is damaged at table 'events'") &&
	              strstr(r.out, "1 problem"), "es-check: exit %d, stdout '%s', stderr '%s'",
	              r.exit_code, r.out, r.err);
}
END_TEST

TCase *es_tc_badstore(void)
{
	TCase *tc = tcase_create("badstore");
	tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
	tcase_add_test(tc, newer_format_through_the_tools);
	tcase_add_test(tc, plain_file_through_the_tools);
	tcase_add_test(tc, garbage_through_the_tools);
	tcase_add_test(tc, truncated_store_is_corrupt_not_a_crash);
	tcase_add_test(tc, empty_data_file_is_no_store_to_read);
	tcase_add_test(tc, damaged_pages_through_es_check);
	tcase_set_timeout(tc, 600);
	return tc;
}
