/*
 * test_migrate.c - es-migrate's own paths, run as the real program: a
 * source bigger than one import batch and one read renewal, with
 * interleaved streams at mixed schemas, deleted, recreated and tombstoned
 * streams and a foreign type; a v1 NaN that must stop the migration and
 * leave nothing behind; an empty store; and its command-line refusals.
 * (The committed fixtures are migrated by the schema_migrate ctest.)
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>

#include "legacy_events.h"
#include "testutil.h"
#include "schema_tcases.h"

#ifndef ES_MIGRATE
#error "ES_MIGRATE must name the es-migrate program"
#endif

static char base[512];
static char err_text[4096];

/* Runs es-migrate with args (paths are mkdtemp names: no quoting needed);
 * returns its exit status with its stderr in err_text. */
static int migrate(const char *args)
{
	char cmd[2048], errfile[600];
	snprintf(errfile, sizeof errfile, "%s/stderr", base);
	snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>%s", ES_MIGRATE, args, errfile);
	int status = system(cmd);
	FILE *f = fopen(errfile, "r");
	size_t n = f ? fread(err_text, 1, sizeof err_text - 1, f) : 0;
	err_text[n] = '\0';
	if (f)
		fclose(f);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static char *path_in(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", base, name);
	return out;
}

static es_db *open_store(const char *name, int read_only)
{
	char p[600];
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_db *db = NULL;
	o.nosync = !read_only;
	o.read_only = read_only;
	ck_assert_es(es_db_open(&db, path_in(p, sizeof p, name), &o), 0);
	return db;
}

static void setup(void)
{
	snprintf(base, sizeof base, "%s", es_test_tmpdir());
}

static void teardown(void)
{
	es_test_tmpdir_remove();
}

/* ---- a big mixed source ---- */

#define N_MONEY 5000

static void put(es_db *db, const char *stream, legacy_event *e)
{
	ck_assert_es(legacy_append(db, stream, ES_ANY, e), 0);
}

/* Three accounts written in turn at random schemas; the model's balances
 * come back through balances[]. */
static void write_money(es_db *db, int64_t balances[3])
{
	static const char *const streams[3] = { "account-a", "account-b", "account-c" };
	legacy_event e;
	uint64_t x = 88172645463325252u;
	for (int i = 0; i < 3; i++) {
		legacy_opened(&e, 1 + (uint32_t)i, "Owner", "USD", 0);
		put(db, streams[i], &e);
		balances[i] = 0;
	}
	for (int n = 0; n < N_MONEY; n++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int i = (int)(x % 3), deposit = balances[i] < 100000 || (x >> 8) % 3 != 0;
		int64_t amount = 1 + (int64_t)((x >> 16) % 99999);
		legacy_money(&e, 1 + (uint32_t)((x >> 40) % 3), deposit, amount, (double)amount / 100.0, "m");
		put(db, streams[i], &e);
		balances[i] += deposit ? amount : -amount;
	}
}

/* Deleted, recreated, tombstoned and foreign streams, with metadata. */
static void write_states(es_db *db)
{
	static const es_metadata meta[] = { { "k", "v" } };
	legacy_event e;
	legacy_opened(&e, 1, "Gone", NULL, 0);
	put(db, "account-gone", &e);
	ck_assert_es(es_stream_delete(db, "account-gone", ES_ANY), 0);
	legacy_opened(&e, 1, "Again", NULL, 0);
	put(db, "account-again", &e);
	legacy_money(&e, 1, 1, 0, 2.5, "");
	put(db, "account-again", &e);
	ck_assert_es(es_stream_delete(db, "account-again", ES_ANY), 0);
	legacy_opened(&e, 2, "Again", "EUR", 0);
	put(db, "account-again", &e);
	legacy_money(&e, 2, 1, 700, 0, "");
	put(db, "account-again", &e);
	legacy_opened(&e, 1, "Tomb", NULL, 0);
	put(db, "account-tomb", &e);
	ck_assert_es(es_stream_tombstone(db, "account-tomb", ES_ANY), 0);
	memset(&e.data, 0, sizeof e.data);
	e.data.type = "Custom";
	e.data.schema_version = 5;
	e.data.payload = "\x01\x02";
	e.data.payload_len = 2;
	e.data.metadata = meta;
	e.data.metadata_count = 1;
	e.data.occurred_at = 42;
	put(db, "misc", &e);
	/* One commit of several events: they share a recorded_at. */
	legacy_event many[3];
	es_event_data data[3];
	for (int i = 0; i < 3; i++) {
		legacy_money(&many[i], 1 + (uint32_t)i, 1, 100, 1.0, "batch");
		data[i] = many[i].data;
	}
	ck_assert_es(es_stream_append(NULL, db, "account-a", ES_ANY, data, 3), 0);
}

static void same_info(es_read *src, es_read *dst, const char *stream)
{
	es_stream_info a, b;
	ck_assert_es(es_stream_info_get(&a, src, stream), 0);
	ck_assert_es(es_stream_info_get(&b, dst, stream), 0);
	ck_assert_int_eq(a.head_version, b.head_version);
	ck_assert_int_eq(a.first_version, b.first_version);
	ck_assert_int_eq(a.state, b.state);
	ck_assert_int_eq(a.first_recorded_at, b.first_recorded_at);
	ck_assert_int_eq(a.last_recorded_at, b.last_recorded_at);
}

/* Event for event: same place, time and id; current schema; metadata kept. */
static void same_logs(es_read *src, es_read *dst)
{
	es_iter *is, *id;
	es_event a, b;
	ck_assert_es(es_log_iter(&is, src, 1, ES_FORWARD, ES_NO_LIMIT), 0);
	ck_assert_es(es_log_iter(&id, dst, 1, ES_FORWARD, ES_NO_LIMIT), 0);
	while (es_iter_next(&a, is) == 0) {
		ck_assert_es(es_iter_next(&b, id), 0);
		ck_assert_str_eq(a.stream, b.stream);
		ck_assert_int_eq(a.version, b.version);
		ck_assert_uint_eq(a.position, b.position);
		ck_assert_int_eq(a.recorded_at, b.recorded_at);
		ck_assert_int_eq(a.occurred_at, b.occurred_at);
		ck_assert_int_eq(memcmp(a.id, b.id, 16), 0);
		ck_assert_uint_eq(a.metadata_len, b.metadata_len);
		uint32_t cur = es_registry_current(es_bank_registry(), b.type);
		ck_assert_uint_eq(b.schema_version, cur ? cur : a.schema_version);
	}
	ck_assert_es(es_iter_next(&b, id), ES_ITEROVER);
	es_iter_free(is);
	es_iter_free(id);
}

START_TEST(test_migrate_big_mixed_store)
{
	char from[600], to[600], args[1300];
	int64_t balances[3];
	es_db *src = open_store("src", 0);
	write_money(src, balances);
	write_states(src);
	balances[0] += 300;
	es_db_close(src);
	snprintf(args, sizeof args, "--from %s --to %s", path_in(from, sizeof from, "src"),
	         path_in(to, sizeof to, "dst"));
	ck_assert_msg(migrate(args) == 0, "es-migrate failed: %s", err_text);

	es_db *s = open_store("src", 1), *d = open_store("dst", 1);
	es_read *rs, *rd;
	ck_assert_es(es_read_begin(&rs, s), 0);
	ck_assert_es(es_read_begin(&rd, d), 0);
	same_logs(rs, rd);
	static const char *const streams[] = { "account-a", "account-gone", "account-again",
	                                       "account-tomb", "misc" };
	for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++)
		same_info(rs, rd, streams[i]);
	es_read_end(rs);
	es_read_end(rd);
	static const char *const ids[3] = { "a", "b", "c" };
	es_bank_account acc;
	for (int i = 0; i < 3; i++) {
		ck_assert_es(es_bank_account_load(&acc, NULL, d, ids[i]), 0);
		ck_assert_int_eq(acc.balance, balances[i]);
	}
	ck_assert_es(es_bank_account_load(&acc, NULL, d, "again"), 0);
	ck_assert_int_eq(acc.balance, 700);
	ck_assert_str_eq(acc.currency, "EUR");
	ck_assert_es(es_bank_account_load(&acc, NULL, d, "gone"), ES_ENOTFOUND);
	ck_assert_es(es_bank_account_load(&acc, NULL, d, "tomb"), ES_EDELETED);
	es_db_close(s);
	es_db_close(d);
}
END_TEST

/* ---- failures leave nothing behind ---- */

static int leftovers(void)
{
	DIR *dir = opendir(base);
	struct dirent *e;
	int n = 0;
	while (dir && (e = readdir(dir)))
		n += strstr(e->d_name, ".migrating-") != NULL;
	if (dir)
		closedir(dir);
	return n;
}

START_TEST(test_migrate_refuses_nan)
{
	char from[600], to[600], args[1300];
	struct stat st;
	legacy_event e;
	es_db *src = open_store("src", 0);
	legacy_opened(&e, 1, "Bad", NULL, 0);
	put(src, "account-bad", &e);
	legacy_money(&e, 1, 1, 0, NAN, "");
	put(src, "account-bad", &e);
	es_db_close(src);
	snprintf(args, sizeof args, "--from %s --to %s", path_in(from, sizeof from, "src"),
	         path_in(to, sizeof to, "dst"));
	ck_assert_int_eq(migrate(args), 1);
	ck_assert_msg(strstr(err_text, "position 2") && strstr(err_text, "'account-bad' version 1") &&
	              strstr(err_text, "nan"), "stderr: %s", err_text);
	ck_assert_int_ne(stat(to, &st), 0);
	ck_assert_int_eq(leftovers(), 0);
}
END_TEST

START_TEST(test_migrate_empty_store_into_empty_dir)
{
	char from[600], to[600], args[1300];
	uint64_t head = 1;
	es_db_close(open_store("src", 0));
	ck_assert_int_eq(mkdir(path_in(to, sizeof to, "dst"), 0700), 0);
	snprintf(args, sizeof args, "--from %s --to %s", path_in(from, sizeof from, "src"), to);
	ck_assert_msg(migrate(args) == 0, "es-migrate failed: %s", err_text);
	es_db *d = open_store("dst", 1);
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, d), 0);
	ck_assert_es(es_log_head(&head, rd), 0);
	ck_assert_uint_eq(head, 0);
	es_read_end(rd);
	es_db_close(d);
	ck_assert_int_eq(leftovers(), 0);
}
END_TEST

START_TEST(test_migrate_usage)
{
	char from[600], to[600], args[1300], file[700];
	es_db_close(open_store("src", 0));
	path_in(from, sizeof from, "src");
	ck_assert_int_eq(migrate(""), 2);
	snprintf(args, sizeof args, "--from %s", from);
	ck_assert_int_eq(migrate(args), 2);
	ck_assert_int_eq(migrate("--bogus"), 2);
	snprintf(args, sizeof args, "--from %s --to %s", from, from);   /* a store */
	ck_assert_int_eq(migrate(args), 2);
	ck_assert_ptr_nonnull(strstr(err_text, "already holds a store"));
	ck_assert_int_eq(mkdir(path_in(to, sizeof to, "full"), 0700), 0);
	snprintf(file, sizeof file, "%s/something", to);
	fclose(fopen(file, "w"));
	snprintf(args, sizeof args, "--from %s --to %s", from, to);      /* not empty */
	ck_assert_int_eq(migrate(args), 2);
	ck_assert_ptr_nonnull(strstr(err_text, "not empty"));
	snprintf(args, sizeof args, "--from %s/nothing --to %s/new", base, base);
	ck_assert_int_eq(migrate(args), 1);                              /* no source */
	ck_assert_int_eq(leftovers(), 0);
	ck_assert_int_eq(migrate("--help"), 0);
}
END_TEST

TCase *es_tc_migrate(void)
{
	TCase *tc = tcase_create("migrate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_migrate_big_mixed_store);
	tcase_add_test(tc, test_migrate_refuses_nan);
	tcase_add_test(tc, test_migrate_empty_store_into_empty_dir);
	tcase_add_test(tc, test_migrate_usage);
	tcase_set_timeout(tc, 300);
	return tc;
}
