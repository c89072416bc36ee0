/*
 * rebuild.c - rebuild every snapshot of an aggregate type from the events,
 * under the current state schema and upcaster chain. Each stream is folded
 * once in a read; the rebuilt snapshots are then written in one batch. The
 * same fold stages a migration's snapshots (migrate.c), at the versions the
 * source store had them.
 */
#include <stdlib.h>
#include <string.h>

#include "aggregate_int.h"
#include "es_alloc.h"
#include "es_array.h"

typedef struct rebuilt_state {
	int64_t version;
	uint8_t *bytes;
	size_t len;
} rebuilt_state;

typedef struct stream_plan {
	int64_t *versions;   /* snapshot versions to rebuild, oldest first */
	size_t count;
	rebuilt_state *out;
	size_t done;
} stream_plan;

static void plan_free(stream_plan *p)
{
	/* Encoded states (snapshot_encode) and the snapshot list are libc's
	 * by contract; only the out array is evstore's own. */
	for (size_t i = 0; i < p->done; i++)
		free(p->out[i].bytes);
	es_free(p->out);
	free(p->versions);
}

static int fold_collecting(stream_plan *p, void *state, es_read *rd, const es_aggregate_type *type,
                           const char *stream)
{
	es_iter *it = NULL;
	es_event ev;
	es_dispatch d;
	int rc = es__dispatch_init(&d, type);
	if (rc == 0)
		rc = es_stream_iter(&it, rd, stream, 0, ES_FORWARD, ES_NO_LIMIT);
	while (rc == 0 && p->done < p->count && (rc = es_iter_next(&ev, it)) == 0) {
		if ((rc = es__dispatch_apply(&d, state, &ev)))
			break;
		while (p->done < p->count && p->versions[p->done] < ev.version)
			p->done++; /* before a soft delete: not part of today's stream */
		if (p->done < p->count && p->versions[p->done] == ev.version) {
			rebuilt_state *r = &p->out[p->done];
			r->version = ev.version;
			if ((rc = es__state_encode(&r->bytes, &r->len, type, state)))
				break;
			p->done++;
		}
	}
	es_iter_free(it);
	es__dispatch_done(&d);
	return rc == ES_ITEROVER ? 0 : rc;
}

/* The versions versions_from has snapshots at, and the states at them in db. */
static int plan_stream(stream_plan *p, es_db *db, es_db *versions_from, const es_aggregate_type *type,
                       const char *stream)
{
	es_read *rd;
	int rc = es_read_begin(&rd, versions_from);
	if (rc)
		return rc;
	rc = es_snapshot_list(&p->versions, &p->count, rd, stream);
	if (versions_from != db) {
		es_read_end(rd);
		if (rc == 0 && (rc = es_read_begin(&rd, db)) != 0)
			return rc;
	}
	void *state = rc ? NULL : es_calloc(1, type->state_size);
	if (rc == 0 && !state)
		rc = es_error_set(ES_ENOMEM, "rebuilding snapshots: out of memory");
	if (rc == 0 && p->count && !(p->out = es_calloc(p->count, sizeof *p->out)))
		rc = es_error_set(ES_ENOMEM, "rebuilding snapshots: out of memory");
	if (rc == 0 && p->count) {
		type->init(state);
		rc = fold_collecting(p, state, rd, type, stream);
		es__state_clear(type, state);
	}
	es_free(state);
	es_read_end(rd);
	return rc;
}

int es__snapshots_restage(size_t *staged, es_batch *batch, es_db *db, es_db *versions_from,
                          const es_aggregate_type *type, const char *stream)
{
	stream_plan p = { 0 };
	es_snapshot_key key;
	*staged = 0;
	int rc = es__aggregate_key(&key, type);
	if (rc == 0 && (rc = plan_stream(&p, db, versions_from, type, stream)) == ES_ENOTFOUND)
		rc = 0; /* deleted streams have nothing to load */
	else if (rc == ES_EDELETED)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < p.done; i++)
		if (p.out[i].bytes && (rc = es_snapshot_stage(batch, stream, p.out[i].version, &key,
		                                              p.out[i].bytes, p.out[i].len)) == 0)
			++*staged;
	plan_free(&p);
	return rc;
}

/* One stream's snapshots, rebuilt in one transaction. */
static int rebuild_stream(size_t *rebuilt, es_db *db, const es_aggregate_type *type, const char *stream)
{
	es_batch *b;
	size_t staged = 0;
	int rc = es_batch_new(&b, db);
	if (rc == 0 && (rc = es__snapshots_restage(&staged, b, db, db, type, stream)) == 0 && staged) {
		rc = es_batch_commit(b, NULL);
		b = NULL;
		*rebuilt += rc == 0 ? staged : 0;
	}
	es_batch_free(b);
	return rc;
}

typedef struct name_list {
	char **names;
	size_t n, cap;
} name_list;

static int collect_name(const char *stream, void *user_data)
{
	name_list *l = user_data;
	if (es__array_grow((void **)&l->names, &l->cap, l->n, sizeof *l->names, "listing streams"))
		return ES_ENOMEM;
	if (!(l->names[l->n] = es__strdup(stream)))
		return es_error_set(ES_ENOMEM, "listing streams: out of memory");
	l->n++;
	return 0;
}

static int list_streams(name_list *l, es_db *db, const char *prefix)
{
	es_read *rd;
	int rc = es_read_begin(&rd, db);
	if (rc)
		return rc;
	rc = es_stream_list(rd, prefix, NULL, ES_NO_LIMIT, collect_name, l);
	es_read_end(rd);
	return rc;
}

int es_aggregate_rebuild_snapshots(size_t *rebuilt, es_db *db, const es_aggregate_type *type)
{
	size_t local = 0;
	if (!rebuilt)
		rebuilt = &local;
	*rebuilt = 0;
	int rc = es__check_type(type);
	if (rc)
		return rc;
	if (!db || !type->stream_prefix || !es__snapshot_every(type))
		return es_error_set(ES_EINVAL, "rebuilding snapshots: db, a stream prefix and snapshot "
		                    "callbacks are required");
	name_list names = { 0 };
	rc = list_streams(&names, db, type->stream_prefix);
	for (size_t i = 0; rc == 0 && i < names.n; i++)
		rc = rebuild_stream(rebuilt, db, type, names.names[i]);
	for (size_t i = 0; i < names.n; i++)
		es_free(names.names[i]);
	es_free(names.names);
	return rc;
}
