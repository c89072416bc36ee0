/*
 * types.c - interned event type names. Records store a 4-byte type id; the
 * names live in the types/type_names sub-dbs and, once read, in a per-db
 * cache so reads hand out stable name pointers without a lookup per event.
 */
#include <stdlib.h>
#include <string.h>

#include "es_alloc.h"
#include "db.h"

int es__type_cache_init(es_type_cache *tc)
{
	memset(tc, 0, sizeof *tc);
	return pthread_mutex_init(&tc->lock, NULL) ? ES_ENOMEM : 0;
}

void es__type_cache_free(es_type_cache *tc)
{
	for (uint32_t i = 0; i < tc->cap; i++)
		es_free(tc->names[i]);
	es_free(tc->names);
	pthread_mutex_destroy(&tc->lock);
}

int es__type_lookup(MDB_txn *txn, es_db *db, const char *name, uint32_t *id)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn, db->dbi.types, &k, &v);
	if (rc == MDB_NOTFOUND)
		return ES_ENOTFOUND;
	if (rc)
		return es__lmdb(rc, "looking up an event type");
	if (v.mv_size != 4)
		return es__error_set(ES_ECORRUPT, "type table entry for '%s' is malformed", name);
	*id = es__get_le32(v.mv_data);
	return 0;
}

int es__type_intern(MDB_txn *txn, es_db *db, const char *name, uint32_t *id)
{
	int rc = es__type_lookup(txn, db, name, id);
	if (rc != ES_ENOTFOUND)
		return rc;
	MDB_val k = { strlen(name), (void *)name };
	uint64_t next;
	if ((rc = es__meta_get_u64(txn, db, "next_type_id", &next, 1)))
		return rc;
	if (next > UINT32_MAX)
		return es__error_set(ES_ERANGE, "too many event types");
	uint32_t fresh = (uint32_t)next;
	uint8_t key[4], idle[4];
	es__put_be32(key, fresh);
	es__put_le32(idle, fresh);
	MDB_val idv = { 4, idle }, ik = { 4, key };
	if ((rc = es__put(db, txn, db->dbi.types, &k, &idv, MDB_NOOVERWRITE)) ||
	    (rc = es__put(db, txn, db->dbi.type_names, &ik, &k, MDB_NOOVERWRITE)))
		return es__lmdb(rc, "interning an event type");
	*id = fresh;
	return es__meta_put_u64(txn, db, "next_type_id", next + 1);
}

static int cache_grow(es_type_cache *tc, uint32_t id)
{
	uint32_t cap = tc->cap ? tc->cap : 16;
	while (cap <= id)
		cap *= 2;
	char **names = es_realloc(tc->names, cap * sizeof *names);
	if (!names)
		return ES_ENOMEM;
	memset(names + tc->cap, 0, (cap - tc->cap) * sizeof *names);
	tc->names = names;
	tc->cap = cap;
	return 0;
}

bool es__type_name_stored(MDB_txn *txn, es_db *db, uint32_t id, MDB_val *v)
{
	uint8_t key[4];
	es__put_be32(key, id);
	MDB_val k = { 4, key };
	return mdb_get(txn, db->dbi.type_names, &k, v) == 0 && v->mv_size > 0 &&
	       v->mv_size <= ES_TYPE_NAME_MAX;
}

int es__type_name_invalid(uint32_t id)
{
	return es__error_set(ES_ECORRUPT, "event type id %u has no valid name", id);
}

/* Committed type names never change, so whatever a transaction sees may be
 * cached for the life of the handle. */
int es__type_name(MDB_txn *txn, es_db *db, uint32_t id, const char **name)
{
	es_type_cache *tc = &db->types;
	pthread_mutex_lock(&tc->lock);
	if (id < tc->cap && tc->names[id]) {
		*name = tc->names[id];
		pthread_mutex_unlock(&tc->lock);
		return 0;
	}
	MDB_val v;
	bool valid = es__type_name_stored(txn, db, id, &v);
	char *copy = valid ? es__strndup(v.mv_data, v.mv_size) : NULL;
	if (copy && cache_grow(tc, id) == 0) {
		tc->names[id] = copy;
		*name = copy;
		pthread_mutex_unlock(&tc->lock);
		return 0;
	}
	pthread_mutex_unlock(&tc->lock);
	es_free(copy);
	/* A valid name that could not be cached (copy or cache growth failed)
	 * is out of memory, not corruption. */
	if (valid)
		return es__error_set(ES_ENOMEM, "out of memory caching a type name");
	return es__type_name_invalid(id);
}
