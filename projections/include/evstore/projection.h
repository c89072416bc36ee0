/*
 * evstore/projection.h - projections: read models kept in the store itself,
 * fed from the global log, exactly once.
 *
 * A projection is a name, a filter (as a subscription's), and a handler
 * called with each matching event and a context for the projection's own
 * keyed state (put, get, delete under its name). es_projection_catch_up
 * applies the events after the projection's position in batches; each
 * batch's state writes and the new position commit in one durable
 * transaction, so a crash repeats no event and loses none: the read model
 * is always the fold of exactly the events up to its position.
 *
 * Queries read the state through an es_read, consistent with the events
 * that read sees: es_projection_status_get says how far behind the log the
 * projection is, so a caller never answers from a stale model unknowingly.
 *
 * A handler that fails stops the projection at that event: the events
 * before it are committed, the failure is recorded (status shows it) and
 * returned; the next catch-up retries from that event.
 *
 * The projection's position is the checkpoint "projection:<name>", so
 * es-tail --lag lists it too.
 */
#ifndef EVSTORE_PROJECTION_H
#define EVSTORE_PROJECTION_H

#include <stddef.h>
#include <stdint.h>

#include <evstore/engine.h>
#include <evstore/upcaster.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest projection name, in bytes. */
#define ES_PROJECTION_NAME_MAX 200

/** What a handler writes through: the projection's state, in the batch's
 * transaction. Valid during the handler call only. */
typedef struct es_projection_ctx es_projection_ctx;

/**
 * Called for each matching event, in log order. ev is borrowed for the
 * call. Return 0, or an ES_E* code (with es_error_set's message) to stop
 * the projection at this event. It runs inside the store's write
 * transaction: write through ctx. Calls back into the same handle (a read,
 * an append, es_db_sync, a catch-up, es_projection_inline_add/remove) fail
 * with ES_EBUSY rather than wait for the lock the handler runs under.
 */
typedef int (*es_projection_fn)(es_projection_ctx *ctx, const es_event *ev, void *user_data);

/**
 * A value of the projection's state as the batch sees it (its own earlier
 * writes included); *value points into the store until the handler returns.
 * Keys are 1..300 bytes.
 * @return 0, ES_ENOTFOUND, ES_EINVAL (NULL argument, bad key).
 */
ES_EXTERN int es_projection_get(const void **value, size_t *value_len, es_projection_ctx *ctx,
                                const void *key, size_t key_len);
/** Set a key. @return 0, ES_EINVAL, ES_ENOMEM, ES_EIO. */
ES_EXTERN int es_projection_put(es_projection_ctx *ctx, const void *key, size_t key_len,
                                const void *value, size_t value_len);
/** Remove a key. @return 0, ES_ENOTFOUND, ES_EINVAL, ES_EIO. */
ES_EXTERN int es_projection_delete(es_projection_ctx *ctx, const void *key, size_t key_len);

/** What a catch-up did. */
typedef struct es_projection_stats {
	uint64_t events;    /**< events handed to the handler and committed */
	uint64_t batches;   /**< transactions committed */
	uint64_t position;  /**< the projection's position afterwards */
} es_projection_stats;

#define ES_PROJECTION_OPTIONS_VERSION 1

/** A projection. Initialise with ES_PROJECTION_OPTIONS_INIT. */
typedef struct es_projection_options {
	unsigned int version;
	const char *name;                   /**< 1..ES_PROJECTION_NAME_MAX bytes */
	es_projection_fn handler;
	void *user_data;                    /**< passed to handler */
	const char *const *stream_prefixes; /**< as es_subscription_options */
	size_t n_stream_prefixes;
	const char *const *types;
	size_t n_types;
	const es_registry *upcast;          /**< NULL: events as stored */
	size_t batch;                       /**< events per transaction; 0: 1024 */
	/** NULL, or called at the start of each batch's transaction, before its
	 * first event. A batch may be tried again (after a handler failure, or
	 * when another process moved the projection on): drop whatever an
	 * earlier try kept in memory. Non-zero aborts the batch with that code. */
	int (*batch_begin)(es_projection_ctx *ctx, void *user_data);
	/** NULL, or called after the batch's last event, in its transaction:
	 * the place to write state a handler kept in memory across the batch. */
	int (*batch_end)(es_projection_ctx *ctx, void *user_data);
	/** NULL, or called after each committed batch with the counts so far
	 * and the log head (for a progress display). */
	void (*progress)(const es_projection_stats *st, uint64_t head, void *user_data);
	void *progress_user_data;
	/** NULL, or called with user_data when an inline projection is removed
	 * or its handle closes (es_projection_inline_add); nothing else calls it. */
	void (*user_data_free)(void *user_data);
} es_projection_options;

#define ES_PROJECTION_OPTIONS_INIT { .version = ES_PROJECTION_OPTIONS_VERSION }

/** @return 0, or ES_EINVAL (opts NULL, or a version this library does not know). */
ES_EXTERN int es_projection_options_init(es_projection_options *opts, unsigned int version);


/**
 * Apply every matching event after the projection's position (from the
 * start for a new one) up to the log head as it is when the call reaches
 * it, then return. Events committed meanwhile are left to the next call.
 *
 * @param out   receives counts (may be NULL); filled on failure too
 * @param db    the store, open for writing
 * @return 0, or
 *   ES_EINVAL  NULL db or opts, unknown options version, a bad name, no
 *              handler, a bad filter (as es_subscription_open);
 *   the handler's code, its message prefixed with the projection's name and
 *              the event's position (everything before it is committed);
 *   ES_EREADONLY, ES_ESCHEMA (upcasting), ES_ECORRUPT, ES_EIO, ES_ENOSPC,
 *   ES_ENOMEM.
 */
ES_EXTERN int es_projection_catch_up(es_projection_stats *out, es_db *db,
                                     const es_projection_options *opts);

/**
 * Run a projection inline on this handle: its handler runs inside the
 * transaction of every append made through db (es_stream_append,
 * es_batch_commit, group commits, imports), after the append's events are
 * written, and its state and position commit with them. A read never sees
 * events the model does not include yet, as far as the appends come through
 * handles that run it. The handler's error fails that append with the
 * handler's code and a message naming the projection and the event, and
 * nothing of the append is written (in a group commit, the other requests
 * commit). Events that came through a handle or process without the
 * projection are applied by the next append that has it (in its
 * transaction), or by es_projection_catch_up.
 *
 * First catches the projection up in batches, as es_projection_catch_up.
 * opts and its strings are copied; user_data, upcast and what the handler
 * uses must stay valid until es_projection_inline_remove or es_db_close,
 * which call opts->user_data_free (if set; not when this fails).
 * batch_begin and batch_end are called around each append's events;
 * progress is not used. The handler may be called again for the same
 * events when their transaction is redone (one request of a group failed):
 * keep only what it writes through ctx. It runs holding the write lock:
 * calls back into db fail with ES_EBUSY (es_projection_fn), and it must not
 * append through another handle of the store or wait for another thread's
 * append either.
 * @return 0; ES_EINVAL (bad options, or the name is already inline on
 *   db); ES_EREADONLY; ES_EBUSY (called from a handler on db); or the
 *   catch-up's errors (nothing is added then).
 */
ES_EXTERN int es_projection_inline_add(es_db *db, const es_projection_options *opts);

/**
 * Stop running projection name inline on db: appends already running it
 * finish first. Its model stays where it is (es_projection_catch_up goes on
 * from there).
 * @return 0, ES_ENOTFOUND (not inline on db), ES_EINVAL, ES_EBUSY (called
 *   from an inline handler on db, whose append it would wait for).
 */
ES_EXTERN int es_projection_inline_remove(es_db *db, const char *name);

/**
 * Rebuild a projection from the start beside the one in use (blue/green):
 * under a temporary name (the projection's name + "\x1f" + "rebuild"; names
 * with a \x1f byte are reserved), caught up to the log head, then put in
 * place with its position in one transaction, once no event was appended
 * since its last batch (it catches up again until then). Queries see the
 * old model until that transaction and the new one after it: nothing lost
 * or applied twice across the swap. For a handler whose logic changed, or
 * a damaged model. opts->progress reports each batch of the rebuild, with
 * the counts of the whole rebuild so far.
 * @return as es_projection_catch_up(); a failed rebuild leaves the
 *   projection in use as it was.
 */
ES_EXTERN int es_projection_rebuild(es_projection_stats *out, es_db *db, const es_projection_options *opts);

/**
 * A value of projection name's state as of the read; *value points into the
 * map until the read ends or renews.
 * @return 0, ES_ENOTFOUND, ES_EINVAL.
 */
ES_EXTERN int es_projection_query(const void **value, size_t *value_len, es_read *rd,
                                  const char *name, const void *key, size_t key_len);

/** Called for each key, in byte order; pointers valid during the call. A
 * non-zero return stops the scan with that value. */
typedef int (*es_projection_each_fn)(const void *key, size_t key_len, const void *value,
                                     size_t value_len, void *user_data);

/**
 * Visit projection name's keys that start with prefix (prefix_len 0: all).
 * @return 0, a callback's value, ES_EINVAL, ES_ECORRUPT.
 */
ES_EXTERN int es_projection_scan(es_read *rd, const char *name, const void *prefix,
                                 size_t prefix_len, es_projection_each_fn fn, void *user_data);

/** Where a projection stands, as of a read. */
typedef struct es_projection_status {
	uint64_t position;   /**< the last log position applied (0: none) */
	uint64_t head;       /**< the log head */
	uint64_t behind;     /**< head - position */
	int error;           /**< 0, or the code that stopped it */
	uint64_t error_position; /**< the event that failed */
	char message[256];   /**< the failure's message */
} es_projection_status;

/**
 * @return 0, ES_ENOTFOUND (the projection never ran), ES_EINVAL.
 */
ES_EXTERN int es_projection_status_get(es_projection_status *out, es_read *rd, const char *name);

#ifdef __cplusplus
}
#endif

#endif
