/* enginetest.c - fixtures and small helpers shared by the engine's test files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enginetest.h"

es_db *et_db;
const char *et_path;
int64_t et_now;

es_db *et_open_path(const char *path, es_open_options *o)
{
	es_open_options local = ES_OPEN_OPTIONS_INIT;
	if (!o)
		o = &local;
	o->clock = es_test_clock;
	o->clock_user_data = &et_now;
	o->nosync = 1;
	es_db *db = NULL;
	ck_assert_es(es_db_open(&db, path, o), 0);
	return db;
}

void et_setup(void)
{
	et_now = ET_T0;
	et_path = es_test_tmpdir();
	et_db = et_open_path(et_path, NULL);
}

void et_teardown(void)
{
	es_db_close(et_db);
	et_db = NULL;
	es_test_tmpdir_remove();
}

void et_reopen(void)
{
	es_db_close(et_db);
	et_db = et_open_path(et_path, NULL);
}

es_event_data et_event(const char *type, const char *payload)
{
	es_event_data ev;
	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.schema_version = 1;
	ev.payload = payload;
	ev.payload_len = strlen(payload);
	return ev;
}

void et_id(uint8_t id[16], uint32_t n)
{
	memset(id, 0, 16);
	memcpy(id, "\xe5\x70\x00\x00", 4);
	id[12] = (uint8_t)(n >> 24);
	id[13] = (uint8_t)(n >> 16);
	id[14] = (uint8_t)(n >> 8);
	id[15] = (uint8_t)n;
}

es_event_data *et_events(size_t count, const char *prefix, uint32_t id_base)
{
	es_event_data *evs = calloc(count ? count : 1, sizeof *evs);
	ck_assert_ptr_nonnull(evs);
	for (size_t i = 0; i < count; i++) {
		char *p = malloc(strlen(prefix) + 24);
		ck_assert_ptr_nonnull(p);
		sprintf(p, "%s-%zu", prefix, i);
		evs[i] = et_event("Tested", p);
		if (id_base)
			et_id(evs[i].id, id_base + (uint32_t)i);
	}
	return evs;
}

void et_events_free(es_event_data *evs, size_t count)
{
	for (size_t i = 0; evs && i < count; i++)
		free((void *)evs[i].payload);
	free(evs);
}

void et_append_ok(es_db *db, const char *stream, int64_t expected, size_t count)
{
	es_event_data *evs = et_events(count, stream, 0);
	ck_assert_es(es_stream_append(NULL, db, stream, expected, evs, count), 0);
	et_events_free(evs, count);
}

uint64_t et_log_head(es_db *db)
{
	es_read *rd;
	uint64_t head = 0;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_log_head(&head, rd), 0);
	es_read_end(rd);
	return head;
}

int64_t et_head(es_db *db, const char *stream)
{
	es_read *rd;
	es_stream_info info;
	ck_assert_es(es_read_begin(&rd, db), 0);
	int rc = es_stream_info_get(&info, rd, stream);
	es_read_end(rd);
	if (rc == ES_ENOTFOUND)
		return -2;
	ck_assert_es(rc, 0);
	return info.head_version;
}

size_t et_count(es_db *db, const char *stream)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	size_t n = 0;
	int rc;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_stream_iter(&it, rd, stream, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	while ((rc = es_iter_next(&ev, it)) == 0)
		n++;
	ck_assert_es(rc, ES_ITEROVER);
	es_iter_free(it);
	es_read_end(rd);
	return n;
}

void et_assert_msg_has(const char *text)
{
	const char *msg = es_error_last()->message;
	ck_assert_msg(strstr(msg, text) != NULL, "last error '%s' does not mention '%s'", msg, text);
}
