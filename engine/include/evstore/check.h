/*
 * evstore/check.h - integrity check of a store: every invariant the engine
 * keeps between its tables, checked from both sides, with each problem
 * named where it is.
 */
#ifndef EVSTORE_CHECK_H
#define EVSTORE_CHECK_H

#include <stdint.h>
#include <stdio.h>

#include <evstore/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The kinds of problem es_check reports. */
typedef enum es_check_kind {
	ES_CHECK_STREAM_RECORD = 1, /**< a stream record is malformed, or it and the stream
	                                 names table disagree */
	ES_CHECK_VERSION_GAP,       /**< a stream's versions are not contiguous from 0 to its head */
	ES_CHECK_BEYOND_HEAD,       /**< an event is stored past its stream's head */
	ES_CHECK_RECORD_CORRUPT,    /**< an event record fails its checksum or layout */
	ES_CHECK_LOG_MISSING,       /**< an event has no log entry at its position, or the
	                                 entry there points elsewhere */
	ES_CHECK_LOG_DANGLING,      /**< a log entry points at no event, or at one recorded
	                                 at another position */
	ES_CHECK_LOG_GAP,           /**< log positions are not contiguous from 1 */
	ES_CHECK_ID_MISSING,        /**< an event's id is not in the event-id index, or is
	                                 indexed elsewhere */
	ES_CHECK_ID_DANGLING,       /**< an index entry points at no event, or at an event
	                                 with another id */
	ES_CHECK_TIME_ORDER,        /**< recorded_at decreases with position (or with version
	                                 in a stream), or a stream's first/last times disagree
	                                 with its events */
	ES_CHECK_SNAPSHOT_ORPHAN,   /**< a snapshot refers to no stream, a version past the
	                                 head, or a missing event */
	ES_CHECK_SNAPSHOT_CORRUPT,  /**< a snapshot's envelope is malformed or fails its checksum */
	ES_CHECK_TYPE,              /**< an event's type id has no name, or the type tables
	                                 disagree */
	ES_CHECK_META,              /**< a store counter (next position, clock, next ids)
	                                 disagrees with the data */
	ES_CHECK_BTREE              /**< LMDB's pages themselves are damaged (a torn page,
	                                 a disk that ignored a flush): walking a table
	                                 failed or crashed; the other checks are skipped */
} es_check_kind;

/** Short text for a kind ("version gap", ...). Static, never NULL. */
ES_EXTERN const char *es_check_kind_str(es_check_kind kind);

/** One problem. Borrowed: valid during the callback only. */
typedef struct es_check_problem {
	es_check_kind kind;
	const char *stream;   /**< the stream involved, or NULL */
	int64_t version;      /**< the version involved, or -1 */
	uint64_t position;    /**< the global position involved, or 0 */
	const char *message;  /**< a full sentence naming where the problem is */
} es_check_problem;

/** Called for each problem; return non-zero to stop the check with that value. */
typedef int (*es_check_fn)(const es_check_problem *problem, void *user_data);

/** Items read between renewals of the check's read transaction. */
#define ES_CHECK_RENEW_EVERY 4096

#define ES_CHECK_OPTIONS_VERSION 1

/** How a check reports. Initialise with ES_CHECK_OPTIONS_INIT. */
typedef struct es_check_options {
	unsigned int version;  /**< ES_CHECK_OPTIONS_VERSION */
	es_check_fn on_problem;/**< NULL, or called for each problem */
	void *user_data;
	FILE *report;          /**< NULL, or each problem's message is written here, one a line */
	size_t renew_every;    /**< 0: ES_CHECK_RENEW_EVERY */
} es_check_options;

#define ES_CHECK_OPTIONS_INIT { .version = ES_CHECK_OPTIONS_VERSION }

/**
 * Fill *opts with the defaults of ES_CHECK_OPTIONS_INIT for the given version (pass
 * ES_CHECK_OPTIONS_VERSION): the way to initialise that keeps working when the
 * struct gains fields, for callers that cannot use the macro.
 * @return 0, or ES_EINVAL (opts NULL, or a version this library does not know).
 */
ES_EXTERN int es_check_options_init(es_check_options *opts, unsigned int version);

/** What a check looked at and found. */
typedef struct es_check_stats {
	uint64_t streams;      /**< stream records */
	uint64_t events;       /**< event records */
	uint64_t log_entries;
	uint64_t ids;          /**< event-id index entries */
	uint64_t snapshots;
	uint64_t problems;
} es_check_stats;

/**
 * Check a store's integrity:
 *   - every stream's versions are contiguous from 0 to its head, with no
 *     event past the head, and its stream record and name agree;
 *   - every event record's checksum and layout hold, and its type is known;
 *   - the log and the events agree both ways (each event is logged at its
 *     own position, each log entry points at an event recorded there), and
 *     log positions run from 1 without gaps;
 *   - the event-id index agrees with the events both ways;
 *   - recorded_at never decreases with position (events of one batch
 *     share their commit time; each batch's is later than the one before,
 *     which the store cannot tell apart from equal times of two batches);
 *   - every snapshot refers to an existing event of its stream and its
 *     envelope (format, checksum of the state) holds;
 *   - the store's counters agree with what is stored.
 * Before those, every table's B-tree is walked in a child process (fork):
 * LMDB trusts its pages, so a damaged one can make it fail an assertion or
 * fault; the walk turns that into one ES_CHECK_BTREE problem ("the store's
 * B-tree is damaged at table ..."), and the other checks are skipped. The
 * child is waited for with waitpid: a process that ignores SIGCHLD cannot
 * learn how the walk ended, and es_check then fails with that error.
 * Read-only: it writes nothing and may run while other threads or processes
 * append; its read transaction is renewed every opts->renew_every items, and
 * each item is checked within one consistent snapshot.
 *
 * @param out   counts and the number of problems (may be NULL)
 * @param db    the store (opened read-only is enough)
 * @param opts  where problems go; NULL: only counted
 * @return 0 when every invariant holds; ES_ECORRUPT when problems were found
 *   (the message gives how many); a callback's non-zero value; ES_EINVAL,
 *   ES_EBUSY, ES_EIO, ES_ENOMEM.
 */
ES_EXTERN int es_check(es_check_stats *out, es_db *db, const es_check_options *opts);

#ifdef __cplusplus
}
#endif
#endif
