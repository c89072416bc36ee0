/*
 * evstore/snapshot.h - snapshots: an aggregate's state at a version, stored
 * beside the events, so a load folds only the events after it.
 *
 * A snapshot records the state schema version and the fingerprint of the
 * upcaster chain it was built under. A snapshot whose schema version or
 * fingerprint differs from the caller's, or whose bytes fail their checksum,
 * is unusable: es_snapshot_find passes over it and says why.
 */
#ifndef EVSTORE_SNAPSHOT_H
#define EVSTORE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include <evstore/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default snapshot interval: every 100 events. */
#define ES_SNAPSHOT_DEFAULT_EVERY 100

/** Why a snapshot was passed over. */
typedef enum es_snapshot_skip {
	ES_SNAPSHOT_USABLE = 0,
	ES_SNAPSHOT_SCHEMA_CHANGED = 1,      /**< built under another state schema version */
	ES_SNAPSHOT_FINGERPRINT_CHANGED = 2, /**< built under another upcaster chain */
	ES_SNAPSHOT_CORRUPT = 3              /**< bytes malformed or failing their checksum,
	                                          or the state failed to decode */
} es_snapshot_skip;

/** Text for a skip reason ("state schema changed", ...). Static, never NULL. */
ES_EXTERN const char *es_snapshot_skip_str(es_snapshot_skip why);

/** What the state is checked against: the caller's current schema and chain. */
typedef struct es_snapshot_key {
	uint32_t schema_version;
	uint64_t fingerprint;
} es_snapshot_key;

/** A usable snapshot: a borrowed view, valid until its read ends or renews. */
typedef struct es_snapshot {
	int64_t version;      /**< the stream version the state includes */
	const void *state;    /**< the aggregate's encoded state */
	size_t state_len;
} es_snapshot;

/**
 * Called for each snapshot passed over (newest first) by es_snapshot_find.
 * Return non-zero to stop the search with that value.
 */
typedef int (*es_snapshot_skip_fn)(int64_t version, es_snapshot_skip why, void *user_data);

/**
 * Find the newest usable snapshot of stream at or below max_version.
 * @param on_skip  NULL, or told of each unusable snapshot passed over
 * @return 0 with *out filled, ES_ENOTFOUND (none usable), a callback's
 *   non-zero value, ES_EINVAL, ES_EIO.
 */
ES_EXTERN int es_snapshot_find(es_snapshot *out, es_read *rd, const char *stream, int64_t max_version,
                               const es_snapshot_key *key, es_snapshot_skip_fn on_skip, void *user_data);

/**
 * Queue a snapshot into a batch: it is written in the batch's transaction,
 * so it lands with the append that produced it or not at all. The state is
 * copied. version must be the stream's head once the batch is applied.
 * @return 0, ES_EINVAL, ES_ENOMEM.
 */
ES_EXTERN int es_snapshot_stage(es_batch *batch, const char *stream, int64_t version,
                                const es_snapshot_key *key, const void *state, size_t state_len);

/**
 * Write (or overwrite) a snapshot now, in its own transaction.
 * @return 0, ES_ENOTFOUND (no such stream), ES_EINVAL (no such version),
 *   ES_EREADONLY, ES_EIO, ES_ENOSPC, ES_ENOMEM.
 */
ES_EXTERN int es_snapshot_write(es_db *db, const char *stream, int64_t version,
                                const es_snapshot_key *key, const void *state, size_t state_len);

/** Retention options for es_snapshot_thin. Initialise with ES_THIN_OPTIONS_INIT. */
typedef struct es_thin_options {
	unsigned int version;   /**< ES_THIN_OPTIONS_VERSION */
	uint32_t keep_one_in;   /**< of the old snapshots, keep one in K (oldest first: 0th, Kth, ...); >= 1 */
	int64_t older_than;     /**< a snapshot is old when its version was recorded before this time (ns) */
} es_thin_options;

#define ES_THIN_OPTIONS_VERSION 1
#define ES_THIN_OPTIONS_INIT { .version = ES_THIN_OPTIONS_VERSION, .keep_one_in = 10 }

/**
 * Fill *opts with the defaults of ES_THIN_OPTIONS_INIT for the given version (pass
 * ES_THIN_OPTIONS_VERSION): the way to initialise that keeps working when the
 * struct gains fields, for callers that cannot use the macro.
 * @return 0, or ES_EINVAL (opts NULL, or a version this library does not know).
 */
ES_EXTERN int es_thin_options_init(es_thin_options *opts, unsigned int version);

/**
 * Thin a stream's snapshots: those older than opts->older_than are reduced to
 * one in keep_one_in; newer ones are all kept. By default nothing is ever
 * thinned (snapshots serve time travel); call this to trade load speed for
 * space. Each removal happens in its own transaction.
 * @param removed  NULL, or receives how many snapshots were removed
 * @return 0, ES_EINVAL, ES_ENOTFOUND (no such stream), ES_EREADONLY, ES_EIO.
 */
ES_EXTERN int es_snapshot_thin(size_t *removed, es_db *db, const char *stream, const es_thin_options *opts);

/**
 * The versions of a stream's stored snapshots (usable or not), oldest first.
 * @param out    receives a malloc'd array (NULL when count is 0); free() it
 * @return 0, ES_ENOTFOUND (no such stream), ES_EINVAL, ES_ENOMEM.
 */
ES_EXTERN int es_snapshot_list(int64_t **out, size_t *count, es_read *rd, const char *stream);

#ifdef __cplusplus
}
#endif
#endif
