/*
 * evstore/import.h - the importer: writes a history that already happened
 * (a dump being restored, a store being migrated, a follower copying a
 * leader) into a store, keeping every event's stream, version, global
 * position, id and recorded_at, and the streams' soft deletes and
 * tombstones.
 *
 * One importer checks everything once, as each event is given, so an event
 * that does not continue the history is refused on the call that gives it,
 * with a message naming its stream, version and position, and nothing of it
 * is queued. Accepted events are queued and committed in large import
 * batches (es_batch_import), each one durable transaction (unless the store
 * was opened nosync); es_import_finish commits the rest.
 *
 * The store may be empty or hold a prefix of the history: the first event
 * must then have the store's next position, and each stream continues from
 * its stored head.
 *
 * Threads: an importer belongs to one thread at a time. It starts one
 * thread of its own, which commits a full batch while the next one is
 * checked and built (one batch in flight at most, committed in order); it
 * ends in es_import_finish or es_import_free. Between calls the importer may
 * hold a read of the store (for its lookups): do not write to the same store
 * from the importer's thread meanwhile. Other writers to the store while an
 * import runs make its next commit fail with ES_ECONFLICT (positions would
 * no longer match) and write nothing.
 */
#ifndef EVSTORE_IMPORT_H
#define EVSTORE_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An import in progress. Opaque. */
typedef struct es_importer es_importer;

#define ES_IMPORT_OPTIONS_VERSION 1
/** Events per import transaction by default. */
#define ES_IMPORT_BATCH 16384
/** Bytes of payload and metadata per import transaction by default. */
#define ES_IMPORT_BATCH_BYTES ((size_t)32 << 20)

/** How an import runs. Initialise with ES_IMPORT_OPTIONS_INIT. */
typedef struct es_import_options {
	unsigned int version;   /**< ES_IMPORT_OPTIONS_VERSION */
	size_t batch_events;    /**< events per transaction; 0: ES_IMPORT_BATCH. A batch
	                             may run past it to keep events that share a
	                             recorded_at (one source commit) together, up to
	                             twice as many. */
	size_t batch_bytes;     /**< payload and metadata bytes per transaction;
	                             0: ES_IMPORT_BATCH_BYTES */
} es_import_options;

#define ES_IMPORT_OPTIONS_INIT { .version = ES_IMPORT_OPTIONS_VERSION }

/**
 * Fill *opts with the defaults of ES_IMPORT_OPTIONS_INIT for the given
 * version (pass ES_IMPORT_OPTIONS_VERSION).
 * @return 0, or ES_EINVAL (opts NULL, or a version this library does not know).
 */
ES_EXTERN int es_import_options_init(es_import_options *opts, unsigned int version);

/**
 * An event as it was recorded. Everything is read during es_import_event and
 * copied: the caller may reuse its buffers as soon as the call returns.
 */
typedef struct es_imported_event {
	const char *stream;          /**< stream name, 1..ES_STREAM_NAME_MAX bytes */
	int64_t version;             /**< must be the stream's next version */
	uint64_t position;           /**< must be the store's next global position */
	uint8_t id[16];              /**< the event's id; not all zero */
	int64_t recorded_at;         /**< ns; never before the previous event's nor the
	                                  store's newest */
	int64_t occurred_at;         /**< 0: not given */
	uint8_t correlation_id[16];  /**< all zero: none */
	uint8_t causation_id[16];    /**< all zero: none */
	const char *type;            /**< event type name, 1..ES_TYPE_NAME_MAX bytes */
	uint32_t schema_version;
	const void *payload;
	size_t payload_len;
	const es_metadata *metadata; /**< key/value pairs, or NULL */
	size_t metadata_count;
} es_imported_event;

/** What an import wrote. */
typedef struct es_import_stats {
	uint64_t events;         /**< events committed */
	uint64_t soft_deletes;   /**< soft deletes committed */
	uint64_t tombstones;     /**< tombstones committed */
	uint64_t batches;        /**< transactions committed */
	uint64_t first_position; /**< the position the import started at */
	uint64_t next_position;  /**< the store's next position after it */
} es_import_stats;

/**
 * Start an import into db, which may be empty or hold a prefix of the
 * history being imported.
 *
 * @param out   receives the importer; end it with es_import_finish() (commit)
 *              or es_import_free() (abort)
 * @param db    the store, opened for writing; must outlive the importer
 * @param opts  options, or NULL for the defaults
 * @return 0, or ES_EINVAL (NULL out/db, unknown options version),
 *   ES_EREADONLY, ES_ENOMEM, ES_ECORRUPT, ES_EIO.
 */
ES_EXTERN int es_import_begin(es_importer **out, es_db *db, const es_import_options *opts);

/**
 * Give the next event of the history (in global position order). It is
 * checked against the store and everything given before it, then queued; a
 * full batch is committed first.
 *
 * @return 0, or
 *   ES_EINVAL     NULL arguments, a bad stream or type name, an all-zero id,
 *                 NULL payload or metadata with a length, a recorded_at before
 *                 the previous event's (or the store's newest), or the
 *                 importer failed before;
 *   ES_ECONFLICT  the position is not the store's next one, or the version is
 *                 not the stream's next one, or the stream goes past the head
 *                 (or the recreation point) its es_import_stream_state said;
 *   ES_EDELETED   the stream is tombstoned (in the store or by this import);
 *   ES_EDUPLICATE the id is already stored or given earlier in this import;
 *   ES_ETOOBIG    payload and metadata exceed the store's max_event_size;
 *   ES_ENOMEM;
 *   or any error of es_batch_commit() for the batch committed before (it is
 *   reported by the next call after it failed).
 * Each message names the event's stream, version and position. A refused
 * event leaves the store and the importer as they were: the caller may go
 * on or abort. A failed commit (other than for the event's own checks) wrote
 * nothing of its batch, and the importer can then only be freed.
 */
ES_EXTERN int es_import_event(es_importer *imp, const es_imported_event *ev);

/**
 * Say how a stream ends up at the end of the imported history, for the
 * states events alone do not give: soft-deleted (first_version =
 * head_version + 1), recreated after a soft delete (live, first_version > 0:
 * the delete happens right before event first_version), or tombstoned (with
 * or without those). The importer replays the delete and the tombstone at
 * the point of the history where the stream's head reaches them, in the
 * same transactions as the events, so call it before the stream's events
 * are given (or once they are, for a delete or tombstone after its last
 * event). A stream with no events may be tombstoned (head_version -1).
 *
 * @param stream         stream name (copied)
 * @param state          ES_STREAM_LIVE, ES_STREAM_SOFT_DELETED or ES_STREAM_TOMBSTONED
 * @param head_version   the stream's last version (-1: none)
 * @param first_version  its first visible version
 * @return 0, or
 *   ES_EINVAL    NULL imp, a bad name or state, versions that no stream can
 *                have (first_version < 0 or > head_version + 1, a live
 *                stream with nothing visible, a soft-deleted one with
 *                something visible), the stream was already given a state;
 *   ES_ECONFLICT the stream's head (stored or imported) is already past
 *                head_version, or past first_version - 1 without that delete;
 *   ES_EDELETED  the stream is already tombstoned; ES_ENOMEM;
 *   or, when a batch was committed first, any error of es_batch_commit().
 */
ES_EXTERN int es_import_stream_state(es_importer *imp, const char *stream, es_stream_state state,
                                     int64_t head_version, int64_t first_version);

/**
 * Commit what is queued and end the import. Always consumes the importer.
 *
 * @param out  receives the counts (may be NULL); filled on failure too, with
 *             what was committed
 * @return 0, or
 *   ES_EINVAL     NULL imp, or the importer failed before;
 *   ES_ECONFLICT  a stream did not reach the state es_import_stream_state
 *                 said (the message names it and what it reached); nothing
 *                 more is committed then;
 *   or any error of es_batch_commit().
 */
ES_EXTERN int es_import_finish(es_importer *imp, es_import_stats *out);

/**
 * Abort an import: what is queued is discarded. A batch already handed to
 * the committing thread is waited for, and stays, as do the batches
 * committed before it (whole transactions, each ending at a source commit's
 * boundary when events share recorded_at); before the first batch filled,
 * the store is exactly as it was. NULL is a no-op.
 */
ES_EXTERN void es_import_free(es_importer *imp);

#ifdef __cplusplus
}
#endif
#endif
