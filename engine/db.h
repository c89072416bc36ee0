/*
 * db.h - private definitions shared by the engine's source files, and the
 * engine's internal interface for sibling modules (snapshots, tools' checkers).
 * Nothing here is installed.
 */
#ifndef ES_ENGINE_DB_H
#define ES_ENGINE_DB_H

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <lmdb.h>

#include "evstore/engine.h"

/* Sub-databases of the environment; see DESIGN.md "Storage layout". */
typedef struct es_dbis {
	MDB_dbi meta;         /* name -> value */
	MDB_dbi streams;      /* stream name -> stream record */
	MDB_dbi stream_names; /* stream id BE64 -> name */
	MDB_dbi events;       /* stream id BE64 + version BE64 -> event record */
	MDB_dbi log;          /* position BE64 -> stream id BE64 + version BE64 */
	MDB_dbi event_ids;    /* 16-byte id -> stream id BE64 + version BE64 */
	MDB_dbi snapshots;    /* stream id BE64 + version BE64 -> snapshot bytes */
	MDB_dbi types;        /* type name -> type id (LE32) */
	MDB_dbi type_names;   /* type id BE32 -> type name */
} es_dbis;

/* In-memory cache of interned type names; names live until es_db_close. */
typedef struct es_type_cache {
	pthread_mutex_t lock;
	char **names;   /* indexed by type id; NULL where not cached */
	uint32_t cap;
} es_type_cache;

struct es_db {
	MDB_env *env;
	es_dbis dbi;
	es_type_cache types;
	/* Every transaction passes this gate; map growth closes it and waits for
	 * the open ones to drain (LMDB resizes only with none open). */
	struct {
		pthread_mutex_t lock;
		pthread_cond_t cond;
		int active;
		int resizing;
	} gate;
	/* Batch commits waiting for a group transaction (group.c). */
	struct {
		pthread_mutex_t lock;
		struct gc_request *head, *tail;
		int leader; /* a thread is committing a group */
		/* For the tests to see that requests really share transactions:
		 * group transactions committed, the requests they held, and the
		 * requests queued for a group now. */
		uint64_t groups, requests;
		int waiting;
	} group;
	es_clock_fn clock;
	void *clock_payload;
	size_t max_event_size;
	bool read_only;
	bool nosync; /* commits do not wait for the disk */
	char *path;
};

struct es_read {
	es_db *db;
	MDB_txn *txn;
	uint64_t generation; /* bumped by es_read_renew; iterators re-seek on change */
	/* Recently seen type names, direct-mapped by id: spares the fold path the
	 * type cache's mutex. Names live until es_db_close, so renews keep them. */
	struct { uint32_t id; const char *name; } types[8];
};

/* Stream record, the value in the streams sub-db (little-endian fields). */
typedef struct es_stream_rec {
	uint64_t id;
	int64_t head;            /* -1: nothing written */
	int64_t first_visible;   /* versions below it are hidden by a soft delete */
	int64_t first_recorded_at;
	int64_t last_recorded_at;
	uint32_t flags;          /* ES_SF_* */
} es_stream_rec;

#define ES_SF_SOFT_DELETED 1u
#define ES_SF_TOMBSTONED 2u
#define ES_STREAM_REC_SIZE 44

/* ---- error.c ---- */
/* The engine sets errors through the public setter. */
#define es__error_set es_error_set
int es__error_lmdb(int rc, const char *what);
int es__error_errno(int err, const char *what);

/* ---- keys (inline big-endian helpers) ---- */
static inline void es__put_be64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}
static inline uint64_t es__get_be64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}
static inline void es__event_key(uint8_t key[16], uint64_t stream_id, int64_t version)
{
	es__put_be64(key, stream_id);
	es__put_be64(key + 8, (uint64_t)version);
}

/* ---- db.c ---- */
/* Translates an LMDB code for the write path: MDB_MAP_FULL becomes an
 * internal code on which es__write grows the map and retries. */
int es__lmdb(int rc, const char *what);
#define ES__EMAPFULL (-1000)
int es__read_txn_begin(es_db *db, MDB_txn **out);
void es__read_txn_end(es_db *db, MDB_txn *txn);
/* Runs fn in a write transaction, growing the map and retrying on MAP_FULL,
 * and returns once the commit is durable (unless the store is nosync). */
typedef int (*es__write_fn)(es_db *db, MDB_txn *txn, void *payload);
int es__write(es_db *db, es__write_fn fn, void *payload);
/* es__write in two steps: commit (visible, on disk but for the meta page),
 * then es__commit_sync, which may run after another transaction has begun. */
int es__write_unsynced(es_db *db, es__write_fn fn, void *payload);
int es__commit_sync(es_db *db);
int64_t es__clock_now(es_db *db);
int es__meta_get_u64(MDB_txn *txn, es_db *db, const char *name, uint64_t *out, uint64_t dflt);
int es__meta_put_u64(MDB_txn *txn, es_db *db, const char *name, uint64_t value);

/* ---- append.c / group.c ---- */
/* Applies a batch's appends and snapshots inside txn. */
int es__batch_apply(es_db *db, MDB_txn *txn, es_batch *batch);
/* Commits a batch, grouped with concurrent commits into one transaction. */
int es__group_commit(es_db *db, es_batch *batch);
/* For tests. Since es_db_open: group transactions committed, and the
 * requests in them (each request's own outcome aside); and the requests
 * queued now, waiting for a group. */
void es__group_stats(es_db *db, uint64_t *groups, uint64_t *requests, int *waiting);

/* ---- streams.c ---- */
int es__check_stream_name(const char *stream);
/* 0 and *rec filled, ES_ENOTFOUND, or ES_ECORRUPT */
int es__stream_rec_get(MDB_txn *txn, es_db *db, const char *stream, es_stream_rec *rec);
int es__stream_rec_put(MDB_txn *txn, es_db *db, const char *stream, const es_stream_rec *rec);
/* Allocates an id and names a new stream; *rec is set to an empty record. */
int es__stream_create(MDB_txn *txn, es_db *db, const char *stream, es_stream_rec *rec);
/* Stream name by id, not NUL-terminated; points into the map (valid for txn). */
int es__stream_name(MDB_txn *txn, es_db *db, uint64_t id, const char **name, size_t *len);
/* Written, and neither soft-deleted nor tombstoned. rec may be NULL. */
bool es__stream_visible(const es_stream_rec *rec);
/* Checks expected against a stream record (rec NULL = never written). */
int es__check_expected(const char *stream, const es_stream_rec *rec, int64_t expected);

/* ---- types.c ---- */
int es__type_cache_init(es_type_cache *tc);
void es__type_cache_free(es_type_cache *tc);
/* Looks up or interns name in a write txn. *fresh is set when newly interned. */
int es__type_intern(MDB_txn *txn, es_db *db, const char *name, uint32_t *id);
/* Name of a type id; the pointer lives until es_db_close. */
int es__type_name(MDB_txn *txn, es_db *db, uint32_t id, const char **name);

/* ---- clock.c ---- */
int es__uuidv7(uint8_t id[16], int64_t now_ns);
bool es__id_is_zero(const uint8_t id[16]);

/* ---- read.c ---- */
/* Decodes a stored record into *ev (stream and version given by the caller).
 * ES_ECORRUPT names the stream and version. */
int es__event_fill(es_event *ev, es_read *rd, const MDB_val *rec, const char *stream, int64_t version);

/* ---- snapstore.c: raw snapshot storage for the snapshots module ---- */
/* Queue a snapshot write into a batch; it lands in the batch's transaction.
 * bytes are copied. The stream must be one the batch appends to. */
int es__batch_put_snapshot(es_batch *batch, const char *stream, int64_t version,
                           const void *bytes, size_t len);
/* Newest snapshot of stream at or below max_version; borrowed bytes (valid
 * for the read). ES_ENOTFOUND if none. */
int es__snapshot_get_le(int64_t *version, const void **bytes, size_t *len,
                        es_read *rd, const char *stream, int64_t max_version);
int es__snapshot_put_txn(MDB_txn *txn, es_db *db, uint64_t stream_id, int64_t version,
                         const void *bytes, size_t len);
int es__snapshot_put(es_db *db, const char *stream, int64_t version,
                     const void *bytes, size_t len);
int es__snapshot_delete(es_db *db, const char *stream, int64_t version);
/* Visit every snapshot of a stream, oldest first. */
typedef int (*es__snapshot_cb)(int64_t version, const void *bytes, size_t len, void *payload);
int es__snapshot_each(es_read *rd, const char *stream, es__snapshot_cb cb, void *payload);

#endif
