/* test_checkpoint.c - engine/checkpoint.c: named checkpoints that persist and never move back by mistake. */
#include <stdio.h>
#include <string.h>

#include "enginetest.h"

static int get(uint64_t *out, const char *name)
{
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	int rc = es_checkpoint_get(out, rd, name);
	es_read_end(rd);
	return rc;
}

static uint64_t get_ok(const char *name)
{
	uint64_t pos = 99999;
	ck_assert_es(get(&pos, name), 0);
	return pos;
}

START_TEST(save_get_survive_reopen)
{
	et_append_ok(et_db, "s", ES_NO_STREAM, 10);
	ck_assert_es(es_checkpoint_save(et_db, "reader", 0), 0); /* nothing handled yet */
	ck_assert_uint_eq(get_ok("reader"), 0);
	ck_assert_es(es_checkpoint_save(et_db, "reader", 7), 0);
	ck_assert_es(es_checkpoint_save(et_db, "reader", 7), 0); /* the same again is fine */
	ck_assert_es(es_checkpoint_save(et_db, "other", 10), 0);
	et_reopen();
	ck_assert_uint_eq(get_ok("reader"), 7);
	ck_assert_uint_eq(get_ok("other"), 10);
}
END_TEST

START_TEST(never_backwards_unless_reset)
{
	et_append_ok(et_db, "s", ES_NO_STREAM, 10);
	ck_assert_es(es_checkpoint_save(et_db, "r", 8), 0);
	ck_assert_es(es_checkpoint_save(et_db, "r", 5), ES_ECONFLICT);
	et_assert_msg_has("checkpoint 'r' is at 8, later than 5");
	ck_assert_uint_eq(get_ok("r"), 8);
	ck_assert_es(es_checkpoint_reset(et_db, "r", 5), 0);
	ck_assert_uint_eq(get_ok("r"), 5);
}
END_TEST

START_TEST(position_past_head_refused)
{
	et_append_ok(et_db, "s", ES_NO_STREAM, 3);
	ck_assert_es(es_checkpoint_save(et_db, "r", 4), ES_EINVAL);
	et_assert_msg_has("position 4 is past the log head (3)");
	ck_assert_es(es_checkpoint_reset(et_db, "r", 4), ES_EINVAL);
	uint64_t pos;
	ck_assert_es(get(&pos, "r"), ES_ENOTFOUND); /* nothing written */
}
END_TEST

static int collect(const char *name, uint64_t position, void *user_data)
{
	char *out = user_data;
	char line[300];
	snprintf(line, sizeof line, "%s=%llu;", name, (unsigned long long)position);
	strcat(out, line);
	return strcmp(name, "stop") == 0 ? 42 : 0;
}

START_TEST(list_and_delete)
{
	et_append_ok(et_db, "s", ES_NO_STREAM, 5);
	ck_assert_es(es_checkpoint_save(et_db, "b", 2), 0);
	ck_assert_es(es_checkpoint_save(et_db, "a", 1), 0);
	ck_assert_es(es_checkpoint_save(et_db, "c", 5), 0);
	char seen[200] = "";
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_checkpoint_list(rd, collect, seen), 0);
	es_read_end(rd);
	ck_assert_str_eq(seen, "a=1;b=2;c=5;");
	ck_assert_es(es_checkpoint_delete(et_db, "b"), 0);
	ck_assert_es(es_checkpoint_delete(et_db, "b"), ES_ENOTFOUND);
	et_assert_msg_has("no checkpoint 'b'");
	ck_assert_es(es_checkpoint_save(et_db, "stop", 0), 0);
	seen[0] = '\0';
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_checkpoint_list(rd, collect, seen), 42); /* the callback's value stops it */
	es_read_end(rd);
	ck_assert_str_eq(seen, "a=1;c=5;stop=0;");
}
END_TEST

START_TEST(bad_arguments)
{
	char longname[ES_CHECKPOINT_NAME_MAX + 2];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	uint64_t pos;
	ck_assert_es(es_checkpoint_save(NULL, "r", 0), ES_EINVAL);
	ck_assert_es(es_checkpoint_save(et_db, NULL, 0), ES_EINVAL);
	ck_assert_es(es_checkpoint_save(et_db, "", 0), ES_EINVAL);
	ck_assert_es(es_checkpoint_save(et_db, longname, 0), ES_EINVAL);
	et_assert_msg_has("longer than 255 bytes");
	longname[ES_CHECKPOINT_NAME_MAX] = '\0'; /* exactly the longest */
	ck_assert_es(es_checkpoint_save(et_db, longname, 0), 0);
	ck_assert_es(get(&pos, longname), 0);
	ck_assert_es(get(NULL, "r"), ES_EINVAL);
	ck_assert_es(get(&pos, "missing"), ES_ENOTFOUND);
	et_assert_msg_has("no checkpoint 'missing'");
	ck_assert_es(es_checkpoint_get(&pos, NULL, "r"), ES_EINVAL);
	ck_assert_es(es_checkpoint_list(NULL, collect, NULL), ES_EINVAL);
	ck_assert_es(es_checkpoint_delete(et_db, ""), ES_EINVAL);
}
END_TEST

START_TEST(read_only_store)
{
	et_append_ok(et_db, "s", ES_NO_STREAM, 2);
	ck_assert_es(es_checkpoint_save(et_db, "r", 1), 0);
	es_db_close(et_db);
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.read_only = 1;
	et_db = et_open_path(et_path, &o);
	ck_assert_uint_eq(get_ok("r"), 1);
	ck_assert_es(es_checkpoint_save(et_db, "r", 2), ES_EREADONLY);
	ck_assert_es(es_checkpoint_delete(et_db, "r"), ES_EREADONLY);
}
END_TEST

TCase *es_tc_checkpoint(void)
{
	TCase *tc = tcase_create("checkpoint");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_add_test(tc, save_get_survive_reopen);
	tcase_add_test(tc, never_backwards_unless_reset);
	tcase_add_test(tc, position_past_head_refused);
	tcase_add_test(tc, list_and_delete);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, read_only_store);
	return tc;
}
