/*
 * test_money.c - money: currency minor digits, exact decimal parsing and
 * formatting at the int64 edges, and overflow-checked add/sub.
 */
#include <string.h>

#include <evstore/bank.h>

#include "testutil.h"

/* Declared here until the bank suite has a TCase list header to include. */
TCase *es_tc_money(void);

/* Parses text with `decimals`, expecting success, and returns the value. */
static int64_t parse_ok(const char *text, int decimals)
{
	int64_t v = -1;
	ck_assert_es(es_bank_money_parse(&v, text, decimals), 0);
	return v;
}

/* Parses text, expecting code, with *out left alone and, for non-empty text,
 * the text named in the message. */
static void parse_fails(const char *text, int decimals, int code)
{
	int64_t v = 42;
	es_error_clear();
	ck_assert_es(es_bank_money_parse(&v, text, decimals), code);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(es_error_last()->code, code);
	if (text && *text)
		ck_assert_msg(strstr(es_error_last()->message, text) != NULL,
		              "message '%s' does not name '%s'", es_error_last()->message, text);
}

/* Formats minor with `decimals`, expecting success, and compares with want. */
static void format_is(int64_t minor, int decimals, const char *want)
{
	char buf[ES_BANK_MONEY_TEXT_SIZE];
	ck_assert_es(es_bank_money_format(buf, sizeof buf, minor, decimals), 0);
	ck_assert_str_eq(buf, want);
}

START_TEST(test_currency_decimals)
{
	ck_assert_int_eq(es_bank_currency_decimals("USD"), 2);
	ck_assert_int_eq(es_bank_currency_decimals("EUR"), 2);
	ck_assert_int_eq(es_bank_currency_decimals("GBP"), 2);
	ck_assert_int_eq(es_bank_currency_decimals("JPY"), 0);
	ck_assert_int_eq(es_bank_currency_decimals("KRW"), 0);
	ck_assert_int_eq(es_bank_currency_decimals("KWD"), 3);
	ck_assert_int_eq(es_bank_currency_decimals("BHD"), 3);
	ck_assert_int_eq(es_bank_currency_decimals("OMR"), 3);
	ck_assert_int_eq(es_bank_currency_decimals("JOD"), 3);
	ck_assert_int_eq(es_bank_currency_decimals("TND"), 3);
	/* Well-formed but unknown codes take the common case. */
	ck_assert_int_eq(es_bank_currency_decimals("ZZZ"), 2);
}
END_TEST

START_TEST(test_currency_invalid)
{
	static const char *const bad[] = { "usd", "Usd", "US", "USDX", "", "U$D", "US ", "U\xc3\x9c" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		es_error_clear();
		ck_assert_msg(es_bank_currency_decimals(bad[i]) == ES_EINVAL, "'%s'", bad[i]);
		ck_assert_int_eq(es_error_last()->code, ES_EINVAL);
		ck_assert_ptr_nonnull(strstr(es_error_last()->message, bad[i]));
	}
	ck_assert_es(es_bank_currency_decimals(NULL), ES_EINVAL);
}
END_TEST

START_TEST(test_parse)
{
	ck_assert_int_eq(parse_ok("0", 2), 0);
	ck_assert_int_eq(parse_ok("0.01", 2), 1);
	ck_assert_int_eq(parse_ok("12", 2), 1200);
	ck_assert_int_eq(parse_ok("12.3", 2), 1230);
	ck_assert_int_eq(parse_ok("12.34", 2), 1234);
	ck_assert_int_eq(parse_ok("0.00", 2), 0);
	ck_assert_int_eq(parse_ok("007.50", 2), 750);
	ck_assert_int_eq(parse_ok("5", 0), 5);
	ck_assert_int_eq(parse_ok("1.5", 3), 1500);
	ck_assert_int_eq(parse_ok("1.005", 3), 1005);
	ck_assert_int_eq(parse_ok("1.000000001", 9), 1000000001);
}
END_TEST

START_TEST(test_parse_range)
{
	/* The largest amount parses exactly; one minor unit more does not fit. */
	ck_assert_int_eq(parse_ok("92233720368547758.07", 2), INT64_MAX);
	parse_fails("92233720368547758.08", 2, ES_ERANGE);
	ck_assert_int_eq(parse_ok("9223372036854775807", 0), INT64_MAX);
	parse_fails("9223372036854775808", 0, ES_ERANGE);
	ck_assert_int_eq(parse_ok("9223372036.854775807", 9), INT64_MAX);
	parse_fails("9223372036.854775808", 9, ES_ERANGE);
	/* Padding the fraction with zeros can be what overflows. */
	parse_fails("92233720368547758.1", 2, ES_ERANGE);
	parse_fails("92233720368547759", 2, ES_ERANGE);
	parse_fails("99999999999999999999999999999999", 0, ES_ERANGE);
	/* Leading zeros do not count toward the range. */
	ck_assert_int_eq(parse_ok("0000000000000000000000092233720368547758.07", 2), INT64_MAX);
}
END_TEST

START_TEST(test_parse_rejects)
{
	parse_fails("", 2, ES_EINVAL);
	parse_fails("1.234", 2, ES_EINVAL);  /* more digits than the currency has */
	parse_fails("5.0", 0, ES_EINVAL);    /* no fraction at all for 0 decimals */
	parse_fails("5.", 0, ES_EINVAL);
	parse_fails("+1", 2, ES_EINVAL);
	parse_fails("-1", 2, ES_EINVAL);
	parse_fails("-0", 2, ES_EINVAL);
	parse_fails("1e3", 2, ES_EINVAL);
	parse_fails("1E3", 2, ES_EINVAL);
	parse_fails("1.5e2", 2, ES_EINVAL);
	parse_fails(" 1", 2, ES_EINVAL);
	parse_fails("1 ", 2, ES_EINVAL);
	parse_fails("1 000", 2, ES_EINVAL);
	parse_fails("1\t", 2, ES_EINVAL);
	parse_fails(".5", 2, ES_EINVAL);
	parse_fails("5.", 2, ES_EINVAL);
	parse_fails(".", 2, ES_EINVAL);
	parse_fails("1,000", 2, ES_EINVAL);
	parse_fails("1,5", 2, ES_EINVAL);
	parse_fails("1.2.3", 2, ES_EINVAL);
	parse_fails("abc", 2, ES_EINVAL);
	parse_fails("0x10", 2, ES_EINVAL);
	parse_fails("12USD", 2, ES_EINVAL);
	parse_fails("$12", 2, ES_EINVAL);
	parse_fails("inf", 2, ES_EINVAL);
	/* A syntax error is reported as such even in a number too big to fit. */
	parse_fails("99999999999999999999999x", 0, ES_EINVAL);
}
END_TEST

START_TEST(test_parse_args)
{
	int64_t v = 42;
	ck_assert_es(es_bank_money_parse(NULL, "1", 2), ES_EINVAL);
	ck_assert_es(es_bank_money_parse(&v, NULL, 2), ES_EINVAL);
	ck_assert_es(es_bank_money_parse(&v, "1", -1), ES_EINVAL);
	ck_assert_es(es_bank_money_parse(&v, "1", 10), ES_EINVAL);
	ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(test_format)
{
	format_is(0, 2, "0.00");
	format_is(1, 2, "0.01");
	format_is(1234, 2, "12.34");
	format_is(1230, 2, "12.30");
	format_is(-5, 2, "-0.05");
	format_is(-1234, 2, "-12.34");
	format_is(-100, 2, "-1.00");
	format_is(7, 0, "7");
	format_is(-7, 0, "-7");
	format_is(0, 0, "0");
	format_is(1500, 3, "1.500");
	format_is(1, 9, "0.000000001");
	format_is(INT64_MAX, 2, "92233720368547758.07");
	format_is(INT64_MIN, 2, "-92233720368547758.08");
	format_is(INT64_MIN, 0, "-9223372036854775808");
	format_is(INT64_MIN, 1, "-922337203685477580.8");
	format_is(INT64_MIN, 9, "-9223372036.854775808");
	format_is(INT64_MIN + 1, 2, "-92233720368547758.07");
}
END_TEST

START_TEST(test_format_args)
{
	char buf[ES_BANK_MONEY_TEXT_SIZE];
	ck_assert_es(es_bank_money_format(NULL, sizeof buf, 1, 2), ES_EINVAL);
	ck_assert_es(es_bank_money_format(buf, sizeof buf - 1, 1, 2), ES_EINVAL);
	ck_assert_es(es_bank_money_format(buf, sizeof buf, 1, -1), ES_EINVAL);
	ck_assert_es(es_bank_money_format(buf, sizeof buf, 1, 10), ES_EINVAL);
}
END_TEST

/* format then parse gives back the amount, for every decimals value. */
START_TEST(test_round_trip)
{
	char buf[ES_BANK_MONEY_TEXT_SIZE];
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		/* Vary the magnitude too, so small amounts get tested as often. */
		int64_t minor = (int64_t)((x >> 1) >> (x % 63));
		if (i < 2)
			minor = i == 0 ? 0 : INT64_MAX;
		int decimals = (int)(x % 10);
		ck_assert_es(es_bank_money_format(buf, sizeof buf, minor, decimals), 0);
		ck_assert_msg(parse_ok(buf, decimals) == minor, "%s (%d decimals)", buf, decimals);
	}
}
END_TEST

START_TEST(test_add)
{
	int64_t v = 0;
	ck_assert_es(es_bank_money_add(&v, 1200, 34), 0);
	ck_assert_int_eq(v, 1234);
	ck_assert_es(es_bank_money_add(&v, INT64_MAX - 1, 1), 0);
	ck_assert_int_eq(v, INT64_MAX);
	ck_assert_es(es_bank_money_add(&v, INT64_MIN + 1, -1), 0);
	ck_assert_int_eq(v, INT64_MIN);
	ck_assert_es(es_bank_money_add(&v, INT64_MAX, INT64_MIN), 0);
	ck_assert_int_eq(v, -1);
	v = 42;
	ck_assert_es(es_bank_money_add(&v, INT64_MAX, 1), ES_ERANGE);
	ck_assert_es(es_bank_money_add(&v, 1, INT64_MAX), ES_ERANGE);
	ck_assert_es(es_bank_money_add(&v, INT64_MAX, INT64_MAX), ES_ERANGE);
	ck_assert_es(es_bank_money_add(&v, INT64_MIN, -1), ES_ERANGE);
	ck_assert_es(es_bank_money_add(&v, -1, INT64_MIN), ES_ERANGE);
	ck_assert_es(es_bank_money_add(&v, INT64_MIN, INT64_MIN), ES_ERANGE);
	ck_assert_int_eq(v, 42);
	ck_assert_es(es_bank_money_add(NULL, 1, 1), ES_EINVAL);
}
END_TEST

START_TEST(test_sub)
{
	int64_t v = 0;
	ck_assert_es(es_bank_money_sub(&v, 1234, 34), 0);
	ck_assert_int_eq(v, 1200);
	ck_assert_es(es_bank_money_sub(&v, 5, 10), 0);
	ck_assert_int_eq(v, -5);
	ck_assert_es(es_bank_money_sub(&v, INT64_MIN + 1, 1), 0);
	ck_assert_int_eq(v, INT64_MIN);
	ck_assert_es(es_bank_money_sub(&v, -1, INT64_MIN), 0);
	ck_assert_int_eq(v, INT64_MAX);
	ck_assert_es(es_bank_money_sub(&v, INT64_MIN, INT64_MIN), 0);
	ck_assert_int_eq(v, 0);
	v = 42;
	ck_assert_es(es_bank_money_sub(&v, INT64_MIN, 1), ES_ERANGE);
	ck_assert_es(es_bank_money_sub(&v, INT64_MAX, -1), ES_ERANGE);
	ck_assert_es(es_bank_money_sub(&v, 0, INT64_MIN), ES_ERANGE);
	ck_assert_es(es_bank_money_sub(&v, INT64_MAX, INT64_MIN), ES_ERANGE);
	ck_assert_es(es_bank_money_sub(&v, INT64_MIN, INT64_MAX), ES_ERANGE);
	ck_assert_int_eq(v, 42);
	ck_assert_es(es_bank_money_sub(NULL, 1, 1), ES_EINVAL);
}
END_TEST

TCase *es_tc_money(void)
{
	TCase *tc = tcase_create("money");
	tcase_add_test(tc, test_currency_decimals);
	tcase_add_test(tc, test_currency_invalid);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_range);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_parse_args);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_format_args);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_add);
	tcase_add_test(tc, test_sub);
	return tc;
}
