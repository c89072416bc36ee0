/*
 * test_reader.c - audit/reader.c: records are lines, CSV rows may span
 * lines inside quotes, a file cut before its last newline is told apart,
 * and CSV cells are unquoted.
 */
#include <stdbool.h>
#include <string.h>

#include "testutil.h"
#include "audit_tcases.h"
#include "audit_int.h"

/* A reader over text (kept open in *f; close it). */
static void open_text(es_audit__reader *r, FILE **f, const char *text, es_dump_format format)
{
	*f = fmemopen((void *)text, strlen(text), "r");
	ck_assert_ptr_nonnull(*f);
	es_audit__reader_init(r, *f, format);
}

static void expect(es_audit__reader *r, const char *rec, bool complete_want, uint64_t line)
{
	bool complete;
	ck_assert_int_eq(es_audit__reader_next(r, &complete), 1);
	ck_assert_uint_eq(r->len, strlen(rec));
	ck_assert(memcmp(r->data, rec, r->len) == 0);
	ck_assert_int_eq(complete, complete_want);
	ck_assert_uint_eq(r->line, line);
}

START_TEST(test_lines)
{
	es_audit__reader r;
	FILE *f;
	bool complete;
	open_text(&r, &f, "one\n\"two\nthree\n\nfour", ES_DUMP_JSONL);
	expect(&r, "one", true, 1);
	expect(&r, "\"two", true, 2);
	expect(&r, "three", true, 3);
	expect(&r, "", true, 4);
	expect(&r, "four", false, 5); /* cut before its newline */
	ck_assert_int_eq(es_audit__reader_next(&r, &complete), 0);
	es_audit__reader_free(&r);
	fclose(f);
}
END_TEST

START_TEST(test_csv_rows)
{
	es_audit__reader r;
	FILE *f;
	bool complete;
	open_text(&r, &f, "a,b\n1,\"x\ny\",\"\"\"q\"\"\"\n2,\"open\n", ES_DUMP_CSV);
	expect(&r, "a,b", true, 1);
	expect(&r, "1,\"x\ny\",\"\"\"q\"\"\"", true, 2);
	/* A quote left open at the end of the file: the row is cut short. */
	expect(&r, "2,\"open\n", false, 4);
	ck_assert_int_eq(es_audit__reader_next(&r, &complete), 0);
	es_audit__reader_free(&r);
	fclose(f);
}
END_TEST

START_TEST(test_csv_split)
{
	es_audit__buf cells[4] = { { 0 } };
	const char *row = "plain,\"a,b\",\"say \"\"hi\"\"\",";
	ck_assert_int_eq(es_audit__csv_split(row, strlen(row), cells, 4), 4);
	ck_assert(cells[0].len == 5 && memcmp(cells[0].data, "plain", 5) == 0);
	ck_assert(cells[1].len == 3 && memcmp(cells[1].data, "a,b", 3) == 0);
	ck_assert(cells[2].len == 8 && memcmp(cells[2].data, "say \"hi\"", 8) == 0);
	ck_assert_uint_eq(cells[3].len, 0);
	/* Text after a closing quote is malformed. */
	ck_assert_int_eq(es_audit__csv_split("\"a\"b", 4, cells, 4), -1);
	/* More cells than kept are still counted. */
	ck_assert_int_eq(es_audit__csv_split("1,2,3,4,5,6", 11, cells, 4), 6);
	for (int i = 0; i < 4; i++)
		es_audit__buf_free(&cells[i]);
}
END_TEST

TCase *es_tc_reader(void)
{
	TCase *tc = tcase_create("reader");
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_csv_rows);
	tcase_add_test(tc, test_csv_split);
	return tc;
}
