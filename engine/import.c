/*
 * import.c - the importer (evstore/import.h): one set of checks for
 * restoring, migrating and following, done as each event is given so that a
 * refusal names the event and changes nothing; then large import batches,
 * each one durable transaction holding the events and the deletes between
 * them in history's order.
 *
 * The importer keeps each touched stream's head as the import stands (the
 * store's record plus what is queued), so checks need no write transaction.
 * It reads the store (stream records, the id index) through one read
 * transaction, ended whenever a batch goes to be committed and begun again
 * at the next lookup. Batches are committed by a thread of the importer's
 * own (import_commit.c) while the next one is built.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "es_alloc.h"
#include "es_array.h"
#include "es_options.h"
#include "evstore/import.h"
#include "import_int.h"

/* batch_events above this would make the id index absurdly large. */
#define MAX_BATCH_EVENTS ((size_t)1 << 24)

ES__OPTIONS_INIT_FN(es_import_options_init, es_import_options, ES_IMPORT_OPTIONS_INIT,
                    ES_IMPORT_OPTIONS_VERSION)

/* ---- messages ---- */

static int refuse(const es_imported_event *ev, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "import of stream 's' version v at position p: <why>" */
static int refuse(const es_imported_event *ev, int code, const char *fmt, ...)
{
	char why[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return es_error_set(code, "import of stream '%.80s' version %lld at position %llu: %s",
	                    ev->stream ? ev->stream : "(none)", (long long)ev->version,
	                    (unsigned long long)ev->position, why);
}

int es__import_failed_before(void)
{
	return es_error_set(ES_EINVAL, "import: a commit failed earlier; the importer can only be freed");
}

/* ---- the store, through the importer's read ---- */

static int read_begin(es_importer *imp)
{
	return imp->rd ? 0 : es__read_txn_begin(imp->db, &imp->rd);
}

static void read_end(es_importer *imp)
{
	es__read_txn_end(imp->db, imp->rd);
	imp->rd = NULL;
}

/* The table's entry for a stream, made from the store's record the first time. */
int es__import_stream_get(es__import_stream **out, es_importer *imp, const char *name)
{
	if ((*out = es__import_stream_find(&imp->streams, name)))
		return 0;
	es_stream_rec rec;
	int rc = read_begin(imp);
	if (rc == 0 && (rc = es__stream_rec_get(imp->rd, imp->db, name, &rec)) == ES_ENOTFOUND) {
		rc = 0;
		rec = (es_stream_rec){ .head = -1 };
	}
	if (rc || (rc = es__import_stream_add(out, &imp->streams, name)))
		return rc;
	(*out)->head = rec.head;
	(*out)->first_visible = rec.first_visible;
	(*out)->soft_deleted = rec.flags & ES_SF_SOFT_DELETED;
	(*out)->tombstoned = rec.flags & ES_SF_TOMBSTONED;
	return 0;
}

/* Where an id is stored: ES_ENOTFOUND, or 0 with the stream and version. */
static int stored_id(es_importer *imp, const uint8_t id[16], char name[ES_STREAM_NAME_MAX + 1],
                     int64_t *version)
{
	MDB_val k = { 16, (void *)id }, v;
	int rc = read_begin(imp);
	if (rc || (rc = mdb_get(imp->rd, imp->db->dbi.event_ids, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? ES_ENOTFOUND : rc ? es__error_lmdb(rc, "import: looking up an id") : rc;
	if (v.mv_size != 16)
		return es_error_set(ES_ECORRUPT, "event id index entry is malformed");
	const char *s;
	size_t len;
	*version = (int64_t)es__get_be64((const uint8_t *)v.mv_data + 8);
	snprintf(name, ES_STREAM_NAME_MAX + 1, "?");
	if (es__stream_name(imp->rd, imp->db, es__get_be64(v.mv_data), &s, &len) == 0 &&
	    len <= ES_STREAM_NAME_MAX) {
		memcpy(name, s, len);
		name[len] = '\0';
	}
	return 0;
}

/* ---- committing a batch ---- */

/* Waits for the batch in flight and counts it once it is committed. */
static int land(es_importer *imp)
{
	int rc = es__import_committer_wait(&imp->committer);
	es__import_batch *f = imp->flying;
	imp->flying = NULL;
	if (rc) {
		imp->failed = true;
		return rc;
	}
	if (f) {
		imp->st.events += f->n_events;
		imp->st.soft_deletes += f->deletes;
		imp->st.tombstones += f->tombstones;
		imp->st.batches++;
	}
	return 0;
}

/* Hands the batch to the committer (once the one before has landed) and
 * starts the next in the other buffer. */
static int flush(es_importer *imp)
{
	if (imp->b->n_ops == 0)
		return 0;
	/* A commit may grow the map, which waits for every read to end: end
	 * ours before waiting for the one in flight. The next lookup begins a
	 * new read, which sees the store without the batch handed over now: its
	 * ids are looked up in the batch itself meanwhile. */
	read_end(imp);
	int rc = land(imp);
	if (rc)
		return rc;
	imp->b->end_position = imp->next_position;
	imp->flying = imp->b;
	es__import_committer_put(&imp->committer, imp->flying);
	imp->b = imp->b == &imp->buf[0] ? &imp->buf[1] : &imp->buf[0];
	es__import_batch_reset(imp->b, imp->next_position);
	return 0;
}

/* ---- queueing ---- */

int es__import_add_op(es_importer *imp, es__import_op_kind kind, es__import_stream *s, int64_t expected)
{
	es__import_batch *b = imp->b;
	int rc = es__array_grow((void **)&b->ops, &b->cap_ops, b->n_ops, sizeof *b->ops, "import");
	if (rc == 0)
		b->ops[b->n_ops++] = (es__import_op){ kind, s, expected, b->n_events, 0 };
	return rc;
}

static void *copy(es_importer *imp, const void *p, size_t n, bool nul)
{
	unsigned char *c = es__import_bytes_alloc(&imp->b->bytes, n + nul);
	if (c) {
		if (n)
			memcpy(c, p, n);
		if (nul)
			c[n] = '\0';
	}
	return c;
}

/* Copies the event's bytes into the batch's blocks. */
static int copy_event(es_importer *imp, es_event_data *d, const es_imported_event *ev)
{
	size_t total = ev->payload_len, n = ev->metadata_count;
	es_metadata *md = n ? es__import_bytes_alloc(&imp->b->bytes, n * sizeof *md) : NULL;
	bool ok = !n || md;
	for (size_t i = 0; i < n && ok; i++) {
		size_t kl = strlen(ev->metadata[i].key), vl = strlen(ev->metadata[i].value);
		md[i].key = copy(imp, ev->metadata[i].key, kl, true);
		md[i].value = copy(imp, ev->metadata[i].value, vl, true);
		ok = md[i].key && md[i].value;
		total += kl + vl;
	}
	d->metadata = md;
	d->type = copy(imp, ev->type, strlen(ev->type), true);
	d->payload = copy(imp, ev->payload, ev->payload_len, false);
	if (!ok || !d->type || !d->payload)
		return refuse(ev, ES_ENOMEM, "out of memory");
	imp->b->bytes_used += total;
	return 0;
}

static int queue(es_importer *imp, es__import_stream *s, const es_imported_event *ev, const es_event_data *in)
{
	es__import_batch *b = imp->b;
	es_event_data *d = &b->events[b->n_events];
	*d = *in;
	int rc = copy_event(imp, d, ev);
	es__import_op *last = b->n_ops ? &b->ops[b->n_ops - 1] : NULL;
	if (rc == 0 && !(last && last->kind == ES__IMPORT_APPEND && last->stream == s))
		rc = es__import_add_op(imp, ES__IMPORT_APPEND, s, ev->version == 0 ? ES_NO_STREAM : ev->version - 1);
	if (rc)
		return rc;
	b->ops[b->n_ops - 1].count++;
	es__import_ids_add(&b->ids, d->id, b->n_events++);
	if (es__import_bloom_add(&imp->given, d->id))
		imp->given_whole = false; /* from now on every id is looked up */
	s->head = ev->version;
	s->soft_deleted = false; /* an event after a soft delete recreates the stream */
	imp->next_position++;
	imp->last_at = ev->recorded_at;
	return es__import_settle(imp, s);
}

/* ---- checks ---- */

static int check_id(es_importer *imp, const es_imported_event *ev)
{
	static const uint8_t zero[16];
	char text[ES_ID_TEXT_SIZE], where[ES_STREAM_NAME_MAX + 1];
	int64_t version = -1;
	if (memcmp(ev->id, zero, 16) == 0)
		return refuse(ev, ES_EINVAL, "its id is all zero (an import keeps ids, so it needs them)");
	if (imp->empty_at_start && imp->given_whole && !es__import_bloom_maybe(&imp->given, ev->id))
		return 0;
	es_id_format(ev->id, text);
	/* In the batch being built, or in the one being committed. */
	for (const es__import_batch *b = imp->b; b; b = b == imp->b ? imp->flying : NULL) {
		const es_event_data *q = es__import_ids_find(&b->ids, b->events, ev->id);
		if (!q)
			continue;
		size_t at = (size_t)(q - b->events);
		const es__import_op *o = b->ops;
		while (o->kind != ES__IMPORT_APPEND || at < o->start || at >= o->start + o->count)
			o++;
		return refuse(ev, ES_EDUPLICATE, "event id %s was given before in this import (stream '%s' "
		              "version %lld)", text, o->stream->name, (long long)q->version);
	}
	int rc = stored_id(imp, ev->id, where, &version);
	if (rc == 0)
		return refuse(ev, ES_EDUPLICATE, "event id %s is already stored (stream '%s' version %lld)",
		              text, where, (long long)version);
	return rc == ES_ENOTFOUND ? 0 : rc;
}

/* Whether ev continues the history where s and the import stand. */
static int check_fits(es_importer *imp, const es__import_stream *s, const es_imported_event *ev)
{
	if (ev->position != imp->next_position)
		return refuse(ev, ES_ECONFLICT, "the store's next position is %llu",
		              (unsigned long long)imp->next_position);
	if (s->tombstoned)
		return refuse(ev, ES_EDELETED, "the stream is tombstoned");
	if (s->declared && ev->version > s->want_head)
		return refuse(ev, ES_ECONFLICT, "its stream state says it ends at version %lld",
		              (long long)s->want_head);
	if (ev->version != s->head + 1)
		return refuse(ev, ES_ECONFLICT, "the stream's next version is %lld", (long long)s->head + 1);
	if (ev->recorded_at < imp->last_at)
		return refuse(ev, ES_EINVAL, "its recorded_at %lld is before the previous event's %lld",
		              (long long)ev->recorded_at, (long long)imp->last_at);
	return check_id(imp, ev);
}

static int check_event(es_importer *imp, const es_imported_event *ev, es_event_data *d)
{
	int rc = es__check_stream_name(ev->stream);
	if (rc) {
		char why[300];
		snprintf(why, sizeof why, "%s", es_error_last()->message);
		return refuse(ev, rc, "%s", why);
	}
	if (ev->metadata_count && !ev->metadata)
		return refuse(ev, ES_EINVAL, "metadata is NULL");
	for (size_t i = 0; i < ev->metadata_count; i++)
		if (!ev->metadata[i].key || !ev->metadata[i].value)
			return refuse(ev, ES_EINVAL, "metadata entry %zu has a NULL key or value", i);
	*d = (es_event_data){ .type = ev->type, .schema_version = ev->schema_version,
	                      .occurred_at = ev->occurred_at, .metadata = ev->metadata,
	                      .metadata_count = ev->metadata_count, .payload = ev->payload,
	                      .payload_len = ev->payload_len, .version = ev->version,
	                      .position = ev->position, .recorded_at = ev->recorded_at };
	memcpy(d->id, ev->id, 16);
	memcpy(d->correlation_id, ev->correlation_id, 16);
	memcpy(d->causation_id, ev->causation_id, 16);
	rc = es__event_check(imp->db, ev->stream, 0, d);
	if (rc) {
		char why[400];
		const char *m = es_error_last()->message, *colon = strstr(m, ": ");
		snprintf(why, sizeof why, "%s", colon ? colon + 2 : m); /* past "stream 's' event 0: " */
		return refuse(ev, rc, "%s", why);
	}
	return 0;
}

int es_import_event(es_importer *imp, const es_imported_event *ev)
{
	if (!imp || !ev)
		return es_error_set(ES_EINVAL, "es_import_event: imp and ev are required");
	if (imp->failed)
		return es__import_failed_before();
	es_event_data d;
	es__import_stream *s;
	int rc = check_event(imp, ev, &d);
	if (rc || (rc = es__import_stream_get(&s, imp, ev->stream)) || (rc = check_fits(imp, s, ev)))
		return rc;
	/* A batch ends between source commits (events sharing a recorded_at)
	 * unless it grows to twice its size. */
	const es__import_batch *b = imp->b;
	bool full = b->n_events >= imp->max_events || b->bytes_used >= imp->max_bytes;
	bool hard = b->n_events >= 2 * imp->max_events || b->bytes_used >= 2 * imp->max_bytes;
	if (((full && ev->recorded_at != imp->last_at) || hard) && (rc = flush(imp)))
		return rc;
	return queue(imp, s, ev, &d);
}

/* ---- begin, finish, free ---- */

int es_import_begin(es_importer **out, es_db *db, const es_import_options *opts)
{
	es_import_options defaults = ES_IMPORT_OPTIONS_INIT;
	if (out)
		*out = NULL;
	int rc = es__options_pick((const void **)&opts, &defaults, ES_IMPORT_OPTIONS_VERSION, "es_import_begin");
	if (rc || !out || !db)
		return rc ? rc : es_error_set(ES_EINVAL, "es_import_begin: out and db are required");
	if (opts->batch_events > MAX_BATCH_EVENTS)
		return es_error_set(ES_EINVAL, "es_import_begin: batch_events %zu is over %zu",
		                    opts->batch_events, MAX_BATCH_EVENTS);
	if (db->read_only)
		return es_error_set(ES_EREADONLY, "store '%s' is open read-only", db->path);
	es_importer *imp = es_calloc(1, sizeof *imp);
	if (!imp)
		return es_error_set(ES_ENOMEM, "es_import_begin: out of memory");
	imp->db = db;
	imp->max_events = opts->batch_events ? opts->batch_events : ES_IMPORT_BATCH;
	imp->max_bytes = opts->batch_bytes ? opts->batch_bytes : ES_IMPORT_BATCH_BYTES;
	uint64_t clock = 0;
	imp->b = &imp->buf[0];
	rc = es__import_batch_init(&imp->buf[0], imp->max_events);
	if (rc == 0)
		rc = es__import_batch_init(&imp->buf[1], imp->max_events);
	if (rc == 0)
		rc = es__import_committer_start(&imp->committer, db);
	if (rc == 0)
		rc = read_begin(imp);
	if (rc == 0)
		rc = es__meta_get_u64(imp->rd, db, "next_position", &imp->next_position, 1);
	if (rc == 0)
		rc = es__meta_get_u64(imp->rd, db, "clock", &clock, 0);
	if (rc) {
		es_import_free(imp);
		return rc;
	}
	imp->last_at = (int64_t)clock;
	imp->st.first_position = imp->next_position;
	/* No event, no id: positions start at 1 and every event has one. */
	imp->empty_at_start = imp->next_position == 1;
	imp->given_whole = true;
	es__import_batch_reset(imp->b, imp->next_position);
	*out = imp;
	return 0;
}

int es_import_finish(es_importer *imp, es_import_stats *out)
{
	if (!imp)
		return es_error_set(ES_EINVAL, "es_import_finish: imp is required");
	int rc = imp->failed ? es__import_failed_before() : es__import_check_settled(imp);
	if (rc == 0 && (rc = flush(imp)) == 0) {
		read_end(imp);
		rc = land(imp);
	}
	imp->st.next_position = imp->st.first_position + imp->st.events;
	if (out)
		*out = imp->st;
	es_import_free(imp);
	return rc;
}

void es_import_free(es_importer *imp)
{
	if (!imp)
		return;
	read_end(imp);
	es__import_committer_stop(&imp->committer); /* a commit under way finishes */
	es__import_streams_free(&imp->streams);
	es__import_batch_free(&imp->buf[0]);
	es__import_batch_free(&imp->buf[1]);
	es__import_bloom_free(&imp->given);
	es_free(imp);
}
