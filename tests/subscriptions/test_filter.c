/*
 * test_filter.c - subscriptions/filter.c: stream prefixes, event types, a
 * caller's predicate, their combination, progress on sparse filters, and
 * filtering after upcasting.
 */
#include <string.h>

#include "subtest.h"

static es_subscription *open_sub(const es_subscription_options *o)
{
	es_subscription *sub = NULL;
	ck_assert_es(es_subscription_open(&sub, st_db, o), 0);
	return sub;
}

/* Positions: 1-2 acct-1 Opened/Deposited, 3 user-1 Joined, 4 acct-2
 * Opened, 5 other Deposited, 6 acct-1 Withdrawn. */
static void fill(void)
{
	st_append(st_db, "acct-1", "Opened", 1);
	st_append(st_db, "acct-1", "Deposited", 1);
	st_append(st_db, "user-1", "Joined", 1);
	st_append(st_db, "acct-2", "Opened", 1);
	st_append(st_db, "other", "Deposited", 1);
	st_append(st_db, "acct-1", "Withdrawn", 1);
}

START_TEST(stream_prefixes)
{
	fill();
	const char *prefixes[] = { "user-", "acct-2" };
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.stream_prefixes = prefixes;
	o.n_stream_prefixes = 2;
	es_subscription *sub = open_sub(&o);
	st_expect_event(sub, 3, "user-1", "Joined");
	st_expect_event(sub, 4, "acct-2", "Opened");
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 6); /* scanned past 5 and 6 */
	ck_assert_uint_eq(es_subscription_position(sub), 6);
	es_subscription_free(sub);
}
END_TEST

START_TEST(types_and_prefix_combine)
{
	fill();
	const char *types[] = { "Deposited", "Withdrawn" };
	const char *prefixes[] = { "acct-" };
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.types = types;
	o.n_types = 2;
	es_subscription *sub = open_sub(&o);
	st_expect_event(sub, 2, "acct-1", "Deposited");
	st_expect_event(sub, 5, "other", "Deposited");
	st_expect_event(sub, 6, "acct-1", "Withdrawn");
	es_subscription_free(sub);
	o.stream_prefixes = prefixes;
	o.n_stream_prefixes = 1;
	sub = open_sub(&o);
	st_expect_event(sub, 2, "acct-1", "Deposited");
	st_expect_event(sub, 6, "acct-1", "Withdrawn");
	es_subscription_free(sub);
}
END_TEST

static int even_positions(const es_event *ev, void *user_data)
{
	++*(int *)user_data;
	return ev->position % 2 == 0;
}

START_TEST(predicate_runs_after_the_cheap_filters)
{
	fill();
	const char *prefixes[] = { "acct-" };
	int calls = 0;
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.stream_prefixes = prefixes;
	o.n_stream_prefixes = 1;
	o.filter = even_positions;
	o.filter_user_data = &calls;
	es_subscription *sub = open_sub(&o);
	st_expect_event(sub, 2, "acct-1", "Deposited");
	st_expect_event(sub, 4, "acct-2", "Opened");
	st_expect_event(sub, 6, "acct-1", "Withdrawn");
	ck_assert_int_eq(calls, 4); /* only the acct- events reach it */
	es_subscription_free(sub);
}
END_TEST

/* A filter that matches rarely still moves the position on. */
START_TEST(sparse_filter_reports_progress)
{
	for (int i = 0; i < 5; i++)
		st_append(st_db, "noise", "Noise", 50);
	st_append(st_db, "rare", "Rare", 1);
	const char *types[] = { "Rare" };
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.types = types;
	o.n_types = 1;
	o.progress_every = 100;
	o.chunk = 30;
	es_subscription *sub = open_sub(&o);
	st_expect_signal(sub, ES_SUBSCRIPTION_PROGRESS, 100);
	st_expect_signal(sub, ES_SUBSCRIPTION_PROGRESS, 200);
	st_expect_event(sub, 251, "rare", "Rare");
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 251);
	es_subscription_free(sub);
}
END_TEST

static int rename_step(const void **payload, size_t *payload_len, const es_upcast_event *in,
                       es_arena *arena, void *user_data)
{
	(void)arena, (void)user_data;
	*payload = in->payload;
	*payload_len = in->payload_len;
	return 0;
}

/* With a registry, filters and the consumer see the upcast event. */
START_TEST(filters_see_upcast_events)
{
	st_append(st_db, "a", "OldName", 1);
	st_append(st_db, "a", "Other", 1);
	es_registry *reg;
	ck_assert_es(es_registry_new(&reg), 0);
	es_upcaster step = { .type = "OldName", .from_version = 1, .to_type = "NewName",
	                     .name = "rename", .revision = 1, .fn = rename_step };
	ck_assert_es(es_registry_add(reg, &step), 0);
	ck_assert_es(es_registry_set_current(reg, "NewName", 2), 0);
	const char *types[] = { "NewName" };
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.types = types;
	o.n_types = 1;
	o.upcast = reg;
	es_subscription *sub = open_sub(&o);
	es_subscription_item it;
	ck_assert_es(es_subscription_next(&it, sub, 0), ES_EINVAL); /* not validated yet */
	ck_assert_es(es_registry_validate(reg), 0);
	it = st_next(sub);
	ck_assert_int_eq(it.kind, ES_SUBSCRIPTION_EVENT);
	ck_assert_str_eq(it.event.type, "NewName");
	ck_assert_uint_eq(it.event.schema_version, 2);
	ck_assert_uint_eq(it.event.position, 1);
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 2);
	es_subscription_free(sub);
	es_registry_free(reg);
}
END_TEST

/* The iterator skips by stored type id; a type first stored after the
 * subscription opened is found too. */
START_TEST(type_stored_after_open)
{
	st_append(st_db, "a", "Early", 3);
	const char *types[] = { "Later", "Early" };
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.types = types;
	o.n_types = 2;
	es_subscription *sub = open_sub(&o);
	st_expect_event(sub, 1, "a", "Early");
	st_expect_event(sub, 2, "a", "Early");
	st_expect_event(sub, 3, "a", "Early");
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 3);
	st_append(st_db, "b", "Other", 2);
	st_append(st_db, "b", "Later", 1);
	st_expect_event(sub, 6, "b", "Later");
	ck_assert_uint_eq(es_subscription_position(sub), 6);
	es_subscription_free(sub);
}
END_TEST

/* A type no event has: the iterator skips the whole log, and the
 * subscription is caught up at its head (it once looked again forever). */
START_TEST(type_matching_nothing_is_caught_up_at_head)
{
	st_append(st_db, "a", "Common", 20);
	const char *types[] = { "Absent" };
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.types = types;
	o.n_types = 1;
	es_subscription *sub = open_sub(&o);
	st_expect_signal(sub, ES_SUBSCRIPTION_CAUGHT_UP, 20);
	es_subscription_item it;
	ck_assert_es(es_subscription_next(&it, sub, 0), ES_ETIMEDOUT);
	es_subscription_free(sub);
}
END_TEST

START_TEST(bad_filters)
{
	es_subscription *sub = NULL;
	const char *with_null[] = { "ok", NULL };
	const char *with_empty[] = { "" };
	es_subscription_options o = ES_SUBSCRIPTION_OPTIONS_INIT;
	o.n_stream_prefixes = 1; /* and no array */
	ck_assert_es(es_subscription_open(&sub, st_db, &o), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "stream_prefixes"));
	o.stream_prefixes = with_null;
	o.n_stream_prefixes = 2;
	ck_assert_es(es_subscription_open(&sub, st_db, &o), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "stream_prefixes[1]"));
	o.n_stream_prefixes = 0;
	o.types = with_empty;
	o.n_types = 1;
	ck_assert_es(es_subscription_open(&sub, st_db, &o), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "types[0]"));
	ck_assert_ptr_null(sub);
}
END_TEST

TCase *es_tc_filter(void)
{
	TCase *tc = tcase_create("filter");
	tcase_add_checked_fixture(tc, st_setup, st_teardown);
	tcase_add_test(tc, stream_prefixes);
	tcase_add_test(tc, types_and_prefix_combine);
	tcase_add_test(tc, predicate_runs_after_the_cheap_filters);
	tcase_add_test(tc, sparse_filter_reports_progress);
	tcase_add_test(tc, filters_see_upcast_events);
	tcase_add_test(tc, type_stored_after_open);
	tcase_add_test(tc, type_matching_nothing_is_caught_up_at_head);
	tcase_add_test(tc, bad_filters);
	return tc;
}
