/*
 * es_engine_int.h - the engine's internal interface for sibling modules
 * (snapshots): raw snapshot storage, the snapshot envelope, and the engine's
 * stream-name rule. Not installed, and not exported from the shared library:
 * the modules that call it are linked into the same library as the engine.
 * Unlike db.h, nothing here exposes LMDB or struct es_db.
 */
#ifndef ES_ENGINE_INT_H
#define ES_ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "evstore/engine.h"

/* 0, or ES_EINVAL naming the problem (NULL, empty, too long). */
int es__check_stream_name(const char *stream);

/* ---- raw snapshot storage (snapstore.c): bytes keyed by (stream, version) ---- */

/* Queue a snapshot write into a batch; it lands in the batch's transaction.
 * bytes are copied. The stream must be one the batch appends to. */
int es__batch_put_snapshot(es_batch *batch, const char *stream, int64_t version,
                           const void *bytes, size_t len);
/* Newest snapshot of stream at or below max_version; borrowed bytes (valid
 * for the read). ES_ENOTFOUND if none. */
int es__snapshot_get_le(int64_t *version, const void **bytes, size_t *len,
                        es_read *rd, const char *stream, int64_t max_version);
int es__snapshot_put(es_db *db, const char *stream, int64_t version,
                     const void *bytes, size_t len);
int es__snapshot_delete(es_db *db, const char *stream, int64_t version);
/* Visit every snapshot of a stream, oldest first. */
typedef int (*es__snapshot_fn)(int64_t version, const void *bytes, size_t len, void *user_data);
int es__snapshot_each(es_read *rd, const char *stream, es__snapshot_fn fn, void *user_data);

/* ---- the snapshot envelope (envelope.c) ----
 * What the engine stores for a snapshot, integers little-endian:
 *   0 u8 format (1), 1 u8[3] zero, 4 u32 state schema version,
 *   8 u64 upcaster fingerprint, 16 u64 XXH3-64 of the state, 24 the state.
 * The snapshots module writes and selects envelopes; es_check verifies them. */
#define ES__ENVELOPE_HEADER 24

typedef struct es__envelope {
	uint32_t state_schema;
	uint64_t fingerprint;
	const uint8_t *state; /* points into the bytes given to es__envelope_open */
	size_t state_len;
} es__envelope;

typedef enum es__envelope_fault {
	ES__ENVELOPE_INTACT = 0,
	ES__ENVELOPE_MALFORMED, /* too short, another format, reserved bytes set */
	ES__ENVELOPE_CHECKSUM   /* the state does not match its checksum */
} es__envelope_fault;

/* Writes the header for state into buf[0..ES__ENVELOPE_HEADER); the caller
 * puts the state right after it. */
void es__envelope_seal(uint8_t *buf, uint32_t state_schema, uint64_t fingerprint,
                       const void *state, size_t state_len);
/* Checks an envelope and, when intact, fills *out. */
es__envelope_fault es__envelope_open(es__envelope *out, const void *bytes, size_t len);

/* ---- log iterators that skip by type (read.c), for subscriptions ---- */
#define ES__ITER_SKIPPED (-1002) /* max_skip positions passed over, none of the types */
/* The ids of type names as of the read; 0 for a name never stored (no
 * event has it yet; look again in a later read). 0 or ES_ECORRUPT. */
int es__type_ids(uint32_t *ids, es_read *rd, const char *const *names, size_t n);
/* Makes a forward log iterator return only events whose type id is one of
 * ids[0..n) (borrowed until the iterator is freed), judged from the stored
 * record before it is decoded, so skipping costs a fraction of reading.
 * After max_skip positions in a row without one, es_iter_next returns
 * ES__ITER_SKIPPED (and goes on at the next call). Such an iterator also
 * checks that positions follow one another (ES_ECORRUPT on a gap). */
void es__log_iter_types(es_iter *it, const uint32_t *ids, size_t n, uint64_t max_skip);
/* The position a log iterator looks at next. */
uint64_t es__log_iter_position(const es_iter *it);

/* ---- projection state (projstate.c), for projections ----
 * Bytes under (namespace, key) in the projections sub-db, written in state
 * transactions together with checkpoints. A namespace is a NUL-free name;
 * the empty one is the projections module's own. Keys with the namespace
 * are at most 511 bytes (ES_EINVAL beyond). */
typedef struct es__state_txn es__state_txn;
typedef int (*es__state_fn)(es__state_txn *t, void *user_data);
/* Runs fn in one durable write transaction: fn's state writes and
 * checkpoints commit together, or (fn non-zero) not at all. */
int es__state_write(es_db *db, es__state_fn fn, void *user_data);
/* The value, pointing into the map until the transaction or read ends.
 * 0, ES_ENOTFOUND, ES_EINVAL. */
int es__state_get(const void **val, size_t *len, es__state_txn *t, const char *ns, const void *key,
                  size_t klen);
int es__state_put(es__state_txn *t, const char *ns, const void *key, size_t klen, const void *val,
                  size_t vlen);
/* 0 or ES_ENOTFOUND. */
int es__state_del(es__state_txn *t, const char *ns, const void *key, size_t klen);
/* A checkpoint as the transaction sees it: 0, ES_ENOTFOUND, ES_ECORRUPT. */
int es__state_checkpoint_get(uint64_t *out, es__state_txn *t, const char *name);
/* As es_checkpoint_save, inside the transaction. */
int es__state_checkpoint(es__state_txn *t, const char *name, uint64_t position);
/* For rebuilds: every key of ns deleted; every key of from copied under
 * to; the log head as the transaction sees it; a checkpoint set whatever
 * it held, or deleted (absent is fine). */
int es__state_ns_clear(es__state_txn *t, const char *ns);
int es__state_ns_copy(es__state_txn *t, const char *from, const char *to);
int es__state_log_head(uint64_t *out, es__state_txn *t);
/* Calls fn with a read of what t sees (its own writes included), valid
 * during the call; fn's result. */
int es__state_read_in(es__state_txn *t, int (*fn)(es_read *rd, void *user_data), void *user_data);
int es__state_checkpoint_set(es__state_txn *t, const char *name, uint64_t position);
int es__state_checkpoint_del(es__state_txn *t, const char *name);
int es__state_read(const void **val, size_t *len, es_read *rd, const char *ns, const void *key,
                   size_t klen);
/* Every key of ns starting with prefix, in byte order (key without ns). */
typedef int (*es__state_each_fn)(const void *key, size_t klen, const void *val, size_t vlen,
                                 void *user_data);
int es__state_scan(es_read *rd, const char *ns, const void *prefix, size_t plen,
                   es__state_each_fn fn, void *user_data);

/* ---- commit hooks (hooks.c), for inline projections ----
 * A hook runs inside every transaction of this handle that appends events
 * (group commits included), after they are written: rd reads that
 * transaction, its own writes included, and t writes state and checkpoints
 * in it; v->head is the log head after the append, and v->events[0..n)
 * the append's events at positions (head - n, head] when the engine has
 * them at hand (n 0: read them through rd; events borrowed for the call).
 * A non-zero return fails the append (in a group, that request alone) with
 * the hook's code and message, and its writes roll back with it. A hook
 * may run more than once for the same events (a group is redone when one
 * of its requests fails). It must not append, commit or wait for another
 * transaction. */
typedef struct es__commit_view {
	uint64_t head;
	const es_event *events;
	size_t n;
} es__commit_view;
typedef int (*es__commit_hook_fn)(es__state_txn *t, es_read *rd, const es__commit_view *v, void *user_data);
/* Adds a hook under name (copied), run after those added before it;
 * release(user_data), if given, runs when it is removed or the handle
 * closes, and not if this fails. 0, ES_EINVAL (the name is taken on this
 * handle), ES_EREADONLY, ES_ENOMEM, ES_EBUSY (called inside a write on db). */
int es__commit_hook_add(es_db *db, const char *name, es__commit_hook_fn fn, void (*release)(void *),
                        void *user_data);
/* Waits for appends running the hook to finish. 0, ES_ENOTFOUND or ES_EBUSY
 * (called inside a write on db, such as a hook's own append). */
int es__commit_hook_remove(es_db *db, const char *name);

/* ---- commit wake-ups (notify.c), for subscriptions ---- */
#define ES__NOTIFY_POLL_MS 10 /* how often waiters look without a notify file */
/* The commit counter: read it before looking at the log, then wait on it. */
uint32_t es__notify_seen(es_db *db);
/* Sleeps until a commit after `seen` (or ES__NOTIFY_POLL_MS without a notify
 * file), or timeout_ms (< 0: none). 0 or ES_ETIMEDOUT; may return early. */
int es__notify_wait(es_db *db, uint32_t seen, int timeout_ms);

#endif
