/* test_import.c - engine/import.c: the importer's checks and errors, round
 * trips of ids, versions, positions and recorded_at, deletes and tombstones,
 * aborts, and imports into a store that holds a prefix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enginetest.h"

/* An event to import: stream s, version v at position p, id from n, time t. */
static es_imported_event imp_ev(const char *s, int64_t v, uint64_t p, uint32_t n, int64_t t)
{
	es_imported_event ev = { .stream = s, .version = v, .position = p, .recorded_at = t,
	                         .type = "Imported", .schema_version = 2, .payload = "x", .payload_len = 1 };
	et_id(ev.id, n);
	return ev;
}

static es_importer *begin(es_db *db, size_t batch)
{
	es_import_options o = ES_IMPORT_OPTIONS_INIT;
	o.batch_events = batch;
	es_importer *imp;
	ck_assert_es(es_import_begin(&imp, db, &o), 0);
	return imp;
}

/* A source with every kind of history: multi-stream batches sharing a time,
 * metadata and optional fields, a recreated stream, a soft-deleted one, a
 * tombstoned one and a reserved (tombstoned, never written) name. */
static void build_source(es_db *db)
{
	es_metadata md[2] = { { "k", "v" }, { "who", "test" } };
	for (int i = 0; i < 12; i++) {
		es_event_data a = et_event("A", "a"), b = et_event("B", "bb");
		a.metadata = md;
		a.metadata_count = 2;
		a.occurred_at = ET_T0 - i;
		et_id(a.correlation_id, 9000 + (uint32_t)i);
		et_id(b.causation_id, 9100 + (uint32_t)i);
		es_batch *bt;
		et_now = ET_T0 + i * 1000;
		ck_assert_es(es_batch_new(&bt, db), 0);
		ck_assert_es(es_batch_append(bt, i % 2 ? "even" : "odd", ES_ANY, &a, 1), 0);
		ck_assert_es(es_batch_append(bt, "rec", ES_ANY, &b, 1), 0);
		ck_assert_es(es_batch_commit(bt, NULL), 0);
		if (i == 5)
			ck_assert_es(es_stream_delete(db, "rec", ES_ANY), 0);
	}
	et_append_ok(db, "gone", ES_ANY, 3);
	ck_assert_es(es_stream_delete(db, "gone", ES_ANY), 0);
	et_append_ok(db, "dead", ES_ANY, 2);
	ck_assert_es(es_stream_tombstone(db, "dead", ES_ANY), 0);
	ck_assert_es(es_stream_tombstone(db, "reserved", ES_ANY), 0);
}

static int declare(const char *stream, void *user_data)
{
	void **a = user_data;
	es_stream_info si;
	ck_assert_es(es_stream_info_get(&si, a[1], stream), 0);
	if (si.state != ES_STREAM_LIVE || si.first_version > 0)
		ck_assert_es(es_import_stream_state(a[0], stream, si.state, si.head_version, si.first_version), 0);
	return 0;
}

/* An event read from a store, as an event to import; metadata copied into m. */
typedef struct md_copy {
	es_metadata md[8];
	char text[8][2][32];
} md_copy;

static es_imported_event as_imported(const es_event *ev, md_copy *m)
{
	es_imported_event e = { .stream = ev->stream, .version = ev->version, .position = ev->position,
	                        .recorded_at = ev->recorded_at, .occurred_at = ev->occurred_at,
	                        .type = ev->type, .schema_version = ev->schema_version,
	                        .payload = ev->payload, .payload_len = ev->payload_len, .metadata = m->md };
	size_t cur = 0, kl, vl;
	const char *k, *v;
	while (es_event_metadata_next(ev, &cur, &k, &kl, &v, &vl) == 0 && e.metadata_count < 8) {
		size_t n = e.metadata_count++;
		snprintf(m->text[n][0], 32, "%.*s", (int)kl, k);
		snprintf(m->text[n][1], 32, "%.*s", (int)vl, v);
		m->md[n] = (es_metadata){ m->text[n][0], m->text[n][1] };
	}
	memcpy(e.id, ev->id, 16);
	memcpy(e.correlation_id, ev->correlation_id, 16);
	memcpy(e.causation_id, ev->causation_id, 16);
	return e;
}

/* Imports src's log from position `from` into dst (states declared first). */
static void copy_store(es_import_stats *st, es_db *src, es_db *dst, uint64_t from, size_t batch)
{
	es_importer *imp = begin(dst, batch);
	es_read *rd;
	es_iter *it;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, src), 0);
	void *args[2] = { imp, rd };
	ck_assert_es(es_stream_list(rd, NULL, NULL, ES_NO_LIMIT, declare, args), 0);
	ck_assert_es(es_log_iter(&it, rd, from, ES_FORWARD, ES_NO_LIMIT), 0);
	int rc;
	while ((rc = es_iter_next(&ev, it)) == 0) {
		md_copy m;
		es_imported_event e = as_imported(&ev, &m);
		ck_assert_es(es_import_event(imp, &e), 0);
	}
	ck_assert_es(rc, ES_ITEROVER);
	es_iter_free(it);
	es_read_end(rd);
	ck_assert_es(es_import_finish(imp, st), 0);
}

static int compare_stream(const char *stream, void *user_data)
{
	es_read **rd = user_data;
	es_stream_info a, b;
	ck_assert_es(es_stream_info_get(&a, rd[0], stream), 0);
	ck_assert_es(es_stream_info_get(&b, rd[1], stream), 0);
	ck_assert_msg(a.head_version == b.head_version && a.first_version == b.first_version &&
	              a.first_recorded_at == b.first_recorded_at && a.last_recorded_at == b.last_recorded_at &&
	              a.state == b.state, "stream %s differs: head %lld/%lld first %lld/%lld at %lld/%lld "
	              "%lld/%lld state %d/%d", stream, (long long)a.head_version, (long long)b.head_version,
	              (long long)a.first_version, (long long)b.first_version, (long long)a.first_recorded_at,
	              (long long)b.first_recorded_at, (long long)a.last_recorded_at,
	              (long long)b.last_recorded_at, a.state, b.state);
	return 0;
}

/* Every event's every field, and every stream's info, are the same. */
static void assert_same_stores(es_db *x, es_db *y)
{
	es_read *rd[2];
	es_iter *it[2];
	es_event a, b;
	ck_assert_es(es_read_begin(&rd[0], x), 0);
	ck_assert_es(es_read_begin(&rd[1], y), 0);
	ck_assert_es(es_log_iter(&it[0], rd[0], 1, ES_FORWARD, ES_NO_LIMIT), 0);
	ck_assert_es(es_log_iter(&it[1], rd[1], 1, ES_FORWARD, ES_NO_LIMIT), 0);
	int ra, rb;
	while ((ra = es_iter_next(&a, it[0])) == 0) {
		ck_assert_es(rb = es_iter_next(&b, it[1]), 0);
		ck_assert_str_eq(a.stream, b.stream);
		ck_assert_str_eq(a.type, b.type);
		ck_assert_int_eq(a.version, b.version);
		ck_assert_uint_eq(a.position, b.position);
		ck_assert_int_eq(a.recorded_at, b.recorded_at);
		ck_assert_int_eq(a.occurred_at, b.occurred_at);
		ck_assert_uint_eq(a.schema_version, b.schema_version);
		ck_assert(memcmp(a.id, b.id, 16) == 0 && memcmp(a.correlation_id, b.correlation_id, 16) == 0 &&
		          memcmp(a.causation_id, b.causation_id, 16) == 0);
		ck_assert(a.payload_len == b.payload_len && memcmp(a.payload, b.payload, a.payload_len) == 0);
		ck_assert(a.metadata_len == b.metadata_len && memcmp(a.metadata, b.metadata, a.metadata_len) == 0);
	}
	ck_assert_es(ra, ES_ITEROVER);
	ck_assert_es(es_iter_next(&b, it[1]), ES_ITEROVER);
	es_iter_free(it[0]);
	es_iter_free(it[1]);
	ck_assert_es(es_stream_list(rd[0], NULL, NULL, ES_NO_LIMIT, compare_stream, rd), 0);
	ck_assert_es(es_stream_list(rd[1], NULL, NULL, ES_NO_LIMIT, compare_stream, rd), 0);
	es_read_end(rd[0]);
	es_read_end(rd[1]);
}

START_TEST(round_trip_keeps_everything)
{
	build_source(et_db);
	/* Batches of 1, 3 and the default: deletes fall inside and between batches. */
	size_t batches[] = { 1, 3, 0 };
	for (size_t i = 0; i < 3; i++) {
		es_db *dst = et_open_path(es_test_tmpdir(), NULL);
		es_import_stats st;
		copy_store(&st, et_db, dst, 1, batches[i]);
		ck_assert_uint_eq(st.events, et_log_head(et_db));
		ck_assert_uint_eq(st.soft_deletes, 2);
		ck_assert_uint_eq(st.tombstones, 2);
		ck_assert_uint_eq(st.first_position, 1);
		ck_assert_uint_eq(st.next_position, et_log_head(et_db) + 1);
		assert_same_stores(et_db, dst);
		es_db_close(dst);
		es_test_tmpdir_remove();
	}
}
END_TEST

START_TEST(batches_keep_source_commits_whole)
{
	/* Twelve events, four per recorded_at, batches of 3: each batch runs to
	 * the end of its source commit. */
	es_importer *imp = begin(et_db, 3);
	for (uint32_t i = 0; i < 12; i++) {
		es_imported_event e = imp_ev("s", i, i + 1, i + 1, ET_T0 + i / 4);
		ck_assert_es(es_import_event(imp, &e), 0);
	}
	es_import_stats st;
	ck_assert_es(es_import_finish(imp, &st), 0);
	ck_assert_uint_eq(st.batches, 3);
	ck_assert_uint_eq(st.events, 12);
	ck_assert_int_eq(et_head(et_db, "s"), 11);
}
END_TEST

/* Each refusal names the event, leaves the importer usable and queues nothing. */
START_TEST(each_refusal_named_and_harmless)
{
	et_append_ok(et_db, "stored", ES_ANY, 1); /* position 1, time ET_T0 */
	ck_assert_es(es_stream_tombstone(et_db, "ended", ES_ANY), 0);
	es_read *rd;
	es_event stored;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_get(&stored, rd, "stored", 0), 0);
	uint8_t stored_id[16];
	memcpy(stored_id, stored.id, 16);
	es_read_end(rd);

	es_importer *imp = begin(et_db, 0);
	int64_t t = ET_T0 + 10;
	es_imported_event e = imp_ev("s", 0, 2, 1, t);
	ck_assert_es(es_import_event(imp, &e), 0);

	e = imp_ev("s", 1, 4, 2, t);                     /* position 3 is next */
	ck_assert_es(es_import_event(imp, &e), ES_ECONFLICT);
	et_assert_msg_has("stream 's' version 1 at position 4");
	et_assert_msg_has("next position is 3");
	e = imp_ev("s", 2, 3, 2, t);                     /* version 1 is next */
	ck_assert_es(es_import_event(imp, &e), ES_ECONFLICT);
	et_assert_msg_has("next version is 1");
	e = imp_ev("stored", 0, 3, 2, t);                /* the store has version 0 */
	ck_assert_es(es_import_event(imp, &e), ES_ECONFLICT);
	e = imp_ev("ended", 0, 3, 2, t);
	ck_assert_es(es_import_event(imp, &e), ES_EDELETED);
	et_assert_msg_has("stream 'ended'");
	e = imp_ev("s", 1, 3, 1, t);                     /* the id of version 0 */
	ck_assert_es(es_import_event(imp, &e), ES_EDUPLICATE);
	et_assert_msg_has("given before in this import (stream 's' version 0)");
	e = imp_ev("s", 1, 3, 2, t);
	memcpy(e.id, stored_id, 16);
	ck_assert_es(es_import_event(imp, &e), ES_EDUPLICATE);
	et_assert_msg_has("already stored (stream 'stored' version 0)");
	e = imp_ev("s", 1, 3, 2, t);
	memset(e.id, 0, 16);
	ck_assert_es(es_import_event(imp, &e), ES_EINVAL);
	e = imp_ev("s", 1, 3, 2, t - 1);                 /* before the previous event */
	ck_assert_es(es_import_event(imp, &e), ES_EINVAL);
	et_assert_msg_has("before the previous event's");
	e = imp_ev("s", 1, 3, 2, t);
	e.type = "";
	ck_assert_es(es_import_event(imp, &e), ES_EINVAL);
	et_assert_msg_has("stream 's' version 1");
	e = imp_ev("s", 1, 3, 2, t);
	e.payload_len = ES_DEFAULT_MAX_EVENT_SIZE + 1;
	ck_assert_es(es_import_event(imp, &e), ES_ETOOBIG);
	e = imp_ev("s", 1, 3, 2, t);
	e.metadata_count = 1;
	ck_assert_es(es_import_event(imp, &e), ES_EINVAL);
	e = imp_ev(NULL, 1, 3, 2, t);
	ck_assert_es(es_import_event(imp, &e), ES_EINVAL);
	et_assert_msg_has("version 1 at position 3: stream name is NULL");
	ck_assert_es(es_import_event(imp, NULL), ES_EINVAL);
	ck_assert_es(es_import_event(NULL, &e), ES_EINVAL);

	e = imp_ev("s", 1, 3, 2, t);                     /* the importer goes on */
	ck_assert_es(es_import_event(imp, &e), 0);
	es_import_stats st;
	ck_assert_es(es_import_finish(imp, &st), 0);
	ck_assert_uint_eq(st.events, 2);
	ck_assert_uint_eq(et_log_head(et_db), 3);
	ck_assert_int_eq(et_head(et_db, "s"), 1);
	ck_assert_int_eq(et_head(et_db, "stored"), 0);
}
END_TEST

/* Into an empty store the importer remembers every id it was given (a
 * filter), so a repeat is caught whether its first use is committed,
 * being committed, or queued. */
START_TEST(repeated_ids_caught_in_every_batch)
{
	es_importer *imp = begin(et_db, 2);
	uint32_t n = 0;
	for (; n < 7; n++) {
		es_imported_event e = imp_ev("s", n, n + 1, 100 + n, ET_T0 + n);
		ck_assert_es(es_import_event(imp, &e), 0);
	}
	for (uint32_t again = 100; again < 107; again++) {
		es_imported_event e = imp_ev("s", n, n + 1, again, ET_T0 + n);
		ck_assert_es(es_import_event(imp, &e), ES_EDUPLICATE);
		et_assert_msg_has("stream 's' version");
	}
	es_imported_event e = imp_ev("s", n, n + 1, 200, ET_T0 + n);
	ck_assert_es(es_import_event(imp, &e), 0);
	es_import_stats st;
	ck_assert_es(es_import_finish(imp, &st), 0);
	ck_assert_uint_eq(st.events, 8);
	ck_assert_uint_eq(et_log_head(et_db), 8);
}
END_TEST

START_TEST(stream_state_checks)
{
	et_append_ok(et_db, "three", ES_ANY, 3);
	es_importer *imp = begin(et_db, 0);
	ck_assert_es(es_import_stream_state(imp, "x", 7, 1, 0), ES_EINVAL);
	ck_assert_es(es_import_stream_state(imp, "x", ES_STREAM_LIVE, 1, 3), ES_EINVAL);
	ck_assert_es(es_import_stream_state(imp, "x", ES_STREAM_LIVE, 1, 2), ES_EINVAL);
	ck_assert_es(es_import_stream_state(imp, "x", ES_STREAM_SOFT_DELETED, 1, 1), ES_EINVAL);
	ck_assert_es(es_import_stream_state(imp, "x", ES_STREAM_SOFT_DELETED, -1, 0), ES_EINVAL);
	ck_assert_es(es_import_stream_state(imp, "", ES_STREAM_LIVE, 1, 0), ES_EINVAL);
	ck_assert_es(es_import_stream_state(NULL, "x", ES_STREAM_LIVE, 1, 0), ES_EINVAL);
	/* The store's head is 2 already. */
	ck_assert_es(es_import_stream_state(imp, "three", ES_STREAM_LIVE, 1, 0), ES_ECONFLICT);
	et_assert_msg_has("stream 'three'");
	ck_assert_es(es_import_stream_state(imp, "three", ES_STREAM_LIVE, 5, 2), ES_ECONFLICT);
	ck_assert_es(es_import_stream_state(imp, "x", ES_STREAM_LIVE, 1, 0), 0);
	ck_assert_es(es_import_stream_state(imp, "x", ES_STREAM_LIVE, 1, 0), ES_EINVAL);
	et_assert_msg_has("given a state already");
	es_imported_event e = imp_ev("x", 0, 4, 1, ET_T0 + 5);
	ck_assert_es(es_import_event(imp, &e), 0);
	e = imp_ev("x", 1, 5, 2, ET_T0 + 5);
	ck_assert_es(es_import_event(imp, &e), 0);
	e = imp_ev("x", 2, 6, 3, ET_T0 + 5);              /* past the declared head */
	ck_assert_es(es_import_event(imp, &e), ES_ECONFLICT);
	et_assert_msg_has("ends at version 1");
	ck_assert_es(es_import_finish(imp, NULL), 0);
	ck_assert_int_eq(et_head(et_db, "x"), 1);

	/* A declared state never reached fails the finish, and nothing more is written. */
	imp = begin(et_db, 0);
	ck_assert_es(es_import_stream_state(imp, "y", ES_STREAM_TOMBSTONED, 1, 0), 0);
	e = imp_ev("y", 0, 6, 10, ET_T0 + 6);
	ck_assert_es(es_import_event(imp, &e), 0);
	ck_assert_es(es_import_finish(imp, NULL), ES_ECONFLICT);
	et_assert_msg_has("stream 'y' was to end at head 1");
	ck_assert_int_eq(et_head(et_db, "y"), -2);
	ck_assert_uint_eq(et_log_head(et_db), 5);
}
END_TEST

START_TEST(abort_leaves_the_store_as_it_was)
{
	et_append_ok(et_db, "before", ES_ANY, 2);
	es_importer *imp = begin(et_db, 0);
	es_imported_event e = imp_ev("s", 0, 3, 1, ET_T0 + 5);
	ck_assert_es(es_import_event(imp, &e), 0);
	ck_assert_es(es_import_stream_state(imp, "before", ES_STREAM_TOMBSTONED, 1, 0), 0);
	es_import_free(imp);
	es_import_free(NULL);
	ck_assert_uint_eq(et_log_head(et_db), 2);
	ck_assert_int_eq(et_head(et_db, "s"), -2);
	es_read *rd;
	es_stream_info si;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_info_get(&si, rd, "before"), 0);
	ck_assert_int_eq(si.state, ES_STREAM_LIVE);
	es_read_end(rd);

	/* After a committed batch, an abort keeps exactly that batch. */
	imp = begin(et_db, 2);
	for (uint32_t i = 0; i < 3; i++) {
		e = imp_ev("t", i, 3 + i, 20 + i, ET_T0 + 10 + i);
		ck_assert_es(es_import_event(imp, &e), 0);
	}
	es_import_free(imp);
	ck_assert_uint_eq(et_log_head(et_db), 4);
	ck_assert_int_eq(et_head(et_db, "t"), 1);
}
END_TEST

/* Imports the first n events of et_db's log into dst, in batches of `batch`. */
static void import_prefix(es_db *dst, size_t batch, size_t n)
{
	es_importer *imp = begin(dst, batch);
	es_read *rd;
	es_iter *it;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_log_iter(&it, rd, 1, ES_FORWARD, n), 0);
	while (es_iter_next(&ev, it) == 0) {
		md_copy m;
		es_imported_event e = as_imported(&ev, &m);
		ck_assert_es(es_import_event(imp, &e), 0);
	}
	es_iter_free(it);
	es_read_end(rd);
	ck_assert_es(es_import_finish(imp, NULL), 0);
	ck_assert_uint_eq(et_log_head(dst), n);
}

START_TEST(import_into_a_prefix_refuses_a_restart)
{
	build_source(et_db);
	es_db *dst = et_open_path(es_test_tmpdir(), NULL);
	import_prefix(dst, 4, 9);
	/* Starting over from position 1 is refused: the store's next is 10. */
	es_importer *imp = begin(dst, 0);
	es_imported_event e = imp_ev("odd", 0, 1, 1, ET_T0);
	ck_assert_es(es_import_event(imp, &e), ES_ECONFLICT);
	et_assert_msg_has("next position is 10");
	es_import_free(imp);
	ck_assert_uint_eq(et_log_head(dst), 9);
	es_db_close(dst);
	es_test_tmpdir_remove();
}
END_TEST

/* A prefix, then the rest through copy_store from position 10 (stream
 * states declared against the prefix): the result equals the source. */
START_TEST(prefix_then_rest_equals_source)
{
	build_source(et_db);
	es_db *dst = et_open_path(es_test_tmpdir(), NULL);
	import_prefix(dst, 0, 9);
	es_import_stats st;
	copy_store(&st, et_db, dst, 10, 2);
	ck_assert_uint_eq(st.first_position, 10);
	assert_same_stores(et_db, dst);
	es_db_close(dst);
	es_test_tmpdir_remove();
}
END_TEST

START_TEST(another_writer_fails_the_commit)
{
	es_importer *imp = begin(et_db, 0);
	es_imported_event e = imp_ev("s", 0, 1, 1, ET_T0 - 5);
	ck_assert_es(es_import_event(imp, &e), 0);
	et_append_ok(et_db, "other", ES_ANY, 1);         /* takes position 1 */
	es_import_stats st;
	ck_assert_es(es_import_finish(imp, &st), ES_ECONFLICT);
	et_assert_msg_has("another writer");
	ck_assert_uint_eq(st.events, 0);
	ck_assert_int_eq(et_head(et_db, "s"), -2);
	ck_assert_uint_eq(et_log_head(et_db), 1);
}
END_TEST

/* Commits that grow the map while the importer reads between them. */
START_TEST(map_grows_during_an_import)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.map_size = (size_t)1 << 20;
	es_db *dst = et_open_path(es_test_tmpdir(), &o);
	/* Not empty: every id is looked up in a read the importer holds. */
	et_append_ok(dst, "first", ES_ANY, 1);
	es_importer *imp = begin(dst, 64);
	static char payload[2048];
	memset(payload, 'p', sizeof payload);
	for (uint32_t i = 0; i < 4000; i++) {
		es_imported_event e = imp_ev(i % 2 ? "odd" : "even", i / 2, i + 2, i + 1, ET_T0 + i);
		e.payload = payload;
		e.payload_len = sizeof payload;
		ck_assert_es(es_import_event(imp, &e), 0);
	}
	es_import_stats st;
	ck_assert_es(es_import_finish(imp, &st), 0);
	ck_assert_uint_eq(st.events, 4000);
	ck_assert_uint_eq(et_log_head(dst), 4001);
	ck_assert_int_eq(et_head(dst, "odd"), 1999);
	es_db_close(dst);
	es_test_tmpdir_remove();
}
END_TEST

START_TEST(begin_and_options)
{
	es_importer *imp = (es_importer *)1;
	es_import_options o;
	ck_assert_es(es_import_options_init(&o, ES_IMPORT_OPTIONS_VERSION), 0);
	ck_assert_uint_eq(o.batch_events, 0);
	ck_assert_es(es_import_options_init(&o, 99), ES_EINVAL);
	ck_assert_es(es_import_options_init(NULL, ES_IMPORT_OPTIONS_VERSION), ES_EINVAL);
	ck_assert_es(es_import_begin(&imp, NULL, NULL), ES_EINVAL);
	ck_assert_ptr_null(imp);
	ck_assert_es(es_import_begin(NULL, et_db, NULL), ES_EINVAL);
	o.version = 2;
	ck_assert_es(es_import_begin(&imp, et_db, &o), ES_EINVAL);
	ck_assert_es(es_import_finish(NULL, NULL), ES_EINVAL);
	ck_assert_es(es_import_begin(&imp, et_db, NULL), 0);
	ck_assert_es(es_import_finish(imp, NULL), 0); /* an empty import commits nothing */
	ck_assert_uint_eq(et_log_head(et_db), 0);
}
END_TEST

TCase *es_tc_import(void)
{
	TCase *tc = tcase_create("import");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trip_keeps_everything);
	tcase_add_test(tc, batches_keep_source_commits_whole);
	tcase_add_test(tc, each_refusal_named_and_harmless);
	tcase_add_test(tc, repeated_ids_caught_in_every_batch);
	tcase_add_test(tc, stream_state_checks);
	tcase_add_test(tc, abort_leaves_the_store_as_it_was);
	tcase_add_test(tc, import_into_a_prefix_refuses_a_restart);
	tcase_add_test(tc, prefix_then_rest_equals_source);
	tcase_add_test(tc, another_writer_fails_the_commit);
	tcase_add_test(tc, map_grows_during_an_import);
	tcase_add_test(tc, begin_and_options);
	return tc;
}
