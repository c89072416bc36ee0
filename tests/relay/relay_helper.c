/*
 * relay_helper.c - what the relay tests need besides the tools:
 *   relay_helper list URL STREAM        one line per JetStream message:
 *                                       "<seq> <Evstore-Position> <subject>"
 *   relay_helper publish URL SUBJECT    a foreign (non-evstore) message
 *   relay_helper append-big DB STREAM   one event whose payload is the store's
 *                                       maximum event size
 *   relay_helper append DB N RATE       N 100-byte events in batches of 100
 *                                       (RATE events/s at most; 0: no limit),
 *                                       for relay_bench.sh
 * Exit status 0, or 1 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>
#include <evstore/evstore.h>

static int die(const char *what, natsStatus s)
{
	fprintf(stderr, "relay_helper: %s: %s\n", what, natsStatus_GetText(s));
	return 1;
}

static int list(jsCtx *js, const char *stream)
{
	jsStreamInfo *si = NULL;
	natsStatus s = js_GetStreamInfo(&si, js, stream, NULL, NULL);
	if (s != NATS_OK)
		return die("stream info", s);
	uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	for (uint64_t seq = first; last && seq <= last; seq++) {
		natsMsg *m = NULL;
		const char *pos = "-";
		if ((s = js_GetMsg(&m, js, stream, seq, NULL, NULL)) != NATS_OK)
			return die("get message", s);
		natsMsgHeader_Get(m, "Evstore-Position", &pos);
		printf("%llu %s %s\n", (unsigned long long)seq, pos ? pos : "-", natsMsg_GetSubject(m));
		natsMsg_Destroy(m);
	}
	return 0;
}

static int append_big(const char *path, const char *stream)
{
	es_db *db;
	es_open_options oo = ES_OPEN_OPTIONS_INIT;
	int rc = es_db_open(&db, path, &oo);
	if (rc)
		return fprintf(stderr, "relay_helper: %s\n", es_error_last()->message), 1;
	size_t n = ES_DEFAULT_MAX_EVENT_SIZE;
	char *payload = malloc(n);
	for (size_t i = 0; payload && i < n; i++)
		payload[i] = (char)('a' + i % 26);
	es_metadata md[1] = { { "origin", "relay test: at the maximum event size" } };
	n -= strlen(md[0].key) + strlen(md[0].value); /* the limit counts metadata too */
	es_event_data ev = { .type = "BigThing", .schema_version = 1, .payload = payload, .payload_len = n,
	                     .metadata = md, .metadata_count = 1 };
	es_append_result res;
	/* The largest payload the limit takes with the metadata's encoding. */
	rc = payload ? ES_ETOOBIG : ES_ENOMEM;
	for (int cut = 0; rc == ES_ETOOBIG && cut < 64; cut++) {
		ev.payload_len = n - (size_t)cut;
		rc = es_stream_append(&res, db, stream, ES_ANY, &ev, 1);
	}
	if (rc)
		fprintf(stderr, "relay_helper: %s\n", es_error_last()->message);
	free(payload);
	es_db_close(db);
	return rc ? 1 : 0;
}

static int append_many(const char *path, long n, long rate)
{
	es_db *db;
	es_open_options oo = ES_OPEN_OPTIONS_INIT;
	int rc = es_db_open(&db, path, &oo);
	char payload[100];
	memset(payload, 'x', sizeof payload);
	es_event_data ev[100];
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long done = 0; rc == 0 && done < n; done += 100) {
		char stream[32];
		snprintf(stream, sizeof stream, "bench-%ld", (done / 100) % 1000);
		for (int i = 0; i < 100; i++)
			ev[i] = (es_event_data){ .type = "Bench", .schema_version = 1, .payload = payload,
			                         .payload_len = sizeof payload };
		es_append_result res;
		rc = es_stream_append(&res, db, stream, ES_ANY, ev, 100);
		if (rate > 0) { /* pace: done events by now at most */
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			double due = (double)(done + 100) / (double)rate;
			double spent = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
			if (due > spent) {
				struct timespec ts = { (time_t)(due - spent), (long)((due - spent - (double)(time_t)(due - spent)) * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
	}
	if (rc)
		fprintf(stderr, "relay_helper: %s\n", es_error_last()->message);
	if (db)
		es_db_close(db);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "append") == 0)
		return append_many(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 4 && strcmp(argv[1], "append-big") == 0)
		return append_big(argv[2], argv[3]);
	if (argc != 4 || (strcmp(argv[1], "list") && strcmp(argv[1], "publish"))) {
		fprintf(stderr, "usage: relay_helper list|publish URL STREAM|SUBJECT, append-big DB STREAM\n");
		return 2;
	}
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	natsStatus s = natsConnection_ConnectTo(&nc, argv[2]);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, nc, NULL);
	if (s != NATS_OK)
		return die(argv[2], s);
	int status;
	if (strcmp(argv[1], "list") == 0) {
		status = list(js, argv[3]);
	} else {
		jsPubAck *pa = NULL;
		s = js_Publish(&pa, js, argv[3], "not an event", 12, NULL, NULL);
		jsPubAck_Destroy(pa);
		status = s == NATS_OK ? 0 : die("publish", s);
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return status;
}
