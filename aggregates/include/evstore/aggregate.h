/*
 * evstore/aggregate.h - aggregates: fold a stream's events into state at the
 * latest version, at a version, or as of a time; and execute commands with
 * optimistic concurrency and bounded retry.
 *
 * A load starts from the newest usable snapshot at or below the wanted
 * version and folds only the events after it, so its cost is bounded by the
 * snapshot interval, not by the stream's length.
 */
#ifndef EVSTORE_AGGREGATE_H
#define EVSTORE_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include <evstore/engine.h>
#include <evstore/snapshot.h>
#include <evstore/upcaster.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Applies one event to a state. Must depend only on the event's type,
 * schema version, version and payload (not on recorded_at), so that state
 * computed for a snapshot at commit time equals a later fold.
 * @return 0, or a negative ES_E* code (ES_ECORRUPT for an undecodable
 *   payload), with a message set through es_error_set().
 */
typedef int (*es_apply_fn)(void *state, const es_event *ev);

/** The handler of one event type. */
typedef struct es_event_handler {
	const char *type;   /**< event type name */
	es_apply_fn apply;
} es_event_handler;

#define ES_AGGREGATE_TYPE_VERSION 1

/**
 * An aggregate type. Defined statically by a domain; evstore only reads it.
 * Initialise with ES_AGGREGATE_TYPE_INIT and set the fields.
 */
typedef struct es_aggregate_type {
	unsigned int version;           /**< ES_AGGREGATE_TYPE_VERSION */
	const char *name;               /**< e.g. "account" */
	const char *stream_prefix;      /**< streams of this type start with it, e.g. "account-" */
	size_t state_size;              /**< bytes of the caller's state struct */
	void (*init)(void *state);      /**< the state before any event */
	const es_event_handler *handlers; /**< one per event type; an event of a type
	                                       not listed fails the load with ES_ESCHEMA */
	size_t handler_count;
	uint32_t state_schema_version;  /**< bump when the snapshot encoding changes */
	/** Encode state for a snapshot into *out (malloc'd, freed by evstore). */
	int (*snapshot_encode)(uint8_t **out, size_t *len, const void *state);
	/** Decode a snapshot into state (already init'ed). Non-zero = unusable. */
	int (*snapshot_decode)(void *state, const uint8_t *buf, size_t len);
	uint32_t snapshot_every;        /**< snapshot every N events; 0 = ES_SNAPSHOT_DEFAULT_EVERY;
	                                     UINT32_MAX = never */
	void (*clear)(void *state);     /**< NULL, or frees what a state owns */
	/** NULL, or returns the type's validated upcaster registry (called by every
	 *  load; build the registry once). Every event is brought to its current
	 *  version before apply, and snapshots record the registry's fingerprint.
	 *  Returning NULL fails the load with ES_EINVAL. */
	const es_registry *(*upcasters)(void);
} es_aggregate_type;

#define ES_AGGREGATE_TYPE_INIT { ES_AGGREGATE_TYPE_VERSION, NULL, NULL, 0, NULL, NULL, 0, 1, NULL, NULL, 0, NULL, NULL }

/** What a load did. */
typedef struct es_load_info {
	int64_t version;           /**< version of the loaded state (-1: no events) */
	int64_t recorded_at;       /**< recorded_at of that version's event (0 if none) */
	int64_t snapshot_version;  /**< snapshot the fold started from, -1 if none */
	uint64_t events_folded;    /**< events applied after the snapshot */
	uint32_t snapshots_skipped;/**< unusable snapshots passed over */
	es_snapshot_skip skip_reason; /**< why the last one was passed over */
	int snapshot_rewritten;    /**< 1 if a passed-over snapshot was rebuilt */
} es_load_info;

/**
 * Load an aggregate's state at max_version (ES_HEAD for the latest) within an
 * existing read. state must hold type->state_size bytes; it is initialised.
 * Passed-over snapshots are reported in info but not rewritten (a read
 * cannot write); the es_db-level loads rewrite them.
 * @return 0, or ES_ENOTFOUND (no such stream, or no such version),
 *   ES_EDELETED, ES_ESCHEMA (an event type with no handler), ES_ECORRUPT,
 *   an apply function's error, ES_EINVAL, ES_ENOMEM.
 */
ES_EXTERN int es_aggregate_fold(void *state, es_load_info *info, es_read *rd,
                                const es_aggregate_type *type, const char *stream, int64_t max_version);

/**
 * Load the state as of time t (every event with recorded_at <= t) within an
 * existing read: several loads in one read see one consistent store.
 * @return as es_aggregate_fold(), and ES_ENOTFOUND with a "did not exist at"
 *   message when the stream's first event was recorded after t.
 */
ES_EXTERN int es_aggregate_fold_as_of(void *state, es_load_info *info, es_read *rd,
                                      const es_aggregate_type *type, const char *stream, int64_t t);

/**
 * Apply one event to a state through the type's upcasters and handlers: for
 * callers that walk events themselves (statements, histories).
 * @return 0, ES_ESCHEMA (no handler for the event's type), or the handler's error.
 */
ES_EXTERN int es_aggregate_apply(const es_aggregate_type *type, void *state, const es_event *ev);

/**
 * Load the latest state of an aggregate.
 * Errors as es_aggregate_fold().
 */
ES_EXTERN int es_aggregate_load(void *state, es_load_info *info, es_db *db,
                                const es_aggregate_type *type, const char *stream);

/** Load the state at an exact version. Errors as es_aggregate_fold(). */
ES_EXTERN int es_aggregate_load_at_version(void *state, es_load_info *info, es_db *db,
                                           const es_aggregate_type *type, const char *stream,
                                           int64_t version);

/**
 * Load the state as of time t: every event with recorded_at <= t.
 * @return as es_aggregate_fold(), and ES_ENOTFOUND with a "did not exist at"
 *   message when the stream's first event was recorded after t.
 */
ES_EXTERN int es_aggregate_load_as_of(void *state, es_load_info *info, es_db *db,
                                      const es_aggregate_type *type, const char *stream, int64_t t);

/**
 * Rebuild every snapshot of every stream of a type (streams starting with
 * type->stream_prefix): each snapshot is replaced by one computed from the
 * events under the current schema and upcaster chain.
 * @param rebuilt  NULL, or receives the number of snapshots written
 * @return 0, or the first error met (the message names the stream).
 */
ES_EXTERN int es_aggregate_rebuild_snapshots(size_t *rebuilt, es_db *db, const es_aggregate_type *type);

/* ---- Commands ---------------------------------------------------------- */

/** Collects the events a decision emits. Opaque. */
typedef struct es_emit es_emit;

/**
 * Emit one event for target `target` (an index into the command's targets).
 * The type name must be a string that outlives the command (a literal);
 * the payload is copied.
 * @return 0, ES_EINVAL (bad target), ES_ENOMEM.
 */
ES_EXTERN int es_emit_event(es_emit *emit, size_t target, const char *type, uint32_t schema_version,
                            const void *payload, size_t payload_len);

/**
 * A domain's decision: read the targets' states and emit events, or refuse.
 * states[i] and infos[i] belong to targets[i]; info->version is -1 for a
 * stream with no events.
 * @return 0 (the emitted events are appended; none emitted = nothing to
 *   do), or a negative code, typically ES_EREJECTED with a message set by
 *   es_error_set(), which the command returns as is.
 */
typedef int (*es_decide_fn)(es_emit *emit, void *const *states, const es_load_info *infos,
                            size_t count, void *user_data);

/** One aggregate a command reads and may append to. */
typedef struct es_target {
	const es_aggregate_type *type;
	const char *stream;
} es_target;

#define ES_COMMAND_OPTIONS_VERSION 1

/** Command options. Initialise with ES_COMMAND_OPTIONS_INIT. */
typedef struct es_command_options {
	unsigned int version;     /**< ES_COMMAND_OPTIONS_VERSION */
	unsigned int max_attempts;/**< decide+append attempts on conflict; 0 = 5 */
} es_command_options;

#define ES_COMMAND_OPTIONS_INIT { .version = ES_COMMAND_OPTIONS_VERSION }

/**
 * Fill *opts with the defaults of ES_COMMAND_OPTIONS_INIT for the given version (pass
 * ES_COMMAND_OPTIONS_VERSION): the way to initialise that keeps working when the
 * struct gains fields, for callers that cannot use the macro.
 * @return 0, or ES_EINVAL (opts NULL, or a version this library does not know).
 */
ES_EXTERN int es_command_options_init(es_command_options *opts, unsigned int version);

/** What a command did. */
typedef struct es_command_result {
	unsigned int attempts;    /**< 1 unless a conflict forced a retry */
	size_t events_appended;   /**< total over all targets */
} es_command_result;

#define ES_COMMAND_MAX_TARGETS 8

/**
 * Execute a command over 1..ES_COMMAND_MAX_TARGETS aggregates: load each
 * latest state, decide, and append every target's events in one batch, each
 * target's expected version being the version it was loaded at (so a target
 * that emits nothing still must not have changed). On ES_ECONFLICT the
 * command reloads and decides again, up to max_attempts times. Snapshots due
 * under each type's policy are written in the same transaction.
 * Do not call it while this thread holds a read on db.
 * @param out  NULL, or receives what the command did
 * @return 0, the decision's refusal (e.g. ES_EREJECTED), ES_ECONFLICT after
 *   max_attempts, or any error of the loads and of es_batch_commit().
 */
ES_EXTERN int es_command_execute(es_command_result *out, es_db *db, const es_target *targets, size_t count,
                                 es_decide_fn decide, void *user_data, const es_command_options *opts);

#ifdef __cplusplus
}
#endif
#endif
