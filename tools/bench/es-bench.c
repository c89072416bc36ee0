/*
 * es-bench.c - evstore measured side by side with raw LMDB (the floor) and
 * SQLite (the usual embedded alternative), same data, same process, same
 * run. Each workload runs --repeat times per backend, backends taking
 * turns so that a noisy moment hits all three; the table and the JSON
 * report medians. Stores live in fresh directories under --dir (default
 * $TMPDIR) and are removed afterwards.
 * Exit status: 0 success, 1 a workload failed, 2 usage.
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bench.h"
#include "es_rmtree.h"

/* W1i and W2i are W1 and W2 with a balances read model kept in the same
 * transactions (evstore: inline). */
enum { W1, W1B, W1I, W2, W2I, W3, W4, W5, W6, W7, STORAGE, N_WORK };
static const char *const work_name[N_WORK] = { "W1", "W1b", "W1i", "W2", "W2i", "W3", "W4", "W5", "W6",
	                                           "W7", "storage" };
static const char *const headline[N_WORK] = {
	"events_per_s", "events_per_s", "events_per_s", "commands_per_s", "commands_per_s", "events_per_s",
	"p99_us_1m", "events_per_s", "events_per_s", "events_per_s", "bytes_per_event",
};

#define MAX_REPEAT 25

typedef struct opts {
	int quick;
	size_t repeat;
	const char *root, *json;
	unsigned int only;      /* bit per workload */
	const char *backends;   /* NULL: all; else a comma list (for profiling one side) */
} opts;

typedef struct bench {
	opts o;
	bench_data d;
	bench_w2 w2;
	bench_w4 w4;
	bench_w6 w6;
	const bench_backend *be[BENCH_MAX_BACKENDS];
	size_t nb;
	char root[PATH_MAX];                          /* this run's directory */
	char fixture[BENCH_MAX_BACKENDS][PATH_MAX];   /* W1 stores kept for W3/W5 */
	bench_figs runs[N_WORK][BENCH_MAX_BACKENDS][MAX_REPEAT];
	size_t nruns[N_WORK][BENCH_MAX_BACKENDS];
	bench_figs med[N_WORK][BENCH_MAX_BACKENDS];
	const char *notes[8];
	size_t n_notes;
	double sync_us[2];      /* the disk before and after the run */
	char sync_note[160];
	int json_failed;
} bench;

static const char usage_text[] =
	"usage: es-bench [--quick] [--repeat N] [--only W1,W1b,W1i,W2,W2i,W3,W4,W5,W6,W7] [--dir DIR]\n"
	"                [--json FILE]\n"
	"  --quick     everything tenfold smaller (a smoke run)\n"
	"  --repeat N  runs per workload and backend; the median is reported (default 3)\n"
	"  --only LIST run these workloads only (storage comes with W1)\n"
	"  --dir DIR   where the temporary stores go (default $TMPDIR or /tmp)\n"
	"  --backends LIST  only these of evstore,sqlite,lmdb (to profile one side)\n"
	"  --json FILE also write the figures as JSON\n";

static int selected(const bench *B, int w)
{
	return (B->o.only >> w) & 1u;
}

/* ---- the command line ---- */

static int parse_only(unsigned int *out, char *list)
{
	*out = 0;
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		int w = 0;
		while (w < STORAGE && strcasecmp(tok, work_name[w]) != 0)
			w++;
		if (w == STORAGE) {
			fprintf(stderr, "es-bench: --only: unknown workload '%s'\n", tok);
			return -1;
		}
		*out |= 1u << w;
	}
	return *out ? 0 : -1;
}

static int parse_args(opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "quick", no_argument, NULL, 'q' }, { "repeat", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' }, { "dir", required_argument, NULL, 'd' },
		{ "json", required_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ "backends", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tmp = getenv("TMPDIR");
	*o = (opts){ 0, 3, tmp && *tmp ? tmp : "/tmp", NULL, (1u << STORAGE) - 1, NULL };
	int c;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'q': o->quick = 1; break;
		case 'r':
			o->repeat = strtoul(optarg, &end, 10);
			if (*end || o->repeat < 1 || o->repeat > MAX_REPEAT)
				return fprintf(stderr, "es-bench: --repeat must be 1..%d\n", MAX_REPEAT), -1;
			break;
		case 'o': if (parse_only(&o->only, optarg)) return -1; break;
		case 'd': o->root = optarg; break;
		case 'j': o->json = optarg; break;
		case 'b': o->backends = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* ---- running workloads ---- */

static void record(bench *B, int w, size_t b, const bench_figs *f, double secs)
{
	B->runs[w][b][B->nruns[w][b]++] = *f;
	fprintf(stderr, "  %-4s %-8s", work_name[w], B->be[b]->name);
	for (size_t i = 0; i < f->n; i++)
		fprintf(stderr, " %s=%.1f", f->name[i], f->value[i]);
	fprintf(stderr, " (%.1fs)\n", secs);
}

/* The storage figure comes from W1's store; W1 itself reports speed. */
static void split_storage(bench *B, size_t b, bench_figs *f)
{
	bench_figs s = { 0 };
	bench_figs_set(&s, "bytes_per_event", bench_figs_get(f, "bytes_per_event"));
	B->runs[STORAGE][b][B->nruns[STORAGE][b]++] = s;
	f->n--; /* bytes_per_event is set last */
}

/* One import into a fresh directory; keep = 1 keeps the store as the
 * backend's fixture for W3 and W5. */
static int import_one(bench *B, int w, size_t b, int timed, int keep)
{
	char dir[PATH_MAX];
	bench_figs f = { 0 };
	int64_t t0 = bench_mono_ns();
	if (bench_mkdtemp(dir, sizeof dir, B->root, B->be[b]->name))
		return -1;
	int rc = B->be[b]->import(&f, &B->d, dir, w == W1B, w == W1I);
	if (rc == 0 && w == W1)
		split_storage(B, b, &f);
	if (rc == 0 && timed)
		record(B, w, b, &f, (double)(bench_mono_ns() - t0) / 1e9);
	if (rc == 0 && keep)
		memcpy(B->fixture[b], dir, sizeof dir);
	else
		es__remove_tree(dir);
	return rc;
}

/* W1 keeps its last run's store per backend for W3 and W5. */
static int run_import(bench *B, int w)
{
	for (size_t r = 0; r < B->o.repeat; r++)
		for (size_t b = 0; b < B->nb; b++)
			if ((w != W1I || B->be[b]->models) && import_one(B, w, b, 1, w == W1 && r + 1 == B->o.repeat))
				return -1;
	return 0;
}

/* Without W1, W3 and W5 still need its stores: built untimed. */
static int ensure_fixtures(bench *B)
{
	for (size_t b = 0; b < B->nb; b++)
		if (!B->fixture[b][0] && import_one(B, W1, b, 0, 1))
			return -1;
	return 0;
}

typedef int (*run_fn)(bench *B, size_t b, bench_figs *out);

static int do_fold(bench *B, size_t b, bench_figs *out)
{
	return B->be[b]->fold(out, &B->d, B->fixture[b]);
}

static int do_project(bench *B, size_t b, bench_figs *out)
{
	return B->be[b]->project(out, &B->d, B->fixture[b]);
}

static int do_dump(bench *B, size_t b, bench_figs *out)
{
	return B->be[b]->dump(out, &B->d, B->fixture[b]);
}

static int do_subscribe(bench *B, size_t b, bench_figs *out)
{
	char dir[PATH_MAX];
	if (bench_mkdtemp(dir, sizeof dir, B->root, B->be[b]->name))
		return -1;
	int rc = B->be[b]->subscribe(out, &B->w6, dir);
	es__remove_tree(dir);
	return rc;
}

static int commands(bench *B, size_t b, bench_figs *out, int model)
{
	char dir[PATH_MAX];
	if (bench_mkdtemp(dir, sizeof dir, B->root, B->be[b]->name))
		return -1;
	int rc = B->be[b]->commands(out, &B->d, dir, &B->w2, model);
	es__remove_tree(dir);
	return rc;
}

static int do_commands(bench *B, size_t b, bench_figs *out)
{
	return commands(B, b, out, 0);
}

static int do_commands_model(bench *B, size_t b, bench_figs *out)
{
	return commands(B, b, out, 1);
}

/* Repeats a workload, backends taking turns within each round. */
static int run_rounds(bench *B, int w, run_fn fn)
{
	for (size_t r = 0; r < B->o.repeat; r++)
		for (size_t b = 0; b < B->nb; b++) {
			bench_figs f = { 0 };
			int64_t t0 = bench_mono_ns();
			if ((w == W5 && !B->be[b]->dump) || (w == W6 && !B->be[b]->subscribe) ||
			    (w == W7 && !B->be[b]->project) || (w == W2I && !B->be[b]->models))
				continue;
			if (fn(B, b, &f))
				return -1;
			record(B, w, b, &f, (double)(bench_mono_ns() - t0) / 1e9);
		}
	return 0;
}

/* W4 builds its store once per backend and queries it --repeat times. */
static int run_timetravel(bench *B)
{
	for (size_t b = 0; b < B->nb; b++) {
		char dir[PATH_MAX];
		bench_figs *out = B->runs[W4][b];
		int64_t t0 = bench_mono_ns();
		if (bench_mkdtemp(dir, sizeof dir, B->root, B->be[b]->name))
			return -1;
		memset(out, 0, B->o.repeat * sizeof *out);
		int rc = B->be[b]->timetravel(out, &B->d, dir, &B->w4);
		es__remove_tree(dir);
		if (rc)
			return rc;
		double secs = (double)(bench_mono_ns() - t0) / 1e9; /* build and every round */
		for (size_t r = 0; r < B->o.repeat; r++)
			record(B, W4, b, &out[r], r == 0 ? secs : 0);
		B->nruns[W4][b] = B->o.repeat;
	}
	return 0;
}

static int run_all(bench *B)
{
	int has_dump = B->be[0]->dump != NULL;
	if (selected(B, W5) && !has_dump)
		B->notes[B->n_notes++] = "W5 skipped: this build has no dump API (audit/ not linked)";
	else if (selected(B, W5))
		B->notes[B->n_notes++] = "W5 is evstore's es_dump (JSONL, decoded payloads, to /dev/null) "
		                         "in a child process; the comparators have no dump";
	if (selected(B, W1I) || selected(B, W2I))
		B->notes[B->n_notes++] = "W1i, W2i: W1 and W2 with a balances read model kept in the same "
		                         "transactions (evstore: the bank's balances model inline; SQLite: "
		                         "an upsert of a balances row per event); raw LMDB has none";
	if ((selected(B, W1) && run_import(B, W1)) || (selected(B, W1B) && run_import(B, W1B)) ||
	    (selected(B, W1I) && run_import(B, W1I)))
		return -1;
	if ((selected(B, W3) || selected(B, W7) || (selected(B, W5) && has_dump)) && ensure_fixtures(B))
		return -1;
	if ((selected(B, W3) && run_rounds(B, W3, do_fold)) ||
	    (selected(B, W5) && has_dump && run_rounds(B, W5, do_dump)))
		return -1;
	if (selected(B, W7)) {
		B->notes[B->n_notes++] = "W7: a balances read model built from W1's store, from position 0 "
		                         "(evstore: es_bank_projection_rebuild; SQLite: an UPDATE per event, "
		                         "1000 events per transaction)";
		if (run_rounds(B, W7, do_project))
			return -1;
	}
	for (size_t b = 0; b < B->nb; b++)
		if (B->fixture[b][0])
			es__remove_tree(B->fixture[b]);
	if ((selected(B, W2) && run_rounds(B, W2, do_commands)) ||
	    (selected(B, W2I) && run_rounds(B, W2I, do_commands_model)))
		return -1;
	if (selected(B, W6)) {
		B->notes[B->n_notes++] = "W6: catch-up over its own store (events_per_s: no filter; "
		                         "rare_events_per_s: positions covered with a 10% type filter); "
		                         "wake_*: a durable append's return to delivery, a listener in "
		                         "another thread (xproc_*: process); SQLite's listener polls every 1 ms";
		if (run_rounds(B, W6, do_subscribe))
			return -1;
	}
	return selected(B, W4) ? run_timetravel(B) : 0;
}

/* ---- the report ---- */

static void report(bench *B)
{
	bench_report r = { .n_backends = B->nb };
	for (size_t b = 0; b < B->nb; b++)
		r.backends[b] = B->be[b]->name;
	for (int w = 0; w < N_WORK; w++) {
		if (B->nruns[w][0] == 0)
			continue;
		bench_row *row = &r.rows[r.n_rows++];
		row->workload = work_name[w];
		row->headline = headline[w];
		for (size_t b = 0; b < B->nb; b++) {
			if (B->nruns[w][b] == 0)
				continue;
			bench_figs_median(&B->med[w][b], B->runs[w][b], B->nruns[w][b]);
			row->figs[b] = &B->med[w][b];
		}
	}
	if (B->be[0] != &bench_evstore)
		B->notes[B->n_notes++] = "evstore not run: ratios compare against the first backend";
	memcpy(r.notes, B->notes, sizeof r.notes);
	r.n_notes = B->n_notes;
	printf("\nes-bench: %s mode, %zu events over %zu streams, medians of %zu\n\n",
	       B->o.quick ? "quick" : "full", B->d.n_events, B->d.n_streams, B->o.repeat);
	bench_report_print(stdout, &r);
	fflush(stdout);
	if (B->o.json && bench_report_json(B->o.json, &r, B->o.quick ? "quick" : "full", B->o.repeat))
		B->json_failed = 1;
}

static void add_backend(bench *B, const bench_backend *be)
{
	const char *list = B->o.backends;
	size_t n = strlen(be->name);
	for (const char *p = list; p && (p = strstr(p, be->name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			list = NULL;
	if (!list)
		B->be[B->nb++] = be;
}

/* Full: 1M events over 10k streams; --quick: everything tenfold smaller. */
static void scale(bench *B)
{
	size_t k = B->o.quick ? 10 : 1;
	B->w2 = (bench_w2){ 16, 2000 / k, 200 / k };
	B->w4 = (bench_w4){ 10000 / k, 1000000 / k, 2000 / k, B->o.repeat };
	B->w6 = (bench_w6){ 1000000 / k, 1000 / k };
	add_backend(B, &bench_evstore);
#ifdef ES_BENCH_HAVE_SQLITE
	add_backend(B, &bench_sqlite);
#else
	B->notes[B->n_notes++] = "SQLite comparator not built (libsqlite3 not found)";
#endif
	add_backend(B, &bench_lmdb);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--w5-child") == 0)
		return bench_dump_child(argv[2]) ? 1 : 0;
	bench *B = calloc(1, sizeof *B);
	if (!B || parse_args(&B->o, argc, argv)) {
		fputs(usage_text, stderr);
		return 2;
	}
	scale(B);
	if (B->nb == 0) {
		fputs("es-bench: --backends: none of evstore, sqlite, lmdb\n", stderr);
		return 2;
	}
	int64_t t0 = bench_mono_ns();
	size_t k = B->o.quick ? 10 : 1;
	if (bench_data_init(&B->d, 10000 / k, 100) ||
	    bench_mkdtemp(B->root, sizeof B->root, B->o.root, "run"))
		return 1;
	fprintf(stderr, "es-bench: %zu events, %zu streams, repeat %zu, stores under %s\n",
	        B->d.n_events, B->d.n_streams, B->o.repeat, B->root);
	B->sync_us[0] = bench_sync_probe_us(B->root);
	int rc = run_all(B);
	B->sync_us[1] = bench_sync_probe_us(B->root);
	snprintf(B->sync_note, sizeof B->sync_note, "disk: a 4 KiB write + fdatasync took %.0f us "
	         "(p50) before the run and %.0f us after", B->sync_us[0], B->sync_us[1]);
	B->notes[B->n_notes++] = B->sync_note;
	es__remove_tree(B->root);
	if (rc == 0)
		report(B);
	fprintf(stderr, "es-bench: %s in %.1fs\n", rc ? "failed" : "done",
	        (double)(bench_mono_ns() - t0) / 1e9);
	rc = rc || B->json_failed;
	bench_data_free(&B->d);
	free(B);
	return rc ? 1 : 0;
}
