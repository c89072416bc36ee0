/*
 * test_dump.c - audit/dump.c: the fields, their order and their encodings
 * for every bank event at every schema version, payloads without a
 * descriptor, filters, upcasting, CSV, renewal, and failing outputs.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "audit_tcases.h"
#include "audit_int.h"
#include "fixture.h"

static es_db *fixture_db(void)
{
	es_db *db = es_test_open(NULL, NULL);
	ck_assert_es(es_audit_fixture(db), 0);
	return db;
}

/* The whole dump as text (malloc'd), and its stats. */
static char *dump_text(es_db *db, const es_dump_options *o, es_dump_stats *st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_es(es_dump(st, db, f, o), 0);
	fclose(f);
	return text;
}

/* Parses each line of a JSONL dump; *n gets the count. */
static json_t **parse_lines(const char *text, size_t *n)
{
	size_t cap = 64, count = 0;
	json_t **out = malloc(cap * sizeof *out);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		json_error_t err;
		json_t *j = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES, &err);
		ck_assert_msg(j != NULL, "line %zu does not parse: %s", count + 1, err.text);
		if (count == cap)
			out = realloc(out, (cap *= 2) * sizeof *out);
		out[count++] = j;
		p = nl + 1;
	}
	*n = count;
	return out;
}

static void free_lines(json_t **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(l[i]);
	free(l);
}

/* The event line of stream at version, or NULL. */
static json_t *find(json_t **l, size_t n, const char *stream, int64_t version)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_object_get(l[i], "stream"));
		if (s && json_object_get(l[i], "position") && strcmp(s, stream) == 0 &&
		    json_integer_value(json_object_get(l[i], "version")) == version)
			return l[i];
	}
	return NULL;
}

static const char *str(json_t *j, const char *path)
{
	char key[64];
	const char *dot = strchr(path, '.');
	if (!dot)
		return json_string_value(json_object_get(j, path));
	snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
	return str(json_object_get(j, key), dot + 1);
}

START_TEST(test_field_order)
{
	static const char *const keys[] = {
		"position", "stream", "version", "id", "type", "schema_version", "recorded_at",
		"recorded_at_ns", "occurred_at", "correlation_id", "causation_id", "metadata", "data",
		"prev_hash", "hash",
	};
	es_db *db = fixture_db();
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	es_dump_stats st;
	char *text = dump_text(db, &o, &st);
	size_t n;
	json_t **l = parse_lines(text, &n);
	ck_assert_uint_eq(st.events, FIXTURE_EVENTS);
	ck_assert_uint_eq(st.streams, FIXTURE_STREAM_STATES);
	ck_assert_uint_eq(n, 1 + FIXTURE_EVENTS + FIXTURE_STREAM_STATES + 1);
	for (size_t i = 1; i <= FIXTURE_EVENTS; i++) {
		size_t k = 0;
		for (void *it = json_object_iter(l[i]); it; it = json_object_iter_next(l[i], it), k++)
			ck_assert_str_eq(json_object_iter_key(it), keys[k]);
		ck_assert_uint_eq(k, sizeof keys / sizeof keys[0]);
		ck_assert_int_eq(json_integer_value(json_object_get(l[i], "position")), (json_int_t)i);
	}
	ck_assert_str_eq(str(l[0], "format"), "evstore-dump");
	ck_assert(json_is_true(json_object_get(l[0], "complete")));
	ck_assert_str_eq(str(l[n - 1], "trailer"), "evstore-dump");
	ck_assert_int_eq(json_integer_value(json_object_get(l[n - 1], "count")), FIXTURE_EVENTS);
	ck_assert_str_eq(str(l[n - 1], "hash"), st.final_hash);
	free_lines(l, n);
	free(text);
	es_db_close(db);
}
END_TEST

START_TEST(test_bank_versions)
{
	es_db *db = fixture_db();
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	es_dump_stats st;
	char *text = dump_text(db, &o, &st);
	size_t n;
	json_t **l = parse_lines(text, &n);
	/* Release 1: the double as stored, shortest exact text. */
	json_t *d = json_object_get(find(l, n, "account-legacy1", 1), "data");
	ck_assert_double_eq(json_real_value(json_object_get(d, "amount")), 0.1 + 0.2);
	ck_assert_str_eq(str(d, "reference"), "first");
	ck_assert_ptr_nonnull(strstr(text, "\"amount\":0.30000000000000004"));
	ck_assert_str_eq(str(find(l, n, "account-legacy1", 3), "type"), "Withdrawal");
	/* Release 2: escaped text comes back exactly. */
	d = json_object_get(find(l, n, "account-legacy2", 0), "data");
	ck_assert_str_eq(str(d, "owner"), "Zo\xc3\xab \"Q\"\nline two \xe2\x9c\x93 \\ tab\t");
	ck_assert_str_eq(str(d, "currency"), "EUR");
	ck_assert_str_eq(str(find(l, n, "account-legacy2", 1), "data.amount_minor"), "12345");
	/* Release 3: all six types. */
	static const char *const v3[] = { "AccountOpened", "MoneyDeposited", "MoneyWithdrawn",
	                                  "AccountFrozen", "AccountUnfrozen", "AccountClosed" };
	for (size_t t = 0; t < 6; t++) {
		bool seen = false;
		for (size_t i = 1; i < n; i++)
			if (str(l[i], "type") && strcmp(str(l[i], "type"), v3[t]) == 0 &&
			    json_integer_value(json_object_get(l[i], "schema_version")) == 3 &&
			    !json_object_get(json_object_get(l[i], "data"), "@base64"))
				seen = true;
		ck_assert_msg(seen, "no decoded %s v3", v3[t]);
	}
	ck_assert_str_eq(str(find(l, n, "account-b", 2), "data.reason"), "audit");
	ck_assert_str_eq(str(find(l, n, "account-a", 3), "data.counterparty"), "b");
	ck_assert_uint_eq(st.raw_payloads, 11); /* Note x2, misc-2 x3, Ping x6: no descriptor */
	free_lines(l, n);
	free(text);
	es_db_close(db);
}
END_TEST

START_TEST(test_envelope_and_raw)
{
	es_db *db = fixture_db();
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	char *text = dump_text(db, &o, NULL);
	size_t n;
	json_t **l = parse_lines(text, &n);
	json_t *e = find(l, n, "misc-1", 0);
	ck_assert_str_eq(str(e, "occurred_at"), "2023-11-14T22:13:20.123456789Z");
	ck_assert_str_eq(str(e, "correlation_id"), "10111213-1415-1617-1819-1a1b1c1d1e1f");
	ck_assert_str_eq(str(e, "causation_id"), "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
	ck_assert_str_eq(str(e, "metadata.user"), "zo\xc3\xab");
	ck_assert_str_eq(str(e, "metadata.quote"), "a\"b,c");
	/* No descriptor: base64 and a note, never dropped. */
	ck_assert_str_eq(str(e, "data.@base64"), "AP94");
	ck_assert_ptr_nonnull(strstr(str(e, "data.@note"), "no descriptor for type 'Note'"));
	/* A repeated metadata key: pairs, so nothing is lost. */
	e = find(l, n, "misc-1", 1);
	ck_assert(json_is_array(json_object_get(e, "metadata")));
	ck_assert_str_eq(json_string_value(json_array_get(json_array_get(json_object_get(e, "metadata"), 1), 1)), "2");
	ck_assert(json_is_null(json_object_get(e, "occurred_at")));
	ck_assert(json_is_null(json_object_get(e, "correlation_id")));
	/* Unknown fields and a non-canonical encoding: raw bytes, decoded view. */
	e = find(l, n, "misc-2", 0);
	ck_assert_str_eq(str(e, "data.@base64"), "CAcSAXh4AQ==");
	ck_assert_str_eq(str(e, "data.@decoded.amount_minor"), "7");
	e = find(l, n, "misc-2", 1);
	ck_assert_ptr_nonnull(strstr(str(e, "data.@note"), "not canonically encoded"));
	ck_assert_str_eq(str(e, "data.@decoded.reference"), "x");
	e = find(l, n, "misc-2", 2);
	ck_assert_ptr_nonnull(strstr(str(e, "data.@note"), "does not decode as evstore.bank.MoneyDeposited"));
	/* Stream states after the events, in name order. */
	ck_assert_str_eq(str(l[n - 5], "stream"), "reserved-1");
	ck_assert_str_eq(str(l[n - 5], "stream_state"), "tombstoned");
	ck_assert_str_eq(str(l[n - 4], "stream_state"), "soft_deleted");
	ck_assert_str_eq(str(l[n - 3], "stream"), "temp-2");
	ck_assert_str_eq(str(l[n - 3], "stream_state"), "live");
	ck_assert_int_eq(json_integer_value(json_object_get(l[n - 3], "first_version")), 2);
	free_lines(l, n);
	free(text);
	es_db_close(db);
}
END_TEST

/* Positions of the events a dump with o writes. */
static size_t positions(es_db *db, es_dump_options *o, int64_t *out, size_t max)
{
	char *text = dump_text(db, o, NULL);
	size_t n, k = 0;
	json_t **l = parse_lines(text, &n);
	ck_assert(json_is_false(json_object_get(l[0], "complete")) ||
	          json_object_size(json_object_get(l[0], "filters")) == 0);
	for (size_t i = 0; i < n; i++)
		if (json_object_get(l[i], "position") && k < max)
			out[k++] = json_integer_value(json_object_get(l[i], "position"));
	free_lines(l, n);
	free(text);
	return k;
}

/* recorded_at of the event at position p. */
static int64_t time_of(es_db *db, uint64_t p)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_log_iter(&it, rd, p, ES_FORWARD, 1), 0);
	ck_assert_es(es_iter_next(&ev, it), 0);
	int64_t t = ev.recorded_at;
	es_iter_free(it);
	es_read_end(rd);
	return t;
}

START_TEST(test_filters)
{
	es_db *db = fixture_db();
	int64_t p[64];
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.stream = "account-a";
	ck_assert_uint_eq(positions(db, &o, p, 64), 4);
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	o.stream_prefix = "account-legacy";
	ck_assert_uint_eq(positions(db, &o, p, 64), 9);
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	const char *types[] = { "Deposit", "Withdrawal" };
	o.types = types;
	o.type_count = 2;
	ck_assert_uint_eq(positions(db, &o, p, 64), 3);
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	o.from_position = 3;
	o.to_position = 5;
	ck_assert_uint_eq(positions(db, &o, p, 64), 3);
	ck_assert(p[0] == 3 && p[2] == 5);
	/* since / until are inclusive, and found by bisection. */
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	o.since = time_of(db, 10);
	o.until = time_of(db, 12);
	ck_assert_uint_eq(positions(db, &o, p, 64), 3);
	ck_assert(p[0] == 10 && p[2] == 12);
	o.since++;
	o.until--;
	ck_assert_uint_eq(positions(db, &o, p, 64), 1);
	ck_assert_int_eq(p[0], 11);
	o.since = time_of(db, FIXTURE_EVENTS) + 1;
	o.until = INT64_MAX;
	ck_assert_uint_eq(positions(db, &o, p, 64), 0);
	/* Filters combine. */
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	o.stream_prefix = "account-";
	o.from_position = 9;
	o.types = types;
	o.type_count = 1;
	ck_assert_uint_eq(positions(db, &o, p, 64), 0);
	es_db_close(db);
}
END_TEST

START_TEST(test_upcast)
{
	es_db *db = fixture_db();
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	o.upcast = es_bank_registry();
	char *text = dump_text(db, &o, NULL);
	size_t n;
	json_t **l = parse_lines(text, &n);
	ck_assert(json_is_true(json_object_get(l[0], "upcast")));
	json_t *e = find(l, n, "account-legacy1", 1);
	ck_assert_str_eq(str(e, "type"), "MoneyDeposited");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "schema_version")), 3);
	ck_assert_str_eq(str(e, "data.amount_minor"), "30");
	ck_assert_str_eq(str(find(l, n, "account-legacy1", 0), "data.currency"), "USD");
	ck_assert_str_eq(str(find(l, n, "account-legacy2", 1), "data.transfer_id"), "");
	/* Types the registry does not know pass as stored. */
	ck_assert_str_eq(str(find(l, n, "misc-1", 0), "type"), "Note");
	free_lines(l, n);
	free(text);
	/* The type filter sees the upcast type. */
	const char *types[] = { "MoneyDeposited" };
	int64_t p[64];
	o.types = types;
	o.type_count = 1;
	o.stream_prefix = "account-legacy";
	ck_assert_uint_eq(positions(db, &o, p, 64), 3);
	es_db_close(db);
}
END_TEST

START_TEST(test_csv)
{
	es_db *db = fixture_db();
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	char *jsonl = dump_text(db, &o, NULL);
	o.format = ES_DUMP_CSV;
	char *csv = dump_text(db, &o, NULL);
	size_t n;
	json_t **l = parse_lines(jsonl, &n);
	FILE *f = fmemopen(csv, strlen(csv), "r");
	es_audit__reader r;
	es_audit__reader_init(&r, f, ES_DUMP_CSV);
	es_audit__buf cells[ES_AUDIT_CSV_CELLS] = { { 0 } };
	bool complete;
	size_t rows = 0;
	while (es_audit__reader_next(&r, &complete) == 1) {
		ck_assert(complete);
		int k = es_audit__csv_split(r.rec.data, r.rec.len, cells, ES_AUDIT_CSV_CELLS);
		ck_assert_int_eq(k, ES_AUDIT_CSV_CELLS);
		if (rows >= 2 && rows < 2 + FIXTURE_EVENTS) {
			/* Event rows carry the same values as the JSONL lines. */
			json_t *line = l[rows - 1];
			json_t *data = json_loadb(cells[12].data, cells[12].len, 0, NULL);
			ck_assert(json_equal(data, json_object_get(line, "data")));
			ck_assert_uint_eq(cells[1].len, strlen(str(line, "stream")));
			ck_assert(memcmp(cells[1].data, str(line, "stream"), cells[1].len) == 0);
			json_decref(data);
		}
		rows++;
	}
	ck_assert_uint_eq(rows, 2 + FIXTURE_EVENTS + FIXTURE_STREAM_STATES + 1);
	es_audit__reader_free(&r);
	for (int i = 0; i < ES_AUDIT_CSV_CELLS; i++)
		es_audit__buf_free(&cells[i]);
	fclose(f);
	free_lines(l, n);
	free(jsonl);
	free(csv);
	es_db_close(db);
}
END_TEST

START_TEST(test_renewal_changes_nothing)
{
	es_db *db = fixture_db();
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	char *a = dump_text(db, &o, NULL);
	o.renew_every = 1;
	char *b = dump_text(db, &o, NULL);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	es_db_close(db);
}
END_TEST

START_TEST(test_refused_options)
{
	es_db *db = fixture_db();
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.stream = "a";
	o.stream_prefix = "b";
	ck_assert_es(es_dump(NULL, db, f, &o), ES_EINVAL);
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	o.since = 2;
	o.until = 1;
	ck_assert_es(es_dump(NULL, db, f, &o), ES_EINVAL);
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	o.from_position = 5;
	o.to_position = 4;
	ck_assert_es(es_dump(NULL, db, f, &o), ES_EINVAL);
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	o.version = 99;
	ck_assert_es(es_dump(NULL, db, f, &o), ES_EINVAL);
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	o.format = (es_dump_format)7;
	ck_assert_es(es_dump(NULL, db, f, &o), ES_EINVAL);
	ck_assert_es(es_dump(NULL, db, NULL, NULL), ES_EINVAL);
	fclose(f);
	ck_assert_uint_eq(len, 0);
	free(text);
	es_db_close(db);
}
END_TEST

START_TEST(test_full_disk)
{
	es_db *db = fixture_db();
	FILE *f = fopen("/dev/full", "w");
	ck_assert_ptr_nonnull(f);
	setvbuf(f, NULL, _IONBF, 0);
	ck_assert_es(es_dump(NULL, db, f, NULL), ES_ENOSPC);
	fclose(f);
	es_db_close(db);
}
END_TEST

START_TEST(test_closed_pipe)
{
	signal(SIGPIPE, SIG_IGN);
	es_db *db = fixture_db();
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]);
	FILE *f = fdopen(fds[1], "w");
	ck_assert_es(es_dump(NULL, db, f, NULL), ES_EIO);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "pipe"));
	fclose(f);
	es_db_close(db);
}
END_TEST

typedef struct progress_seen {
	es_db *db;
	int calls;
	int stop_with;
	uint64_t last_position;
} progress_seen;

static void *append_late(void *db)
{
	es_event_data ev = { .type = "Late", .schema_version = 1 };
	ck_assert_es(es_stream_append(NULL, db, "late", ES_ANY, &ev, 1), 0);
	return NULL;
}

static int on_progress(const es_dump_progress *p, void *user_data)
{
	progress_seen *s = user_data;
	s->calls++;
	s->last_position = p->last_position;
	if (s->calls == 1) {
		/* Appended during the dump (by another thread: this one holds the
		 * dump's read): after the head the dump started from. */
		pthread_t t;
		ck_assert_int_eq(pthread_create(&t, NULL, append_late, s->db), 0);
		pthread_join(t, NULL);
	}
	return s->calls == s->stop_with ? 99 : 0;
}

START_TEST(test_progress)
{
	es_db *db = fixture_db();
	progress_seen seen = { db, 0, 0, 0 };
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.progress = on_progress;
	o.progress_user_data = &seen;
	o.renew_every = 10;
	es_dump_stats st;
	char *text = dump_text(db, &o, &st);
	ck_assert_int_eq(seen.calls, FIXTURE_EVENTS / 10 + 1);
	ck_assert_uint_eq(seen.last_position, FIXTURE_EVENTS);
	ck_assert_uint_eq(st.events, FIXTURE_EVENTS);
	ck_assert_ptr_null(strstr(text, "\"Late\""));
	free(text);
	/* A non-zero return stops the dump with that value. */
	seen.calls = 0;
	seen.stop_with = 2;
	FILE *f = fopen("/dev/null", "w");
	ck_assert_int_eq(es_dump(NULL, db, f, &o), 99);
	fclose(f);
	es_db_close(db);
}
END_TEST

START_TEST(test_dump_options_init)
{
	es_dump_options o;
	memset(&o, 0xa5, sizeof o);
	ck_assert_es(es_dump_options_init(&o, ES_DUMP_OPTIONS_VERSION), 0);
	ck_assert(o.version == ES_DUMP_OPTIONS_VERSION && o.format == ES_DUMP_JSONL);
	ck_assert(o.stream == NULL && o.stream_prefix == NULL && o.types == NULL && o.type_count == 0);
	ck_assert(o.since == INT64_MIN && o.until == INT64_MAX);
	ck_assert(o.from_position == 0 && o.to_position == UINT64_MAX);
	ck_assert(o.upcast == NULL && o.descriptor == NULL && o.progress == NULL && o.renew_every == 0);
	ck_assert_es(es_dump_options_init(&o, ES_DUMP_OPTIONS_VERSION + 1), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "es_dump_options_init"));
}
END_TEST

TCase *es_tc_dump(void)
{
	TCase *tc = tcase_create("dump");
	tcase_set_timeout(tc, 120); /* sanitizer builds on a busy machine are slow */
	tcase_add_test(tc, test_field_order);
	tcase_add_test(tc, test_bank_versions);
	tcase_add_test(tc, test_envelope_and_raw);
	tcase_add_test(tc, test_filters);
	tcase_add_test(tc, test_upcast);
	tcase_add_test(tc, test_csv);
	tcase_add_test(tc, test_renewal_changes_nothing);
	tcase_add_test(tc, test_refused_options);
	tcase_add_test(tc, test_full_disk);
	tcase_add_test(tc, test_closed_pipe);
	tcase_add_test(tc, test_progress);
	tcase_add_test(tc, test_dump_options_init);
	return tc;
}
