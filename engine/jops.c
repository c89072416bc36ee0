/*
 * jops.c - the changes of a write transaction, kept for its journal record,
 * and replaying them. Every put and delete of the engine goes through here:
 * a change made straight through LMDB would be missing from the journal and
 * lost in a power cut.
 *
 * A change: kind (1 byte: put or delete), table (1 byte: the journal's
 * number for the sub-db), key length (LE32), for a put the value length
 * (LE32), the key, the value. Replaying puts each with plain mdb_put: the
 * flags of the first time (MDB_APPEND, MDB_NOOVERWRITE) only shaped pages
 * or refused, and a refusal was never kept.
 */
#include <errno.h>
#include <string.h>

#include "es_alloc.h"
#include "db.h"
#include "journal.h"

enum { OP_PUT = 1, OP_DEL = 2 };
#define N_TABLES (ES__N_TABLES + 2) /* and checkpoints, projections */

static MDB_dbi *table_dbi(es_db *db, size_t i)
{
	if (i < ES__N_TABLES)
		return es__table_dbi(db, i);
	return i == ES__N_TABLES ? &db->dbi.checkpoints : &db->dbi.projections;
}

void es__jops_tables(es_db *db)
{
	memset(db->table_of, 0, sizeof db->table_of);
	for (size_t i = 0; i < N_TABLES; i++) {
		MDB_dbi d = *table_dbi(db, i);
		if (d < sizeof db->table_of && (i < ES__N_TABLES || (i == ES__N_TABLES ? db->has_checkpoints
		                                                                        : db->has_projections)))
			db->table_of[d] = (uint8_t)(i + 1);
	}
}

void es__jops_reset(es_db *db)
{
	db->jops.len = ES__JREC_HEAD;
}

size_t es__jops_mark(es_db *db)
{
	return db->jops.len;
}

void es__jops_rollback(es_db *db, size_t mark)
{
	db->jops.len = mark;
}

/* Room for n more bytes: 0, or ENOMEM. */
static int reserve(es_db *db, size_t n)
{
	if (db->jops.len + n <= db->jops.cap)
		return 0;
	size_t cap = db->jops.cap ? db->jops.cap : 4096;
	while (cap < db->jops.len + n)
		cap *= 2;
	uint8_t *buf = es_realloc(db->jops.buf, cap);
	if (!buf)
		return ENOMEM;
	db->jops.buf = buf;
	db->jops.cap = cap;
	return 0;
}

static int keep(es_db *db, int kind, MDB_dbi dbi, const MDB_val *k, const MDB_val *v)
{
	if (!db->journal)
		return 0;
	size_t head = kind == OP_PUT ? 10 : 6;
	if (dbi >= sizeof db->table_of || !db->table_of[dbi] || k->mv_size > UINT32_MAX ||
	    (v && v->mv_size > UINT32_MAX))
		return EINVAL;
	if (reserve(db, head + k->mv_size + (v ? v->mv_size : 0)))
		return ENOMEM;
	uint8_t *p = db->jops.buf + db->jops.len;
	p[0] = (uint8_t)kind;
	p[1] = (uint8_t)(db->table_of[dbi] - 1);
	es__put_le32(p + 2, (uint32_t)k->mv_size);
	if (v)
		es__put_le32(p + 6, (uint32_t)v->mv_size);
	memcpy(p + head, k->mv_data, k->mv_size);
	if (v && v->mv_data)
		memcpy(p + head + k->mv_size, v->mv_data, v->mv_size);
	db->jops.reserved = db->jops.len + head + k->mv_size; /* MDB_RESERVE: see es__jops_reserved */
	db->jops.len += head + k->mv_size + (v ? v->mv_size : 0);
	return 0;
}

void es__jops_reserved(es_db *db, const void *value, size_t len)
{
	if (db->journal)
		memcpy(db->jops.buf + db->jops.reserved, value, len);
}

/* Each change is kept before LMDB makes it: a key or value may point into
 * a page of the map (copied from a read), which the change itself may move. */
int es__put(es_db *db, MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v, unsigned int flags)
{
	size_t mark = db->jops.len;
	int rc = keep(db, OP_PUT, dbi, k, v);
	if (rc == 0 && (rc = mdb_put(txn, dbi, k, v, flags)) != 0)
		db->jops.len = mark;
	return rc;
}

int es__cursor_put(es_db *db, MDB_cursor *cur, MDB_val *k, MDB_val *v, unsigned int flags)
{
	size_t mark = db->jops.len;
	int rc = keep(db, OP_PUT, mdb_cursor_dbi(cur), k, v);
	if (rc == 0 && (rc = mdb_cursor_put(cur, k, v, flags)) != 0)
		db->jops.len = mark;
	return rc;
}

int es__del(es_db *db, MDB_txn *txn, MDB_dbi dbi, MDB_val *k)
{
	size_t mark = db->jops.len;
	int rc = keep(db, OP_DEL, dbi, k, NULL);
	if (rc == 0 && (rc = mdb_del(txn, dbi, k, NULL)) != 0)
		db->jops.len = mark;
	return rc;
}

int es__cursor_del(es_db *db, MDB_cursor *cur)
{
	MDB_val k, v;
	size_t mark = db->jops.len;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
	if (rc == 0)
		rc = keep(db, OP_DEL, mdb_cursor_dbi(cur), &k, NULL);
	if (rc == 0 && (rc = mdb_cursor_del(cur, 0)) != 0)
		db->jops.len = mark;
	return rc;
}

static int bad_body(size_t at)
{
	return es__error_set(ES_ECORRUPT, "a journal record's change at byte %zu is malformed", at);
}

/* Replays one record's changes in txn. */
int es__jops_apply(es_db *db, MDB_txn *txn, const uint8_t *body, size_t len)
{
	for (size_t at = 0; at < len;) {
		if (len - at < 6 || body[at + 1] >= N_TABLES || (body[at] != OP_PUT && body[at] != OP_DEL))
			return bad_body(at);
		bool put = body[at] == OP_PUT;
		size_t head = put ? 10 : 6;
		if (len - at < head)
			return bad_body(at);
		MDB_val k = { es__get_le32(body + at + 2), (void *)(body + at + head) };
		MDB_val v = { put ? es__get_le32(body + at + 6) : 0, NULL };
		if (len - at - head < k.mv_size || len - at - head - k.mv_size < v.mv_size)
			return bad_body(at);
		v.mv_data = (void *)(body + at + head + k.mv_size);
		MDB_dbi dbi = *table_dbi(db, body[at + 1]);
		int rc = put ? mdb_put(txn, dbi, &k, &v, 0) : mdb_del(txn, dbi, &k, NULL);
		if (rc)
			return rc == MDB_NOTFOUND ? bad_body(at) : es__lmdb(rc, "replaying the journal");
		at += head + k.mv_size + v.mv_size;
	}
	return 0;
}
