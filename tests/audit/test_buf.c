/*
 * test_buf.c - audit/buf.c: integers at their edges, JSON string escaping
 * (and surrogate escapes for bytes that are not UTF-8), CSV quoting,
 * floating point that reads back bit for bit, base64, UUIDs and times.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "testutil.h"
#include "audit_tcases.h"
#include "audit_int.h"

/* The buffer's text, NUL-terminated, then emptied. */
static const char *text(es_audit__buf *b)
{
	static char out[4096];
	ck_assert(!b->failed);
	ck_assert_uint_lt(b->len, sizeof out);
	memcpy(out, b->data, b->len);
	out[b->len] = '\0';
	b->len = 0;
	return out;
}

START_TEST(test_integers)
{
	es_audit__buf b = { 0 };
	es_audit__buf_u64(&b, 0);
	ck_assert_str_eq(text(&b), "0");
	es_audit__buf_u64(&b, UINT64_MAX);
	ck_assert_str_eq(text(&b), "18446744073709551615");
	es_audit__buf_i64(&b, INT64_MIN);
	ck_assert_str_eq(text(&b), "-9223372036854775808");
	es_audit__buf_i64(&b, INT64_MAX);
	ck_assert_str_eq(text(&b), "9223372036854775807");
	es_audit__buf_i64(&b, -1);
	ck_assert_str_eq(text(&b), "-1");
	es_audit__buf_free(&b);
}
END_TEST

START_TEST(test_json_strings)
{
	es_audit__buf b = { 0 };
	ck_assert(es_audit__buf_json_string(&b, "a\"b\\c\nd\re\tf", 11));
	ck_assert_str_eq(text(&b), "\"a\\\"b\\\\c\\nd\\re\\tf\"");
	ck_assert(es_audit__buf_json_string(&b, "\x01\x1f\x7f", 3));
	ck_assert_str_eq(text(&b), "\"\\u0001\\u001f\x7f\"");
	/* Valid UTF-8, up to four bytes, is kept as it is. */
	ck_assert(es_audit__buf_json_string(&b, "zo\xc3\xab \xe2\x9c\x93 \xf0\x9f\x98\x80", 13));
	ck_assert_str_eq(text(&b), "\"zo\xc3\xab \xe2\x9c\x93 \xf0\x9f\x98\x80\"");
	/* A NUL inside the given length is escaped, not a terminator. */
	ck_assert(es_audit__buf_json_string(&b, "a\0b", 3));
	ck_assert_str_eq(text(&b), "\"a\\u0000b\"");
	es_audit__buf_free(&b);
}
END_TEST

/* One special byte at every place in plain strings of 1..40 bytes: the
 * scan that takes plain bytes eight at a time must stop exactly on it,
 * also within the last eight. */
START_TEST(test_json_special_at_every_place)
{
	static const struct { char c; const char *escaped; bool exact; } special[] = {
		{ '"', "\\\"", true }, { '\\', "\\\\", true }, { '\n', "\\n", true },
		{ '\x01', "\\u0001", true }, { '\x80', "\\udc80", false }, { '\x7f', "\x7f", true },
	};
	es_audit__buf b = { 0 };
	char in[41], want[64];
	for (size_t k = 0; k < sizeof special / sizeof special[0]; k++)
		for (size_t len = 1; len <= 40; len++)
			for (size_t at = 0; at < len; at++) {
				memset(in, 'a', len);
				in[at] = special[k].c;
				ck_assert_int_eq(es_audit__buf_json_string(&b, in, len), special[k].exact);
				snprintf(want, sizeof want, "\"%.*s%s%.*s\"", (int)at, in, special[k].escaped,
				         (int)(len - at - 1), in + at + 1);
				ck_assert_str_eq(text(&b), want);
			}
	es_audit__buf_free(&b);
}
END_TEST

START_TEST(test_json_not_utf8)
{
	es_audit__buf b = { 0 };
	/* A stray continuation byte, a truncated sequence, an overlong form and
	 * an encoded surrogate: each byte becomes \udcXX, and the call says so. */
	ck_assert(!es_audit__buf_json_string(&b, "a\x80z", 3));
	ck_assert_str_eq(text(&b), "\"a\\udc80z\"");
	ck_assert(!es_audit__buf_json_string(&b, "\xe2\x9c", 2));
	ck_assert_str_eq(text(&b), "\"\\udce2\\udc9c\"");
	ck_assert(!es_audit__buf_json_string(&b, "\xc0\xaf", 2));
	ck_assert_str_eq(text(&b), "\"\\udcc0\\udcaf\"");
	ck_assert(!es_audit__buf_json_string(&b, "\xed\xa0\x80", 3));
	ck_assert_str_eq(text(&b), "\"\\udced\\udca0\\udc80\"");
	es_audit__buf_free(&b);
}
END_TEST

START_TEST(test_csv_cells)
{
	es_audit__buf b = { 0 };
	es_audit__buf_csv_cell(&b, "plain", 5);
	ck_assert_str_eq(text(&b), "plain");
	es_audit__buf_csv_cell(&b, "", 0);
	ck_assert_str_eq(text(&b), "");
	es_audit__buf_csv_cell(&b, "a,b", 3);
	ck_assert_str_eq(text(&b), "\"a,b\"");
	es_audit__buf_csv_cell(&b, "say \"hi\"", 8);
	ck_assert_str_eq(text(&b), "\"say \"\"hi\"\"\"");
	es_audit__buf_csv_cell(&b, "two\nlines\r", 10);
	ck_assert_str_eq(text(&b), "\"two\nlines\r\"");
	es_audit__buf_free(&b);
}
END_TEST

/* Formats v and reads it back with strtod: the same bits, and a '.' or an
 * exponent so JSON readers keep it a real. */
static void double_round_trips(double v)
{
	es_audit__buf b = { 0 };
	es_audit__buf_double(&b, v);
	const char *t = text(&b);
	double back = strtod(t, NULL);
	ck_assert_msg(memcmp(&back, &v, sizeof v) == 0, "%.17g printed as %s", v, t);
	ck_assert_msg(strpbrk(t, ".e") != NULL, "%s reads as an integer", t);
	es_audit__buf_free(&b);
}

START_TEST(test_doubles)
{
	es_audit__buf b = { 0 };
	es_audit__buf_double(&b, 0.1);
	ck_assert_str_eq(text(&b), "0.1");
	es_audit__buf_double(&b, 0.1 + 0.2);
	ck_assert_str_eq(text(&b), "0.30000000000000004");
	es_audit__buf_double(&b, 5);
	ck_assert_str_eq(text(&b), "5.0");
	es_audit__buf_double(&b, -0.0);
	ck_assert_str_eq(text(&b), "-0.0");
	es_audit__buf_double(&b, NAN);
	ck_assert_str_eq(text(&b), "\"NaN\"");
	es_audit__buf_double(&b, INFINITY);
	ck_assert_str_eq(text(&b), "\"Infinity\"");
	es_audit__buf_double(&b, -INFINITY);
	ck_assert_str_eq(text(&b), "\"-Infinity\"");
	es_audit__buf_free(&b);
	double edges[] = { 1e300, -1e-300, 4.9406564584124654e-324, 1.7976931348623157e308, 1e21, 123456789012345678.0 };
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
		double_round_trips(edges[i]);
	srand(7);
	for (int i = 0; i < 20000; i++) {
		uint64_t bits = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
		double v;
		memcpy(&v, &bits, 8);
		if (isfinite(v))
			double_round_trips(v);
	}
}
END_TEST

START_TEST(test_floats)
{
	es_audit__buf b = { 0 };
	es_audit__buf_float(&b, 0.1f);
	ck_assert_str_eq(text(&b), "0.1");
	es_audit__buf_float(&b, 3.0f);
	ck_assert_str_eq(text(&b), "3.0");
	srand(11);
	for (int i = 0; i < 20000; i++) {
		uint32_t bits = ((uint32_t)rand() << 16) ^ (uint32_t)rand();
		float v;
		memcpy(&v, &bits, 4);
		if (!isfinite(v))
			continue;
		es_audit__buf_float(&b, v);
		float back = strtof(text(&b), NULL);
		ck_assert(memcmp(&back, &v, 4) == 0);
	}
	es_audit__buf_free(&b);
}
END_TEST

START_TEST(test_base64_uuid_time)
{
	es_audit__buf b = { 0 };
	es_audit__buf_base64(&b, "", 0);
	ck_assert_str_eq(text(&b), "");
	es_audit__buf_base64(&b, "\x00\xff\x10", 3);
	ck_assert_str_eq(text(&b), "AP8Q");
	es_audit__buf_base64(&b, "ab", 2);
	ck_assert_str_eq(text(&b), "YWI=");
	uint8_t raw[16];
	size_t n = 99;
	ck_assert(es_audit__base64_decode(raw, &n, "", 0) && n == 0);
	ck_assert(es_audit__base64_decode(raw, &n, "YWI=", 4) && n == 2 && memcmp(raw, "ab", 2) == 0);
	ck_assert(es_audit__base64_decode(raw, &n, "AP8Q", 4) && n == 3 && raw[1] == 0xff);
	ck_assert(es_audit__base64_decode(raw, &n, "YQ==", 4) && n == 1 && raw[0] == 'a');
	/* Strict: wrong length, stray characters, non-zero padding bits. */
	ck_assert(!es_audit__base64_decode(raw, &n, "YWI", 3));
	ck_assert(!es_audit__base64_decode(raw, &n, "Y WI", 4));
	ck_assert(!es_audit__base64_decode(raw, &n, "YWJ=", 4));
	ck_assert(!es_audit__base64_decode(raw, &n, "Y=I=", 4));
	ck_assert(!es_audit__base64_decode(raw, &n, "****", 4));
	uint8_t id[16];
	for (int i = 0; i < 16; i++)
		id[i] = (uint8_t)(i * 17);
	es_audit__buf_uuid(&b, id, true);
	ck_assert_str_eq(text(&b), "\"00112233-4455-6677-8899-aabbccddeeff\"");
	es_audit__buf_time(&b, INT64_C(1795255380000000001), false);
	ck_assert_str_eq(text(&b), "2026-11-21T10:03:00.000000001Z");
	es_audit__buf_hex(&b, (const uint8_t *)"\x01\xab", 2);
	ck_assert_str_eq(text(&b), "01ab");
	es_audit__buf_free(&b);
}
END_TEST

START_TEST(test_growth)
{
	es_audit__buf b = { 0 };
	for (int i = 0; i < 100000; i++)
		es_audit__buf_putc(&b, (char)('a' + i % 26));
	ck_assert(!b.failed);
	ck_assert_uint_eq(b.len, 100000);
	ck_assert_int_eq(b.data[99999], 'a' + 99999 % 26);
	es_audit__buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

TCase *es_tc_buf(void)
{
	TCase *tc = tcase_create("buf");
	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_json_strings);
	tcase_add_test(tc, test_json_special_at_every_place);
	tcase_add_test(tc, test_json_not_utf8);
	tcase_add_test(tc, test_csv_cells);
	tcase_add_test(tc, test_doubles);
	tcase_add_test(tc, test_floats);
	tcase_add_test(tc, test_base64_uuid_time);
	tcase_add_test(tc, test_growth);
	return tc;
}
