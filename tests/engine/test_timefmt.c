/*
 * test_timefmt.c - es_time_parse / es_time_format: RFC 3339 and '@' forms,
 * offsets, fractions, calendar validation, the int64 edges, and formatting
 * checked against the C library's gmtime_r over every day in range.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "engine_tcases.h"

#define NS INT64_C(1000000000)

/* Parses text, expecting success, and returns the value. */
static int64_t parse_ok(const char *text)
{
	int64_t v = 0;
	ck_assert_es(es_time_parse(&v, text), 0);
	return v;
}

/* Parses text, expecting code, and checks that *out is left alone and that
 * the message names the text. */
static void parse_fails(const char *text, int code)
{
	int64_t v = 42;
	es_error_clear();
	ck_assert_es(es_time_parse(&v, text), code);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(es_error_last()->code, code);
	if (text && *text)
		ck_assert_msg(strstr(es_error_last()->message, text) != NULL,
		              "message '%s' does not name '%s'", es_error_last()->message, text);
}

/* Formats ns, expecting success, and compares with want. */
static void format_is(int64_t ns, const char *want)
{
	char buf[ES_TIME_TEXT_SIZE];
	ck_assert_es(es_time_format(buf, sizeof buf, ns), 0);
	ck_assert_str_eq(buf, want);
}

START_TEST(test_parse_utc)
{
	ck_assert_int_eq(parse_ok("2026-11-21T10:03:00Z"), INT64_C(1795255380) * NS);
	ck_assert_int_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(parse_ok("2000-02-29T12:00:00Z"), INT64_C(951825600) * NS);
	/* Lowercase 't'/'z' and a space for 'T' are the same time. */
	ck_assert_int_eq(parse_ok("2026-11-21t10:03:00z"), INT64_C(1795255380) * NS);
	ck_assert_int_eq(parse_ok("2026-11-21 10:03:00Z"), INT64_C(1795255380) * NS);
}
END_TEST

START_TEST(test_parse_offsets)
{
	ck_assert_int_eq(parse_ok("2026-11-21T10:03:00+02:00"), INT64_C(1795248180) * NS);
	ck_assert_int_eq(parse_ok("2026-11-21T10:03:00-05:30"), INT64_C(1795275180) * NS);
	ck_assert_int_eq(parse_ok("2026-11-21T10:03:00+00:00"), parse_ok("2026-11-21T10:03:00Z"));
	ck_assert_int_eq(parse_ok("2026-11-21T10:03:00-00:00"), parse_ok("2026-11-21T10:03:00Z"));
	/* The offset can move the instant across a day, month and year edge. */
	ck_assert_int_eq(parse_ok("2027-01-01T01:00:00+02:00"), parse_ok("2026-12-31T23:00:00Z"));
	ck_assert_int_eq(parse_ok("1970-01-01T00:00:00+23:59"), -(23 * 3600 + 59 * 60) * NS);
}
END_TEST

START_TEST(test_parse_fractions)
{
	static const struct { const char *text; int64_t ns; } cases[] = {
		{ "1970-01-01T00:00:00.1Z", 100000000 },
		{ "1970-01-01T00:00:00.12Z", 120000000 },
		{ "1970-01-01T00:00:00.123Z", 123000000 },
		{ "1970-01-01T00:00:00.1234Z", 123400000 },
		{ "1970-01-01T00:00:00.12345Z", 123450000 },
		{ "1970-01-01T00:00:00.123456Z", 123456000 },
		{ "1970-01-01T00:00:00.1234567Z", 123456700 },
		{ "1970-01-01T00:00:00.12345678Z", 123456780 },
		{ "1970-01-01T00:00:00.123456789Z", 123456789 },
		{ "1970-01-01T00:00:00.000000001Z", 1 },
		{ "1970-01-01T00:00:00.0Z", 0 },
		{ "2026-11-21T10:03:00.123456789+02:00", INT64_C(1795248180) * NS + 123456789 },
		/* Before 1970 the fraction still counts forward from the second. */
		{ "1969-12-31T23:59:59.999999999Z", -1 },
		{ "1969-12-31T23:59:59.5Z", -500000000 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(parse_ok(cases[i].text) == cases[i].ns, "%s", cases[i].text);
}
END_TEST

START_TEST(test_parse_before_1970)
{
	ck_assert_int_eq(parse_ok("1900-01-01T00:00:00Z"), INT64_C(-2208988800) * NS);
	ck_assert_int_eq(parse_ok("1969-07-20T20:17:40Z"), INT64_C(-14182940) * NS);
	ck_assert_int_eq(parse_ok("1969-12-31T23:59:59Z"), -NS);
}
END_TEST

START_TEST(test_parse_at)
{
	ck_assert_int_eq(parse_ok("@1763719380000000000"), INT64_C(1763719380000000000));
	ck_assert_int_eq(parse_ok("@0"), 0);
	ck_assert_int_eq(parse_ok("@-0"), 0);
	ck_assert_int_eq(parse_ok("@-1"), -1);
	ck_assert_int_eq(parse_ok("@-2208988800000000000"), INT64_C(-2208988800) * NS);
	ck_assert_int_eq(parse_ok("@9223372036854775807"), INT64_MAX);
	ck_assert_int_eq(parse_ok("@-9223372036854775808"), INT64_MIN);
	ck_assert_int_eq(parse_ok("@007"), 7);
	parse_fails("@", ES_EINVAL);
	parse_fails("@-", ES_EINVAL);
	parse_fails("@+5", ES_EINVAL);
	parse_fails("@ 5", ES_EINVAL);
	parse_fails("@5 ", ES_EINVAL);
	parse_fails("@1.5", ES_EINVAL);
	parse_fails("@1e9", ES_EINVAL);
	parse_fails("@0x10", ES_EINVAL);
}
END_TEST

START_TEST(test_parse_range)
{
	/* The exact int64 edges, and one nanosecond beyond each. */
	ck_assert_int_eq(parse_ok("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
	ck_assert_int_eq(parse_ok("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
	parse_fails("2262-04-11T23:47:16.854775808Z", ES_ERANGE);
	parse_fails("1677-09-21T00:12:43.145224191Z", ES_ERANGE);
	/* An offset can push an in-range local time out of range. */
	ck_assert_int_eq(parse_ok("2262-04-12T01:47:16.854775807+02:00"), INT64_MAX);
	parse_fails("2262-04-11T23:47:16.854775807-00:01", ES_ERANGE);
	parse_fails("9999-12-31T23:59:59Z", ES_ERANGE);
	parse_fails("0000-01-01T00:00:00Z", ES_ERANGE);
	parse_fails("@9223372036854775808", ES_ERANGE);
	parse_fails("@-9223372036854775809", ES_ERANGE);
	parse_fails("@99999999999999999999999", ES_ERANGE);
}
END_TEST

START_TEST(test_parse_calendar)
{
	ck_assert_int_eq(parse_ok("2024-02-29T00:00:00Z"), parse_ok("2024-02-28T00:00:00Z") + 86400 * NS);
	ck_assert_int_eq(parse_ok("2000-02-29T00:00:00Z"), parse_ok("2000-03-01T00:00:00Z") - 86400 * NS);
	ck_assert_int_eq(parse_ok("2026-12-31T23:59:59Z"), parse_ok("2027-01-01T00:00:00Z") - NS);
	parse_fails("2026-13-01T00:00:00Z", ES_EINVAL);
	parse_fails("2026-00-01T00:00:00Z", ES_EINVAL);
	parse_fails("2026-01-00T00:00:00Z", ES_EINVAL);
	parse_fails("2026-01-32T00:00:00Z", ES_EINVAL);
	parse_fails("2026-04-31T00:00:00Z", ES_EINVAL);
	parse_fails("2024-02-30T00:00:00Z", ES_EINVAL);
	parse_fails("2023-02-29T00:00:00Z", ES_EINVAL);
	parse_fails("1900-02-29T00:00:00Z", ES_EINVAL); /* divisible by 100, not 400 */
	parse_fails("2026-11-21T24:00:00Z", ES_EINVAL);
	parse_fails("2026-11-21T10:60:00Z", ES_EINVAL);
	parse_fails("2026-12-31T23:59:60Z", ES_EINVAL); /* leap second */
	parse_fails("2026-11-21T10:03:61Z", ES_EINVAL);
	parse_fails("2026-11-21T10:03:00+24:00", ES_EINVAL);
	parse_fails("2026-11-21T10:03:00+02:60", ES_EINVAL);
}
END_TEST

START_TEST(test_parse_syntax)
{
	parse_fails("", ES_EINVAL);
	parse_fails("2026-11-21T10:03:00", ES_EINVAL);             /* no offset */
	parse_fails("2026-11-21T10:03:00.123", ES_EINVAL);         /* no offset */
	parse_fails("2026-11-21T10:03:00.1234567890Z", ES_EINVAL); /* 10 digits */
	parse_fails("2026-11-21T10:03:00.Z", ES_EINVAL);
	parse_fails("2026-11-21T10:03:00,5Z", ES_EINVAL);
	parse_fails("2026-11-21T10:03:00Z ", ES_EINVAL);
	parse_fails("2026-11-21T10:03:00Zjunk", ES_EINVAL);
	parse_fails("2026-11-21T10:03:00+02:00:00", ES_EINVAL);
	parse_fails("2026-11-21T10:03:00+0200", ES_EINVAL);
	parse_fails("2026-11-21T10:03:00+2:00", ES_EINVAL);
	parse_fails("2026-11-21T10:03Z", ES_EINVAL);
	parse_fails("2026-11-21", ES_EINVAL);
	parse_fails("2026-11-21X10:03:00Z", ES_EINVAL);
	parse_fails("26-11-21T10:03:00Z", ES_EINVAL);
	parse_fails("+2026-11-21T10:03:00Z", ES_EINVAL);
	parse_fails("2026-1-21T10:03:00Z", ES_EINVAL);
	parse_fails(" 2026-11-21T10:03:00Z", ES_EINVAL);
	parse_fails("yesterday", ES_EINVAL);
	parse_fails("1763719380", ES_EINVAL);
	parse_fails("\xff\xfe", ES_EINVAL);
}
END_TEST

START_TEST(test_parse_args)
{
	int64_t v = 0;
	ck_assert_es(es_time_parse(NULL, "@0"), ES_EINVAL);
	ck_assert_es(es_time_parse(&v, NULL), ES_EINVAL);
}
END_TEST

START_TEST(test_parse_message)
{
	int64_t v;
	ck_assert_es(es_time_parse(&v, "2026-13-01T00:00:00Z"), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "month 13"));
	ck_assert_es(es_time_parse(&v, "2023-02-29T00:00:00Z"), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "day 29"));
	ck_assert_es(es_time_parse(&v, "2026-11-21T10:03:00"), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "offset"));
	/* A very long text is cut in the message, but the reason survives. */
	char long_text[1000];
	memset(long_text, '9', sizeof long_text - 1);
	long_text[sizeof long_text - 1] = '\0';
	ck_assert_es(es_time_parse(&v, long_text), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "expected YYYY-MM-DD"));
}
END_TEST

START_TEST(test_format)
{
	format_is(0, "1970-01-01T00:00:00.000000000Z");
	format_is(1, "1970-01-01T00:00:00.000000001Z");
	format_is(-1, "1969-12-31T23:59:59.999999999Z");
	format_is(-NS, "1969-12-31T23:59:59.000000000Z");
	format_is(INT64_C(-2208988800) * NS, "1900-01-01T00:00:00.000000000Z");
	format_is(INT64_C(-14182940) * NS + 5, "1969-07-20T20:17:40.000000005Z");
	format_is(INT64_C(1795255380) * NS + 123456789, "2026-11-21T10:03:00.123456789Z");
	format_is(INT64_C(951825600) * NS, "2000-02-29T12:00:00.000000000Z");
	format_is(INT64_MAX, "2262-04-11T23:47:16.854775807Z");
	format_is(INT64_MIN, "1677-09-21T00:12:43.145224192Z");
}
END_TEST

START_TEST(test_format_args)
{
	char buf[ES_TIME_TEXT_SIZE];
	ck_assert_es(es_time_format(NULL, sizeof buf, 0), ES_EINVAL);
	ck_assert_es(es_time_format(buf, sizeof buf - 1, 0), ES_EINVAL);
	ck_assert_es(es_time_format(buf, 0, 0), ES_EINVAL);
}
END_TEST

/* format -> parse gives back the same ns, across the whole int64 range. */
START_TEST(test_round_trip)
{
	char buf[ES_TIME_TEXT_SIZE];
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17; /* xorshift: any int64 */
		int64_t ns = (int64_t)x;
		if (i < 4)
			ns = (int64_t[]){ INT64_MIN, INT64_MAX, 0, -1 }[i];
		ck_assert_es(es_time_format(buf, sizeof buf, ns), 0);
		ck_assert_msg(parse_ok(buf) == ns, "%s", buf);
	}
}
END_TEST

/* The calendar arithmetic agrees with the C library on every day that int64
 * nanoseconds can reach, at a time of day that varies with the day. */
START_TEST(test_against_gmtime)
{
	char buf[ES_TIME_TEXT_SIZE], want[96]; /* room for any struct tm */
	for (int64_t day = -106751; day <= 106750; day++) {
		int64_t sec = day * 86400 + (day * 7919) % 86400 * (day < 0 ? -1 : 1);
		time_t t = (time_t)sec;
		struct tm tm;
		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.000000000Z",
		         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		ck_assert_es(es_time_format(buf, sizeof buf, sec * NS), 0);
		ck_assert_str_eq(buf, want);
		ck_assert_int_eq(parse_ok(want), sec * NS);
	}
}
END_TEST

TCase *es_tc_timefmt(void)
{
	TCase *tc = tcase_create("timefmt");
	/* the gmtime cross-check walks every day in range: slow under ASan */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_parse_utc);
	tcase_add_test(tc, test_parse_offsets);
	tcase_add_test(tc, test_parse_fractions);
	tcase_add_test(tc, test_parse_before_1970);
	tcase_add_test(tc, test_parse_at);
	tcase_add_test(tc, test_parse_range);
	tcase_add_test(tc, test_parse_calendar);
	tcase_add_test(tc, test_parse_syntax);
	tcase_add_test(tc, test_parse_args);
	tcase_add_test(tc, test_parse_message);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_format_args);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_against_gmtime);
	return tc;
}
