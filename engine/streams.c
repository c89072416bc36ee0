/*
 * streams.c - stream records: names, expected-version checks, info,
 * version-at-time, listing, soft delete and tombstones.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "record.h"

int es__check_stream_name(const char *stream)
{
	if (!stream)
		return es__error_set(ES_EINVAL, "stream name is NULL");
	size_t n = strlen(stream);
	if (n == 0)
		return es__error_set(ES_EINVAL, "stream name is empty");
	if (n > ES_STREAM_NAME_MAX)
		return es__error_set(ES_EINVAL, "stream name '%.40s...' is %zu bytes, longer than %d",
		                     stream, n, ES_STREAM_NAME_MAX);
	return 0;
}


int es__stream_rec_get(MDB_txn *txn, es_db *db, const char *stream, es_stream_rec *rec)
{
	MDB_val k = { strlen(stream), (void *)stream }, v;
	int rc = mdb_get(txn, db->dbi.streams, &k, &v);
	if (rc == MDB_NOTFOUND)
		return ES_ENOTFOUND;
	if (rc)
		return es__lmdb(rc, "reading a stream record");
	if (v.mv_size != ES_STREAM_REC_SIZE)
		return es__error_set(ES_ECORRUPT, "record of stream '%s' is malformed", stream);
	const uint8_t *p = v.mv_data;
	rec->id = es__get_le64(p);
	rec->head = (int64_t)es__get_le64(p + 8);
	rec->first_visible = (int64_t)es__get_le64(p + 16);
	rec->first_recorded_at = (int64_t)es__get_le64(p + 24);
	rec->last_recorded_at = (int64_t)es__get_le64(p + 32);
	rec->flags = es__get_le32(p + 40);
	return 0;
}

int es__stream_rec_put(MDB_txn *txn, es_db *db, const char *stream, const es_stream_rec *rec)
{
	uint8_t buf[ES_STREAM_REC_SIZE];
	es__put_le64(buf, rec->id);
	es__put_le64(buf + 8, (uint64_t)rec->head);
	es__put_le64(buf + 16, (uint64_t)rec->first_visible);
	es__put_le64(buf + 24, (uint64_t)rec->first_recorded_at);
	es__put_le64(buf + 32, (uint64_t)rec->last_recorded_at);
	es__put_le32(buf + 40, rec->flags);
	MDB_val k = { strlen(stream), (void *)stream }, v = { sizeof buf, buf };
	int rc = es__put(db, txn, db->dbi.streams, &k, &v, 0);
	return rc ? es__lmdb(rc, "writing a stream record") : 0;
}

int es__stream_create(MDB_txn *txn, es_db *db, const char *stream, es_stream_rec *rec)
{
	uint64_t next;
	int rc = es__meta_get_u64(txn, db, "next_stream_id", &next, 1);
	if (rc)
		return rc;
	memset(rec, 0, sizeof *rec);
	rec->id = next;
	rec->head = -1;
	uint8_t key[8];
	es__put_be64(key, next);
	MDB_val k = { 8, key }, v = { strlen(stream), (void *)stream };
	/* Ids only grow, so a new one goes at the end of stream_names. */
	if ((rc = es__put(db, txn, db->dbi.stream_names, &k, &v, MDB_NOOVERWRITE | MDB_APPEND)))
		return es__lmdb(rc, "naming a new stream");
	return es__meta_put_u64(txn, db, "next_stream_id", next + 1);
}

int es__stream_name(MDB_txn *txn, es_db *db, uint64_t id, const char **name, size_t *len)
{
	uint8_t key[8];
	es__put_be64(key, id);
	MDB_val k = { 8, key }, v;
	int rc = mdb_get(txn, db->dbi.stream_names, &k, &v);
	if (rc)
		return rc == MDB_NOTFOUND
		           ? es__error_set(ES_ECORRUPT, "stream id %llu has no name", (unsigned long long)id)
		           : es__lmdb(rc, "reading a stream name");
	*name = v.mv_data;
	*len = v.mv_size;
	return 0;
}

bool es__stream_visible(const es_stream_rec *rec)
{
	return rec && !(rec->flags & (ES_SF_SOFT_DELETED | ES_SF_TOMBSTONED)) && rec->head >= 0;
}

static int conflict(const char *stream, int64_t expected, const es_stream_rec *rec)
{
	int64_t head = rec ? rec->head : -1;
	char want[48], have[48];
	if (expected == ES_NO_STREAM) snprintf(want, sizeof want, "no stream");
	else if (expected == ES_STREAM_EXISTS) snprintf(want, sizeof want, "an existing stream");
	else snprintf(want, sizeof want, "version %lld", (long long)expected);
	if (head < 0) snprintf(have, sizeof have, "has no events");
	else if (rec->flags & ES_SF_SOFT_DELETED)
		snprintf(have, sizeof have, "is soft-deleted at version %lld", (long long)head);
	else snprintf(have, sizeof have, "is at version %lld", (long long)head);
	return es__error_set(ES_ECONFLICT, "stream '%s': expected %s, but it %s", stream, want, have);
}

int es__check_expected(const char *stream, const es_stream_rec *rec, int64_t expected)
{
	if (rec && (rec->flags & ES_SF_TOMBSTONED))
		return es__error_set(ES_EDELETED, "stream '%s' is tombstoned", stream);
	int64_t head = rec ? rec->head : -1;
	bool visible = es__stream_visible(rec);
	bool ok;
	if (expected == ES_ANY) ok = true;
	else if (expected == ES_NO_STREAM) ok = !visible;
	else if (expected == ES_STREAM_EXISTS) ok = visible;
	else if (expected >= 0) ok = head == expected;
	else return es__error_set(ES_EINVAL, "stream '%s': %lld is not an expected version", stream, (long long)expected);
	if (ok)
		return 0;
	return conflict(stream, expected, rec);
}

/* ---- reads over stream records ---- */

int es_stream_info_get(es_stream_info *out, es_read *rd, const char *stream)
{
	if (!out || !rd)
		return es__error_set(ES_EINVAL, "es_stream_info_get: out and rd are required");
	int rc = es__check_stream_name(stream);
	es_stream_rec rec;
	if (rc || (rc = es__stream_rec_get(rd->txn, rd->db, stream, &rec)))
		return rc == ES_ENOTFOUND ? es__error_set(rc, "stream '%s' not found", stream) : rc;
	out->head_version = rec.head;
	out->first_version = rec.first_visible;
	/* Soft-deleted and not recreated: no event at first_version. */
	out->first_recorded_at = rec.head >= rec.first_visible ? rec.first_recorded_at : 0;
	out->last_recorded_at = rec.last_recorded_at;
	out->state = (rec.flags & ES_SF_TOMBSTONED) ? ES_STREAM_TOMBSTONED
	             : (rec.flags & ES_SF_SOFT_DELETED) ? ES_STREAM_SOFT_DELETED : ES_STREAM_LIVE;
	return 0;
}

/* A search over one stream's events through one cursor: a seek that lands
 * on the leaf page the cursor is already on skips LMDB's descent from the
 * root, and a step to a neighbour costs a small fraction of a seek. */
typedef struct probe {
	MDB_cursor *cur;
	const char *stream;
	uint64_t id;
} probe;

/* recorded_at of version, reached with op: MDB_SET seeks it, MDB_NEXT and
 * MDB_PREV step to it from the version the cursor is on. */
static int probe_at(int64_t *out, probe *p, int64_t version, MDB_cursor_op op)
{
	uint8_t key[16];
	es__event_key(key, p->id, version);
	MDB_val k = { 16, key }, v;
	if (mdb_cursor_get(p->cur, &k, &v, op) == 0 && k.mv_size == 16 && memcmp(k.mv_data, key, 16) == 0 &&
	    es__record_recorded_at(out, v.mv_data, v.mv_size) == 0)
		return 0;
	return es__error_set(ES_ECORRUPT, "stream '%s' version %lld is missing or malformed",
	                     p->stream, (long long)version);
}

/* The versions the answer lies between: t_lo = recorded_at(lo) <= t < t_hi = recorded_at(hi). */
typedef struct bracket {
	int64_t lo, hi, t_lo, t_hi;
} bracket;

static void narrow(bracket *b, int64_t version, int64_t at, int64_t t)
{
	if (at <= t) {
		b->lo = version;
		b->t_lo = at;
	} else {
		b->hi = version;
		b->t_hi = at;
	}
}

/* Where t would fall if times grew evenly from lo to hi, strictly inside.
 * Only a guess, so double precision is plenty; the probes keep it exact. */
static int64_t interpolate(const bracket *b, int64_t t)
{
	uint64_t width = (uint64_t)(b->hi - b->lo);
	double f = (double)((uint64_t)t - (uint64_t)b->t_lo) / (double)((uint64_t)b->t_hi - (uint64_t)b->t_lo);
	double off = f * (double)width; /* clamped before the cast, which could overflow */
	return off < 1 ? b->lo + 1 : off >= (double)(width - 1) ? b->hi - 1 : b->lo + (int64_t)off;
}

/* Steps after a guess: enough to close the bracket when the guess was off by
 * its rounding or by a few events sharing one commit time, few enough that
 * a wrong guess costs less than a seek. */
#define WALK_STEPS 4

/* From the version the cursor is on, steps toward the answer. */
static int walk(bracket *b, probe *p, int64_t version, int64_t t)
{
	int64_t dir = version == b->lo ? 1 : -1;
	for (int i = 0; i < WALK_STEPS && b->hi - b->lo > 1; i++) {
		int64_t at;
		version += dir;
		int rc = probe_at(&at, p, version, dir > 0 ? MDB_NEXT : MDB_PREV);
		if (rc)
			return rc;
		narrow(b, version, at, t);
	}
	return 0;
}

/* Interpolation search: times usually grow about evenly, so a guess and a
 * short walk find most answers in one seek where bisection takes log2(n).
 * A guessing round that does not at least halve the bracket is followed by
 * a bisecting one, so uneven times cost at most about twice the seeks of
 * bisection (and its last seeks are cheap ones, near the cursor). */
static int narrow_to_answer(bracket *b, probe *p, int64_t t)
{
	bool guess = true;
	while (b->hi - b->lo > 1) {
		int64_t width = b->hi - b->lo, at;
		int64_t version = guess ? interpolate(b, t) : b->lo + width / 2;
		int rc = probe_at(&at, p, version, MDB_SET);
		if (rc)
			return rc;
		narrow(b, version, at, t);
		if (guess && (rc = walk(b, p, version, t)))
			return rc;
		guess = !guess || b->hi - b->lo <= width / 2;
	}
	return 0;
}

/* The newest version recorded at or before t. */
static int search(int64_t *out, probe *p, const es_stream_rec *rec, int64_t t)
{
	/* The record holds the first visible version's time: version 0's unless
	 * a soft delete hid it (its history still counts here). */
	bracket b = { 0, rec->head, rec->first_recorded_at, rec->last_recorded_at };
	int rc = rec->first_visible == 0 ? 0 : probe_at(&b.t_lo, p, 0, MDB_SET);
	if (rc)
		return rc;
	if (t < b.t_lo)
		return es__error_set(ES_ENOTFOUND, "stream '%s' did not exist at %lld", p->stream, (long long)t);
	if (t >= b.t_hi) {
		*out = rec->head;
		return 0;
	}
	if ((rc = narrow_to_answer(&b, p, t)))
		return rc;
	*out = b.lo;
	return 0;
}

int es_stream_version_at(int64_t *out, es_read *rd, const char *stream, int64_t t)
{
	if (!out || !rd)
		return es__error_set(ES_EINVAL, "es_stream_version_at: out and rd are required");
	es_stream_rec rec;
	int rc = es__check_stream_name(stream);
	if (rc || (rc = es__stream_rec_get(rd->txn, rd->db, stream, &rec)))
		return rc == ES_ENOTFOUND ? es__error_set(rc, "stream '%s' not found", stream) : rc;
	if (rec.head < 0)
		return es__error_set(ES_ENOTFOUND, "stream '%s' has no events", stream);
	probe p = { NULL, stream, rec.id };
	if ((rc = mdb_cursor_open(rd->txn, rd->db->dbi.events, &p.cur)))
		return es__error_lmdb(rc, "reading a stream's times");
	rc = search(out, &p, &rec, t);
	mdb_cursor_close(p.cur);
	return rc;
}

static bool has_prefix(const MDB_val *k, const char *prefix, size_t plen)
{
	return k->mv_size >= plen && memcmp(k->mv_data, prefix, plen) == 0;
}

int es_stream_list(es_read *rd, const char *prefix, const char *after, size_t limit,
                   es_stream_list_fn cb, void *user_data)
{
	if (!rd || !cb)
		return es__error_set(ES_EINVAL, "es_stream_list: rd and cb are required");
	if (!prefix)
		prefix = "";
	size_t plen = strlen(prefix);
	const char *start = after && strcmp(after, prefix) > 0 ? after : prefix;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(rd->txn, rd->db->dbi.streams, &cur);
	if (rc)
		return es__error_lmdb(rc, "listing streams");
	MDB_val k = { strlen(start), (void *)start }, v;
	rc = mdb_cursor_get(cur, &k, &v, k.mv_size ? MDB_SET_RANGE : MDB_FIRST);
	int result = 0;
	char name[ES_STREAM_NAME_MAX + 1];
	for (size_t n = 0; rc == 0 && n < limit && has_prefix(&k, prefix, plen);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size > ES_STREAM_NAME_MAX) {
			result = es__error_set(ES_ECORRUPT, "a stream name in the store is over-long");
			break;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if (after && strcmp(name, after) <= 0)
			continue;
		n++;
		if ((result = cb(name, user_data)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (result == 0 && rc != 0 && rc != MDB_NOTFOUND)
		result = es__error_lmdb(rc, "listing streams");
	return result;
}

/* ---- soft delete and tombstone ---- */

typedef struct delete_req {
	const char *stream;
	int64_t expected;
	bool tombstone;
} delete_req;

int es__stream_delete_txn(MDB_txn *txn, es_db *db, const char *stream, int64_t expected, bool tombstone)
{
	es_stream_rec rec;
	int rc = es__stream_rec_get(txn, db, stream, &rec);
	bool exists = rc == 0;
	if (rc && rc != ES_ENOTFOUND)
		return rc;
	if ((rc = es__check_expected(stream, exists ? &rec : NULL, expected)))
		return rc;
	if (tombstone) {
		if (!exists && (rc = es__stream_create(txn, db, stream, &rec)))
			return rc;
		rec.flags |= ES_SF_TOMBSTONED;
	} else {
		if (!es__stream_visible(exists ? &rec : NULL))
			return es__error_set(ES_ENOTFOUND, "stream '%s' not found", stream);
		rec.flags |= ES_SF_SOFT_DELETED;
		rec.first_visible = rec.head + 1;
	}
	return es__stream_rec_put(txn, db, stream, &rec);
}

static int delete_in_txn(es_db *db, MDB_txn *txn, void *user_data)
{
	delete_req *req = user_data;
	return es__stream_delete_txn(txn, db, req->stream, req->expected, req->tombstone);
}

static int stream_delete(es_db *db, const char *stream, int64_t expected, bool tombstone)
{
	if (!db)
		return es__error_set(ES_EINVAL, "db is NULL");
	int rc = es__check_stream_name(stream);
	if (rc)
		return rc;
	delete_req req = { stream, expected, tombstone };
	return es__write(db, delete_in_txn, &req);
}

int es_stream_delete(es_db *db, const char *stream, int64_t expected)
{
	return stream_delete(db, stream, expected, false);
}

int es_stream_tombstone(es_db *db, const char *stream, int64_t expected)
{
	return stream_delete(db, stream, expected, true);
}
