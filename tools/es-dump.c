/*
 * es-dump.c - export a store's history for auditors (JSON Lines or CSV,
 * hash-chained), and verify such a file. A thin main over es_dump() and
 * es_dump_verify().
 * Exit status: 0 success (an intact file, for --verify), 1 a failure or a
 * broken file, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <evstore/evstore.h>
#include <evstore/audit.h>
#include <evstore/bank.h>

#include "cli.h"
#include "es_fsync.h"

static const char usage_text[] =
	"usage: es-dump --db DIR [-o FILE] [--format jsonl|csv] [filters] [--upcast]\n"
	"       es-dump --verify FILE\n"
	"filters (combined with AND):\n"
	"  --stream NAME            one stream\n"
	"  --stream-prefix PREFIX   streams whose name starts with PREFIX\n"
	"  --since TIME             recorded at or after TIME\n"
	"  --until TIME             recorded at or before TIME\n"
	"  --from-position N        global positions >= N\n"
	"  --to-position N          global positions <= N\n"
	"  --type TYPE              event type (repeat, or TYPE,TYPE,...)\n"
	"--upcast writes events at their current schema (bank upcasters).\n"
	"-o FILE writes FILE (replaced only when the dump is complete); default stdout.\n"
	"--verify recomputes FILE's hash chain (- for stdin): exit 0 only if intact.\n"
	"TIME is RFC 3339 (2026-11-21T10:03:00Z) or @NANOSECONDS.\n"
	"Exit status: 0 success, 1 failure or a broken file, 2 usage.\n";

#define MAX_TYPES 64

typedef struct args {
	const char *db, *output, *format, *verify;
	const char *since, *until, *from, *to;
	es_dump_options o;
	const char *types[MAX_TYPES];
	char *type_text[MAX_TYPES];
	int quiet;
} args;

/* --type takes one type or a comma-separated list; each is kept. */
static int add_types(args *a, const char *text)
{
	size_t before = a->o.type_count;
	char *copy = strdup(text), *save = NULL;
	if (!copy || before >= MAX_TYPES) {
		free(copy);
		return es_cli_usage_error("--type: at most %d types", MAX_TYPES);
	}
	a->type_text[before] = copy;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (a->o.type_count >= MAX_TYPES)
			return es_cli_usage_error("--type: at most %d types", MAX_TYPES);
		a->types[a->o.type_count++] = t;
	}
	if (a->o.type_count == before)
		return es_cli_usage_error("--type: '%s' names no type", text);
	a->o.types = a->types;
	return 0;
}

static int parse_args(args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' }, { "verify", required_argument, NULL, 'V' },
		{ "stream", required_argument, NULL, 's' }, { "stream-prefix", required_argument, NULL, 'p' },
		{ "since", required_argument, NULL, 'S' }, { "until", required_argument, NULL, 'U' },
		{ "from-position", required_argument, NULL, 'F' }, { "to-position", required_argument, NULL, 'T' },
		{ "type", required_argument, NULL, 't' }, { "upcast", no_argument, NULL, 'u' },
		{ "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c, rc;
	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->db = optarg; break;
		case 'o': a->output = optarg; break;
		case 'f': a->format = optarg; break;
		case 'V': a->verify = optarg; break;
		case 's': a->o.stream = optarg; break;
		case 'p': a->o.stream_prefix = optarg; break;
		case 'S': a->since = optarg; break;
		case 'U': a->until = optarg; break;
		case 'F': a->from = optarg; break;
		case 'T': a->to = optarg; break;
		case 't': if ((rc = add_types(a, optarg))) return rc; break;
		case 'u':
			if (!(a->o.upcast = es_bank_registry()))
				return es_cli_fail(es_error_set(ES_ENOMEM, "cannot build the bank's upcasters"));
			break;
		case 'q': a->quiet = 1; break;
		case 'h': fputs(usage_text, stdout); exit(ES_EXIT_OK);
		default: return ES_EXIT_USAGE; /* getopt printed the problem */
		}
	}
	if (optind < argc)
		return es_cli_usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Turns the option texts into dump options; a usage error names the option. */
static int check_args(args *a)
{
	int64_t n;
	if (a->verify)
		return a->db || a->output || a->format || a->o.stream || a->o.stream_prefix || a->since ||
		       a->until || a->from || a->to || a->o.types || a->o.upcast
		       ? es_cli_usage_error("--verify FILE takes no other option") : 0;
	if (!a->db)
		return es_cli_usage_error("--db DIR is required");
	if (a->format && strcmp(a->format, "jsonl") != 0 && strcmp(a->format, "csv") != 0)
		return es_cli_usage_error("--format: '%s' is neither jsonl nor csv", a->format);
	a->o.format = a->format && strcmp(a->format, "csv") == 0 ? ES_DUMP_CSV : ES_DUMP_JSONL;
	if (a->o.stream && a->o.stream_prefix)
		return es_cli_usage_error("--stream and --stream-prefix do not go together");
	if ((a->o.stream && !*a->o.stream) || (a->o.stream_prefix && !*a->o.stream_prefix))
		return es_cli_usage_error("--stream / --stream-prefix: the name is empty");
	if ((a->since && es_cli_time_arg(&a->o.since, "--since", a->since)) ||
	    (a->until && es_cli_time_arg(&a->o.until, "--until", a->until)))
		return ES_EXIT_USAGE;
	if (a->from && (es_cli_int_arg(&n, "--from-position", a->from) || (a->o.from_position = (uint64_t)n, 0)))
		return ES_EXIT_USAGE;
	if (a->to && (es_cli_int_arg(&n, "--to-position", a->to) || (a->o.to_position = (uint64_t)n, 0)))
		return ES_EXIT_USAGE;
	if (a->o.since > a->o.until)
		return es_cli_usage_error("--since %s is after --until %s", a->since, a->until);
	if (a->o.from_position > a->o.to_position)
		return es_cli_usage_error("--from-position %s is after --to-position %s", a->from, a->to);
	return 0;
}

/* ---- progress on a terminal ---- */

typedef struct progress {
	struct timespec start, last;
} progress;

static double seconds(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static int show_progress(const es_dump_progress *p, void *user_data)
{
	progress *pr = user_data;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	bool done = p->position >= p->last_position;
	if (!done && seconds(&pr->last, &now) < 0.25)
		return 0;
	pr->last = now;
	double elapsed = seconds(&pr->start, &now);
	uint64_t span = p->last_position >= p->first_position ? p->last_position - p->first_position + 1 : 0;
	uint64_t at = p->position >= p->first_position ? p->position - p->first_position + 1 : 0;
	double pct = span ? 100.0 * (double)(at > span ? span : at) / (double)span : 100.0;
	fprintf(stderr, "\r%s: %llu events, %.0f events/s, %.1f%%%s", es_cli_prog,
	        (unsigned long long)p->events, elapsed > 0 ? (double)p->events / elapsed : 0.0, pct,
	        done ? "\n" : "");
	return 0;
}

/* ---- output ---- */

typedef struct output {
	FILE *f;
	const char *path;   /* the final name, or NULL for stdout */
	char *tmp;          /* written first, renamed over path when complete */
} output;

/* A regular file (or a new one) is written beside its final name and
 * renamed into place at the end, so a failed dump never leaves a short file
 * under that name. Devices and pipes are written directly. */
static int open_output(output *out, const char *path)
{
	struct stat st;
	out->path = path;
	if (!path || strcmp(path, "-") == 0) {
		out->path = NULL;
		out->f = stdout;
		return 0;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		out->f = fopen(path, "w");
	} else if (asprintf(&out->tmp, "%s.tmp-XXXXXX", path) >= 0) {
		int fd = mkstemp(out->tmp);
		out->f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (fd >= 0 && !out->f)
			close(fd);
	}
	if (!out->f) {
		fprintf(stderr, "%s: cannot write '%s': %s\n", es_cli_prog, path, strerror(errno));
		if (out->tmp)
			unlink(out->tmp);
		return ES_EXIT_FAIL;
	}
	return 0;
}

/* Closes the output; on success renames it into place. */
static int close_output(output *out, int ok)
{
	errno = 0;
	int failed = fflush(out->f) != 0 || ferror(out->f);
	/* the bytes reach the disk before the name does: a power cut after the
	 * rename must not leave a short or empty file under the final name */
	if (!failed && out->tmp && fsync(fileno(out->f)) != 0)
		failed = 1;
	int err = errno;
	if (out->f != stdout && fclose(out->f) != 0 && !failed) {
		failed = 1;
		err = errno;
	}
	if (ok && failed)
		fprintf(stderr, "%s: writing %s: %s\n", es_cli_prog, out->path ? out->path : "stdout",
		        err == EPIPE ? "the reader closed the pipe" : strerror(err ? err : EIO));
	ok = ok && !failed;
	if (out->tmp) {
		if (ok && rename(out->tmp, out->path) != 0) {
			fprintf(stderr, "%s: cannot rename '%s' to '%s': %s\n", es_cli_prog, out->tmp,
			        out->path, strerror(errno));
			ok = 0;
		} else if (ok && (err = es__fsync_parent(out->path)) != 0) {
			/* the file is whole, but its new name may not survive a power cut */
			fprintf(stderr, "%s: cannot sync the directory of '%s': %s\n", es_cli_prog, out->path,
			        strerror(err));
			ok = 0;
		}
		if (!ok)
			unlink(out->tmp);
		free(out->tmp);
	}
	return ok ? ES_EXIT_OK : ES_EXIT_FAIL;
}

/* ---- the two commands ---- */

static int verify(const char *path)
{
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!in) {
		fprintf(stderr, "%s: cannot read '%s': %s\n", es_cli_prog, path, strerror(errno));
		return ES_EXIT_FAIL;
	}
	es_verify_result r;
	int rc = es_dump_verify(&r, in);
	if (in != stdin)
		fclose(in);
	if (rc == 0) {
		printf("%s: %s\n", path, r.message);
		return ES_EXIT_OK;
	}
	if (r.problem != ES_VERIFY_OK)
		printf("%s: %s: %s\n", path, es_verify_problem_str(r.problem), r.message);
	else
		es_cli_fail(rc);
	return ES_EXIT_FAIL;
}

static int dump(args *a)
{
	es_open_options oo = ES_OPEN_OPTIONS_INIT;
	oo.read_only = 1;
	es_db *db;
	int rc = es_db_open(&db, a->db, &oo);
	if (rc)
		return es_cli_fail(rc);
	a->o.descriptor = es_bank_descriptor;
	progress pr;
	if (!a->quiet && isatty(STDERR_FILENO)) {
		clock_gettime(CLOCK_MONOTONIC, &pr.start);
		pr.last = pr.start;
		a->o.progress = show_progress;
		a->o.progress_user_data = &pr;
	}
	output out = { 0 };
	if ((rc = open_output(&out, a->output))) {
		es_db_close(db);
		return rc;
	}
	static char buf[1 << 20];
	setvbuf(out.f, buf, _IOFBF, sizeof buf);
	es_dump_stats st;
	rc = es_dump(&st, db, out.f, &a->o);
	es_db_close(db);
	if (rc) {
		int status = es_cli_fail(rc);
		close_output(&out, 0);
		return status;
	}
	return close_output(&out, 1);
}

int main(int argc, char **argv)
{
	es_cli_prog = "es-dump";
	/* A closed pipe must be an error message and a non-zero exit, not a
	 * silent death that leaves the reader with a short file. */
	signal(SIGPIPE, SIG_IGN);
	args a = { .o = ES_DUMP_OPTIONS_INIT };
	int rc = parse_args(&a, argc, argv);
	if (rc == 0)
		rc = check_args(&a);
	if (rc == 0)
		rc = a.verify ? verify(a.verify) : dump(&a);
	for (size_t i = 0; i < MAX_TYPES; i++)
		free(a.type_text[i]);
	return rc;
}
