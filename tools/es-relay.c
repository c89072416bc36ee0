/*
 * es-relay.c - publish a store's log to a NATS JetStream stream exactly
 * once: a thin main over es_relay (<evstore/relay.h>). --status prints the
 * relay's progress from its checkpoints in the store.
 * Exit status: 0 success (also on SIGINT/SIGTERM, after the acks in
 * flight), 1 a failure, 2 usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <evstore/evstore.h>
#include <evstore/relay.h>

#include "cli.h"

static const char usage_text[] =
	"usage: es-relay --db DIR --nats URL[,URL...] --js-stream NAME [--subject-prefix P]\n"
	"                [--stream-prefix S]... [--type T]... [--checkpoint NAME]\n"
	"                [--create-stream [--replicas N]] [--follow]\n"
	"       es-relay --db DIR --js-stream NAME --status [--checkpoint NAME] [--json]\n"
	"Publishes the store's durable events, in log order, to JetStream stream NAME, each\n"
	"exactly once (subject P.<stream name escaped>, headers Nats-Msg-Id and Evstore-*),\n"
	"resuming after the stream's last message. Exits once caught up unless --follow.\n"
	"  --subject-prefix P   subjects P.<stream> (default: the JetStream stream's name)\n"
	"  --stream-prefix S    only streams starting with S (repeat for several)\n"
	"  --type T             only events of type T (repeat for several)\n"
	"  --checkpoint NAME    the store checkpoint for progress (default relay:<NAME>)\n"
	"  --create-stream      create the JetStream stream if missing (subjects P.>)\n"
	"  --replicas N         its replicas (default 1; 3 for a 3-node cluster)\n"
	"  --follow             keep publishing new events until SIGINT/SIGTERM\n"
	"  --status             position, JetStream sequence and lag from the checkpoint\n"
	"  --json               --status as one JSON object\n"
	"Exit status: 0 success or SIGINT/SIGTERM, 1 failure, 2 usage.\n";

#define MAX_FILTERS 64
#define WAIT_MS 200 /* how often --follow looks at the signal flag */

typedef struct args {
	const char *db, *replicas;
	es_relay_options o;
	const char *prefixes[MAX_FILTERS], *types[MAX_FILTERS];
	int follow, status, json;
} args;

static int parse_args(args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "nats", required_argument, NULL, 'n' },
		{ "js-stream", required_argument, NULL, 's' }, { "subject-prefix", required_argument, NULL, 'P' },
		{ "stream-prefix", required_argument, NULL, 'p' }, { "type", required_argument, NULL, 't' },
		{ "checkpoint", required_argument, NULL, 'c' }, { "create-stream", no_argument, NULL, 'C' },
		{ "replicas", required_argument, NULL, 'r' }, { "follow", no_argument, NULL, 'f' },
		{ "status", no_argument, NULL, 'S' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c, rc = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->db = optarg; break;
		case 'n': a->o.nats_urls = optarg; break;
		case 's': a->o.js_stream = optarg; break;
		case 'P': a->o.subject_prefix = optarg; break;
		case 'p': rc = es_cli_list_add(a->prefixes, &a->o.n_stream_prefixes, MAX_FILTERS, optarg, "--stream-prefix"); break;
		case 't': rc = es_cli_list_add(a->types, &a->o.n_types, MAX_FILTERS, optarg, "--type"); break;
		case 'c': a->o.checkpoint = optarg; break;
		case 'C': a->o.create_stream = 1; break;
		case 'r': a->replicas = optarg; break;
		case 'f': a->follow = 1; break;
		case 'S': a->status = 1; break;
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
	if (!a->o.js_stream || !*a->o.js_stream)
		return es_cli_usage_error("--js-stream NAME is required");
	if (a->status)
		return a->o.nats_urls || a->follow || a->o.create_stream || a->replicas ||
		       a->o.n_stream_prefixes || a->o.n_types || a->o.subject_prefix
		       ? es_cli_usage_error("--status takes only --db, --js-stream, --checkpoint and --json") : 0;
	if (a->json)
		return es_cli_usage_error("--json goes with --status");
	if (!a->o.nats_urls || !*a->o.nats_urls)
		return es_cli_usage_error("--nats URL[,URL...] is required");
	if (a->replicas) {
		if (!a->o.create_stream)
			return es_cli_usage_error("--replicas goes with --create-stream");
		if (es_cli_int_arg(&n, "--replicas", a->replicas))
			return ES_EXIT_USAGE;
		if (n < 1 || n > 5)
			return es_cli_usage_error("--replicas: '%s' is not 1 to 5", a->replicas);
		a->o.replicas = (int)n;
	}
	a->o.stream_prefixes = a->prefixes;
	a->o.types = a->types;
	return 0;
}

static int status(es_db *db, const args *a)
{
	es_read *rd;
	es_relay_status st;
	int rc = es_read_begin(&rd, db);
	if (rc == 0)
		rc = es_relay_status_get(&st, rd, a->o.checkpoint, a->o.js_stream);
	es_read_end(rd);
	if (rc)
		return es_cli_fail(rc);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	double lag_s = st.oldest_unrelayed ? (double)(now - st.oldest_unrelayed) / 1e9 : 0.0;
	if (a->json)
		printf("{\"position\":%llu,\"js_seq\":%llu,\"log_head\":%llu,\"lag_events\":%llu,"
		       "\"lag_seconds\":%.3f}\n", (unsigned long long)st.position,
		       (unsigned long long)st.js_seq, (unsigned long long)st.log_head,
		       (unsigned long long)st.lag_events, lag_s);
	else
		printf("position %llu\njs_seq %llu\nlog_head %llu\nlag_events %llu\nlag_seconds %.3f\n",
		       (unsigned long long)st.position, (unsigned long long)st.js_seq,
		       (unsigned long long)st.log_head, (unsigned long long)st.lag_events, lag_s);
	return ES_EXIT_OK;
}

static void report(const es_relay_info *in, const char *what)
{
	fprintf(stderr, "%s: %s: position %llu, JetStream sequence %llu, %llu published, %llu resent\n",
	        es_cli_prog, what, (unsigned long long)in->position, (unsigned long long)in->js_seq,
	        (unsigned long long)in->published, (unsigned long long)in->resent);
}

static int relay(es_db *db, const args *a)
{
	es_relay *r;
	int rc = es_relay_open(&r, db, &a->o);
	if (rc)
		return es_cli_fail(rc);
	const es_relay_info *in = es_relay_get_info(r);
	if (in->created)
		fprintf(stderr, "%s: created JetStream stream '%s'\n", es_cli_prog, a->o.js_stream);
	report(in, "resuming");
	while (!es_cli_stop) {
		rc = es_relay_step(NULL, r, a->follow ? WAIT_MS : 0);
		if (rc == ES_ETIMEDOUT && a->follow)
			continue;
		if (rc)
			break;
	}
	if (in->behind_checkpoint)
		fprintf(stderr, "%s: JetStream stream '%s' was behind the store's checkpoint (acknowledged "
		        "messages lost, e.g. in a power cut): republished from its last message\n",
		        es_cli_prog, a->o.js_stream);
	int status = rc && rc != ES_ETIMEDOUT ? es_cli_fail(rc) : ES_EXIT_OK;
	report(in, "stopped");
	es_relay_free(r);
	return status;
}

int main(int argc, char **argv)
{
	es_cli_prog = "es-relay";
	es_cli_stop_on_signals();
	args a = { .o = ES_RELAY_OPTIONS_INIT };
	int rc = parse_args(&a, argc, argv);
	if (rc == 0)
		rc = check_args(&a);
	if (rc)
		return rc;
	es_open_options oo = ES_OPEN_OPTIONS_INIT;
	oo.read_only = a.status;
	es_db *db;
	if ((rc = es_db_open(&db, a.db, &oo)))
		return es_cli_fail(rc);
	rc = a.status ? status(db, &a) : relay(db, &a);
	es_db_close(db);
	return rc;
}
