/*
 * test_restore.c - audit/restore.c: dump -> restore -> dump gives the same bytes
 * (every stream, version, id, time, payload byte and stream state comes
 * back), from a file or a pipe, in any batch size; a broken file, a
 * partial dump or a store that is not empty is refused before anything is
 * written.
 */
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "audit_tcases.h"
#include "audit_int.h"
#include "fixture.h"

static char *dump_with(es_db *db, es_dump_options *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	o->descriptor = es_bank_descriptor;
	ck_assert_es(es_dump(NULL, db, f, o), 0);
	fclose(f);
	return text;
}

static char *dump(es_db *db)
{
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	return dump_with(db, &o);
}

/* A new empty store in a temporary directory of its own (under the
 * suite's, in $TMPDIR), removed by remove_beside(). */
static es_db *open_beside(const char *name)
{
	char path[4096];
	es_db *db;
	snprintf(path, sizeof path, "%s/%s", es_test_tmpdir(), name);
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = 1;
	ck_assert_es(es_db_open(&db, path, &o), 0);
	return db;
}

static void remove_beside(void)
{
	es_test_tmpdir_remove(); /* open_beside's */
	es_test_tmpdir_remove(); /* the fixture's */
}

static int restore_text(es_db *db, const char *text, size_t len, size_t batch, es_restore_stats *st)
{
	FILE *f = fmemopen((void *)text, len, "r");
	es_restore_options o = ES_RESTORE_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	o.batch_events = batch;
	int rc = es_restore(st, db, f, &o);
	fclose(f);
	return rc;
}

static void same_state(es_db *a, es_db *b, const char *stream)
{
	es_read *ra, *rb;
	es_stream_info ia, ib;
	ck_assert_es(es_read_begin(&ra, a), 0);
	ck_assert_es(es_read_begin(&rb, b), 0);
	ck_assert_es(es_stream_info_get(&ia, ra, stream), 0);
	ck_assert_es(es_stream_info_get(&ib, rb, stream), 0);
	ck_assert_int_eq(ia.state, ib.state);
	ck_assert_int_eq(ia.head_version, ib.head_version);
	ck_assert_int_eq(ia.first_version, ib.first_version);
	ck_assert_int_eq(ia.first_recorded_at, ib.first_recorded_at);
	ck_assert_int_eq(ia.last_recorded_at, ib.last_recorded_at);
	es_read_end(ra);
	es_read_end(rb);
}

static void round_trip(size_t batch)
{
	es_db *db = es_test_open(NULL, NULL);
	ck_assert_es(es_audit_fixture(db), 0);
	char *a = dump(db);
	es_db *copy = open_beside("restored");
	es_restore_stats st;
	ck_assert_es(restore_text(copy, a, strlen(a), batch, &st), 0);
	ck_assert_uint_eq(st.events, FIXTURE_EVENTS);
	ck_assert_uint_eq(st.streams, FIXTURE_STREAM_STATES);
	char *b = dump(copy);
	ck_assert_str_eq(a, b);
	const char *streams[] = { "temp-1", "temp-2", "temp-3", "reserved-1", "account-a", "misc-1" };
	for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++)
		same_state(db, copy, streams[i]);
	/* The bank reads the restored history as before. */
	es_bank_account acct;
	ck_assert_es(es_bank_account_load(&acct, NULL, copy, "legacy1"), 0);
	ck_assert_int_eq(acct.balance, 30 + 1234 - 10);
	es_check_stats cs;
	ck_assert_es(es_check(&cs, copy, NULL), 0);
	free(a);
	free(b);
	es_db_close(copy);
	es_db_close(db);
	remove_beside();
}

START_TEST(test_round_trip)
{
	round_trip(0);
}
END_TEST

START_TEST(test_round_trip_small_batches)
{
	round_trip(1);
	round_trip(3);
}
END_TEST

START_TEST(test_from_pipe)
{
	es_db *db = es_test_open(NULL, NULL);
	ck_assert_es(es_audit_fixture(db), 0);
	char *a = dump(db);
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		size_t len = strlen(a);
		_exit(write(fds[1], a, len) == (ssize_t)len ? 0 : 1);
	}
	close(fds[1]);
	FILE *in = fdopen(fds[0], "r");
	es_db *copy = open_beside("piped");
	es_restore_options o = ES_RESTORE_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	ck_assert_es(es_restore(NULL, copy, in, &o), 0);
	fclose(in);
	int status;
	waitpid(pid, &status, 0);
	char *b = dump(copy);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	es_db_close(copy);
	es_db_close(db);
	remove_beside();
}
END_TEST

static uint64_t log_head(es_db *db)
{
	es_read *rd;
	uint64_t head;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_log_head(&head, rd), 0);
	es_read_end(rd);
	return head;
}

START_TEST(test_refuses_broken_file)
{
	es_db *db = es_test_open(NULL, NULL);
	ck_assert_es(es_audit_fixture(db), 0);
	char *a = dump(db);
	/* A changed digit on line 8 (account-legacy2's deposit of 12345). */
	strstr(a, "\"12345\"")[1] = '9';
	es_db *copy = open_beside("refused");
	es_restore_stats st;
	ck_assert_es(restore_text(copy, a, strlen(a), 0, &st), ES_ECORRUPT);
	ck_assert_int_eq(st.verify.problem, ES_VERIFY_CHANGED);
	ck_assert_uint_eq(st.verify.line, 8);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "line 8"));
	ck_assert_uint_eq(log_head(copy), 0);
	/* Truncated: refused too, nothing written. */
	char *b = dump(db);
	ck_assert_es(restore_text(copy, b, strlen(b) / 2, 0, &st), ES_ECORRUPT);
	ck_assert_int_eq(st.verify.problem, ES_VERIFY_TRUNCATED);
	ck_assert_uint_eq(log_head(copy), 0);
	free(a);
	free(b);
	es_db_close(copy);
	es_db_close(db);
	remove_beside();
}
END_TEST

START_TEST(test_refuses_partial_dumps)
{
	es_db *db = es_test_open(NULL, NULL);
	ck_assert_es(es_audit_fixture(db), 0);
	es_db *copy = open_beside("partial");
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.stream = "account-a";
	char *t = dump_with(db, &o);
	ck_assert_es(restore_text(copy, t, strlen(t), 0, NULL), ES_EFORMAT);
	free(t);
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	o.upcast = es_bank_registry();
	t = dump_with(db, &o);
	ck_assert_es(restore_text(copy, t, strlen(t), 0, NULL), ES_EFORMAT);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "--upcast"));
	free(t);
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	o.format = ES_DUMP_CSV;
	t = dump_with(db, &o);
	ck_assert_es(restore_text(copy, t, strlen(t), 0, NULL), ES_EFORMAT);
	free(t);
	ck_assert_uint_eq(log_head(copy), 0);
	/* A store that is not empty. */
	t = dump(db);
	ck_assert_es(restore_text(db, t, strlen(t), 0, NULL), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "not empty"));
	free(t);
	es_db_close(copy);
	es_db_close(db);
	remove_beside();
}
END_TEST

START_TEST(test_refuses_non_utf8)
{
	es_db *db = es_test_open(NULL, NULL);
	es_metadata md = { "note", "caf\xe9" }; /* Latin-1, not UTF-8 */
	es_event_data ev[2] = { { .type = "Note", .schema_version = 1 },
	                        { .type = "Note", .schema_version = 1, .metadata = &md, .metadata_count = 1 } };
	ck_assert_es(es_stream_append(NULL, db, "s", ES_ANY, ev, 2), 0);
	char *t = dump(db);
	ck_assert_ptr_nonnull(strstr(t, "caf\\udce9"));
	es_db *copy = open_beside("latin1");
	ck_assert_es(restore_text(copy, t, strlen(t), 0, NULL), ES_EFORMAT);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "line 3"));
	ck_assert_uint_eq(log_head(copy), 0);
	free(t);
	es_db_close(copy);
	es_db_close(db);
	remove_beside();
}
END_TEST

/* A dump of hand-made records, correctly chained. */
static char *forge(const char *const *bodies, size_t n)
{
	es_audit__hasher hs;
	ck_assert_es(es_audit__hasher_init(&hs), 0);
	uint8_t prev[ES_AUDIT_HASH_SIZE] = { 0 };
	es_audit__buf out = { 0 }, rec = { 0 };
	for (size_t i = 0; i < n; i++) {
		rec.len = 0;
		es_audit__buf_puts(&rec, bodies[i]);
		es_audit__seal(&rec, ES_DUMP_JSONL, prev, &hs);
		es_audit__buf_put(&out, rec.data, rec.len);
	}
	es_audit__buf_putc(&out, '\0');
	es_audit__buf_free(&rec);
	es_audit__hasher_free(&hs);
	return out.data;
}

#define HEADER "{\"format\":\"evstore-dump\",\"format_version\":1,\"complete\":true,\"upcast\":false"
#define EVENT(data) \
	"{\"position\":1,\"stream\":\"s\",\"version\":0,\"id\":\"019aa8dc-c118-7172-a824-eb02c14eb2a7\"," \
	"\"type\":\"MoneyDeposited\",\"schema_version\":3,\"recorded_at\":\"2026-01-01T00:00:00Z\"," \
	"\"recorded_at_ns\":1767225600000000000,\"occurred_at\":null,\"correlation_id\":null," \
	"\"causation_id\":null,\"metadata\":{},\"data\":" data
#define TRAILER "{\"trailer\":\"evstore-dump\",\"count\":1"

static void forged_fails(const char *event, int code, const char *words)
{
	const char *bodies[] = { HEADER, event, TRAILER };
	char *t = forge(bodies, 3);
	es_db *db = es_test_open(NULL, NULL);
	es_error_clear();
	ck_assert_es(restore_text(db, t, strlen(t), 0, NULL), code);
	if (words)
		ck_assert_msg(strstr(es_error_last()->message, words) != NULL, "'%s' lacks '%s'",
		              es_error_last()->message, words);
	free(t);
	es_db_close(db);
	es_test_tmpdir_remove();
}

START_TEST(test_bad_lines)
{
	forged_fails(EVENT("{\"amount_minor\":\"5\"}"), 0, NULL);
	forged_fails(EVENT("{\"nope\":1}"), ES_ECORRUPT, "line 2: data field 'nope'");
	forged_fails(EVENT("[]"), ES_ECORRUPT, "line 2: data is not an object");
	forged_fails(EVENT("{\"@base64\":\"%%%\"}"), ES_ECORRUPT, "line 2");
	forged_fails("{\"position\":1,\"stream\":\"s\"", ES_ECORRUPT, "line 2: an envelope field");
	forged_fails("{\"position\":1,", ES_ECORRUPT, "line 2: not valid JSON");
}
END_TEST

START_TEST(test_options)
{
	es_db *db = es_test_open(NULL, NULL);
	es_restore_options o = ES_RESTORE_OPTIONS_INIT;
	o.version = 9;
	ck_assert_es(es_restore(NULL, db, stdin, &o), ES_EINVAL);
	ck_assert_es(es_restore(NULL, NULL, stdin, NULL), ES_EINVAL);
	ck_assert_es(es_restore(NULL, db, NULL, NULL), ES_EINVAL);
	es_db_close(db);
	es_test_tmpdir_remove();
}
END_TEST

TCase *es_tc_restore(void)
{
	TCase *tc = tcase_create("restore");
	tcase_set_timeout(tc, 120); /* sanitizer builds on a busy machine are slow */
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_round_trip_small_batches);
	tcase_add_test(tc, test_from_pipe);
	tcase_add_test(tc, test_refuses_broken_file);
	tcase_add_test(tc, test_refuses_partial_dumps);
	tcase_add_test(tc, test_refuses_non_utf8);
	tcase_add_test(tc, test_bad_lines);
	tcase_add_test(tc, test_options);
	return tc;
}
