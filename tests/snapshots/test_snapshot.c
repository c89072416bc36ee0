/*
 * test_snapshot.c - the snapshot store (snapshot.c): writing, listing and
 * finding the newest usable snapshot; why snapshots are passed over
 * (schema, fingerprint, malformed envelope, checksum); staging into a batch
 * so a snapshot lands with its append or not at all; and thinning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "snapshots_tcases.h"
#include "db.h" /* es__snapshot_put, es__snapshot_get_le: raw snapshot bytes */

#define T0 ((int64_t)1700000000000000000)
#define STEP 1000

static es_db *db;
static int64_t now;
static const es_snapshot_key key1 = { 1, 0 };

static void setup(void)
{
	now = T0;
	db = es_test_open(es_test_clock, &now);
}

static void teardown(void)
{
	es_db_close(db);
	es_test_tmpdir_remove();
}

/* Appends n events, one commit each, the clock moving STEP ns per commit:
 * a fresh stream's version v is recorded at T0 + (v + 1) * STEP. */
static void append_n(const char *stream, int n)
{
	for (int i = 0; i < n; i++) {
		es_event_data ev = { .type = "Tick", .schema_version = 1, .payload = "t", .payload_len = 1 };
		now += STEP;
		ck_assert_es(es_stream_append(NULL, db, stream, ES_ANY, &ev, 1), 0);
	}
}

static void write_ok(const char *stream, int64_t version, const es_snapshot_key *key, const char *state)
{
	ck_assert_es(es_snapshot_write(db, stream, version, key, state, strlen(state)), 0);
}

/* The stream's snapshot versions as "a,b,c". */
static const char *listed(const char *stream)
{
	static char text[1024];
	es_read *rd;
	int64_t *v;
	size_t n, used = 0;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_snapshot_list(&v, &n, rd, stream), 0);
	es_read_end(rd);
	text[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(text + used, sizeof text - used, "%s%lld", i ? "," : "", (long long)v[i]);
	free(v);
	return text;
}

/* Finds the newest usable snapshot at or below max: its version, or the
 * error; its state is copied to state (NUL-terminated) when found. */
static int64_t find(const char *stream, int64_t max, const es_snapshot_key *key, char *state)
{
	es_read *rd;
	es_snapshot snap;
	ck_assert_es(es_read_begin(&rd, db), 0);
	int rc = es_snapshot_find(&snap, rd, stream, max, key, NULL, NULL);
	if (rc == 0 && state) {
		memcpy(state, snap.state, snap.state_len);
		state[snap.state_len] = '\0';
	}
	es_read_end(rd);
	return rc ? rc : snap.version;
}

START_TEST(skip_reason_text)
{
	ck_assert_str_eq(es_snapshot_skip_str(ES_SNAPSHOT_USABLE), "usable");
	ck_assert_str_eq(es_snapshot_skip_str(ES_SNAPSHOT_SCHEMA_CHANGED), "state schema changed");
	ck_assert_str_eq(es_snapshot_skip_str(ES_SNAPSHOT_FINGERPRINT_CHANGED), "upcaster chain changed");
	ck_assert_str_eq(es_snapshot_skip_str(ES_SNAPSHOT_CORRUPT), "corrupt");
	ck_assert_ptr_nonnull(es_snapshot_skip_str((es_snapshot_skip)77));
}
END_TEST

START_TEST(write_list_find)
{
	char state[64];
	append_n("s", 10);
	write_ok("s", 5, &key1, "five");
	write_ok("s", 2, &key1, "two");
	write_ok("s", 8, &key1, "eight");
	ck_assert_str_eq(listed("s"), "2,5,8");
	ck_assert_int_eq(find("s", 7, &key1, state), 5);
	ck_assert_str_eq(state, "five");
	ck_assert_int_eq(find("s", 8, &key1, state), 8);
	ck_assert_str_eq(state, "eight");
	ck_assert_int_eq(find("s", INT64_MAX, &key1, NULL), 8);
	ck_assert_int_eq(find("s", 2, &key1, state), 2);
	ck_assert_int_eq(find("s", 1, &key1, NULL), ES_ENOTFOUND);
	ck_assert_int_eq(find("s", -1, &key1, NULL), ES_ENOTFOUND);
	write_ok("s", 5, &key1, "FIVE"); /* overwrite */
	ck_assert_int_eq(find("s", 6, &key1, state), 5);
	ck_assert_str_eq(state, "FIVE");
	ck_assert_str_eq(listed("s"), "2,5,8");
	ck_assert_es(es_snapshot_write(db, "s", 9, &key1, NULL, 0), 0); /* empty state */
	ck_assert_int_eq(find("s", 9, &key1, state), 9);
	ck_assert_str_eq(state, "");
}
END_TEST

START_TEST(write_and_find_errors)
{
	append_n("s", 3);
	ck_assert_es(es_snapshot_write(db, "nobody", 0, &key1, "x", 1), ES_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "nobody"));
	ck_assert_es(es_snapshot_write(db, "s", 3, &key1, "x", 1), ES_EINVAL);
	ck_assert_es(es_snapshot_write(db, "s", -1, &key1, "x", 1), ES_EINVAL);
	ck_assert_es(es_snapshot_write(db, "s", 0, NULL, "x", 1), ES_EINVAL);
	ck_assert_es(es_snapshot_write(NULL, "s", 0, &key1, "x", 1), ES_EINVAL);
	ck_assert_es(es_snapshot_write(db, "s", 0, &key1, NULL, 1), ES_EINVAL);
	ck_assert_es(es_snapshot_write(db, "", 0, &key1, "x", 1), ES_EINVAL);
	ck_assert_es(es_snapshot_write(db, NULL, 0, &key1, "x", 1), ES_EINVAL);
	ck_assert_str_eq(listed("s"), "");
	es_read *rd;
	es_snapshot snap;
	int64_t dummy, *v = &dummy;
	size_t n = 5;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_snapshot_find(&snap, rd, "nobody", 5, &key1, NULL, NULL), ES_ENOTFOUND);
	ck_assert_es(es_snapshot_find(NULL, rd, "s", 5, &key1, NULL, NULL), ES_EINVAL);
	ck_assert_es(es_snapshot_find(&snap, rd, "s", 5, NULL, NULL, NULL), ES_EINVAL);
	ck_assert_es(es_snapshot_find(&snap, NULL, "s", 5, &key1, NULL, NULL), ES_EINVAL);
	ck_assert_es(es_snapshot_find(&snap, rd, "s", 5, &key1, NULL, NULL), ES_ENOTFOUND);
	ck_assert_es(es_snapshot_list(&v, &n, rd, "nobody"), ES_ENOTFOUND);
	ck_assert_es(es_snapshot_list(NULL, &n, rd, "s"), ES_EINVAL);
	ck_assert_es(es_snapshot_list(&v, &n, rd, "s"), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
	es_read_end(rd);
}
END_TEST

/* Streams' snapshots are keyed apart: a neighbour's never answers. */
START_TEST(streams_are_kept_apart)
{
	append_n("a", 2);
	append_n("b", 2);
	append_n("c", 2);
	write_ok("b", 0, &key1, "b0");
	ck_assert_int_eq(find("a", INT64_MAX, &key1, NULL), ES_ENOTFOUND);
	ck_assert_int_eq(find("c", INT64_MAX, &key1, NULL), ES_ENOTFOUND);
	ck_assert_int_eq(find("b", INT64_MAX, &key1, NULL), 0);
	ck_assert_str_eq(listed("a"), "");
	ck_assert_str_eq(listed("c"), "");
	write_ok("a", 1, &key1, "a1");
	write_ok("c", 1, &key1, "c1");
	ck_assert_int_eq(find("b", INT64_MAX, &key1, NULL), 0);
	ck_assert_str_eq(listed("b"), "0");
}
END_TEST

typedef struct skips {
	int64_t version[8];
	es_snapshot_skip why[8];
	int n;
	int stop_with;
} skips;

static int record_skip(int64_t version, es_snapshot_skip why, void *user_data)
{
	skips *s = user_data;
	if (s->n < 8) {
		s->version[s->n] = version;
		s->why[s->n] = why;
	}
	s->n++;
	return s->stop_with;
}

START_TEST(passed_over_newest_first)
{
	es_snapshot_key schema2 = { 2, 0 }, other_fp = { 1, 9 };
	append_n("s", 10);
	write_ok("s", 2, &key1, "good");
	write_ok("s", 5, &other_fp, "fp");
	ck_assert_es(es__snapshot_put(db, "s", 7, "garbage", 7), 0);
	write_ok("s", 8, &schema2, "schema");
	es_read *rd;
	es_snapshot snap;
	skips s = { .n = 0 };
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_snapshot_find(&snap, rd, "s", 9, &key1, record_skip, &s), 0);
	ck_assert_int_eq(snap.version, 2);
	ck_assert_int_eq(snap.state_len, 4);
	ck_assert_int_eq(memcmp(snap.state, "good", 4), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_int_eq(s.version[0], 8);
	ck_assert_int_eq(s.why[0], ES_SNAPSHOT_SCHEMA_CHANGED);
	ck_assert_int_eq(s.version[1], 7);
	ck_assert_int_eq(s.why[1], ES_SNAPSHOT_CORRUPT);
	ck_assert_int_eq(s.version[2], 5);
	ck_assert_int_eq(s.why[2], ES_SNAPSHOT_FINGERPRINT_CHANGED);
	/* Under the new schema, 8 is the usable one. */
	ck_assert_es(es_snapshot_find(&snap, rd, "s", 9, &schema2, NULL, NULL), 0);
	ck_assert_int_eq(snap.version, 8);
	/* A callback's non-zero return stops the search with that value. */
	s = (skips){ .stop_with = 42 };
	ck_assert_int_eq(es_snapshot_find(&snap, rd, "s", 9, &key1, record_skip, &s), 42);
	ck_assert_int_eq(s.n, 1);
	/* Nothing usable below 2. */
	s = (skips){ .n = 0 };
	ck_assert_es(es_snapshot_find(&snap, rd, "s", 1, &key1, record_skip, &s), ES_ENOTFOUND);
	ck_assert_int_eq(s.n, 0);
	es_read_end(rd);
}
END_TEST

/* Puts raw bytes at version 1 and expects find to call them corrupt. */
static void corrupt_is(const void *bytes, size_t len)
{
	ck_assert_es(es__snapshot_put(db, "s", 1, bytes, len), 0);
	es_read *rd;
	es_snapshot snap;
	skips s = { .n = 0 };
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_snapshot_find(&snap, rd, "s", 1, &key1, record_skip, &s), 0);
	es_read_end(rd);
	ck_assert_int_eq(snap.version, 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.version[0], 1);
	ck_assert_int_eq(s.why[0], ES_SNAPSHOT_CORRUPT);
}

START_TEST(malformed_envelopes_are_corrupt)
{
	append_n("s", 2);
	write_ok("s", 0, &key1, "zero");
	write_ok("s", 1, &key1, "one!");
	uint8_t good[64];
	size_t len;
	es_read *rd;
	const void *bytes;
	int64_t version;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es__snapshot_get_le(&version, &bytes, &len, rd, "s", 1), 0);
	ck_assert_uint_le(len, sizeof good);
	memcpy(good, bytes, len);
	es_read_end(rd);
	uint8_t bad[64];
	corrupt_is("", 0);
	corrupt_is(good, len - 5); /* cut: the checksum fails */
	corrupt_is(good, 23);      /* shorter than the header */
	memcpy(bad, good, len);
	bad[0] = 2;                /* unknown envelope format */
	corrupt_is(bad, len);
	memcpy(bad, good, len);
	bad[len - 1] ^= 0x80;      /* a state bit flipped */
	corrupt_is(bad, len);
	memcpy(bad, good, len);
	bad[16] ^= 0x01;           /* the checksum itself damaged */
	corrupt_is(bad, len);
	ck_assert_es(es__snapshot_put(db, "s", 1, good, len), 0);
	ck_assert_int_eq(find("s", 1, &key1, NULL), 1);
}
END_TEST

/* ---- staging ---- */

START_TEST(stage_lands_with_the_batch)
{
	es_batch *b;
	es_event_data evs[3] = {
		{ .type = "Tick", .payload = "a", .payload_len = 1 },
		{ .type = "Tick", .payload = "b", .payload_len = 1 },
		{ .type = "Tick", .payload = "c", .payload_len = 1 },
	};
	char state[16] = "staged";
	ck_assert_es(es_batch_new(&b, db), 0);
	ck_assert_es(es_batch_append(b, "s", ES_NO_STREAM, evs, 3), 0);
	ck_assert_es(es_snapshot_stage(b, "s", 2, &key1, state, 6), 0);
	memset(state, 'x', 6); /* staging copied the state */
	ck_assert_es(es_batch_commit(b, NULL), 0);
	ck_assert_str_eq(listed("s"), "2");
	ck_assert_int_eq(find("s", 2, &key1, state), 2);
	ck_assert_str_eq(state, "staged");
}
END_TEST

START_TEST(stage_in_a_failed_batch_writes_nothing)
{
	append_n("s", 2);
	es_batch *b;
	es_event_data ev = { .type = "Tick", .payload = "a", .payload_len = 1 };
	/* A conflict: neither the event nor the snapshot. */
	ck_assert_es(es_batch_new(&b, db), 0);
	ck_assert_es(es_batch_append(b, "s", 0, &ev, 1), 0);
	ck_assert_es(es_snapshot_stage(b, "s", 2, &key1, "x", 1), 0);
	ck_assert_es(es_batch_commit(b, NULL), ES_ECONFLICT);
	ck_assert_str_eq(listed("s"), "");
	/* A snapshot past the head fails the whole batch, events included. */
	memset(ev.id, 0, sizeof ev.id);
	ck_assert_es(es_batch_new(&b, db), 0);
	ck_assert_es(es_batch_append(b, "s", 1, &ev, 1), 0);
	ck_assert_es(es_snapshot_stage(b, "s", 3, &key1, "x", 1), 0);
	ck_assert_es(es_batch_commit(b, NULL), ES_EINVAL);
	ck_assert_str_eq(listed("s"), "");
	es_read *rd;
	es_stream_info si;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_stream_info_get(&si, rd, "s"), 0);
	es_read_end(rd);
	ck_assert_int_eq(si.head_version, 1);
	/* For a stream that does not exist, the batch fails. */
	ck_assert_es(es_batch_new(&b, db), 0);
	ck_assert_es(es_snapshot_stage(b, "nobody", 0, &key1, "x", 1), 0);
	ck_assert_es(es_batch_commit(b, NULL), ES_ENOTFOUND);
	/* A batch of snapshots alone writes them. */
	ck_assert_es(es_batch_new(&b, db), 0);
	ck_assert_es(es_snapshot_stage(b, "s", 0, &key1, "x", 1), 0);
	ck_assert_es(es_snapshot_stage(b, "s", 1, &key1, "y", 1), 0);
	ck_assert_es(es_batch_commit(b, NULL), 0);
	ck_assert_str_eq(listed("s"), "0,1");
	/* Arguments. */
	ck_assert_es(es_batch_new(&b, db), 0);
	ck_assert_es(es_snapshot_stage(NULL, "s", 0, &key1, "x", 1), ES_EINVAL);
	ck_assert_es(es_snapshot_stage(b, "", 0, &key1, "x", 1), ES_EINVAL);
	ck_assert_es(es_snapshot_stage(b, "s", 0, NULL, "x", 1), ES_EINVAL);
	ck_assert_es(es_snapshot_stage(b, "s", 0, &key1, NULL, 1), ES_EINVAL);
	es_batch_free(b);
}
END_TEST

/* ---- thinning ---- */

/* 30 events, one commit each; snapshots at 2, 5, ..., 29 (ten). */
static void thirty_with_snapshots(const char *stream)
{
	append_n(stream, 30);
	for (int64_t v = 2; v < 30; v += 3)
		write_ok(stream, v, &key1, "state");
}

static int64_t recorded_at(const char *stream, int64_t version)
{
	es_read *rd;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_stream_get(&ev, rd, stream, version), 0);
	es_read_end(rd);
	return ev.recorded_at;
}

static size_t thin(const char *stream, uint32_t keep_one_in, int64_t older_than)
{
	es_thin_options o = ES_THIN_OPTIONS_INIT;
	o.keep_one_in = keep_one_in;
	o.older_than = older_than;
	size_t removed = 999;
	ck_assert_es(es_snapshot_thin(&removed, db, stream, &o), 0);
	return removed;
}

START_TEST(thin_old_keeps_one_in_k)
{
	thirty_with_snapshots("s");
	thirty_with_snapshots("other");
	/* Old = recorded before version 20's time: 2..17 (six); keep 0th and 3rd. */
	ck_assert_uint_eq(thin("s", 3, recorded_at("s", 20)), 4);
	ck_assert_str_eq(listed("s"), "2,11,20,23,26,29");
	ck_assert_str_eq(listed("other"), "2,5,8,11,14,17,20,23,26,29");
	ck_assert_int_eq(find("s", 19, &key1, NULL), 11);
}
END_TEST

START_TEST(thin_boundary_is_recorded_before)
{
	thirty_with_snapshots("s");
	/* Version 20 recorded exactly at older_than is not old... */
	ck_assert_uint_eq(thin("s", 2, recorded_at("s", 20)), 3); /* old 2..17: drop 5,11,17 */
	ck_assert_str_eq(listed("s"), "2,8,14,20,23,26,29");
	/* ...one nanosecond later it is. */
	thirty_with_snapshots("t");
	ck_assert_uint_eq(thin("t", 2, recorded_at("t", 20) + 1), 3); /* old 2..20: drop 5,11,17 */
	ck_assert_str_eq(listed("t"), "2,8,14,20,23,26,29");
	thirty_with_snapshots("u");
	ck_assert_uint_eq(thin("u", 2, recorded_at("u", 23) + 1), 4); /* old 2..23: drop 5,11,17,23 */
	ck_assert_str_eq(listed("u"), "2,8,14,20,26,29");
}
END_TEST

START_TEST(thin_nothing_by_default)
{
	thirty_with_snapshots("s");
	es_thin_options o = ES_THIN_OPTIONS_INIT;
	size_t removed = 5;
	ck_assert_es(es_snapshot_thin(&removed, db, "s", &o), 0); /* older_than 0: nothing is old */
	ck_assert_uint_eq(removed, 0);
	ck_assert_uint_eq(thin("s", 1, INT64_MAX), 0);
	ck_assert_uint_eq(thin("s", 5, T0), 0);
	ck_assert_uint_eq(thin("s", 5, INT64_MIN), 0);
	ck_assert_str_eq(listed("s"), "2,5,8,11,14,17,20,23,26,29");
	ck_assert_uint_eq(thin("s", 4, INT64_MAX), 7); /* everything old: keep 2,14,26 */
	ck_assert_str_eq(listed("s"), "2,14,26");
}
END_TEST

START_TEST(thin_errors)
{
	append_n("s", 3);
	es_thin_options o = ES_THIN_OPTIONS_INIT;
	size_t removed = 5;
	ck_assert_es(es_snapshot_thin(&removed, db, "nobody", &o), ES_ENOTFOUND);
	ck_assert_uint_eq(removed, 0);
	o.keep_one_in = 0;
	ck_assert_es(es_snapshot_thin(&removed, db, "s", &o), ES_EINVAL);
	o.keep_one_in = 2;
	o.version = 7;
	ck_assert_es(es_snapshot_thin(&removed, db, "s", &o), ES_EINVAL);
	ck_assert_es(es_snapshot_thin(&removed, db, "s", NULL), ES_EINVAL);
	o = (es_thin_options)ES_THIN_OPTIONS_INIT;
	ck_assert_es(es_snapshot_thin(&removed, NULL, "s", &o), ES_EINVAL);
	ck_assert_es(es_snapshot_thin(&removed, db, "", &o), ES_EINVAL);
	ck_assert_es(es_snapshot_thin(NULL, db, "s", &o), 0);
}
END_TEST

START_TEST(thin_options_init)
{
	es_thin_options o;
	memset(&o, 0xa5, sizeof o);
	ck_assert_es(es_thin_options_init(&o, ES_THIN_OPTIONS_VERSION), 0);
	ck_assert(o.version == ES_THIN_OPTIONS_VERSION && o.keep_one_in == 10 && o.older_than == 0);
	ck_assert_es(es_thin_options_init(&o, ES_THIN_OPTIONS_VERSION + 1), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "es_thin_options_init"));
}
END_TEST

TCase *es_tc_snapshot(void)
{
	TCase *tc = tcase_create("snapshot");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, skip_reason_text);
	tcase_add_test(tc, write_list_find);
	tcase_add_test(tc, write_and_find_errors);
	tcase_add_test(tc, streams_are_kept_apart);
	tcase_add_test(tc, passed_over_newest_first);
	tcase_add_test(tc, malformed_envelopes_are_corrupt);
	tcase_add_test(tc, stage_lands_with_the_batch);
	tcase_add_test(tc, stage_in_a_failed_batch_writes_nothing);
	tcase_add_test(tc, thin_old_keeps_one_in_k);
	tcase_add_test(tc, thin_boundary_is_recorded_before);
	tcase_add_test(tc, thin_nothing_by_default);
	tcase_add_test(tc, thin_errors);
	tcase_add_test(tc, thin_options_init);
	return tc;
}
