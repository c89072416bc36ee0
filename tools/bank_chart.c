/*
 * bank_chart.c - es-bank chart: the balance after every event of an
 * account in a window (es_bank_history: the same fold as a time-travel
 * load, one pass), drawn as a step line, since a balance holds until the
 * next event changes it. The SVG is written beside its name and renamed
 * into place, so a failure never leaves half a chart.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <evstore/bank.h>

#include "bank_chart.h"
#include "es_array.h"
#include "cli.h"

#define W 900.0
#define H 420.0
#define LEFT 110.0
#define RIGHT 50.0 /* room for the last date */
#define TOP 50.0
#define BOTTOM 60.0
#define TICKS 5

typedef struct point {
	int64_t t, balance;
} point;

typedef struct series {
	point *p;
	size_t n, cap;
	char currency[4];
	int decimals;
	int64_t lo, hi; /* balance range */
} series;

static int add_point(const es_event *ev, const es_bank_account *before, const es_bank_account *after,
                     void *user_data)
{
	series *s = user_data;
	(void)before;
	int rc = es__array_grow((void **)&s->p, &s->cap, s->n, sizeof *s->p, "chart");
	if (rc)
		return rc;
	s->p[s->n++] = (point){ ev->recorded_at, after->balance };
	memcpy(s->currency, after->currency, sizeof s->currency);
	s->decimals = after->decimals;
	if (s->n == 1 || after->balance < s->lo)
		s->lo = after->balance;
	if (s->n == 1 || after->balance > s->hi)
		s->hi = after->balance;
	return 0;
}

static double x_of(const series *s, int64_t t)
{
	int64_t t0 = s->p[0].t, t1 = s->p[s->n - 1].t;
	return LEFT + (t1 > t0 ? (double)(t - t0) / (double)(t1 - t0) : 0.5) * (W - LEFT - RIGHT);
}

static double y_of(const series *s, int64_t balance)
{
	int64_t lo = s->lo < 0 ? s->lo : 0, hi = s->hi > lo ? s->hi : lo + 1;
	return TOP + (1.0 - (double)(balance - lo) / (double)(hi - lo)) * (H - TOP - BOTTOM);
}

static void axes(FILE *f, const series *s, const char *account)
{
	char text[ES_TIME_TEXT_SIZE], amount[ES_BANK_MONEY_TEXT_SIZE];
	int64_t lo = s->lo < 0 ? s->lo : 0, hi = s->hi > lo ? s->hi : lo + 1;
	fprintf(f, "<text x=\"%.0f\" y=\"28\" font-size=\"18\">Balance of ", LEFT);
	for (const char *c = account; *c; c++) /* ids are [A-Za-z0-9._-]: nothing to escape */
		fputc(*c, f);
	fprintf(f, " (%s)</text>\n", s->currency);
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", LEFT, H - BOTTOM,
	        W - RIGHT, H - BOTTOM);
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", LEFT, TOP, LEFT,
	        H - BOTTOM);
	for (int i = 0; i <= TICKS; i++) {
		int64_t t = s->p[0].t + (s->p[s->n - 1].t - s->p[0].t) / TICKS * i;
		int64_t b = lo + (hi - lo) / TICKS * i;
		es_time_format(text, sizeof text, t);
		es_bank_money_format(amount, sizeof amount, b, s->decimals);
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"12\" text-anchor=\"middle\">%.10s</text>\n",
		        x_of(s, t), H - BOTTOM + 20, text);
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">%s</text>\n", LEFT - 8,
		        y_of(s, b) + 4, amount);
		fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", LEFT, y_of(s, b),
		        W - RIGHT, y_of(s, b));
	}
}

static void line(FILE *f, const series *s)
{
	fprintf(f, "<path fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" d=\"M%.1f %.1f", x_of(s, s->p[0].t),
	        y_of(s, s->p[0].balance));
	for (size_t i = 1; i < s->n; i++) /* the balance holds until the next event */
		fprintf(f, " H%.1f V%.1f", x_of(s, s->p[i].t), y_of(s, s->p[i].balance));
	fprintf(f, "\"/>\n");
}

static int write_svg(const series *s, const char *account, const char *path)
{
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
		return es_cli_fail(es_error_set(ES_ENOMEM, "chart: out of memory"));
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		fprintf(stderr, "%s: cannot write '%s': %s\n", es_cli_prog, path, strerror(errno));
		if (fd >= 0)
			close(fd), unlink(tmp);
		free(tmp);
		return ES_EXIT_FAIL;
	}
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	        "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
	axes(f, s, account);
	line(f, s);
	fprintf(f, "</svg>\n");
	int failed = ferror(f) | (fclose(f) != 0);
	if (failed || rename(tmp, path) != 0) {
		fprintf(stderr, "%s: writing '%s': %s\n", es_cli_prog, path, strerror(errno ? errno : EIO));
		unlink(tmp);
		free(tmp);
		return ES_EXIT_FAIL;
	}
	free(tmp);
	return ES_EXIT_OK;
}

int es_bank_chart(es_db *db, const char *account, int64_t since, int64_t until, const char *path)
{
	series s = { 0 };
	int rc = es_bank_history(db, account, since, until, add_point, &s);
	if (rc == 0 && s.n == 0)
		rc = es_error_set(ES_ENOTFOUND, "account '%s' has no events in that window", account);
	int status = rc ? es_cli_fail(rc) : write_svg(&s, account, path);
	es_free(s.p);
	return status;
}
