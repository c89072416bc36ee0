/*
 * rebuild.c - blue/green rebuilds: the projection is built again from the
 * start under a temporary name, caught up, then swapped in by one
 * transaction (writers are excluded while it runs) that applies what came
 * in since the last batch, if at most a batch, replaces the live model's
 * keys with the rebuilt ones, and moves the live checkpoint to the head.
 * More than a batch behind, it catches up again first: the swap stays
 * short, and writers faster than a round still cannot keep it from ending.
 */
#include <stdio.h>
#include <string.h>

#include "proj_int.h"

#define NAME_SIZE (ES_PROJECTION_NAME_MAX + sizeof ES__REBUILD_SUFFIX)

typedef struct swap {
	const char *name;
	char live_cp[ES__PROJECTION_CHECKPOINT_SIZE];
	es__proj_applier *rest; /* the rebuild's name and checkpoint; applies the last stretch */
	es__state_txn *rd_txn;  /* the swap's transaction, for apply_rest */
	uint64_t batch, head;
	bool behind; /* more than a batch behind the head: catch up again */
} swap;

/* Forgets an earlier, unfinished rebuild. */
static int start_fresh(es__state_txn *t, void *user_data)
{
	swap *s = user_data;
	int rc = es__state_ns_clear(t, s->rest->name);
	if (rc == 0)
		rc = es__state_checkpoint_del(t, s->rest->checkpoint);
	return rc ? rc : es__proj_failure_clear(t, s->rest->name);
}

static int apply_rest(es_read *rd, void *user_data)
{
	swap *s = user_data;
	es__commit_view v = { s->head, NULL, 0 };
	return es__proj_applier_run(s->rest, s->rd_txn, rd, &v);
}

static int put_in_place(es__state_txn *t, void *user_data)
{
	swap *s = user_data;
	uint64_t head, at = 0;
	int rc = es__state_log_head(&head, t);
	if (rc == 0)
		rc = es__state_checkpoint_get(&at, t, s->rest->checkpoint);
	if (rc)
		return rc;
	if ((s->behind = head - at > s->batch))
		return 0; /* nothing written */
	s->head = head;
	s->rd_txn = t;
	s->rest->applied = 0; /* this try's, if the transaction is retried */
	if (at < head && (rc = es__state_read_in(t, apply_rest, s)))
		return rc;
	if ((rc = es__state_ns_clear(t, s->name)) || (rc = es__state_ns_copy(t, s->rest->name, s->name)) ||
	    (rc = es__state_checkpoint_set(t, s->live_cp, head)) || (rc = es__proj_failure_clear(t, s->name)))
		return rc;
	return start_fresh(t, s);
}

int es_projection_rebuild(es_projection_stats *out, es_db *db, const es_projection_options *opts)
{
	es_projection_stats st = { 0 };
	int rc = es__proj_check_options(db, opts, "es_projection_rebuild");
	swap s = { .name = opts ? opts->name : NULL };
	char next_name[NAME_SIZE];
	if (rc == 0) {
		snprintf(next_name, sizeof next_name, "%s%s", opts->name, ES__REBUILD_SUFFIX);
		snprintf(s.live_cp, sizeof s.live_cp, "%s%s", ES__PROJECTION_CHECKPOINT, opts->name);
		s.batch = opts->batch ? opts->batch : ES__PROJ_DEFAULT_BATCH;
		rc = es__proj_applier_new(&s.rest, opts, next_name, "the rebuild of");
	}
	if (rc == 0)
		rc = es__state_write(db, start_fresh, &s);
	es_projection_options next = opts ? *opts : (es_projection_options)ES_PROJECTION_OPTIONS_INIT;
	next.name = next_name; /* with opts' progress, unlike the applier's options */
	for (s.behind = true; rc == 0 && s.behind;)
		if ((rc = es__proj_catch_up(&st, db, &next)) == 0)
			rc = es__state_write(db, put_in_place, &s);
	if (rc == 0)
		st.events += s.rest->applied;
	es__proj_applier_free(s.rest);
	if (out)
		*out = st;
	return rc;
}
