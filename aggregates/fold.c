/*
 * fold.c - loading aggregates: choose the newest usable snapshot at or below
 * the wanted version, fold the events after it, and rebuild passed-over
 * snapshots once the read is over.
 */
#include <stdlib.h>
#include <string.h>

#include "aggregate_int.h"

void es__dispatch_init(es_dispatch *d, const es_aggregate_type *type)
{
	d->type = type;
	d->last_name = NULL;
	d->last_apply = NULL;
}

int es__dispatch_apply(es_dispatch *d, void *state, const es_event *ev)
{
	if (ev->type != d->last_name) {
		const es_event_handler *h = d->type->handlers, *end = h + d->type->handler_count;
		while (h < end && strcmp(h->type, ev->type) != 0)
			h++;
		if (h == end)
			return es_error_set(ES_ESCHEMA, "stream '%s' version %lld: aggregate '%s' has no "
			                    "handler for event type '%s'", ev->stream, (long long)ev->version,
			                    d->type->name, ev->type);
		d->last_name = ev->type;
		d->last_apply = h->apply;
	}
	return d->last_apply(state, ev);
}

int es_aggregate_apply(const es_aggregate_type *type, void *state, const es_event *ev)
{
	es_dispatch d;
	int rc = es__check_type(type);
	if (rc)
		return rc;
	if (!state || !ev || !ev->type)
		return es_error_set(ES_EINVAL, "es_aggregate_apply: state and event are required");
	es__dispatch_init(&d, type);
	return es__dispatch_apply(&d, state, ev);
}

es_snapshot_key es__aggregate_key(const es_aggregate_type *type)
{
	es_snapshot_key key = { type->state_schema_version, 0 };
	return key;
}

uint32_t es__snapshot_every(const es_aggregate_type *type)
{
	if (!type->snapshot_encode || !type->snapshot_decode || type->snapshot_every == UINT32_MAX)
		return 0;
	return type->snapshot_every ? type->snapshot_every : ES_SNAPSHOT_DEFAULT_EVERY;
}

int es__check_type(const es_aggregate_type *type)
{
	if (!type || type->version != ES_AGGREGATE_TYPE_VERSION || !type->name || !type->init ||
	    !type->state_size || (type->handler_count && !type->handlers))
		return es_error_set(ES_EINVAL, "aggregate type is NULL or incomplete (version, name, "
		                    "init, state_size and handlers are required)");
	return 0;
}

int es__state_encode(uint8_t **out, size_t *len, const es_aggregate_type *type, const void *state)
{
	int rc = type->snapshot_encode(out, len, state);
	if (rc)
		return rc < 0 ? rc : es_error_set(ES_EINVAL, "aggregate '%s': snapshot encoding failed", type->name);
	return 0;
}

void es__state_clear(const es_aggregate_type *type, void *state)
{
	if (type->clear)
		type->clear(state);
}

/* ---- the fold ---- */

typedef struct fold_ctx {
	es_load_info *info;
	int64_t stale_version;   /* newest passed-over snapshot, -1 if none */
	uint8_t *rewrite;        /* its state rebuilt during the fold */
	size_t rewrite_len;
} fold_ctx;

static int note_skip(int64_t version, es_snapshot_skip why, void *payload)
{
	fold_ctx *ctx = payload;
	ctx->info->snapshots_skipped++;
	ctx->info->skip_reason = why;
	if (ctx->stale_version < version)
		ctx->stale_version = version;
	return 0;
}

/* Starts the state from the newest usable snapshot in [lo, max]; a snapshot
 * whose state fails to decode is passed over like any unusable one. */
static int start_from_snapshot(void *state, fold_ctx *ctx, es_read *rd, const es_aggregate_type *type,
                               const char *stream, int64_t lo, int64_t max)
{
	es_snapshot_key key = es__aggregate_key(type);
	es_snapshot snap;
	while (max >= lo) {
		int rc = es_snapshot_find(&snap, rd, stream, max, &key, note_skip, ctx);
		if (rc == ES_ENOTFOUND || (rc == 0 && snap.version < lo))
			return 0;
		if (rc)
			return rc;
		if (type->snapshot_decode(state, snap.state, snap.state_len) == 0) {
			ctx->info->snapshot_version = snap.version;
			return 0;
		}
		es__state_clear(type, state);
		type->init(state);
		note_skip(snap.version, ES_SNAPSHOT_CORRUPT, ctx);
		max = snap.version - 1;
	}
	return 0;
}

static int fold_events(void *state, fold_ctx *ctx, es_read *rd, const es_aggregate_type *type,
                       const char *stream, int64_t from, int64_t max)
{
	es_iter *it;
	es_event ev;
	es_dispatch d;
	es__dispatch_init(&d, type);
	int rc = es_stream_iter(&it, rd, stream, from, ES_FORWARD, (size_t)(max - from + 1));
	while (rc == 0 && (rc = es_iter_next(&ev, it)) == 0) {
		if ((rc = es__dispatch_apply(&d, state, &ev)))
			break;
		ctx->info->events_folded++;
		if (ev.version == ctx->stale_version && es__snapshot_every(type))
			rc = es__state_encode(&ctx->rewrite, &ctx->rewrite_len, type, state);
	}
	es_iter_free(it);
	return rc == ES_ITEROVER ? 0 : rc;
}

static int target_version(int64_t *max, const es_stream_info *si, const char *stream, int64_t wanted)
{
	if (si->state == ES_STREAM_TOMBSTONED)
		return es_error_set(ES_EDELETED, "stream '%s' is tombstoned", stream);
	if (si->state == ES_STREAM_SOFT_DELETED || si->head_version < si->first_version)
		return es_error_set(ES_ENOTFOUND, "stream '%s' not found", stream);
	*max = wanted == ES_HEAD ? si->head_version : wanted;
	if (*max < si->first_version || *max > si->head_version)
		return es_error_set(ES_ENOTFOUND, "stream '%s' has no version %lld", stream, (long long)wanted);
	return 0;
}

static int fold(void *state, fold_ctx *ctx, es_read *rd, const es_aggregate_type *type,
                const char *stream, int64_t wanted)
{
	es_stream_info si;
	int64_t max;
	int rc = es_stream_info_get(&si, rd, stream);
	if (rc || (rc = target_version(&max, &si, stream, wanted)))
		return rc;
	if (es__snapshot_every(type) &&
	    (rc = start_from_snapshot(state, ctx, rd, type, stream, si.first_version, max)))
		return rc;
	int64_t from = ctx->info->snapshot_version >= 0 ? ctx->info->snapshot_version + 1 : si.first_version;
	if (from <= max && (rc = fold_events(state, ctx, rd, type, stream, from, max)))
		return rc;
	ctx->info->version = max;
	es_event last;
	if ((rc = es_stream_get(&last, rd, stream, max)))
		return rc;
	ctx->info->recorded_at = last.recorded_at;
	return 0;
}

static void info_init(es_load_info *info)
{
	memset(info, 0, sizeof *info);
	info->version = -1;
	info->snapshot_version = -1;
}

static int fold_with(void *state, es_load_info *info, fold_ctx *ctx, es_read *rd,
                     const es_aggregate_type *type, const char *stream, int64_t wanted)
{
	int rc = es__check_type(type);
	if (rc)
		return rc;
	if (!state || !rd)
		return es_error_set(ES_EINVAL, "aggregate load: state and read are required");
	info_init(info);
	memset(ctx, 0, sizeof *ctx);
	ctx->info = info;
	ctx->stale_version = -1;
	type->init(state);
	rc = fold(state, ctx, rd, type, stream, wanted);
	if (rc)
		es__state_clear(type, state);
	return rc;
}

int es_aggregate_fold(void *state, es_load_info *info, es_read *rd,
                      const es_aggregate_type *type, const char *stream, int64_t max_version)
{
	es_load_info local;
	fold_ctx ctx;
	int rc = fold_with(state, info ? info : &local, &ctx, rd, type, stream, max_version);
	free(ctx.rewrite);
	return rc;
}

/* Resolves t to a version; "did not exist at t" is ES_ENOTFOUND. */
static int version_at(int64_t *out, es_read *rd, const char *stream, int64_t t)
{
	int rc = es_stream_version_at(out, rd, stream, t);
	if (rc == ES_ENOTFOUND) {
		char when[ES_TIME_TEXT_SIZE];
		es_time_format(when, sizeof when, t);
		es_error_set(rc, "stream '%s' did not exist at %s", stream, when);
	}
	return rc;
}

int es_aggregate_fold_as_of(void *state, es_load_info *info, es_read *rd,
                            const es_aggregate_type *type, const char *stream, int64_t t)
{
	int64_t version;
	int rc = rd ? version_at(&version, rd, stream, t) : es_error_set(ES_EINVAL, "aggregate load: read is NULL");
	return rc ? rc : es_aggregate_fold(state, info, rd, type, stream, version);
}

/* A db-level load: fold in a short read, then rewrite the newest
 * passed-over snapshot from the state rebuilt during the fold. */
static int load(void *state, es_load_info *info, es_db *db, const es_aggregate_type *type,
                const char *stream, int64_t wanted, int64_t as_of, int use_time)
{
	es_load_info local;
	fold_ctx ctx = { 0 };
	es_read *rd;
	if (!info)
		info = &local;
	if (!db)
		return es_error_set(ES_EINVAL, "aggregate load: db is NULL");
	int rc = es_read_begin(&rd, db);
	if (rc)
		return rc;
	if (use_time)
		rc = version_at(&wanted, rd, stream, as_of);
	if (rc == 0)
		rc = fold_with(state, info, &ctx, rd, type, stream, wanted);
	es_read_end(rd);
	if (rc == 0 && ctx.rewrite) {
		es_snapshot_key key = es__aggregate_key(type);
		info->snapshot_rewritten =
		    es_snapshot_write(db, stream, ctx.stale_version, &key, ctx.rewrite, ctx.rewrite_len) == 0;
	}
	free(ctx.rewrite);
	return rc;
}

int es_aggregate_load(void *state, es_load_info *info, es_db *db,
                      const es_aggregate_type *type, const char *stream)
{
	return load(state, info, db, type, stream, ES_HEAD, 0, 0);
}

int es_aggregate_load_at_version(void *state, es_load_info *info, es_db *db,
                                 const es_aggregate_type *type, const char *stream, int64_t version)
{
	if (version < 0)
		return es_error_set(ES_EINVAL, "stream '%s': version %lld is negative", stream ? stream : "",
		                    (long long)version);
	return load(state, info, db, type, stream, version, 0, 0);
}

int es_aggregate_load_as_of(void *state, es_load_info *info, es_db *db,
                            const es_aggregate_type *type, const char *stream, int64_t t)
{
	return load(state, info, db, type, stream, ES_HEAD, t, 1);
}
