/*
 * counter.c - the toy counter aggregate shared by the aggregate and snapshot
 * tests (see counter.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "counter.h"

es_db *ct_db;
int64_t ct_now;

void ct_setup(void)
{
	ct_now = CT_T0;
	ct_db = es_test_open(es_test_clock, &ct_now);
}

void ct_teardown(void)
{
	es_db_close(ct_db);
	ct_db = NULL;
	es_test_tmpdir_remove();
}

#define STATE_MAGIC "CNT1"
#define STATE_LEN (4 + 3 * 8)

static int apply_added(void *state, const es_event *ev)
{
	counter *c = state;
	int64_t amount;
	if (ev->payload_len != sizeof amount)
		return es_error_set(ES_ECORRUPT, "stream '%s' version %lld: Added payload has %zu bytes",
		                    ev->stream, (long long)ev->version, ev->payload_len);
	memcpy(&amount, ev->payload, sizeof amount);
	c->sum += amount;
	c->count++;
	c->mix = c->mix * UINT64_C(1000003) ^ (uint64_t)amount ^ ((uint64_t)ev->version << 40);
	return 0;
}

static const es_event_handler counter_handlers[] = {
	{ COUNTER_ADDED, apply_added },
};

static void counter_init(void *state)
{
	memset(state, 0, sizeof(counter));
}

static int counter_encode(uint8_t **out, size_t *len, const void *state)
{
	const counter *c = state;
	if (!(*out = malloc(STATE_LEN)))
		return ES_ENOMEM;
	memcpy(*out, STATE_MAGIC, 4);
	memcpy(*out + 4, &c->sum, 8);
	memcpy(*out + 12, &c->count, 8);
	memcpy(*out + 20, &c->mix, 8);
	*len = STATE_LEN;
	return 0;
}

static int counter_decode(void *state, const uint8_t *buf, size_t len)
{
	counter *c = state;
	if (len != STATE_LEN || memcmp(buf, STATE_MAGIC, 4) != 0)
		return -1;
	memcpy(&c->sum, buf + 4, 8);
	memcpy(&c->count, buf + 12, 8);
	memcpy(&c->mix, buf + 20, 8);
	return 0;
}

es_aggregate_type counter_type(uint32_t every, uint32_t schema)
{
	es_aggregate_type t = ES_AGGREGATE_TYPE_INIT;
	t.name = "counter";
	t.stream_prefix = COUNTER_PREFIX;
	t.state_size = sizeof(counter);
	t.init = counter_init;
	t.handlers = counter_handlers;
	t.handler_count = 1;
	t.state_schema_version = schema;
	t.snapshot_encode = counter_encode;
	t.snapshot_decode = counter_decode;
	t.snapshot_every = every;
	return t;
}

void counter_append_raw(es_db *db, const char *stream, const int64_t *amounts, size_t n)
{
	es_event_data *evs = calloc(n, sizeof *evs);
	ck_assert_ptr_nonnull(evs);
	for (size_t i = 0; i < n; i++) {
		evs[i].type = COUNTER_ADDED;
		evs[i].schema_version = 1;
		evs[i].payload = &amounts[i];
		evs[i].payload_len = sizeof amounts[i];
	}
	ck_assert_es(es_stream_append(NULL, db, stream, ES_ANY, evs, n), 0);
	free(evs);
}

typedef struct amounts {
	const int64_t *v;
	size_t n;
} amounts;

static int decide_add(es_emit *emit, void *const *states, const es_load_info *infos, size_t count,
                      void *user_data)
{
	(void)states; (void)infos; (void)count;
	const amounts *a = user_data;
	for (size_t i = 0; i < a->n; i++) {
		int rc = es_emit_event(emit, 0, COUNTER_ADDED, 1, &a->v[i], sizeof a->v[i]);
		if (rc)
			return rc;
	}
	return 0;
}

void counter_add(es_db *db, const es_aggregate_type *type, const char *stream,
                 const int64_t *v, size_t n)
{
	es_target t = { type, stream };
	amounts a = { v, n };
	es_command_result res;
	ck_assert_es(es_command_execute(&res, db, &t, 1, decide_add, &a, NULL), 0);
	ck_assert_uint_eq(res.events_appended, n);
}

size_t counter_naive(counter *out, es_read *rd, const es_aggregate_type *type, const char *stream,
                     int64_t t, int64_t max_version)
{
	es_iter *it;
	es_event ev;
	size_t applied = 0;
	int rc;
	type->init(out);
	ck_assert_es(es_stream_iter(&it, rd, stream, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	while ((rc = es_iter_next(&ev, it)) == 0) {
		if (ev.recorded_at > t || ev.version > max_version)
			continue;
		ck_assert_es(es_aggregate_apply(type, out, &ev), 0);
		applied++;
	}
	ck_assert_es(rc, ES_ITEROVER);
	es_iter_free(it);
	return applied;
}

void counter_assert_eq(const counter *got, const counter *want, const char *what)
{
	ck_assert_msg(got->sum == want->sum && got->count == want->count && got->mix == want->mix,
	              "%s: got sum %lld count %lld mix %llx, want sum %lld count %lld mix %llx", what,
	              (long long)got->sum, (long long)got->count, (unsigned long long)got->mix,
	              (long long)want->sum, (long long)want->count, (unsigned long long)want->mix);
}

const char *counter_snapshots(es_db *db, const char *stream)
{
	static char text[4096];
	es_read *rd;
	int64_t *v;
	size_t n, used = 0;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_snapshot_list(&v, &n, rd, stream), 0);
	es_read_end(rd);
	text[0] = '\0';
	for (size_t i = 0; i < n && used < sizeof text - 24; i++)
		used += (size_t)snprintf(text + used, sizeof text - used, "%s%lld", i ? "," : "", (long long)v[i]);
	free(v);
	return text;
}

size_t counter_snapshots_match_fold(const es_aggregate_type *t, const char *stream)
{
	es_read *rd;
	int64_t *v;
	size_t n;
	es_snapshot_key key = { t->state_schema_version, 0 };
	ck_assert_es(es_read_begin(&rd, ct_db), 0);
	ck_assert_es(es_snapshot_list(&v, &n, rd, stream), 0);
	for (size_t i = 0; i < n; i++) {
		es_snapshot snap;
		counter got, want;
		ck_assert_es(es_snapshot_find(&snap, rd, stream, v[i], &key, NULL, NULL), 0);
		ck_assert_int_eq(snap.version, v[i]);
		t->init(&got);
		ck_assert_int_eq(t->snapshot_decode(&got, snap.state, snap.state_len), 0);
		counter_naive(&want, rd, t, stream, INT64_MAX, v[i]);
		counter_assert_eq(&got, &want, stream);
	}
	free(v);
	es_read_end(rd);
	return n;
}
