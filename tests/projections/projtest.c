/* projtest.c - a counting projection and a store for the projections suite. */
#include <string.h>

#include "projtest.h"

es_db *pt_db;
const char *pt_path;

void pt_setup(void)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = 1;
	pt_path = es_test_tmpdir();
	ck_assert_es(es_db_open(&pt_db, pt_path, &o), 0);
}

void pt_teardown(void)
{
	es_db_close(pt_db);
	pt_db = NULL;
	es_test_tmpdir_remove();
}

void pt_append(es_db *db, const char *stream, size_t n, const char *payload)
{
	es_event_data evs[64];
	ck_assert_uint_le(n, 64);
	for (size_t i = 0; i < n; i++)
		evs[i] = (es_event_data){ .type = "Counted", .schema_version = 1, .payload = payload,
		                          .payload_len = strlen(payload) };
	ck_assert_es(es_stream_append(NULL, db, stream, ES_ANY, evs, n), 0);
}

static uint64_t le64(const void *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | ((const uint8_t *)p)[i];
	return v;
}

int pt_count_handler(es_projection_ctx *ctx, const es_event *ev, void *user_data)
{
	pt_counter *c = user_data;
	c->calls++;
	if (!c->allow_bad && ev->payload_len == 3 && memcmp(ev->payload, "bad", 3) == 0)
		return es_error_set(ES_EREJECTED, "event %lld of '%s' is bad", (long long)ev->version, ev->stream);
	const void *v;
	size_t len;
	uint64_t n = 0;
	int rc = es_projection_get(&v, &len, ctx, ev->stream, strlen(ev->stream));
	if (rc == 0)
		n = le64(v);
	else if (rc != ES_ENOTFOUND)
		return rc;
	n++;
	uint8_t out[8];
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(n >> (8 * i));
	return es_projection_put(ctx, ev->stream, strlen(ev->stream), out, sizeof out);
}

es_projection_options pt_options(pt_counter *c, const char *name)
{
	es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
	o.name = name;
	o.handler = pt_count_handler;
	o.user_data = c;
	return o;
}

uint64_t pt_count_in(es_read *rd, const char *name, const char *stream)
{
	const void *v;
	size_t len;
	int rc = es_projection_query(&v, &len, rd, name, stream, strlen(stream));
	if (rc != ES_ENOTFOUND)
		ck_assert_es(rc, 0);
	return rc == 0 ? le64(v) : 0;
}

uint64_t pt_count(es_db *db, const char *name, const char *stream)
{
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, db), 0);
	uint64_t n = pt_count_in(rd, name, stream);
	es_read_end(rd);
	return n;
}
