/*
 * test_migrate.c - es_migrate and es_migrate_check (migrate.c,
 * migrate_check.c): a copy through a caller's registry upcasts what it
 * knows and keeps everything else, replays deletes and tombstones, rebuilds
 * snapshots at the source's versions, and answers like the source; the
 * check names a copy that does not; failures say which event.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "counter.h"
#include "aggregates_tcases.h"

/* "Note" v1 -> v2 appends '!' to the payload; "Bad" v1 -> v2 always fails. */
static int exclaim(const void **payload, size_t *len, const es_upcast_event *in, es_arena *arena,
                   void *user_data)
{
	(void)user_data;
	char *p = es_arena_alloc(arena, in->payload_len + 1);
	if (!p)
		return ES_ENOMEM;
	memcpy(p, in->payload, in->payload_len);
	p[in->payload_len] = '!';
	*payload = p;
	*len = in->payload_len + 1;
	return 0;
}

static int refuse(const void **payload, size_t *len, const es_upcast_event *in, es_arena *arena,
                  void *user_data)
{
	(void)payload, (void)len, (void)in, (void)arena, (void)user_data;
	return es_error_set(ES_ESCHEMA, "this one cannot be converted");
}

static es_registry *note_registry(void)
{
	es_registry *r;
	es_upcaster note = { .type = "Note", .from_version = 1, .name = "exclaim", .fn = exclaim };
	es_upcaster bad = { .type = "Bad", .from_version = 1, .name = "refuse", .fn = refuse };
	ck_assert_es(es_registry_new(&r), 0);
	ck_assert_es(es_registry_add(r, &note), 0);
	ck_assert_es(es_registry_add(r, &bad), 0);
	ck_assert_es(es_registry_set_current(r, "Note", 2), 0);
	ck_assert_es(es_registry_set_current(r, "Bad", 2), 0);
	ck_assert_es(es_registry_validate(r), 0);
	return r;
}

static void append_note(es_db *db, const char *stream, const char *type, const char *text)
{
	es_event_data ev = { .type = type, .schema_version = 1, .payload = text, .payload_len = strlen(text) };
	ct_now += 10;
	ck_assert_es(es_stream_append(NULL, db, stream, ES_ANY, &ev, 1), 0);
}

/* Counters with snapshots every 3, a recreated one, a tombstoned one, and notes. */
static void build_source(const es_aggregate_type *t)
{
	int64_t amounts[] = { 1, 2, 3, 4, 5, 6, 7 };
	for (size_t i = 0; i < 7; i++) {
		ct_now += 10;
		counter_add(ct_db, t, "counter-a", &amounts[i], 1);
		append_note(ct_db, "notes", "Note", "hi");
	}
	counter_append_raw(ct_db, "counter-b", amounts, 3);
	ck_assert_es(es_stream_delete(ct_db, "counter-b", ES_ANY), 0);
	for (size_t i = 0; i < 4; i++) {
		ct_now += 10;
		counter_add(ct_db, t, "counter-b", &amounts[i], 1);
	}
	counter_append_raw(ct_db, "counter-c", amounts, 2);
	ck_assert_es(es_stream_tombstone(ct_db, "counter-c", ES_ANY), 0);
}

static es_db *open_copy(void)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = 1;
	es_db *db;
	ck_assert_es(es_db_open(&db, es_test_tmpdir(), &o), 0);
	return db;
}

static int count_progress(const es_migrate_progress *p, void *user_data)
{
	uint64_t *last = user_data;
	ck_assert_uint_ge(p->events, *last);
	*last = p->events;
	return 0;
}

START_TEST(copy_upcasts_and_answers_alike)
{
	es_aggregate_type t = counter_type(3, 1);
	build_source(&t);
	es_registry *reg = note_registry();
	es_db *dst = open_copy();
	const es_aggregate_type *types[] = { &t };
	es_migrate_options o;
	ck_assert_es(es_migrate_options_init(&o, ES_MIGRATE_OPTIONS_VERSION), 0);
	o.registry = reg;
	o.snapshot_types = types;
	o.snapshot_type_count = 1;
	o.batch_events = 4;
	uint64_t last = 0;
	o.progress = count_progress;
	o.progress_user_data = &last;
	es_migrate_stats st;
	ck_assert_es(es_migrate(&st, ct_db, dst, &o), 0);
	ck_assert_uint_eq(st.events, 7 + 7 + 3 + 4 + 2);
	ck_assert_uint_eq(last, st.events);
	ck_assert_uint_eq(st.upcast, 7);
	ck_assert_uint_eq(st.foreign, st.events - 7);
	ck_assert_uint_eq(st.streams, 4);
	ck_assert_uint_eq(st.special, 2);
	ck_assert_uint_eq(st.soft_deletes, 1);
	ck_assert_uint_eq(st.tombstones, 1);
	/* The source's snapshot versions, rebuilt in the copy. */
	size_t snaps = 0;
	static const char *const streams[] = { "counter-a", "counter-b" };
	for (size_t i = 0; i < 2; i++) {
		char *want = strdup(counter_snapshots(ct_db, streams[i]));
		ck_assert_str_ne(want, "");
		ck_assert_str_eq(counter_snapshots(dst, streams[i]), want);
		for (const char *c = want; *c; c++)
			snaps += *c == ',';
		snaps++;
		free(want);
	}
	ck_assert_uint_eq(st.snapshots, snaps);

	es_read *rd;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, dst), 0);
	ck_assert_es(es_stream_get(&ev, rd, "notes", 3), 0);
	ck_assert_uint_eq(ev.schema_version, 2);
	ck_assert(ev.payload_len == 3 && memcmp(ev.payload, "hi!", 3) == 0);
	es_read_end(rd);

	es_migrate_check_stats ck;
	ck_assert_es(es_migrate_check(&ck, ct_db, dst, &t, 5, NULL, NULL), 0);
	ck_assert_uint_eq(ck.streams, 3);
	ck_assert_uint_eq(ck.times, 5);
	ck_assert_uint_eq(ck.differences, 0);
	ck_assert_uint_eq(ck.compared, 3 * 5 + 3);
	es_db_close(dst);
	es_registry_free(reg);
}
END_TEST

static void note_difference(const es_migrate_difference *d, void *user_data)
{
	int *n = user_data;
	ck_assert_str_eq(d->stream, "counter-a");
	ck_assert_int_eq(d->source_rc, 0);
	ck_assert_int_eq(d->copy_rc, 0);
	ck_assert_int_ne(((const counter *)d->source_state)->sum, ((const counter *)d->copy_state)->sum);
	++*n;
}

START_TEST(check_names_a_copy_that_differs)
{
	es_aggregate_type t = counter_type(3, 1);
	build_source(&t);
	es_db *dst = open_copy();
	ck_assert_es(es_migrate(NULL, ct_db, dst, NULL), 0);
	/* A snapshot in the copy that lies about counter-a's state at version 5. */
	counter wrong = { 999, 6, 1 };
	uint8_t *bytes;
	size_t len;
	ck_assert_es(t.snapshot_encode(&bytes, &len, &wrong), 0);
	es_snapshot_key key = { t.state_schema_version, 0 };
	ck_assert_es(es_snapshot_write(dst, "counter-a", 5, &key, bytes, len), 0);
	free(bytes);
	int n = 0;
	es_migrate_check_stats ck;
	ck_assert_es(es_migrate_check(&ck, ct_db, dst, &t, 3, note_difference, &n), 0);
	ck_assert_uint_gt(ck.differences, 0);
	ck_assert_int_eq(n, (int)ck.differences);
	/* A stream whose state differs is damage, named. */
	ck_assert_es(es_stream_delete(dst, "counter-a", ES_ANY), 0);
	ck_assert_es(es_migrate_check(&ck, ct_db, dst, &t, 3, NULL, NULL), ES_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "stream 'counter-a'"));
	es_db_close(dst);
}
END_TEST

static int stop_at_first(const es_migrate_progress *p, void *user_data)
{
	(void)p, (void)user_data;
	return 42;
}

START_TEST(failures_name_the_event)
{
	es_aggregate_type t = counter_type(3, 1);
	es_registry *reg = note_registry();
	append_note(ct_db, "notes", "Note", "a");
	append_note(ct_db, "notes", "Bad", "b");
	es_db *dst = open_copy();
	es_migrate_options o = ES_MIGRATE_OPTIONS_INIT;
	o.registry = reg;
	ck_assert_es(es_migrate(NULL, ct_db, dst, &o), ES_ESCHEMA);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "position 2"));
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "cannot be converted"));
	es_db_close(dst);

	/* A progress callback that stops: nothing was committed yet, so nothing is. */
	dst = open_copy();
	o.registry = NULL;
	o.progress = stop_at_first;
	ck_assert_es(es_migrate(NULL, ct_db, dst, &o), 42);
	es_read *rd;
	uint64_t head = 9;
	ck_assert_es(es_read_begin(&rd, dst), 0);
	ck_assert_es(es_log_head(&head, rd), 0);
	es_read_end(rd);
	ck_assert_uint_eq(head, 0);
	/* Not empty, bad options, NULLs. */
	o.progress = NULL;
	ck_assert_es(es_migrate(NULL, ct_db, dst, &o), 0);
	ck_assert_es(es_migrate(NULL, ct_db, dst, &o), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "not empty"));
	o.version = 7;
	ck_assert_es(es_migrate(NULL, ct_db, dst, &o), ES_EINVAL);
	ck_assert_es(es_migrate(NULL, NULL, dst, NULL), ES_EINVAL);
	ck_assert_es(es_migrate_options_init(&o, 7), ES_EINVAL);
	o = (es_migrate_options)ES_MIGRATE_OPTIONS_INIT;
	o.snapshot_type_count = 1;
	ck_assert_es(es_migrate(NULL, ct_db, dst, &o), ES_EINVAL);
	ck_assert_es(es_migrate_check(NULL, ct_db, NULL, &t, 3, NULL, NULL), ES_EINVAL);
	es_db_close(dst);
	es_registry_free(reg);
}
END_TEST

TCase *es_tc_migrate(void)
{
	TCase *tc = tcase_create("migrate");
	tcase_add_checked_fixture(tc, ct_setup, ct_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, copy_upcasts_and_answers_alike);
	tcase_add_test(tc, check_names_a_copy_that_differs);
	tcase_add_test(tc, failures_name_the_event);
	return tc;
}
