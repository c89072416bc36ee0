/*
 * import_int.h - what the importer's files (import.c, import_index.c,
 * import_commit.c, import_state.c) share: the importer itself, its
 * stream table, its batches (entries, id index, bytes), the filter of ids
 * given, and the committing thread. Private to the engine.
 */
#ifndef ES_IMPORT_INT_H
#define ES_IMPORT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "evstore/engine.h"
#include "evstore/import.h"

/* A stream as the import stands: the store's record, then every event and
 * delete queued after it. */
typedef struct es__import_stream {
	char *name;
	int64_t head;          /* -1: no events */
	int64_t first_visible;
	bool soft_deleted, tombstoned;
	/* A state given by es_import_stream_state, replayed when the head gets there. */
	bool declared;
	es_stream_state want_state;
	int64_t want_head, want_first;
} es__import_stream;

typedef struct es__import_streams {
	es__import_stream **slots;
	size_t n, cap;          /* cap is a power of two */
} es__import_streams;

es__import_stream *es__import_stream_find(es__import_streams *t, const char *name);
/* A new entry for name (not in the table); 0 or ES_ENOMEM. */
int es__import_stream_add(es__import_stream **out, es__import_streams *t, const char *name);
void es__import_streams_free(es__import_streams *t);

/* The ids of the events queued in the batch, indexing its events array. */
typedef struct es__import_ids {
	uint32_t *slots;
	size_t cap;
} es__import_ids;

int es__import_ids_init(es__import_ids *s, size_t max);
const es_event_data *es__import_ids_find(const es__import_ids *s, const es_event_data *events,
                                         const uint8_t id[16]);
void es__import_ids_add(es__import_ids *s, const uint8_t id[16], size_t index);
void es__import_ids_clear(es__import_ids *s);

/* Every id given in this import, as a scalable Bloom filter (layers that
 * double): "certainly not given" lets an import into an empty store skip
 * every lookup for almost every event. 16 bits an id, 4 probes: about 0.2%
 * of ids are looked up for nothing. */
typedef struct es__import_bloom {
	struct { uint64_t *words; size_t bits_log2, n, cap; } layers[40];
	size_t n_layers;
} es__import_bloom;

/* 0, or ES_ENOMEM (the filter then only answers "maybe", which is safe). */
int es__import_bloom_add(es__import_bloom *f, const uint8_t id[16]);
bool es__import_bloom_maybe(const es__import_bloom *f, const uint8_t id[16]);
void es__import_bloom_free(es__import_bloom *f);

typedef struct es__import_block {
	unsigned char *data;
	size_t size, used;
} es__import_block;

/* Copies of the queued events' strings, payloads and metadata; reset per batch. */
typedef struct es__import_bytes {
	es__import_block blocks[64];
	size_t n, cur;
} es__import_bytes;

void *es__import_bytes_alloc(es__import_bytes *b, size_t n);
void es__import_bytes_reset(es__import_bytes *b);
void es__import_bytes_free(es__import_bytes *b);

typedef enum es__import_op_kind { ES__IMPORT_APPEND, ES__IMPORT_SOFT_DELETE, ES__IMPORT_TOMBSTONE } es__import_op_kind;

/* One entry of a batch: a run of one stream's events, or a delete. */
typedef struct es__import_op {
	es__import_op_kind kind;
	es__import_stream *stream;
	int64_t expected;
	size_t start, count;
} es__import_op;

/* A batch being built or committed: events, entries, ids and bytes. */
typedef struct es__import_batch {
	es_event_data *events;  /* room for 2 * max_events */
	size_t n_events, bytes_used;
	es__import_op *ops;
	size_t n_ops, cap_ops;
	es__import_ids ids;
	es__import_bytes bytes;
	uint64_t first_position, end_position; /* [first, end) */
	uint64_t deletes, tombstones;
} es__import_batch;

int es__import_batch_init(es__import_batch *b, size_t max_events);
void es__import_batch_reset(es__import_batch *b, uint64_t first_position);
void es__import_batch_free(es__import_batch *b);

/* The thread that commits one batch while the next is built: commits are
 * mostly waiting for the disk and LMDB's work, the checks mostly lookups. */
typedef struct es__import_committer {
	es_db *db;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	es__import_batch *job;  /* in flight, or NULL */
	bool started, quit, done;
	int rc;
	char msg[512];
} es__import_committer;

int es__import_committer_start(es__import_committer *c, es_db *db);
/* Hands b to the thread; the previous job must have been waited for. */
void es__import_committer_put(es__import_committer *c, es__import_batch *b);
/* Waits for the job in flight (if any): 0, or its error, with its message
 * set on this thread. */
int es__import_committer_wait(es__import_committer *c);
/* Waits, then ends the thread. */
void es__import_committer_stop(es__import_committer *c);

/* ---- the importer (import.c), shared with import_state.c ---- */

struct es_importer {
	es_db *db;
	size_t max_events, max_bytes;
	MDB_txn *rd;              /* the store as last committed, for lookups */
	uint64_t next_position;   /* the next event's */
	int64_t last_at;          /* newest recorded_at: the store's, then the last given */
	bool failed;              /* a commit failed: only es_import_free is left */
	es_import_stats st;
	es__import_streams streams;
	es__import_batch buf[2];
	es__import_batch *b;      /* the batch being built: one of buf */
	es__import_batch *flying; /* the other, while the committer has it */
	es__import_committer committer;
	/* Ids given so far; with a store empty at the start and the filter
	 * whole, "not in it" means new, with no lookup. */
	es__import_bloom given;
	bool empty_at_start, given_whole;
};

/* An entry for the batch being built; 0 or ES_ENOMEM. */
int es__import_add_op(es_importer *imp, es__import_op_kind kind, es__import_stream *s, int64_t expected);
/* The table's entry for a stream, from the store's record the first time. */
int es__import_stream_get(es__import_stream **out, es_importer *imp, const char *name);
/* ES_EINVAL: a commit failed before, only es_import_free is left. */
int es__import_failed_before(void);
/* Queues the declared delete or tombstone the stream's head has reached. */
int es__import_settle(es_importer *imp, es__import_stream *s);
/* ES_ECONFLICT naming a stream that did not reach its declared state. */
int es__import_check_settled(es_importer *imp);

#endif
