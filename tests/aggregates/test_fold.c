/*
 * test_fold.c - aggregate loads (fold.c): latest, at a version, as of a time;
 * what the load info reports; snapshot selection, passing over snapshots
 * built under another schema or fingerprint or that are corrupt, and their
 * rewrite; a property test of as-of loads against a naive fold.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "counter.h"
#include "aggregates_tcases.h"
#include "db.h" /* es__snapshot_put, es__snapshot_get_le: raw snapshot bytes */

#define S "counter-a"

/* Adds amounts one command each, so each is its own commit. */
static void add_each(const es_aggregate_type *t, const char *stream, int64_t first, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t v = first + (int64_t)i;
		ct_now += 1000;
		counter_add(ct_db, t, stream, &v, 1);
	}
}

/* recorded_at of one event. */
static int64_t recorded_at(const char *stream, int64_t version)
{
	es_read *rd;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, ct_db), 0);
	ck_assert_es(es_stream_get(&ev, rd, stream, version), 0);
	int64_t at = ev.recorded_at;
	es_read_end(rd);
	return at;
}

/* The naive state at max_version. */
static counter naive_at(const es_aggregate_type *t, const char *stream, int64_t max_version)
{
	counter c;
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, ct_db), 0);
	counter_naive(&c, rd, t, stream, INT64_MAX, max_version);
	es_read_end(rd);
	return c;
}

static void assert_msg_has(const char *text)
{
	ck_assert_msg(strstr(es_error_last()->message, text) != NULL, "message '%s' lacks '%s'",
	              es_error_last()->message, text);
}

START_TEST(load_unknown_stream)
{
	es_aggregate_type t = counter_type(5, 1);
	counter c;
	es_load_info info;
	ck_assert_es(es_aggregate_load(&c, &info, ct_db, &t, "counter-nobody"), ES_ENOTFOUND);
	assert_msg_has("counter-nobody");
	ck_assert_es(es_aggregate_load_at_version(&c, &info, ct_db, &t, "counter-nobody", 0), ES_ENOTFOUND);
	ck_assert_es(es_aggregate_load_as_of(&c, &info, ct_db, &t, "counter-nobody", INT64_MAX), ES_ENOTFOUND);
}
END_TEST

START_TEST(load_without_snapshots)
{
	es_aggregate_type t = counter_type(UINT32_MAX, 1);
	int64_t v[7] = { 5, -3, 8, 0, 1, 100, -50 };
	counter_add(ct_db, &t, S, v, 7);
	counter c;
	es_load_info info;
	ck_assert_es(es_aggregate_load(&c, &info, ct_db, &t, S), 0);
	ck_assert_int_eq(c.sum, 61);
	ck_assert_int_eq(c.count, 7);
	counter want = naive_at(&t, S, INT64_MAX);
	counter_assert_eq(&c, &want, "latest");
	ck_assert_int_eq(info.version, 6);
	ck_assert_int_eq(info.recorded_at, recorded_at(S, 6));
	ck_assert_int_eq(info.snapshot_version, -1);
	ck_assert_uint_eq(info.events_folded, 7);
	ck_assert_uint_eq(info.snapshots_skipped, 0);
	ck_assert_int_eq(info.snapshot_rewritten, 0);
	ck_assert_str_eq(counter_snapshots(ct_db, S), "");
}
END_TEST

START_TEST(load_at_each_version)
{
	es_aggregate_type t = counter_type(3, 1);
	add_each(&t, S, 1, 10);
	ck_assert_str_eq(counter_snapshots(ct_db, S), "2,5,8");
	for (int64_t v = 0; v < 10; v++) {
		counter c;
		es_load_info info;
		ck_assert_es(es_aggregate_load_at_version(&c, &info, ct_db, &t, S, v), 0);
		counter want = naive_at(&t, S, v);
		counter_assert_eq(&c, &want, "at version");
		int64_t snap = v >= 8 ? 8 : v >= 5 ? 5 : v >= 2 ? 2 : -1;
		ck_assert_int_eq(info.version, v);
		ck_assert_int_eq(info.recorded_at, recorded_at(S, v));
		ck_assert_int_eq(info.snapshot_version, snap);
		ck_assert_uint_eq(info.events_folded, (uint64_t)(v - snap));
		ck_assert_uint_eq(info.snapshots_skipped, 0);
	}
	counter c;
	ck_assert_es(es_aggregate_load_at_version(&c, NULL, ct_db, &t, S, 10), ES_ENOTFOUND);
	assert_msg_has(S);
	ck_assert_es(es_aggregate_load_at_version(&c, NULL, ct_db, &t, S, -1), ES_EINVAL);
}
END_TEST

START_TEST(as_of_boundaries)
{
	es_aggregate_type t = counter_type(2, 1);
	add_each(&t, S, 10, 5);
	int64_t first = recorded_at(S, 0);
	counter c;
	es_load_info info;
	ck_assert_es(es_aggregate_load_as_of(&c, &info, ct_db, &t, S, first - 1), ES_ENOTFOUND);
	assert_msg_has("did not exist at");
	assert_msg_has(S);
	ck_assert_es(es_aggregate_load_as_of(&c, &info, ct_db, &t, S, INT64_MIN), ES_ENOTFOUND);
	for (int64_t v = 0; v < 5; v++) {
		int64_t at = recorded_at(S, v);
		ck_assert_es(es_aggregate_load_as_of(&c, &info, ct_db, &t, S, at), 0);
		ck_assert_int_eq(info.version, v);
		ck_assert_int_eq(info.recorded_at, at);
		if (v > 0) {
			ck_assert_es(es_aggregate_load_as_of(&c, &info, ct_db, &t, S, at - 1), 0);
			ck_assert_int_eq(info.version, v - 1);
		}
	}
	ck_assert_es(es_aggregate_load_as_of(&c, &info, ct_db, &t, S, INT64_MAX), 0);
	ck_assert_int_eq(info.version, 4);
	ck_assert_int_eq(c.sum, 10 + 11 + 12 + 13 + 14);
}
END_TEST

/* ---- the property test ---- */

static uint64_t rng_state;

static uint64_t rnd(void) { return es_test_random(&rng_state); }
static int64_t rnd_between(int64_t lo, int64_t hi) { return es_test_random_between(&rng_state, lo, hi); }

/* The injected clock moves by a random amount: often forward, sometimes
 * not at all, sometimes backwards (the store keeps recorded_at increasing). */
static void clock_step(void)
{
	int kind = (int)(rnd() % 10);
	if (kind < 2)
		return;
	ct_now += kind < 4 ? -rnd_between(1, 5000) : rnd_between(1, 1000000);
}

static void random_history(const es_aggregate_type *t, const char *const *streams, size_t n, int ops)
{
	for (int op = 0; op < ops; op++) {
		int64_t v[4];
		size_t k = (size_t)rnd_between(1, 4);
		for (size_t i = 0; i < k; i++)
			v[i] = rnd_between(-1000, 1000);
		clock_step();
		const char *s = streams[rnd() % n];
		if (rnd() % 8 == 0)
			counter_append_raw(ct_db, s, v, k); /* no snapshot: uneven spacing */
		else
			counter_add(ct_db, t, s, v, k);
	}
}

/* The times worth asking about: each event's recorded_at, 1 ns before and
 * after it, before the first and after the last, the int64 edges, and
 * random times in between. */
static size_t probe_times(int64_t *out, size_t cap, es_read *rd, const char *stream)
{
	es_iter *it;
	es_event ev;
	size_t n = 0;
	int64_t first = 0, last = 0;
	ck_assert_es(es_stream_iter(&it, rd, stream, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	while (es_iter_next(&ev, it) == 0 && n + 3 <= cap) {
		if (n == 0)
			first = ev.recorded_at;
		last = ev.recorded_at;
		out[n++] = ev.recorded_at;
		out[n++] = ev.recorded_at - 1;
		out[n++] = ev.recorded_at + 1;
	}
	es_iter_free(it);
	int64_t extra[] = { INT64_MIN, INT64_MAX, first - 1, first - 1000000, last + 1, last + 1000000000 };
	for (size_t i = 0; i < sizeof extra / sizeof extra[0] && n < cap; i++)
		out[n++] = extra[i];
	for (int i = 0; i < 20 && n < cap; i++)
		out[n++] = rnd_between(first - 10, last + 10);
	return n;
}

/* One as-of load checked against the naive fold; returns 1 if it started
 * from a snapshot. */
static int check_as_of(const es_aggregate_type *t, es_read *rd, const char *stream, int64_t at)
{
	counter want, got, got_rd;
	es_load_info info, info_rd;
	size_t applied = counter_naive(&want, rd, t, stream, at, INT64_MAX);
	int rc = es_aggregate_load_as_of(&got, &info, ct_db, t, stream, at);
	int rc_rd = es_aggregate_fold_as_of(&got_rd, &info_rd, rd, t, stream, at);
	if (applied == 0) {
		ck_assert_msg(rc == ES_ENOTFOUND && rc_rd == ES_ENOTFOUND,
		              "%s as of %lld: rc %d/%d, want ES_ENOTFOUND", stream, (long long)at, rc, rc_rd);
		return 0;
	}
	ck_assert_msg(rc == 0 && rc_rd == 0, "%s as of %lld: rc %d/%d: %s", stream, (long long)at, rc,
	              rc_rd, es_error_last()->message);
	counter_assert_eq(&got, &want, "as of (db)");
	counter_assert_eq(&got_rd, &want, "as of (read)");
	ck_assert_int_eq(info.version, (int64_t)applied - 1);
	ck_assert_int_le(info.recorded_at, at);
	ck_assert_int_eq(info_rd.version, info.version);
	int64_t base = info.snapshot_version;
	ck_assert_uint_eq(info.events_folded, (uint64_t)(info.version - base));
	return base >= 0;
}

START_TEST(as_of_matches_naive_fold)
{
	static const char *const streams[] = { "counter-x", "counter-y", "counter-z" };
	/* Intervals 1..4: snapshots everywhere, and taken by multi-event commands. */
	uint32_t every = 1 + (uint32_t)(_i % 4);
	rng_state = UINT64_C(0x9e3779b97f4a7c15) * (uint64_t)(_i + 1);
	es_aggregate_type t = counter_type(every, 1);
	random_history(&t, streams, 3, 90);
	int64_t *times = malloc(4096 * sizeof *times);
	int from_snapshot = 0, probes = 0;
	for (size_t s = 0; s < 3; s++) {
		es_read *rd;
		ck_assert_es(es_read_begin(&rd, ct_db), 0);
		size_t n = probe_times(times, 4096, rd, streams[s]);
		for (size_t i = 0; i < n; i++, probes++)
			from_snapshot += check_as_of(&t, rd, streams[s], times[i]);
		es_read_end(rd);
	}
	free(times);
	ck_assert_int_gt(from_snapshot, probes / 4);
}
END_TEST

/* ---- unusable snapshots ---- */

/* 12 events one command each under interval 5: snapshots at 4 and 9. */
static es_aggregate_type twelve_events(void)
{
	es_aggregate_type t = counter_type(5, 1);
	add_each(&t, S, 1, 12);
	ck_assert_str_eq(counter_snapshots(ct_db, S), "4,9");
	return t;
}

/* Loads the latest state and checks it against the naive fold. */
static es_load_info load_checked(const es_aggregate_type *t)
{
	counter c;
	es_load_info info;
	ck_assert_es(es_aggregate_load(&c, &info, ct_db, t, S), 0);
	counter want = naive_at(t, S, INT64_MAX);
	counter_assert_eq(&c, &want, "latest");
	ck_assert_int_eq(info.version, 11);
	return info;
}

START_TEST(schema_change_falls_back_and_rewrites)
{
	es_aggregate_type t1 = twelve_events();
	es_aggregate_type t2 = counter_type(5, 2);
	es_load_info info = load_checked(&t2);
	ck_assert_int_eq(info.snapshot_version, -1);
	ck_assert_uint_eq(info.events_folded, 12);
	ck_assert_uint_ge(info.snapshots_skipped, 1);
	ck_assert_int_eq(info.skip_reason, ES_SNAPSHOT_SCHEMA_CHANGED);
	ck_assert_int_eq(info.snapshot_rewritten, 1);
	/* The newest one was rebuilt under the new schema and is used next. */
	info = load_checked(&t2);
	ck_assert_int_eq(info.snapshot_version, 9);
	ck_assert_uint_eq(info.events_folded, 2);
	ck_assert_uint_eq(info.snapshots_skipped, 0);
	ck_assert_int_eq(info.snapshot_rewritten, 0);
	/* Below it, the old one is passed over and rewritten in turn. */
	counter c;
	ck_assert_es(es_aggregate_load_at_version(&c, &info, ct_db, &t2, S, 7), 0);
	ck_assert_int_eq(info.snapshot_version, -1);
	ck_assert_int_eq(info.skip_reason, ES_SNAPSHOT_SCHEMA_CHANGED);
	ck_assert_int_eq(info.snapshot_rewritten, 1);
	ck_assert_es(es_aggregate_load_at_version(&c, &info, ct_db, &t2, S, 7), 0);
	ck_assert_int_eq(info.snapshot_version, 4);
	ck_assert_uint_eq(info.events_folded, 3);
	/* The old schema's code now passes over the new snapshots. */
	info = load_checked(&t1);
	ck_assert_int_eq(info.skip_reason, ES_SNAPSHOT_SCHEMA_CHANGED);
	ck_assert_str_eq(counter_snapshots(ct_db, S), "4,9");
}
END_TEST

START_TEST(fold_in_read_reports_but_does_not_rewrite)
{
	twelve_events();
	es_aggregate_type t2 = counter_type(5, 2);
	for (int round = 0; round < 2; round++) {
		es_read *rd;
		counter c;
		es_load_info info;
		ck_assert_es(es_read_begin(&rd, ct_db), 0);
		ck_assert_es(es_aggregate_fold(&c, &info, rd, &t2, S, ES_HEAD), 0);
		es_read_end(rd);
		ck_assert_int_eq(c.count, 12);
		ck_assert_uint_eq(info.snapshots_skipped, 2);
		ck_assert_int_eq(info.skip_reason, ES_SNAPSHOT_SCHEMA_CHANGED);
		ck_assert_int_eq(info.snapshot_rewritten, 0);
	}
}
END_TEST

START_TEST(fingerprint_change_passed_over)
{
	es_aggregate_type t = twelve_events();
	counter nine = naive_at(&t, S, 9);
	uint8_t *bytes;
	size_t len;
	ck_assert_es(t.snapshot_encode(&bytes, &len, &nine), 0);
	es_snapshot_key other = { 1, 0xfeedu };
	ck_assert_es(es_snapshot_write(ct_db, S, 9, &other, bytes, len), 0);
	free(bytes);
	es_load_info info = load_checked(&t);
	ck_assert_int_eq(info.snapshot_version, 4);
	ck_assert_uint_eq(info.events_folded, 7);
	ck_assert_uint_eq(info.snapshots_skipped, 1);
	ck_assert_int_eq(info.skip_reason, ES_SNAPSHOT_FINGERPRINT_CHANGED);
	ck_assert_int_eq(info.snapshot_rewritten, 1);
	info = load_checked(&t);
	ck_assert_int_eq(info.snapshot_version, 9);
}
END_TEST

/* Corrupts the snapshot at version 9 in one of several ways, then checks
 * the load falls back to 4, says why, and rewrites 9. */
static void corrupt_then_load(int how)
{
	es_aggregate_type t = twelve_events();
	es_snapshot_key key = { 1, 0 };
	uint8_t raw[64];
	size_t len = 0;
	if (how == 0) { /* a good envelope around state the decoder rejects */
		ck_assert_es(es_snapshot_write(ct_db, S, 9, &key, "not a counter", 13), 0);
	} else if (how == 1) { /* not an envelope at all */
		ck_assert_es(es__snapshot_put(ct_db, S, 9, "garbage", 7), 0);
	} else { /* one state byte flipped: the checksum fails */
		es_read *rd;
		int64_t version;
		const void *bytes;
		ck_assert_es(es_read_begin(&rd, ct_db), 0);
		ck_assert_es(es__snapshot_get_le(&version, &bytes, &len, rd, S, 9), 0);
		ck_assert_int_eq(version, 9);
		ck_assert_uint_le(len, sizeof raw);
		memcpy(raw, bytes, len);
		es_read_end(rd);
		raw[len - 1] ^= 0x01;
		ck_assert_es(es__snapshot_put(ct_db, S, 9, raw, len), 0);
	}
	es_load_info info = load_checked(&t);
	ck_assert_int_eq(info.snapshot_version, 4);
	ck_assert_uint_eq(info.events_folded, 7);
	ck_assert_uint_eq(info.snapshots_skipped, 1);
	ck_assert_int_eq(info.skip_reason, ES_SNAPSHOT_CORRUPT);
	ck_assert_int_eq(info.snapshot_rewritten, 1);
	info = load_checked(&t);
	ck_assert_int_eq(info.snapshot_version, 9);
	ck_assert_uint_eq(info.snapshots_skipped, 0);
}

START_TEST(undecodable_state_passed_over) { corrupt_then_load(0); }
END_TEST
START_TEST(bad_envelope_passed_over) { corrupt_then_load(1); }
END_TEST
START_TEST(bad_checksum_passed_over) { corrupt_then_load(2); }
END_TEST

START_TEST(every_snapshot_unusable)
{
	es_aggregate_type t = twelve_events();
	es_snapshot_key key = { 1, 0 };
	ck_assert_es(es__snapshot_put(ct_db, S, 4, "", 0), 0);
	ck_assert_es(es_snapshot_write(ct_db, S, 9, &key, NULL, 0), 0);
	es_load_info info = load_checked(&t);
	ck_assert_int_eq(info.snapshot_version, -1);
	ck_assert_uint_eq(info.events_folded, 12);
	ck_assert_uint_eq(info.snapshots_skipped, 2);
	ck_assert_int_eq(info.skip_reason, ES_SNAPSHOT_CORRUPT);
	/* As of the time of version 6, only the one at 4 was a candidate. */
	counter c;
	ck_assert_es(es_aggregate_load_as_of(&c, &info, ct_db, &t, S, recorded_at(S, 6)), 0);
	ck_assert_int_eq(info.version, 6);
	ck_assert_int_eq(c.count, 7);
	ck_assert_int_eq(info.snapshot_version, -1);
	ck_assert_uint_eq(info.snapshots_skipped, 1);
	ck_assert_int_eq(info.skip_reason, ES_SNAPSHOT_CORRUPT);
	ck_assert_int_eq(info.snapshot_rewritten, 1);
	ck_assert_es(es_aggregate_load_as_of(&c, &info, ct_db, &t, S, recorded_at(S, 6)), 0);
	ck_assert_int_eq(info.snapshot_version, 4);
	ck_assert_uint_eq(info.events_folded, 2);
}
END_TEST

/* ---- events the type cannot apply ---- */

START_TEST(unknown_event_type_is_eschema)
{
	es_aggregate_type t = counter_type(5, 1);
	int64_t v = 1;
	counter_append_raw(ct_db, S, &v, 1);
	es_event_data ev = { .type = "Multiplied", .schema_version = 1, .payload = &v, .payload_len = 8 };
	ck_assert_es(es_stream_append(NULL, ct_db, S, ES_ANY, &ev, 1), 0);
	counter c;
	ck_assert_es(es_aggregate_load(&c, NULL, ct_db, &t, S), ES_ESCHEMA);
	assert_msg_has("Multiplied");
	assert_msg_has(S);
	ck_assert_es(es_aggregate_load_at_version(&c, NULL, ct_db, &t, S, 0), 0);
	ck_assert_int_eq(c.sum, 1);
}
END_TEST

START_TEST(apply_error_propagates)
{
	es_aggregate_type t = counter_type(5, 1);
	es_event_data ev = { .type = COUNTER_ADDED, .schema_version = 1, .payload = "abc", .payload_len = 3 };
	ck_assert_es(es_stream_append(NULL, ct_db, S, ES_ANY, &ev, 1), 0);
	counter c;
	ck_assert_es(es_aggregate_load(&c, NULL, ct_db, &t, S), ES_ECORRUPT);
	assert_msg_has(S);
}
END_TEST

START_TEST(apply_one_event)
{
	es_aggregate_type t = counter_type(5, 1);
	int64_t v = 42;
	counter c;
	t.init(&c);
	es_event ev = { .stream = S, .version = 0, .type = COUNTER_ADDED, .payload = &v, .payload_len = 8 };
	ck_assert_es(es_aggregate_apply(&t, &c, &ev), 0);
	ck_assert_int_eq(c.sum, 42);
	ev.type = "Other";
	ck_assert_es(es_aggregate_apply(&t, &c, &ev), ES_ESCHEMA);
	ck_assert_es(es_aggregate_apply(&t, NULL, &ev), ES_EINVAL);
	ck_assert_es(es_aggregate_apply(&t, &c, NULL), ES_EINVAL);
	ck_assert_es(es_aggregate_apply(NULL, &c, &ev), ES_EINVAL);
	es_aggregate_type bad = t;
	bad.version = 0;
	ck_assert_es(es_aggregate_apply(&bad, &c, &ev), ES_EINVAL);
	ck_assert_es(es_aggregate_load(&c, NULL, ct_db, &bad, S), ES_EINVAL);
	bad = t;
	bad.init = NULL;
	ck_assert_es(es_aggregate_load(&c, NULL, ct_db, &bad, S), ES_EINVAL);
	ck_assert_es(es_aggregate_load(NULL, NULL, ct_db, &t, S), ES_EINVAL);
	ck_assert_es(es_aggregate_load(&c, NULL, NULL, &t, S), ES_EINVAL);
	ck_assert_es(es_aggregate_fold(&c, NULL, NULL, &t, S, ES_HEAD), ES_EINVAL);
	ck_assert_es(es_aggregate_fold_as_of(&c, NULL, NULL, &t, S, 0), ES_EINVAL);
}
END_TEST

/* ---- deleted streams ---- */

START_TEST(tombstoned_stream)
{
	es_aggregate_type t = counter_type(2, 1);
	add_each(&t, S, 1, 3);
	ck_assert_es(es_stream_tombstone(ct_db, S, ES_ANY), 0);
	counter c;
	ck_assert_es(es_aggregate_load(&c, NULL, ct_db, &t, S), ES_EDELETED);
	ck_assert_es(es_aggregate_load_at_version(&c, NULL, ct_db, &t, S, 1), ES_EDELETED);
}
END_TEST

START_TEST(soft_deleted_and_recreated)
{
	es_aggregate_type t = counter_type(3, 1);
	add_each(&t, S, 1, 5); /* versions 0..4, snapshot at 2 */
	ck_assert_es(es_stream_delete(ct_db, S, ES_ANY), 0);
	counter c;
	es_load_info info;
	ck_assert_es(es_aggregate_load(&c, &info, ct_db, &t, S), ES_ENOTFOUND);
	add_each(&t, S, 100, 2); /* versions 5, 6 */
	ck_assert_es(es_aggregate_load(&c, &info, ct_db, &t, S), 0);
	ck_assert_int_eq(c.sum, 201);
	ck_assert_int_eq(c.count, 2);
	ck_assert_int_eq(info.version, 6);
	counter want = naive_at(&t, S, INT64_MAX);
	counter_assert_eq(&c, &want, "recreated");
	/* The count crossed 6 at version 5: that snapshot holds only the new event;
	 * the one at 2 belongs to the deleted past and is never a starting point. */
	ck_assert_str_eq(counter_snapshots(ct_db, S), "2,5");
	ck_assert_int_eq(info.snapshot_version, 5);
	ck_assert_uint_eq(info.events_folded, 1);
	ck_assert_es(es_aggregate_load_at_version(&c, &info, ct_db, &t, S, 2), ES_ENOTFOUND);
	ck_assert_es(es_aggregate_load_at_version(&c, &info, ct_db, &t, S, 5), 0);
	ck_assert_int_eq(c.sum, 100);
	ck_assert_int_eq(c.count, 1);
	ck_assert_int_eq(info.snapshot_version, 5);
	/* With the recreated part's snapshot gone, the old one is still not used. */
	es_thin_options o = ES_THIN_OPTIONS_INIT;
	o.keep_one_in = UINT32_MAX;
	o.older_than = INT64_MAX;
	size_t removed;
	ck_assert_es(es_snapshot_thin(&removed, ct_db, S, &o), 0);
	ck_assert_uint_eq(removed, 1);
	ck_assert_str_eq(counter_snapshots(ct_db, S), "2");
	ck_assert_es(es_aggregate_load(&c, &info, ct_db, &t, S), 0);
	counter_assert_eq(&c, &want, "recreated, no snapshot");
	ck_assert_int_eq(info.snapshot_version, -1);
	ck_assert_uint_eq(info.events_folded, 2);
}
END_TEST

TCase *es_tc_fold(void)
{
	TCase *tc = tcase_create("fold");
	tcase_add_checked_fixture(tc, ct_setup, ct_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, load_unknown_stream);
	tcase_add_test(tc, load_without_snapshots);
	tcase_add_test(tc, load_at_each_version);
	tcase_add_test(tc, as_of_boundaries);
	tcase_add_loop_test(tc, as_of_matches_naive_fold, 0, 8);
	tcase_add_test(tc, schema_change_falls_back_and_rewrites);
	tcase_add_test(tc, fold_in_read_reports_but_does_not_rewrite);
	tcase_add_test(tc, fingerprint_change_passed_over);
	tcase_add_test(tc, undecodable_state_passed_over);
	tcase_add_test(tc, bad_envelope_passed_over);
	tcase_add_test(tc, bad_checksum_passed_over);
	tcase_add_test(tc, every_snapshot_unusable);
	tcase_add_test(tc, unknown_event_type_is_eschema);
	tcase_add_test(tc, apply_error_propagates);
	tcase_add_test(tc, apply_one_event);
	tcase_add_test(tc, tombstoned_stream);
	tcase_add_test(tc, soft_deleted_and_recreated);
	return tc;
}
