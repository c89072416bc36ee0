/*
 * snapshot.c - snapshots in their envelope (format in the engine's
 * es_engine_int.h): selection of the newest usable one, staging into a
 * batch, and thinning.
 */
#include <stdlib.h>
#include <string.h>

#include "evstore/snapshot.h"
#include "es_alloc.h"
#include "es_engine_int.h"
#include "es_options.h"

const char *es_snapshot_skip_str(es_snapshot_skip why)
{
	switch (why) {
	case ES_SNAPSHOT_USABLE: return "usable";
	case ES_SNAPSHOT_SCHEMA_CHANGED: return "state schema changed";
	case ES_SNAPSHOT_FINGERPRINT_CHANGED: return "upcaster chain changed";
	case ES_SNAPSHOT_CORRUPT: return "corrupt";
	default: return "unknown";
	}
}

static uint8_t *envelope_new(size_t *len, const es_snapshot_key *key, const void *state, size_t state_len)
{
	uint8_t *buf = es_malloc(ES__ENVELOPE_HEADER + state_len);
	if (!buf)
		return NULL;
	es__envelope_seal(buf, key->schema_version, key->fingerprint, state, state_len);
	if (state_len)
		memcpy(buf + ES__ENVELOPE_HEADER, state, state_len);
	*len = ES__ENVELOPE_HEADER + state_len;
	return buf;
}

static es_snapshot_skip envelope_check(es__envelope *env, const void *bytes, size_t len,
                                       const es_snapshot_key *key)
{
	if (es__envelope_open(env, bytes, len) != ES__ENVELOPE_INTACT)
		return ES_SNAPSHOT_CORRUPT;
	if (env->state_schema != key->schema_version)
		return ES_SNAPSHOT_SCHEMA_CHANGED;
	if (env->fingerprint != key->fingerprint)
		return ES_SNAPSHOT_FINGERPRINT_CHANGED;
	return ES_SNAPSHOT_USABLE;
}

int es_snapshot_find(es_snapshot *out, es_read *rd, const char *stream, int64_t max_version,
                     const es_snapshot_key *key, es_snapshot_skip_fn on_skip, void *user_data)
{
	if (!out || !rd || !key)
		return es_error_set(ES_EINVAL, "es_snapshot_find: out, rd and key are required");
	int rc = es__check_stream_name(stream);
	while (rc == 0) {
		int64_t version;
		const void *bytes;
		size_t len;
		if ((rc = es__snapshot_get_le(&version, &bytes, &len, rd, stream, max_version)))
			break;
		es__envelope env;
		es_snapshot_skip why = envelope_check(&env, bytes, len, key);
		if (why == ES_SNAPSHOT_USABLE) {
			out->version = version;
			out->state = env.state;
			out->state_len = env.state_len;
			return 0;
		}
		if (on_skip && (rc = on_skip(version, why, user_data)) != 0)
			return rc;
		max_version = version - 1;
	}
	return rc;
}

/* Where an enveloped snapshot goes: into a batch, or straight to the store. */
typedef int (*envelope_sink)(void *target, const char *stream, int64_t version,
                             const void *bytes, size_t len);

static int sink_batch(void *batch, const char *stream, int64_t version, const void *bytes, size_t len)
{
	return es__batch_put_snapshot(batch, stream, version, bytes, len);
}

static int sink_store(void *db, const char *stream, int64_t version, const void *bytes, size_t len)
{
	return es__snapshot_put(db, stream, version, bytes, len);
}

static int put_enveloped(envelope_sink sink, void *target, const char *what, const char *stream,
                         int64_t version, const es_snapshot_key *key, const void *state, size_t state_len)
{
	if (!target || !key || (state_len && !state))
		return es_error_set(ES_EINVAL, "%s: target, key and state are required", what);
	int rc = es__check_stream_name(stream);
	size_t len;
	uint8_t *buf = rc ? NULL : envelope_new(&len, key, state, state_len);
	if (rc || !buf)
		return rc ? rc : es_error_set(ES_ENOMEM, "%s: out of memory", what);
	rc = sink(target, stream, version, buf, len);
	es_free(buf);
	return rc;
}

int es_snapshot_stage(es_batch *batch, const char *stream, int64_t version,
                      const es_snapshot_key *key, const void *state, size_t state_len)
{
	return put_enveloped(sink_batch, batch, "es_snapshot_stage", stream, version, key, state, state_len);
}

int es_snapshot_write(es_db *db, const char *stream, int64_t version,
                      const es_snapshot_key *key, const void *state, size_t state_len)
{
	return put_enveloped(sink_store, db, "es_snapshot_write", stream, version, key, state, state_len);
}

/* ---- listing, counting, thinning ---- */

typedef struct version_list {
	int64_t *v;
	size_t n, cap;
} version_list;

/* The list becomes the caller's, who free()s it (snapshot.h): it grows with
 * libc's realloc, not through es_set_allocator's hook. */
static int collect_version(int64_t version, const void *bytes, size_t len, void *user_data)
{
	(void)bytes;
	(void)len;
	version_list *l = user_data;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		int64_t *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return es_error_set(ES_ENOMEM, "listing snapshots: out of memory");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = version;
	return 0;
}

int es_snapshot_list(int64_t **out, size_t *count, es_read *rd, const char *stream)
{
	if (!out || !count || !rd)
		return es_error_set(ES_EINVAL, "es_snapshot_list: out, count and rd are required");
	version_list l = { 0 };
	int rc = es__check_stream_name(stream);
	if (!rc)
		rc = es__snapshot_each(rd, stream, collect_version, &l);
	if (rc) {
		free(l.v);
		return rc == ES_ENOTFOUND ? es_error_set(rc, "stream '%s' not found", stream) : rc;
	}
	*out = l.v;
	*count = l.n;
	return 0;
}

/* The stream's snapshots recorded before cutoff, oldest first. A version is
 * old iff it is at or below the version the stream had just before cutoff. */
static int old_snapshots(version_list *old, es_db *db, const char *stream, int64_t cutoff)
{
	es_read *rd;
	int rc = es_read_begin(&rd, db);
	if (rc)
		return rc;
	int64_t newest_old = -1;
	rc = es_snapshot_list(&old->v, &old->n, rd, stream);
	/* Nothing is recorded before INT64_MIN (and cutoff - 1 would overflow). */
	if (rc == 0 && cutoff > INT64_MIN &&
	    (rc = es_stream_version_at(&newest_old, rd, stream, cutoff - 1)) == ES_ENOTFOUND)
		rc = 0; /* nothing was recorded before the cutoff */
	es_read_end(rd);
	size_t n = 0;
	while (n < old->n && old->v[n] <= newest_old)
		n++;
	old->n = n;
	return rc;
}

int es_snapshot_thin(size_t *removed, es_db *db, const char *stream, const es_thin_options *opts)
{
	if (removed)
		*removed = 0;
	if (!db || !opts || opts->version != ES_THIN_OPTIONS_VERSION || opts->keep_one_in == 0)
		return es_error_set(ES_EINVAL, "es_snapshot_thin: db and valid options (keep_one_in >= 1) are required");
	int rc = es__check_stream_name(stream);
	version_list old = { 0 };
	if (rc || (rc = old_snapshots(&old, db, stream, opts->older_than))) {
		free(old.v);
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < old.n; i++) {
		if (i % opts->keep_one_in == 0)
			continue;
		if ((rc = es__snapshot_delete(db, stream, old.v[i])) == 0 && removed)
			(*removed)++;
	}
	free(old.v);
	return rc;
}

ES__OPTIONS_INIT_FN(es_thin_options_init, es_thin_options, ES_THIN_OPTIONS_INIT, ES_THIN_OPTIONS_VERSION)
