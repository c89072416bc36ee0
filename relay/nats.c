/*
 * nats.c - the relay module's NATS side: connecting to a cluster (any of
 * its URLs, reconnecting for ever so a node's restart is only a pause),
 * JetStream errors as evstore errors, and a stream's last message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay_int.h"

#define MAX_URLS 16
#define RECONNECT_WAIT_MS 100
#define RETRY_PAUSE_MS 200

int es_relay__nats_fail(int code, natsStatus s, jsErrCode jerr, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	natsStatus last_s;
	const char *detail = nats_GetLastError(&last_s);
	if (!detail || !*detail || last_s != s)
		detail = natsStatus_GetText(s);
	if (jerr)
		return es_error_set(code, "%s: %s (JetStream error %d)", what, detail, (int)jerr);
	return es_error_set(code, "%s: %s", what, detail);
}

/* Splits "a,b,c" into list (pointers into buf). The count, or -1. */
static int split_urls(const char **list, char *buf, size_t size, const char *urls)
{
	if (strlen(urls) >= size)
		return -1;
	strcpy(buf, urls);
	int n = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_URLS)
			return -1;
		list[n++] = tok;
	}
	return n;
}

static natsStatus set_options(natsOptions *o, const char **list, int n, int timeout_ms)
{
	natsStatus s = natsOptions_SetServers(o, list, n);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, timeout_ms);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, 1000000000);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, RECONNECT_WAIT_MS);
	if (s == NATS_OK) /* a dead node's URL is tried again soon */
		s = natsOptions_SetNoRandomize(o, false);
	return s;
}

static int connect_urls(es_relay__nats *n, const char *urls, int timeout_ms)
{
	const char *list[MAX_URLS];
	char buf[4096];
	int count = split_urls(list, buf, sizeof buf, urls);
	if (count <= 0)
		return es_error_set(ES_EINVAL, "NATS URLs '%.200s': give 1 to %d comma-separated URLs",
		                    urls, MAX_URLS);
	natsOptions *o = NULL;
	natsStatus s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = set_options(o, list, count, timeout_ms);
	if (s == NATS_OK)
		s = natsConnection_Connect(&n->nc, o);
	natsOptions_Destroy(o);
	if (s == NATS_OK)
		return 0;
	int code = s == NATS_INVALID_ARG || s == NATS_ADDRESS_MISSING ? ES_EINVAL : ES_EIO;
	return es_relay__nats_fail(code, s, 0, "cannot connect to NATS at %s (waited up to %d ms)", urls,
	                           timeout_ms);
}

int es_relay__nats_open(es_relay__nats *n, const char *urls, int timeout_ms, int64_t max_pending,
                        jsPubAckHandler ack, void *closure)
{
	memset(n, 0, sizeof *n);
	n->urls = urls;
	int rc = connect_urls(n, urls, timeout_ms);
	if (rc)
		return rc;
	jsOptions_Init(&n->jo);
	n->jo.Wait = timeout_ms;
	n->jo.PublishAsync.MaxPending = max_pending;
	n->jo.PublishAsync.AckHandler = ack;
	n->jo.PublishAsync.AckHandlerClosure = closure;
	natsStatus s = natsConnection_JetStream(&n->js, n->nc, &n->jo);
	if (s != NATS_OK) {
		es_relay__nats_close(n);
		return es_relay__nats_fail(ES_EIO, s, 0, "NATS at %s: no JetStream context", urls);
	}
	return 0;
}

void es_relay__nats_close(es_relay__nats *n)
{
	jsCtx_Destroy(n->js);
	natsConnection_Destroy(n->nc);
	n->js = NULL;
	n->nc = NULL;
}

int es_relay__nats_last(natsMsg **out, uint64_t *last_seq, uint64_t *first_seq, es_relay__nats *n,
                        const char *stream)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	*out = NULL;
	natsStatus s = js_GetStreamInfo(&si, n->js, stream, &n->jo, &jerr);
	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
		return es_error_set(ES_ENOTFOUND, "no JetStream stream '%s' at %s", stream, n->urls);
	if (s != NATS_OK)
		return es_relay__nats_fail(ES_EIO, s, jerr, "JetStream stream '%s': stream info", stream);
	uint64_t last = si->State.LastSeq, msgs = si->State.Msgs;
	if (first_seq)
		*first_seq = si->State.FirstSeq;
	jsStreamInfo_Destroy(si);
	*last_seq = last;
	if (last == 0)
		return 0;
	if (msgs == 0)
		return es_error_set(ES_ECONFLICT, "JetStream stream '%s' was purged (last sequence %llu, no "
		                    "messages): delete and recreate it to relay again", stream,
		                    (unsigned long long)last);
	s = js_GetMsg(out, n->js, stream, last, &n->jo, &jerr);
	if (s != NATS_OK)
		return es_relay__nats_fail(ES_EIO, s, jerr, "JetStream stream '%s': reading message %llu",
		                           stream, (unsigned long long)last);
	return 0;
}

int64_t es_relay__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void es_relay__pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int es_relay__retry(int (*fn)(void *arg), void *arg, int retry_ms)
{
	int64_t deadline = es_relay__now_ms() + retry_ms;
	for (;;) {
		int rc = fn(arg);
		if (rc != ES_EIO || es_relay__now_ms() >= deadline)
			return rc;
		es_relay__pause_ms(RETRY_PAUSE_MS);
	}
}
