/* test_clock.c - engine/clock.c: UUIDv7 event ids and their text form. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enginetest.h"
#include "db.h"

static uint64_t ms_of(const uint8_t id[16])
{
	uint64_t ms = 0;
	for (int i = 0; i < 6; i++)
		ms = ms << 8 | id[i];
	return ms;
}

static void assert_v7(const uint8_t id[16], int64_t now_ns)
{
	ck_assert_uint_eq(id[6] >> 4, 7);      /* version */
	ck_assert_uint_eq(id[8] >> 6, 2);      /* RFC 4122 variant */
	ck_assert_uint_eq(ms_of(id), (uint64_t)(now_ns / 1000000));
}

START_TEST(generated_ids_are_uuidv7)
{
	enum { N = 1000 };
	es_event_data *evs = et_events(N, "g", 0);
	et_now = ET_T0 + 123456789;
	ck_assert_es(es_stream_append(NULL, et_db, "g", ES_NO_STREAM, evs, N), 0);
	for (size_t i = 0; i < N; i++) {
		assert_v7(evs[i].id, et_now);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(memcmp(evs[i].id, evs[j].id, 16) != 0, "ids %zu and %zu are equal", j, i);
	}
	es_read *rd;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_get(&ev, rd, "g", N - 1), 0);
	ck_assert_mem_eq(ev.id, evs[N - 1].id, 16);
	es_read_end(rd);
	et_events_free(evs, N);
}
END_TEST

START_TEST(uuidv7_directly)
{
	uint8_t a[16], b[16];
	ck_assert_es(es__uuidv7(a, ET_T0), 0);
	ck_assert_es(es__uuidv7(b, ET_T0), 0);
	assert_v7(a, ET_T0);
	assert_v7(b, ET_T0);
	ck_assert(memcmp(a, b, 16) != 0);
	ck_assert(!es__id_is_zero(a));
	memset(a, 0, 16);
	ck_assert(es__id_is_zero(a));
}
END_TEST

/* Ids of one process increase, also within a millisecond and when the
 * clock steps back (then they keep the last id's millisecond). */
START_TEST(generated_ids_increase)
{
	uint8_t prev[16], id[16];
	ck_assert_es(es__uuidv7(prev, ET_T0), 0);
	for (int i = 0; i < 1000; i++) {
		int64_t now = i % 3 == 2 ? ET_T0 - 86400 * (int64_t)1000000000 : ET_T0;
		ck_assert_es(es__uuidv7(id, now), 0);
		ck_assert_msg(memcmp(prev, id, 16) < 0, "id %d does not sort after the one before", i);
		assert_v7(id, ET_T0);
		memcpy(prev, id, 16);
	}
}
END_TEST

/* A forked child does not count up from its parent's last id: its first id
 * is a fresh one, here at time 0 for a time before the epoch. */
START_TEST(forked_child_starts_afresh)
{
	uint8_t parent[16];
	ck_assert_es(es__uuidv7(parent, ET_T0), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint8_t id[16];
		int ok = es__uuidv7(id, -1000000000) == 0 && ms_of(id) == 0 && id[6] >> 4 == 7;
		_exit(ok ? 0 : 1);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's first id was not fresh");
}
END_TEST

START_TEST(caller_ids_are_kept)
{
	es_event_data ev = et_event("Tested", "x");
	et_id(ev.id, 9);
	uint8_t want[16];
	memcpy(want, ev.id, 16);
	ck_assert_es(es_stream_append(NULL, et_db, "c", ES_ANY, &ev, 1), 0);
	ck_assert_mem_eq(ev.id, want, 16);
}
END_TEST

START_TEST(id_format)
{
	uint8_t id[16];
	char *text = malloc(ES_ID_TEXT_SIZE); /* exact size: ASan sees an overflow */
	ck_assert_ptr_nonnull(text);
	for (int i = 0; i < 16; i++)
		id[i] = (uint8_t)(i * 0x11);
	es_id_format(id, text);
	ck_assert_str_eq(text, "00112233-4455-6677-8899-aabbccddeeff");
	memset(id, 0xff, 16);
	es_id_format(id, text);
	ck_assert_str_eq(text, "ffffffff-ffff-ffff-ffff-ffffffffffff");
	free(text);
}
END_TEST

START_TEST(id_parse_round_trip)
{
	uint8_t id[16], back[16], upper[16];
	char text[ES_ID_TEXT_SIZE];
	ck_assert_es(es__uuidv7(id, ET_T0), 0);
	es_id_format(id, text);
	ck_assert_es(es_id_parse(back, text), 0);
	ck_assert_mem_eq(back, id, 16);
	ck_assert_es(es_id_parse(back, "00112233-4455-6677-8899-aabbccddeeff"), 0);
	ck_assert_es(es_id_parse(upper, "00112233-4455-6677-8899-AABBCCDDEEFF"), 0);
	ck_assert_mem_eq(back, upper, 16);
	ck_assert_uint_eq(back[10], 0xaa);
}
END_TEST

static void assert_unparsable(const char *text)
{
	uint8_t out[16];
	es_error_clear();
	ck_assert_es(es_id_parse(out, text), ES_EINVAL);
	if (text && *text)
		et_assert_msg_has(text);
}

START_TEST(id_parse_rejects)
{
	assert_unparsable("");
	assert_unparsable("0");
	assert_unparsable("00112233445566778899aabbccddeeff");     /* no dashes */
	assert_unparsable("00112233-4455-6677-8899-aabbccddeef");  /* short */
	assert_unparsable("00112233-4455-6677-8899-aabbccddeeff0"); /* trailing */
	assert_unparsable("00112233-4455-6677-8899-aabbccddeefg"); /* not hex */
	assert_unparsable("0011223-34455-6677-8899-aabbccddeeff"); /* dash misplaced */
	assert_unparsable("{00112233-4455-6677-8899-aabbccddeeff}");
	assert_unparsable(" 00112233-4455-6677-8899-aabbccddeeff");
	assert_unparsable(NULL);
	ck_assert_es(es_id_parse(NULL, "00112233-4455-6677-8899-aabbccddeeff"), ES_EINVAL);
}
END_TEST

TCase *es_tc_clock(void)
{
	TCase *tc = tcase_create("clock");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, generated_ids_are_uuidv7);
	tcase_add_test(tc, uuidv7_directly);
	tcase_add_test(tc, generated_ids_increase);
	tcase_add_test(tc, forked_child_starts_afresh);
	tcase_add_test(tc, caller_ids_are_kept);
	tcase_add_test(tc, id_format);
	tcase_add_test(tc, id_parse_round_trip);
	tcase_add_test(tc, id_parse_rejects);
	return tc;
}
