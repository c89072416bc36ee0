/*
 * append.c - appends and batches: input validation, durable idempotency by
 * event id, expected-version checks, and the write of records, log entries
 * and id index entries in one transaction. A single-stream append is a batch
 * of one.
 */
#include <stdlib.h>
#include <string.h>

#include "es_alloc.h"
#include "es_array.h"
#include "db.h"
#include "record.h"

/* What an entry does: append events, or (import batches only) delete the
 * stream at that point of the batch, so a restore's deletes commit with the
 * events around them. */
typedef enum entry_kind { ENTRY_APPEND = 0, ENTRY_SOFT_DELETE, ENTRY_TOMBSTONE } entry_kind;

typedef struct batch_entry {
	const char *stream;
	int64_t expected;
	entry_kind kind;
	es_event_data *events;
	size_t count;
	uint8_t *caller_id; /* per event: 1 if the caller gave the id (set at commit) */
} batch_entry;

typedef struct pending_snapshot {
	char *stream;
	int64_t version;
	void *bytes;
	size_t len;
} pending_snapshot;

struct es_batch {
	es_db *db;
	batch_entry *entries;
	size_t n, cap;
	pending_snapshot *snaps;
	size_t n_snaps, cap_snaps;
	es_append_result *results;
	bool import;  /* keep the caller's recorded_at */
	uint64_t first_position; /* import: the position the first event must get (0: any) */
	bool ids_checked; /* the importer found every id new: skip the lookups */
};

int es_batch_new(es_batch **out, es_db *db)
{
	if (out)
		*out = NULL; /* callers free it on any failure (es_batch_free(NULL) is a no-op) */
	if (!out || !db)
		return es__error_set(ES_EINVAL, "es_batch_new: out and db are required");
	if (db->read_only)
		return es__error_set(ES_EREADONLY, "store '%s' is open read-only", db->path);
	*out = es_calloc(1, sizeof **out);
	if (!*out)
		return es__error_set(ES_ENOMEM, "es_batch_new: out of memory");
	(*out)->db = db;
	return 0;
}

void es_batch_free(es_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		es_free(b->entries[i].caller_id);
	for (size_t i = 0; i < b->n_snaps; i++) {
		es_free(b->snaps[i].stream);
		es_free(b->snaps[i].bytes);
	}
	es_free(b->entries);
	es_free(b->snaps);
	es_free(b);
}

int es__event_check(const es_db *db, const char *stream, size_t i, const es_event_data *ev)
{
	size_t tlen = ev->type ? strlen(ev->type) : 0;
	if (tlen == 0 || tlen > ES_TYPE_NAME_MAX)
		return es__error_set(ES_EINVAL, "stream '%s' event %zu: type name must be 1..%d bytes",
		                     stream, i, ES_TYPE_NAME_MAX);
	if (ev->payload_len && !ev->payload)
		return es__error_set(ES_EINVAL, "stream '%s' event %zu: payload is NULL", stream, i);
	if (ev->metadata_count && !ev->metadata)
		return es__error_set(ES_EINVAL, "stream '%s' event %zu: metadata is NULL", stream, i);
	for (size_t m = 0; m < ev->metadata_count; m++)
		if (!ev->metadata[m].key || !ev->metadata[m].value)
			return es__error_set(ES_EINVAL, "stream '%s' event %zu: metadata entry %zu has a NULL "
			                     "key or value", stream, i, m);
	size_t size = ev->payload_len + es__metadata_size(ev);
	if (size > db->max_event_size || ev->payload_len > UINT32_MAX)
		return es__error_set(ES_ETOOBIG, "stream '%s' event %zu: %zu bytes exceeds the store's "
		                     "max_event_size of %zu", stream, i, size, db->max_event_size);
	return 0;
}

int es_batch_append(es_batch *b, const char *stream, int64_t expected,
                    es_event_data *events, size_t count)
{
	if (!b)
		return es__error_set(ES_EINVAL, "es_batch_append: batch is NULL");
	int rc = es__check_stream_name(stream);
	if (rc)
		return rc;
	if (count && !events)
		return es__error_set(ES_EINVAL, "stream '%s': events is NULL", stream);
	if (expected < 0 && expected != ES_ANY && expected != ES_NO_STREAM && expected != ES_STREAM_EXISTS)
		return es__error_set(ES_EINVAL, "stream '%s': %lld is not an expected version", stream,
		                     (long long)expected);
	for (size_t i = 0; i < count; i++)
		if ((rc = es__event_check(b->db, stream, i, &events[i])))
			return rc;
	if ((rc = es__array_grow((void **)&b->entries, &b->cap, b->n, sizeof *b->entries, "es_batch_append")))
		return rc;
	b->entries[b->n++] = (batch_entry){ stream, expected, ENTRY_APPEND, events, count, NULL };
	return 0;
}

int es__batch_delete(es_batch *b, const char *stream, int64_t expected, bool tombstone)
{
	int rc = es__check_stream_name(stream);
	if (rc || (rc = es__array_grow((void **)&b->entries, &b->cap, b->n, sizeof *b->entries,
	                               "queueing a stream delete")))
		return rc;
	b->entries[b->n++] = (batch_entry){ stream, expected, tombstone ? ENTRY_TOMBSTONE : ENTRY_SOFT_DELETE,
	                                    NULL, 0, NULL };
	return 0;
}

int es__batch_import_at(es_batch *b, uint64_t first_position)
{
	b->import = true;
	b->first_position = first_position;
	/* The importer checked each id against the store as of first_position
	 * and against the batch: with positions unchanged at commit no writer
	 * came between, so a lookup per id would only repeat it. The id index
	 * is still written with MDB_NOOVERWRITE, which catches anything else. */
	b->ids_checked = first_position != 0;
	return 0;
}

int es_batch_import(es_batch *b)
{
	if (!b)
		return es__error_set(ES_EINVAL, "es_batch_import: batch is NULL");
	b->import = true;
	return 0;
}

int es__batch_put_snapshot(es_batch *b, const char *stream, int64_t version,
                           const void *bytes, size_t len)
{
	int rc = es__array_grow((void **)&b->snaps, &b->cap_snaps, b->n_snaps, sizeof *b->snaps,
	                        "queueing a snapshot");
	if (rc)
		return rc;
	pending_snapshot *s = &b->snaps[b->n_snaps];
	s->stream = es__strdup(stream);
	s->bytes = es_malloc(len ? len : 1);
	if (!s->stream || !s->bytes) {
		es_free(s->stream);
		es_free(s->bytes);
		return es__error_set(ES_ENOMEM, "queueing a snapshot: out of memory");
	}
	memcpy(s->bytes, bytes, len);
	s->version = version;
	s->len = len;
	b->n_snaps++;
	return 0;
}

/* ---- before the transaction: duplicate ids and id generation ---- */

static int cmp_id(const void *a, const void *b) { return memcmp(a, b, 16); }

/* Runs after assign_ids. Ids generated here are unique by construction; a
 * duplicate needs a caller-given id (an event struct appended twice also
 * shows up that way: its second occurrence already carries the id generated
 * for the first). So a batch with no caller-given id skips the sort. */
static int check_unique_ids(es_batch *b)
{
	size_t total = 0, given = 0, k = 0;
	for (size_t i = 0; i < b->n; i++) {
		total += b->entries[i].count;
		for (size_t j = 0; j < b->entries[i].count; j++)
			given += b->entries[i].caller_id[j];
	}
	if (total < 2 || given == 0)
		return 0;
	uint8_t (*ids)[16] = es_malloc(total * 16);
	if (!ids)
		return es__error_set(ES_ENOMEM, "checking event ids: out of memory");
	for (size_t i = 0; i < b->n; i++)
		for (size_t j = 0; j < b->entries[i].count; j++)
			if (!es__id_is_zero(b->entries[i].events[j].id))
				memcpy(ids[k++], b->entries[i].events[j].id, 16);
	qsort(ids, k, 16, cmp_id);
	int rc = 0;
	for (size_t i = 1; i < k && !rc; i++)
		if (memcmp(ids[i - 1], ids[i], 16) == 0) {
			char text[37];
			es_id_format(ids[i], text);
			rc = es__error_set(ES_EINVAL, "event id %s appears twice in one request", text);
		}
	es_free(ids);
	return rc;
}

static int assign_ids(es_batch *b)
{
	int64_t now = es__clock_now(b->db);
	for (size_t i = 0; i < b->n; i++) {
		batch_entry *e = &b->entries[i];
		es_free(e->caller_id);
		if (!(e->caller_id = es_calloc(e->count ? e->count : 1, 1)))
			return es__error_set(ES_ENOMEM, "assigning event ids: out of memory");
		for (size_t j = 0; j < e->count; j++) {
			e->caller_id[j] = !es__id_is_zero(e->events[j].id);
			int rc = e->caller_id[j] ? 0 : es__uuidv7(e->events[j].id, now);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- inside the transaction ---- */

typedef struct commit_state {
	es_db *db;
	MDB_txn *txn;
	bool import;
	bool ids_checked;
	int64_t now;
	int64_t at;          /* the batch's commit time, shared by all its events */
	uint64_t clock_hw;
	uint64_t next_position;
	uint64_t newest_stream; /* its events sort after every stored key */
	/* Cursors left at the end of the events, log and event_ids tables: an
	 * append through a cursor already there skips the descent from the root. */
	MDB_cursor *end_events, *end_log, *end_ids;
	/* Type ids interned so far in this batch: domains alternate a few types. */
	struct { const char *name; uint32_t id; } types[8];
	unsigned int n_types;
	uint8_t last_id[16]; /* the id written last, in an import */
	/* Import batches (the importer's): stream records kept for the whole
	 * batch and written once at its end, since its entries are runs of a
	 * few events of streams that come back again and again. Keyed by the
	 * name's pointer: the importer gives one pointer per stream. */
	struct rec_slot {
		const char *name; /* NULL: free */
		bool loaded, exists, dirty;
		es_stream_rec rec;
	} *recs;
	size_t recs_cap;
} commit_state;

static int stored_at(commit_state *cs, const uint8_t id[16], uint64_t *sid, int64_t *ver)
{
	MDB_val k = { 16, (void *)id }, v;
	int rc = mdb_get(cs->txn, cs->db->dbi.event_ids, &k, &v);
	if (rc)
		return rc == MDB_NOTFOUND ? ES_ENOTFOUND : es__lmdb(rc, "looking up an event id");
	if (v.mv_size != 16)
		return es__error_set(ES_ECORRUPT, "event id index entry is malformed");
	*sid = es__get_be64(v.mv_data);
	*ver = (int64_t)es__get_be64((const uint8_t *)v.mv_data + 8);
	return 0;
}

static bool replay_in_place(const batch_entry *e, const es_stream_rec *rec, int64_t v0)
{
	if (e->expected == ES_ANY) return true;
	if (e->expected == ES_NO_STREAM) return v0 == rec->first_visible;
	if (e->expected == ES_STREAM_EXISTS) return v0 > rec->first_visible;
	return v0 == e->expected + 1;
}

static int duplicate(const uint8_t id[16], const char *stream, int64_t ver, const char *why)
{
	char text[37];
	es_id_format(id, text);
	return es__error_set(ES_EDUPLICATE, "event id %s is already stored (stream '%s' version %lld)%s",
	                     text, stream, (long long)ver, why);
}

static int fill_replayed(commit_state *cs, const es_stream_rec *rec, es_event_data *ev)
{
	uint8_t key[16];
	es__event_key(key, rec->id, ev->version);
	MDB_val k = { 16, key }, v;
	es_record_view view;
	int rc = mdb_get(cs->txn, cs->db->dbi.events, &k, &v);
	if (rc || es__record_decode(&view, v.mv_data, v.mv_size))
		return es__error_set(ES_ECORRUPT, "event at version %lld is missing or corrupt", (long long)ev->version);
	ev->position = view.position;
	ev->recorded_at = view.recorded_at;
	return 0;
}

/* 1: every event is already stored where this request would put it (a
 * retry); 0: none is stored; otherwise ES_EDUPLICATE or another error. */
static int check_replay(commit_state *cs, const batch_entry *e, const es_stream_rec *rec)
{
	size_t found = 0;
	for (size_t j = 0; j < e->count; j++) {
		uint64_t sid = 0;
		int64_t ver = -1;
		if (!e->caller_id[j])
			continue;
		int rc = stored_at(cs, e->events[j].id, &sid, &ver);
		if (rc == ES_ENOTFOUND)
			continue;
		if (rc)
			return rc;
		const char *name;
		size_t len;
		if (!rec || sid != rec->id) {
			char other[ES_STREAM_NAME_MAX + 1] = "?";
			if (es__stream_name(cs->txn, cs->db, sid, &name, &len) == 0 && len <= ES_STREAM_NAME_MAX) {
				memcpy(other, name, len);
				other[len] = '\0';
			}
			return duplicate(e->events[j].id, other, ver, ", in another stream");
		}
		if (found != j || (j > 0 && ver != e->events[j - 1].version + 1) ||
		    (j == 0 && !replay_in_place(e, rec, ver)))
			return duplicate(e->events[j].id, e->stream, ver, ", not where this append would put it");
		e->events[j].version = ver;
		found++;
	}
	if (found == 0)
		return 0;
	if (found != e->count)
		return duplicate(e->events[0].id, e->stream, e->events[0].version,
		                 ", but only part of this request is");
	for (size_t j = 0; j < e->count; j++) {
		int rc = fill_replayed(cs, rec, &e->events[j]);
		if (rc)
			return rc;
	}
	return 1;
}

static int type_id(commit_state *cs, const char *type, uint32_t *id)
{
	for (unsigned int i = 0; i < cs->n_types; i++)
		if (cs->types[i].name == type || strcmp(cs->types[i].name, type) == 0) {
			*id = cs->types[i].id;
			return 0;
		}
	int rc = es__type_intern(cs->txn, cs->db, type, id);
	if (rc == 0 && cs->n_types < sizeof cs->types / sizeof cs->types[0]) {
		cs->types[cs->n_types].name = type;
		cs->types[cs->n_types++].id = *id;
	}
	return rc;
}

/* mdb_put, trying an append through the table's end cursor first when the
 * key should sort after every stored one: appending spares LMDB the search
 * and leaves pages full. If the key is not past the end after all, the
 * ordinary put decides. */
static int put_maybe_last(commit_state *cs, MDB_dbi dbi, MDB_cursor **end, MDB_val *k, MDB_val *v,
                          unsigned int flags, bool likely_last)
{
	size_t size = v->mv_size;
	if (likely_last) {
		int rc = *end ? 0 : mdb_cursor_open(cs->txn, dbi, end);
		if (rc == 0)
			rc = es__cursor_put(cs->db, *end, k, v, flags | MDB_APPEND);
		if (rc != MDB_KEYEXIST)
			return rc;
		v->mv_size = size;
	}
	return es__put(cs->db, cs->txn, dbi, k, v, flags);
}

static int write_event(commit_state *cs, const char *stream, es_stream_rec *rec, es_event_data *ev,
                       bool generated_id)
{
	es_record_in in = { ev, 0, cs->next_position++, 0 };
	int rc = type_id(cs, ev->type, &in.type_id);
	if (rc)
		return rc;
	int64_t at = cs->at;
	if (cs->import) {
		if (ev->recorded_at < (int64_t)cs->clock_hw)
			return es__error_set(ES_EINVAL, "import into stream '%s': an event's recorded_at %lld is "
			                     "before the store's last %lld", stream,
			                     (long long)ev->recorded_at, (long long)cs->clock_hw);
		at = ev->recorded_at;
	} else if (cs->clock_hw >= (uint64_t)INT64_MAX) { /* nothing can be recorded after it */
		return es__error_set(ES_ERANGE, "stream '%s': the store's last recorded_at is the "
		                     "largest time there is", stream);
	}
	cs->clock_hw = (uint64_t)at;
	in.recorded_at = at;
	ev->version = ++rec->head;
	ev->position = in.position;
	ev->recorded_at = at;

	uint8_t key[16], pos[8];
	es__event_key(key, rec->id, ev->version);
	es__put_be64(pos, in.position);
	/* The newest stream's events go at the end of the events table. */
	MDB_val k = { 16, key }, v = { es__record_size(ev), NULL };
	if ((rc = put_maybe_last(cs, cs->db->dbi.events, &cs->end_events, &k, &v,
	                         MDB_NOOVERWRITE | MDB_RESERVE, rec->id == cs->newest_stream)))
		return es__lmdb(rc, "writing an event");
	es__record_encode(v.mv_data, &in);
	es__jops_reserved(cs->db, v.mv_data, v.mv_size);
	MDB_val pk = { 8, pos }, pv = { 16, key }, ik = { 16, ev->id };
	if ((rc = put_maybe_last(cs, cs->db->dbi.log, &cs->end_log, &pk, &pv, MDB_NOOVERWRITE, true)))
		return es__lmdb(rc, "writing the log");
	/* Generated ids increase (clock.c): they go at the end of the index. So
	 * do most imported ones, which were generated so: try the end when an id
	 * follows the one before it. */
	bool rising = cs->import && memcmp(ev->id, cs->last_id, 16) > 0;
	memcpy(cs->last_id, ev->id, 16);
	rc = put_maybe_last(cs, cs->db->dbi.event_ids, &cs->end_ids, &ik, &pv, MDB_NOOVERWRITE,
	                    generated_id || rising);
	if (rc == MDB_KEYEXIST)
		return duplicate(ev->id, "?", -1, "");
	return rc ? es__lmdb(rc, "indexing an event id") : 0;
}

static struct rec_slot *rec_slot(commit_state *cs, const char *stream)
{
	size_t mask = cs->recs_cap - 1, j = (size_t)(((uintptr_t)stream >> 4) * UINT64_C(0x9e3779b97f4a7c15)) & mask;
	while (cs->recs[j].name && cs->recs[j].name != stream)
		j = (j + 1) & mask;
	cs->recs[j].name = stream;
	return &cs->recs[j];
}

static int rec_flush(commit_state *cs, struct rec_slot *r)
{
	int rc = r->dirty ? es__stream_rec_put(cs->txn, cs->db, r->name, &r->rec) : 0;
	r->dirty = false;
	return rc;
}

/* The stream's record, from the batch's cache when it has one. */
static int rec_get(commit_state *cs, const char *stream, es_stream_rec *rec, bool *exists,
                   struct rec_slot **slot)
{
	struct rec_slot *r = *slot = cs->recs ? rec_slot(cs, stream) : NULL;
	if (r && r->loaded) {
		*rec = r->rec;
		*exists = r->exists;
		return 0;
	}
	int rc = es__stream_rec_get(cs->txn, cs->db, stream, rec);
	*exists = rc == 0;
	if (rc && rc != ES_ENOTFOUND)
		return rc;
	if (r) {
		r->loaded = true;
		r->exists = *exists;
		r->rec = *rec;
	}
	return 0;
}

/* A delete reads and writes the record itself: the cached one goes first. */
static int delete_entry(commit_state *cs, batch_entry *e, es_append_result *res)
{
	res->first_version = res->head_version = -1;
	res->replayed = 0;
	struct rec_slot *r = cs->recs ? rec_slot(cs, e->stream) : NULL;
	int rc = r ? rec_flush(cs, r) : 0;
	if (r)
		r->loaded = false;
	return rc ? rc : es__stream_delete_txn(cs->txn, cs->db, e->stream, e->expected, e->kind == ENTRY_TOMBSTONE);
}

static int append_entry(commit_state *cs, batch_entry *e, es_append_result *res)
{
	if (e->kind != ENTRY_APPEND)
		return delete_entry(cs, e, res);
	es_stream_rec rec;
	bool exists;
	struct rec_slot *slot;
	int rc = rec_get(cs, e->stream, &rec, &exists, &slot);
	if (rc)
		return rc;
	res->head_version = exists ? rec.head : -1;
	res->first_version = -1;
	res->replayed = 0;
	if (exists && (rec.flags & ES_SF_TOMBSTONED))
		return es__error_set(ES_EDELETED, "stream '%s' is tombstoned", e->stream);
	if (!cs->ids_checked && (rc = check_replay(cs, e, exists ? &rec : NULL)) != 0) {
		if (rc == 1) {
			res->first_version = e->events[0].version;
			res->replayed = 1;
			return 0;
		}
		return rc;
	}
	if ((rc = es__check_expected(e->stream, exists ? &rec : NULL, e->expected)))
		return rc;
	if (e->count == 0)
		return 0;
	if (!exists) {
		if ((rc = es__stream_create(cs->txn, cs->db, e->stream, &rec)))
			return rc;
		cs->newest_stream = rec.id;
	}
	bool fresh = rec.head < rec.first_visible; /* first visible event: new or recreated */
	rec.flags &= ~ES_SF_SOFT_DELETED;
	for (size_t j = 0; j < e->count; j++)
		if ((rc = write_event(cs, e->stream, &rec, &e->events[j], !e->caller_id[j])))
			return rc;
	if (fresh)
		rec.first_recorded_at = e->events[0].recorded_at;
	rec.last_recorded_at = e->events[e->count - 1].recorded_at;
	res->first_version = e->events[0].version;
	res->head_version = rec.head;
	if (!slot)
		return es__stream_rec_put(cs->txn, cs->db, e->stream, &rec);
	slot->rec = rec;
	slot->exists = slot->dirty = true;
	return 0;
}

static int write_snapshots(commit_state *cs, es_batch *b)
{
	for (size_t i = 0; i < b->n_snaps; i++) {
		pending_snapshot *s = &b->snaps[i];
		es_stream_rec rec;
		int rc = es__stream_rec_get(cs->txn, cs->db, s->stream, &rec);
		if (rc == 0 && (s->version < 0 || s->version > rec.head))
			rc = es__error_set(ES_EINVAL, "snapshot of stream '%s' at version %lld is past its "
			                   "head", s->stream, (long long)s->version);
		if (rc || (rc = es__snapshot_put_txn(cs->txn, cs->db, rec.id, s->version, s->bytes, s->len)))
			return rc == ES_ENOTFOUND ? es__error_set(rc, "snapshot for unknown stream '%s'", s->stream) : rc;
	}
	return 0;
}

/* ---- the batch's events for the commit hooks ---- */

#define VIEWS_ON_STACK 32

static es_event event_view(const char *stream, const es_event_data *ev)
{
	es_event v = { .stream = stream, .version = ev->version, .position = ev->position,
	               .recorded_at = ev->recorded_at, .occurred_at = ev->occurred_at, .type = ev->type,
	               .schema_version = ev->schema_version, .payload = ev->payload,
	               .payload_len = ev->payload_len };
	memcpy(v.id, ev->id, 16);
	memcpy(v.correlation_id, ev->correlation_id, 16);
	memcpy(v.causation_id, ev->causation_id, 16);
	return v;
}

/* Views of the events the batch wrote, at positions [first, first + n),
 * into views: true when each position got exactly one, none with metadata
 * (a view holds metadata encoded, as stored). Else the hooks read them. */
static bool batch_views(es_event *views, const es_batch *b, uint64_t first, size_t n)
{
	size_t filled = 0;
	for (size_t i = 0; i < n; i++)
		views[i].stream = NULL;
	for (size_t i = 0; i < b->n; i++) {
		const batch_entry *e = &b->entries[i];
		for (size_t j = 0; e->kind == ENTRY_APPEND && j < e->count; j++) {
			const es_event_data *ev = &e->events[j];
			if (ev->position < first || ev->position - first >= n)
				continue; /* replayed: stored before */
			es_event *v = &views[ev->position - first];
			if (v->stream || ev->metadata_count)
				return false;
			*v = event_view(e->stream, ev);
			filled++;
		}
	}
	return filled == n;
}

/* Runs the commit hooks on the positions [first, cs->next_position) the
 * batch took, handing them the batch's own events when it can. */
static int run_hooks(commit_state *cs, const es_batch *b, uint64_t first)
{
	if (!es__commit_hooks_any(cs->db))
		return 0;
	es_event stack[VIEWS_ON_STACK];
	size_t n = (size_t)(cs->next_position - first);
	es_event *views = n <= VIEWS_ON_STACK ? stack : es_malloc(n * sizeof *views);
	if (views && !batch_views(views, b, first, n))
		n = 0;
	int rc = es__commit_hooks_run(cs->db, cs->txn, cs->next_position - 1, views ? views : stack,
	                              views ? n : 0);
	if (views != stack)
		es_free(views);
	return rc;
}

static int apply_batch(commit_state *cs, es_batch *b)
{
	int rc = es__meta_get_u64(cs->txn, cs->db, "clock", &cs->clock_hw, 0);
	/* One commit time for the whole batch, later than every earlier commit's:
	 * a batch is atomic in time too, so "as of T" sees all of it or none. */
	if (cs->clock_hw < (uint64_t)INT64_MAX)
		cs->at = cs->now > (int64_t)cs->clock_hw ? cs->now : (int64_t)cs->clock_hw + 1;
	if (!rc)
		rc = es__meta_get_u64(cs->txn, cs->db, "next_position", &cs->next_position, 1);
	if (!rc)
		rc = es__meta_get_u64(cs->txn, cs->db, "next_stream_id", &cs->newest_stream, 1);
	cs->newest_stream--; /* 0 when there is none: stream ids start at 1 */
	uint64_t first_position = cs->next_position;
	/* An importer checked its positions against what it read before; a
	 * writer that appended since would shift them all, so refuse instead. */
	if (!rc && b->first_position && b->first_position != first_position)
		return es__error_set(ES_ECONFLICT, "import: the store's next position is %llu, not %llu: "
		                     "another writer appended meanwhile", (unsigned long long)first_position,
		                     (unsigned long long)b->first_position);
	for (size_t i = 0; !rc && i < b->n; i++)
		rc = append_entry(cs, &b->entries[i], &b->results[i]);
	for (size_t i = 0; !rc && i < cs->recs_cap; i++)
		if (cs->recs[i].name)
			rc = rec_flush(cs, &cs->recs[i]);
	if (!rc)
		rc = write_snapshots(cs, b);
	if (rc || cs->next_position == first_position)
		return rc;
	if ((rc = es__meta_put_u64(cs->txn, cs->db, "clock", cs->clock_hw)) ||
	    (rc = es__meta_put_u64(cs->txn, cs->db, "next_position", cs->next_position)))
		return rc;
	return run_hooks(cs, b, first_position); /* inline projections */
}

int es__batch_apply(es_db *db, MDB_txn *txn, es_batch *b)
{
	commit_state cs = { .db = db, .txn = txn, .import = b->import, .ids_checked = b->ids_checked,
	                     .now = es__clock_now(db) };
	if (b->ids_checked) { /* the importer's batch: see commit_state.recs */
		for (cs.recs_cap = 16; cs.recs_cap < 2 * b->n; cs.recs_cap *= 2)
			;
		if (!(cs.recs = es_calloc(cs.recs_cap, sizeof *cs.recs)))
			return es__error_set(ES_ENOMEM, "committing an import: out of memory");
	}
	int rc = apply_batch(&cs, b);
	es_free(cs.recs);
	MDB_cursor *ends[] = { cs.end_events, cs.end_log, cs.end_ids };
	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
		if (ends[i])
			mdb_cursor_close(ends[i]);
	return rc;
}

int es_batch_commit(es_batch *b, es_append_result *results)
{
	if (!b)
		return es__error_set(ES_EINVAL, "es_batch_commit: batch is NULL");
	es_append_result *local = NULL;
	if (!results && b->n && !(results = local = es_calloc(b->n, sizeof *local))) {
		es_batch_free(b);
		return es__error_set(ES_ENOMEM, "es_batch_commit: out of memory");
	}
	b->results = results;
	/* Ids are checked once assigned: an event shared by two entries of a
	 * batch gets one generated id, which must count as a duplicate. */
	int rc = assign_ids(b);
	if (!rc && !b->ids_checked)
		rc = check_unique_ids(b);
	if (!rc)
		rc = es__group_commit(b->db, b);
	es_free(local);
	es_batch_free(b);
	return rc;
}

int es_stream_append(es_append_result *out, es_db *db, const char *stream,
                     int64_t expected, es_event_data *events, size_t count)
{
	es_batch *b;
	int rc = es_batch_new(&b, db);
	if (rc)
		return rc;
	if ((rc = es_batch_append(b, stream, expected, events, count))) {
		es_batch_free(b);
		return rc;
	}
	return es_batch_commit(b, out);
}
