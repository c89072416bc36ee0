/*
 * test_history.c - es_bank_history (history.c): the events of an account
 * in a [since, until] window, oldest first, with the state before and after
 * each; windows at and around events' times, running balances that start
 * from a snapshot, early stop, and errors.
 */
#include <stdio.h>
#include <string.h>

#include "banktest.h"
#include "bank_tcases.h"

#define MAX_SEEN 512

typedef struct seen {
	int64_t version[MAX_SEEN];
	int64_t before[MAX_SEEN], after[MAX_SEEN];
	es_bank_status status[MAX_SEEN];
	int n;
	int stop_after; /* 0: never */
} seen;

static int record(const es_event *ev, const es_bank_account *before, const es_bank_account *after, void *user_data)
{
	seen *s = user_data;
	ck_assert_int_lt(s->n, MAX_SEEN);
	s->version[s->n] = ev->version;
	s->before[s->n] = before->balance;
	s->after[s->n] = after->balance;
	s->status[s->n] = after->status;
	s->n++;
	return s->stop_after && s->n == s->stop_after ? 99 : 0;
}

static seen window(const char *id, int64_t since, int64_t until)
{
	seen s = { .n = 0 };
	ck_assert_es(es_bank_history(bt_db, id, since, until, record, &s), 0);
	return s;
}

/* a: open, +100, +200, -50, freeze, +7, unfreeze; one commit per event. */
static void story(void)
{
	bt_open("a", "USD", 0);
	bt_now += 100;
	ck_assert_es(es_bank_deposit(bt_db, "a", 100, NULL), 0);
	bt_now += 100;
	ck_assert_es(es_bank_deposit(bt_db, "a", 200, NULL), 0);
	bt_now += 100;
	ck_assert_es(es_bank_withdraw(bt_db, "a", 50, NULL), 0);
	bt_now += 100;
	ck_assert_es(es_bank_freeze(bt_db, "a", "check"), 0);
	bt_now += 100;
	ck_assert_es(es_bank_deposit(bt_db, "a", 7, NULL), 0);
	bt_now += 100;
	ck_assert_es(es_bank_unfreeze(bt_db, "a", "ok"), 0);
}

static const int64_t story_balance[] = { 0, 100, 300, 250, 250, 257, 257 };

/* Asserts s holds versions first..last with the story's running balances. */
static void holds(const seen *s, int64_t first, int64_t last)
{
	ck_assert_int_eq(s->n, last - first + 1);
	for (int i = 0; i < s->n; i++) {
		int64_t v = first + i;
		ck_assert_int_eq(s->version[i], v);
		ck_assert_int_eq(s->after[i], story_balance[v]);
		ck_assert_int_eq(s->before[i], v ? story_balance[v - 1] : 0);
	}
}

START_TEST(whole_history)
{
	story();
	seen s = window("a", INT64_MIN, INT64_MAX);
	holds(&s, 0, 6);
	ck_assert_int_eq(s.status[3], ES_BANK_STATUS_OPEN);
	ck_assert_int_eq(s.status[4], ES_BANK_STATUS_FROZEN);
	ck_assert_int_eq(s.status[5], ES_BANK_STATUS_FROZEN);
	ck_assert_int_eq(s.status[6], ES_BANK_STATUS_OPEN);
}
END_TEST

START_TEST(windows_inclusive)
{
	story();
	int64_t at2 = bt_recorded_at("a", 2), at4 = bt_recorded_at("a", 4);
	int64_t first = bt_recorded_at("a", 0), last = bt_recorded_at("a", 6);
	seen s = window("a", at2, at4);
	holds(&s, 2, 4);
	s = window("a", at2 + 1, at4);
	holds(&s, 3, 4);
	s = window("a", at2, at4 - 1);
	holds(&s, 2, 3);
	s = window("a", at2 - 1, at2);
	holds(&s, 2, 2);
	s = window("a", at4, at2); /* since after until: nothing */
	ck_assert_int_eq(s.n, 0);
	s = window("a", INT64_MIN, first - 1);
	ck_assert_int_eq(s.n, 0);
	s = window("a", first - 1000, first);
	holds(&s, 0, 0);
	s = window("a", last + 1, INT64_MAX);
	ck_assert_int_eq(s.n, 0);
	s = window("a", last, INT64_MAX);
	holds(&s, 6, 6);
	s = window("a", INT64_MIN, at4);
	holds(&s, 0, 4);
	s = window("a", at4, INT64_MAX);
	holds(&s, 4, 6);
}
END_TEST

START_TEST(running_balance_from_a_snapshot)
{
	bt_open("b", "USD", 0);
	for (int i = 1; i <= 150; i++) {
		bt_now += 10;
		ck_assert_es(es_bank_deposit(bt_db, "b", i, NULL), 0);
	}
	int64_t since = bt_recorded_at("b", 120), until = bt_recorded_at("b", 130);
	seen s = window("b", since, until);
	ck_assert_int_eq(s.n, 11);
	for (int i = 0; i < s.n; i++) {
		int64_t v = 120 + i;
		ck_assert_int_eq(s.version[i], v);
		ck_assert_int_eq(s.before[i], (v - 1) * v / 2);
		ck_assert_int_eq(s.after[i], v * (v + 1) / 2);
	}
}
END_TEST

START_TEST(stop_early_and_errors)
{
	story();
	seen s = { .stop_after = 2 };
	ck_assert_int_eq(es_bank_history(bt_db, "a", INT64_MIN, INT64_MAX, record, &s), 99);
	ck_assert_int_eq(s.n, 2);
	ck_assert_es(es_bank_history(bt_db, "ghost", INT64_MIN, INT64_MAX, record, &s), ES_ENOTFOUND);
	ck_assert_es(es_bank_history(bt_db, "a/b", INT64_MIN, INT64_MAX, record, &s), ES_EINVAL);
	ck_assert_es(es_bank_history(bt_db, "a", INT64_MIN, INT64_MAX, NULL, &s), ES_EINVAL);
	ck_assert_es(es_bank_history(NULL, "a", INT64_MIN, INT64_MAX, record, &s), ES_EINVAL);
}
END_TEST

TCase *es_tc_history(void)
{
	TCase *tc = tcase_create("history");
	tcase_add_checked_fixture(tc, bt_setup, bt_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, whole_history);
	tcase_add_test(tc, windows_inclusive);
	tcase_add_test(tc, running_balance_from_a_snapshot);
	tcase_add_test(tc, stop_early_and_errors);
	return tc;
}
