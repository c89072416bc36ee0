/*
 * checkpoint.c - durable named checkpoints in the checkpoints sub-db:
 * name -> position (LE64). A store made before checkpoints existed gets the
 * sub-db at its first write open; opened read-only, it simply has none.
 */
#include <string.h>

#include "db.h"
#include "evstore/checkpoint.h"

#define CHECKPOINT_VALUE 8

static int check_name(const char *name)
{
	if (!name || !*name)
		return es__error_set(ES_EINVAL, "a checkpoint name is required");
	if (strlen(name) > ES_CHECKPOINT_NAME_MAX)
		return es__error_set(ES_EINVAL, "checkpoint name '%.40s...' is longer than %d bytes", name,
		                     ES_CHECKPOINT_NAME_MAX);
	return 0;
}

static int decode(uint64_t *out, const MDB_val *v, const char *name)
{
	if (v->mv_size != CHECKPOINT_VALUE)
		return es__error_set(ES_ECORRUPT, "checkpoint '%.*s' has a damaged record (%zu bytes)",
		                     ES_CHECKPOINT_NAME_MAX, name, v->mv_size);
	*out = es__get_le64(v->mv_data);
	return 0;
}

/* 0 and *out, ES_ENOTFOUND (also for a store with no checkpoints sub-db). */
static int lookup(uint64_t *out, MDB_txn *txn, es_db *db, const char *name)
{
	if (!db->has_checkpoints)
		return ES_ENOTFOUND;
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn, db->dbi.checkpoints, &k, &v);
	if (rc == MDB_NOTFOUND)
		return ES_ENOTFOUND;
	return rc ? es__error_lmdb(rc, "reading a checkpoint") : decode(out, &v, name);
}

int es__checkpoint_get_txn(uint64_t *out, MDB_txn *txn, es_db *db, const char *name)
{
	return lookup(out, txn, db, name);
}

typedef struct save_req {
	const char *name;
	uint64_t position;
	int may_go_back;
} save_req;

static int save(es_db *db, MDB_txn *txn, void *user_data)
{
	save_req *req = user_data;
	return es__checkpoint_put(txn, db, req->name, req->position, req->may_go_back);
}

int es__checkpoint_put(MDB_txn *txn, es_db *db, const char *name, uint64_t position, int may_go_back)
{
	save_req r = { name, position, may_go_back }, *req = &r;
	uint64_t next, saved = 0;
	int rc = es__meta_get_u64(txn, db, "next_position", &next, 1);
	if (rc)
		return rc;
	if (req->position >= next)
		return es__error_set(ES_EINVAL, "checkpoint '%s': position %llu is past the log head (%llu)",
		                     req->name, (unsigned long long)req->position,
		                     (unsigned long long)(next - 1));
	rc = lookup(&saved, txn, db, req->name);
	if (rc == 0 && saved > req->position && !req->may_go_back)
		return es__error_set(ES_ECONFLICT, "checkpoint '%s' is at %llu, later than %llu: a "
		                     "checkpoint moves back only by es_checkpoint_reset", req->name,
		                     (unsigned long long)saved, (unsigned long long)req->position);
	if (rc && rc != ES_ENOTFOUND)
		return rc;
	uint8_t value[CHECKPOINT_VALUE];
	es__put_le64(value, req->position);
	MDB_val k = { strlen(req->name), (void *)req->name }, v = { sizeof value, value };
	rc = es__put(db, txn, db->dbi.checkpoints, &k, &v, 0);
	return rc ? es__lmdb(rc, "writing a checkpoint") : 0;
}

static int write_checks(es_db *db, const char *name, const char *fn)
{
	if (!db)
		return es__error_set(ES_EINVAL, "%s: db is NULL", fn);
	if (db->read_only)
		return es__error_set(ES_EREADONLY, "store '%s' is open read-only", db->path);
	return check_name(name);
}

static int save_checkpoint(es_db *db, const char *name, uint64_t position, int may_go_back,
                           const char *fn)
{
	int rc = write_checks(db, name, fn);
	save_req req = { name, position, may_go_back };
	return rc ? rc : es__write(db, save, &req);
}

int es_checkpoint_save(es_db *db, const char *name, uint64_t position)
{
	return save_checkpoint(db, name, position, 0, "es_checkpoint_save");
}

int es_checkpoint_reset(es_db *db, const char *name, uint64_t position)
{
	return save_checkpoint(db, name, position, 1, "es_checkpoint_reset");
}

static int delete(es_db *db, MDB_txn *txn, void *user_data)
{
	const char *name = user_data;
	MDB_val k = { strlen(name), (void *)name };
	int rc = es__del(db, txn, db->dbi.checkpoints, &k);
	if (rc == MDB_NOTFOUND)
		return es__error_set(ES_ENOTFOUND, "no checkpoint '%s'", name);
	return rc ? es__lmdb(rc, "deleting a checkpoint") : 0;
}

int es_checkpoint_delete(es_db *db, const char *name)
{
	int rc = write_checks(db, name, "es_checkpoint_delete");
	return rc ? rc : es__write(db, delete, (void *)name);
}

int es_checkpoint_get(uint64_t *out, es_read *rd, const char *name)
{
	if (!out || !rd)
		return es__error_set(ES_EINVAL, "es_checkpoint_get: out and rd are required");
	int rc = check_name(name);
	if (rc == 0 && (rc = lookup(out, rd->txn, rd->db, name)) == ES_ENOTFOUND)
		es__error_set(rc, "no checkpoint '%s'", name);
	return rc;
}

int es_checkpoint_list(es_read *rd, es_checkpoint_fn fn, void *user_data)
{
	if (!rd || !fn)
		return es__error_set(ES_EINVAL, "es_checkpoint_list: rd and fn are required");
	if (!rd->db->has_checkpoints)
		return 0;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(rd->txn, rd->db->dbi.checkpoints, &cur);
	if (rc)
		return es__error_lmdb(rc, "listing checkpoints");
	MDB_val k, v;
	char name[ES_CHECKPOINT_NAME_MAX + 1];
	int result = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && result == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t position = 0;
		size_t len = k.mv_size < sizeof name ? k.mv_size : sizeof name - 1;
		memcpy(name, k.mv_data, len);
		name[len] = '\0';
		if ((result = decode(&position, &v, name)) == 0)
			result = fn(name, position, user_data);
	}
	mdb_cursor_close(cur);
	if (result == 0 && rc != MDB_NOTFOUND)
		result = es__error_lmdb(rc, "listing checkpoints");
	return result;
}
