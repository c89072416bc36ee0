/*
 * answers.c - checks a fixture store against its answers file: one line per
 * answer, "KEYWORD ARG...", '#' to the end of a line is a comment.
 *
 *   log_head N                          position of the newest event
 *   stream_count N                      streams of every state
 *   events_total N                      events in the global log
 *   events TYPE SCHEMA N                log events stored as (TYPE, SCHEMA)
 *   stream NAME HEAD FIRST STATE        es_stream_info: head and first visible
 *                                       version, live|soft-deleted|tombstoned
 *   snapshots STREAM N                  stored snapshots of a stream
 *   event STREAM VERSION POSITION RECORDED_AT ID TYPE SCHEMA
 *                                       one stored event's envelope
 *   metadata STREAM VERSION KEY VALUE   one metadata pair of an event
 *   balance ACCOUNT TIME BALANCE STATUS an account as of TIME (inclusive);
 *   balance ACCOUNT TIME absent         or: it did not exist then
 *
 * TIME is RFC 3339 or @NANOSECONDS; BALANCE is in minor units.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answers.h"

#define MAX_WORDS 10

typedef struct checker {
	es_read *rd;
	const char *path;
	int line;
	int current_only;
	size_t checked;
	int failures;
} checker;

static int mismatch(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int mismatch(checker *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%d: ", c->path, c->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	c->failures++;
	return 0;
}

static int64_t num(const char *s)
{
	return strtoll(s, NULL, 10);
}

static int check_log_head(checker *c, char **w)
{
	uint64_t head = 0;
	int rc = es_log_head(&head, c->rd);
	if (rc || head != (uint64_t)num(w[1]))
		return mismatch(c, "log head is %" PRIu64 ", expected %s", head, w[1]);
	return 0;
}

static int count_stream(const char *stream, void *user_data)
{
	(void)stream;
	(*(int64_t *)user_data)++;
	return 0;
}

static int check_stream_count(checker *c, char **w)
{
	int64_t n = 0;
	int rc = es_stream_list(c->rd, NULL, NULL, ES_NO_LIMIT, count_stream, &n);
	if (rc || n != num(w[1]))
		return mismatch(c, "%" PRId64 " streams, expected %s (rc %d)", n, w[1], rc);
	return 0;
}

/* Counts log events; with type set, only those stored as (type, schema). */
static int count_events(int64_t *n, es_read *rd, const char *type, uint32_t schema)
{
	es_iter *it;
	es_event ev;
	int rc = es_log_iter(&it, rd, 1, ES_FORWARD, ES_NO_LIMIT);
	*n = 0;
	while (rc == 0 && (rc = es_iter_next(&ev, it)) == 0)
		*n += !type || (strcmp(ev.type, type) == 0 && ev.schema_version == schema);
	es_iter_free(it);
	return rc == ES_ITEROVER ? 0 : rc;
}

static int check_events_total(checker *c, char **w)
{
	int64_t n;
	int rc = count_events(&n, c->rd, NULL, 0);
	if (rc || n != num(w[1]))
		return mismatch(c, "%" PRId64 " events in the log, expected %s (rc %d)", n, w[1], rc);
	return 0;
}

static int check_events_of(checker *c, char **w)
{
	int64_t n;
	if (c->current_only)
		return 0;
	int rc = count_events(&n, c->rd, w[1], (uint32_t)num(w[2]));
	if (rc || n != num(w[3]))
		return mismatch(c, "%" PRId64 " events of %s v%s, expected %s (rc %d)", n, w[1], w[2], w[3], rc);
	return 0;
}

static const char *state_name(es_stream_state s)
{
	return s == ES_STREAM_LIVE ? "live" : s == ES_STREAM_SOFT_DELETED ? "soft-deleted" : "tombstoned";
}

static int check_stream(checker *c, char **w)
{
	es_stream_info si;
	int rc = es_stream_info_get(&si, c->rd, w[1]);
	if (rc)
		return mismatch(c, "stream %s: %s", w[1], es_error_last()->message);
	if (si.head_version != num(w[2]) || si.first_version != num(w[3]) ||
	    strcmp(state_name(si.state), w[4]) != 0)
		return mismatch(c, "stream %s is head %" PRId64 " first %" PRId64 " %s, expected %s %s %s",
		                w[1], si.head_version, si.first_version, state_name(si.state), w[2], w[3], w[4]);
	return 0;
}

static int check_snapshots(checker *c, char **w)
{
	int64_t *versions = NULL;
	size_t n = 0;
	int rc = es_snapshot_list(&versions, &n, c->rd, w[1]);
	free(versions);
	if (rc || (int64_t)n != num(w[2]))
		return mismatch(c, "stream %s has %zu snapshots, expected %s (rc %d)", w[1], n, w[2], rc);
	return 0;
}

/* Reads an event of a stream whatever its visibility, through the log. */
static int find_event(es_event *ev, es_read *rd, const char *stream, int64_t version, uint64_t position)
{
	es_iter *it;
	int rc = es_log_iter(&it, rd, position, ES_FORWARD, 1);
	if (rc == 0 && (rc = es_iter_next(ev, it)) == 0 &&
	    (strcmp(ev->stream, stream) != 0 || ev->version != version))
		rc = ES_ENOTFOUND;
	es_iter_free(it);
	return rc;
}

static int check_event(checker *c, char **w)
{
	es_event ev;
	char id[ES_ID_TEXT_SIZE];
	int rc = find_event(&ev, c->rd, w[1], num(w[2]), (uint64_t)num(w[3]));
	if (rc)
		return mismatch(c, "no event %s v%s at position %s (rc %d)", w[1], w[2], w[3], rc);
	es_id_format(ev.id, id);
	if (ev.recorded_at != num(w[4]) || strcmp(id, w[5]) != 0)
		return mismatch(c, "event %s v%s: recorded_at %" PRId64 " id %s, expected %s %s", w[1], w[2],
		                ev.recorded_at, id, w[4], w[5]);
	if (!c->current_only && (strcmp(ev.type, w[6]) != 0 || ev.schema_version != (uint32_t)num(w[7])))
		return mismatch(c, "event %s v%s is %s v%u, expected %s v%s", w[1], w[2], ev.type,
		                ev.schema_version, w[6], w[7]);
	return 0;
}

static int check_metadata(checker *c, char **w)
{
	es_event ev;
	es_iter *it;
	const char *k, *v;
	size_t kl, vl, cur = 0;
	int rc = es_stream_iter(&it, c->rd, w[1], num(w[2]), ES_FORWARD, 1);
	if (rc == 0 && (rc = es_iter_next(&ev, it)) == 0) {
		while ((rc = es_event_metadata_next(&ev, &cur, &k, &kl, &v, &vl)) == 0)
			if (kl == strlen(w[3]) && memcmp(k, w[3], kl) == 0 && vl == strlen(w[4]) &&
			    memcmp(v, w[4], vl) == 0)
				break;
	}
	es_iter_free(it);
	if (rc)
		return mismatch(c, "event %s v%s has no metadata %s=%s (rc %d)", w[1], w[2], w[3], w[4], rc);
	return 0;
}

static int check_balance(checker *c, char **w, int nw)
{
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	es_bank_account a;
	int64_t t;
	if (es_bank_account_stream(stream, w[1]) || es_time_parse(&t, w[2]))
		return mismatch(c, "bad account or time: %s", es_error_last()->message);
	int rc = es_aggregate_fold_as_of(&a, NULL, c->rd, &es_bank_account_type, stream, t);
	if (strcmp(w[3], "absent") == 0)
		return rc == ES_ENOTFOUND ? 0 : mismatch(c, "account %s exists at %s (rc %d)", w[1], w[2], rc);
	if (rc)
		return mismatch(c, "account %s at %s: %s", w[1], w[2], es_error_last()->message);
	if (a.balance != num(w[3]) || (nw > 4 && strcmp(es_bank_status_str(a.status), w[4]) != 0))
		return mismatch(c, "account %s at %s: balance %" PRId64 " %s, expected %s %s", w[1], w[2],
		                a.balance, es_bank_status_str(a.status), w[3], nw > 4 ? w[4] : "");
	return 0;
}

typedef struct keyword {
	const char *name;
	int words;      /* including the keyword */
} keyword;

static const keyword keywords[] = {
	{ "log_head", 2 }, { "stream_count", 2 }, { "events_total", 2 }, { "events", 4 },
	{ "stream", 5 }, { "snapshots", 3 }, { "event", 8 }, { "metadata", 5 }, { "balance", 4 },
};

static int dispatch(checker *c, char **w, int nw)
{
	size_t k = 0;
	while (k < sizeof keywords / sizeof keywords[0] && strcmp(keywords[k].name, w[0]) != 0)
		k++;
	if (k == sizeof keywords / sizeof keywords[0] || nw < keywords[k].words)
		return mismatch(c, "cannot parse '%s' line (%d words)", w[0], nw);
	c->checked++;
	switch (k) {
	case 0: return check_log_head(c, w);
	case 1: return check_stream_count(c, w);
	case 2: return check_events_total(c, w);
	case 3: return check_events_of(c, w);
	case 4: return check_stream(c, w);
	case 5: return check_snapshots(c, w);
	case 6: return check_event(c, w);
	case 7: return check_metadata(c, w);
	default: return check_balance(c, w, nw);
	}
}

static int split(char *line, char **w)
{
	int n = 0;
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	for (char *save, *tok = strtok_r(line, " \t\r\n", &save); tok && n < MAX_WORDS;
	     tok = strtok_r(NULL, " \t\r\n", &save))
		w[n++] = tok;
	return n;
}

/* Every event must be at its type's current version (or of a type the
 * registry does not know). */
static void check_all_current(checker *c)
{
	const es_registry *reg = es_bank_registry();
	es_iter *it;
	es_event ev;
	int rc = es_log_iter(&it, c->rd, 1, ES_FORWARD, ES_NO_LIMIT);
	c->checked++;
	while (rc == 0 && (rc = es_iter_next(&ev, it)) == 0) {
		uint32_t cur = es_registry_current(reg, ev.type);
		if (cur && ev.schema_version != cur) {
			mismatch(c, "event at position %" PRIu64 " is %s v%u, not current v%u", ev.position,
			         ev.type, ev.schema_version, cur);
			break;
		}
	}
	es_iter_free(it);
	if (rc && rc != ES_ITEROVER)
		mismatch(c, "reading the log: %s", es_error_last()->message);
}

int answers_check(es_db *db, const char *path, int current_only, size_t *checked)
{
	checker c = { NULL, path, 0, current_only, 0, 0 };
	char line[1024], *w[MAX_WORDS];
	*checked = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	if (es_read_begin(&c.rd, db)) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		c.line++;
		int nw = split(line, w);
		if (nw > 0)
			dispatch(&c, w, nw);
	}
	if (current_only)
		check_all_current(&c);
	es_read_end(c.rd);
	fclose(f);
	*checked = c.checked;
	return c.failures;
}
