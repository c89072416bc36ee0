/*
 * es-follow.c - build a read replica of a store from its relay's JetStream
 * stream: a thin main over es_follow (<evstore/relay.h>). Without --follow
 * it imports what the stream holds and exits; with it, it keeps importing
 * until SIGINT/SIGTERM. A kill -9 loses nothing: the replica's head is
 * where it resumes.
 * Exit status: 0 success, 1 a failure (a diverged replica among them), 2 usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>

#include <evstore/evstore.h>
#include <evstore/relay.h>

#include "cli.h"

static const char usage_text[] =
	"usage: es-follow --nats URL[,URL...] --js-stream NAME --db REPLICA [--follow] [--json]\n"
	"Imports JetStream stream NAME (written by an unfiltered es-relay) into the store\n"
	"REPLICA (created if missing), keeping positions, versions, ids and recorded_at.\n"
	"Refuses a replica whose events differ from the stream's.\n"
	"  --follow   keep importing new events until SIGINT/SIGTERM\n"
	"  --json     the closing summary (events, position, lag p50/p99/max in us) as JSON\n"
	"Exit status: 0 success or SIGINT/SIGTERM, 1 failure, 2 usage.\n";

#define WAIT_MS 200       /* how often --follow looks at the signal flag */
#define CATCH_UP_MS 10000 /* without --follow: the longest silence while behind */

typedef struct args {
	const char *db;
	es_follow_options o;
	int follow, json;
} args;

static int parse_args(args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nats", required_argument, NULL, 'n' }, { "js-stream", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'd' }, { "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': a->o.nats_urls = optarg; break;
		case 's': a->o.js_stream = optarg; break;
		case 'd': a->db = optarg; break;
		case 'f': a->follow = 1; break;
		case 'j': a->json = 1; break;
		case 'h': fputs(usage_text, stdout); exit(ES_EXIT_OK);
		default: return ES_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return es_cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!a->db)
		return es_cli_usage_error("--db REPLICA is required");
	if (!a->o.nats_urls || !*a->o.nats_urls)
		return es_cli_usage_error("--nats URL[,URL...] is required");
	if (!a->o.js_stream || !*a->o.js_stream)
		return es_cli_usage_error("--js-stream NAME is required");
	return 0;
}

/* Without --follow: until the replica reaches the stream's last sequence
 * as it was at the start. */
static int run(es_follow *f, const args *a)
{
	es_follow_stats st;
	int rc = es_follow_stats_get(&st, f, 1);
	uint64_t target = st.stream_last;
	while (rc == 0 && !es_cli_stop && (a->follow || st.position < target)) {
		rc = es_follow_step(f, a->follow ? WAIT_MS : CATCH_UP_MS);
		if (rc == ES_ETIMEDOUT && a->follow)
			rc = 0;
		else if (rc == ES_ETIMEDOUT)
			rc = es_error_set(ES_EIO, "JetStream stream '%s' holds up to %llu, but nothing arrived "
			                  "for %d ms at %llu", a->o.js_stream, (unsigned long long)target,
			                  CATCH_UP_MS, (unsigned long long)st.position);
		if (rc == 0)
			rc = es_follow_stats_get(&st, f, 0);
	}
	return rc;
}

static void summary(es_follow *f, int json)
{
	es_follow_stats st;
	es_follow_stats_get(&st, f, 0);
	if (json)
		printf("{\"events\":%llu,\"position\":%llu,\"lag_p50_us\":%lld,\"lag_p99_us\":%lld,"
		       "\"lag_max_us\":%lld}\n", (unsigned long long)st.events, (unsigned long long)st.position,
		       (long long)(st.lag_p50 / 1000), (long long)(st.lag_p99 / 1000),
		       (long long)(st.lag_max / 1000));
	else
		printf("imported %llu events, replica at position %llu; lag p50 %lld us, p99 %lld us, max %lld us\n",
		       (unsigned long long)st.events, (unsigned long long)st.position,
		       (long long)(st.lag_p50 / 1000), (long long)(st.lag_p99 / 1000),
		       (long long)(st.lag_max / 1000));
}

int main(int argc, char **argv)
{
	es_cli_prog = "es-follow";
	es_cli_stop_on_signals();
	args a = { .o = ES_FOLLOW_OPTIONS_INIT };
	int rc = parse_args(&a, argc, argv);
	if (rc)
		return rc;
	es_open_options oo = ES_OPEN_OPTIONS_INIT;
	es_db *db;
	es_follow *f = NULL;
	if ((rc = es_db_open(&db, a.db, &oo)))
		return es_cli_fail(rc);
	int status = ES_EXIT_OK;
	if ((rc = es_follow_open(&f, db, &a.o)) == 0 && (rc = run(f, &a)) == 0)
		summary(f, a.json);
	if (rc)
		status = es_cli_fail(rc);
	es_follow_free(f);
	es_db_close(db);
	return status;
}
