/*
 * evstore/relay.h - the store's global log on NATS JetStream: a relay
 * publishes every matching event to a JetStream stream exactly once, in log
 * order, and a follower builds a read replica of the store from that
 * stream. Library: libevstore-relay (links libnats).
 *
 * A message per event: subject <subject prefix>.<stream name escaped> (every
 * byte outside [A-Za-z0-9_-] as %XX, so a stream name is one subject token),
 * body = the payload bytes, headers:
 *   Nats-Msg-Id              the event id (UUID text)
 *   Evstore-Position         the global position (decimal)
 *   Evstore-Stream           the stream name, escaped as in the subject
 *   Evstore-Version          the stream version
 *   Evstore-Type             the type name, escaped
 *   Evstore-Schema-Version   the type's schema version
 *   Evstore-Recorded-At      ns since the epoch (decimal, exact)
 *   Evstore-Occurred-At      ns, when given
 *   Evstore-Correlation-Id, Evstore-Causation-Id   UUID text, when given
 *   Evstore-Metadata         the event's encoded metadata in hex, when any
 *   Evstore-Relay            the publishing relay's instance id (a fence)
 *   Nats-Expected-Last-Sequence  the JetStream sequence before this message
 *
 * Exactly once, in order (one relay per JetStream stream):
 * - Each message expects the stream's last sequence to be the one before it,
 *   so JetStream stores it only right after its predecessor; a message
 *   whose predecessor was not stored is refused (10071), never reordered.
 * - A relay starts after the evstore position the stream's real last message
 *   carries (not after its own checkpoint), so neither a relay crash nor an
 *   expired duplicate window repeats or skips an event.
 * - Publishes go out in windows of opts.window asynchronous messages. After
 *   a failed publish (a timeout, a leader election) the relay reads the
 *   stream's last message again and resends everything after it, in order;
 *   a duplicate ack (Nats-Msg-Id seen) counts as stored.
 * - A wrong-last-sequence refusal whose cause is not this relay's own
 *   earlier message (the last message carries another Evstore-Relay id)
 *   means another publisher: the relay stops with ES_ECONFLICT.
 * - Only durable events are read (a durable store shows readers durable
 *   commits only), so nothing a power cut can take back is published.
 * - NATS 2.9's file store syncs every 60 s: a coordinated power cut can lose
 *   acknowledged messages. The store stays the source of truth: a relay
 *   that finds the stream behind its checkpoint says so
 *   (es_relay_info.behind_checkpoint) and republishes from the stream's
 *   real last message.
 *
 * Progress: after each acknowledged window the relay saves the checkpoint
 * opts.checkpoint (the last relayed position) and "<checkpoint>.js-seq"
 * (its JetStream sequence; a sequence, not a position: it never exceeds the
 * position for a stream the relay owns) with <evstore/checkpoint.h>.
 *
 * Threads: a relay or follower is used by one thread at a time; libnats
 * runs threads of its own.
 */
#ifndef EVSTORE_RELAY_H
#define EVSTORE_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include <evstore/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A relay publishing one store's log to one JetStream stream. Opaque. */
typedef struct es_relay es_relay;

#define ES_RELAY_OPTIONS_VERSION 1
/** Messages in flight by default. */
#define ES_RELAY_WINDOW 4096

/**
 * What to publish where. Initialise with ES_RELAY_OPTIONS_INIT or
 * es_relay_options_init(). Strings are read during es_relay_open only.
 */
typedef struct es_relay_options {
	unsigned int version;
	const char *nats_urls;               /**< "nats://h:p[,nats://h:p...]"; required */
	const char *js_stream;               /**< the JetStream stream's name; required */
	const char *subject_prefix;          /**< NULL: the JetStream stream's name */
	const char *const *stream_prefixes;  /**< relay streams starting with one of these */
	size_t n_stream_prefixes;
	const char *const *types;            /**< relay events of these types */
	size_t n_types;
	const char *checkpoint;              /**< NULL: "relay:<js_stream>" */
	int create_stream;                   /**< non-zero: create the stream if missing */
	int replicas;                        /**< for create_stream; 0: 1 */
	size_t window;                       /**< messages in flight; 0: ES_RELAY_WINDOW */
	int connect_timeout_ms;              /**< connecting and each request; 0: 5000 */
	/** How long failing publishes (no leader, timeouts) are retried before
	 * es_relay_step gives up with ES_EIO; 0: 30000. */
	int retry_ms;
} es_relay_options;

#define ES_RELAY_OPTIONS_INIT { .version = ES_RELAY_OPTIONS_VERSION }

/** @return 0, or ES_EINVAL (opts NULL, or a version this library does not know). */
ES_EXTERN int es_relay_options_init(es_relay_options *opts, unsigned int version);

/** What a relay found when it opened, and what it has done since. */
typedef struct es_relay_info {
	uint64_t position;          /**< last position the JetStream stream holds (0: none) */
	uint64_t js_seq;            /**< its JetStream sequence (0: empty stream) */
	int created;                /**< es_relay_open created the stream */
	/** The stream was behind the store's checkpoint (lost acknowledged
	 * messages, see above): checkpoint_position is what the checkpoint said. */
	int behind_checkpoint;
	uint64_t checkpoint_position;
	uint64_t published;         /**< messages acknowledged since the open */
	uint64_t resent;            /**< messages published again after a failure */
} es_relay_info;

/**
 * Connect to NATS, find (or create) the JetStream stream, check that its
 * last message is this store's event at the position it names, and set up
 * to publish after it.
 * @param out   receives the relay, freed with es_relay_free
 * @param db    the store, open for writing (checkpoints); must outlive the relay
 * @param opts  required (the URLs and stream name have no defaults)
 * @return 0, or
 *   ES_EINVAL    NULL argument, unknown options version, a missing URL or
 *                stream name, an empty prefix or type, a bad checkpoint name;
 *   ES_EIO       NATS unreachable within connect_timeout_ms (the message
 *                names the URLs and libnats' reason), a JetStream request
 *                failed;
 *   ES_ENOTFOUND no such JetStream stream and create_stream is 0;
 *   ES_ECONFLICT the stream holds a message that is not an event of this
 *                store (foreign, or another store's), was purged, or does
 *                not take subject_prefix.>; the message names it;
 *   ES_EREADONLY, ES_ENOMEM, and the errors of es_subscription_open.
 */
ES_EXTERN int es_relay_open(es_relay **out, es_db *db, const es_relay_options *opts);

/**
 * Publish the matching durable events not yet relayed, one window after the
 * other, waiting up to timeout_ms for the first (0: do not wait, < 0: no
 * limit). Returns once a window is acknowledged and checkpointed (so a
 * caller that stops between calls stops after its in-flight acks).
 * @param published  if not NULL, receives how many messages were stored
 * @return 0 (something was published), or
 *   ES_ETIMEDOUT nothing to publish within timeout_ms (not a failure);
 *   ES_ECONFLICT another publisher wrote to the stream (10071 not caused by
 *                this relay), or its last message is no longer this store's;
 *   ES_ETOOBIG   an event does not fit NATS' max_payload (the message names
 *                the event and both sizes); nothing after it is published;
 *   ES_EIO       publishes kept failing for retry_ms;
 *   the errors of es_subscription_next and es_checkpoint_save.
 */
ES_EXTERN int es_relay_step(uint64_t *published, es_relay *r, int timeout_ms);

/** The relay's counters and what it found at the open. Borrowed, valid
 * until es_relay_free. */
ES_EXTERN const es_relay_info *es_relay_get_info(const es_relay *r);

/** Free a relay (waits for acks in flight, closes the connection). NULL is a no-op. */
ES_EXTERN void es_relay_free(es_relay *r);

/** A relay's progress as its checkpoints in the store say. */
typedef struct es_relay_status {
	uint64_t position;        /**< last relayed position (0: none) */
	uint64_t js_seq;          /**< its JetStream sequence */
	uint64_t log_head;        /**< the store's last position */
	uint64_t lag_events;      /**< log_head - position */
	int64_t oldest_unrelayed; /**< recorded_at of position + 1, ns (0: caught up) */
} es_relay_status;

/**
 * Read a relay's progress from the store, whether a relay runs or not.
 * @param checkpoint  as es_relay_options.checkpoint (NULL: "relay:<js_stream>")
 * @param js_stream   used for the default checkpoint name; may be NULL otherwise
 * @return 0, or ES_ENOTFOUND (no such relay checkpoint), ES_EINVAL (NULL
 *   out or rd, no name), ES_ECORRUPT, ES_EIO.
 */
ES_EXTERN int es_relay_status_get(es_relay_status *out, es_read *rd, const char *checkpoint,
                                  const char *js_stream);

/* ---- the follower ---- */

/** A follower importing a relay's JetStream stream into a replica. Opaque. */
typedef struct es_follow es_follow;

#define ES_FOLLOW_OPTIONS_VERSION 1

typedef struct es_follow_options {
	unsigned int version;
	const char *nats_urls;   /**< required */
	const char *js_stream;   /**< required; an unfiltered relay's stream */
	int connect_timeout_ms;  /**< 0: 5000 */
	size_t batch;            /**< events per import transaction at most; 0: 4096 */
} es_follow_options;

#define ES_FOLLOW_OPTIONS_INIT { .version = ES_FOLLOW_OPTIONS_VERSION }

/** @return 0, or ES_EINVAL (opts NULL, unknown version). */
ES_EXTERN int es_follow_options_init(es_follow_options *opts, unsigned int version);

/** What a follower imported, and how long events took to arrive. */
typedef struct es_follow_stats {
	uint64_t events;         /**< events imported since the open */
	uint64_t position;       /**< the replica's head */
	uint64_t stream_last;    /**< the JetStream stream's last sequence, as last looked up */
	/** Commit on the primary (recorded_at) to committed in the replica, over
	 * the events imported since the open, ns; 0 when none. Both clocks are
	 * assumed to agree (same machine or synchronised). */
	int64_t lag_p50, lag_p99, lag_max;
} es_follow_stats;

/**
 * Connect, and check that the replica's head event is the stream's message
 * at that sequence (sequence i holds position i for an unfiltered relay).
 * @param db  the replica, open for writing; must outlive the follower. Its
 *            head is the follower's checkpoint (imported in the same
 *            transactions as the events).
 * @return 0, or
 *   ES_EINVAL    NULL argument, unknown version, missing URL or stream;
 *   ES_EIO       NATS unreachable within connect_timeout_ms, a request failed;
 *   ES_ENOTFOUND no such JetStream stream;
 *   ES_ECONFLICT the replica has diverged: its event at its head position is
 *                not the stream's (the message names the position and both
 *                ids), or the stream no longer holds it;
 *   ES_EREADONLY, ES_ENOMEM.
 */
ES_EXTERN int es_follow_open(es_follow **out, es_db *db, const es_follow_options *opts);

/**
 * Import what arrives, waiting up to timeout_ms (< 0: no limit) for the
 * first message, then taking whatever is already there, up to opts.batch,
 * committed as import transactions.
 * @return 0 (something was imported), ES_ETIMEDOUT (nothing arrived), or
 *   ES_ECONFLICT a message that does not continue the replica (another
 *                store's, a filtered relay's gap), named by its sequence;
 *   ES_ECORRUPT  a message without evstore's headers, or with bad ones;
 *   ES_EIO, ES_ENOMEM, and the errors of es_import_event/es_import_finish.
 */
ES_EXTERN int es_follow_step(es_follow *f, int timeout_ms);

/**
 * Fill *out; with refresh, look up the stream's last sequence first.
 * @return 0, ES_EINVAL, ES_EIO (the lookup failed).
 */
ES_EXTERN int es_follow_stats_get(es_follow_stats *out, es_follow *f, int refresh);

/** Free a follower. NULL is a no-op. */
ES_EXTERN void es_follow_free(es_follow *f);

#ifdef __cplusplus
}
#endif

#endif
