/*
 * es-tail.c - print a store's events as they come, like `tail -f`: a thin
 * main over a subscription (<evstore/subscription.h>), the dump's event
 * encoding (es_event_encode) and named checkpoints. With --checkpoint it
 * resumes where its last run stopped. --lag lists the checkpoints and how
 * far each is behind the log head.
 * Exit status: 0 success (also on SIGINT/SIGTERM, and quietly when the
 * reader closes the pipe), 1 a failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <evstore/evstore.h>
#include <evstore/audit.h>
#include <evstore/bank.h>

#include "cli.h"

static const char usage_text[] =
	"usage: es-tail --db DIR [--from-start | --from-end | --after POS | --checkpoint NAME]\n"
	"               [--stream-prefix P]... [--type T]... [--follow] [--format jsonl|text] [--upcast]\n"
	"       es-tail --db DIR --lag [--json]\n"
	"Prints the store's events in log order, as JSON Lines (the dump's event encoding,\n"
	"without its hash chain) or one readable line each, then exits once it has caught up.\n"
	"  --from-start         from the first event (the default)\n"
	"  --from-end           only events committed from now on\n"
	"  --after POS          events after global position POS\n"
	"  --checkpoint NAME    resume after checkpoint NAME (a new name starts at the\n"
	"                       beginning) and save it after each line is written\n"
	"  --stream-prefix P    streams whose name starts with P (repeat for several)\n"
	"  --type T             events of type T (repeat for several)\n"
	"  --follow             wait for new events instead of exiting when caught up\n"
	"  --upcast             events at their current schema (bank upcasters)\n"
	"  --lag                list the checkpoints and how many events each is behind\n"
	"Only events that would survive a power cut are printed.\n"
	"Exit status: 0 success or SIGINT/SIGTERM, 1 failure, 2 usage.\n";

#define MAX_FILTERS 64
#define WAIT_MS 200 /* how often a --follow wait looks at the signal flag */

typedef struct args {
	const char *db, *checkpoint, *after, *format;
	es_subscription_options o;
	const char *prefixes[MAX_FILTERS], *types[MAX_FILTERS];
	int starts, follow, lag, json;
} args;

static int parse_args(args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "from-start", no_argument, NULL, 'S' },
		{ "from-end", no_argument, NULL, 'E' }, { "after", required_argument, NULL, 'A' },
		{ "checkpoint", required_argument, NULL, 'c' }, { "stream-prefix", required_argument, NULL, 'p' },
		{ "type", required_argument, NULL, 't' }, { "follow", no_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' }, { "upcast", no_argument, NULL, 'u' },
		{ "lag", no_argument, NULL, 'l' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c, rc = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->db = optarg; break;
		case 'S': a->o.start = ES_SUBSCRIPTION_FROM_START; a->starts++; break;
		case 'E': a->o.start = ES_SUBSCRIPTION_FROM_END; a->starts++; break;
		case 'A': a->after = optarg; a->starts++; break;
		case 'c': a->checkpoint = optarg; a->starts++; break;
		case 'p': rc = es_cli_list_add(a->prefixes, &a->o.n_stream_prefixes, MAX_FILTERS, optarg, "--stream-prefix"); break;
		case 't': rc = es_cli_list_add(a->types, &a->o.n_types, MAX_FILTERS, optarg, "--type"); break;
		case 'f': a->follow = 1; break;
		case 'F': a->format = optarg; break;
		case 'u':
			if (!(a->o.upcast = es_bank_registry()))
				return es_cli_fail(es_error_set(ES_ENOMEM, "cannot build the bank's upcasters"));
			break;
		case 'l': a->lag = 1; break;
		case 'j': a->json = 1; break;
		case 'h': fputs(usage_text, stdout); exit(ES_EXIT_OK);
		default: return ES_EXIT_USAGE; /* getopt printed the problem */
		}
	}
	if (rc == 0 && optind < argc)
		return es_cli_usage_error("unexpected argument '%s'", argv[optind]);
	return rc;
}

static int check_args(args *a)
{
	int64_t n;
	if (!a->db)
		return es_cli_usage_error("--db DIR is required");
	if (a->lag)
		return a->starts || a->follow || a->format || a->o.n_stream_prefixes || a->o.n_types || a->o.upcast
		       ? es_cli_usage_error("--lag takes only --db and --json") : 0;
	if (a->json)
		return es_cli_usage_error("--json goes with --lag (events are JSON with --format jsonl)");
	if (a->starts > 1)
		return es_cli_usage_error("give one of --from-start, --from-end, --after, --checkpoint");
	if (a->format && strcmp(a->format, "jsonl") != 0 && strcmp(a->format, "text") != 0)
		return es_cli_usage_error("--format: '%s' is neither jsonl nor text", a->format);
	if (a->after) {
		if (es_cli_int_arg(&n, "--after", a->after))
			return ES_EXIT_USAGE;
		a->o.start = ES_SUBSCRIPTION_AFTER;
		a->o.after = (uint64_t)n;
	}
	if (a->checkpoint && (!*a->checkpoint || strlen(a->checkpoint) > ES_CHECKPOINT_NAME_MAX))
		return es_cli_usage_error("--checkpoint: a name of 1 to %d bytes", ES_CHECKPOINT_NAME_MAX);
	a->o.stream_prefixes = a->prefixes;
	a->o.types = a->types;
	return 0;
}

/* ---- --lag ---- */

typedef struct lag_list {
	uint64_t head;
	bool json;
	int n;
} lag_list;

static int print_lag(const char *name, uint64_t position, void *user_data)
{
	lag_list *l = user_data;
	uint64_t behind = l->head > position ? l->head - position : 0;
	if (l->json) {
		printf("%s{\"checkpoint\":", l->n ? "," : "");
		es_cli_json_string(stdout, name);
		printf(",\"position\":%llu,\"behind\":%llu}", (unsigned long long)position,
		       (unsigned long long)behind);
	} else {
		printf("%-32s %12llu %12llu\n", name, (unsigned long long)position, (unsigned long long)behind);
	}
	l->n++;
	return 0;
}

static int lag(es_db *db, bool json)
{
	es_read *rd;
	lag_list l = { 0, json, 0 };
	int rc = es_read_begin(&rd, db);
	if (rc == 0 && (rc = es_log_head(&l.head, rd)) == 0) {
		if (json)
			printf("{\"log_head\":%llu,\"checkpoints\":[", (unsigned long long)l.head);
		else
			printf("%-32s %12s %12s\n", "checkpoint", "position", "behind");
		rc = es_checkpoint_list(rd, print_lag, &l);
		if (json)
			printf("]}\n");
	}
	es_read_end(rd);
	return rc ? es_cli_fail(rc) : ES_EXIT_OK;
}

/* ---- tailing ---- */

typedef struct tail {
	es_db *db;
	const char *checkpoint;
	es_event_encoder *enc;
	bool text;
	uint64_t saved; /* the checkpoint's position as last saved */
} tail;

static void print_text(const es_event *ev)
{
	char at[64];
	es_time_format(at, sizeof at, ev->recorded_at);
	printf("%llu %s %s@%lld %s v%u %zu bytes\n", (unsigned long long)ev->position, at, ev->stream,
	       (long long)ev->version, ev->type, ev->schema_version, ev->payload_len);
}

/* 0, or an error status; *closed is set when the reader went away. */
static int print_event(tail *t, const es_event *ev, bool *closed)
{
	const char *json;
	if (t->text) {
		print_text(ev);
	} else {
		int rc = es_event_encode(&json, NULL, t->enc, ev);
		if (rc)
			return es_cli_fail(rc);
		puts(json);
	}
	if (fflush(stdout) == 0)
		return 0;
	if (errno == EPIPE) {
		*closed = true;
		return 0;
	}
	fprintf(stderr, "%s: writing: %s\n", es_cli_prog, strerror(errno));
	return ES_EXIT_FAIL;
}

static int save(tail *t, uint64_t position)
{
	if (!t->checkpoint || position == t->saved)
		return 0;
	int rc = es_checkpoint_save(t->db, t->checkpoint, position);
	if (rc)
		return es_cli_fail(rc);
	t->saved = position;
	return 0;
}

static int run(tail *t, es_subscription *sub, bool follow)
{
	bool closed = false;
	while (!es_cli_stop && !closed) {
		es_subscription_item it;
		int rc = es_subscription_next(&it, sub, follow ? WAIT_MS : 0);
		if (rc == ES_ETIMEDOUT && follow)
			continue;
		if (rc == ES_ETIMEDOUT)
			return ES_EXIT_OK;
		if (rc)
			return es_cli_fail(rc);
		if (it.kind == ES_SUBSCRIPTION_EVENT && (rc = print_event(t, &it.event, &closed)))
			return rc;
		if (!closed && (rc = save(t, it.position)))
			return rc;
		if (it.kind == ES_SUBSCRIPTION_CAUGHT_UP && !follow)
			return ES_EXIT_OK;
	}
	return ES_EXIT_OK;
}

static int open_subscription(es_subscription **sub, es_db *db, args *a)
{
	if (a->checkpoint) {
		a->o.start = ES_SUBSCRIPTION_FROM_CHECKPOINT;
		a->o.checkpoint = a->checkpoint;
	}
	int rc = es_subscription_open(sub, db, &a->o);
	if (rc == ES_ENOTFOUND && a->checkpoint) { /* a new name starts at the beginning */
		a->o.start = ES_SUBSCRIPTION_FROM_START;
		rc = es_subscription_open(sub, db, &a->o);
	}
	return rc;
}

static int tail_events(es_db *db, args *a)
{
	tail t = { db, a->checkpoint, NULL, a->format && strcmp(a->format, "text") == 0, UINT64_MAX };
	es_subscription *sub = NULL;
	int rc = es_event_encoder_new(&t.enc, es_bank_descriptor, NULL);
	if (rc == 0)
		rc = open_subscription(&sub, db, a);
	int status = rc ? es_cli_fail(rc) : run(&t, sub, a->follow);
	es_subscription_free(sub);
	es_event_encoder_free(t.enc);
	return status;
}

int main(int argc, char **argv)
{
	es_cli_prog = "es-tail";
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is an EPIPE write: stop quietly */
	es_cli_stop_on_signals();
	args a = { .o = ES_SUBSCRIPTION_OPTIONS_INIT };
	int rc = parse_args(&a, argc, argv);
	if (rc == 0)
		rc = check_args(&a);
	if (rc)
		return rc;
	es_open_options oo = ES_OPEN_OPTIONS_INIT;
	oo.read_only = !a.checkpoint; /* only a checkpoint is written */
	es_db *db;
	if ((rc = es_db_open(&db, a.db, &oo)))
		return es_cli_fail(rc);
	rc = a.lag ? lag(db, a.json) : tail_events(db, &a);
	es_db_close(db);
	return rc;
}
