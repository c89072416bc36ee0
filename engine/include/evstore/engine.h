/*
 * evstore/engine.h - the storage engine: stores, appends, reads.
 *
 * A store is a directory holding one LMDB environment. It keeps named event
 * streams; each stream is a sequence of events numbered from version 0. Every
 * event also has a global position (from 1) in the store-wide log, and a
 * recorded_at timestamp (ns since the Unix epoch): its batch's commit
 * time. Every event of one batch shares it, and each batch's is later than
 * every earlier batch's, so time order and log order agree and a batch is
 * atomic in time: "as of T" sees all of it or none of it.
 *
 * Threads and processes: an es_db handle may be shared by any number of
 * threads. Several processes may open the same store. Writers are serialised
 * by LMDB and every version check runs inside the write transaction, so the
 * checks hold across threads and processes alike. An es_read handle and the
 * iterators made from it belong to one thread at a time.
 *
 * Borrowed data: events handed out by reads point into the memory map. They
 * are valid until the read handle they came from is ended or renewed.
 */
#ifndef EVSTORE_ENGINE_H
#define EVSTORE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open store. Opaque. */
typedef struct es_db es_db;
/** A read snapshot of a store (an LMDB read transaction). Opaque. */
typedef struct es_read es_read;
/** An iterator over a stream or the global log. Opaque. */
typedef struct es_iter es_iter;
/** A set of appends to several streams, committed atomically. Opaque. */
typedef struct es_batch es_batch;

/** Longest stream name, in bytes (names are non-empty, NUL-terminated). */
#define ES_STREAM_NAME_MAX 255
/** Longest event type name, in bytes. */
#define ES_TYPE_NAME_MAX 255
/** Default largest event (payload + metadata), in bytes. */
#define ES_DEFAULT_MAX_EVENT_SIZE (1u << 20)
/** Default initial size of the memory map; it grows by itself. */
#define ES_DEFAULT_MAP_SIZE ((size_t)64 << 20)

/* ---- Expected versions ------------------------------------------------ */

/** Append whatever the stream's state (but never to a tombstoned stream). */
#define ES_ANY ((int64_t)-1)
/** The stream must not exist (never written, or soft-deleted). */
#define ES_NO_STREAM ((int64_t)-2)
/** The stream must exist and be visible (written and not soft-deleted). */
#define ES_STREAM_EXISTS ((int64_t)-3)
/* Any value >= 0 is an exact version: the stream's head must equal it. */

/* ---- Opening a store -------------------------------------------------- */

/** Clock callback: current time in ns since the Unix epoch. */
typedef int64_t (*es_clock_fn)(void *user_data);

#define ES_OPEN_OPTIONS_VERSION 1

/** How a store is opened. Initialise with ES_OPEN_OPTIONS_INIT. */
typedef struct es_open_options {
	unsigned int version;   /**< ES_OPEN_OPTIONS_VERSION */
	size_t map_size;        /**< initial map size in bytes; 0 = ES_DEFAULT_MAP_SIZE.
	                             The map grows by itself when full. */
	int nosync;             /**< 0 (default): every acknowledged commit survives
	                             power loss. 1: commits are not fsynced (their
	                             journal records are written, not synced); the
	                             store stays consistent after a process crash, and
	                             after a power cut it loses the most recent commits
	                             that es_db_sync did not flush. */
	int read_only;          /**< 1: open read-only; writes fail with ES_EREADONLY.
	                             The store must already exist. */
	unsigned int file_mode; /**< mode of created files; 0 = 0600 (event data is
	                             often personal data). The directory gets 0700. */
	es_clock_fn clock;      /**< NULL = the system's real-time clock */
	void *clock_user_data;    /**< passed to clock */
	size_t max_event_size;  /**< largest payload + metadata; 0 = ES_DEFAULT_MAX_EVENT_SIZE */
	size_t journal_size;    /**< size of the commit journal when this open creates it
	                             (a store's first writable open by this release);
	                             0 = $EVSTORE_JOURNAL_SIZE if set, else 64 MiB; at
	                             least 64 KiB. It bounds the work of recovery after a
	                             power cut (see es_batch_commit). */
} es_open_options;

#define ES_OPEN_OPTIONS_INIT { .version = ES_OPEN_OPTIONS_VERSION }

/**
 * Fill *opts with the defaults of ES_OPEN_OPTIONS_INIT for the given version (pass
 * ES_OPEN_OPTIONS_VERSION): the way to initialise that keeps working when the
 * struct gains fields, for callers that cannot use the macro.
 * @return 0, or ES_EINVAL (opts NULL, or a version this library does not know).
 */
ES_EXTERN int es_open_options_init(es_open_options *opts, unsigned int version);

/**
 * Open (creating when needed) the store in directory path.
 *
 * @param out   receives the handle; close it with es_db_close()
 * @param path  directory of the store; created (mode 0700) if missing
 *              unless opts->read_only
 * @param opts  options, or NULL for defaults
 * @return 0, or
 *   ES_EINVAL   NULL out/path, or opts->version unknown;
 *   ES_EFORMAT  the directory holds something that is not an evstore store,
 *               or a store written by a newer format version;
 *   ES_ENOTFOUND read-only and no store exists at path;
 *   ES_ECORRUPT the store's data file is truncated (when the file is
 *               shorter than its page count, a forked child reads LMDB's
 *               free list to tell a truncated copy from pages a commit
 *               freed without writing), or recovery found a journal that
 *               does not fit the data file;
 *   ES_EBUSY    the machine went down with the store open and this open
 *               cannot replay its journal: it is read-only ("open it
 *               writable once"), or another handle has the store open;
 *   ES_EACCES   permission denied; ES_EIO, ES_ENOSPC, ES_ENOMEM.
 */
ES_EXTERN int es_db_open(es_db **out, const char *path, const es_open_options *opts);

/**
 * Close a store. Every es_read, es_iter and es_batch made from it must be
 * ended or freed first. NULL is a no-op.
 */
ES_EXTERN void es_db_close(es_db *db);

/**
 * Flush every commit to disk now: a checkpoint (the data file synced, the
 * journal's header naming the newest commit). Only needed with nosync: a
 * durable store's commits are durable when they return.
 * @return 0, ES_EINVAL, ES_EREADONLY, ES_EIO, ES_ENOSPC.
 */
ES_EXTERN int es_db_sync(es_db *db);

/**
 * Drop this process's resident copies of the store's mapped pages. They stay
 * in the operating system's page cache and fault back in when read, so this
 * is always safe; it only costs re-faulting. For long scans (dumps, checks)
 * that would otherwise leave the whole store counted in resident memory.
 * @return 0, ES_EINVAL.
 */
ES_EXTERN int es_db_release_memory(es_db *db);

/** The on-disk format version this library writes (and the newest it reads). */
#define ES_FORMAT_VERSION 2

/* ---- Events to append ------------------------------------------------- */

/** A metadata entry: a key/value pair of NUL-terminated strings. */
typedef struct es_metadata {
	const char *key;
	const char *value;
} es_metadata;

/**
 * An event to append. The input fields are read during the append call (or
 * until es_batch_commit for batches). The output fields are written on
 * success.
 */
typedef struct es_event_data {
	/* in/out */
	uint8_t id[16];            /**< event id; all zero = generate a UUIDv7, which is
	                                written back here */
	/* in */
	const char *type;          /**< event type name, 1..ES_TYPE_NAME_MAX bytes */
	uint32_t schema_version;   /**< schema version of the payload */
	int64_t occurred_at;       /**< caller's business time (ns); 0 = not given */
	uint8_t correlation_id[16];/**< optional, all zero = none */
	uint8_t causation_id[16];  /**< optional, all zero = none */
	const es_metadata *metadata; /**< optional key/value pairs */
	size_t metadata_count;
	const void *payload;       /**< payload bytes (protobuf-encoded by the caller) */
	size_t payload_len;
	/* out (in, for an import batch: see es_batch_import) */
	int64_t version;           /**< the event's version in its stream */
	uint64_t position;         /**< the event's global position */
	int64_t recorded_at;       /**< the batch's commit time (ns); later than any
	                                earlier batch's, shared within the batch */
} es_event_data;

/** Size of an id's text form, with its NUL: 8-4-4-4-12 lowercase hex. */
#define ES_ID_TEXT_SIZE 37

/** Write id as UUID text (lowercase) into out. */
ES_EXTERN void es_id_format(const uint8_t id[16], char out[ES_ID_TEXT_SIZE]);

/**
 * Generate a fresh UUIDv7 (time-ordered, random low bits) from the real clock.
 * The ids one process generates (here and for appends) increase: one that
 * would not sort after the previous is the previous plus one (RFC 9562's
 * monotonic random method), also when the clock steps back.
 * @return 0, or ES_EIO when the system's random source fails.
 */
ES_EXTERN int es_id_new(uint8_t out[16]);

/**
 * Parse UUID text (8-4-4-4-12 hex digits, either case) into out.
 * @return 0, or ES_EINVAL naming the text.
 */
ES_EXTERN int es_id_parse(uint8_t out[16], const char *text);

/** Outcome of one stream's append. */
typedef struct es_append_result {
	int64_t first_version;  /**< version of the first event (-1 if none appended) */
	int64_t head_version;   /**< stream head after the append */
	int replayed;           /**< 1 if every event was already stored (idempotent
	                             retry): nothing was written and the events'
	                             out fields hold their original values */
} es_append_result;

/**
 * Append events to one stream, atomically.
 *
 * @param out        receives the result (may be NULL)
 * @param db         the store
 * @param stream     stream name, 1..ES_STREAM_NAME_MAX bytes
 * @param expected   ES_ANY, ES_NO_STREAM, ES_STREAM_EXISTS or an exact version
 * @param events     count events; ids, versions, positions and recorded_at
 *                   are written back on success
 * @param count      number of events; 0 only checks the expected version
 * Out fields are meaningful only on success, except that generated ids are
 * written back even on failure, so retrying with the same array is
 * idempotent. On ES_ECONFLICT, out->head_version holds the stream's actual
 * head (-1 if it has none).
 *
 * @return 0, or
 *   ES_EINVAL     bad argument, bad name, or the same id twice in the request;
 *   ES_ETOOBIG    an event exceeds max_event_size;
 *   ES_ECONFLICT  the head did not match expected (the message gives the head);
 *   ES_EDUPLICATE an event id is stored at another place (the message names it);
 *   ES_EDELETED   the stream is tombstoned;
 *   ES_ERANGE     the store's last recorded_at is already INT64_MAX;
 *   ES_EREADONLY, ES_EIO, ES_ENOSPC, ES_ENOMEM.
 * On failure nothing is written.
 *
 * Idempotency: if every event has a non-zero id already stored in this
 * stream, contiguous and in the same order, at the place the expected version
 * would have put them, the call succeeds, writes nothing and reports
 * replayed = 1.
 */
ES_EXTERN int es_stream_append(es_append_result *out, es_db *db, const char *stream,
                               int64_t expected, es_event_data *events, size_t count);

/**
 * Start a batch: appends to several streams committed all or nothing.
 * @return 0, ES_EINVAL, ES_EREADONLY or ES_ENOMEM.
 */
ES_EXTERN int es_batch_new(es_batch **out, es_db *db);

/**
 * Add one stream's append to a batch. The name and the events array are
 * borrowed until es_batch_commit() or es_batch_free(). A stream may appear
 * more than once; later entries see the earlier ones' versions.
 * @return 0, ES_EINVAL (bad name, NULL events with count > 0), ES_ETOOBIG, ES_ENOMEM.
 */
ES_EXTERN int es_batch_append(es_batch *batch, const char *stream, int64_t expected,
                              es_event_data *events, size_t count);

/**
 * Commit a batch in one transaction. Always consumes the batch.
 *
 * Group commit: when several threads commit at once, one of them commits
 * every waiting batch in a single LMDB transaction and a single fsync. Each
 * batch still stands alone, with its own version checks: a conflict or any
 * other refusal fails only that batch (the group is then redone with each
 * batch in its own nested transaction), and the others commit. Every caller
 * returns only once the transaction holding its batch is durable (or, with
 * nosync, committed). If that transaction fails as a whole (I/O error, disk
 * full, a failed sync), every batch in it fails with that error and none is
 * visible. (When writing the meta page itself fails, LMDB refuses every
 * later transaction of this process: reopen the store.)
 *
 * Durability and visibility: a durable store's transaction is made durable
 * by one record in the store's commit journal (its changes, checksummed),
 * written and fdatasynced before LMDB commits it without a sync; LMDB's own
 * pages reach the disk in the background (checkpoints). So the commit
 * becomes visible to readers (every es_read, in any thread or process) only
 * once it is durable, and a reader, and anything built on reads
 * (subscriptions, a relay), never sees an event that a power cut can take
 * back. After a power cut the first writable es_db_open replays the journal
 * (its work is bounded by the journal's size, es_open_options.journal_size).
 * docs/DESIGN.md "Durability" has the design. With nosync, a commit is
 * visible (and may be lost in a power cut) before any sync.
 *
 * A lone caller commits alone, with no waiting and no nesting. Batches
 * from different processes are not grouped; LMDB serialises them.
 *
 * @param results  NULL, or an array with one result per es_batch_append
 *                 call, in order
 * @return 0, or any error of es_stream_append(); the first failing stream is
 *   named in the message and nothing at all is written.
 */
ES_EXTERN int es_batch_commit(es_batch *batch, es_append_result *results);

/**
 * Make a batch an import: each event keeps the recorded_at given in its
 * es_event_data instead of taking the clock's time. For restoring dumps and
 * migrating stores, which must keep history's timestamps. Every recorded_at
 * must be at or after the store's newest and the previous event's in the
 * batch, so recorded_at never decreases with position. (Equal times are
 * allowed: they are how a source's multi-event commits look.)
 * Call before es_batch_commit().
 * @return 0, ES_EINVAL. (A bad recorded_at fails the commit with ES_EINVAL
 *   naming the stream and the times.)
 */
ES_EXTERN int es_batch_import(es_batch *batch);

/** Discard a batch without writing. NULL is a no-op. */
ES_EXTERN void es_batch_free(es_batch *batch);

/* ---- Deleting streams ------------------------------------------------- */

/**
 * Soft-delete a stream: it reads as absent and ES_NO_STREAM appends succeed.
 * Appending again recreates it; numbering continues after the old head and
 * only the new events are visible in the stream. The events stay in the
 * global log (history is never rewritten).
 *
 * @param expected  ES_ANY, ES_STREAM_EXISTS or the exact head version
 * @return 0, ES_ENOTFOUND (no visible stream), ES_ECONFLICT, ES_EDELETED,
 *   ES_EINVAL, ES_EREADONLY, ES_EIO, ES_ENOSPC.
 */
ES_EXTERN int es_stream_delete(es_db *db, const char *stream, int64_t expected);

/**
 * Tombstone a stream: it ends for good. Every later append, delete or
 * stream read fails with ES_EDELETED. Its events stay in the global log.
 * A never-written stream may be tombstoned (ES_ANY or ES_NO_STREAM) to
 * reserve the name.
 * @return 0, ES_ECONFLICT, ES_EDELETED (already), ES_EINVAL, ES_EREADONLY,
 *   ES_EIO, ES_ENOSPC.
 */
ES_EXTERN int es_stream_tombstone(es_db *db, const char *stream, int64_t expected);

/* ---- Reading ---------------------------------------------------------- */

/**
 * Begin a read: a consistent snapshot of the store as of now.
 * Keep reads short: a long read pins old pages. Do not append from a thread
 * while it holds a read on the same store (the append may need to grow the
 * map, which waits for this process's reads to end).
 * @return 0, ES_EINVAL, ES_EBUSY (too many readers), ES_ENOMEM, ES_EIO.
 */
ES_EXTERN int es_read_begin(es_read **out, es_db *db);

/**
 * Move a read to the newest state of the store. Everything borrowed from it
 * before becomes invalid; iterators made from it may continue (they resume
 * after the last item they returned, up to the stream's new head).
 * @return 0, ES_EINVAL, ES_EBUSY, ES_EIO. On failure the read holds no
 *   snapshot and may only be ended.
 */
ES_EXTERN int es_read_renew(es_read *rd);

/** End a read. Iterators made from it must be freed first. NULL is a no-op. */
ES_EXTERN void es_read_end(es_read *rd);

/** An event as stored: a borrowed view, valid until its read ends or renews. */
typedef struct es_event {
	const char *stream;        /**< stream name (NUL-terminated) */
	int64_t version;
	uint64_t position;
	int64_t recorded_at;
	int64_t occurred_at;       /**< 0 if not given */
	uint8_t id[16];
	uint8_t correlation_id[16];/**< all zero if none */
	uint8_t causation_id[16];  /**< all zero if none */
	const char *type;          /**< type name (NUL-terminated) */
	uint32_t schema_version;
	const void *payload;
	size_t payload_len;
	const void *metadata;      /**< encoded metadata; read with es_event_metadata_next() */
	size_t metadata_len;
} es_event;

/**
 * Walk an event's metadata. Start with *cursor = 0; each call yields one
 * pair (not NUL-terminated; lengths given) and advances *cursor.
 * @return 0 with a pair, ES_ITEROVER at the end, ES_ECORRUPT if malformed
 *   (the message names the event and the byte), ES_EINVAL for a NULL argument.
 */
ES_EXTERN int es_event_metadata_next(const es_event *ev, size_t *cursor,
                                     const char **key, size_t *key_len,
                                     const char **value, size_t *value_len);

/** Direction of an iterator. */
typedef enum es_direction { ES_FORWARD = 0, ES_BACKWARD = 1 } es_direction;

/** Read as many items as exist. */
#define ES_NO_LIMIT ((size_t)-1)
/** from_version for a backward stream read: start at the head. */
#define ES_HEAD INT64_MAX
/** from_position for a backward log read: start at the newest event. */
#define ES_LOG_END UINT64_MAX

/**
 * Iterate a stream's visible events, from from_version (inclusive) forward or
 * backward, at most limit events.
 * @return 0, or ES_ENOTFOUND (no such stream, or soft-deleted and not
 *   recreated), ES_EDELETED (tombstoned), ES_EINVAL, ES_ENOMEM.
 */
ES_EXTERN int es_stream_iter(es_iter **out, es_read *rd, const char *stream,
                             int64_t from_version, es_direction dir, size_t limit);

/**
 * Iterate the global log from from_position (inclusive), at most limit events.
 * The log holds every event ever appended, deleted streams' included.
 * @return 0, ES_EINVAL, ES_ENOMEM.
 */
ES_EXTERN int es_log_iter(es_iter **out, es_read *rd, uint64_t from_position,
                          es_direction dir, size_t limit);

/**
 * Next event of an iterator. *ev is filled with borrowed pointers, valid
 * until the read ends or renews (not only until the next call).
 * @return 0, ES_ITEROVER at the end, ES_ECORRUPT (the message names the
 *   stream and version), ES_EIO; after es_read_renew also ES_ENOTFOUND or
 *   ES_EDELETED (the stream was deleted meanwhile) and ES_ENOMEM.
 */
ES_EXTERN int es_iter_next(es_event *ev, es_iter *it);

/** Free an iterator. NULL is a no-op. */
ES_EXTERN void es_iter_free(es_iter *it);

/**
 * Read one event of a stream by version.
 * @return 0, ES_ENOTFOUND (no such stream or version, or not visible),
 *   ES_EDELETED, ES_ECORRUPT, ES_EINVAL.
 */
ES_EXTERN int es_stream_get(es_event *out, es_read *rd, const char *stream, int64_t version);

/** State of a stream. */
typedef enum es_stream_state {
	ES_STREAM_LIVE = 0,
	ES_STREAM_SOFT_DELETED = 1,
	ES_STREAM_TOMBSTONED = 2
} es_stream_state;

/** What es_stream_info() reports. */
typedef struct es_stream_info {
	int64_t head_version;      /**< last version written (-1 if none) */
	int64_t first_version;     /**< first visible version (after a soft delete,
	                                the first version of the recreated stream) */
	int64_t first_recorded_at; /**< recorded_at of first_version's event (0 if none) */
	int64_t last_recorded_at;  /**< recorded_at of the head event (0 if none) */
	es_stream_state state;
} es_stream_info;

/**
 * Describe a stream, whatever its state.
 * @return 0, ES_ENOTFOUND (never written nor tombstoned), ES_EINVAL, ES_ECORRUPT.
 */
ES_EXTERN int es_stream_info_get(es_stream_info *out, es_read *rd, const char *stream);

/**
 * The last version of a stream whose recorded_at <= t (inclusive), in
 * O(log n) whatever the stream's length. Soft-deleted history counts: this is
 * about what existed at time t.
 * @return 0, or ES_ENOTFOUND when the stream had no event at or before t
 *   ("did not exist at t") or was never written; ES_EINVAL, ES_ECORRUPT.
 */
ES_EXTERN int es_stream_version_at(int64_t *out, es_read *rd, const char *stream, int64_t t);

/** Callback for es_stream_list(): return non-zero to stop early. */
typedef int (*es_stream_list_fn)(const char *stream, void *user_data);

/**
 * List stream names in byte order: those starting with prefix (NULL or ""
 * for all), strictly after `after` (NULL to start at the beginning: pass the
 * last name of one page to get the next), at most limit names. Soft-deleted
 * and tombstoned streams are included; use es_stream_info_get() to tell.
 * @return 0, a callback's non-zero return value, ES_EINVAL, ES_ECORRUPT.
 */
ES_EXTERN int es_stream_list(es_read *rd, const char *prefix, const char *after,
                             size_t limit, es_stream_list_fn cb, void *user_data);

/** Position of the newest event (0 if the store is empty). */
ES_EXTERN int es_log_head(uint64_t *out, es_read *rd);

/* ---- Time text ------------------------------------------------------- */

/** Room for es_time_format's longest output, with its NUL. */
#define ES_TIME_TEXT_SIZE 40

/**
 * Parse a time as nanoseconds since the Unix epoch. Accepted forms:
 * RFC 3339 ("2026-11-21T10:03:00Z", "2026-11-21T10:03:00.123456789+02:00";
 * 't'/'z' and a space for 'T' are allowed; 1 to 9 fraction digits; an offset
 * is required), or '@' followed by a decimal integer of nanoseconds
 * ("@1795255380000000000", may be negative).
 * @return 0, or ES_EINVAL (the message names the text and what is wrong),
 *   ES_ERANGE (outside int64 nanoseconds).
 */
ES_EXTERN int es_time_parse(int64_t *out, const char *text);

/**
 * Format ns as RFC 3339 in UTC with nine fraction digits:
 * "2026-11-21T10:03:00.000000000Z".
 * @param out   buffer of at least ES_TIME_TEXT_SIZE bytes
 * @return 0, or ES_EINVAL (NULL out or size too small).
 */
ES_EXTERN int es_time_format(char *out, size_t size, int64_t ns);

#ifdef __cplusplus
}
#endif
#endif
