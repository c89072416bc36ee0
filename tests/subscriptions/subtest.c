/* subtest.c - helpers shared by the subscriptions suite's test files. */
#include <string.h>

#include "subtest.h"

es_db *st_db;
const char *st_path;

void st_setup(void)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = 1; /* wake-ups and order do not need the disk */
	st_path = es_test_tmpdir();
	ck_assert_es(es_db_open(&st_db, st_path, &o), 0);
}

void st_teardown(void)
{
	es_db_close(st_db);
	st_db = NULL;
	es_test_tmpdir_remove();
}

void st_append(es_db *db, const char *stream, const char *type, size_t n)
{
	es_event_data evs[64];
	ck_assert_uint_le(n, 64);
	for (size_t i = 0; i < n; i++)
		evs[i] = (es_event_data){ .type = type, .schema_version = 1, .payload = "p", .payload_len = 1 };
	ck_assert_es(es_stream_append(NULL, db, stream, ES_ANY, evs, n), 0);
}

es_subscription_item st_next(es_subscription *sub)
{
	es_subscription_item item;
	ck_assert_es(es_subscription_next(&item, sub, 10000), 0);
	return item;
}

void st_expect_event(es_subscription *sub, uint64_t position, const char *stream, const char *type)
{
	es_subscription_item it = st_next(sub);
	ck_assert_msg(it.kind == ES_SUBSCRIPTION_EVENT, "expected event %llu, got signal %d at %llu",
	              (unsigned long long)position, (int)it.kind, (unsigned long long)it.position);
	ck_assert_uint_eq(it.event.position, position);
	ck_assert_uint_eq(it.position, position);
	ck_assert_str_eq(it.event.stream, stream);
	ck_assert_str_eq(it.event.type, type);
}

void st_expect_signal(es_subscription *sub, es_subscription_item_kind kind, uint64_t position)
{
	es_subscription_item it = st_next(sub);
	ck_assert_msg(it.kind == kind, "expected signal %d, got kind %d at %llu", (int)kind, (int)it.kind,
	              (unsigned long long)it.position);
	ck_assert_uint_eq(it.position, position);
}
