/*
 * bench_evstore_w6.c - evstore's W6: catch-up through a subscription
 * (unfiltered, and with a 10% type filter) against a plain log scan, and
 * the wake-up delay of a waiting subscriber.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <evstore/evstore.h>

#include "bench.h"

#define NAME "evstore"
#define BUILD_BATCH 1000

static int es_fail(const char *what)
{
	return bench_fail(NAME, "W6: %s: %s", what, es_error_last()->message);
}

static const char payload[64] = "a W6 event, the same bytes every time, sixty-four bytes long";

static int build(es_db *db, const bench_w6 *w)
{
	char name[BENCH_NAME_SIZE];
	static es_event_data evs[BUILD_BATCH]; /* a batch borrows them until its commit */
	for (size_t i = 0; i < w->events; i += BUILD_BATCH) {
		es_batch *b;
		if (es_batch_new(&b, db))
			return es_fail("es_batch_new");
		for (size_t j = i; j < i + BUILD_BATCH && j < w->events; j++) {
			es_event_data *ev = &evs[j - i];
			*ev = (es_event_data){ .type = bench_w6_type(j), .schema_version = 1,
			                       .payload = payload, .payload_len = sizeof payload };
			snprintf(name, sizeof name, "w6-%04zu", j % BENCH_W6_STREAMS);
			if (es_batch_append(b, name, ES_ANY, ev, 1)) {
				es_batch_free(b);
				return es_fail("es_batch_append");
			}
		}
		if (es_batch_commit(b, NULL))
			return es_fail("es_batch_commit");
	}
	return es_db_sync(db) ? es_fail("es_db_sync") : 0;
}

static int scan(double *rate, es_db *db, size_t n)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	size_t seen = 0;
	int64_t t0 = bench_mono_ns();
	if (es_read_begin(&rd, db) || es_log_iter(&it, rd, 1, ES_FORWARD, ES_NO_LIMIT))
		return es_fail("es_log_iter");
	while (es_iter_next(&ev, it) == 0)
		seen += ev.payload_len > 0;
	es_iter_free(it);
	es_read_end(rd);
	*rate = (double)n / ((double)(bench_mono_ns() - t0) / 1e9);
	return seen == n ? 0 : bench_fail(NAME, "W6 scan saw %zu of %zu events", seen, n);
}

/* Catches up from the start (type NULL: everything) until caught up. */
static int catch_up(double *rate, es_db *db, const char *type, size_t n)
{
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.types = &type;
	o.n_types = type ? 1 : 0;
	es_subscription *sub;
	es_subscription_item item;
	size_t seen = 0, want = type ? n / 10 : n;
	int64_t t0 = bench_mono_ns();
	if (es_subscription_open(&sub, db, &o))
		return es_fail("es_subscription_open");
	int rc;
	while ((rc = es_subscription_next(&item, sub, 0)) == 0 && item.kind != ES_SUBSCRIPTION_CAUGHT_UP)
		seen += item.kind == ES_SUBSCRIPTION_EVENT && item.event.payload_len > 0;
	es_subscription_free(sub);
	*rate = (double)n / ((double)(bench_mono_ns() - t0) / 1e9);
	if (rc)
		return es_fail("es_subscription_next");
	return seen == want ? 0 : bench_fail(NAME, "W6 catch-up saw %zu of %zu events", seen, want);
}

static int wake_append(void *ctx, size_t i)
{
	es_event_data ev = { .type = "Woken", .schema_version = 1, .payload = payload,
	                     .payload_len = sizeof payload };
	(void)i;
	return es_stream_append(NULL, ctx, "wake", ES_ANY, &ev, 1) ? es_fail("append") : 0;
}

static int listen_on(es_db *db, _Atomic int *ready, int64_t *delivered, size_t n)
{
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.start = ES_SUBSCRIPTION_FROM_END;
	es_subscription *sub;
	es_subscription_item item;
	if (es_subscription_open(&sub, db, &o))
		return es_fail("es_subscription_open");
	int rc = es_subscription_next(&item, sub, 10000); /* caught up at the end */
	atomic_store(ready, 1);
	for (size_t k = 0; rc == 0 && k < n;)
		if ((rc = es_subscription_next(&item, sub, 10000)) == 0 && item.kind == ES_SUBSCRIPTION_EVENT)
			delivered[k++] = bench_mono_ns();
	es_subscription_free(sub);
	return rc ? es_fail("es_subscription_next") : 0;
}

static int wake_listen(void *ctx, const char *dir, _Atomic int *ready, int64_t *delivered, size_t n)
{
	es_db *db = ctx;
	if (!db && es_db_open(&db, dir, NULL))
		return es_fail("opening the store");
	int rc = listen_on(db, ready, delivered, n);
	if (!ctx)
		es_db_close(db);
	return rc;
}

int bench_evstore_subscribe(bench_figs *out, const bench_w6 *w, const char *dir)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = 1; /* the build is not timed */
	es_db *db;
	double scan_rate = 0, all_rate = 0, rare_rate = 0;
	if (es_db_open(&db, dir, &o))
		return es_fail("opening the store");
	int rc = build(db, w);
	es_db_close(db);
	if (rc || es_db_open(&db, dir, NULL))
		return rc ? rc : es_fail("opening the store");
	/* The first scan warms the page cache for all three timed passes. */
	if ((rc = scan(&scan_rate, db, w->events)) == 0 && (rc = scan(&scan_rate, db, w->events)) == 0 &&
	    (rc = catch_up(&all_rate, db, NULL, w->events)) == 0)
		rc = catch_up(&rare_rate, db, BENCH_W6_RARE, w->events);
	if (rc == 0) {
		bench_figs_set(out, "scan_events_per_s", scan_rate);
		bench_figs_set(out, "events_per_s", all_rate);
		bench_figs_set(out, "rare_events_per_s", rare_rate);
		bench_wake_ops ops = { NAME, dir, db, 1, wake_append, wake_listen };
		rc = bench_wake_drive(out, &ops, w->wakeups);
	}
	es_db_close(db);
	return rc;
}
