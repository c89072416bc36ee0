/*
 * evstore/subscription.h - subscriptions to the global log: the store's
 * history, then its new events as they are committed, in position order,
 * filtered in the store.
 *
 * Guarantees (tested in tests/subscriptions):
 * - No gaps, no reordering: positions are assigned inside the write
 *   transaction, so a subscriber never sees position p+1 before p, whatever
 *   the number of writer threads and processes. Each matching event is
 *   delivered once per subscription, in position order.
 * - Only durable events: a durable store publishes a commit to readers only
 *   once it is synced, so a subscription never delivers an event a power
 *   cut can take back. (A nosync store promises no durability at all.)
 * - Live wake-up: a durable commit in any thread or process wakes waiting
 *   subscribers at once (a futex on the store's notify file); where that
 *   file cannot be made, waiters look every ES_SUBSCRIPTION_POLL_MS.
 * - Subscribers never block writers and a slow one only falls behind:
 *   events are read in chunks of opts.chunk through short read
 *   transactions, so memory does not grow however far behind it is, and no
 *   old pages stay pinned.
 * - Soft-deleted and tombstoned streams' events stay in the log and are
 *   delivered like any others.
 * - A type filter without upcasting is judged from the stored records
 *   before they are decoded, so a selective one covers the log faster than
 *   a plain es_log_iter scan reads it.
 * - Subscriptions are not counted against any limit; a chunk holds one of
 *   the store's 256 reader slots (shared with es_read_begin) while it is
 *   read, and a subscription that finds none reports ES_EBUSY and can go
 *   on once one is free.
 *
 * Durable progress: save es_subscription_position() in a checkpoint
 * (<evstore/checkpoint.h>) after handling an item, and open with
 * ES_SUBSCRIPTION_FROM_CHECKPOINT to resume after it.
 *
 * Threads: a subscription is used by one thread at a time; several
 * subscriptions on one es_db may run on as many threads.
 */
#ifndef EVSTORE_SUBSCRIPTION_H
#define EVSTORE_SUBSCRIPTION_H

#include <stddef.h>
#include <stdint.h>

#include <evstore/engine.h>
#include <evstore/upcaster.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How often a waiter looks for commits where the notify file is missing. */
#define ES_SUBSCRIPTION_POLL_MS 10

/** Where a subscription starts. */
typedef enum es_subscription_start {
	ES_SUBSCRIPTION_FROM_START = 0,  /**< the first event ever appended */
	ES_SUBSCRIPTION_FROM_END,        /**< only events committed after the open */
	ES_SUBSCRIPTION_AFTER,           /**< after opts.after (exclusive) */
	ES_SUBSCRIPTION_FROM_CHECKPOINT  /**< after the position checkpoint opts.checkpoint holds */
} es_subscription_start;

/** A caller's filter: non-zero to deliver ev. ev is borrowed for the call. */
typedef int (*es_subscription_filter_fn)(const es_event *ev, void *user_data);

#define ES_SUBSCRIPTION_OPTIONS_VERSION 1

/**
 * What to deliver. Initialise with ES_SUBSCRIPTION_OPTIONS_INIT or
 * es_subscription_options_init(). Filters combine with AND; within
 * stream_prefixes and within types, any one matches. Strings are copied by
 * es_subscription_open.
 */
typedef struct es_subscription_options {
	unsigned int version;
	es_subscription_start start;
	uint64_t after;                     /**< ES_SUBSCRIPTION_AFTER: at most the log head */
	const char *checkpoint;             /**< ES_SUBSCRIPTION_FROM_CHECKPOINT: its name */
	const char *const *stream_prefixes; /**< deliver streams starting with one of these */
	size_t n_stream_prefixes;
	const char *const *types;           /**< deliver these event types (after upcasting) */
	size_t n_types;
	es_subscription_filter_fn filter;   /**< NULL: none */
	void *filter_user_data;
	/** Upcast each event to its type's current schema before filtering and
	 * delivery; NULL: as stored. Must be validated and outlive the
	 * subscription. */
	const es_registry *upcast;
	size_t chunk;          /**< events per read transaction; 0: 1024 */
	/** While nothing matches, report progress every this many positions
	 * (ES_SUBSCRIPTION_PROGRESS), so a checkpoint moves on sparse filters;
	 * 0: 4096. */
	size_t progress_every;
	/** A caught-up subscription that finds more than this many events
	 * waiting reports ES_SUBSCRIPTION_FELL_BEHIND; 0: 65536. */
	size_t behind_after;
} es_subscription_options;

#define ES_SUBSCRIPTION_OPTIONS_INIT { .version = ES_SUBSCRIPTION_OPTIONS_VERSION }

/** @return 0, or ES_EINVAL (opts NULL, or a version this library does not know). */
ES_EXTERN int es_subscription_options_init(es_subscription_options *opts, unsigned int version);

/** What es_subscription_next hands out. */
typedef enum es_subscription_item_kind {
	ES_SUBSCRIPTION_EVENT = 0,   /**< item.event is the next matching event */
	ES_SUBSCRIPTION_CAUGHT_UP,   /**< every durable event up to item.position is delivered */
	ES_SUBSCRIPTION_FELL_BEHIND, /**< after a catch-up, more than behind_after events wait */
	ES_SUBSCRIPTION_PROGRESS     /**< nothing matched up to item.position */
} es_subscription_item_kind;

typedef struct es_subscription_item {
	es_subscription_item_kind kind;
	/** The last log position handed out or passed over: what to save in a
	 * checkpoint once this item is handled. */
	uint64_t position;
	/** For ES_SUBSCRIPTION_EVENT: borrowed, valid until the next
	 * es_subscription_next or es_subscription_free on this subscription. */
	es_event event;
} es_subscription_item;

typedef struct es_subscription es_subscription;

/**
 * Open a subscription on db's global log.
 * @param out   receives the subscription, freed with es_subscription_free
 * @param db    the store; read-only is enough. It must outlive the subscription.
 * @param opts  NULL: every event from the start
 * @return 0, or
 *   ES_EINVAL    NULL out or db, unknown options version or start, a
 *                position after the log head, a NULL or empty prefix or
 *                type, a count without its array;
 *   ES_ENOTFOUND no checkpoint of that name (the message names it);
 *   ES_EBUSY (too many readers), ES_ENOMEM, ES_EIO.
 */
ES_EXTERN int es_subscription_open(es_subscription **out, es_db *db,
                                   const es_subscription_options *opts);

/**
 * The next item: a matching event, or a signal. Once every durable event
 * is delivered, waits up to timeout_ms for a commit (0: do not wait, < 0:
 * no limit). A subscription reports ES_SUBSCRIPTION_CAUGHT_UP when it first
 * reaches the durable head and again each time it catches up after
 * ES_SUBSCRIPTION_FELL_BEHIND.
 * @return 0 and *out filled, or
 *   ES_ETIMEDOUT nothing new within timeout_ms (not a failure; call again);
 *   ES_EINVAL    NULL argument, an upcast registry not validated;
 *   ES_ESCHEMA   an event could not be upcast (the message names it; the
 *                subscription stays before it);
 *   ES_ECORRUPT  a damaged record, or a gap in the log's positions;
 *   ES_EBUSY, ES_ENOMEM, ES_EIO.
 */
ES_EXTERN int es_subscription_next(es_subscription_item *out, es_subscription *sub,
                                   int timeout_ms);

/** The last position handed out or passed over (0 before the first): once
 * every item returned so far is handled, the position to checkpoint. */
ES_EXTERN uint64_t es_subscription_position(const es_subscription *sub);

/**
 * End the read the subscription holds between calls, if any: the event
 * last handed out becomes invalid. The next es_subscription_next goes on
 * where it stopped. For a consumer that writes to the store (a write may
 * need to grow the map, which waits for this thread's reads) or works long
 * on an item. NULL is a no-op.
 */
ES_EXTERN void es_subscription_release(es_subscription *sub);

/** Free a subscription. NULL is a no-op. */
ES_EXTERN void es_subscription_free(es_subscription *sub);

#ifdef __cplusplus
}
#endif

#endif
