/*
 * inline.c - inline projections: the handler runs inside each append's own
 * transaction (an engine commit hook), so the read model commits with the
 * events it describes, and a handler error fails the append. The hook
 * applies every event after the projection's checkpoint, not only the
 * append's own: events appended through a handle or process that does not
 * run the projection are caught up by the next append that does.
 */
#include <stdio.h>

#include "proj_int.h"

/* The hook's user_data: the applier, owning the caller's user_data once in place. */
static void inline_release(void *user_data)
{
	es__proj_applier *a = user_data;
	if (a->o.user_data_free)
		a->o.user_data_free(a->o.user_data);
	es__proj_applier_free(a);
}

static int run_inline(es__state_txn *t, es_read *rd, const es__commit_view *v, void *user_data)
{
	return es__proj_applier_run(user_data, t, rd, v);
}

int es_projection_inline_add(es_db *db, const es_projection_options *opts)
{
	es__proj_applier *p = NULL;
	int rc = es__proj_check_options(db, opts, "es_projection_inline_add");
	if (rc || (rc = es__proj_applier_new(&p, opts, opts->name, "inline projection")))
		return rc;
	es_projection_stats st = { 0 };
	/* Caught up in batches first, so no append carries the whole history;
	 * then once more, for what was appended before the hook was in place. */
	if ((rc = es__proj_catch_up(&st, db, &p->o))) {
		es__proj_applier_free(p);
		return rc;
	}
	if ((rc = es__commit_hook_add(db, p->checkpoint, run_inline, inline_release, p))) {
		if (rc == ES_EINVAL)
			rc = es_error_set(rc, "es_projection_inline_add: projection '%s' is already inline on "
			                  "this handle", p->name);
		es__proj_applier_free(p);
	} else if ((rc = es__proj_catch_up(&st, db, &p->o))) {
		p->o.user_data_free = NULL; /* the caller keeps user_data when this fails */
		es__commit_hook_remove(db, p->checkpoint);
	}
	return rc;
}

int es_projection_inline_remove(es_db *db, const char *name)
{
	char checkpoint[ES__PROJECTION_CHECKPOINT_SIZE];
	int rc = db ? es__proj_check_name(name, "es_projection_inline_remove")
	            : es_error_set(ES_EINVAL, "es_projection_inline_remove: db is NULL");
	if (rc)
		return rc;
	snprintf(checkpoint, sizeof checkpoint, "%s%s", ES__PROJECTION_CHECKPOINT, name);
	if ((rc = es__commit_hook_remove(db, checkpoint)) == ES_ENOTFOUND)
		rc = es_error_set(ES_ENOTFOUND, "es_projection_inline_remove: projection '%s' is not inline "
		                  "on this handle", name);
	return rc;
}
