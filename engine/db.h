/*
 * db.h - the engine's private definitions, shared by its source files only:
 * struct es_db and the LMDB layout. What sibling modules may call is in
 * internal/es_engine_int.h. Nothing here is installed.
 */
#ifndef ES_ENGINE_DB_H
#define ES_ENGINE_DB_H

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <lmdb.h>

#include "evstore/engine.h"
#include "es_bytes.h"
#include "es_engine_int.h"

/* Sub-databases of the environment; see docs/DESIGN.md "Storage layout". */
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
	MDB_dbi checkpoints;  /* checkpoint name -> position (LE64); see has_checkpoints */
	MDB_dbi projections;  /* projection name NUL key -> value; see has_projections */
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
	void *clock_user_data;
	size_t max_event_size;
	bool read_only;
	bool nosync; /* commits do not wait for the disk */
	bool has_checkpoints; /* false: a store made before them, opened read-only */
	bool has_projections; /* likewise */
	struct es_notify_page *notify; /* commit wake-ups (notify.c); NULL: waiters poll */
	/* Commit hooks (hooks.c): run in every append's transaction. Appends
	 * take the lock shared, es__commit_hook_add/remove exclusive; count
	 * lets an append through a handle without hooks skip the lock. */
	struct {
		pthread_rwlock_t lock;
		struct es__hook *list;
		_Atomic size_t count;
	} hooks;
	char *path;
	/* The commit journal (journal.h); NULL for a read-only handle. */
	struct es_journal *journal;
	/* The changes of the write transaction this handle holds (jops.c),
	 * after ES__JREC_HEAD bytes kept for the record's head. */
	struct {
		uint8_t *buf;
		size_t len, cap;
		size_t reserved; /* where the last put's value goes in buf */
	} jops;
	uint8_t table_of[16]; /* MDB_dbi -> journal table number + 1 (0: none) */
};

/* A state transaction (projstate.c) over a write transaction. */
struct es__state_txn {
	es_db *db;
	MDB_txn *txn;
};

struct es_read {
	es_db *db;
	MDB_txn *txn;
	/* Over a write transaction (es__read_over): what it sees may be rolled
	 * back, so no type name it reads enters the handle's cache. */
	bool uncommitted;
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
/* The sub-databases, "meta" first (db.c). */
#define ES__N_TABLES 9
extern const char *const es__table_names[ES__N_TABLES];
/* The handle of table i of es__table_names. */
MDB_dbi *es__table_dbi(es_db *db, size_t i);
/* Walks every entry of every table of txn in a child process: 0 when the
 * walk got through, 1 when the B-tree is damaged (what and where written to
 * where), or a negative error (treewalk.c). */
int es__tree_walk(es_db *db, MDB_txn *txn, char *where, size_t where_size);

/* Makes the store directory and, unless opening read-only, a new durable
 * data file if there is none (create.c). */
int es__store_prepare(const char *path, const es_open_options *o);

int es__error_lmdb(int rc, const char *what);
int es__error_errno(int err, const char *what);

/* ---- jops.c: every change a write transaction makes goes through these,
 * so the journal holds it. They return LMDB's code, like the calls they
 * wrap (ENOMEM if the change could not be kept). ---- */
int es__put(es_db *db, MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v, unsigned int flags);
int es__cursor_put(es_db *db, MDB_cursor *cur, MDB_val *k, MDB_val *v, unsigned int flags);
int es__del(es_db *db, MDB_txn *txn, MDB_dbi dbi, MDB_val *k);
/* After a put with MDB_RESERVE (value NULL) has been filled in: the
 * journal's copy of the value. */
void es__jops_reserved(es_db *db, const void *value, size_t len);
/* Deletes the cursor's current entry. */
int es__cursor_del(es_db *db, MDB_cursor *cur);
/* A nested transaction's changes: note the mark before it, roll back to
 * it when it aborts. */
size_t es__jops_mark(es_db *db);
void es__jops_rollback(es_db *db, size_t mark);
/* Numbers the tables for the journal (after they are opened). */
void es__jops_tables(es_db *db);

/* ---- journal.c ---- */
/* Before LMDB opens the store: the journal file, and recovery's meta page. */
int es__journal_open(es_db *db, const es_open_options *o);
/* After the tables are open: replay after a power cut, the open's
 * checkpoint, LMDB without its own syncs. */
int es__journal_start(es_db *db);
/* Journals txn's changes (durably unless nosync) and commits it. On
 * failure txn is gone and nothing of it will be replayed; *lmdb_rc is
 * LMDB's code when its commit failed, else 0 (and the error is set). */
int es__journal_commit(es_db *db, MDB_txn *txn, int *lmdb_rc);
/* es_db_sync: a checkpoint. */
int es__journal_sync(es_db *db);
void es__journal_close(es_db *db);

/* ---- keys: stream id BE64 + version BE64 ---- */
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
/* A write transaction through the gate, ended by es__read_txn_end (abort):
 * for checkpoints, which write nothing. */
int es__write_txn_begin(es_db *db, MDB_txn **out);
void es__read_txn_end(es_db *db, MDB_txn *txn);
/* Runs fn in a write transaction, growing the map and retrying on MAP_FULL,
 * and returns once the commit is durable (unless the store is nosync); a
 * durable commit becomes visible to readers only once it is durable. */
typedef int (*es__write_fn)(es_db *db, MDB_txn *txn, void *user_data);
int es__write(es_db *db, es__write_fn fn, void *user_data);
/* ES_EBUSY (message set) if this thread is inside fn of an es__write on db
 * (a projection handler or commit hook calling back into its handle), else
 * 0: every entry that would wait for db's write lock or gate checks first. */
int es__write_reentry_check(const es_db *db);
int64_t es__clock_now(es_db *db);
int es__meta_get_u64(MDB_txn *txn, es_db *db, const char *name, uint64_t *out, uint64_t dflt);
int es__meta_put_u64(MDB_txn *txn, es_db *db, const char *name, uint64_t value);

/* ---- checkpoint.c ---- */
/* Saves a checkpoint in txn: the checks of es_checkpoint_save (and of
 * es_checkpoint_reset when may_go_back). */
int es__checkpoint_put(MDB_txn *txn, es_db *db, const char *name, uint64_t position, int may_go_back);
/* A checkpoint's position as txn sees it: 0, ES_ENOTFOUND, ES_ECORRUPT. */
int es__checkpoint_get_txn(uint64_t *out, MDB_txn *txn, es_db *db, const char *name);

/* ---- notify.c ---- */
/* Maps the store's notify file (made if the open may write); without it
 * db->notify stays NULL and waiters poll. */
void es__notify_open(es_db *db);
void es__notify_close(es_db *db);
/* Called once a commit is durable: wakes every waiter in every process. */
void es__notify_commit(es_db *db);

/* ---- read.c ---- */
/* Calls fn with a read over write transaction txn (its uncommitted writes
 * visible), valid during the call: for code already inside a transaction. */
int es__read_over(es_db *db, MDB_txn *txn, int (*fn)(es_read *rd, void *user_data), void *user_data);

/* ---- hooks.c ---- */
/* Whether the handle has commit hooks, without the lock (a hint: one
 * added meanwhile catches up at its next run). Runs the handle's commit hooks in txn, whose appends took the log
 * to head; events[0..n) are the last n positions' events, or n is 0. */
bool es__commit_hooks_any(es_db *db);
int es__commit_hooks_run(es_db *db, MDB_txn *txn, uint64_t head, const es_event *events, size_t n);
void es__commit_hooks_free(es_db *db);

/* ---- append.c / group.c ---- */
/* Applies a batch's appends and snapshots inside txn. */
int es__batch_apply(es_db *db, MDB_txn *txn, es_batch *batch);
/* Checks one event of an append (names, NULLs, size) before it is queued:
 * 0, ES_EINVAL or ES_ETOOBIG naming the stream and the event's index i. */
int es__event_check(const es_db *db, const char *stream, size_t i, const es_event_data *ev);
/* Import batches (import.c): a soft delete or tombstone of stream at this
 * point of the batch, with expected checked as es_stream_delete does; the
 * name is borrowed until the commit. */
int es__batch_delete(es_batch *batch, const char *stream, int64_t expected, bool tombstone);
/* Makes the batch an import whose first event must get first_position: if
 * the store's next position differs (another writer), the commit fails with
 * ES_ECONFLICT and writes nothing. */
int es__batch_import_at(es_batch *batch, uint64_t first_position);
/* Commits a batch, grouped with concurrent commits into one transaction. */
int es__group_commit(es_db *db, es_batch *batch);
/* For tests. Since es_db_open: group transactions committed, and the
 * requests in them (each request's own outcome aside); and the requests
 * queued now, waiting for a group. */
void es__group_stats(es_db *db, uint64_t *groups, uint64_t *requests, int *waiting);

/* ---- streams.c ---- */
/* 0 and *rec filled, ES_ENOTFOUND, or ES_ECORRUPT */
int es__stream_rec_get(MDB_txn *txn, es_db *db, const char *stream, es_stream_rec *rec);
int es__stream_rec_put(MDB_txn *txn, es_db *db, const char *stream, const es_stream_rec *rec);
/* Allocates an id and names a new stream; *rec is set to an empty record. */
int es__stream_create(MDB_txn *txn, es_db *db, const char *stream, es_stream_rec *rec);
/* Stream name by id, not NUL-terminated; points into the map (valid for txn). */
int es__stream_name(MDB_txn *txn, es_db *db, uint64_t id, const char **name, size_t *len);
/* Written, and neither soft-deleted nor tombstoned. rec may be NULL. */
bool es__stream_visible(const es_stream_rec *rec);
/* es_stream_delete / es_stream_tombstone inside txn. */
int es__stream_delete_txn(MDB_txn *txn, es_db *db, const char *stream, int64_t expected, bool tombstone);
/* Checks expected against a stream record (rec NULL = never written). */
int es__check_expected(const char *stream, const es_stream_rec *rec, int64_t expected);

/* ---- types.c ---- */
int es__type_cache_init(es_type_cache *tc);
void es__type_cache_free(es_type_cache *tc);
/* The id of a stored type name: 0, ES_ENOTFOUND (never stored), ES_ECORRUPT. */
int es__type_lookup(MDB_txn *txn, es_db *db, const char *name, uint32_t *id);
/* Looks up or interns name in a write txn. */
int es__type_intern(MDB_txn *txn, es_db *db, const char *name, uint32_t *id);
/* Name of a type id; the pointer lives until es_db_close. */
int es__type_name(MDB_txn *txn, es_db *db, uint32_t id, const char **name);
/* The stored name of type id as txn sees it (not NUL-terminated): true if
 * it has a valid one; else es__type_name_invalid sets the error. */
bool es__type_name_stored(MDB_txn *txn, es_db *db, uint32_t id, MDB_val *v);
int es__type_name_invalid(uint32_t id);

/* ---- clock.c ---- */
int es__uuidv7(uint8_t id[16], int64_t now_ns);
bool es__id_is_zero(const uint8_t id[16]);

/* ---- read.c ---- */
/* Decodes a stored record into *ev (stream and version given by the caller).
 * ES_ECORRUPT names the stream and version. */
int es__event_fill(es_event *ev, es_read *rd, const MDB_val *rec, const char *stream, int64_t version);

/* ---- snapstore.c (the rest is in es_engine_int.h) ---- */
int es__snapshot_put_txn(MDB_txn *txn, es_db *db, uint64_t stream_id, int64_t version,
                         const void *bytes, size_t len);

#endif
