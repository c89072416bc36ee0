/*
 * es-migrate.c - copy a store into a new one in which every event is at its
 * current schema version, then prove the copy answers like the original. A
 * thin main over es_migrate() and es_migrate_check() with the bank's
 * upcasters and account type: argument parsing, the target directory (the
 * copy is built beside it and renamed into place once checked), reporting.
 * Exit status: 0 copied and identical, 1 a failure or a difference, 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>

#include "cli.h"
#include "es_fsync.h"
#include "es_rmtree.h"

static const char usage_text[] =
	"usage: es-migrate --from DIR --to DIR\n"
	"Writes a new store at --to holding every event of --from brought to its\n"
	"current schema version (bank events through the bank's upcasters; events of\n"
	"other types are copied unchanged), keeping event ids, streams, versions,\n"
	"recorded_at and global positions.\n"
	"  --from DIR   the store to read (opened read-only; nothing may write to it\n"
	"               while it is migrated)\n"
	"  --to DIR     where to write; must not exist or be an empty directory. The\n"
	"               copy is built beside it (DIR.migrating-XXXXXX) and renamed into\n"
	"               place only once it is complete and checked.\n"
	"Stream states carry over: a soft-deleted stream is soft-deleted in the copy\n"
	"(one recreated after a delete is deleted at the same version, then\n"
	"recreated), and a tombstoned stream is tombstoned, after its events are\n"
	"copied. Account snapshots are rebuilt at the versions the source had them;\n"
	"snapshots of other aggregate types are not copied.\n"
	"Then each account (stream \"account-*\") is loaded in both stores at 20\n"
	"times spread over the log and at its last event, and must be identical.\n"
	"Exit status: 0 migrated and identical, 1 failure or difference, 2 usage.\n";

#define SAMPLE_TIMES 20
#define MAX_REPORTED 20 /* differences printed before only counting */

/* Prints the last error with context and returns ES_EXIT_FAIL: past the
 * command line, even ES_EINVAL means the migration failed, not the usage. */
static int fail(int rc, const char *what)
{
	const es_error *e = es_error_last();
	fprintf(stderr, "%s: %s: %s\n", es_cli_prog, what,
	        e->code == rc && e->message[0] ? e->message : es_strerror(rc));
	return ES_EXIT_FAIL;
}

/* One account load on which the stores disagree, for the first MAX_REPORTED. */
static void report(const es_migrate_difference *d, void *user_data)
{
	uint64_t *n = user_data;
	char when[ES_TIME_TEXT_SIZE];
	if (++*n > MAX_REPORTED)
		return;
	es_time_format(when, sizeof when, d->at);
	fprintf(stderr, "%s: %s at %s: ", es_cli_prog, d->stream, when);
	const es_bank_account *a = d->source_state, *b = d->copy_state;
	if (d->source_rc != d->copy_rc) /* the words of es-migrate before es_migrate_check */
		fprintf(stderr, "the source says %s (%s), the copy %s (%s)\n", es_strerror(d->source_rc),
		        d->source_rc ? d->source_message : "loaded", es_strerror(d->copy_rc),
		        d->copy_rc ? d->copy_message : "loaded");
	else if (d->source_rc != 0)
		fprintf(stderr, "neither store loads it: %s\n", d->source_message);
	else
		fprintf(stderr, "balance %" PRId64 " (%s) in the source, %" PRId64 " (%s) in the copy\n",
		        a->balance, es_bank_status_str(a->status), b->balance, es_bank_status_str(b->status));
}

/* ---- the target directory ---- */

static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = d != NULL;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	if (d)
		closedir(d);
	return empty;
}

/* 0 if dir is absent or an empty directory (rename(2) replaces an empty
 * directory); a usage error otherwise. */
static int check_target(const char *dir)
{
	struct stat st;
	char data[4096];
	if (stat(dir, &st) != 0)
		return errno == ENOENT ? 0 : es_cli_usage_error("--to %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return es_cli_usage_error("--to %s exists and is not a directory", dir);
	snprintf(data, sizeof data, "%s/data.mdb", dir);
	if (access(data, F_OK) == 0)
		return es_cli_usage_error("--to %s already holds a store; refusing to overwrite it", dir);
	if (!dir_is_empty(dir))
		return es_cli_usage_error("--to %s is not empty", dir);
	return 0;
}

/* Renames the finished copy into place and makes the rename durable. */
static int publish(const char *tmp, const char *dir)
{
	if (rename(tmp, dir) != 0) {
		fprintf(stderr, "%s: renaming %s to %s: %s\n", es_cli_prog, tmp, dir, strerror(errno));
		return ES_EXIT_FAIL;
	}
	int err = es__fsync_parent(dir);
	if (err) {
		fprintf(stderr, "%s: making the rename of %s durable: %s\n", es_cli_prog, dir, strerror(err));
		return ES_EXIT_FAIL;
	}
	return ES_EXIT_OK;
}

typedef struct migration {
	const char *from, *to;
	char tmp[4096];
	es_db *src, *dst;
	es_migrate_stats st;
	es_migrate_check_stats ck;
	uint64_t reported;  /* differences printed */
} migration;

static int parse_args(migration *m, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			exit(ES_EXIT_OK);
		} else if (c == 'f') {
			m->from = optarg;
		} else if (c == 't') {
			m->to = optarg;
		} else {
			return ES_EXIT_USAGE; /* getopt printed the problem */
		}
	}
	if (optind < argc)
		return es_cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!m->from || !m->to)
		return es_cli_usage_error("both --from and --to are required");
	return 0;
}

static int open_stores(migration *m)
{
	es_open_options ro = ES_OPEN_OPTIONS_INIT, rw = ES_OPEN_OPTIONS_INIT;
	ro.read_only = 1;
	int rc = es_db_open(&m->src, m->from, &ro);
	if (rc)
		return es_cli_fail(rc);
	snprintf(m->tmp, sizeof m->tmp, "%s.migrating-XXXXXX", m->to);
	if (!mkdtemp(m->tmp)) {
		fprintf(stderr, "%s: creating %s: %s\n", es_cli_prog, m->tmp, strerror(errno));
		m->tmp[0] = '\0';
		return ES_EXIT_FAIL;
	}
	rw.max_event_size = (size_t)1 << 30; /* whatever the source allowed */
	if ((rc = es_db_open(&m->dst, m->tmp, &rw)))
		return fail(rc, "creating the copy");
	return 0;
}

static int copy_and_check(migration *m)
{
	static const es_aggregate_type *const types[] = { &es_bank_account_type };
	es_migrate_options o = ES_MIGRATE_OPTIONS_INIT;
	if (!(o.registry = es_bank_registry()))
		return fail(ES_ENOMEM, "building the bank's upcasters");
	o.snapshot_types = types;
	o.snapshot_type_count = 1;
	int rc = es_migrate(&m->st, m->src, m->dst, &o);
	if (rc)
		return fail(rc, "copying");
	rc = es_migrate_check(&m->ck, m->src, m->dst, &es_bank_account_type, SAMPLE_TIMES, report, &m->reported);
	if (rc)
		return fail(rc, "checking the copy");
	if (m->ck.differences) {
		fprintf(stderr, "%s: %" PRIu64 " of %" PRIu64 " account loads differ%s; the copy is left in %s\n",
		        es_cli_prog, m->ck.differences, m->ck.compared,
		        m->ck.differences > MAX_REPORTED ? " (the first 20 shown)" : "", m->tmp);
		return ES_EXIT_FAIL;
	}
	return 0;
}

static void summary(const migration *m)
{
	printf("copied %" PRIu64 " events in %" PRIu64 " streams: %" PRIu64 " upcast, %" PRIu64
	       " of types the bank registry does not know copied unchanged\n",
	       m->st.events, m->st.streams, m->st.upcast, m->st.foreign);
	printf("stream states: %" PRIu64 " not plain live, %" PRIu64 " soft deletes replayed; %" PRIu64
	       " account snapshots rebuilt\n", m->st.special, m->st.soft_deletes, m->st.snapshots);
	printf("checked %" PRIu64 " accounts at %" PRIu64 " sampled times and their last event: %" PRIu64
	       " loads identical\n", m->ck.streams, m->ck.times, m->ck.compared);
	printf("migrated %s to %s\n", m->from, m->to);
}

int main(int argc, char **argv)
{
	migration m = { 0 };
	es_cli_prog = "es-migrate";
	int rc = parse_args(&m, argc, argv);
	if (rc || (rc = check_target(m.to)))
		return rc;
	if ((rc = open_stores(&m)) == 0)
		rc = copy_and_check(&m);
	int keep = rc != 0 && m.ck.differences > 0; /* keep a copy that differs, to look at */
	es_db_close(m.dst);
	es_db_close(m.src);
	if (rc == 0)
		rc = publish(m.tmp, m.to);
	else if (m.tmp[0] && !keep)
		es__remove_tree(m.tmp);
	if (rc == 0)
		summary(&m);
	return rc;
}
