/*
 * money.c - amounts as int64 minor units: ISO 4217 minor digits, exact
 * decimal parsing and formatting, and overflow-checked arithmetic.
 *
 * Only integers: a balance must never pass through a double, where 0.1 has
 * no exact value and large amounts lose cents.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <evstore/bank.h>

/* The decimals parameter ranges over 0..9: 10^9 still fits comfortably and
 * no currency uses more than 4. */
#define MAX_DECIMALS 9

/* Error messages quote at most this much of the text, so the reason that
 * follows it is never cut off by the message buffer. */
#define QUOTE "'%.80s'"

/* ---- Currencies -------------------------------------------------------- */

/* ISO 4217 currencies with no minor unit. */
static const char *const zero_decimals[] = {
	"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
	"RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
};

/* Currencies with three minor digits, as the contract lists them. */
static const char *const three_decimals[] = { "BHD", "JOD", "KWD", "OMR", "TND" };

static int in_list(const char *code, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(code, list[i], 3) == 0)
			return 1;
	return 0;
}

static int is_code(const char *code)
{
	for (int i = 0; i < 3; i++)
		if (code[i] < 'A' || code[i] > 'Z')
			return 0;
	return code[3] == '\0';
}

int es_bank_currency_decimals(const char *code)
{
	if (!code)
		return es_error_set(ES_EINVAL, "currency code is required");
	if (!is_code(code))
		return es_error_set(ES_EINVAL, QUOTE " is not a currency code "
		                     "(three uppercase letters, like USD)", code);
	if (in_list(code, zero_decimals, sizeof zero_decimals / sizeof zero_decimals[0]))
		return 0;
	if (in_list(code, three_decimals, sizeof three_decimals / sizeof three_decimals[0]))
		return 3;
	return 2;
}

/* ---- Parsing ----------------------------------------------------------- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Checks the shape digits [ '.' digits ] with at most `decimals` fraction
 * digits, before any arithmetic, so bad text is EINVAL even when long. */
static int check_amount_syntax(const char *text, int decimals, size_t *int_len, size_t *frac_len)
{
	const char *p = text;
	while (is_digit(*p))
		p++;
	*int_len = (size_t)(p - text);
	*frac_len = 0;
	if (*p == '.') {
		const char *f = ++p;
		while (is_digit(*p))
			p++;
		*frac_len = (size_t)(p - f);
		if (*frac_len == 0)
			return es_error_set(ES_EINVAL, QUOTE " is not an amount: no digits "
			                     "after the '.'", text);
	}
	if (*p != '\0')
		return es_error_set(ES_EINVAL, QUOTE " is not an amount: unexpected "
		                     "'%c' (only digits and one '.' are allowed)", text, *p);
	if (*int_len == 0)
		return es_error_set(ES_EINVAL, QUOTE " is not an amount: no digits "
		                     "before the '.'", text);
	if (*frac_len > (size_t)decimals)
		return es_error_set(ES_EINVAL, QUOTE " is not an amount: %zu fraction "
		                     "digits, the currency has %d", text, *frac_len, decimals);
	return 0;
}

/* *v = *v * 10 + digit, or 0 when that leaves int64. */
static int push_digit(int64_t *v, int digit)
{
	if (*v > (INT64_MAX - digit) / 10)
		return 0;
	*v = *v * 10 + digit;
	return 1;
}

int es_bank_money_parse(int64_t *out, const char *text, int decimals)
{
	if (!out || !text)
		return es_error_set(ES_EINVAL, "es_bank_money_parse: out and text are required");
	if (decimals < 0 || decimals > MAX_DECIMALS)
		return es_error_set(ES_EINVAL, "es_bank_money_parse: decimals %d is outside 0..%d",
		                     decimals, MAX_DECIMALS);
	if (*text == '\0')
		return es_error_set(ES_EINVAL, "'' is not an amount: the text is empty");
	size_t int_len, frac_len;
	int rc = check_amount_syntax(text, decimals, &int_len, &frac_len);
	if (rc)
		return rc;
	/* The minor units are the digits with the '.' removed and the fraction
	 * padded with zeros to `decimals` digits. */
	int64_t v = 0;
	int ok = 1;
	for (const char *p = text; *p && ok; p++)
		if (*p != '.')
			ok = push_digit(&v, *p - '0');
	for (size_t i = frac_len; i < (size_t)decimals && ok; i++)
		ok = push_digit(&v, 0);
	if (!ok)
		return es_error_set(ES_ERANGE, QUOTE " does not fit in int64 minor units "
		                     "with %d decimals", text, decimals);
	*out = v;
	return 0;
}

/* ---- Formatting and arithmetic ----------------------------------------- */

int es_bank_money_format(char *out, size_t size, int64_t minor, int decimals)
{
	if (!out || size < ES_BANK_MONEY_TEXT_SIZE)
		return es_error_set(ES_EINVAL, "es_bank_money_format: a buffer of at least "
		                     "%d bytes is required (got %zu)", ES_BANK_MONEY_TEXT_SIZE, size);
	if (decimals < 0 || decimals > MAX_DECIMALS)
		return es_error_set(ES_EINVAL, "es_bank_money_format: decimals %d is outside 0..%d",
		                     decimals, MAX_DECIMALS);
	/* Work on the magnitude as uint64: -INT64_MIN does not fit in int64. */
	uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	const char *sign = minor < 0 ? "-" : "";
	if (decimals == 0) {
		snprintf(out, size, "%s%" PRIu64, sign, mag);
		return 0;
	}
	uint64_t scale = 1;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	snprintf(out, size, "%s%" PRIu64 ".%0*" PRIu64, sign, mag / scale, decimals, mag % scale);
	return 0;
}

int es_bank_money_add(int64_t *out, int64_t a, int64_t b)
{
	if (!out)
		return es_error_set(ES_EINVAL, "es_bank_money_add: out is required");
	/* Checked before adding: signed overflow is undefined behaviour. */
	if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
		return es_error_set(ES_ERANGE, "%" PRId64 " + %" PRId64 " overflows int64 "
		                     "minor units", a, b);
	*out = a + b;
	return 0;
}

int es_bank_money_sub(int64_t *out, int64_t a, int64_t b)
{
	if (!out)
		return es_error_set(ES_EINVAL, "es_bank_money_sub: out is required");
	if ((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b))
		return es_error_set(ES_ERANGE, "%" PRId64 " - %" PRId64 " overflows int64 "
		                     "minor units", a, b);
	*out = a - b;
	return 0;
}
