/*
 * test_treewalk.c - engine/treewalk.c: es_check on a store whose LMDB pages
 * are damaged (what a disk that ignored a flush leaves) reports the damage
 * instead of dying inside LMDB, and a sound store walks clean.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_tcases.h"
#include "enginetest.h"

#define PAGE 4096
#define P_LEAF 0x02

/* Fills stream "evpage" with events whose payload is "<prefix>-<i>": many leaf
 * pages of the events table. */
static void fill(void)
{
	for (int i = 0; i < 10; i++)
		et_append_ok(et_db, "evpage", ES_ANY, 300);
}

/* Overwrites the header of every leaf page holding an event payload: its
 * free-space bounds claim thousands of keys, whose offsets then point
 * anywhere. Returns the number of pages damaged. */
static int damage_leaves(const char *path)
{
	char file[4200];
	uint8_t page[PAGE];
	snprintf(file, sizeof file, "%s/data.mdb", path);
	int fd = open(file, O_RDWR), n = 0;
	ck_assert_int_ge(fd, 0);
	for (off_t off = 2 * PAGE; pread(fd, page, PAGE, off) == PAGE; off += PAGE) {
		uint16_t flags, lower, ptr, ksize;
		memcpy(&flags, page + 10, 2);
		memcpy(&lower, page + 12, 2);
		memcpy(&ptr, page + 16, 2);
		if (flags != P_LEAF || lower <= 16 || ptr < 18 || ptr > PAGE - 8 - 16 - 64)
			continue;
		/* an events leaf: its first node's key is 16 bytes (stream id,
		 * version), its value an event record, the payload 56 bytes in
		 * (unused page space holds stale bytes, so look at a node) */
		memcpy(&ksize, page + ptr + 6, 2);
		if (ksize != 16 || memcmp(page + ptr + 8 + 16 + 56, "evpage-", 7) != 0)
			continue;
		uint16_t upper = 0x0ff8; /* mp_lower, mp_upper */
		lower = 0x0ff0;
		memcpy(page + 12, &lower, 2);
		memcpy(page + 14, &upper, 2);
		memset(page + 16, 0xff, 64); /* the first node offsets: far past the page */
		ck_assert_int_eq(pwrite(fd, page, PAGE, off), PAGE);
		n++;
	}
	close(fd);
	return n;
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
	ck_assert_int_gt(damage_leaves(et_path), 0);
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
