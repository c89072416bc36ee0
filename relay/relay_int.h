/*
 * relay_int.h - the relay module's private interface: a NATS/JetStream
 * connection (nats.c) and the event <-> message codec (codec.c), shared by
 * the relay (relay.c, status.c) and the follower (follow.c).
 */
#ifndef ES_RELAY_INT_H
#define ES_RELAY_INT_H

#include <nats/nats.h>

#include "evstore/relay.h"
#include "evstore/import.h"

#define ES_RELAY__TIMEOUT_MS 5000

/* ---- nats.c ---- */

typedef struct es_relay__nats {
	natsConnection *nc;
	jsCtx *js;
	jsOptions jo;
	const char *urls; /* borrowed from the caller's options, for messages */
} es_relay__nats;

/* Connects to the comma-separated urls (failing after timeout_ms) and opens
 * a JetStream context; ack/closure: the async publish handler (may be NULL).
 * 0, ES_EINVAL (a bad URL list), ES_EIO naming the URLs and the reason. */
int es_relay__nats_open(es_relay__nats *n, const char *urls, int timeout_ms, int64_t max_pending,
                        jsPubAckHandler ack, void *closure);
void es_relay__nats_close(es_relay__nats *n);
/* Sets and returns an evstore error for a libnats failure: code (ES_EIO
 * unless the caller knows better), the caller's text, libnats' reason and
 * the JetStream error code when there is one. */
int es_relay__nats_fail(int code, natsStatus s, jsErrCode jerr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The stream's last message (NULL in *out for an empty stream) and last
 * sequence. ES_ENOTFOUND (no such stream), ES_ECONFLICT (purged: no
 * messages but a last sequence), ES_EIO. first_seq may be NULL. */
int es_relay__nats_last(natsMsg **out, uint64_t *last_seq, uint64_t *first_seq, es_relay__nats *n,
                        const char *stream);

/* Runs fn until it returns anything but ES_EIO (a JetStream request that
 * failed: no leader yet, a node restarting) or for retry_ms, pausing
 * between tries. fn's last result. */
int es_relay__retry(int (*fn)(void *arg), void *arg, int retry_ms);
void es_relay__pause_ms(int ms);
int64_t es_relay__now_ms(void);

/* ---- codec.c ---- */

#define ES_RELAY__SUBJECT_MAX (3 * ES_STREAM_NAME_MAX + 256)

/* prefix + "." + the escaped stream name into out (ES_RELAY__SUBJECT_MAX). */
void es_relay__subject(char *out, const char *prefix, const char *stream);
/* A message for ev, expecting JetStream's last sequence to be expect.
 * 0, ES_ENOMEM, ES_EIO. */
int es_relay__msg_new(natsMsg **out, const char *prefix, const es_event *ev, uint64_t expect,
                      const char *relay_id);
/* The evstore position and event id a message carries; ES_ECORRUPT naming
 * seq when it is not an evstore event message. */
int es_relay__msg_identity(uint64_t *position, uint8_t id[16], natsMsg *m, uint64_t seq);
/* A header's value, or NULL. */
const char *es_relay__msg_header(natsMsg *m, const char *key);

/* A message decoded for the importer; its strings are owned by it. */
typedef struct es_relay__decoded {
	es_imported_event ev;
	char *stream, *type;
	es_metadata *meta;
	char *meta_buf;
	size_t n_meta;
} es_relay__decoded;

/* 0, ES_ECORRUPT naming seq and the header, ES_ENOMEM. Free with
 * es_relay__decoded_free, also after a failure. */
int es_relay__msg_decode(es_relay__decoded *d, natsMsg *m, uint64_t seq);
void es_relay__decoded_free(es_relay__decoded *d);

#endif
