/*
 * fixture_check.c - checks a store against a fixture's answers file, and
 * optionally that its log is the upcast image of another store's log: the
 * migration test runs it on what es-migrate wrote.
 *
 *   fixture_check [--current-only] [--same-log-as SRC] STORE ANSWERS
 *
 * --same-log-as SRC: event for event, the same stream, version, position,
 * recorded_at, occurred_at, ids and metadata as SRC, and the type, schema
 * version and payload bytes SRC's event has once upcast by es_bank_registry().
 * Both stores are opened read-only. Exit status: 0 all hold, 1 not, 2 usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "answers.h"

static int open_ro(es_db **db, const char *path)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.read_only = 1;
	int rc = es_db_open(db, path, &o);
	if (rc)
		fprintf(stderr, "fixture_check: %s: %s\n", path, es_error_last()->message);
	return rc;
}

/* 1 if the copy's event is the source's event brought to current. */
static int same_event(const es_event *src, const es_event *dst, const es_registry *reg, es_arena *arena)
{
	es_event up = *src;
	es_arena_reset(arena);
	if (es_registry_upcast(&up, reg, arena) != 0)
		return 0;
	return strcmp(up.stream, dst->stream) == 0 && up.version == dst->version &&
	       up.position == dst->position && up.recorded_at == dst->recorded_at &&
	       up.occurred_at == dst->occurred_at && memcmp(up.id, dst->id, 16) == 0 &&
	       memcmp(up.correlation_id, dst->correlation_id, 16) == 0 &&
	       memcmp(up.causation_id, dst->causation_id, 16) == 0 && strcmp(up.type, dst->type) == 0 &&
	       up.schema_version == dst->schema_version && up.payload_len == dst->payload_len &&
	       (up.payload_len == 0 || memcmp(up.payload, dst->payload, up.payload_len) == 0) &&
	       up.metadata_len == dst->metadata_len &&
	       (up.metadata_len == 0 || memcmp(up.metadata, dst->metadata, up.metadata_len) == 0);
}

static int compare_logs(es_db *src, es_db *dst)
{
	es_read *rs, *rd;
	es_iter *is, *id;
	es_event a, b;
	es_arena arena;
	int ra = 0, rb = 0, bad = 0;
	uint64_t n = 0;
	es_arena_init(&arena, NULL, 0);
	if (es_read_begin(&rs, src) || es_read_begin(&rd, dst) ||
	    es_log_iter(&is, rs, 1, ES_FORWARD, ES_NO_LIMIT) || es_log_iter(&id, rd, 1, ES_FORWARD, ES_NO_LIMIT)) {
		fprintf(stderr, "fixture_check: reading the logs: %s\n", es_error_last()->message);
		return 1;
	}
	while (!bad && (ra = es_iter_next(&a, is)) == 0 && (rb = es_iter_next(&b, id)) == 0) {
		n++;
		if (!same_event(&a, &b, es_bank_registry(), &arena)) {
			fprintf(stderr, "fixture_check: position %" PRIu64 ": %s v%" PRId64 " (%s v%u) differs "
			        "from the source's %s v%" PRId64 " (%s v%u)\n", b.position, b.stream, b.version,
			        b.type, b.schema_version, a.stream, a.version, a.type, a.schema_version);
			bad = 1;
		}
	}
	/* The source must have ended, and the copy with it. */
	if (!bad && (ra != ES_ITEROVER || rb != 0 || es_iter_next(&b, id) != ES_ITEROVER)) {
		fprintf(stderr, "fixture_check: the logs end differently after %" PRIu64 " events\n", n);
		bad = 1;
	}
	es_iter_free(is);
	es_iter_free(id);
	es_read_end(rs);
	es_read_end(rd);
	es_arena_release(&arena);
	if (!bad)
		printf("fixture_check: %" PRIu64 " events match the source's, upcast\n", n);
	return bad;
}

int main(int argc, char **argv)
{
	int current_only = 0, i = 1;
	const char *same_as = NULL;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--current-only") == 0)
			current_only = 1;
		else if (strcmp(argv[i], "--same-log-as") == 0 && i + 1 < argc)
			same_as = argv[++i];
		else
			break;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: fixture_check [--current-only] [--same-log-as SRC] STORE ANSWERS\n");
		return 2;
	}
	es_db *db, *src = NULL;
	size_t checked;
	if (open_ro(&db, argv[i]) || (same_as && open_ro(&src, same_as)))
		return 1;
	int failures = answers_check(db, argv[i + 1], current_only, &checked);
	if (failures == 0)
		printf("fixture_check: %zu answers hold in %s\n", checked, argv[i]);
	if (src)
		failures += compare_logs(src, db);
	es_db_close(src);
	es_db_close(db);
	return failures == 0 && checked > 0 ? 0 : 1;
}
