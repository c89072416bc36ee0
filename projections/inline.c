/*
 * inline.c - inline projections: the handler runs inside each append's own
 * transaction (an engine commit hook), so the read model commits with the
 * events it describes, and a handler error fails the append. The hook
 * applies every event after the projection's checkpoint, not only the
 * append's own: events appended through a handle or process that does not
 * run the projection are caught up by the next append that does.
 */
#include <stdio.h>
#include <string.h>

#include "es_alloc.h"
#include "es_sub_filter.h"
#include "proj_int.h"

#define ARENA_BYTES 4096

typedef struct inline_proj {
	es_projection_options o; /* o.name points at name */
	char name[ES_PROJECTION_NAME_MAX + 1];
	char checkpoint[ES__PROJECTION_CHECKPOINT_SIZE];
	es__sub_filter filter;
	es_arena arena; /* upcast payloads; hooks of one store run one at a time */
	unsigned char arena_buf[ARENA_BYTES];
} inline_proj;

/* Frees p; with the caller's user_data once p is in place (owned). */
static void inline_drop(inline_proj *p, bool owned)
{
	if (owned && p->o.user_data_free)
		p->o.user_data_free(p->o.user_data);
	es__sub_filter_free(&p->filter);
	es_arena_release(&p->arena);
	es_free(p);
}

static void inline_release(void *user_data)
{
	inline_drop(user_data, true);
}

/* The handler's error, with where it happened in front. */
static int refused(const inline_proj *p, const es_event *ev, int rc)
{
	char msg[512];
	snprintf(msg, sizeof msg, "%s", es_error_last()->message);
	return es_error_set(rc, "inline projection '%s' refused position %llu (stream '%s' version %lld): %s",
	                    p->name, (unsigned long long)ev->position, ev->stream, (long long)ev->version, msg);
}

static int apply_one(inline_proj *p, es_projection_ctx *ctx, es_event *ev)
{
	int rc = 0;
	if (p->o.upcast) {
		es_arena_reset(&p->arena);
		rc = es_registry_upcast(ev, p->o.upcast, &p->arena);
	}
	if (rc || (p->filter.any && !es__sub_filter_match(&p->filter, ev)))
		return rc;
	return (rc = p->o.handler(ctx, ev, p->o.user_data)) ? refused(p, ev, rc) : 0;
}

/* Events (at, head] from the log, as the transaction has them. */
static int apply_logged(inline_proj *p, es_projection_ctx *ctx, es_read *rd, uint64_t at, uint64_t head)
{
	es_iter *it;
	es_event ev;
	int rc = es_log_iter(&it, rd, at + 1, ES_FORWARD, head - at);
	while (rc == 0 && (rc = es_iter_next(&ev, it)) == 0 && (rc = apply_one(p, ctx, &ev)) == 0)
		;
	es_iter_free(it);
	return rc == ES_ITEROVER ? 0 : rc;
}

/* The append's own events, as the engine handed them (no read-back). */
static int apply_views(inline_proj *p, es_projection_ctx *ctx, const es__commit_view *v)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < v->n; i++) {
		es_event ev = v->events[i]; /* a copy: upcasting rewrites it */
		rc = apply_one(p, ctx, &ev);
	}
	return rc;
}

/* The commit hook: events (checkpoint, head] through the handler, then the
 * checkpoint to head. */
static int run_inline(es__state_txn *t, es_read *rd, const es__commit_view *v, void *user_data)
{
	inline_proj *p = user_data;
	es_projection_ctx ctx = { t, p->name };
	uint64_t at = 0;
	int rc = es__state_checkpoint_get(&at, t, p->checkpoint);
	if (rc == ES_ENOTFOUND)
		rc = 0;
	if (rc || at >= v->head)
		return rc;
	if (p->o.batch_begin && (rc = p->o.batch_begin(&ctx, p->o.user_data)))
		return rc;
	rc = v->n && at == v->head - v->n ? apply_views(p, &ctx, v) : apply_logged(p, &ctx, rd, at, v->head);
	if (rc == 0 && p->o.batch_end)
		rc = p->o.batch_end(&ctx, p->o.user_data);
	return rc ? rc : es__state_checkpoint(t, p->checkpoint, v->head);
}

static int inline_new(inline_proj **out, const es_projection_options *opts)
{
	inline_proj *p = es_calloc(1, sizeof *p);
	if (!p)
		return es_error_set(ES_ENOMEM, "es_projection_inline_add: out of memory");
	p->o = *opts;
	snprintf(p->name, sizeof p->name, "%s", opts->name);
	snprintf(p->checkpoint, sizeof p->checkpoint, "%s%s", ES__PROJECTION_CHECKPOINT, opts->name);
	p->o.name = p->name;
	p->o.progress = NULL;
	es_arena_init(&p->arena, p->arena_buf, sizeof p->arena_buf);
	es_subscription_options so = ES_SUBSCRIPTION_OPTIONS_INIT;
	so.stream_prefixes = opts->stream_prefixes;
	so.n_stream_prefixes = opts->n_stream_prefixes;
	so.types = opts->types;
	so.n_types = opts->n_types;
	int rc = es__sub_filter_init(&p->filter, &so);
	if (rc) {
		es_free(p);
		return rc;
	}
	p->o.stream_prefixes = (const char *const *)p->filter.prefixes; /* the copies, for the catch-ups */
	p->o.types = (const char *const *)p->filter.types;
	*out = p;
	return 0;
}

int es_projection_inline_add(es_db *db, const es_projection_options *opts)
{
	inline_proj *p = NULL;
	int rc = es__proj_check_options(db, opts, "es_projection_inline_add");
	if (rc || (rc = inline_new(&p, opts)))
		return rc;
	es_projection_stats st = { 0 };
	/* Caught up in batches first, so no append carries the whole history;
	 * then once more, for what was appended before the hook was in place. */
	if ((rc = es__proj_catch_up(&st, db, &p->o))) {
		inline_drop(p, false);
		return rc;
	}
	if ((rc = es__commit_hook_add(db, p->checkpoint, run_inline, inline_release, p))) {
		if (rc == ES_EINVAL)
			rc = es_error_set(rc, "es_projection_inline_add: projection '%s' is already inline on "
			                  "this handle", p->name);
		inline_drop(p, false);
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
