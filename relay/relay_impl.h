/*
 * relay_impl.h - struct es_relay, shared by relay.c (publishing) and
 * open.c (opening, resuming after the stream's last message).
 */
#ifndef ES_RELAY_IMPL_H
#define ES_RELAY_IMPL_H

#include <pthread.h>

#include "evstore/checkpoint.h"
#include "evstore/subscription.h"
#include "relay_int.h"

#define ES_RELAY__FILTERS_MAX 64

typedef enum { SLOT_PENDING = 0, SLOT_STORED, SLOT_FAILED } es_relay__slot_state;

/* One message in flight; written by libnats' ack thread under mu. */
typedef struct es_relay__slot {
	es_relay__slot_state state;
	uint64_t position;
	uint64_t seq;       /* SLOT_STORED: its JetStream sequence */
	natsStatus status;  /* SLOT_FAILED */
	jsErrCode jerr;
	int foreign_dup;    /* SLOT_FAILED: a duplicate ack for a first send */
} es_relay__slot;

struct es_relay {
	es_db *db;
	es_relay__nats n;
	char *urls, *js_stream, *prefix, *checkpoint, *seq_checkpoint;
	char *filters[2 * ES_RELAY__FILTERS_MAX];
	es_subscription_options so; /* its strings point into filters */
	es_subscription *sub;
	char relay_id[ES_ID_TEXT_SIZE];
	size_t window;
	int timeout_ms, retry_ms;
	int create_replicas;        /* create the stream with these replicas if missing; 0: do not */
	int64_t max_payload;
	uint64_t pos, seq;          /* the stream's last message: position, sequence */
	es_relay_info info;
	pthread_mutex_t mu;         /* guards base, slots, n_slots, resending */
	int resending;              /* this window follows a failure: duplicates are ours */
	uint64_t base;              /* the sequence slot 0 expects before it */
	es_relay__slot *slots;
	size_t n_slots;
	es_relay__slot failed;      /* a copy of the first unstored slot */
};

/* libnats' async publish handler (relay.c): fills the message's slot. */
void es_relay__on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure);

/* Reads the stream's last message, checks it is this store's event (fenced:
 * a 10071 refusal: it must be this relay's own), and reopens the
 * subscription after it. 0, ES_ECONFLICT, ES_EIO, the subscription's errors. */
int es_relay__resume(es_relay *r, int fenced);

#endif
