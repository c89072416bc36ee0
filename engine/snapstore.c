/*
 * snapstore.c - raw snapshot storage for the snapshots module: bytes keyed by
 * (stream id, version) in the snapshots sub-db. The engine knows nothing of
 * what a snapshot holds; policies and encoding live in snapshots/.
 */
#include <string.h>

#include "db.h"

int es__snapshot_put_txn(MDB_txn *txn, es_db *db, uint64_t stream_id, int64_t version,
                         const void *bytes, size_t len)
{
	uint8_t key[16];
	es__event_key(key, stream_id, version);
	MDB_val k = { 16, key }, v = { len, (void *)bytes };
	int rc = es__put(db, txn, db->dbi.snapshots, &k, &v, 0);
	return rc ? es__lmdb(rc, "writing a snapshot") : 0;
}

int es__snapshot_get_le(int64_t *version, const void **bytes, size_t *len,
                        es_read *rd, const char *stream, int64_t max_version)
{
	es_stream_rec rec;
	int rc = es__stream_rec_get(rd->txn, rd->db, stream, &rec);
	if (rc)
		return rc;
	if (max_version < 0)
		return ES_ENOTFOUND;
	MDB_cursor *cur;
	if ((rc = mdb_cursor_open(rd->txn, rd->db->dbi.snapshots, &cur)))
		return es__error_lmdb(rc, "reading snapshots");
	uint8_t key[16];
	es__event_key(key, rec.id, max_version);
	MDB_val k = { 16, key }, v;
	/* Seek to the first key >= (id, max); the one wanted is there or just before. */
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && memcmp(k.mv_data, key, 16) != 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size != 16 || es__get_be64(k.mv_data) != rec.id)))
		return ES_ENOTFOUND;
	if (rc)
		return es__error_lmdb(rc, "reading snapshots");
	*version = (int64_t)es__get_be64((const uint8_t *)k.mv_data + 8);
	*bytes = v.mv_data;
	*len = v.mv_size;
	return 0;
}

typedef struct snap_req {
	const char *stream;
	int64_t version;
	const void *bytes;
	size_t len;
} snap_req;

static int snapshot_write(es_db *db, MDB_txn *txn, void *user_data)
{
	snap_req *req = user_data;
	es_stream_rec rec;
	int rc = es__stream_rec_get(txn, db, req->stream, &rec);
	if (rc)
		return rc == ES_ENOTFOUND ? es__error_set(rc, "stream '%s' not found", req->stream) : rc;
	if (req->version < 0 || req->version > rec.head)
		return es__error_set(ES_EINVAL, "stream '%s' has no version %lld to snapshot",
		                     req->stream, (long long)req->version);
	if (req->bytes)
		return es__snapshot_put_txn(txn, db, rec.id, req->version, req->bytes, req->len);
	uint8_t key[16];
	es__event_key(key, rec.id, req->version);
	MDB_val k = { 16, key };
	rc = es__del(db, txn, db->dbi.snapshots, &k);
	if (rc == MDB_NOTFOUND)
		return es__error_set(ES_ENOTFOUND, "stream '%s' has no snapshot at version %lld",
		                     req->stream, (long long)req->version);
	return rc ? es__lmdb(rc, "deleting a snapshot") : 0;
}

int es__snapshot_put(es_db *db, const char *stream, int64_t version, const void *bytes, size_t len)
{
	snap_req req = { stream, version, bytes ? bytes : "", len };
	return es__write(db, snapshot_write, &req);
}

int es__snapshot_delete(es_db *db, const char *stream, int64_t version)
{
	snap_req req = { stream, version, NULL, 0 };
	return es__write(db, snapshot_write, &req);
}

int es__snapshot_each(es_read *rd, const char *stream, es__snapshot_fn cb, void *user_data)
{
	es_stream_rec rec;
	int rc = es__stream_rec_get(rd->txn, rd->db, stream, &rec);
	if (rc)
		return rc;
	MDB_cursor *cur;
	if ((rc = mdb_cursor_open(rd->txn, rd->db->dbi.snapshots, &cur)))
		return es__error_lmdb(rc, "reading snapshots");
	uint8_t key[16];
	es__event_key(key, rec.id, 0);
	MDB_val k = { 16, key }, v;
	int result = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size == 16 && es__get_be64(k.mv_data) == rec.id;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int64_t version = (int64_t)es__get_be64((const uint8_t *)k.mv_data + 8);
		if ((result = cb(version, v.mv_data, v.mv_size, user_data)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (result == 0 && rc != 0 && rc != MDB_NOTFOUND)
		result = es__error_lmdb(rc, "reading snapshots");
	return result;
}
