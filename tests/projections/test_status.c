/* test_status.c - projections/status.c: queries, scans and status, consistent with a read. */
#include <string.h>

#include "projtest.h"

static int collect(const void *key, size_t key_len, const void *value, size_t value_len,
                   void *user_data)
{
	char *out = user_data;
	(void)value;
	strncat(out, key, key_len);
	strcat(out, value_len == 8 ? ";" : "?");
	return 0;
}

START_TEST(scan_by_prefix_and_status)
{
	pt_append(pt_db, "acct-1", 2, "p");
	pt_append(pt_db, "acct-2", 1, "p");
	pt_append(pt_db, "user-1", 1, "p");
	pt_counter c = { 0 };
	es_projection_options o = pt_options(&c, "counts");
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o), 0);
	pt_append(pt_db, "acct-3", 1, "p"); /* after the catch-up: the status says so */
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	char seen[200] = "";
	ck_assert_es(es_projection_scan(rd, "counts", "acct-", 5, collect, seen), 0);
	ck_assert_str_eq(seen, "acct-1;acct-2;");
	seen[0] = '\0';
	ck_assert_es(es_projection_scan(rd, "counts", NULL, 0, collect, seen), 0);
	ck_assert_str_eq(seen, "acct-1;acct-2;user-1;");
	es_projection_status s;
	ck_assert_es(es_projection_status_get(&s, rd, "counts"), 0);
	ck_assert_uint_eq(s.position, 4);
	ck_assert_uint_eq(s.head, 5);
	ck_assert_uint_eq(s.behind, 1);
	ck_assert_int_eq(s.error, 0);
	es_read_end(rd);
}
END_TEST

START_TEST(projections_do_not_see_each_other)
{
	pt_append(pt_db, "a", 2, "p");
	pt_counter c1 = { 0 }, c2 = { 0 };
	es_projection_options o1 = pt_options(&c1, "one"), o2 = pt_options(&c2, "on");
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o1), 0);
	ck_assert_uint_eq(pt_count(pt_db, "on", "a"), 0); /* "on" is not a prefix of "one"'s keys */
	ck_assert_es(es_projection_catch_up(NULL, pt_db, &o2), 0);
	ck_assert_uint_eq(pt_count(pt_db, "on", "a"), 2);
	ck_assert_uint_eq(pt_count(pt_db, "one", "a"), 2);
}
END_TEST

START_TEST(bad_queries)
{
	es_read *rd;
	const void *v;
	size_t len;
	es_projection_status s;
	ck_assert_es(es_read_begin(&rd, pt_db), 0);
	ck_assert_es(es_projection_status_get(&s, rd, "never"), ES_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "projection 'never' has never run"));
	ck_assert_es(es_projection_status_get(NULL, rd, "x"), ES_EINVAL);
	ck_assert_es(es_projection_status_get(&s, rd, NULL), ES_EINVAL);
	ck_assert_es(es_projection_query(&v, &len, rd, "x", "k", 1), ES_ENOTFOUND);
	ck_assert_es(es_projection_query(&v, &len, rd, "x", "k", 0), ES_EINVAL);
	ck_assert_es(es_projection_query(&v, &len, NULL, "x", "k", 1), ES_EINVAL);
	ck_assert_es(es_projection_scan(rd, "x", NULL, 3, collect, NULL), ES_EINVAL);
	ck_assert_es(es_projection_scan(rd, "", NULL, 0, collect, NULL), ES_EINVAL);
	es_read_end(rd);
}
END_TEST

TCase *es_tc_status(void)
{
	TCase *tc = tcase_create("status");
	tcase_add_checked_fixture(tc, pt_setup, pt_teardown);
	tcase_add_test(tc, scan_by_prefix_and_status);
	tcase_add_test(tc, projections_do_not_see_each_other);
	tcase_add_test(tc, bad_queries);
	return tc;
}
