/*
 * migrate.c - es_migrate: a store copied into a new one through an upcaster
 * registry, on the engine's importer, which checks every event against the
 * copy as it goes and replays the streams' deletes at their point of the
 * history. Then the snapshots of the asked-for aggregate types are rebuilt
 * at the source's versions, each stream folded once (rebuild.c), and
 * written in one transaction per type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate_int.h"
#include "es_options.h"
#include "evstore/import.h"
#include "evstore/migrate.h"

#define RENEW_EVENTS 4096   /* renew the source read this often (frees old pages) */
#define MAX_METADATA 256    /* pairs copied per event through the stack */

ES__OPTIONS_INIT_FN(es_migrate_options_init, es_migrate_options, ES_MIGRATE_OPTIONS_INIT,
                    ES_MIGRATE_OPTIONS_VERSION)

typedef struct migration {
	es_db *src, *dst;
	const es_migrate_options *o;
	es_migrate_stats st;
	es_importer *imp;
	es_read *rd;
	es_arena scratch;        /* one event's upcast and metadata copies */
} migration;

/* ---- stream states, given to the importer before any event ---- */

static int declare_stream(const char *stream, void *user_data)
{
	migration *m = user_data;
	es_stream_info si;
	int rc = es_stream_info_get(&si, m->rd, stream);
	if (rc)
		return rc;
	m->st.streams++;
	if (si.first_version == 0 && si.state == ES_STREAM_LIVE)
		return 0;
	m->st.special++;
	return es_import_stream_state(m->imp, stream, si.state, si.head_version, si.first_version);
}

/* ---- events ---- */

/* The event's metadata as NUL-terminated pairs in the scratch arena. */
static int copy_metadata(migration *m, es_imported_event *e, es_metadata *md, const es_event *ev)
{
	size_t cur = 0, n = 0, kl, vl;
	const char *k, *v;
	int rc;
	while ((rc = es_event_metadata_next(ev, &cur, &k, &kl, &v, &vl)) == 0) {
		char *kc = es_arena_alloc(&m->scratch, kl + 1), *vc = es_arena_alloc(&m->scratch, vl + 1);
		if (n == MAX_METADATA)
			return es_error_set(ES_ETOOBIG, "position %llu: more than %d metadata pairs",
			                    (unsigned long long)ev->position, MAX_METADATA);
		if (!kc || !vc)
			return es_error_set(ES_ENOMEM, "migrating: out of memory");
		memcpy(kc, k, kl);
		kc[kl] = '\0';
		memcpy(vc, v, vl);
		vc[vl] = '\0';
		md[n++] = (es_metadata){ kc, vc };
	}
	e->metadata = md;
	e->metadata_count = n;
	return rc == ES_ITEROVER ? 0 : rc;
}

static int copy_event(migration *m, const es_event *ev)
{
	es_event up = *ev;
	es_metadata md[MAX_METADATA];
	es_arena_reset(&m->scratch);
	int rc = m->o->registry ? es_registry_upcast(&up, m->o->registry, &m->scratch) : 0;
	if (rc) {
		char why[400];
		snprintf(why, sizeof why, "%s", es_error_last()->message);
		return es_error_set(rc, "position %llu: %s", (unsigned long long)ev->position, why);
	}
	m->st.upcast += up.type != ev->type || up.schema_version != ev->schema_version;
	m->st.foreign += !m->o->registry || es_registry_current(m->o->registry, up.type) == 0;
	es_imported_event e = { .stream = ev->stream, .version = ev->version, .position = ev->position,
	                        .recorded_at = ev->recorded_at, .occurred_at = ev->occurred_at,
	                        .type = up.type, .schema_version = up.schema_version,
	                        .payload = up.payload, .payload_len = up.payload_len };
	memcpy(e.id, ev->id, 16);
	memcpy(e.correlation_id, ev->correlation_id, 16);
	memcpy(e.causation_id, ev->causation_id, 16);
	if ((rc = copy_metadata(m, &e, md, ev)) || (rc = es_import_event(m->imp, &e)))
		return rc;
	m->st.events++;
	return 0;
}

static int progress(migration *m, uint64_t head)
{
	es_migrate_progress p = { m->st.events, head };
	return m->o->progress ? m->o->progress(&p, m->o->progress_user_data) : 0;
}

static int copy_log(migration *m, uint64_t head)
{
	es_iter *it;
	es_event ev;
	int rc = es_log_iter(&it, m->rd, 1, ES_FORWARD, (size_t)head);
	while (rc == 0 && (rc = es_iter_next(&ev, it)) == 0 && (rc = copy_event(m, &ev)) == 0) {
		/* The importer copied the event: the read may move on. */
		if (m->st.events % RENEW_EVENTS == 0)
			rc = es_read_renew(m->rd);
		if (rc == 0 && m->st.events % ES_MIGRATE_PROGRESS_EVERY == 0)
			rc = progress(m, head);
	}
	es_iter_free(it);
	return rc == ES_ITEROVER ? progress(m, head) : rc;
}

/* ---- snapshots ---- */

typedef struct snap_ctx {
	migration *m;
	const es_aggregate_type *type;
	es_batch *batch;
	size_t staged;
} snap_ctx;

static int snapshot_stream(const char *stream, void *user_data)
{
	snap_ctx *c = user_data;
	size_t n = 0;
	int rc = es__snapshots_restage(&n, c->batch, c->m->dst, c->m->src, c->type, stream);
	c->staged += n;
	return rc;
}

/* Every snapshot of the type in one transaction: rebuilt data, written once. */
static int copy_snapshots(migration *m, const es_aggregate_type *type)
{
	snap_ctx c = { m, type, NULL, 0 };
	es_read *rd;
	int rc = es__check_type(type);
	if (rc == 0 && !type->snapshot_encode)
		rc = es_error_set(ES_EINVAL, "es_migrate: type '%s' cannot encode snapshots", type->name);
	if (rc || (rc = es_batch_new(&c.batch, m->dst)))
		return rc;
	if ((rc = es_read_begin(&rd, m->src)) == 0) {
		rc = es_stream_list(rd, type->stream_prefix, NULL, ES_NO_LIMIT, snapshot_stream, &c);
		es_read_end(rd);
	}
	if (rc || !c.staged) {
		es_batch_free(c.batch);
		return rc;
	}
	if ((rc = es_batch_commit(c.batch, NULL)) == 0)
		m->st.snapshots += c.staged;
	return rc;
}

/* ---- the whole migration ---- */

static int run(migration *m)
{
	uint64_t head = 0, dst_head = 0;
	es_read *d;
	int rc = es_read_begin(&d, m->dst);
	if (rc == 0) {
		rc = es_log_head(&dst_head, d);
		es_read_end(d);
	}
	if (rc == 0 && dst_head != 0)
		return es_error_set(ES_EINVAL, "es_migrate: the target store is not empty (%llu events)",
		                    (unsigned long long)dst_head);
	es_import_options io = ES_IMPORT_OPTIONS_INIT;
	io.batch_events = m->o->batch_events;
	if (rc || (rc = es_import_begin(&m->imp, m->dst, &io)) || (rc = es_read_begin(&m->rd, m->src)))
		return rc;
	rc = es_log_head(&head, m->rd);
	if (rc == 0)
		rc = es_stream_list(m->rd, NULL, NULL, ES_NO_LIMIT, declare_stream, m);
	if (rc == 0)
		rc = copy_log(m, head);
	es_read_end(m->rd);
	es_import_stats ist = { 0 };
	if (rc)
		es_import_free(m->imp); /* what is queued is dropped */
	else
		rc = es_import_finish(m->imp, &ist);
	m->imp = NULL;
	m->st.soft_deletes = ist.soft_deletes;
	m->st.tombstones = ist.tombstones;
	for (size_t i = 0; rc == 0 && i < m->o->snapshot_type_count; i++)
		rc = copy_snapshots(m, m->o->snapshot_types[i]);
	return rc;
}

static int check_args(es_db *src, es_db *dst, const es_migrate_options **opts,
                      const es_migrate_options *defaults)
{
	int rc = es__options_pick((const void **)opts, defaults, ES_MIGRATE_OPTIONS_VERSION, "es_migrate");
	if (rc == 0 && (!src || !dst))
		rc = es_error_set(ES_EINVAL, "es_migrate: src and dst are required");
	if (rc == 0 && (*opts)->snapshot_type_count && !(*opts)->snapshot_types)
		rc = es_error_set(ES_EINVAL, "es_migrate: snapshot_types is NULL");
	return rc;
}

int es_migrate(es_migrate_stats *out, es_db *src, es_db *dst, const es_migrate_options *opts)
{
	es_migrate_options defaults = ES_MIGRATE_OPTIONS_INIT;
	migration m = { .src = src, .dst = dst };
	int rc = check_args(src, dst, &opts, &defaults);
	m.o = opts;
	if (rc == 0) {
		es_arena_init(&m.scratch, NULL, 0);
		rc = run(&m);
		es_arena_release(&m.scratch);
	}
	if (out)
		*out = m.st; /* what was copied, on failure too */
	return rc;
}
