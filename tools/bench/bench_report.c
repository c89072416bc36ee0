/*
 * bench_report.c - es-bench's figures and output: named figures and their
 * medians over repeats, the table on stdout and the same figures as JSON
 * (--json). Every ratio is oriented so that above 1 means evstore is
 * better: evstore / comparator for rates, comparator / evstore for
 * latencies and bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---- figures ---- */

void bench_figs_set(bench_figs *f, const char *name, double value)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0) {
			f->value[i] = value;
			return;
		}
	if (f->n < BENCH_MAX_FIGS) {
		f->name[f->n] = name;
		f->value[f->n++] = value;
	}
}

double bench_figs_get(const bench_figs *f, const char *name)
{
	for (size_t i = 0; f && i < f->n; i++)
		if (strcmp(f->name[i], name) == 0)
			return f->value[i];
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void bench_figs_median(bench_figs *out, const bench_figs *runs, size_t n)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; n && i < runs[0].n; i++) {
		double v[64];
		size_t k = 0;
		for (size_t r = 0; r < n && k < 64; r++) {
			double x = bench_figs_get(&runs[r], runs[0].name[i]);
			if (x >= 0)
				v[k++] = x;
		}
		qsort(v, k, sizeof *v, cmp_double);
		bench_figs_set(out, runs[0].name[i], k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2);
	}
}

/* ---- the table ---- */

/* Latencies (…_us…) and sizes (bytes_…, …_kib) are better when lower. */
static int lower_is_better(const char *figure)
{
	return strstr(figure, "_us") || strncmp(figure, "bytes_", 6) == 0 || strstr(figure, "_kib");
}

static double ratio_of(const bench_row *row, const char *figure, size_t backend)
{
	double ev = bench_figs_get(row->figs[0], figure);
	double other = bench_figs_get(row->figs[backend], figure);
	if (ev <= 0 || other <= 0)
		return 0;
	return lower_is_better(figure) ? other / ev : ev / other;
}

double bench_ratio(const bench_row *row, size_t backend)
{
	return ratio_of(row, row->headline, backend);
}

static void print_value(FILE *out, double v)
{
	if (v < 0)
		fprintf(out, " %12s", "-");
	else if (v >= 1000)
		fprintf(out, " %12.0f", v);
	else
		fprintf(out, " %12.2f", v);
}

static void print_header(FILE *out, const bench_report *r)
{
	fprintf(out, "%-8s %-16s", "workload", "figure");
	for (size_t b = 0; b < r->n_backends; b++)
		fprintf(out, " %12s", r->backends[b]);
	for (size_t b = 1; b < r->n_backends; b++)
		fprintf(out, "   vs_%-6s", r->backends[b]);
	fputc('\n', out);
}

/* One line per figure; '*' marks the figure the JSON ratios compare. */
static void print_row(FILE *out, const bench_report *r, const bench_row *row)
{
	const bench_figs *names = row->figs[0];
	for (size_t i = 0; names && i < names->n; i++) {
		const char *fig = names->name[i];
		int head = strcmp(fig, row->headline) == 0;
		fprintf(out, "%-8s %c%-15s", i ? "" : row->workload, head ? '*' : ' ', fig);
		for (size_t b = 0; b < r->n_backends; b++)
			print_value(out, bench_figs_get(row->figs[b], fig));
		for (size_t b = 1; b < r->n_backends; b++) {
			double x = ratio_of(row, fig, b);
			if (x > 0)
				fprintf(out, "   %8.2fx", x);
			else
				fprintf(out, "   %9s", "-");
		}
		fputc('\n', out);
	}
}

void bench_report_print(FILE *out, const bench_report *r)
{
	print_header(out, r);
	for (size_t i = 0; i < r->n_rows; i++)
		print_row(out, r, &r->rows[i]);
	fputs("ratios: above 1 means evstore is better (rates: evstore/other; "
	      "latencies, bytes: other/evstore). '*' = the ratio in the JSON.\n", out);
	for (size_t i = 0; i < r->n_notes; i++)
		fprintf(out, "note: %s\n", r->notes[i]);
}

/* ---- JSON ---- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_figs(FILE *f, const bench_figs *figs)
{
	fputc('{', f);
	for (size_t i = 0; i < figs->n; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_string(f, figs->name[i]);
		fprintf(f, ": %.3f", figs->value[i]);
	}
	fputc('}', f);
}

static void json_row(FILE *f, const bench_report *r, const bench_row *row)
{
	fprintf(f, "    ");
	json_string(f, row->workload);
	fprintf(f, ": {\"ratio_of\": ");
	json_string(f, row->headline);
	for (size_t b = 0; b < r->n_backends; b++) {
		if (!row->figs[b])
			continue;
		fprintf(f, ", \"%s\": ", r->backends[b]);
		json_figs(f, row->figs[b]);
	}
	for (size_t b = 1; b < r->n_backends; b++) {
		double x = bench_ratio(row, b);
		fprintf(f, ", \"vs_%s\": ", r->backends[b]);
		if (x > 0)
			fprintf(f, "%.3f", x);
		else
			fputs("null", f);
	}
	fputc('}', f);
}

int bench_report_json(const char *path, const bench_report *r, const char *mode, size_t repeat)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return bench_fail("report", "cannot write %s", path);
	fprintf(f, "{\n  \"mode\": \"%s\",\n  \"repeat\": %zu,\n  \"workloads\": {\n", mode, repeat);
	for (size_t i = 0; i < r->n_rows; i++) {
		json_row(f, r, &r->rows[i]);
		fputs(i + 1 < r->n_rows ? ",\n" : "\n", f);
	}
	fputs("  },\n  \"notes\": [", f);
	for (size_t i = 0; i < r->n_notes; i++) {
		fputs(i ? ", " : "", f);
		json_string(f, r->notes[i]);
	}
	fputs("]\n}\n", f);
	if (fclose(f) != 0)
		return bench_fail("report", "writing %s failed", path);
	return 0;
}
