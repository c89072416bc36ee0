/*
 * apply.c - applying a projection's events inside a transaction someone
 * else began: an append's (inline projections) or a rebuild's swap. The
 * events after the projection's checkpoint go through the options' filter,
 * upcasting and handler, between batch_begin and batch_end, and the
 * checkpoint moves to the head, all in that transaction.
 */
#include <stdio.h>
#include <string.h>

#include "es_alloc.h"
#include "proj_int.h"

int es__proj_applier_new(es__proj_applier **out, const es_projection_options *opts, const char *name,
                         const char *what)
{
	es__proj_applier *a = es_calloc(1, sizeof *a);
	if (!a)
		return es_error_set(ES_ENOMEM, "%s '%s': out of memory", what, name);
	a->o = *opts;
	a->what = what;
	snprintf(a->name, sizeof a->name, "%s", name);
	snprintf(a->checkpoint, sizeof a->checkpoint, "%s%s", ES__PROJECTION_CHECKPOINT, name);
	a->o.name = a->name;
	a->o.progress = NULL;
	es_arena_init(&a->arena, a->arena_buf, sizeof a->arena_buf);
	es_subscription_options so = ES_SUBSCRIPTION_OPTIONS_INIT;
	so.stream_prefixes = opts->stream_prefixes;
	so.n_stream_prefixes = opts->n_stream_prefixes;
	so.types = opts->types;
	so.n_types = opts->n_types;
	int rc = es__sub_filter_init(&a->filter, &so);
	if (rc) {
		es_free(a);
		return rc;
	}
	a->o.stream_prefixes = (const char *const *)a->filter.prefixes; /* the copies */
	a->o.types = (const char *const *)a->filter.types;
	*out = a;
	return 0;
}

void es__proj_applier_free(es__proj_applier *a)
{
	if (!a)
		return;
	es__sub_filter_free(&a->filter);
	es_arena_release(&a->arena);
	es_free(a);
}

/* The handler's error, with where it happened in front. */
static int refused(const es__proj_applier *a, const es_event *ev, int rc)
{
	char msg[512];
	snprintf(msg, sizeof msg, "%s", es_error_last()->message);
	int shown = (int)strcspn(a->name, "\x1f"); /* a rebuild's name without its suffix */
	return es_error_set(rc, "%s '%.*s' refused position %llu (stream '%s' version %lld): %s", a->what,
	                    shown, a->name, (unsigned long long)ev->position, ev->stream, (long long)ev->version,
	                    msg);
}

static int apply_one(es__proj_applier *a, es_projection_ctx *ctx, es_event *ev)
{
	int rc = 0;
	if (a->o.upcast) {
		es_arena_reset(&a->arena);
		rc = es_registry_upcast(ev, a->o.upcast, &a->arena);
	}
	if (rc || (a->filter.any && !es__sub_filter_match(&a->filter, ev)))
		return rc;
	if ((rc = a->o.handler(ctx, ev, a->o.user_data)))
		return refused(a, ev, rc);
	a->applied++;
	return 0;
}

/* Events (at, head] from the log, as the transaction has them. */
static int apply_logged(es__proj_applier *a, es_projection_ctx *ctx, es_read *rd, uint64_t at, uint64_t head)
{
	es_iter *it;
	es_event ev;
	int rc = es_log_iter(&it, rd, at + 1, ES_FORWARD, head - at);
	while (rc == 0 && (rc = es_iter_next(&ev, it)) == 0 && (rc = apply_one(a, ctx, &ev)) == 0)
		;
	es_iter_free(it);
	return rc == ES_ITEROVER ? 0 : rc;
}

/* The append's own events, as the engine handed them (no read-back). */
static int apply_views(es__proj_applier *a, es_projection_ctx *ctx, const es__commit_view *v)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < v->n; i++) {
		es_event ev = v->events[i]; /* a copy: upcasting rewrites it */
		rc = apply_one(a, ctx, &ev);
	}
	return rc;
}

int es__proj_applier_run(es__proj_applier *a, es__state_txn *t, es_read *rd, const es__commit_view *v)
{
	es_projection_ctx ctx = { t, a->name };
	uint64_t at = 0;
	int rc = es__state_checkpoint_get(&at, t, a->checkpoint);
	if (rc == ES_ENOTFOUND)
		rc = 0;
	if (rc || at >= v->head)
		return rc;
	if (a->o.batch_begin && (rc = a->o.batch_begin(&ctx, a->o.user_data)))
		return rc;
	rc = v->n && at == v->head - v->n ? apply_views(a, &ctx, v) : apply_logged(a, &ctx, rd, at, v->head);
	if (rc == 0 && a->o.batch_end)
		rc = a->o.batch_end(&ctx, a->o.user_data);
	return rc ? rc : es__state_checkpoint(t, a->checkpoint, v->head);
}
