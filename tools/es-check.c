/*
 * es-check.c - check a store's integrity and print a report: a thin main
 * over es_check(). Opens the store read-only, so it is safe to run while
 * another process appends.
 * Exit status: 0 every invariant holds, 1 problems found or the check
 * failed, 2 usage.
 */
#include <getopt.h>
#include <stdlib.h>

#include <evstore/evstore.h>

#include "cli.h"

static const char usage_text[] =
	"usage: es-check --db DIR\n"
	"Checks every stream's versions, the log, the event-id index, record\n"
	"checksums, time order and snapshots; prints each problem, one a line.\n"
	"Exit status: 0 all hold, 1 problems found or the check failed, 2 usage.\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	int c;
	es_cli_prog = "es-check";
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'd') {
			dir = optarg;
		} else if (c == 'h') {
			fputs(usage_text, stdout);
			return ES_EXIT_OK;
		} else {
			return ES_EXIT_USAGE;
		}
	}
	if (!dir)
		return es_cli_usage_error("--db DIR is required");
	if (optind < argc)
		return es_cli_usage_error("unexpected argument '%s'", argv[optind]);
	es_open_options oo = ES_OPEN_OPTIONS_INIT;
	oo.read_only = 1;
	es_db *db;
	int rc = es_db_open(&db, dir, &oo);
	if (rc) {
		es_cli_fail(rc);
		return ES_EXIT_FAIL;
	}
	es_check_options o = ES_CHECK_OPTIONS_INIT;
	o.report = stdout;
	es_check_stats st;
	rc = es_check(&st, db, &o);
	es_db_close(db);
	if (rc && rc != ES_ECORRUPT) {
		es_cli_fail(rc);
		return ES_EXIT_FAIL;
	}
	printf("%s: %llu streams, %llu events, %llu log entries, %llu ids, %llu snapshots: ",
	       dir, (unsigned long long)st.streams, (unsigned long long)st.events,
	       (unsigned long long)st.log_entries, (unsigned long long)st.ids,
	       (unsigned long long)st.snapshots);
	if (st.problems == 0) {
		printf("ok\n");
		return ES_EXIT_OK;
	}
	printf("%llu problem%s\n", (unsigned long long)st.problems, st.problems == 1 ? "" : "s");
	return ES_EXIT_FAIL;
}
