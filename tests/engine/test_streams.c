/* test_streams.c - engine/streams.c: names, info, version-at-time, listing, soft delete, tombstones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enginetest.h"

/* Appends one event at clock value t; returns its recorded_at. */
static int64_t append_at(const char *stream, int64_t t)
{
	es_event_data ev = et_event("Tested", "v");
	et_now = t;
	ck_assert_es(es_stream_append(NULL, et_db, stream, ES_ANY, &ev, 1), 0);
	return ev.recorded_at;
}

static int version_at(int64_t *out, const char *stream, int64_t t)
{
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	*out = -99;
	int rc = es_stream_version_at(out, rd, stream, t);
	es_read_end(rd);
	return rc;
}

static void assert_version_at(const char *stream, int64_t t, int64_t want)
{
	int64_t got;
	ck_assert_es(version_at(&got, stream, t), 0);
	ck_assert_msg(got == want, "version_at(%s, %lld) = %lld, expected %lld", stream,
	              (long long)t, (long long)got, (long long)want);
}

#define LONG_N 2000
#define STEP 1000

START_TEST(version_at_on_long_stream)
{
	int64_t *at = malloc(LONG_N * sizeof *at);
	ck_assert_ptr_nonnull(at);
	for (int i = 0; i < LONG_N; i++) {
		at[i] = append_at("long", ET_T0 + (int64_t)i * STEP);
		if (i % 7 == 0)
			append_at("noise", ET_T0 + (int64_t)i * STEP + STEP / 2);
	}
	int64_t got;
	ck_assert_es(version_at(&got, "long", at[0] - 1), ES_ENOTFOUND);
	ck_assert_int_eq(got, -99);
	et_assert_msg_has("long");
	ck_assert_es(version_at(&got, "long", INT64_MIN), ES_ENOTFOUND);
	for (int i = 0; i < LONG_N; i++) {
		assert_version_at("long", at[i], i);          /* at: inclusive */
		assert_version_at("long", at[i] + STEP / 2, i); /* between */
		if (i > 0)
			assert_version_at("long", at[i] - 1, i - 1); /* just before */
	}
	assert_version_at("long", at[LONG_N - 1] + 1000000000, LONG_N - 1); /* after */
	assert_version_at("long", INT64_MAX, LONG_N - 1);
	free(at);
}
END_TEST

START_TEST(version_at_edge_cases)
{
	int64_t got;
	ck_assert_es(version_at(&got, "never", ET_T0), ES_ENOTFOUND);
	ck_assert_es(es_stream_tombstone(et_db, "reserved", ES_NO_STREAM), 0);
	ck_assert_es(version_at(&got, "reserved", ET_T0), ES_ENOTFOUND);
	int64_t t0 = append_at("one", ET_T0);
	assert_version_at("one", t0, 0);
	assert_version_at("one", t0 + 5, 0);
	ck_assert_es(version_at(&got, "one", t0 - 1), ES_ENOTFOUND);
	/* A clock standing still: recorded_at still strictly increases. */
	int64_t t1 = append_at("one", ET_T0), t2 = append_at("one", ET_T0);
	assert_version_at("one", t1, 1);
	assert_version_at("one", t2, 2);
	/* Soft-deleted history counts; so does a recreated stream's. */
	ck_assert_es(es_stream_delete(et_db, "one", ES_ANY), 0);
	assert_version_at("one", t1, 1);
	int64_t t3 = append_at("one", ET_T0 + 100000);
	assert_version_at("one", t2, 2);
	assert_version_at("one", t3, 3);
	ck_assert_es(es_stream_tombstone(et_db, "one", ES_ANY), 0);
	assert_version_at("one", t3 + 1, 3);
	/* A batch is atomic in time: "as of T" sees all of it or none of it. */
	es_event_data *evs = et_events(3, "batch", 0);
	et_now = ET_T0 + 200000;
	ck_assert_es(es_stream_append(NULL, et_db, "batch", ES_NO_STREAM, evs, 3), 0);
	append_at("batch", ET_T0 + 300000);
	ck_assert_es(version_at(&got, "batch", evs[0].recorded_at - 1), ES_ENOTFOUND);
	assert_version_at("batch", evs[0].recorded_at, 2);
	assert_version_at("batch", ET_T0 + 300000 - 1, 2);
	assert_version_at("batch", ET_T0 + 300000, 3);
	et_events_free(evs, 3);
}
END_TEST

/* The newest version of at[0..n) recorded at or before t, -1 if none: what
 * es_stream_version_at must answer, by a scan too simple to be wrong. */
static int64_t scan_version_at(const int64_t *at, int64_t n, int64_t t)
{
	int64_t v = -1;
	while (v + 1 < n && at[v + 1] <= t)
		v++;
	return v;
}

/* Every event's time and a nanosecond either side, against the scan. */
static void assert_version_at_each(const char *stream, const int64_t *at, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		for (int64_t t = at[i] - 1; t <= at[i] + 1; t++) {
			int64_t want = scan_version_at(at, n, t), got;
			if (want >= 0)
				assert_version_at(stream, t, want);
			else
				ck_assert_es(version_at(&got, stream, t), ES_ENOTFOUND);
		}
}

/* Appends to stream until it has n events (at[] gets their times): batch j
 * holds size(j) events sharing one time, gap(j) ns after the batch before. */
static void append_batches(const char *stream, int64_t *at, int64_t n,
                           int64_t (*size)(int64_t), int64_t (*gap)(int64_t))
{
	for (int64_t j = 0, v = 0; v < n; j++) {
		size_t count = (size_t)(size(j) < n - v ? size(j) : n - v);
		es_event_data *evs = et_events(count, stream, 0);
		et_now += gap(j);
		ck_assert_es(es_stream_append(NULL, et_db, stream, ES_ANY, evs, count), 0);
		for (size_t i = 0; i < count; i++)
			at[v++] = evs[i].recorded_at;
		et_events_free(evs, count);
	}
}

/* Bursts of up to 13 events in one batch (longer than the search's walk
 * after a guess), a few ns apart, with a second's pause every 9 bursts. */
static int64_t burst_size(int64_t j) { return 1 + j * 7 % 13; }
static int64_t burst_gap(int64_t j) { return j % 9 == 0 ? 1000000000 : 1 + j % 4; }
/* Gaps doubling every 16 events: even spacing is a bad guess everywhere. */
static int64_t one(int64_t j) { (void)j; return 1; }
static int64_t doubling_gap(int64_t j) { return (int64_t)1 << (j / 16); }

#define UNEVEN_N 600

START_TEST(version_at_uneven_times)
{
	int64_t *at = malloc(2 * UNEVEN_N * sizeof *at);
	ck_assert_ptr_nonnull(at);
	append_batches("bursty", at, UNEVEN_N, burst_size, burst_gap);
	assert_version_at_each("bursty", at, UNEVEN_N);
	append_batches("skewed", at, UNEVEN_N, one, doubling_gap);
	assert_version_at_each("skewed", at, UNEVEN_N);
	/* Recreated after a soft delete: the hidden history still counts, and
	 * the stream record's first time is no longer version 0's. */
	ck_assert_es(es_stream_delete(et_db, "skewed", ES_ANY), 0);
	append_batches("skewed", at + UNEVEN_N, UNEVEN_N, burst_size, burst_gap);
	assert_version_at_each("skewed", at, 2 * UNEVEN_N);
	free(at);
}
END_TEST

static es_stream_info info_of(const char *stream)
{
	es_read *rd;
	es_stream_info info;
	memset(&info, 0x5a, sizeof info);
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_info_get(&info, rd, stream), 0);
	es_read_end(rd);
	return info;
}

START_TEST(info_for_each_state)
{
	int64_t t0 = append_at("s", ET_T0), t1 = append_at("s", ET_T0 + 10);
	es_stream_info i = info_of("s");
	ck_assert_int_eq(i.state, ES_STREAM_LIVE);
	ck_assert_int_eq(i.head_version, 1);
	ck_assert_int_eq(i.first_version, 0);
	ck_assert_int_eq(i.first_recorded_at, t0);
	ck_assert_int_eq(i.last_recorded_at, t1);
	ck_assert_es(es_stream_delete(et_db, "s", 1), 0);
	i = info_of("s");
	ck_assert_int_eq(i.state, ES_STREAM_SOFT_DELETED);
	ck_assert_int_eq(i.head_version, 1);
	ck_assert_int_eq(i.first_version, 2);
	ck_assert_int_eq(i.first_recorded_at, 0); /* no event at first_version */
	ck_assert_int_eq(i.last_recorded_at, t1);
	int64_t t2 = append_at("s", ET_T0 + 20), t3 = append_at("s", ET_T0 + 30);
	i = info_of("s");
	ck_assert_int_eq(i.state, ES_STREAM_LIVE);
	ck_assert_int_eq(i.head_version, 3);
	ck_assert_int_eq(i.first_version, 2);
	ck_assert_int_eq(i.first_recorded_at, t2);
	ck_assert_int_eq(i.last_recorded_at, t3);
	ck_assert_es(es_stream_tombstone(et_db, "s", 3), 0);
	i = info_of("s");
	ck_assert_int_eq(i.state, ES_STREAM_TOMBSTONED);
	ck_assert_int_eq(i.head_version, 3);
	ck_assert_es(es_stream_tombstone(et_db, "reserved", ES_ANY), 0);
	i = info_of("reserved");
	ck_assert_int_eq(i.state, ES_STREAM_TOMBSTONED);
	ck_assert_int_eq(i.head_version, -1);
	ck_assert_int_eq(i.last_recorded_at, 0);
	ck_assert_int_eq(et_head(et_db, "never"), -2);
}
END_TEST

/* ---- listing ---- */

typedef struct listing {
	char names[16][ES_STREAM_NAME_MAX + 1];
	size_t n;
	size_t stop_after; /* 0: never stop */
} listing;

static int collect(const char *stream, void *user_data)
{
	listing *l = user_data;
	ck_assert_uint_lt(l->n, 16);
	snprintf(l->names[l->n++], sizeof l->names[0], "%s", stream);
	return l->stop_after && l->n == l->stop_after ? 42 : 0;
}

/* Lists and compares with want, a space-separated list of names. */
static void assert_list(const char *prefix, const char *after, size_t limit, const char *want)
{
	es_read *rd;
	listing l = { .n = 0 };
	char got[1024] = "";
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_list(rd, prefix, after, limit, collect, &l), 0);
	es_read_end(rd);
	for (size_t i = 0; i < l.n; i++) {
		strcat(got, i ? " " : "");
		strcat(got, l.names[i]);
	}
	ck_assert_str_eq(got, want);
}

static void make_streams(void)
{
	const char *names[] = { "acc-2", "acc-10", "bob", "acc-1", "ac", "acc-", "b", "acd" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		et_append_ok(et_db, names[i], ES_NO_STREAM, 1);
}

START_TEST(list_with_prefix)
{
	make_streams();
	assert_list(NULL, NULL, ES_NO_LIMIT, "ac acc- acc-1 acc-10 acc-2 acd b bob");
	assert_list("", NULL, ES_NO_LIMIT, "ac acc- acc-1 acc-10 acc-2 acd b bob");
	assert_list("acc-", NULL, ES_NO_LIMIT, "acc- acc-1 acc-10 acc-2");
	assert_list("acc-1", NULL, ES_NO_LIMIT, "acc-1 acc-10");
	assert_list("b", NULL, ES_NO_LIMIT, "b bob");
	assert_list("z", NULL, ES_NO_LIMIT, "");
	assert_list("bobby", NULL, ES_NO_LIMIT, "");
	assert_list(NULL, NULL, 0, "");
}
END_TEST

START_TEST(list_pages_with_after)
{
	make_streams();
	assert_list(NULL, NULL, 3, "ac acc- acc-1");
	assert_list(NULL, "acc-1", 3, "acc-10 acc-2 acd");
	assert_list(NULL, "acd", 3, "b bob");
	assert_list(NULL, "bob", 3, "");
	assert_list("acc-", NULL, 2, "acc- acc-1");
	assert_list("acc-", "acc-1", 2, "acc-10 acc-2");
	assert_list("acc-", "acc-2", 2, "");
	assert_list("acc-", "a", 2, "acc- acc-1");    /* after sorts before the prefix */
	assert_list("acc-", "acc", 10, "acc- acc-1 acc-10 acc-2");
	assert_list("acc-", "b", 10, "");             /* after sorts past the prefix */
	assert_list(NULL, "acc-0", ES_NO_LIMIT, "acc-1 acc-10 acc-2 acd b bob"); /* not a name */
}
END_TEST

START_TEST(list_includes_deleted_and_stops_early)
{
	make_streams();
	ck_assert_es(es_stream_delete(et_db, "bob", ES_ANY), 0);
	ck_assert_es(es_stream_tombstone(et_db, "b", ES_ANY), 0);
	ck_assert_es(es_stream_tombstone(et_db, "bz", ES_NO_STREAM), 0);
	assert_list("b", NULL, ES_NO_LIMIT, "b bob bz");
	es_read *rd;
	listing l = { .n = 0, .stop_after = 2 };
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_int_eq(es_stream_list(rd, NULL, NULL, ES_NO_LIMIT, collect, &l), 42);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_es(es_stream_list(rd, NULL, NULL, 1, NULL, &l), ES_EINVAL);
	ck_assert_es(es_stream_list(NULL, NULL, NULL, 1, collect, &l), ES_EINVAL);
	es_read_end(rd);
}
END_TEST

/* ---- soft delete and tombstone ---- */

static void assert_hidden(const char *stream, int code)
{
	es_read *rd;
	es_iter *it = NULL;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_iter(&it, rd, stream, 0, ES_FORWARD, ES_NO_LIMIT), code);
	et_assert_msg_has(stream);
	ck_assert_es(es_stream_iter(&it, rd, stream, ES_HEAD, ES_BACKWARD, ES_NO_LIMIT), code);
	ck_assert_es(es_stream_get(&ev, rd, stream, 0), code);
	es_read_end(rd);
}

/* Stream versions read forward from 0 and backward from the head. */
static void assert_visible(const char *stream, int64_t first, int64_t head)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_iter(&it, rd, stream, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	for (int64_t v = first; v <= head; v++) {
		ck_assert_es(es_iter_next(&ev, it), 0);
		ck_assert_int_eq(ev.version, v);
	}
	ck_assert_es(es_iter_next(&ev, it), ES_ITEROVER);
	es_iter_free(it);
	ck_assert_es(es_stream_iter(&it, rd, stream, ES_HEAD, ES_BACKWARD, ES_NO_LIMIT), 0);
	for (int64_t v = head; v >= first; v--) {
		ck_assert_es(es_iter_next(&ev, it), 0);
		ck_assert_int_eq(ev.version, v);
	}
	ck_assert_es(es_iter_next(&ev, it), ES_ITEROVER);
	es_iter_free(it);
	if (first > 0)
		ck_assert_es(es_stream_get(&ev, rd, stream, first - 1), ES_ENOTFOUND);
	ck_assert_es(es_stream_get(&ev, rd, stream, first), 0);
	es_read_end(rd);
}

/* Counts the log's events of one stream. */
static size_t log_count(const char *stream)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	size_t n = 0;
	int rc;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_log_iter(&it, rd, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	while ((rc = es_iter_next(&ev, it)) == 0)
		n += strcmp(ev.stream, stream) == 0;
	ck_assert_es(rc, ES_ITEROVER);
	es_iter_free(it);
	es_read_end(rd);
	return n;
}

START_TEST(soft_delete_then_recreate)
{
	et_append_ok(et_db, "s", ES_NO_STREAM, 3);
	ck_assert_es(es_stream_delete(et_db, "s", 1), ES_ECONFLICT);
	assert_visible("s", 0, 2);
	ck_assert_es(es_stream_delete(et_db, "s", 2), 0);
	assert_hidden("s", ES_ENOTFOUND);
	ck_assert_es(es_stream_delete(et_db, "s", ES_ANY), ES_ENOTFOUND);
	ck_assert_es(es_stream_delete(et_db, "s", ES_STREAM_EXISTS), ES_ECONFLICT);
	ck_assert_uint_eq(log_count("s"), 3);
	es_append_result res;
	es_event_data *evs = et_events(2, "s", 0);
	ck_assert_es(es_stream_append(&res, et_db, "s", ES_NO_STREAM, evs, 2), 0);
	ck_assert_int_eq(res.first_version, 3);
	ck_assert_int_eq(res.head_version, 4);
	assert_visible("s", 3, 4);
	ck_assert_uint_eq(log_count("s"), 5);
	ck_assert_uint_eq(et_log_head(et_db), 5);
	ck_assert_es(es_stream_delete(et_db, "s", ES_STREAM_EXISTS), 0);
	ck_assert_es(es_stream_delete(et_db, "never", ES_ANY), ES_ENOTFOUND);
	et_events_free(evs, 2);
}
END_TEST

START_TEST(tombstone_ends_a_stream)
{
	et_append_ok(et_db, "t", ES_NO_STREAM, 2);
	ck_assert_es(es_stream_tombstone(et_db, "t", 0), ES_ECONFLICT);
	ck_assert_es(es_stream_tombstone(et_db, "t", ES_NO_STREAM), ES_ECONFLICT);
	assert_visible("t", 0, 1);
	ck_assert_es(es_stream_tombstone(et_db, "t", 1), 0);
	assert_hidden("t", ES_EDELETED);
	et_assert_msg_has("tombstoned");
	ck_assert_es(es_stream_append(NULL, et_db, "t", ES_ANY, NULL, 0), ES_EDELETED);
	ck_assert_es(es_stream_delete(et_db, "t", ES_ANY), ES_EDELETED);
	ck_assert_es(es_stream_tombstone(et_db, "t", ES_ANY), ES_EDELETED);
	ck_assert_uint_eq(log_count("t"), 2);
	/* A soft-deleted stream may be tombstoned as absent. */
	et_append_ok(et_db, "u", ES_NO_STREAM, 1);
	ck_assert_es(es_stream_delete(et_db, "u", ES_ANY), 0);
	ck_assert_es(es_stream_tombstone(et_db, "u", ES_NO_STREAM), 0);
	assert_hidden("u", ES_EDELETED);
	ck_assert_es(es_stream_tombstone(et_db, "v", ES_STREAM_EXISTS), ES_ECONFLICT);
	ck_assert_int_eq(et_head(et_db, "v"), -2);
	ck_assert_uint_eq(et_log_head(et_db), 3);
}
END_TEST

/* ---- names ---- */

/* Every call that takes a stream name refuses this one with ES_EINVAL. */
static void assert_name_refused(const char *name)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	es_stream_info info;
	es_batch *b;
	int64_t v;
	es_event_data data = et_event("Tested", "x");
	ck_assert_es(es_stream_append(NULL, et_db, name, ES_ANY, &data, 1), ES_EINVAL);
	ck_assert_es(es_stream_delete(et_db, name, ES_ANY), ES_EINVAL);
	ck_assert_es(es_stream_tombstone(et_db, name, ES_ANY), ES_EINVAL);
	ck_assert_es(es_batch_new(&b, et_db), 0);
	ck_assert_es(es_batch_append(b, name, ES_ANY, &data, 1), ES_EINVAL);
	es_batch_free(b);
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_iter(&it, rd, name, 0, ES_FORWARD, 1), ES_EINVAL);
	ck_assert_es(es_stream_get(&ev, rd, name, 0), ES_EINVAL);
	ck_assert_es(es_stream_info_get(&info, rd, name), ES_EINVAL);
	ck_assert_es(es_stream_version_at(&v, rd, name, ET_T0), ES_EINVAL);
	es_read_end(rd);
}

START_TEST(stream_names_checked)
{
	char name[ES_STREAM_NAME_MAX + 2];
	memset(name, 'x', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	assert_name_refused(NULL);
	assert_name_refused("");
	assert_name_refused(name); /* 256 bytes */
	ck_assert_uint_eq(et_log_head(et_db), 0);
	name[ES_STREAM_NAME_MAX] = '\0';
	et_append_ok(et_db, name, ES_NO_STREAM, 2);
	et_append_ok(et_db, "with space/and \xc3\xa9", ES_NO_STREAM, 1);
	ck_assert_int_eq(et_head(et_db, name), 1);
	ck_assert_uint_eq(et_count(et_db, "with space/and \xc3\xa9"), 1);
	assert_list("with", NULL, ES_NO_LIMIT, "with space/and \xc3\xa9");
	assert_list("xxx", NULL, ES_NO_LIMIT, name);
}
END_TEST

START_TEST(stream_calls_bad_handles)
{
	es_read *rd;
	es_stream_info info;
	int64_t v;
	et_append_ok(et_db, "s", ES_NO_STREAM, 1);
	ck_assert_es(es_stream_delete(NULL, "s", ES_ANY), ES_EINVAL);
	ck_assert_es(es_stream_tombstone(NULL, "s", ES_ANY), ES_EINVAL);
	ck_assert_es(es_stream_delete(et_db, "s", -9), ES_EINVAL);
	ck_assert_es(es_stream_tombstone(et_db, "s", -9), ES_EINVAL);
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_info_get(NULL, rd, "s"), ES_EINVAL);
	ck_assert_es(es_stream_info_get(&info, NULL, "s"), ES_EINVAL);
	ck_assert_es(es_stream_version_at(NULL, rd, "s", ET_T0), ES_EINVAL);
	ck_assert_es(es_stream_version_at(&v, NULL, "s", ET_T0), ES_EINVAL);
	es_read_end(rd);
	ck_assert_int_eq(et_head(et_db, "s"), 0);
}
END_TEST

TCase *es_tc_streams(void)
{
	TCase *tc = tcase_create("streams");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, version_at_on_long_stream);
	tcase_add_test(tc, version_at_edge_cases);
	tcase_add_test(tc, version_at_uneven_times);
	tcase_add_test(tc, info_for_each_state);
	tcase_add_test(tc, list_with_prefix);
	tcase_add_test(tc, list_pages_with_after);
	tcase_add_test(tc, list_includes_deleted_and_stops_early);
	tcase_add_test(tc, soft_delete_then_recreate);
	tcase_add_test(tc, tombstone_ends_a_stream);
	tcase_add_test(tc, stream_names_checked);
	tcase_add_test(tc, stream_calls_bad_handles);
	return tc;
}
