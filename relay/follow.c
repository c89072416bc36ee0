/*
 * follow.c - es_follow: a read replica built from a relay's JetStream
 * stream. An ordered consumer delivers the stream from the sequence after
 * the replica's head (sequence i holds position i for an unfiltered relay);
 * each message is checked to continue the replica and imported through the
 * library importer, which keeps positions, versions, ids and recorded_at.
 * The replica's head is the follower's only checkpoint: it moves in the
 * same transactions as the events, so a kill -9 repeats and loses nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es_options.h"
#include "relay_int.h"

ES__OPTIONS_INIT_FN(es_follow_options_init, es_follow_options, ES_FOLLOW_OPTIONS_INIT,
                    ES_FOLLOW_OPTIONS_VERSION)

#define DEFAULT_BATCH 4096
#define FOLLOW_RETRY_MS 30000 /* JetStream requests failing (no leader yet) */

struct es_follow {
	es_db *db;
	es_relay__nats n;
	char *urls, *js_stream, *subject;
	natsSubscription *sub;
	size_t batch;
	uint64_t head;         /* the replica's last position */
	uint8_t head_id[16];   /* the id of its event there */
	uint64_t stream_last;
	uint64_t events;
	int64_t *lags, *batch_at; /* lags: every import's; batch_at: this step's recorded_at */
	size_t n_lags, cap_lags;
};

static int oom(void)
{
	return es_error_set(ES_ENOMEM, "follower: out of memory");
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The replica's head and the id of its event there. */
static int replica_head(es_follow *f, uint8_t id[16])
{
	es_read *rd;
	es_iter *it = NULL;
	es_event ev;
	int rc = es_read_begin(&rd, f->db);
	if (rc)
		return rc;
	if ((rc = es_log_head(&f->head, rd)) == 0 && f->head &&
	    (rc = es_log_iter(&it, rd, f->head, ES_FORWARD, 1)) == 0 && (rc = es_iter_next(&ev, it)) == 0)
		memcpy(id, ev.id, 16);
	es_iter_free(it);
	es_read_end(rd);
	return rc;
}

static int stream_info(es_follow *f, uint64_t *first)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, f->n.js, f->js_stream, &f->n.jo, &jerr);
	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
		return es_error_set(ES_ENOTFOUND, "no JetStream stream '%s' at %s", f->js_stream, f->urls);
	if (s != NATS_OK)
		return es_relay__nats_fail(ES_EIO, s, jerr, "JetStream stream '%s': stream info", f->js_stream);
	f->stream_last = si->State.LastSeq;
	if (first)
		*first = si->State.FirstSeq;
	if (!f->subject && si->Config && si->Config->SubjectsLen == 1)
		f->subject = strdup(si->Config->Subjects[0]);
	jsStreamInfo_Destroy(si);
	return 0;
}

static int diverged(es_follow *f, const char *why)
{
	return es_error_set(ES_ECONFLICT, "replica has diverged from JetStream stream '%s' at position "
	                    "%llu: %s (is it a replica of another store?)", f->js_stream,
	                    (unsigned long long)f->head, why);
}

/* The stream's message at the replica's head must be the replica's event. */
static int check_head(es_follow *f, const uint8_t id[16])
{
	uint64_t first = 0, pos;
	uint8_t js_id[16];
	int rc = stream_info(f, &first);
	if (rc || !f->head)
		return rc;
	if (f->head > f->stream_last || f->head < first)
		return diverged(f, "the stream does not hold that sequence");
	natsMsg *m = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetMsg(&m, f->n.js, f->js_stream, f->head, &f->n.jo, &jerr);
	if (s != NATS_OK)
		return es_relay__nats_fail(ES_EIO, s, jerr, "JetStream stream '%s': reading message %llu",
		                           f->js_stream, (unsigned long long)f->head);
	rc = es_relay__msg_identity(&pos, js_id, m, f->head);
	natsMsg_Destroy(m);
	if (rc == 0 && (pos != f->head || memcmp(js_id, id, 16) != 0)) {
		char a[ES_ID_TEXT_SIZE], b[ES_ID_TEXT_SIZE];
		es_id_format(id, a);
		es_id_format(js_id, b);
		char why[200];
		snprintf(why, sizeof why, "the replica holds event %s, the stream's message %llu is %s at "
		         "position %llu", a, (unsigned long long)f->head, b, (unsigned long long)pos);
		rc = diverged(f, why);
	}
	return rc;
}

static int subscribe(es_follow *f)
{
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = f->js_stream;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverByStartSequence;
	so.Config.OptStartSeq = f->head + 1;
	jsErrCode jerr = 0;
	natsStatus s = js_SubscribeSync(&f->sub, f->n.js, f->subject ? f->subject : ">", &f->n.jo, &so, &jerr);
	return s == NATS_OK ? 0 : es_relay__nats_fail(ES_EIO, s, jerr, "JetStream stream '%s': an "
	                                              "ordered consumer from sequence %llu", f->js_stream,
	                                              (unsigned long long)(f->head + 1));
}

static int check_and_subscribe(void *arg)
{
	es_follow *f = arg;
	int rc = check_head(f, f->head_id);
	return rc ? rc : subscribe(f);
}

static int open_follow(es_follow *f, const es_follow_options *o)
{
	uint8_t id[16] = { 0 };
	if (!o->nats_urls || !*o->nats_urls || !o->js_stream || !*o->js_stream)
		return es_error_set(ES_EINVAL, "follower: NATS URLs and a JetStream stream name are required");
	f->urls = strdup(o->nats_urls);
	f->js_stream = strdup(o->js_stream);
	f->batch = o->batch ? o->batch : DEFAULT_BATCH;
	f->batch_at = malloc(f->batch * sizeof *f->batch_at);
	if (!f->urls || !f->js_stream || !f->batch_at)
		return oom();
	int rc = replica_head(f, id);
	if (rc == 0)
		rc = es_relay__nats_open(&f->n, f->urls, o->connect_timeout_ms > 0 ? o->connect_timeout_ms
		                         : ES_RELAY__TIMEOUT_MS, 0, NULL, NULL);
	memcpy(f->head_id, id, 16);
	if (rc == 0)
		rc = es_relay__retry(check_and_subscribe, f, FOLLOW_RETRY_MS);
	return rc;
}

int es_follow_open(es_follow **out, es_db *db, const es_follow_options *opts)
{
	if (!out || !db || !opts)
		return es_error_set(ES_EINVAL, "es_follow_open: out, db and opts are required");
	*out = NULL;
	if (opts->version != ES_FOLLOW_OPTIONS_VERSION)
		return es_error_set(ES_EINVAL, "es_follow_open: unknown options version %u", opts->version);
	es_follow *f = calloc(1, sizeof *f);
	if (!f)
		return oom();
	f->db = db;
	int rc = open_follow(f, opts);
	if (rc) {
		es_follow_free(f);
		return rc;
	}
	*out = f;
	return 0;
}

/* Checks and imports one message. */
static int import_msg(es_follow *f, es_importer *imp, natsMsg *m, size_t i)
{
	jsMsgMetaData *meta = NULL;
	uint64_t seq = 0;
	if (natsMsg_GetMetaData(&meta, m) == NATS_OK)
		seq = meta->Sequence.Stream;
	jsMsgMetaData_Destroy(meta);
	es_relay__decoded d;
	int rc = es_relay__msg_decode(&d, m, seq);
	if (rc == 0 && (seq != f->head + 1 || d.ev.position != f->head + 1))
		rc = es_error_set(ES_ECONFLICT, "JetStream stream '%s': message %llu carries position %llu, "
		                  "the replica's next is %llu (a filtered relay's stream cannot be followed)",
		                  f->js_stream, (unsigned long long)seq, (unsigned long long)d.ev.position,
		                  (unsigned long long)(f->head + 1));
	if (rc == 0)
		rc = es_import_event(imp, &d.ev);
	if (rc == 0) {
		f->head++;
		f->batch_at[i] = d.ev.recorded_at;
	}
	es_relay__decoded_free(&d);
	return rc;
}

static int note_lags(es_follow *f, size_t n)
{
	if (f->n_lags + n > f->cap_lags) {
		size_t cap = (f->cap_lags ? f->cap_lags * 2 : 65536) + n;
		int64_t *l = realloc(f->lags, cap * sizeof *l);
		if (!l)
			return oom();
		f->lags = l;
		f->cap_lags = cap;
	}
	int64_t now = now_ns();
	for (size_t i = 0; i < n; i++)
		f->lags[f->n_lags++] = now - f->batch_at[i];
	f->events += n;
	return 0;
}

static int next_msg(natsMsg **m, es_follow *f, int timeout_ms)
{
	natsStatus s = natsSubscription_NextMsg(m, f->sub, timeout_ms < 0 ? INT32_MAX : timeout_ms > 0 ? timeout_ms : 1);
	if (s == NATS_TIMEOUT)
		return ES_ETIMEDOUT;
	return s == NATS_OK ? 0 : es_relay__nats_fail(ES_EIO, s, 0, "JetStream stream '%s': receiving",
	                                              f->js_stream);
}

int es_follow_step(es_follow *f, int timeout_ms)
{
	if (!f)
		return es_error_set(ES_EINVAL, "es_follow_step: f is required");
	natsMsg *m = NULL;
	int rc = next_msg(&m, f, timeout_ms);
	if (rc)
		return rc;
	es_importer *imp = NULL;
	es_import_options io = ES_IMPORT_OPTIONS_INIT;
	io.batch_events = f->batch;
	size_t n = 0;
	rc = es_import_begin(&imp, f->db, &io);
	while (rc == 0) {
		rc = import_msg(f, imp, m, n++);
		natsMsg_Destroy(m);
		m = NULL;
		int pending = 0, bytes = 0;
		if (rc || n == f->batch || natsSubscription_GetPending(f->sub, &pending, &bytes) != NATS_OK ||
		    pending == 0)
			break;
		rc = next_msg(&m, f, 0);
	}
	natsMsg_Destroy(m);
	if (rc) {
		es_import_free(imp);
		return rc;
	}
	return (rc = es_import_finish(imp, NULL)) ? rc : note_lags(f, n);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int es_follow_stats_get(es_follow_stats *out, es_follow *f, int refresh)
{
	if (!out || !f)
		return es_error_set(ES_EINVAL, "es_follow_stats_get: out and f are required");
	int rc = refresh ? stream_info(f, NULL) : 0;
	memset(out, 0, sizeof *out);
	out->events = f->events;
	out->position = f->head;
	out->stream_last = f->stream_last;
	if (f->n_lags) {
		qsort(f->lags, f->n_lags, sizeof *f->lags, cmp_i64);
		out->lag_p50 = f->lags[f->n_lags / 2];
		out->lag_p99 = f->lags[(f->n_lags * 99) / 100];
		out->lag_max = f->lags[f->n_lags - 1];
	}
	return rc;
}

void es_follow_free(es_follow *f)
{
	if (!f)
		return;
	natsSubscription_Destroy(f->sub);
	es_relay__nats_close(&f->n);
	free(f->urls);
	free(f->js_stream);
	free(f->subject);
	free(f->lags);
	free(f->batch_at);
	free(f);
}
