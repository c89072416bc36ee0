/*
 * test_rebuild.c - es_aggregate_rebuild_snapshots (rebuild.c): after a state
 * schema change every snapshot of every stream of the type is rebuilt and
 * usable again; other types' streams, deleted streams and the part of a
 * stream before a soft delete are handled.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "counter.h"
#include "aggregates_tcases.h"
#include "db.h" /* es__snapshot_put: raw snapshot bytes */

static void add_each(const es_aggregate_type *t, const char *stream, int64_t first, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t v = first + (int64_t)i * 3;
		ct_now += 10;
		counter_add(ct_db, t, stream, &v, 1);
	}
}

/* Loads every version of stream under t: none passes a snapshot over. */
static void loads_skip_nothing(const es_aggregate_type *t, const char *stream, int64_t head)
{
	for (int64_t v = 0; v <= head; v++) {
		counter c;
		es_load_info info;
		ck_assert_es(es_aggregate_load_at_version(&c, &info, ct_db, t, stream, v), 0);
		ck_assert_uint_eq(info.snapshots_skipped, 0);
		ck_assert_int_eq(info.snapshot_rewritten, 0);
		ck_assert_int_eq(c.count, v + 1);
	}
}

START_TEST(rebuild_after_schema_change)
{
	es_aggregate_type t1 = counter_type(3, 1);
	add_each(&t1, "counter-a", 1, 10);   /* 2,5,8 */
	add_each(&t1, "counter-b", 7, 7);    /* 2,5 */
	add_each(&t1, "counter-c", -4, 2);   /* none */
	es_aggregate_type t2 = counter_type(3, 2);
	size_t rebuilt = 99;
	ck_assert_es(es_aggregate_rebuild_snapshots(&rebuilt, ct_db, &t2), 0);
	ck_assert_uint_eq(rebuilt, 5);
	ck_assert_uint_eq(counter_snapshots_match_fold(&t2, "counter-a"), 3);
	ck_assert_uint_eq(counter_snapshots_match_fold(&t2, "counter-b"), 2);
	ck_assert_uint_eq(counter_snapshots_match_fold(&t2, "counter-c"), 0);
	ck_assert_str_eq(counter_snapshots(ct_db, "counter-a"), "2,5,8");
	loads_skip_nothing(&t2, "counter-a", 9);
	loads_skip_nothing(&t2, "counter-b", 6);
	/* Rebuilding again is harmless and gives the same snapshots. */
	ck_assert_es(es_aggregate_rebuild_snapshots(NULL, ct_db, &t2), 0);
	ck_assert_uint_eq(counter_snapshots_match_fold(&t2, "counter-a"), 3);
}
END_TEST

START_TEST(rebuild_repairs_corrupt_snapshots)
{
	es_aggregate_type t = counter_type(4, 1);
	add_each(&t, "counter-a", 5, 9); /* 3,7 */
	es_snapshot_key key = { 1, 0 };
	ck_assert_es(es__snapshot_put(ct_db, "counter-a", 3, "junk", 4), 0);
	ck_assert_es(es_snapshot_write(ct_db, "counter-a", 7, &key, "bad state", 9), 0);
	size_t rebuilt;
	ck_assert_es(es_aggregate_rebuild_snapshots(&rebuilt, ct_db, &t), 0);
	ck_assert_uint_eq(rebuilt, 2);
	ck_assert_uint_eq(counter_snapshots_match_fold(&t, "counter-a"), 2);
	loads_skip_nothing(&t, "counter-a", 8);
}
END_TEST

START_TEST(rebuild_leaves_other_prefixes_alone)
{
	es_aggregate_type t1 = counter_type(2, 1);
	add_each(&t1, "counter-a", 1, 4);   /* 1,3 */
	add_each(&t1, "other-a", 1, 4);     /* 1,3, another type's prefix */
	es_aggregate_type t2 = counter_type(2, 2);
	size_t rebuilt;
	ck_assert_es(es_aggregate_rebuild_snapshots(&rebuilt, ct_db, &t2), 0);
	ck_assert_uint_eq(rebuilt, 2);
	es_read *rd;
	es_snapshot snap;
	es_snapshot_key old = { 1, 0 };
	ck_assert_es(es_read_begin(&rd, ct_db), 0);
	ck_assert_es(es_snapshot_find(&snap, rd, "other-a", 3, &old, NULL, NULL), 0);
	ck_assert_int_eq(snap.version, 3);
	es_read_end(rd);
}
END_TEST

START_TEST(rebuild_with_deleted_streams)
{
	es_aggregate_type t1 = counter_type(2, 1);
	add_each(&t1, "counter-gone", 1, 4);   /* 1,3 then soft-deleted */
	add_each(&t1, "counter-dead", 1, 4);   /* 1,3 then tombstoned */
	add_each(&t1, "counter-again", 1, 4);  /* 1,3, soft-deleted, recreated */
	add_each(&t1, "counter-live", 1, 4);   /* 1,3 */
	ck_assert_es(es_stream_delete(ct_db, "counter-gone", ES_ANY), 0);
	ck_assert_es(es_stream_tombstone(ct_db, "counter-dead", ES_ANY), 0);
	ck_assert_es(es_stream_delete(ct_db, "counter-again", ES_ANY), 0);
	add_each(&t1, "counter-again", 100, 2); /* versions 4,5: count 6 crosses 6 */
	ck_assert_str_eq(counter_snapshots(ct_db, "counter-again"), "1,3,5");
	es_aggregate_type t2 = counter_type(2, 2);
	size_t rebuilt;
	ck_assert_es(es_aggregate_rebuild_snapshots(&rebuilt, ct_db, &t2), 0);
	/* live: 1,3; again: 5 (1 and 3 belong to the deleted past) */
	ck_assert_uint_eq(rebuilt, 3);
	ck_assert_uint_eq(counter_snapshots_match_fold(&t2, "counter-live"), 2);
	counter c;
	es_load_info info;
	ck_assert_es(es_aggregate_load(&c, &info, ct_db, &t2, "counter-again"), 0);
	ck_assert_int_eq(c.count, 2);
	ck_assert_int_eq(info.snapshot_version, 5);
	ck_assert_uint_eq(info.snapshots_skipped, 0);
}
END_TEST

START_TEST(rebuild_bad_arguments)
{
	es_aggregate_type t = counter_type(2, 1);
	size_t rebuilt = 7;
	ck_assert_es(es_aggregate_rebuild_snapshots(&rebuilt, ct_db, &t), 0);
	ck_assert_uint_eq(rebuilt, 0); /* empty store */
	ck_assert_es(es_aggregate_rebuild_snapshots(&rebuilt, NULL, &t), ES_EINVAL);
	ck_assert_es(es_aggregate_rebuild_snapshots(&rebuilt, ct_db, NULL), ES_EINVAL);
	es_aggregate_type bad = t;
	bad.stream_prefix = NULL;
	ck_assert_es(es_aggregate_rebuild_snapshots(&rebuilt, ct_db, &bad), ES_EINVAL);
	bad = counter_type(UINT32_MAX, 1);
	ck_assert_es(es_aggregate_rebuild_snapshots(&rebuilt, ct_db, &bad), ES_EINVAL);
	bad = t;
	bad.snapshot_decode = NULL;
	ck_assert_es(es_aggregate_rebuild_snapshots(&rebuilt, ct_db, &bad), ES_EINVAL);
}
END_TEST

START_TEST(rebuild_stops_at_an_unfoldable_stream)
{
	es_aggregate_type t = counter_type(2, 1);
	add_each(&t, "counter-a", 1, 2);
	es_event_data ev = { .type = "Unknown", .schema_version = 1, .payload = "x", .payload_len = 1 };
	ck_assert_es(es_stream_append(NULL, ct_db, "counter-a", ES_ANY, &ev, 1), 0);
	ck_assert_es(es_aggregate_rebuild_snapshots(NULL, ct_db, &t), 0); /* snapshot at 1 precedes it */
	int64_t one = 1;
	counter_append_raw(ct_db, "counter-a", &one, 1);
	es_snapshot_key key = { 1, 0 };
	ck_assert_es(es_snapshot_write(ct_db, "counter-a", 3, &key, "x", 1), 0); /* the fold cannot get there */
	ck_assert_str_eq(counter_snapshots(ct_db, "counter-a"), "1,3");
	ck_assert_es(es_aggregate_rebuild_snapshots(NULL, ct_db, &t), ES_ESCHEMA);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "counter-a"));
}
END_TEST

TCase *es_tc_rebuild(void)
{
	TCase *tc = tcase_create("rebuild");
	tcase_add_checked_fixture(tc, ct_setup, ct_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rebuild_after_schema_change);
	tcase_add_test(tc, rebuild_repairs_corrupt_snapshots);
	tcase_add_test(tc, rebuild_leaves_other_prefixes_alone);
	tcase_add_test(tc, rebuild_with_deleted_streams);
	tcase_add_test(tc, rebuild_bad_arguments);
	tcase_add_test(tc, rebuild_stops_at_an_unfoldable_stream);
	return tc;
}
