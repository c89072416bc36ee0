/*
 * fold.c - loading aggregates: choose the newest usable snapshot at or below
 * the wanted version, fold the events after it, and rebuild passed-over
 * snapshots once the read is over.
 */
#include <stdlib.h>
#include <string.h>

#include "aggregate_int.h"

/* ---- the fold ---- */

typedef struct fold_ctx {
	es_load_info *info;
	int64_t stale_version;   /* newest passed-over snapshot, -1 if none */
	uint8_t *rewrite;        /* its state rebuilt during the fold */
	size_t rewrite_len;
} fold_ctx;

static int note_skip(int64_t version, es_snapshot_skip why, void *user_data)
{
	fold_ctx *ctx = user_data;
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
	es_snapshot_key key;
	es_snapshot snap;
	int rc = es__aggregate_key(&key, type);
	while (rc == 0 && max >= lo) {
		rc = es_snapshot_find(&snap, rd, stream, max, &key, note_skip, ctx);
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
	return rc;
}

static int fold_events(void *state, fold_ctx *ctx, es_read *rd, const es_aggregate_type *type,
                       const char *stream, int64_t from, int64_t max)
{
	es_iter *it = NULL;
	es_event ev;
	es_dispatch d;
	int rc = es__dispatch_init(&d, type);
	if (rc == 0)
		rc = es_stream_iter(&it, rd, stream, from, ES_FORWARD, (size_t)(max - from + 1));
	while (rc == 0 && (rc = es_iter_next(&ev, it)) == 0) {
		if ((rc = es__dispatch_apply(&d, state, &ev)))
			break;
		ctx->info->events_folded++;
		ctx->info->recorded_at = ev.recorded_at;
		if (ev.version == ctx->stale_version && es__snapshot_every(type))
			rc = es__state_encode(&ctx->rewrite, &ctx->rewrite_len, type, state);
	}
	es_iter_free(it);
	es__dispatch_done(&d);
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
	int64_t max = -1;
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
	if (from <= max) /* the fold ended on max: recorded_at is its */
		return 0;
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
	fold_ctx ctx = { 0 }; /* freed below even when fold_with fails before setting it up */
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
		es_snapshot_key key;
		info->snapshot_rewritten = es__aggregate_key(&key, type) == 0 &&
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
