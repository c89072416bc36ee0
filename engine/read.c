/*
 * read.c - read snapshots and iterators over a stream or the global log.
 * Events are handed out as borrowed views into the memory map. Iterators
 * remember the next key rather than trusting their cursor, so they survive
 * es_read_renew() and resume where they stopped.
 */
#include <stdlib.h>
#include <string.h>

#include "es_alloc.h"
#include "db.h"
#include "record.h"

/* ---- stream names handed out in events ----
 * An event's stream name must live as long as its read, not as long as the
 * iterator (or the caller's string) it came from. Each read keeps a copy of
 * every name it hands out, by stream id, until it ends or renews. read.c
 * allocates every es_read, always inside one of these. */
typedef struct name_entry {
	struct name_entry *next;
	uint64_t id;
	char name[];
} name_entry;

typedef struct read_handle {
	es_read rd; /* first member: an es_read * made here is a read_handle * */
	name_entry **buckets;
	size_t n_buckets, count;
	name_entry *type_names; /* an uncommitted read's copies, by type id */
} read_handle;

static void names_clear(read_handle *h)
{
	for (size_t i = 0; i < h->n_buckets; i++)
		for (name_entry *e = h->buckets[i], *next; e; e = next) {
			next = e->next;
			es_free(e);
		}
	es_free(h->buckets);
	h->buckets = NULL;
	h->n_buckets = h->count = 0;
	for (name_entry *e = h->type_names, *next; e; e = next) {
		next = e->next;
		es_free(e);
	}
	h->type_names = NULL;
}

static int names_grow(read_handle *h)
{
	size_t n = h->n_buckets ? h->n_buckets * 2 : 16;
	name_entry **b = es_calloc(n, sizeof *b);
	if (!b)
		return ES_ENOMEM;
	for (size_t i = 0; i < h->n_buckets; i++)
		for (name_entry *e = h->buckets[i], *next; e; e = next) {
			next = e->next;
			e->next = b[e->id & (n - 1)];
			b[e->id & (n - 1)] = e;
		}
	es_free(h->buckets);
	h->buckets = b;
	h->n_buckets = n;
	return 0;
}

static name_entry *names_find(const read_handle *h, uint64_t id)
{
	if (h->n_buckets == 0)
		return NULL;
	for (name_entry *e = h->buckets[id & (h->n_buckets - 1)]; e; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

/* The read's own copy of the name of stream id; NULL (error set) if out of memory. */
static const char *read_stream_name(es_read *rd, uint64_t id, const char *name)
{
	read_handle *h = (read_handle *)rd;
	name_entry *e = names_find(h, id);
	if (e)
		return e->name;
	size_t len = strlen(name);
	if ((h->count >= h->n_buckets && names_grow(h)) || !(e = es_malloc(sizeof *e + len + 1))) {
		es__error_set(ES_ENOMEM, "stream '%s': out of memory", name);
		return NULL;
	}
	e->id = id;
	memcpy(e->name, name, len + 1);
	e->next = h->buckets[id & (h->n_buckets - 1)];
	h->buckets[id & (h->n_buckets - 1)] = e;
	h->count++;
	return e->name;
}

int es_read_begin(es_read **out, es_db *db)
{
	if (!out || !db)
		return es__error_set(ES_EINVAL, "es_read_begin: out and db are required");
	read_handle *h = es_calloc(1, sizeof *h);
	if (!h)
		return es__error_set(ES_ENOMEM, "es_read_begin: out of memory");
	es_read *rd = &h->rd;
	rd->db = db;
	int rc = es__read_txn_begin(db, &rd->txn);
	if (rc) {
		es_free(h);
		return rc;
	}
	*out = rd;
	return 0;
}

int es__read_over(es_db *db, MDB_txn *txn, int (*fn)(es_read *rd, void *user_data), void *user_data)
{
	read_handle h = { .rd = { .db = db, .txn = txn, .uncommitted = true } };
	int rc = fn(&h.rd, user_data);
	names_clear(&h);
	return rc;
}

/* A fresh transaction rather than reset/renew: between the two, this process
 * holds no transaction, so a pending map growth can proceed. */
int es_read_renew(es_read *rd)
{
	if (!rd)
		return es__error_set(ES_EINVAL, "es_read_renew: rd is NULL");
	es__read_txn_end(rd->db, rd->txn);
	rd->txn = NULL;
	rd->generation++;
	names_clear((read_handle *)rd);
	return es__read_txn_begin(rd->db, &rd->txn);
}

void es_read_end(es_read *rd)
{
	if (!rd)
		return;
	es__read_txn_end(rd->db, rd->txn);
	names_clear((read_handle *)rd);
	es_free(rd);
}

/* A type name for a read over a write transaction: copied for the read,
 * since that transaction may abort and the id name another type later. */
static int uncommitted_type_name(const char **out, read_handle *h, uint32_t id)
{
	name_entry *e = h->type_names;
	while (e && e->id != id)
		e = e->next;
	if (!e) {
		MDB_val v;
		if (!es__type_name_stored(h->rd.txn, h->rd.db, id, &v))
			return es__type_name_invalid(id);
		if (!(e = es_malloc(sizeof *e + v.mv_size + 1)))
			return es__error_set(ES_ENOMEM, "out of memory copying a type name");
		e->id = id;
		memcpy(e->name, v.mv_data, v.mv_size);
		e->name[v.mv_size] = 0;
		e->next = h->type_names;
		h->type_names = e;
	}
	*out = e->name;
	return 0;
}

static int type_name(const char **out, es_read *rd, uint32_t id)
{
	unsigned int slot = id & 7u;
	if (rd->types[slot].name && rd->types[slot].id == id) {
		*out = rd->types[slot].name;
		return 0;
	}
	int rc = rd->uncommitted ? uncommitted_type_name(out, (read_handle *)rd, id)
	                         : es__type_name(rd->txn, rd->db, id, out);
	if (rc == 0) {
		rd->types[slot].id = id;
		rd->types[slot].name = *out;
	}
	return rc;
}

int es__event_fill(es_event *ev, es_read *rd, const MDB_val *rec, const char *stream, int64_t version)
{
	es_record_view view;
	if (es__record_decode(&view, rec->mv_data, rec->mv_size))
		return es__error_set(ES_ECORRUPT, "stream '%s' version %lld: record is corrupt "
		                     "(bad layout or checksum)", stream, (long long)version);
	int rc = type_name(&ev->type, rd, view.type_id);
	if (rc)
		return rc;
	ev->stream = stream;
	ev->version = version;
	ev->position = view.position;
	ev->recorded_at = view.recorded_at;
	ev->occurred_at = view.occurred_at;
	memcpy(ev->id, view.id, 16);
	memcpy(ev->correlation_id, view.correlation_id, 16);
	memcpy(ev->causation_id, view.causation_id, 16);
	ev->schema_version = view.schema_version;
	ev->payload = view.payload;
	ev->payload_len = view.payload_len;
	ev->metadata = view.metadata;
	ev->metadata_len = view.metadata_len;
	return 0;
}

/* Looks up a visible stream for reading. */
static int readable_stream(es_read *rd, const char *stream, es_stream_rec *rec)
{
	int rc = es__check_stream_name(stream);
	if (rc || (rc = es__stream_rec_get(rd->txn, rd->db, stream, rec)))
		return rc == ES_ENOTFOUND ? es__error_set(rc, "stream '%s' not found", stream) : rc;
	if (rec->flags & ES_SF_TOMBSTONED)
		return es__error_set(ES_EDELETED, "stream '%s' is tombstoned", stream);
	if (!es__stream_visible(rec))
		return es__error_set(ES_ENOTFOUND, "stream '%s' not found (soft-deleted)", stream);
	return 0;
}

int es_stream_get(es_event *out, es_read *rd, const char *stream, int64_t version)
{
	if (!out || !rd)
		return es__error_set(ES_EINVAL, "es_stream_get: out and rd are required");
	es_stream_rec rec;
	int rc = readable_stream(rd, stream, &rec);
	if (rc)
		return rc;
	if (version < rec.first_visible || version > rec.head)
		return es__error_set(ES_ENOTFOUND, "stream '%s' has no version %lld", stream, (long long)version);
	uint8_t key[16];
	es__event_key(key, rec.id, version);
	MDB_val k = { 16, key }, v;
	if ((rc = mdb_get(rd->txn, rd->db->dbi.events, &k, &v)))
		return es__error_set(ES_ECORRUPT, "stream '%s' version %lld is missing from the store",
		                     stream, (long long)version);
	const char *name = read_stream_name(rd, rec.id, stream);
	return name ? es__event_fill(out, rd, &v, name, version) : ES_ENOMEM;
}

int es_log_head(uint64_t *out, es_read *rd)
{
	if (!out || !rd)
		return es__error_set(ES_EINVAL, "es_log_head: out and rd are required");
	uint64_t next;
	int rc = es__meta_get_u64(rd->txn, rd->db, "next_position", &next, 1);
	if (rc == 0)
		*out = next - 1;
	return rc;
}

/* ---- iterators ---- */

struct es_iter {
	es_read *rd;
	uint64_t generation;
	MDB_cursor *cur;
	bool is_log;
	bool started;
	es_direction dir;
	size_t remaining;
	/* stream iterators: versions in [lo, hi], next is the one to return */
	uint64_t stream_id;
	int64_t next, lo, hi;
	/* log iterators: next position; name of the stream last seen */
	uint64_t next_position;
	uint64_t name_id;
	char name[ES_STREAM_NAME_MAX + 1];
	const char *read_name;      /* the read's copy of name */
	uint64_t read_name_id;      /* the stream it names */
	uint64_t read_name_gen;     /* the read generation it belongs to */
	/* log iterators: a cursor on the events and the key it is on, if any */
	MDB_cursor *events;
	bool events_at;
	uint64_t events_sid, events_version;
	/* log iterators: only these types (es__log_iter_types) */
	bool started_at_position; /* a position was seen: the next must follow it */
	const uint32_t *type_ids;
	size_t n_type_ids;
	uint64_t max_skip;
};

static int iter_new(es_iter **out, es_read *rd, MDB_dbi dbi, es_direction dir, size_t limit)
{
	if (dir != ES_FORWARD && dir != ES_BACKWARD)
		return es__error_set(ES_EINVAL, "direction %d is neither ES_FORWARD nor ES_BACKWARD", (int)dir);
	es_iter *it = es_calloc(1, sizeof *it);
	if (!it)
		return es__error_set(ES_ENOMEM, "creating an iterator: out of memory");
	int rc = mdb_cursor_open(rd->txn, dbi, &it->cur);
	if (rc) {
		es_free(it);
		return es__error_lmdb(rc, "creating an iterator");
	}
	it->rd = rd;
	it->generation = rd->generation;
	it->dir = dir;
	it->remaining = limit;
	*out = it;
	return 0;
}

int es_stream_iter(es_iter **out, es_read *rd, const char *stream, int64_t from_version,
                   es_direction dir, size_t limit)
{
	if (!out || !rd)
		return es__error_set(ES_EINVAL, "es_stream_iter: out and rd are required");
	es_stream_rec rec;
	int rc = readable_stream(rd, stream, &rec);
	if (rc || (rc = iter_new(out, rd, rd->db->dbi.events, dir, limit)))
		return rc;
	es_iter *it = *out;
	it->stream_id = rec.id;
	it->lo = rec.first_visible;
	it->hi = rec.head;
	if (dir == ES_FORWARD)
		it->next = from_version < it->lo ? it->lo : from_version;
	else
		it->next = from_version > it->hi ? it->hi : from_version;
	memcpy(it->name, stream, strlen(stream) + 1);
	return 0;
}

int es_log_iter(es_iter **out, es_read *rd, uint64_t from_position, es_direction dir, size_t limit)
{
	if (!out || !rd)
		return es__error_set(ES_EINVAL, "es_log_iter: out and rd are required");
	int rc = iter_new(out, rd, rd->db->dbi.log, dir, limit);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(rd->txn, rd->db->dbi.events, &(*out)->events))) {
		es_iter_free(*out);
		*out = NULL;
		return es__error_lmdb(rc, "creating an iterator");
	}
	(*out)->is_log = true;
	/* Positions start at 1; forward from 0 means from the start. */
	(*out)->next_position = dir == ES_FORWARD && from_position == 0 ? 1 : from_position;
	return 0;
}

void es_iter_free(es_iter *it)
{
	if (!it)
		return;
	mdb_cursor_close(it->cur);
	mdb_cursor_close(it->events);
	es_free(it);
}

/* A renewed read sees the stream as it is now: more events, or fewer
 * visible ones after a soft delete and recreation. */
static int stream_refresh(es_iter *it)
{
	es_stream_rec rec;
	int rc = readable_stream(it->rd, it->name, &rec);
	if (rc)
		return rc;
	it->lo = rec.first_visible;
	it->hi = rec.head;
	if (it->dir == ES_FORWARD && it->next < it->lo)
		it->next = it->lo;
	return 0;
}

/* After es_read_renew the cursor belongs to a dead transaction. */
static int iter_sync(es_iter *it)
{
	if (it->generation == it->rd->generation)
		return 0;
	int rc = mdb_cursor_renew(it->rd->txn, it->cur);
	if (rc == 0 && it->events)
		rc = mdb_cursor_renew(it->rd->txn, it->events);
	if (rc)
		return es__error_lmdb(rc, "renewing an iterator");
	it->started = false;
	it->events_at = false;
	if (!it->is_log && (rc = stream_refresh(it)))
		return rc;
	it->generation = it->rd->generation;
	return 0;
}

/* The read's copy of the name of stream sid (it->name), which outlives the
 * iterator: looked up once per stream and read generation, not per event. */
static const char *iter_read_name(es_iter *it, uint64_t sid)
{
	if (!it->read_name || it->read_name_id != sid || it->read_name_gen != it->rd->generation) {
		it->read_name = read_stream_name(it->rd, sid, it->name);
		it->read_name_id = sid;
		it->read_name_gen = it->rd->generation;
	}
	return it->read_name;
}

static int stream_next(es_event *ev, es_iter *it)
{
	if (it->next < it->lo || it->next > it->hi)
		return ES_ITEROVER;
	uint8_t key[16];
	es__event_key(key, it->stream_id, it->next);
	MDB_val k = { 16, key }, v;
	int rc;
	if (it->started)
		rc = mdb_cursor_get(it->cur, &k, &v, it->dir == ES_FORWARD ? MDB_NEXT : MDB_PREV);
	else
		rc = mdb_cursor_get(it->cur, &k, &v, MDB_SET_KEY);
	/* Versions are contiguous, so the cursor must land exactly on the next one. */
	if (rc || k.mv_size != 16 || memcmp(k.mv_data, key, 16) != 0)
		return es__error_set(ES_ECORRUPT, "stream '%s' version %lld is missing from the store",
		                     it->name, (long long)it->next);
	it->started = true;
	const char *name = iter_read_name(it, it->stream_id);
	if (!name)
		return ES_ENOMEM;
	if ((rc = es__event_fill(ev, it->rd, &v, name, it->next)))
		return rc;
	it->next += it->dir == ES_FORWARD ? 1 : -1;
	return 0;
}

static int log_stream_name(es_iter *it, uint64_t sid)
{
	if (it->name_id == sid)
		return 0;
	const char *name;
	size_t len;
	int rc = es__stream_name(it->rd->txn, it->rd->db, sid, &name, &len);
	if (rc)
		return rc;
	if (len == 0 || len > ES_STREAM_NAME_MAX)
		return es__error_set(ES_ECORRUPT, "stream id %llu has a malformed name", (unsigned long long)sid);
	memcpy(it->name, name, len);
	it->name[len] = '\0';
	it->name_id = sid;
	return 0;
}

/* The record of stream sid at version. The log visits a stream's versions
 * in order for as long as its events were appended together, so the events
 * cursor usually finds the record one step on instead of descending the
 * tree from its root, which cost more than the rest of the read. */
static int log_record(MDB_val *rec, es_iter *it, uint64_t sid, int64_t version)
{
	bool forward = it->dir == ES_FORWARD;
	uint8_t key[16];
	es__event_key(key, sid, version);
	MDB_val k;
	/* Unsigned, so that a corrupt version at either end cannot overflow. */
	bool adjacent = it->events_at && it->events_sid == sid &&
	                it->events_version + (uint64_t)(forward ? 1 : -1) == (uint64_t)version;
	int rc = adjacent ? mdb_cursor_get(it->events, &k, rec, forward ? MDB_NEXT : MDB_PREV) : MDB_NOTFOUND;
	if (rc || k.mv_size != 16 || memcmp(k.mv_data, key, 16) != 0) {
		k = (MDB_val){ 16, key };
		rc = mdb_cursor_get(it->events, &k, rec, MDB_SET_KEY);
	}
	it->events_at = rc == 0;
	it->events_sid = sid;
	it->events_version = (uint64_t)version;
	return rc;
}

/* Does the record in v have one of the iterator's types? A record too
 * short to tell is kept, for es__event_fill to report. */
static bool type_wanted(const es_iter *it, const MDB_val *v)
{
	if (v->mv_size < 16)
		return true;
	uint32_t id = es__get_le32((const uint8_t *)v->mv_data + 12);
	for (size_t i = 0; i < it->n_type_ids; i++)
		if (it->type_ids[i] == id)
			return true;
	return false;
}

static int log_next_any(es_event *ev, es_iter *it, bool *skipped);

/* The next event of a log iterator, of its types if it has some. */
static int log_next(es_event *ev, es_iter *it)
{
	bool skipped;
	for (uint64_t n = 0;; n++) {
		int rc = log_next_any(ev, it, &skipped);
		if (rc || !skipped)
			return rc;
		if (n + 1 >= it->max_skip)
			return ES__ITER_SKIPPED;
	}
}

static int log_next_any(es_event *ev, es_iter *it, bool *skipped)
{
	*skipped = false;
	if (it->next_position == 0)
		return ES_ITEROVER;
	uint8_t pos[8];
	es__put_be64(pos, it->next_position);
	MDB_val k = { 8, pos }, v;
	int rc;
	if (it->started)
		rc = mdb_cursor_get(it->cur, &k, &v, it->dir == ES_FORWARD ? MDB_NEXT : MDB_PREV);
	else if ((rc = mdb_cursor_get(it->cur, &k, &v, MDB_SET_RANGE)) == MDB_NOTFOUND && it->dir == ES_BACKWARD)
		rc = mdb_cursor_get(it->cur, &k, &v, MDB_LAST);
	else if (rc == 0 && it->dir == ES_BACKWARD && es__get_be64(k.mv_data) > it->next_position)
		rc = mdb_cursor_get(it->cur, &k, &v, MDB_PREV);
	if (rc == MDB_NOTFOUND)
		return ES_ITEROVER;
	if (rc)
		return es__error_lmdb(rc, "reading the log");
	it->started = true;
	if (k.mv_size != 8 || v.mv_size != 16)
		return es__error_set(ES_ECORRUPT, "log entry near position %llu is malformed",
		                     (unsigned long long)it->next_position);
	uint64_t position = es__get_be64(k.mv_data);
	if (it->n_type_ids && it->started_at_position && position != it->next_position)
		return es__error_set(ES_ECORRUPT, "the log jumps from position %llu to %llu",
		                     (unsigned long long)(it->next_position - 1), (unsigned long long)position);
	it->started_at_position = true;
	uint64_t sid = es__get_be64(v.mv_data);
	int64_t version = (int64_t)es__get_be64((const uint8_t *)v.mv_data + 8);
	if ((rc = log_stream_name(it, sid)))
		return rc;
	MDB_val ev_val;
	if ((rc = log_record(&ev_val, it, sid, version)))
		return es__error_set(ES_ECORRUPT, "log position %llu points at stream '%s' version %lld, "
		                     "which is missing", (unsigned long long)position, it->name, (long long)version);
	if (it->n_type_ids && !type_wanted(it, &ev_val)) {
		it->next_position = position + 1;
		*skipped = true;
		return 0;
	}
	const char *name = iter_read_name(it, sid);
	if (!name)
		return ES_ENOMEM;
	if ((rc = es__event_fill(ev, it->rd, &ev_val, name, version)))
		return rc;
	if (ev->position != position)
		return es__error_set(ES_ECORRUPT, "log position %llu holds an event recorded at position %llu",
		                     (unsigned long long)position, (unsigned long long)ev->position);
	it->next_position = it->dir == ES_FORWARD ? position + 1 : position - 1;
	return 0;
}

int es_iter_next(es_event *ev, es_iter *it)
{
	if (!ev || !it)
		return es__error_set(ES_EINVAL, "es_iter_next: ev and it are required");
	if (it->remaining == 0)
		return ES_ITEROVER;
	int rc = iter_sync(it);
	if (rc)
		return rc;
	rc = it->is_log ? log_next(ev, it) : stream_next(ev, it);
	if (rc == 0 && it->remaining != ES_NO_LIMIT)
		it->remaining--;
	return rc;
}

void es__log_iter_types(es_iter *it, const uint32_t *ids, size_t n, uint64_t max_skip)
{
	it->type_ids = ids;
	it->n_type_ids = n;
	it->max_skip = max_skip ? max_skip : 1;
}

uint64_t es__log_iter_position(const es_iter *it)
{
	return it->next_position;
}

int es__type_ids(uint32_t *ids, es_read *rd, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = es__type_lookup(rd->txn, rd->db, names[i], &ids[i]);
		if (rc == ES_ENOTFOUND)
			ids[i] = 0; /* type ids start at 1 */
		else if (rc)
			return rc;
	}
	return 0;
}
