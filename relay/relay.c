/*
 * relay.c - es_relay: the store's log published to a JetStream stream
 * exactly once (the design is in evstore/relay.h). A step reads a window of
 * events from a subscription, publishes them asynchronously, each expecting
 * the sequence before it, and waits for every ack. After a failure the
 * stream's real last message says what is stored; the subscription is
 * reopened after it, so everything later is sent again, in order.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "es_options.h"
#include "relay_impl.h"

#define RETRY_PAUSE_MS 200

ES__OPTIONS_INIT_FN(es_relay_options_init, es_relay_options, ES_RELAY_OPTIONS_INIT,
                    ES_RELAY_OPTIONS_VERSION)

/* libnats' thread: one ack or failure. The message says which slot it is
 * by the sequence it expected. */
void es_relay__on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	(void)js;
	es_relay *r = closure;
	const char *expect = es_relay__msg_header(msg, "Nats-Expected-Last-Sequence");
	uint64_t e = expect ? strtoull(expect, NULL, 10) : 0;
	pthread_mutex_lock(&r->mu);
	if (expect && e >= r->base && e - r->base < r->n_slots) {
		es_relay__slot *s = &r->slots[e - r->base];
		if (pa && pa->Duplicate && !r->resending) {
			/* Stored before this relay first sent it: by another publisher. */
			s->state = SLOT_FAILED;
			s->status = NATS_OK;
			s->jerr = 0;
			s->foreign_dup = 1;
			s->seq = pa->Sequence;
		} else if (pa) {
			s->state = SLOT_STORED;
			s->seq = pa->Sequence;
		} else {
			s->state = SLOT_FAILED;
			s->status = pae ? pae->Err : NATS_ERR;
			s->jerr = pae ? pae->ErrCode : 0;
		}
	}
	pthread_mutex_unlock(&r->mu);
	natsMsg_Destroy(msg);
}

/* ---- one window ---- */

static void window_reset(es_relay *r, uint64_t base, int resending)
{
	pthread_mutex_lock(&r->mu);
	r->base = base;
	r->n_slots = 0;
	r->resending = resending;
	pthread_mutex_unlock(&r->mu);
}

/* Publishes msg for event ev as the window's next slot (msg is consumed). */
static int publish(es_relay *r, natsMsg *msg, const es_event *ev)
{
	pthread_mutex_lock(&r->mu);
	es_relay__slot *s = &r->slots[r->n_slots++];
	s->state = SLOT_PENDING;
	s->foreign_dup = 0;
	s->position = ev->position;
	pthread_mutex_unlock(&r->mu);
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MaxWait = r->timeout_ms;
	natsStatus st = js_PublishMsgAsync(r->n.js, &msg, &po);
	natsMsg_Destroy(msg); /* NULL once libnats took it */
	if (st == NATS_OK)
		return 0;
	pthread_mutex_lock(&r->mu);
	s->state = SLOT_FAILED;
	s->status = st;
	pthread_mutex_unlock(&r->mu);
	if (st == NATS_MAX_PAYLOAD)
		return es_error_set(ES_ETOOBIG, "relay: event %s@%lld (position %llu, %zu bytes of payload) "
		                    "does not fit NATS' max_payload of %lld bytes (raise max_payload in the "
		                    "server configuration)", ev->stream, (long long)ev->version,
		                    (unsigned long long)ev->position, ev->payload_len,
		                    (long long)r->max_payload);
	return 0; /* a failed slot: handled with the window's acks */
}

/* Reads events into the window and publishes them. 0 with *n, ES_ETIMEDOUT,
 * or an error (the window published so far stays in flight). */
static int fill(size_t *n, es_relay *r, int timeout_ms)
{
	int rc = 0;
	while (rc == 0 && r->n_slots < r->window) {
		es_subscription_item it;
		rc = es_subscription_next(&it, r->sub, r->n_slots ? 0 : timeout_ms);
		if (rc || (it.kind == ES_SUBSCRIPTION_CAUGHT_UP && r->n_slots))
			break;
		if (it.kind != ES_SUBSCRIPTION_EVENT)
			continue;
		natsMsg *msg;
		if ((rc = es_relay__msg_new(&msg, r->prefix, &it.event, r->base + r->n_slots, r->relay_id)) == 0)
			rc = publish(r, msg, &it.event);
	}
	*n = r->n_slots;
	if (rc == ES_ETIMEDOUT)
		rc = 0;
	return rc == 0 && *n == 0 ? ES_ETIMEDOUT : rc;
}

/* Waits for the window's acks; a timeout leaves the rest failed. */
static void wait_acks(es_relay *r)
{
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MaxWait = r->timeout_ms + 1000;
	if (js_PublishAsyncComplete(r->n.js, &po) != NATS_OK) {
		natsMsgList pending = { 0 };
		if (js_PublishAsyncGetPendingList(&pending, r->n.js) == NATS_OK)
			natsMsgList_Destroy(&pending);
	}
}

/* The window's stored prefix: how many slots, and the last one's state
 * moved into r->pos/r->seq. Returns the first unstored slot or NULL. */
static es_relay__slot *take_stored(es_relay *r, size_t *stored)
{
	es_relay__slot *failed = NULL;
	pthread_mutex_lock(&r->mu);
	size_t i = 0;
	for (; i < r->n_slots && r->slots[i].state == SLOT_STORED; i++) {
		r->pos = r->slots[i].position;
		r->seq = r->slots[i].seq;
	}
	if (i < r->n_slots) {
		r->failed = r->slots[i];
		failed = &r->failed;
	}
	r->n_slots = 0; /* late acks find no slot */
	pthread_mutex_unlock(&r->mu);
	*stored = i;
	return failed;
}

typedef struct resume_req {
	es_relay *r;
	int fenced;
} resume_req;

static int resume_once(void *arg)
{
	resume_req *q = arg;
	return es_relay__resume(q->r, q->fenced);
}

/* After a failure: the stream's last message again, checked, and the
 * subscription reopened after it. A 10071 refusal must be this relay's own. */
static int recover(es_relay *r, const es_relay__slot *f, int64_t deadline)
{
	resume_req q = { r, f->jerr == JSStreamWrongLastSequenceErr };
	int64_t left = deadline - es_relay__now_ms();
	return es_relay__retry(resume_once, &q, left > 0 ? (int)left : 0);
}

static int save_progress(es_relay *r)
{
	int rc = es_checkpoint_save(r->db, r->checkpoint, r->pos);
	if (rc == ES_ECONFLICT) { /* the stream lost acked messages: it is the truth */
		r->info.behind_checkpoint = 1;
		rc = es_checkpoint_reset(r->db, r->checkpoint, r->pos);
	}
	return rc ? rc : es_checkpoint_reset(r->db, r->seq_checkpoint, r->seq);
}

static int publish_window(uint64_t *published, es_relay *r, int timeout_ms)
{
	int64_t deadline = es_relay__now_ms() + r->retry_ms;
	for (int resending = 0;; resending = 1) {
		size_t n = 0, stored;
		window_reset(r, r->seq, resending);
		int rc = fill(&n, r, timeout_ms);
		es_subscription_release(r->sub);
		if (n)
			wait_acks(r);
		es_relay__slot *failed = take_stored(r, &stored);
		*published += stored;
		r->info.published += stored;
		if (stored) {
			int saved = save_progress(r);
			rc = rc ? rc : saved;
		}
		if (rc || !failed)
			return rc;
		if (failed->foreign_dup)
			return es_error_set(ES_ECONFLICT, "JetStream stream '%s': another relay publishes to it "
			                    "(position %llu was stored at sequence %llu before this relay sent it; "
			                    "refused as a wrong last sequence, 10071, would be): one relay per "
			                    "JetStream stream", r->js_stream, (unsigned long long)failed->position,
			                    (unsigned long long)failed->seq);
		r->info.resent += n - stored;
		if (es_relay__now_ms() >= deadline)
			return es_relay__nats_fail(ES_EIO, failed->status, failed->jerr, "relay: publishing "
			                           "position %llu to JetStream stream '%s' kept failing for %d ms",
			                           (unsigned long long)failed->position, r->js_stream, r->retry_ms);
		if (failed->jerr != JSStreamWrongLastSequenceErr)
			es_relay__pause_ms(RETRY_PAUSE_MS);
		if ((rc = recover(r, failed, deadline)))
			return rc;
		timeout_ms = 0;
	}
}

int es_relay_step(uint64_t *published, es_relay *r, int timeout_ms)
{
	uint64_t count = 0;
	if (!r)
		return es_error_set(ES_EINVAL, "es_relay_step: r is required");
	int rc = publish_window(&count, r, timeout_ms);
	if (published)
		*published = count;
	r->info.position = r->pos;
	r->info.js_seq = r->seq;
	return rc == ES_ETIMEDOUT && count ? 0 : rc;
}

const es_relay_info *es_relay_get_info(const es_relay *r)
{
	return r ? &r->info : NULL;
}
