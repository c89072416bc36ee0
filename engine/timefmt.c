/*
 * timefmt.c - time text: RFC 3339 and "@<ns>" parsing, RFC 3339 UTC
 * formatting, for the int64 nanosecond timestamps the engine stores.
 *
 * Pure integer arithmetic (the days-from-civil algorithm, proleptic
 * Gregorian calendar): no timegm, no TZ, no locale, no floating point, so the
 * result is the same on every machine and every nanosecond is exact.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"

#define NS_PER_S INT64_C(1000000000)
#define S_PER_DAY INT64_C(86400)

/* int64 ns spans [INT64_MIN, INT64_MAX]; split into floor seconds and the
 * nanoseconds left over so the bounds can be checked before multiplying. */
#define MIN_SEC INT64_C(-9223372037)
#define MIN_SEC_NS INT64_C(145224192)
#define MAX_SEC INT64_C(9223372036)
#define MAX_SEC_NS INT64_C(854775807)

/* Error messages quote at most this much of the text, so the reason that
 * follows it is never cut off by the message buffer. */
#define QUOTE "'%.80s'"

/* ---- Calendar ---------------------------------------------------------- */

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a valid civil date (H. Hinnant's algorithm: eras
 * of 400 years, each 146097 days, with March as the first month so the leap
 * day falls at the end of the year). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                                /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;        /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* ---- Parsing ----------------------------------------------------------- */

/* Reads exactly n digits at *p into *v, advancing *p; 0 if they are not all
 * digits (which also stops at the NUL). */
static int take_digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return 0;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return 1;
}

/* Joins whole seconds and a nanosecond part in [0, 1e9) into int64 ns. */
static int join_ns(int64_t *out, int64_t sec, int64_t frac, const char *text)
{
	if (sec > MAX_SEC || (sec == MAX_SEC && frac > MAX_SEC_NS) ||
	    sec < MIN_SEC || (sec == MIN_SEC && frac < MIN_SEC_NS))
		return es__error_set(ES_ERANGE, QUOTE " is outside the int64 nanosecond "
		                     "range (1677-09-21 to 2262-04-11)", text);
	/* For negative seconds borrow one second first: MIN_SEC * 1e9 alone
	 * would overflow although the sum fits. */
	*out = sec < 0 ? (sec + 1) * NS_PER_S + (frac - NS_PER_S) : sec * NS_PER_S + frac;
	return 0;
}

/* "@" followed by an optionally negative decimal integer of nanoseconds. */
static int parse_at(int64_t *out, const char *text)
{
	const char *p = text + 1;
	int neg = *p == '-';
	p += neg;
	if (*p == '\0')
		return es__error_set(ES_EINVAL, QUOTE " is not a time: no digits after '@'", text);
	/* Accumulate negatively so INT64_MIN itself fits. */
	int64_t v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return es__error_set(ES_EINVAL, QUOTE " is not a time: '@' must be "
			                     "followed by a decimal integer of nanoseconds", text);
		int digit = *p - '0';
		if (v < (INT64_MIN + digit) / 10)
			return es__error_set(ES_ERANGE, QUOTE " is outside the int64 "
			                     "nanosecond range", text);
		v = v * 10 - digit;
	}
	if (!neg && v == INT64_MIN)
		return es__error_set(ES_ERANGE, QUOTE " is outside the int64 nanosecond range", text);
	*out = neg ? v : -v;
	return 0;
}

/* The fields of an RFC 3339 date-time, before range checks. */
typedef struct rfc_fields {
	int year, month, day, hour, min, sec;
	int64_t frac;    /* nanoseconds */
	int offset_min;  /* local time minus UTC, in minutes */
} rfc_fields;

/* "YYYY-MM-DD" then 'T', 't' or ' ' then "hh:mm:ss". */
static int scan_date_time(const char **p, rfc_fields *f, const char *text)
{
	const char *s = *p;
	if (!take_digits(&s, 4, &f->year) || *s++ != '-' ||
	    !take_digits(&s, 2, &f->month) || *s++ != '-' ||
	    !take_digits(&s, 2, &f->day))
		return es__error_set(ES_EINVAL, QUOTE " is not a time: expected "
		                     "YYYY-MM-DD at the start (or '@' and nanoseconds)", text);
	if (*s != 'T' && *s != 't' && *s != ' ')
		return es__error_set(ES_EINVAL, QUOTE " is not a time: expected 'T' "
		                     "between the date and the time of day", text);
	s++;
	if (!take_digits(&s, 2, &f->hour) || *s++ != ':' ||
	    !take_digits(&s, 2, &f->min) || *s++ != ':' ||
	    !take_digits(&s, 2, &f->sec))
		return es__error_set(ES_EINVAL, QUOTE " is not a time: expected "
		                     "hh:mm:ss after the date", text);
	*p = s;
	return 0;
}

/* Optional '.' and 1 to 9 digits, scaled to nanoseconds. */
static int scan_fraction(const char **p, rfc_fields *f, const char *text)
{
	const char *s = *p;
	f->frac = 0;
	if (*s != '.')
		return 0;
	s++;
	int n = 0;
	for (; *s >= '0' && *s <= '9'; s++, n++) {
		if (n == 9)
			return es__error_set(ES_EINVAL, QUOTE " is not a time: more than "
			                     "9 fraction digits (nanoseconds are the limit)", text);
		f->frac = f->frac * 10 + (*s - '0');
	}
	if (n == 0)
		return es__error_set(ES_EINVAL, QUOTE " is not a time: no digits "
		                     "after the '.'", text);
	for (; n < 9; n++)
		f->frac *= 10;
	*p = s;
	return 0;
}

/* 'Z', 'z' or "+hh:mm" / "-hh:mm"; RFC 3339 requires one. */
static int scan_offset(const char **p, rfc_fields *f, const char *text)
{
	const char *s = *p;
	f->offset_min = 0;
	if (*s == 'Z' || *s == 'z') {
		*p = s + 1;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return es__error_set(ES_EINVAL, QUOTE " is not a time: a UTC offset "
		                     "('Z' or +hh:mm / -hh:mm) is required", text);
	int sign = *s++ == '-' ? -1 : 1;
	int oh, om;
	if (!take_digits(&s, 2, &oh) || *s++ != ':' || !take_digits(&s, 2, &om))
		return es__error_set(ES_EINVAL, QUOTE " is not a time: the UTC offset "
		                     "must be +hh:mm or -hh:mm", text);
	if (oh > 23 || om > 59)
		return es__error_set(ES_EINVAL, QUOTE " is not a time: UTC offset "
		                     "%02d:%02d is out of range (at most 23:59)", text, oh, om);
	f->offset_min = sign * (oh * 60 + om);
	*p = s;
	return 0;
}

/* Field ranges, named one by one so the message says which is wrong. */
static int check_fields(const rfc_fields *f, const char *text)
{
	if (f->month < 1 || f->month > 12)
		return es__error_set(ES_EINVAL, QUOTE " is not a time: month %02d "
		                     "is out of range (01..12)", text, f->month);
	int dim = days_in_month(f->year, f->month);
	if (f->day < 1 || f->day > dim)
		return es__error_set(ES_EINVAL, QUOTE " is not a time: day %02d is out "
		                     "of range (%04d-%02d has %d days)", text, f->day,
		                     f->year, f->month, dim);
	if (f->hour > 23)
		return es__error_set(ES_EINVAL, QUOTE " is not a time: hour %02d is "
		                     "out of range (00..23)", text, f->hour);
	if (f->min > 59)
		return es__error_set(ES_EINVAL, QUOTE " is not a time: minute %02d is "
		                     "out of range (00..59)", text, f->min);
	if (f->sec == 60)
		return es__error_set(ES_EINVAL, QUOTE " is not a time: leap second "
		                     ":60 is not supported (timestamps have no leap seconds)", text);
	if (f->sec > 59)
		return es__error_set(ES_EINVAL, QUOTE " is not a time: second %02d is "
		                     "out of range (00..59)", text, f->sec);
	return 0;
}

static int parse_rfc3339(int64_t *out, const char *text)
{
	rfc_fields f = { 0 };
	const char *p = text;
	int rc;
	if ((rc = scan_date_time(&p, &f, text)) != 0 ||
	    (rc = scan_fraction(&p, &f, text)) != 0 ||
	    (rc = scan_offset(&p, &f, text)) != 0)
		return rc;
	if (*p != '\0')
		return es__error_set(ES_EINVAL, QUOTE " is not a time: unexpected text "
		                     "after the UTC offset", text);
	if ((rc = check_fields(&f, text)) != 0)
		return rc;
	/* Years are 4 digits, so this stays within +-3.2e11: no overflow. */
	int64_t sec = days_from_civil(f.year, f.month, f.day) * S_PER_DAY +
	              f.hour * 3600 + f.min * 60 + f.sec - (int64_t)f.offset_min * 60;
	return join_ns(out, sec, f.frac, text);
}

int es_time_parse(int64_t *out, const char *text)
{
	if (!out || !text)
		return es__error_set(ES_EINVAL, "es_time_parse: out and text are required");
	if (*text == '\0')
		return es__error_set(ES_EINVAL, "'' is not a time: the text is empty");
	if (*text == '@')
		return parse_at(out, text);
	return parse_rfc3339(out, text);
}

/* ---- Formatting -------------------------------------------------------- */

int es_time_format(char *out, size_t size, int64_t ns)
{
	if (!out || size < ES_TIME_TEXT_SIZE)
		return es__error_set(ES_EINVAL, "es_time_format: a buffer of at least "
		                     "%d bytes is required (got %zu)", ES_TIME_TEXT_SIZE, size);
	/* Floor division, so times before 1970 get a positive fraction. */
	int64_t sec = ns / NS_PER_S, frac = ns % NS_PER_S;
	if (frac < 0) {
		frac += NS_PER_S;
		sec--;
	}
	int64_t days = sec / S_PER_DAY, sod = sec % S_PER_DAY;
	if (sod < 0) {
		sod += S_PER_DAY;
		days--;
	}
	int64_t y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	/* int64 ns only reach years 1677..2262, so %04 is always 4 digits. */
	snprintf(out, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%09lldZ", (long long)y, m, d,
	         (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (long long)frac);
	return 0;
}
