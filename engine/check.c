/*
 * check.c - es_check: walks every table of a store and checks each
 * invariant from both sides (events against the log and the id index, and
 * back), reporting each problem with the stream, version or position it
 * concerns. First every B-tree is walked in a child process (treewalk.c),
 * so that pages LMDB would crash on are reported as damage instead.
 *
 * Safe beside writers: it only reads, and renews its read transaction every
 * few thousand items so it never pins old pages for long. Each item is
 * checked against the other tables within one transaction, and history is
 * append-only, so a renewal between items cannot make a sound store look
 * broken: a walk resumes at the key it stopped on, and a stream's record is
 * re-read after a renewal in case it grew meanwhile.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "record.h"
#include "evstore/check.h"
#include "es_options.h"

typedef struct checker {
	es_db *db;
	MDB_txn *txn;
	const es_check_options *o;
	es_check_stats st;
	size_t every, since_renew;
	uint64_t generation; /* bumped at each renewal */
} checker;

const char *es_check_kind_str(es_check_kind kind)
{
	switch (kind) {
	case ES_CHECK_STREAM_RECORD: return "stream record";
	case ES_CHECK_VERSION_GAP: return "version gap";
	case ES_CHECK_BEYOND_HEAD: return "beyond head";
	case ES_CHECK_RECORD_CORRUPT: return "corrupt record";
	case ES_CHECK_LOG_MISSING: return "log missing";
	case ES_CHECK_LOG_DANGLING: return "log dangling";
	case ES_CHECK_LOG_GAP: return "log gap";
	case ES_CHECK_ID_MISSING: return "id missing";
	case ES_CHECK_ID_DANGLING: return "id dangling";
	case ES_CHECK_TIME_ORDER: return "time order";
	case ES_CHECK_SNAPSHOT_ORPHAN: return "snapshot orphan";
	case ES_CHECK_SNAPSHOT_CORRUPT: return "snapshot corrupt";
	case ES_CHECK_TYPE: return "type";
	case ES_CHECK_META: return "counter";
	case ES_CHECK_BTREE: return "b-tree";
	default: return "unknown";
	}
}

static int problem(checker *c, es_check_kind kind, const char *stream, int64_t version,
                   uint64_t position, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int problem(checker *c, es_check_kind kind, const char *stream, int64_t version,
                   uint64_t position, const char *fmt, ...)
{
	char msg[640];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->st.problems++;
	if (c->o->report)
		fprintf(c->o->report, "%s: %s\n", es_check_kind_str(kind), msg);
	if (!c->o->on_problem)
		return 0;
	es_check_problem p = { kind, stream, version, position, msg };
	return c->o->on_problem(&p, c->o->user_data);
}

/* ---- helpers ---- */


/* A stream's name for messages: "#<id>" when the names table lacks it. */
static bool name_of(checker *c, uint64_t sid, char out[ES_STREAM_NAME_MAX + 1])
{
	const char *name;
	size_t len;
	if (es__stream_name(c->txn, c->db, sid, &name, &len) == 0 && len > 0 && len <= ES_STREAM_NAME_MAX) {
		memcpy(out, name, len);
		out[len] = '\0';
		return true;
	}
	snprintf(out, ES_STREAM_NAME_MAX + 1, "#%llu", (unsigned long long)sid);
	return false;
}

/* "stream 'x' version v" for a 16-byte events key. */
static void describe(checker *c, const uint8_t *key, char *out, size_t size)
{
	char name[ES_STREAM_NAME_MAX + 1];
	name_of(c, es__get_be64(key), name);
	snprintf(out, size, "stream '%s' version %lld", name, (long long)es__get_be64(key + 8));
}

static int get(checker *c, MDB_dbi dbi, const void *key, size_t klen, MDB_val *v)
{
	MDB_val k = { klen, (void *)key };
	int rc = mdb_get(c->txn, dbi, &k, v);
	if (rc && rc != MDB_NOTFOUND)
		return es__error_lmdb(rc, "checking the store");
	return rc == MDB_NOTFOUND ? ES_ENOTFOUND : 0;
}

static int renew(checker *c)
{
	es__read_txn_end(c->db, c->txn);
	c->txn = NULL;
	c->generation++;
	return es__read_txn_begin(c->db, &c->txn);
}

typedef int (*visit_fn)(checker *c, const MDB_val *k, const MDB_val *v, void *state);

/* Visits every entry of a table in key order, renewing the read every
 * c->every items and resuming after the key it stopped on. */
static int walk(checker *c, MDB_dbi dbi, visit_fn visit, void *state)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(c->txn, dbi, &cur);
	if (rc)
		return es__error_lmdb(rc, "checking the store");
	MDB_val k, v;
	uint8_t saved[512]; /* LMDB keys are at most 511 bytes */
	int lrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (lrc == 0) {
		if ((rc = visit(c, &k, &v, state)))
			break;
		if (++c->since_renew < c->every) {
			lrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			continue;
		}
		c->since_renew = 0;
		size_t saved_len = k.mv_size < sizeof saved ? k.mv_size : sizeof saved;
		memcpy(saved, k.mv_data, saved_len);
		if ((rc = renew(c)))
			break;
		if ((lrc = mdb_cursor_renew(c->txn, cur)))
			break;
		k.mv_size = saved_len;
		k.mv_data = saved;
		lrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (lrc == 0 && k.mv_size == saved_len && memcmp(k.mv_data, saved, saved_len) == 0)
			lrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc == 0 && lrc != 0 && lrc != MDB_NOTFOUND)
		rc = es__error_lmdb(lrc, "checking the store");
	return rc;
}

/* ---- events: contiguity, records, and their log and id entries ---- */

typedef struct stream_walk {
	bool open;               /* a stream's events are being walked */
	uint64_t sid;
	bool known;              /* sid has a name and a record with that id */
	char name[ES_STREAM_NAME_MAX + 1];
	es_stream_rec rec;
	uint64_t generation;
	int64_t next;            /* the version expected next */
	int64_t prev_at;         /* recorded_at of the previous version */
	int64_t first_at, last_at; /* of the first visible and the head event */
	bool have_first, have_last;
} stream_walk;

static int open_stream(checker *c, stream_walk *s, uint64_t sid)
{
	memset(s, 0, sizeof *s);
	s->open = true;
	s->sid = sid;
	s->prev_at = INT64_MIN;
	s->generation = c->generation;
	if (!name_of(c, sid, s->name))
		return problem(c, ES_CHECK_STREAM_RECORD, NULL, -1, 0, "events are stored under stream id "
		               "%llu, which has no name", (unsigned long long)sid);
	int rc = es__stream_rec_get(c->txn, c->db, s->name, &s->rec);
	if (rc == ES_ENOTFOUND)
		return problem(c, ES_CHECK_STREAM_RECORD, s->name, -1, 0, "stream '%s' (id %llu) has "
		               "events but no stream record", s->name, (unsigned long long)sid);
	if (rc == ES_ECORRUPT)
		return problem(c, ES_CHECK_STREAM_RECORD, s->name, -1, 0, "the record of stream '%s' "
		               "is malformed", s->name);
	if (rc)
		return rc;
	if (s->rec.id != sid)
		return problem(c, ES_CHECK_STREAM_RECORD, s->name, -1, 0, "stream '%s' has id %llu, but "
		               "events are stored under id %llu in its name", s->name,
		               (unsigned long long)s->rec.id, (unsigned long long)sid);
	s->known = true;
	return 0;
}

static int close_stream(checker *c, stream_walk *s)
{
	if (!s->open || !s->known)
		return 0;
	s->open = false;
	const es_stream_rec *r = &s->rec;
	int rc = 0;
	if (s->next <= r->head)
		rc = problem(c, ES_CHECK_VERSION_GAP, s->name, s->next, 0, "stream '%s': versions "
		             "%lld..%lld are missing (its head is %lld)", s->name, (long long)s->next,
		             (long long)r->head, (long long)r->head);
	if (rc == 0 && r->head >= r->first_visible && s->have_first && r->first_recorded_at != s->first_at)
		rc = problem(c, ES_CHECK_TIME_ORDER, s->name, r->first_visible, 0, "stream '%s': its record "
		             "gives %lld as the time of version %lld, which was recorded at %lld", s->name,
		             (long long)r->first_recorded_at, (long long)r->first_visible, (long long)s->first_at);
	if (rc == 0 && r->head >= 0 && s->have_last && r->last_recorded_at != s->last_at)
		rc = problem(c, ES_CHECK_TIME_ORDER, s->name, r->head, 0, "stream '%s': its record gives "
		             "%lld as the time of its head, version %lld, which was recorded at %lld",
		             s->name, (long long)r->last_recorded_at, (long long)r->head, (long long)s->last_at);
	return rc;
}

/* The log entry at the event's position and its id's index entry must both
 * point back at the event. */
static int check_links(checker *c, stream_walk *s, const uint8_t *key, int64_t ver,
                       const es_record_view *view)
{
	uint8_t pos[8];
	char where[ES_STREAM_NAME_MAX + 64], id[ES_ID_TEXT_SIZE];
	MDB_val v;
	es__put_be64(pos, view->position);
	int rc = get(c, c->db->dbi.log, pos, 8, &v);
	if (rc == ES_ENOTFOUND)
		rc = problem(c, ES_CHECK_LOG_MISSING, s->name, ver, view->position, "stream '%s' version "
		             "%lld (position %llu) has no log entry", s->name, (long long)ver,
		             (unsigned long long)view->position);
	else if (rc == 0 && (v.mv_size != 16 || memcmp(v.mv_data, key, 16) != 0)) {
		if (v.mv_size == 16) describe(c, v.mv_data, where, sizeof where);
		else snprintf(where, sizeof where, "a malformed entry");
		rc = problem(c, ES_CHECK_LOG_MISSING, s->name, ver, view->position, "stream '%s' version "
		             "%lld was recorded at position %llu, but the log there points at %s", s->name,
		             (long long)ver, (unsigned long long)view->position, where);
	}
	if (rc)
		return rc;
	es_id_format(view->id, id);
	if ((rc = get(c, c->db->dbi.event_ids, view->id, 16, &v)) == ES_ENOTFOUND)
		return problem(c, ES_CHECK_ID_MISSING, s->name, ver, view->position, "stream '%s' version "
		               "%lld: its id %s is not in the event-id index", s->name, (long long)ver, id);
	if (rc == 0 && (v.mv_size != 16 || memcmp(v.mv_data, key, 16) != 0)) {
		if (v.mv_size == 16) describe(c, v.mv_data, where, sizeof where);
		else snprintf(where, sizeof where, "a malformed entry");
		return problem(c, ES_CHECK_ID_MISSING, s->name, ver, view->position, "stream '%s' version "
		               "%lld: its id %s is indexed at %s", s->name, (long long)ver, id, where);
	}
	return rc;
}

static int check_event(checker *c, stream_walk *s, const uint8_t *key, int64_t ver, const MDB_val *v)
{
	es_record_view view;
	const char *type;
	int rc = 0;
	if (s->known && ver > s->rec.head)
		rc = problem(c, ES_CHECK_BEYOND_HEAD, s->name, ver, 0, "stream '%s' version %lld is stored "
		             "past its head, version %lld", s->name, (long long)ver, (long long)s->rec.head);
	if (rc)
		return rc;
	if (es__record_decode(&view, v->mv_data, v->mv_size))
		return problem(c, ES_CHECK_RECORD_CORRUPT, s->name, ver, 0, "stream '%s' version %lld: the "
		               "record fails its checksum or layout", s->name, (long long)ver);
	int trc = es__type_name(c->txn, c->db, view.type_id, &type);
	if (trc && trc != ES_ECORRUPT)
		return trc; /* out of memory says nothing about the store */
	if (trc && (rc = problem(c, ES_CHECK_TYPE, s->name, ver, view.position, "stream '%s' version %lld: "
	                         "event type id %u has no name", s->name, (long long)ver, view.type_id)))
		return rc;
	if (view.recorded_at < s->prev_at &&
	    (rc = problem(c, ES_CHECK_TIME_ORDER, s->name, ver, view.position, "stream '%s' version %lld "
	                  "was recorded at %lld, before the version before it (%lld)", s->name,
	                  (long long)ver, (long long)view.recorded_at, (long long)s->prev_at)))
		return rc;
	s->prev_at = view.recorded_at;
	if (s->known && ver == s->rec.first_visible) {
		s->first_at = view.recorded_at;
		s->have_first = true;
	}
	if (s->known && ver == s->rec.head) {
		s->last_at = view.recorded_at;
		s->have_last = true;
	}
	return check_links(c, s, key, ver, &view);
}

static int visit_event(checker *c, const MDB_val *k, const MDB_val *v, void *state)
{
	stream_walk *s = state;
	c->st.events++;
	if (k->mv_size != 16)
		return problem(c, ES_CHECK_RECORD_CORRUPT, NULL, -1, 0, "an event key of %zu bytes is "
		               "malformed (keys are 16 bytes)", k->mv_size);
	uint64_t sid = es__get_be64(k->mv_data);
	int64_t ver = (int64_t)es__get_be64((const uint8_t *)k->mv_data + 8);
	int rc = 0;
	if (!s->open || sid != s->sid) {
		if ((rc = close_stream(c, s)) || (rc = open_stream(c, s, sid)))
			return rc;
	} else if (s->generation != c->generation) {
		/* Renewed: the stream may have grown meanwhile. */
		s->generation = c->generation;
		if (s->known && (rc = es__stream_rec_get(c->txn, c->db, s->name, &s->rec)))
			return rc;
	}
	if (ver > s->next)
		rc = problem(c, ES_CHECK_VERSION_GAP, s->name, s->next, 0, "stream '%s': versions "
		             "%lld..%lld are missing", s->name, (long long)s->next, (long long)ver - 1);
	s->next = ver + 1;
	return rc ? rc : check_event(c, s, k->mv_data, ver, v);
}

static int check_events(checker *c)
{
	stream_walk s = { 0 };
	int rc = walk(c, c->db->dbi.events, visit_event, &s);
	return rc ? rc : close_stream(c, &s);
}

/* ---- the log: positions, targets, time order ---- */

typedef struct log_walk {
	uint64_t next;   /* the position expected next */
	int64_t prev_at;
	uint64_t prev_position;
} log_walk;

static int check_target(checker *c, log_walk *s, uint64_t position, const MDB_val *v)
{
	char where[ES_STREAM_NAME_MAX + 64];
	MDB_val ev;
	es_record_view view;
	describe(c, v->mv_data, where, sizeof where);
	int rc = get(c, c->db->dbi.events, v->mv_data, 16, &ev);
	if (rc == ES_ENOTFOUND)
		return problem(c, ES_CHECK_LOG_DANGLING, NULL, -1, position, "log position %llu points at "
		               "%s, which does not exist", (unsigned long long)position, where);
	if (rc || es__record_decode(&view, ev.mv_data, ev.mv_size))
		return rc; /* a corrupt record is reported by the events walk */
	if (view.position != position)
		return problem(c, ES_CHECK_LOG_DANGLING, NULL, -1, position, "log position %llu points at "
		               "%s, which was recorded at position %llu", (unsigned long long)position,
		               where, (unsigned long long)view.position);
	if (s->prev_position && view.recorded_at < s->prev_at)
		rc = problem(c, ES_CHECK_TIME_ORDER, NULL, -1, position, "position %llu (%s) was recorded "
		             "at %lld, before position %llu (%lld)", (unsigned long long)position, where,
		             (long long)view.recorded_at, (unsigned long long)s->prev_position,
		             (long long)s->prev_at);
	s->prev_at = view.recorded_at;
	s->prev_position = position;
	return rc;
}

static int visit_log(checker *c, const MDB_val *k, const MDB_val *v, void *state)
{
	log_walk *s = state;
	c->st.log_entries++;
	if (k->mv_size != 8 || v->mv_size != 16)
		return problem(c, ES_CHECK_LOG_DANGLING, NULL, -1, 0, "a log entry is malformed (key %zu "
		               "bytes, value %zu bytes)", k->mv_size, v->mv_size);
	uint64_t position = es__get_be64(k->mv_data);
	int rc = 0;
	if (position > s->next)
		rc = problem(c, ES_CHECK_LOG_GAP, NULL, -1, s->next, "log positions %llu..%llu are missing",
		             (unsigned long long)s->next, (unsigned long long)position - 1);
	s->next = position + 1;
	return rc ? rc : check_target(c, s, position, v);
}

static int check_log(checker *c)
{
	log_walk s = { 1, INT64_MIN, 0 };
	uint64_t next, clock;
	int rc = walk(c, c->db->dbi.log, visit_log, &s);
	if (rc || (rc = es__meta_get_u64(c->txn, c->db, "next_position", &next, 1)) ||
	    (rc = es__meta_get_u64(c->txn, c->db, "clock", &clock, 0)))
		return rc;
	if (next != s.next)
		rc = problem(c, ES_CHECK_META, NULL, -1, s.next, "the store's next position is %llu, but "
		             "the log ends at position %llu", (unsigned long long)next,
		             (unsigned long long)s.next - 1);
	if (rc == 0 && s.prev_position && (int64_t)clock < s.prev_at)
		rc = problem(c, ES_CHECK_META, NULL, -1, s.prev_position, "the store's clock (%lld) is "
		             "before the newest event's recorded_at (%lld)", (long long)clock,
		             (long long)s.prev_at);
	return rc;
}

/* ---- the event-id index ---- */

static int visit_id(checker *c, const MDB_val *k, const MDB_val *v, void *state)
{
	(void)state;
	c->st.ids++;
	char id[ES_ID_TEXT_SIZE] = "?", where[ES_STREAM_NAME_MAX + 64], held[ES_ID_TEXT_SIZE];
	if (k->mv_size != 16 || v->mv_size != 16)
		return problem(c, ES_CHECK_ID_DANGLING, NULL, -1, 0, "an event-id index entry is malformed");
	es_id_format(k->mv_data, id);
	describe(c, v->mv_data, where, sizeof where);
	MDB_val ev;
	int rc = get(c, c->db->dbi.events, v->mv_data, 16, &ev);
	if (rc == ES_ENOTFOUND)
		return problem(c, ES_CHECK_ID_DANGLING, NULL, -1, 0, "event id %s points at %s, which does "
		               "not exist", id, where);
	if (rc || ev.mv_size < ES_RECORD_HEADER)
		return rc; /* a malformed record is reported by the events walk */
	if (memcmp((const uint8_t *)ev.mv_data + ES_RECORD_OFF_ID, k->mv_data, 16) != 0) {
		es_id_format((const uint8_t *)ev.mv_data + ES_RECORD_OFF_ID, held);
		return problem(c, ES_CHECK_ID_DANGLING, NULL, -1, 0, "event id %s points at %s, which "
		               "holds id %s", id, where, held);
	}
	return 0;
}

/* ---- snapshots ---- */

static int check_envelope(checker *c, const char *name, int64_t ver, const MDB_val *v)
{
	es__envelope env;
	es__envelope_fault fault = es__envelope_open(&env, v->mv_data, v->mv_size);
	if (fault == ES__ENVELOPE_MALFORMED)
		return problem(c, ES_CHECK_SNAPSHOT_CORRUPT, name, ver, 0, "stream '%s': the snapshot at "
		               "version %lld is malformed", name, (long long)ver);
	if (fault == ES__ENVELOPE_CHECKSUM)
		return problem(c, ES_CHECK_SNAPSHOT_CORRUPT, name, ver, 0, "stream '%s': the snapshot at "
		               "version %lld fails its checksum", name, (long long)ver);
	return 0;
}

static int visit_snapshot(checker *c, const MDB_val *k, const MDB_val *v, void *state)
{
	(void)state;
	c->st.snapshots++;
	if (k->mv_size != 16)
		return problem(c, ES_CHECK_SNAPSHOT_ORPHAN, NULL, -1, 0, "a snapshot key is malformed");
	char name[ES_STREAM_NAME_MAX + 1];
	uint64_t sid = es__get_be64(k->mv_data);
	int64_t ver = (int64_t)es__get_be64((const uint8_t *)k->mv_data + 8);
	es_stream_rec rec;
	MDB_val ev;
	if (!name_of(c, sid, name) || es__stream_rec_get(c->txn, c->db, name, &rec) || rec.id != sid)
		return problem(c, ES_CHECK_SNAPSHOT_ORPHAN, NULL, ver, 0, "a snapshot at version %lld "
		               "belongs to stream id %llu, which has no stream", (long long)ver,
		               (unsigned long long)sid);
	if (ver > rec.head)
		return problem(c, ES_CHECK_SNAPSHOT_ORPHAN, name, ver, 0, "stream '%s': the snapshot at "
		               "version %lld is past its head, version %lld", name, (long long)ver,
		               (long long)rec.head);
	int rc = get(c, c->db->dbi.events, k->mv_data, 16, &ev);
	if (rc == ES_ENOTFOUND)
		return problem(c, ES_CHECK_SNAPSHOT_ORPHAN, name, ver, 0, "stream '%s': the snapshot at "
		               "version %lld refers to a missing event", name, (long long)ver);
	return rc ? rc : check_envelope(c, name, ver, v);
}

/* ---- stream records and names ---- */

/* Whether any event is stored under stream id sid. */
static int has_events(checker *c, uint64_t sid, bool *out)
{
	MDB_cursor *cur;
	uint8_t key[16];
	es__event_key(key, sid, 0);
	MDB_val k = { 16, key }, v;
	int rc = mdb_cursor_open(c->txn, c->db->dbi.events, &cur);
	if (rc)
		return es__error_lmdb(rc, "checking the store");
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	*out = rc == 0 && k.mv_size == 16 && es__get_be64(k.mv_data) == sid;
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : es__error_lmdb(rc, "checking the store");
}

static int check_stream_rec(checker *c, const char *name, const es_stream_rec *r)
{
	char named[ES_STREAM_NAME_MAX + 1];
	bool any;
	if (!name_of(c, r->id, named) || strcmp(named, name) != 0)
		return problem(c, ES_CHECK_STREAM_RECORD, name, -1, 0, "stream '%s' has id %llu, which the "
		               "names table %s", name, (unsigned long long)r->id,
		               named[0] == '#' ? "does not know" : "gives to another stream");
	if ((r->flags & ~(ES_SF_SOFT_DELETED | ES_SF_TOMBSTONED)) || r->head < -1 ||
	    r->first_visible < 0 || r->first_visible > r->head + 1)
		return problem(c, ES_CHECK_STREAM_RECORD, name, -1, 0, "the record of stream '%s' is "
		               "inconsistent (head %lld, first visible %lld, flags %u)", name,
		               (long long)r->head, (long long)r->first_visible, r->flags);
	int rc = r->head >= 0 ? has_events(c, r->id, &any) : 0;
	if (rc == 0 && r->head >= 0 && !any)
		rc = problem(c, ES_CHECK_VERSION_GAP, name, 0, 0, "stream '%s': versions 0..%lld are "
		             "missing (no event is stored)", name, (long long)r->head);
	return rc;
}

static int visit_stream(checker *c, const MDB_val *k, const MDB_val *v, void *state)
{
	uint64_t *max_id = state;
	char name[ES_STREAM_NAME_MAX + 1];
	es_stream_rec rec;
	c->st.streams++;
	if (k->mv_size == 0 || k->mv_size > ES_STREAM_NAME_MAX)
		return problem(c, ES_CHECK_STREAM_RECORD, NULL, -1, 0, "a stream name of %zu bytes is "
		               "malformed", k->mv_size);
	memcpy(name, k->mv_data, k->mv_size);
	name[k->mv_size] = '\0';
	if (v->mv_size != ES_STREAM_REC_SIZE || es__stream_rec_get(c->txn, c->db, name, &rec))
		return problem(c, ES_CHECK_STREAM_RECORD, name, -1, 0, "the record of stream '%s' is "
		               "malformed", name);
	if (rec.id > *max_id)
		*max_id = rec.id;
	return check_stream_rec(c, name, &rec);
}

static int visit_name(checker *c, const MDB_val *k, const MDB_val *v, void *state)
{
	(void)state;
	char name[ES_STREAM_NAME_MAX + 1];
	es_stream_rec rec;
	if (k->mv_size != 8 || v->mv_size == 0 || v->mv_size > ES_STREAM_NAME_MAX)
		return problem(c, ES_CHECK_STREAM_RECORD, NULL, -1, 0, "a stream names entry is malformed");
	uint64_t sid = es__get_be64(k->mv_data);
	memcpy(name, v->mv_data, v->mv_size);
	name[v->mv_size] = '\0';
	if (es__stream_rec_get(c->txn, c->db, name, &rec) || rec.id != sid)
		return problem(c, ES_CHECK_STREAM_RECORD, name, -1, 0, "stream id %llu is named '%s', but "
		               "no stream record of that name has that id", (unsigned long long)sid, name);
	return 0;
}

static int check_streams(checker *c)
{
	uint64_t max_id = 0, next;
	int rc = walk(c, c->db->dbi.streams, visit_stream, &max_id);
	if (rc || (rc = walk(c, c->db->dbi.stream_names, visit_name, NULL)) ||
	    (rc = es__meta_get_u64(c->txn, c->db, "next_stream_id", &next, 1)))
		return rc;
	if (max_id >= next)
		rc = problem(c, ES_CHECK_META, NULL, -1, 0, "the store's next stream id is %llu, but id "
		             "%llu is in use", (unsigned long long)next, (unsigned long long)max_id);
	return rc;
}

/* ---- event types ---- */

static int visit_type(checker *c, const MDB_val *k, const MDB_val *v, void *state)
{
	uint64_t *max_id = state;
	char name[ES_TYPE_NAME_MAX + 1];
	size_t n = k->mv_size <= ES_TYPE_NAME_MAX ? k->mv_size : ES_TYPE_NAME_MAX;
	memcpy(name, k->mv_data, n);
	name[n] = '\0';
	if (v->mv_size != 4)
		return problem(c, ES_CHECK_TYPE, NULL, -1, 0, "the type table entry of '%s' is malformed", name);
	uint32_t id = es__get_le32(v->mv_data);
	uint8_t key[4] = { (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id };
	MDB_val back;
	int rc = get(c, c->db->dbi.type_names, key, 4, &back);
	if (rc && rc != ES_ENOTFOUND)
		return rc;
	if (rc || back.mv_size != k->mv_size || memcmp(back.mv_data, k->mv_data, k->mv_size) != 0)
		return problem(c, ES_CHECK_TYPE, NULL, -1, 0, "event type '%s' has id %u, which the type "
		               "names table does not give back", name, id);
	if (id > *max_id)
		*max_id = id;
	return 0;
}

static int check_types(checker *c)
{
	uint64_t max_id = 0, next;
	int rc = walk(c, c->db->dbi.types, visit_type, &max_id);
	if (rc || (rc = es__meta_get_u64(c->txn, c->db, "next_type_id", &next, 1)))
		return rc;
	if (max_id >= next)
		rc = problem(c, ES_CHECK_META, NULL, -1, 0, "the store's next type id is %llu, but id %llu "
		             "is in use", (unsigned long long)next, (unsigned long long)max_id);
	return rc;
}

/* ---- the whole check ---- */

int es_check(es_check_stats *out, es_db *db, const es_check_options *opts)
{
	es_check_options defaults = ES_CHECK_OPTIONS_INIT;
	if (!db)
		return es__error_set(ES_EINVAL, "es_check: db is required");
	if (!opts)
		opts = &defaults;
	if (opts->version != ES_CHECK_OPTIONS_VERSION)
		return es__error_set(ES_EINVAL, "es_check: unknown options version %u", opts->version);
	checker c = { .db = db, .o = opts, .every = opts->renew_every ? opts->renew_every : ES_CHECK_RENEW_EVERY };
	int rc = es__read_txn_begin(db, &c.txn);
	char where[400];
	int walked = rc == 0 ? es__tree_walk(db, c.txn, where, sizeof where) : 0;
	if (walked == 1) {
		/* the checks below would die where the walk did */
		rc = problem(&c, ES_CHECK_BTREE, NULL, -1, 0, "%s", where);
		es__read_txn_end(db, c.txn);
	} else if (walked < 0) {
		rc = walked;
		es__read_txn_end(db, c.txn);
	} else if (rc == 0) {
		if (!(rc = check_events(&c)) && !(rc = check_log(&c)) &&
		    !(rc = walk(&c, db->dbi.event_ids, visit_id, NULL)) &&
		    !(rc = walk(&c, db->dbi.snapshots, visit_snapshot, NULL)) && !(rc = check_streams(&c)))
			rc = check_types(&c);
		es__read_txn_end(db, c.txn);
	}
	if (out)
		*out = c.st;
	if (rc == 0 && c.st.problems)
		rc = es__error_set(ES_ECORRUPT, "the store at '%s' has %llu integrity problem%s", db->path,
		                   (unsigned long long)c.st.problems, c.st.problems == 1 ? "" : "s");
	return rc;
}

ES__OPTIONS_INIT_FN(es_check_options_init, es_check_options, ES_CHECK_OPTIONS_INIT, ES_CHECK_OPTIONS_VERSION)
