/*
 * projstate.c - keyed state for projections, in the projections sub-db:
 * key = namespace (a projection name) + NUL + the caller's key. A state
 * transaction writes state and checkpoints together, so a projection's
 * read model and its position commit as one (exactly once). Keys starting
 * with NUL (an empty namespace) are the projections module's own records.
 * The engine knows nothing of what the values mean.
 */
#include <errno.h>
#include <string.h>

#include "es_alloc.h"
#include "db.h"

#define KEY_MAX 511 /* LMDB's default key size limit */

/* ns + NUL + key into buf; its length, or 0 when too long. */
static size_t state_key(uint8_t *buf, const char *ns, const void *key, size_t klen)
{
	size_t nl = strlen(ns);
	if (nl + 1 + klen > KEY_MAX)
		return 0;
	memcpy(buf, ns, nl);
	buf[nl] = 0;
	if (klen)
		memcpy(buf + nl + 1, key, klen);
	return nl + 1 + klen;
}

static int key_error(const char *ns, size_t klen)
{
	return es__error_set(ES_EINVAL, "projection '%.64s': a key of %zu bytes is too long (at most %zu "
	                     "with the name)", ns, klen, (size_t)KEY_MAX - strlen(ns) - 1);
}

static int state_get_txn(const void **val, size_t *len, MDB_txn *txn, es_db *db, const char *ns,
                         const void *key, size_t klen)
{
	uint8_t buf[KEY_MAX];
	MDB_val k = { state_key(buf, ns, key, klen), buf }, v;
	if (k.mv_size == 0)
		return key_error(ns, klen);
	if (!db->has_projections)
		return ES_ENOTFOUND;
	int rc = mdb_get(txn, db->dbi.projections, &k, &v);
	if (rc == MDB_NOTFOUND)
		return ES_ENOTFOUND;
	if (rc)
		return es__error_lmdb(rc, "reading projection state");
	*val = v.mv_data;
	*len = v.mv_size;
	return 0;
}

typedef struct state_req {
	es__state_fn fn;
	void *user_data;
} state_req;

static int run_state(es_db *db, MDB_txn *txn, void *user_data)
{
	state_req *req = user_data;
	es__state_txn t = { db, txn };
	return req->fn(&t, req->user_data);
}

int es__state_write(es_db *db, es__state_fn fn, void *user_data)
{
	if (!db->has_projections)
		return es__error_set(ES_EREADONLY, "store '%s' is open read-only", db->path);
	state_req req = { fn, user_data };
	return es__write(db, run_state, &req);
}

int es__state_get(const void **val, size_t *len, es__state_txn *t, const char *ns, const void *key,
                  size_t klen)
{
	return state_get_txn(val, len, t->txn, t->db, ns, key, klen);
}

int es__state_put(es__state_txn *t, const char *ns, const void *key, size_t klen, const void *val,
                  size_t vlen)
{
	uint8_t buf[KEY_MAX];
	MDB_val k = { state_key(buf, ns, key, klen), buf }, v = { vlen, (void *)val };
	if (k.mv_size == 0)
		return key_error(ns, klen);
	int rc = es__put(t->db, t->txn, t->db->dbi.projections, &k, &v, 0);
	return rc ? es__lmdb(rc, "writing projection state") : 0;
}

int es__state_del(es__state_txn *t, const char *ns, const void *key, size_t klen)
{
	uint8_t buf[KEY_MAX];
	MDB_val k = { state_key(buf, ns, key, klen), buf };
	if (k.mv_size == 0)
		return key_error(ns, klen);
	int rc = es__del(t->db, t->txn, t->db->dbi.projections, &k);
	if (rc == MDB_NOTFOUND)
		return ES_ENOTFOUND;
	return rc ? es__lmdb(rc, "deleting projection state") : 0;
}

int es__state_checkpoint_get(uint64_t *out, es__state_txn *t, const char *name)
{
	return es__checkpoint_get_txn(out, t->txn, t->db, name);
}

int es__state_checkpoint(es__state_txn *t, const char *name, uint64_t position)
{
	return es__checkpoint_put(t->txn, t->db, name, position, 0);
}

int es__state_read(const void **val, size_t *len, es_read *rd, const char *ns, const void *key,
                   size_t klen)
{
	return state_get_txn(val, len, rd->txn, rd->db, ns, key, klen);
}

int es__state_scan(es_read *rd, const char *ns, const void *prefix, size_t plen,
                   es__state_each_fn fn, void *user_data)
{
	uint8_t buf[KEY_MAX];
	size_t start = state_key(buf, ns, prefix, plen), skip = strlen(ns) + 1;
	if (start == 0)
		return key_error(ns, plen);
	if (!rd->db->has_projections)
		return 0;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(rd->txn, rd->db->dbi.projections, &cur);
	if (rc)
		return es__error_lmdb(rc, "reading projection state");
	MDB_val k = { start, buf }, v;
	int result = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size >= start && memcmp(k.mv_data, buf, start) == 0 && result == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		result = fn((const uint8_t *)k.mv_data + skip, k.mv_size - skip, v.mv_data, v.mv_size, user_data);
	mdb_cursor_close(cur);
	if (result == 0 && rc != 0 && rc != MDB_NOTFOUND)
		result = es__error_lmdb(rc, "reading projection state");
	return result;
}

/* Deletes every key of ns (from a cursor: mdb_cursor_del moves it on). */
int es__state_ns_clear(es__state_txn *t, const char *ns)
{
	uint8_t buf[KEY_MAX];
	size_t start = state_key(buf, ns, NULL, 0);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, t->db->dbi.projections, &cur);
	if (rc)
		return es__lmdb(rc, "clearing projection state");
	MDB_val k = { start, buf }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size >= start && memcmp(k.mv_data, buf, start) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT))
		if ((rc = es__cursor_del(t->db, cur)) != 0)
			break;
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND || rc == EINVAL ? 0 : es__lmdb(rc, "clearing projection state");
}

int es__state_log_head(uint64_t *out, es__state_txn *t)
{
	uint64_t next;
	int rc = es__meta_get_u64(t->txn, t->db, "next_position", &next, 1);
	if (rc == 0)
		*out = next - 1;
	return rc;
}

int es__state_checkpoint_set(es__state_txn *t, const char *name, uint64_t position)
{
	return es__checkpoint_put(t->txn, t->db, name, position, 1);
}

int es__state_checkpoint_del(es__state_txn *t, const char *name)
{
	MDB_val k = { strlen(name), (void *)name };
	int rc = es__del(t->db, t->txn, t->db->dbi.checkpoints, &k);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : es__lmdb(rc, "deleting a checkpoint");
}

/* Copies every key of ns from to to ns to (cursor over from, puts into to:
 * two cursors, since a put may move the one it is made through). */
int es__state_ns_copy(es__state_txn *t, const char *from, const char *to)
{
	uint8_t buf[KEY_MAX], dst[KEY_MAX];
	size_t start = state_key(buf, from, NULL, 0), skip = strlen(from) + 1;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, t->db->dbi.projections, &cur);
	if (rc)
		return es__lmdb(rc, "copying projection state");
	MDB_val k = { start, buf }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size >= start && memcmp(k.mv_data, buf, start) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		MDB_val dk = { state_key(dst, to, (const uint8_t *)k.mv_data + skip, k.mv_size - skip), dst };
		if (dk.mv_size == 0) {
			rc = key_error(to, k.mv_size - skip);
			break;
		}
		if ((rc = es__put(t->db, t->txn, t->db->dbi.projections, &dk, &v, 0)) != 0) {
			rc = es__lmdb(rc, "copying projection state");
			break;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int es__state_read_in(es__state_txn *t, int (*fn)(es_read *rd, void *user_data), void *user_data)
{
	return es__read_over(t->db, t->txn, fn, user_data);
}
