/*
 * test_verify.c - audit/verify.c: an intact dump passes; each kind of
 * tampering (a changed digit in an amount, a removed line, an inserted
 * line, two lines swapped, a truncated file) is caught and named with its
 * line, in JSONL and in CSV.
 */
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "testutil.h"
#include "audit_tcases.h"
#include "audit_int.h"
#include "fixture.h"

/* A dump split into lines (each without its newline). */
typedef struct lines {
	char *text;
	char *line[256];
	size_t n;
} lines;

static void dump_lines(lines *l, es_dump_format format)
{
	es_db *db = es_test_open(NULL, NULL);
	ck_assert_es(es_audit_fixture(db), 0);
	size_t len = 0;
	FILE *f = open_memstream(&l->text, &len);
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	o.format = format;
	ck_assert_es(es_dump(NULL, db, f, &o), 0);
	fclose(f);
	es_db_close(db);
	l->n = 0;
	/* CSV data cells hold no newline (JSON escapes them), so lines are records. */
	for (char *save = NULL, *t = strtok_r(l->text, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
		l->line[l->n++] = t;
}

/* Joins lines back (each with a newline unless cut) and verifies. */
static int verify_lines(es_verify_result *r, char *const *line, size_t n, size_t cut_bytes)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", line[i]);
	fclose(f);
	len -= cut_bytes < len ? cut_bytes : len;
	f = fmemopen(text, len ? len : 1, "r");
	if (len == 0)
		fgetc(f); /* an empty stream: fmemopen wants a size */
	int rc = es_dump_verify(r, f);
	fclose(f);
	free(text);
	return rc;
}

static void expect(char *const *line, size_t n, size_t cut, int code, es_verify_problem problem,
                   uint64_t at)
{
	es_verify_result r;
	ck_assert_es(verify_lines(&r, line, n, cut), code);
	ck_assert_msg(r.problem == problem && r.line == at, "got %s at line %llu (%s), wanted %s at %llu",
	              es_verify_problem_str(r.problem), (unsigned long long)r.line, r.message,
	              es_verify_problem_str(problem), (unsigned long long)at);
	if (problem != ES_VERIFY_OK) {
		char want[32];
		snprintf(want, sizeof want, "line %llu", (unsigned long long)at);
		ck_assert_msg(strstr(r.message, want) || problem == ES_VERIFY_NOT_A_DUMP,
		              "'%s' does not name %s", r.message, want);
	}
}

/* The 1-based line of the first event carrying `needle`. */
static size_t line_with(const lines *l, const char *needle)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->line[i], needle))
			return i + 1;
	ck_abort_msg("no line holds %s", needle);
	return 0;
}

static void tamper_all(es_dump_format format)
{
	lines l;
	char *x[256];
	dump_lines(&l, format);
	size_t n = l.n, first = format == ES_DUMP_CSV ? 3 : 2; /* first event line */
	es_verify_result r;
	ck_assert_es(verify_lines(&r, l.line, n, 0), 0);
	ck_assert_uint_eq(r.events, FIXTURE_EVENTS);
	ck_assert_uint_eq(r.lines, n);

	/* A changed digit in an amount. */
	size_t at = line_with(&l, format == ES_DUMP_CSV ? "\"\"12345\"\"" : "\"12345\"");
	memcpy(x, l.line, n * sizeof *x);
	char changed[4096];
	snprintf(changed, sizeof changed, "%s", l.line[at - 1]);
	*strstr(changed, "12345") = '9';
	x[at - 1] = changed;
	expect(x, n, 0, ES_ECORRUPT, ES_VERIFY_CHANGED, at);

	/* A removed line, in the middle and just before the trailer. */
	memcpy(x, l.line, n * sizeof *x);
	memmove(x + 9, x + 10, (n - 10) * sizeof *x);
	expect(x, n - 1, 0, ES_ECORRUPT, ES_VERIFY_REMOVED, 10);
	memcpy(x, l.line, n * sizeof *x);
	x[n - 2] = x[n - 1];
	expect(x, n - 1, 0, ES_ECORRUPT, ES_VERIFY_REMOVED, n - 1);

	/* An inserted line: a copy of another, or made up. */
	memcpy(x + 1, l.line, n * sizeof *x);
	memcpy(x, l.line, 8 * sizeof *x);
	x[8] = l.line[first];
	expect(x, n + 1, 0, ES_ECORRUPT, ES_VERIFY_INSERTED, 9);
	x[8] = "{\"position\":999}";
	expect(x, n + 1, 0, ES_ECORRUPT, ES_VERIFY_INSERTED, 9);

	/* Two lines swapped: next to each other, and far apart. */
	memcpy(x, l.line, n * sizeof *x);
	x[10] = l.line[11];
	x[11] = l.line[10];
	expect(x, n, 0, ES_ECORRUPT, ES_VERIFY_REORDERED, 11);
	memcpy(x, l.line, n * sizeof *x);
	x[5] = l.line[20];
	x[20] = l.line[5];
	expect(x, n, 0, ES_ECORRUPT, ES_VERIFY_REORDERED, 6);

	/* Truncated: at a line boundary, within a line, and by the last newline. */
	expect(l.line, n - 1, 0, ES_ECORRUPT, ES_VERIFY_TRUNCATED, n - 1);
	expect(l.line, 12, 30, ES_ECORRUPT, ES_VERIFY_TRUNCATED, 12);
	expect(l.line, n, 1, ES_ECORRUPT, ES_VERIFY_TRUNCATED, n);
	expect(l.line, 0, 0, ES_ECORRUPT, ES_VERIFY_TRUNCATED, 1);

	/* Anything after the trailer. */
	memcpy(x, l.line, n * sizeof *x);
	x[n] = "";
	expect(x, n + 1, 0, ES_ECORRUPT, ES_VERIFY_INSERTED, n + 1);

	/* The header itself. */
	memcpy(x, l.line, n * sizeof *x);
	char header[1024];
	snprintf(header, sizeof header, "%s", l.line[first - 2]);
	*strstr(header, "true") = 'T';
	x[first - 2] = header;
	expect(x, n, 0, ES_ECORRUPT, ES_VERIFY_CHANGED, first - 1);
	free(l.text);
}

START_TEST(test_jsonl_tampering)
{
	tamper_all(ES_DUMP_JSONL);
}
END_TEST

START_TEST(test_csv_tampering)
{
	tamper_all(ES_DUMP_CSV);
}
END_TEST

START_TEST(test_not_a_dump)
{
	char *line[] = { "hello" };
	expect(line, 1, 0, ES_EFORMAT, ES_VERIFY_NOT_A_DUMP, 1);
	/* A header of a newer format version, correctly hashed. */
	es_audit__hasher hs;
	ck_assert_es(es_audit__hasher_init(&hs), 0);
	uint8_t prev[ES_AUDIT_HASH_SIZE] = { 0 };
	es_audit__buf b = { 0 };
	es_audit__buf_puts(&b, "{\"format\":\"evstore-dump\",\"format_version\":2");
	es_audit__seal(&b, ES_DUMP_JSONL, prev, &hs);
	b.data[b.len - 1] = '\0';
	line[0] = b.data;
	expect(line, 1, 0, ES_EFORMAT, ES_VERIFY_NOT_A_DUMP, 1);
	es_audit__buf_free(&b);
	es_audit__hasher_free(&hs);
	ck_assert_es(es_dump_verify(NULL, stdin), ES_EINVAL);
}
END_TEST

START_TEST(test_problem_names)
{
	ck_assert_str_eq(es_verify_problem_str(ES_VERIFY_OK), "intact");
	ck_assert_str_eq(es_verify_problem_str(ES_VERIFY_REORDERED), "reordered");
	ck_assert_str_eq(es_verify_problem_str((es_verify_problem)99), "unknown");
}
END_TEST

TCase *es_tc_verify(void)
{
	TCase *tc = tcase_create("verify");
	tcase_set_timeout(tc, 120); /* sanitizer builds on a busy machine are slow */
	tcase_add_test(tc, test_jsonl_tampering);
	tcase_add_test(tc, test_csv_tampering);
	tcase_add_test(tc, test_not_a_dump);
	tcase_add_test(tc, test_problem_names);
	return tc;
}
