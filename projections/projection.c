/*
 * projection.c - catch-up projections: events from a subscription are
 * copied into a batch, then handed to the handler inside one state
 * transaction that also moves the projection's checkpoint, so state and
 * position commit together. The subscription's read is released before
 * each write (a write may need to grow the map, which waits for this
 * thread's reads). A handler failure aborts the batch; the events before
 * the failing one are then applied again and committed with a record of
 * the failure (proj_int.h).
 */
#include <stdio.h>
#include <string.h>

#include "es_alloc.h"
#include "es_options.h"
#include "proj_int.h"

#define BATCH_ARENA (256 * 1024)

ES__OPTIONS_INIT_FN(es_projection_options_init, es_projection_options, ES_PROJECTION_OPTIONS_INIT,
                    ES_PROJECTION_OPTIONS_VERSION)

typedef struct batch {
	es_db *db;
	const es_projection_options *o;
	char checkpoint[ES__PROJECTION_CHECKPOINT_SIZE];
	es_event *events;
	size_t n, cap;
	uint64_t from;       /* the projection's position before the batch */
	bool exists;         /* it has a checkpoint (false: a new projection) */
	uint64_t end;        /* the position the batch takes the projection to */
	uint64_t head;       /* the log head the batch's transaction saw */
	size_t failed_at;    /* the event whose handler failed, or n */
	int failed_rc;
	char failed_msg[256];
	es_arena arena;      /* the events' strings and bytes */
} batch;

static int copy_bytes(const void **dst, es_arena *a, const void *src, size_t len)
{
	void *p = es_arena_alloc(a, len ? len : 1);
	if (!p)
		return es_error_set(ES_ENOMEM, "projection: out of memory for a batch");
	if (len)
		memcpy(p, src, len);
	*dst = p;
	return 0;
}

/* Copies ev (borrowed from the subscription) into the batch. */
static int hold(batch *b, const es_event *ev)
{
	es_event *e = &b->events[b->n];
	*e = *ev;
	const void *stream = NULL, *type = NULL;
	int rc = copy_bytes(&stream, &b->arena, ev->stream, strlen(ev->stream) + 1);
	if (rc == 0)
		rc = copy_bytes(&type, &b->arena, ev->type, strlen(ev->type) + 1);
	if (rc == 0)
		rc = copy_bytes(&e->payload, &b->arena, ev->payload, ev->payload_len);
	if (rc == 0)
		rc = copy_bytes(&e->metadata, &b->arena, ev->metadata, ev->metadata_len);
	if (rc)
		return rc;
	e->stream = stream;
	e->type = type;
	b->n++;
	return 0;
}

/* Fills the batch; *done once the subscription has caught up. */
static int collect(batch *b, es_subscription *sub, bool *done)
{
	es_subscription_item it;
	es_arena_reset(&b->arena);
	b->n = 0;
	b->from = es_subscription_position(sub);
	while (b->n < b->cap) {
		int rc = es_subscription_next(&it, sub, 0);
		if (rc == ES_ETIMEDOUT || (rc == 0 && it.kind == ES_SUBSCRIPTION_CAUGHT_UP)) {
			*done = true;
			break;
		}
		if (rc)
			return rc;
		if (it.kind == ES_SUBSCRIPTION_EVENT && (rc = hold(b, &it.event)))
			return rc;
	}
	b->end = es_subscription_position(sub);
	es_subscription_release(sub);
	return 0;
}

/* Is the projection still where the batch was read from? Its read may be
 * older than the newest commit: a writer killed in its commit leaves a
 * transaction readers see only once the next writer has recovered the
 * lock. The write transaction sees the truth. */
static int still_at_start(batch *b, es__state_txn *t)
{
	uint64_t saved = 0;
	int rc = es__state_checkpoint_get(&saved, t, b->checkpoint);
	if (rc && rc != ES_ENOTFOUND)
		return rc;
	if (rc == 0 ? b->exists && saved == b->from : !b->exists)
		return 0;
	b->from = saved;
	b->exists = rc == 0;
	return ES__PROJ_MOVED;
}

/* The state transaction: events [0, b->failed_at), the checkpoint, and the
 * failure record (or its removal). */
static int apply(es__state_txn *t, void *user_data)
{
	batch *b = user_data;
	es_projection_ctx ctx = { t, b->o->name };
	int rc = still_at_start(b, t);
	if (rc == 0 && b->o->progress)
		rc = es__state_log_head(&b->head, t);
	if (rc == 0 && b->o->batch_begin)
		rc = b->o->batch_begin(&ctx, b->o->user_data);
	if (rc)
		return rc;
	for (size_t i = 0; i < b->failed_at; i++) {
		if ((rc = b->o->handler(&ctx, &b->events[i], b->o->user_data))) {
			b->failed_at = i;
			b->failed_rc = rc;
			snprintf(b->failed_msg, sizeof b->failed_msg, "%s", es_error_last()->message);
			return rc;
		}
	}
	if (b->o->batch_end && (rc = b->o->batch_end(&ctx, b->o->user_data)))
		return rc;
	uint64_t end = b->failed_rc ? b->events[b->failed_at].position - 1 : b->end;
	rc = es__state_checkpoint(t, b->checkpoint, end);
	if (rc == 0)
		rc = b->failed_rc ? es__proj_failure_put(t, b->o->name, b->events[b->failed_at].position,
		                                         b->failed_rc, b->failed_msg)
		                  : es__proj_failure_clear(t, b->o->name);
	return rc;
}

/* Commits the batch; after a handler failure, commits what came before it
 * and returns the handler's code. */
static int commit(batch *b, es_projection_stats *st)
{
	b->failed_at = b->n;
	b->failed_rc = 0;
	int rc = es__state_write(b->db, apply, b);
	if (rc && b->failed_rc && rc == b->failed_rc)
		rc = es__state_write(b->db, apply, b); /* the events before it, and the record */
	if (rc)
		return rc;
	st->events += b->failed_at;
	st->batches++;
	if (b->o->progress)
		b->o->progress(st, b->head, b->o->progress_user_data);
	st->position = b->failed_rc ? b->events[b->failed_at].position - 1 : b->end;
	if (!b->failed_rc)
		return 0;
	return es_error_set(b->failed_rc, "projection '%s' stopped at position %llu: %s", b->o->name,
	                    (unsigned long long)b->events[b->failed_at].position, b->failed_msg);
}

/* From the checkpoint (first), or after b->from (once the batch found the
 * projection had moved); b->exists says whether it has a position. */
static int open_subscription(es_subscription **sub, batch *b, bool first)
{
	const es_projection_options *o = b->o;
	es_subscription_options so = ES_SUBSCRIPTION_OPTIONS_INIT;
	so.start = !first ? (b->exists ? ES_SUBSCRIPTION_AFTER : ES_SUBSCRIPTION_FROM_START)
	                  : ES_SUBSCRIPTION_FROM_CHECKPOINT;
	so.after = b->from;
	so.checkpoint = b->checkpoint;
	so.stream_prefixes = o->stream_prefixes;
	so.n_stream_prefixes = o->n_stream_prefixes;
	so.types = o->types;
	so.n_types = o->n_types;
	so.upcast = o->upcast;
	so.chunk = b->cap;
	int rc = es_subscription_open(sub, b->db, &so);
	if (first)
		b->exists = rc != ES_ENOTFOUND;
	if (rc == ES_ENOTFOUND && first) { /* a new projection starts at the beginning */
		so.start = ES_SUBSCRIPTION_FROM_START;
		rc = es_subscription_open(sub, b->db, &so);
	}
	return rc;
}

static int run(batch *b, es_projection_stats *st)
{
	es_subscription *sub = NULL;
	bool done = false;
	int rc = open_subscription(&sub, b, true);
	st->position = rc ? 0 : es_subscription_position(sub);
	while (rc == 0 && !done) {
		/* An empty batch still commits when it moves the position (a
		 * sparse filter) or gives a new projection its first one. */
		if ((rc = collect(b, sub, &done)) == 0 && (b->n || b->end != b->from || !b->exists))
			rc = commit(b, st);
		if (rc == ES__PROJ_MOVED) { /* read again from where it really is */
			es_subscription_free(sub);
			done = false;
			rc = open_subscription(&sub, b, false);
			continue;
		}
		b->exists = true;
	}
	es_subscription_free(sub);
	return rc;
}

int es_projection_catch_up(es_projection_stats *out, es_db *db, const es_projection_options *opts)
{
	int rc = es__proj_check_options(db, opts, "es_projection_catch_up");
	if (rc) {
		if (out)
			*out = (es_projection_stats){ 0 };
		return rc;
	}
	es_projection_stats st = { 0 };
	rc = es__proj_catch_up(&st, db, opts);
	if (out)
		*out = st;
	return rc;
}

int es__proj_catch_up(es_projection_stats *st, es_db *db, const es_projection_options *opts)
{
	int rc = 0;
	batch b = { .db = db, .o = opts };
	snprintf(b.checkpoint, sizeof b.checkpoint, "%s%s", ES__PROJECTION_CHECKPOINT, opts->name);
	b.cap = opts->batch ? opts->batch : ES__PROJ_DEFAULT_BATCH;
	if (!(b.events = es_calloc(b.cap, sizeof *b.events)))
		rc = es_error_set(ES_ENOMEM, "es_projection_catch_up: out of memory");
	void *arena_buf = rc ? NULL : es_malloc(BATCH_ARENA);
	es_arena_init(&b.arena, arena_buf, arena_buf ? BATCH_ARENA : 0);
	if (rc == 0)
		rc = run(&b, st);
	es_arena_release(&b.arena);
	es_free(arena_buf);
	es_free(b.events);
	return rc;
}

/* ---- the handler's context ---- */

static int ctx_key(es_projection_ctx *ctx, const void *key, size_t key_len, const char *fn)
{
	if (!ctx || !key || key_len == 0 || key_len > ES__PROJECTION_KEY_MAX)
		return es_error_set(ES_EINVAL, "%s: a key of 1 to %d bytes is required", fn, ES__PROJECTION_KEY_MAX);
	return 0;
}

int es_projection_get(const void **value, size_t *value_len, es_projection_ctx *ctx, const void *key,
                      size_t key_len)
{
	int rc = ctx_key(ctx, key, key_len, "es_projection_get");
	if (rc == 0 && (!value || !value_len))
		rc = es_error_set(ES_EINVAL, "es_projection_get: value and value_len are required");
	return rc ? rc : es__state_get(value, value_len, ctx->t, ctx->name, key, key_len);
}

int es_projection_put(es_projection_ctx *ctx, const void *key, size_t key_len, const void *value,
                      size_t value_len)
{
	int rc = ctx_key(ctx, key, key_len, "es_projection_put");
	if (rc == 0 && !value && value_len)
		rc = es_error_set(ES_EINVAL, "es_projection_put: value is NULL");
	return rc ? rc : es__state_put(ctx->t, ctx->name, key, key_len, value ? value : "", value_len);
}

int es_projection_delete(es_projection_ctx *ctx, const void *key, size_t key_len)
{
	int rc = ctx_key(ctx, key, key_len, "es_projection_delete");
	return rc ? rc : es__state_del(ctx->t, ctx->name, key, key_len);
}
