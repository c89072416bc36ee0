/*
 * test_treewalk.c - engine/treewalk.c: es_check on a store whose LMDB pages
 * are damaged (what a disk that ignored a flush leaves) reports the damage
 * instead of dying inside LMDB, and a sound store walks clean.
 */
#include <stdio.h>
#include <string.h>

#include "engine_tcases.h"
#include "enginetest.h"

/* Many leaf pages of the events table. */
static void fill(void)
{
	for (int i = 0; i < 10; i++)
		es_test_fill(et_db, "evpage", 300);
}

START_TEST(sound_store_walks_clean)
{
	es_check_stats st;
	fill();
	ck_assert_es(es_check(&st, et_db, NULL), 0);
	ck_assert_uint_eq(st.events, 3000);
	ck_assert_uint_eq(st.problems, 0);
}
END_TEST

static int kinds_seen;
static char first_message[700];

static int on_problem(const es_check_problem *p, void *user_data)
{
	(void)user_data;
	if (p->kind == ES_CHECK_BTREE)
		kinds_seen++;
	if (!first_message[0])
		snprintf(first_message, sizeof first_message, "%s", p->message);
	return 0;
}

START_TEST(damaged_pages_are_reported_not_fatal)
{
	fill();
	es_db_close(et_db);
	et_db = NULL;
	ck_assert_int_gt(es_test_damage_leaves(et_path, "evpage"), 0);
	et_reopen();
	es_check_options o = ES_CHECK_OPTIONS_INIT;
	es_check_stats st;
	o.on_problem = on_problem;
	/* without the walk, this process dies here (SIGSEGV or LMDB's IS_LEAF assertion) */
	ck_assert_es(es_check(&st, et_db, &o), ES_ECORRUPT);
	ck_assert_uint_eq(st.problems, 1);
	ck_assert_int_eq(kinds_seen, 1);
	ck_assert_msg(strstr(first_message, "the store's B-tree is damaged at table 'events'"), "%s", first_message);
	ck_assert_str_eq(es_check_kind_str(ES_CHECK_BTREE), "b-tree");
}
END_TEST

TCase *es_tc_treewalk(void)
{
	TCase *tc = tcase_create("treewalk");
	tcase_add_checked_fixture(tc, et_setup, et_teardown);
	tcase_add_test(tc, sound_store_walks_clean);
	tcase_add_test(tc, damaged_pages_are_reported_not_fatal);
	return tc;
}
