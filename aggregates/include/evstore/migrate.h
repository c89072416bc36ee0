/*
 * evstore/migrate.h - copy a store into a new one in which every event is
 * at its current schema version, and check that the copy answers like the
 * original.
 *
 * The copy goes through the engine's importer (<evstore/import.h>): events
 * are read from the source's global log in order and keep their ids,
 * streams, versions, recorded_at and global positions; soft deletes,
 * recreations and tombstones are replayed at their point of the history;
 * snapshots of the aggregate types asked for are rebuilt at the versions
 * the source had them. Each event is upcast through the registry the caller
 * gives (a domain's, e.g. es_bank_registry()); evstore knows no domain.
 *
 * Threads: the calls work on the handles they are given; callbacks run on
 * the calling thread. Nothing may write to the source while it is copied.
 */
#ifndef EVSTORE_MIGRATE_H
#define EVSTORE_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include <evstore/aggregate.h>
#include <evstore/engine.h>
#include <evstore/upcaster.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Where a migration is, for a progress callback. */
typedef struct es_migrate_progress {
	uint64_t events;         /**< events copied so far */
	uint64_t last_position;  /**< the source's log head: the last event to copy */
} es_migrate_progress;

/** Progress callback: called every ES_MIGRATE_PROGRESS_EVERY events and once
 * at the end of the copy. Return non-zero to stop the migration with that value. */
typedef int (*es_migrate_progress_fn)(const es_migrate_progress *progress, void *user_data);

#define ES_MIGRATE_PROGRESS_EVERY 4096

#define ES_MIGRATE_OPTIONS_VERSION 1

/** How a store is migrated. Initialise with ES_MIGRATE_OPTIONS_INIT. */
typedef struct es_migrate_options {
	unsigned int version;                 /**< ES_MIGRATE_OPTIONS_VERSION */
	const es_registry *registry;          /**< upcasts every event it knows to its
	                                           current schema (validated); NULL:
	                                           copy every event as stored */
	const es_aggregate_type *const *snapshot_types; /**< rebuild the snapshots of
	                                           these types' streams, or NULL */
	size_t snapshot_type_count;
	size_t batch_events;                  /**< events per transaction; 0: the
	                                           importer's default */
	es_migrate_progress_fn progress;      /**< NULL: none */
	void *progress_user_data;
} es_migrate_options;

#define ES_MIGRATE_OPTIONS_INIT { .version = ES_MIGRATE_OPTIONS_VERSION }

/**
 * Fill *opts with the defaults of ES_MIGRATE_OPTIONS_INIT for the given
 * version (pass ES_MIGRATE_OPTIONS_VERSION).
 * @return 0, or ES_EINVAL (opts NULL, or a version this library does not know).
 */
ES_EXTERN int es_migrate_options_init(es_migrate_options *opts, unsigned int version);

/** What a migration copied. */
typedef struct es_migrate_stats {
	uint64_t events;        /**< events copied */
	uint64_t upcast;        /**< of them, brought to another type or schema version */
	uint64_t foreign;       /**< of them, of types the registry does not know (copied as they are) */
	uint64_t streams;       /**< streams in the source */
	uint64_t special;       /**< of them, not simply live from version 0 (deleted,
	                             recreated, tombstoned) */
	uint64_t soft_deletes;  /**< soft deletes replayed */
	uint64_t tombstones;    /**< tombstones replayed */
	uint64_t snapshots;     /**< snapshots rebuilt */
} es_migrate_stats;

/**
 * Copy src into dst through opts->registry.
 *
 * @param out   receives the counts (may be NULL); filled on failure too
 * @param src   the source (read-only is enough)
 * @param dst   an empty store, opened for writing (durable unless opened
 *              nosync; a large max_event_size, since upcasting can grow events)
 * @param opts  options, or NULL to copy every event as stored
 * @return 0, or
 *   ES_EINVAL   NULL src/dst, unknown options version, an unvalidated
 *               registry, snapshot types that cannot encode snapshots, dst
 *               not empty;
 *   ES_ESCHEMA  an event could not be upcast (the message gives its position,
 *               stream and version);
 *   any error of es_import_event() or es_import_finish(), naming the event;
 *   a progress callback's non-zero value;
 *   ES_ECORRUPT, ES_EIO, ES_ENOSPC, ES_ENOMEM.
 * On failure dst holds a prefix of the copy (whole transactions): migrate
 * into a fresh store again.
 */
ES_EXTERN int es_migrate(es_migrate_stats *out, es_db *src, es_db *dst, const es_migrate_options *opts);

/** One answer on which a source and its copy disagree. */
typedef struct es_migrate_difference {
	const char *stream;
	int64_t at;                  /**< the time the stream was loaded as of */
	int source_rc, copy_rc;      /**< each load's result: 0, ES_ENOTFOUND, ES_EDELETED, or an error */
	const char *source_message;  /**< the loads' error messages ("" on success) */
	const char *copy_message;
	const void *source_state;    /**< the states, when both loaded (of the type's state_size) */
	const void *copy_state;
} es_migrate_difference;

/** Called for each difference es_migrate_check finds; the pointers live for the call. */
typedef void (*es_migrate_difference_fn)(const es_migrate_difference *difference, void *user_data);

/** What es_migrate_check compared. */
typedef struct es_migrate_check_stats {
	uint64_t streams;      /**< streams of the type */
	uint64_t times;        /**< sample times used */
	uint64_t compared;     /**< loads compared */
	uint64_t differences;  /**< of them, different */
} es_migrate_check_stats;

/**
 * Check a copy against its source: the same log head and the same state of
 * every stream (head, first visible version, times, soft-deleted or
 * tombstoned), then every stream of `type` loaded as of `sample_times`
 * times spread evenly over the source's log and as of its own last event,
 * in both stores: both must fail alike (did not exist, deleted) or give
 * states that encode (snapshot_encode) to the same bytes.
 *
 * @param out           receives the counts (may be NULL)
 * @param difference    called for each load that differs (may be NULL)
 * @return 0 (also when loads differ: see out->differences), or
 *   ES_ECORRUPT the log heads or a stream's state differ (the message names it);
 *   ES_EINVAL   NULL arguments, a type without snapshot_encode;
 *   ES_ENOMEM, ES_EIO, or a read's error.
 */
ES_EXTERN int es_migrate_check(es_migrate_check_stats *out, es_db *src, es_db *dst,
                               const es_aggregate_type *type, size_t sample_times,
                               es_migrate_difference_fn difference, void *user_data);

#ifdef __cplusplus
}
#endif
#endif
