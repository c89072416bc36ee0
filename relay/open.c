/*
 * open.c - opening a relay: options checked and copied, the JetStream
 * stream found or created (and its subjects checked), and the resume
 * point: the position the stream's real last message carries, after
 * checking that it is this store's event there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_options.h"
#include "relay_impl.h"

static int oom(void)
{
	return es_error_set(ES_ENOMEM, "relay: out of memory");
}

static char *dup_or(const char *s, const char *fallback_fmt, const char *arg)
{
	if (s)
		return strdup(s);
	size_t n = strlen(fallback_fmt) + strlen(arg) + 1;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, fallback_fmt, arg);
	return out;
}

static int copy_filters(es_relay *r, const es_relay_options *o)
{
	if (o->n_stream_prefixes + o->n_types > 2 * ES_RELAY__FILTERS_MAX ||
	    o->n_stream_prefixes > ES_RELAY__FILTERS_MAX || o->n_types > ES_RELAY__FILTERS_MAX)
		return es_error_set(ES_EINVAL, "relay: at most %d stream prefixes and %d types",
		                    ES_RELAY__FILTERS_MAX, ES_RELAY__FILTERS_MAX);
	if ((o->n_stream_prefixes && !o->stream_prefixes) || (o->n_types && !o->types))
		return es_error_set(ES_EINVAL, "relay: a filter count without its array");
	size_t k = 0;
	for (size_t i = 0; i < o->n_stream_prefixes; i++)
		if (!o->stream_prefixes[i] || !(r->filters[k++] = strdup(o->stream_prefixes[i])))
			return o->stream_prefixes[i] ? oom() : es_error_set(ES_EINVAL, "relay: a NULL prefix");
	for (size_t i = 0; i < o->n_types; i++)
		if (!o->types[i] || !(r->filters[k++] = strdup(o->types[i])))
			return o->types[i] ? oom() : es_error_set(ES_EINVAL, "relay: a NULL type");
	r->so.stream_prefixes = (const char *const *)r->filters;
	r->so.n_stream_prefixes = o->n_stream_prefixes;
	r->so.types = (const char *const *)r->filters + o->n_stream_prefixes;
	r->so.n_types = o->n_types;
	return 0;
}

static int copy_options(es_relay *r, const es_relay_options *o)
{
	if (!o->nats_urls || !*o->nats_urls)
		return es_error_set(ES_EINVAL, "relay: NATS URLs are required");
	if (!o->js_stream || !*o->js_stream || strpbrk(o->js_stream, " .*>\t\r\n"))
		return es_error_set(ES_EINVAL, "relay: a JetStream stream name without spaces, '.', '*' "
		                    "or '>' is required");
	if (o->subject_prefix && (!*o->subject_prefix || strpbrk(o->subject_prefix, " *>\t\r\n")))
		return es_error_set(ES_EINVAL, "relay: subject prefix '%s' is not a literal subject",
		                    o->subject_prefix);
	r->urls = strdup(o->nats_urls);
	r->js_stream = strdup(o->js_stream);
	r->prefix = dup_or(o->subject_prefix, "%s", o->js_stream);
	r->checkpoint = dup_or(o->checkpoint, "relay:%s", o->js_stream);
	if (!r->urls || !r->js_stream || !r->prefix || !r->checkpoint)
		return oom();
	if (!*r->checkpoint || strlen(r->checkpoint) + 7 > ES_CHECKPOINT_NAME_MAX)
		return es_error_set(ES_EINVAL, "relay: checkpoint name '%.40s' is empty or too long",
		                    r->checkpoint);
	if (!(r->seq_checkpoint = dup_or(NULL, "%s.js-seq", r->checkpoint)))
		return oom();
	r->window = o->window ? o->window : ES_RELAY_WINDOW;
	r->timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : ES_RELAY__TIMEOUT_MS;
	r->retry_ms = o->retry_ms > 0 ? o->retry_ms : 30000;
	r->slots = calloc(r->window, sizeof *r->slots);
	return r->slots ? copy_filters(r, o) : oom();
}

static int create_stream(es_relay *r, int replicas)
{
	char subject[ES_RELAY__SUBJECT_MAX];
	snprintf(subject, sizeof subject, "%s.>", r->prefix);
	const char *subjects[1] = { subject };
	jsStreamConfig cfg;
	jsStreamConfig_Init(&cfg);
	cfg.Name = r->js_stream;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	cfg.Replicas = replicas > 0 ? replicas : 1;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_AddStream(&si, r->n.js, &cfg, &r->n.jo, &jerr);
	jsStreamInfo_Destroy(si);
	if (s != NATS_OK)
		return es_relay__nats_fail(ES_EIO, s, jerr, "creating JetStream stream '%s' (%d replicas, "
		                           "subjects %s)", r->js_stream, (int)cfg.Replicas, subject);
	r->info.created = 1;
	return 0;
}

/* The stream must take prefix.> (or a wider wildcard covering it). */
static int check_subjects(es_relay *r)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, r->n.js, r->js_stream, &r->n.jo, &jerr);
	if (s != NATS_OK)
		return es_relay__nats_fail(ES_EIO, s, jerr, "JetStream stream '%s': stream info", r->js_stream);
	char want[ES_RELAY__SUBJECT_MAX];
	snprintf(want, sizeof want, "%s.>", r->prefix);
	int ok = 0;
	for (int i = 0; si->Config && i < si->Config->SubjectsLen; i++)
		ok |= strcmp(si->Config->Subjects[i], want) == 0 || strcmp(si->Config->Subjects[i], ">") == 0;
	jsStreamInfo_Destroy(si);
	return ok ? 0 : es_error_set(ES_ECONFLICT, "JetStream stream '%s' does not take subjects %s "
	                             "(give --subject-prefix, or create it with those subjects)",
	                             r->js_stream, want);
}

/* 0 when the store's event at position has id; ES_ECONFLICT otherwise. */
static int check_store_event(es_relay *r, uint64_t position, const uint8_t id[16], uint64_t seq)
{
	es_read *rd;
	es_iter *it = NULL;
	es_event ev;
	int rc = es_read_begin(&rd, r->db);
	if (rc)
		return rc;
	rc = es_log_iter(&it, rd, position, ES_FORWARD, 1);
	if (rc == 0)
		rc = es_iter_next(&ev, it);
	int same = rc == 0 && ev.position == position && memcmp(ev.id, id, 16) == 0;
	char have[ES_ID_TEXT_SIZE] = "none", want[ES_ID_TEXT_SIZE];
	if (rc == 0 && ev.position == position)
		es_id_format(ev.id, have);
	es_iter_free(it);
	es_read_end(rd);
	if (same)
		return 0;
	if (rc && rc != ES_ITEROVER && rc != ES_ENOTFOUND && rc != ES_EINVAL)
		return rc;
	es_id_format(id, want);
	return es_error_set(ES_ECONFLICT, "JetStream stream '%s' holds another store's events: its "
	                    "message %llu is event %s at position %llu, this store has %s there",
	                    r->js_stream, (unsigned long long)seq, want, (unsigned long long)position, have);
}

static int reopen_subscription(es_relay *r)
{
	es_subscription_free(r->sub);
	r->sub = NULL;
	r->so.start = r->pos ? ES_SUBSCRIPTION_AFTER : ES_SUBSCRIPTION_FROM_START;
	r->so.after = r->pos;
	return es_subscription_open(&r->sub, r->db, &r->so);
}

int es_relay__resume(es_relay *r, int fenced)
{
	natsMsg *last = NULL;
	uint64_t seq = 0, pos = 0;
	uint8_t id[16];
	int rc = es_relay__nats_last(&last, &seq, NULL, &r->n, r->js_stream);
	if (rc == 0 && last && (rc = es_relay__msg_identity(&pos, id, last, seq)) == ES_ECORRUPT)
		rc = es_error_set(ES_ECONFLICT, "JetStream stream '%s' holds a message that is not an "
		                  "evstore event (sequence %llu): a relay publishes only to a stream of its own",
		                  r->js_stream, (unsigned long long)seq);
	if (rc == 0 && last && fenced) {
		const char *by = es_relay__msg_header(last, "Evstore-Relay");
		if (!by || strcmp(by, r->relay_id) != 0)
			rc = es_error_set(ES_ECONFLICT, "JetStream stream '%s': wrong last sequence (10071): "
			                  "another relay (%s) publishes to it; one relay per JetStream stream",
			                  r->js_stream, by ? by : "unknown");
	}
	if (rc == 0 && last)
		rc = check_store_event(r, pos, id, seq);
	natsMsg_Destroy(last);
	if (rc)
		return rc;
	r->pos = pos;
	r->seq = seq;
	return reopen_subscription(r);
}

/* The stream found (or created), its subjects checked, and the resume point. */
static int find_stream(void *arg)
{
	es_relay *r = arg;
	natsMsg *probe = NULL;
	uint64_t seq;
	int rc = es_relay__nats_last(&probe, &seq, NULL, &r->n, r->js_stream);
	natsMsg_Destroy(probe);
	if (rc == ES_ENOTFOUND && r->create_replicas)
		rc = create_stream(r, r->create_replicas);
	if (rc == 0)
		rc = check_subjects(r);
	return rc ? rc : es_relay__resume(r, 0);
}

static int open_relay(es_relay *r, const es_relay_options *o)
{
	uint8_t id[16];
	int rc = copy_options(r, o);
	if (rc)
		return rc;
	if ((rc = es_id_new(id)))
		return rc;
	es_id_format(id, r->relay_id);
	if ((rc = es_relay__nats_open(&r->n, r->urls, r->timeout_ms, (int64_t)r->window, es_relay__on_ack, r)))
		return rc;
	r->max_payload = natsConnection_GetMaxPayload(r->n.nc);
	r->create_replicas = o->create_stream ? (o->replicas > 0 ? o->replicas : 1) : 0;
	rc = es_relay__retry(find_stream, r, r->retry_ms);
	r->info.position = r->pos;
	r->info.js_seq = r->seq;
	return rc;
}

int es_relay_open(es_relay **out, es_db *db, const es_relay_options *opts)
{
	if (!out || !db || !opts)
		return es_error_set(ES_EINVAL, "es_relay_open: out, db and opts are required");
	*out = NULL;
	if (opts->version != ES_RELAY_OPTIONS_VERSION)
		return es_error_set(ES_EINVAL, "es_relay_open: unknown options version %u", opts->version);
	es_relay *r = calloc(1, sizeof *r);
	if (!r)
		return oom();
	r->db = db;
	pthread_mutex_init(&r->mu, NULL);
	es_subscription_options so = ES_SUBSCRIPTION_OPTIONS_INIT;
	r->so = so;
	int rc = open_relay(r, opts);
	if (rc) {
		es_relay_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void es_relay_free(es_relay *r)
{
	if (!r)
		return;
	if (r->n.js) {
		jsPubOptions po;
		jsPubOptions_Init(&po);
		po.MaxWait = r->timeout_ms;
		js_PublishAsyncComplete(r->n.js, &po);
	}
	es_relay__nats_close(&r->n);
	es_subscription_free(r->sub);
	for (size_t i = 0; i < 2 * ES_RELAY__FILTERS_MAX; i++)
		free(r->filters[i]);
	free(r->urls);
	free(r->js_stream);
	free(r->prefix);
	free(r->checkpoint);
	free(r->seq_checkpoint);
	free(r->slots);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
