/*
 * es-load.c - restore a store from a JSONL dump made by es-dump. A thin
 * main over es_restore(): the file's hash chain is verified first and a broken
 * file is refused, naming the line.
 * Exit status: 0 restored, 1 refused or failed, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <evstore/evstore.h>
#include <evstore/audit.h>
#include <evstore/bank.h>

#include "cli.h"

static const char usage_text[] =
	"usage: es-load --db NEWDIR FILE\n"
	"Restores the JSONL dump FILE (- for stdin) into a new, empty store NEWDIR:\n"
	"the same streams, versions, ids, recorded_at and global order.\n"
	"Exit status: 0 restored, 1 refused or failed, 2 usage.\n";

static int parse_args(const char **db, const char **file, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'd') {
			*db = optarg;
		} else if (c == 'h') {
			fputs(usage_text, stdout);
			exit(ES_EXIT_OK);
		} else {
			return ES_EXIT_USAGE;
		}
	}
	if (!*db)
		return es_cli_usage_error("--db NEWDIR is required");
	if (argc - optind != 1)
		return es_cli_usage_error("es-load takes one FILE (or - for stdin)");
	*file = argv[optind];
	return 0;
}

static int load(es_db *db, FILE *in, const char *file)
{
	es_restore_options o = ES_RESTORE_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	es_restore_stats st;
	int rc = es_restore(&st, db, in, &o);
	if (rc) {
		/* A bad file or a non-empty store is not a usage error. */
		if (st.verify.problem != ES_VERIFY_OK)
			fprintf(stderr, "%s: %s: refused: %s\n", es_cli_prog, file, st.verify.message);
		else
			es_cli_fail(rc);
		return ES_EXIT_FAIL;
	}
	printf("loaded %llu events and %llu stream states from %s (final hash %s)\n",
	       (unsigned long long)st.events, (unsigned long long)st.streams, file,
	       st.verify.final_hash);
	return ES_EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *file = NULL;
	es_cli_prog = "es-load";
	int rc = parse_args(&dir, &file, argc, argv);
	if (rc)
		return rc;
	FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (!in) {
		fprintf(stderr, "%s: cannot read '%s': %s\n", es_cli_prog, file, strerror(errno));
		return ES_EXIT_FAIL;
	}
	es_db *db; /* durable: each of the restore's large transactions is synced */
	if ((rc = es_db_open(&db, dir, NULL))) {
		es_cli_fail(rc);
		rc = ES_EXIT_FAIL;
	} else {
		rc = load(db, in, file);
		es_db_close(db);
	}
	if (in != stdin)
		fclose(in);
	return rc;
}
