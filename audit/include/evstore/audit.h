/*
 * evstore/audit.h - audit exports: dump a store's history as JSON Lines or
 * CSV with a SHA-256 hash chain that makes any edit of the file evident,
 * verify such a file, and restore a store from a JSONL dump.
 *
 * The file format (fields, encodings, the exact bytes hashed) is specified
 * in audit/FORMAT.md; ES_DUMP_FORMAT_VERSION names its version.
 *
 * Threads: each call works on the handles it is given; es_dump and es_restore
 * may run on several threads at once with distinct FILEs. A descriptor or
 * progress callback runs on the calling thread. SHA-256 comes from OpenSSL's
 * libcrypto (it uses the CPU's SHA instructions where there are some).
 */
#ifndef EVSTORE_AUDIT_H
#define EVSTORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <evstore/engine.h>
#include <evstore/import.h>
#include <evstore/upcaster.h>

#ifdef __cplusplus
extern "C" {
#endif

/* protobuf-c's descriptor type, declared here so this header does not need
 * protobuf-c's (C11 allows the identical typedef twice). */
typedef struct ProtobufCMessageDescriptor ProtobufCMessageDescriptor;

/** Version of the dump format this library writes (and the newest it reads). */
#define ES_DUMP_FORMAT_VERSION 1

/** Room for a SHA-256 digest as lowercase hex, NUL included. */
#define ES_HASH_HEX_SIZE 65

/**
 * Finds the protobuf message type of an event's payload: the type name and
 * schema version as written to the dump (after upcasting, with --upcast).
 * Return NULL when unknown: the payload is then written as base64 with a note.
 * The descriptor must outlive the call that uses it.
 */
typedef const ProtobufCMessageDescriptor *(*es_descriptor_fn)(const char *type,
                                                              uint32_t schema_version,
                                                              void *user_data);

/** Layout of a dump. */
typedef enum es_dump_format {
	ES_DUMP_JSONL = 0, /**< JSON Lines: one object per line (the default) */
	ES_DUMP_CSV = 1    /**< RFC 4180 CSV with a column row */
} es_dump_format;

/** Where a dump is, for a progress callback. */
typedef struct es_dump_progress {
	uint64_t events;          /**< event records written so far */
	uint64_t position;        /**< global position last read */
	uint64_t first_position;  /**< first position the dump may read */
	uint64_t last_position;   /**< last position it will read (the log head
	                               at the start, or the --to bound) */
} es_dump_progress;

/** Progress callback: called every few thousand events and once at the end.
 * Return non-zero to stop the dump with that value. */
typedef int (*es_dump_progress_fn)(const es_dump_progress *progress, void *user_data);

/** Events read between renewals of the dump's read transaction. */
#define ES_DUMP_RENEW_EVERY 4096

#define ES_DUMP_OPTIONS_VERSION 1

/**
 * What to dump and how. Initialise with ES_DUMP_OPTIONS_INIT. Every filter
 * left at its initial value lets everything through; filters combine with AND.
 */
typedef struct es_dump_options {
	unsigned int version;          /**< ES_DUMP_OPTIONS_VERSION */
	es_dump_format format;         /**< ES_DUMP_JSONL or ES_DUMP_CSV */
	const char *stream;            /**< only this stream (exact name), or NULL */
	const char *stream_prefix;     /**< only streams starting with this, or NULL;
	                                    not together with stream */
	int64_t since;                 /**< only recorded_at >= since (INT64_MIN: no bound) */
	int64_t until;                 /**< only recorded_at <= until (INT64_MAX: no bound) */
	uint64_t from_position;        /**< only positions >= this (0: from the start) */
	uint64_t to_position;          /**< only positions <= this (UINT64_MAX: to the end) */
	const char *const *types;      /**< only these event types (as written), or NULL */
	size_t type_count;             /**< entries in types */
	const es_registry *upcast;     /**< NULL: events as stored; else upcast each event
	                                    to its type's current schema with this
	                                    (validated) registry before writing it */
	es_descriptor_fn descriptor;   /**< decodes payloads to JSON; NULL: all base64 */
	void *descriptor_user_data;
	es_dump_progress_fn progress;  /**< NULL: none */
	void *progress_user_data;
	size_t renew_every;            /**< 0: ES_DUMP_RENEW_EVERY */
} es_dump_options;

#define ES_DUMP_OPTIONS_INIT                                                              \
	{ .version = ES_DUMP_OPTIONS_VERSION, .format = ES_DUMP_JSONL, .since = INT64_MIN,    \
	  .until = INT64_MAX, .to_position = UINT64_MAX }

/**
 * Fill *opts with the defaults of ES_DUMP_OPTIONS_INIT for the given version (pass
 * ES_DUMP_OPTIONS_VERSION): the way to initialise that keeps working when the
 * struct gains fields, for callers that cannot use the macro.
 * @return 0, or ES_EINVAL (opts NULL, or a version this library does not know).
 */
ES_EXTERN int es_dump_options_init(es_dump_options *opts, unsigned int version);

/** What a dump wrote. */
typedef struct es_dump_stats {
	uint64_t events;          /**< event records */
	uint64_t streams;         /**< stream-state records (deleted or recreated streams) */
	uint64_t raw_payloads;    /**< events whose data was written as base64 */
	uint64_t bytes;           /**< bytes written */
	uint64_t last_position;   /**< position of the last event written (0: none) */
	char final_hash[ES_HASH_HEX_SIZE]; /**< the trailer's hash: covers the whole file */
} es_dump_stats;

/**
 * Write the store's events in global order, then the state of its deleted
 * and recreated streams, then a trailer, each record chained to the one
 * before by SHA-256. Reads through a read transaction renewed every
 * opts->renew_every events, so it never pins old pages for long; memory use
 * does not depend on the store's size. The dump ends at the log head as it
 * was when the call began: events appended meanwhile are not included.
 *
 * The call starts one thread of its own, which hashes and writes records
 * while the calling thread reads and formats the next ones (SHA-256 costs
 * about as much as the rest); it ends before the call returns. Callbacks
 * run on the calling thread. Writing to a closed pipe raises SIGPIPE in the
 * process unless the caller ignores it, as es-dump does; then it is ES_EIO.
 *
 * @param out       receives counts and the final hash (may be NULL)
 * @param db        the store (read-only is enough)
 * @param out_file  where to write; flushed (not closed) before returning.
 *                  The caller closes it and must check that close too.
 * @param opts      options, or NULL for a full JSONL dump with every payload
 *                  in base64
 * @return 0, or
 *   ES_EINVAL   NULL db/out_file, unknown options version or format, stream
 *               together with stream_prefix, since > until, from > to, an
 *               unvalidated upcast registry;
 *   ES_EIO      writing failed (the message gives the system's reason, e.g.
 *               a closed pipe); ES_ENOSPC the disk is full;
 *   ES_ESCHEMA  an event could not be upcast (the message names it);
 *   ES_ECORRUPT a stored record is damaged; ES_ENOMEM;
 *   a progress callback's non-zero value.
 * On failure the output holds a prefix of the dump with no trailer, which
 * es_dump_verify reports as truncated.
 */
ES_EXTERN int es_dump(es_dump_stats *out, es_db *db, FILE *out_file, const es_dump_options *opts);

/* ---- One event at a time --------------------------------------------- */

/** Encodes events one at a time as the dump does (FORMAT.md "Events"),
 * without the hash chain: for streaming events out (es-tail). Opaque. */
typedef struct es_event_encoder es_event_encoder;

/**
 * Make an encoder.
 * @param descriptor  decodes payloads to JSON, as in es_dump_options; NULL:
 *                    every payload in base64
 * @return 0, ES_EINVAL (NULL out), ES_ENOMEM.
 */
ES_EXTERN int es_event_encoder_new(es_event_encoder **out, es_descriptor_fn descriptor,
                                   void *descriptor_user_data);

/**
 * Encode ev as one JSON object, the members of a dump's event line in its
 * order without prev_hash and hash, and no line feed.
 * @param text  receives the NUL-terminated text, owned by the encoder and
 *              valid until its next call or its free
 * @param len   receives its length (may be NULL)
 * @return 0, ES_EINVAL (NULL argument), ES_ECORRUPT (malformed metadata;
 *   the message names the event), ES_ENOMEM.
 */
ES_EXTERN int es_event_encode(const char **text, size_t *len, es_event_encoder *enc,
                              const es_event *ev);

/** Free an encoder. NULL is a no-op. */
ES_EXTERN void es_event_encoder_free(es_event_encoder *enc);

/** The first thing wrong with a dump file. */
typedef enum es_verify_problem {
	ES_VERIFY_OK = 0,        /**< intact */
	ES_VERIFY_CHANGED,       /**< the line's bytes do not match its hash */
	ES_VERIFY_REMOVED,       /**< one or more lines before this one are missing */
	ES_VERIFY_INSERTED,      /**< the line does not belong to the chain */
	ES_VERIFY_REORDERED,     /**< the line belongs elsewhere in the file */
	ES_VERIFY_TRUNCATED,     /**< the file ends without its trailer (missing trailer) */
	ES_VERIFY_NOT_A_DUMP     /**< no dump header, or a newer format version */
} es_verify_problem;

/** Short text for a problem ("changed", "removed", ...). Static, never NULL. */
ES_EXTERN const char *es_verify_problem_str(es_verify_problem problem);

/** What es_dump_verify found. */
typedef struct es_verify_result {
	es_verify_problem problem;
	uint64_t line;            /**< 1-based line of the problem (0 when intact) */
	uint64_t lines;           /**< lines read */
	uint64_t events;          /**< event records in an intact file */
	es_dump_format format;
	int complete;             /**< 1: the header shows no filter */
	int upcast;               /**< 1: the header shows --upcast */
	char final_hash[ES_HASH_HEX_SIZE]; /**< the trailer's hash, when intact */
	char message[320];        /**< says what is wrong and on which line */
} es_verify_result;

/**
 * Recompute a dump's hash chain from in (JSONL or CSV, told apart by the
 * first line) and report the first line that was changed, removed, inserted
 * or reordered, or a missing trailer. Reads to the end of a good file;
 * memory use does not depend on the file's size.
 *
 * @param out  receives the result; out->message names the line
 * @return 0 for an intact file, or
 *   ES_ECORRUPT  the file was altered or truncated (out says how and where);
 *   ES_EFORMAT   not a dump, or a newer format version;
 *   ES_EIO       reading failed; ES_EINVAL NULL arguments; ES_ENOMEM.
 * The thread's last error repeats out->message.
 */
ES_EXTERN int es_dump_verify(es_verify_result *out, FILE *in);

#define ES_RESTORE_OPTIONS_VERSION 1

/** How a dump is restored. Initialise with ES_RESTORE_OPTIONS_INIT. */
typedef struct es_restore_options {
	unsigned int version;          /**< ES_RESTORE_OPTIONS_VERSION */
	es_descriptor_fn descriptor;   /**< re-encodes decoded data; must know every
	                                    type the dump decoded */
	void *descriptor_user_data;
	size_t batch_events;           /**< events per transaction; 0: the importer's
	                                    default (ES_IMPORT_BATCH) */
} es_restore_options;

#define ES_RESTORE_OPTIONS_INIT { .version = ES_RESTORE_OPTIONS_VERSION }

/**
 * Fill *opts with the defaults of ES_RESTORE_OPTIONS_INIT for the given
 * version (pass ES_RESTORE_OPTIONS_VERSION).
 * @return 0, or ES_EINVAL (opts NULL, or a version this library does not know).
 */
ES_EXTERN int es_restore_options_init(es_restore_options *opts, unsigned int version);

/** What a restore wrote. */
typedef struct es_restore_stats {
	uint64_t events;          /**< events imported */
	uint64_t streams;         /**< stream states restored (deletions, tombstones) */
	es_verify_result verify;  /**< the verification of the file, done first */
} es_restore_stats;

/**
 * Restore a JSONL dump into an empty store: the same streams, versions, ids,
 * recorded_at, metadata, payload bytes and global positions, and the same
 * soft-deleted and tombstoned streams. The whole file is verified first (a
 * pipe is spooled to a temporary file for that), and a broken file is
 * refused before anything is written. Events go through the engine's
 * importer (<evstore/import.h>), in large transactions, each durable unless
 * the store was opened nosync; an interrupted restore leaves a prefix of the
 * history: restore into a fresh directory again. Snapshots are not in
 * dumps: they are rebuilt as aggregates are loaded.
 *
 * The call starts a thread of its own, which reads, verifies and parses
 * the file (from the start, while the calling thread runs the first pass,
 * when the file can be opened again through /proc/self/fd) while the
 * calling thread imports, and the importer starts one that commits; both
 * end before the call returns. The descriptor callback runs on the parsing
 * thread.
 *
 * @param out   counts and the verification result (may be NULL)
 * @param db    an empty store, opened for writing
 * @param in    the dump
 * @param opts  options, or NULL for the defaults; opts->descriptor is needed
 *              for any decoded data
 * @return 0, or
 *   ES_ECORRUPT the file fails verification (out->verify says where), a
 *               line does not parse, or the file changed between the passes
 *               (the message names the line);
 *   ES_EFORMAT  not a JSONL dump, a newer format, a partial (filtered or
 *               upcast) dump, which cannot reproduce the store, or one
 *               holding bytes that are not UTF-8 (see FORMAT.md);
 *   ES_EINVAL   NULL arguments, the store is not empty, bad options;
 *   ES_ESCHEMA  decoded data whose type has no descriptor;
 *   any error of es_import_event() or es_import_finish() (ES_ECONFLICT for
 *               an event out of sequence, ES_EDUPLICATE, ...), prefixed with
 *               the line;
 *   ES_EIO, ES_ENOSPC, ES_ENOMEM.
 */
ES_EXTERN int es_restore(es_restore_stats *out, es_db *db, FILE *in, const es_restore_options *opts);

#ifdef __cplusplus
}
#endif
#endif
