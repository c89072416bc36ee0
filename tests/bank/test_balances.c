/*
 * test_balances.c - the bank's read models (balances.c, daily.c, owners.c):
 * the balances model answers what loading each account answers, after
 * random commands and after more, and says when it is behind; daily nets
 * add up; the owner index finds exact owners.
 */
#include <stdio.h>
#include <string.h>

#include "banktest.h"
#include "bank_tcases.h"

#define ACCOUNTS 6

static void random_commands(uint64_t *rng, int n)
{
	char a[16], b[16];
	for (int i = 0; i < n; i++) {
		snprintf(a, sizeof a, "acct-%d", (int)es_test_random_between(rng, 0, ACCOUNTS - 1));
		snprintf(b, sizeof b, "acct-%d", (int)es_test_random_between(rng, 0, ACCOUNTS - 1));
		int64_t amount = es_test_random_between(rng, 1, 5000);
		switch (es_test_random_between(rng, 0, 3)) { /* refusals are part of the history too */
		case 0: es_bank_deposit(bt_db, a, amount, NULL); break;
		case 1: es_bank_withdraw(bt_db, a, amount, NULL); break;
		case 2: if (strcmp(a, b) != 0) es_bank_transfer(bt_db, a, b, amount, NULL); break;
		default:
			es_bank_freeze(bt_db, a, NULL);
			es_bank_unfreeze(bt_db, a, NULL);
			break;
		}
	}
}

static void assert_model_matches(void)
{
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	for (int i = 0; i < ACCOUNTS; i++) {
		char id[16];
		es_bank_account model, loaded;
		snprintf(id, sizeof id, "acct-%d", i);
		ck_assert_es(es_bank_balance_get(&model, rd, id), 0);
		ck_assert_es(es_bank_account_load(&loaded, NULL, bt_db, id), 0);
		ck_assert_int_eq(model.balance, loaded.balance);
		ck_assert_int_eq(model.deposited, loaded.deposited);
		ck_assert_int_eq(model.withdrawn, loaded.withdrawn);
		ck_assert_int_eq(model.status, loaded.status);
		ck_assert_str_eq(model.owner, loaded.owner);
	}
	es_read_end(rd);
}

static int count_account(const char *id, const es_bank_account *a, void *user_data)
{
	(void)id, (void)a;
	++*(int *)user_data;
	return 0;
}

START_TEST(model_equals_loads)
{
	uint64_t rng = 0xba1a;
	for (int i = 0; i < ACCOUNTS; i++) {
		char id[16];
		snprintf(id, sizeof id, "acct-%d", i);
		bt_open(id, i % 2 ? "JPY" : "USD", 1000);
	}
	random_commands(&rng, 300);
	es_projection_stats st;
	ck_assert_es(es_bank_balances_catch_up(&st, bt_db), 0);
	ck_assert_uint_gt(st.events, 0);
	assert_model_matches();
	random_commands(&rng, 100); /* the model is behind until the next catch-up */
	es_read *rd;
	es_projection_status s;
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	ck_assert_es(es_projection_status_get(&s, rd, ES_BANK_BALANCES), 0);
	ck_assert_uint_gt(s.behind, 0);
	es_read_end(rd);
	ck_assert_es(es_bank_balances_catch_up(&st, bt_db), 0);
	assert_model_matches();
	int n = 0;
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	ck_assert_es(es_bank_balances_each(rd, count_account, &n), 0);
	ck_assert_int_eq(n, ACCOUNTS);
	es_bank_account a;
	ck_assert_es(es_bank_balance_get(&a, rd, "nobody"), ES_ENOTFOUND);
	bt_assert_msg_has("account 'nobody' is not in the balances model");
	ck_assert_es(es_bank_balance_get(NULL, rd, "acct-0"), ES_EINVAL);
	ck_assert_es(es_bank_balances_each(rd, NULL, NULL), ES_EINVAL);
	es_read_end(rd);
}
END_TEST

/* Inline, the model needs no catch-up: after every command it equals the
 * loads, and it is never behind. */
START_TEST(inline_model_is_never_behind)
{
	uint64_t rng = 0x1e1e;
	bt_open("acct-0", "USD", 0);
	ck_assert_es(es_bank_read_model_inline(bt_db, ES_BANK_BALANCES), 0);
	for (int i = 1; i < ACCOUNTS; i++) {
		char id[16];
		snprintf(id, sizeof id, "acct-%d", i);
		bt_open(id, "EUR", 500);
	}
	for (int round = 0; round < 5; round++) {
		random_commands(&rng, 40);
		assert_model_matches();
		es_read *rd;
		es_projection_status s;
		ck_assert_es(es_read_begin(&rd, bt_db), 0);
		ck_assert_es(es_projection_status_get(&s, rd, ES_BANK_BALANCES), 0);
		ck_assert_uint_eq(s.behind, 0);
		ck_assert_es(es_projection_status_get(&s, rd, ES_BANK_DAILY), ES_ENOTFOUND); /* only the one named */
		es_read_end(rd);
	}
	ck_assert_es(es_bank_read_model_inline(bt_db, ES_BANK_BALANCES), ES_EINVAL); /* already inline */
	ck_assert_es(es_bank_read_model_inline(bt_db, "bank-nothing"), ES_EINVAL);
	bt_assert_msg_has("no bank read model named 'bank-nothing'");
	ck_assert_es(es_bank_read_model_inline(bt_db, NULL), ES_EINVAL); /* balances is taken: none added */
	es_read *rd;
	es_projection_status s;
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	ck_assert_es(es_projection_status_get(&s, rd, ES_BANK_DAILY), ES_ENOTFOUND);
	es_read_end(rd);
}
END_TEST

typedef struct day_sums {
	int64_t net, transferred, days;
} day_sums;

static int sum_day(const es_bank_day *d, void *user_data)
{
	day_sums *s = user_data;
	s->net += d->net;
	s->transferred += d->transferred;
	s->days++;
	ck_assert_int_eq(d->net, d->deposited - d->withdrawn);
	return 0;
}

/* Two days, two currencies: nets add up to the balances, a transfer is
 * counted once and moves no net. */
START_TEST(daily_totals_add_up)
{
	bt_open("u1", "USD", 0);
	bt_open("u2", "USD", 0);
	bt_open("j1", "JPY", 0);
	ck_assert_es(es_bank_deposit(bt_db, "u1", 10000, NULL), 0);
	ck_assert_es(es_bank_deposit(bt_db, "j1", 500, NULL), 0);
	bt_now += INT64_C(86400) * 1000000000; /* the next day */
	ck_assert_es(es_bank_transfer(bt_db, "u1", "u2", 2500, NULL), 0);
	ck_assert_es(es_bank_withdraw(bt_db, "u2", 1000, NULL), 0);
	ck_assert_es(es_bank_daily_catch_up(NULL, bt_db), 0);
	es_read *rd;
	day_sums all = { 0 }, second = { 0 };
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	ck_assert_es(es_bank_daily_each(rd, INT64_MIN, INT64_MAX, sum_day, &all), 0);
	ck_assert_int_eq(all.days, 3); /* USD day 1, USD day 2, JPY day 1 */
	ck_assert_int_eq(all.net, 10000 + 500 - 1000);
	ck_assert_int_eq(all.transferred, 2500);
	ck_assert_es(es_bank_daily_each(rd, bt_now, INT64_MAX, sum_day, &second), 0);
	ck_assert_int_eq(second.days, 1);
	ck_assert_int_eq(second.net, -1000);
	ck_assert_es(es_bank_daily_each(rd, 0, 0, NULL, NULL), ES_EINVAL);
	es_read_end(rd);
	ck_assert_int_eq(bt_balance("u1") + bt_balance("u2"), 10000 - 1000);
}
END_TEST

static int list_ids(const char *id, void *user_data)
{
	strcat(user_data, id);
	strcat(user_data, ";");
	return 0;
}

START_TEST(owner_index)
{
	ck_assert_es(es_bank_open(bt_db, "b", "Ann", "USD", 0), 0);
	ck_assert_es(es_bank_open(bt_db, "a", "Ann", "EUR", 0), 0);
	ck_assert_es(es_bank_open(bt_db, "c", "Anna", "USD", 0), 0);
	ck_assert_es(es_bank_owners_catch_up(NULL, bt_db), 0);
	es_read *rd;
	char ids[64] = "";
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	ck_assert_es(es_bank_accounts_of(rd, "Ann", list_ids, ids), 0);
	ck_assert_str_eq(ids, "a;b;"); /* exact owner: not "Anna" */
	ids[0] = '\0';
	ck_assert_es(es_bank_accounts_of(rd, "Nobody", list_ids, ids), 0);
	ck_assert_str_eq(ids, "");
	ck_assert_es(es_bank_accounts_of(rd, "", list_ids, ids), ES_EINVAL);
	es_read_end(rd);
}
END_TEST

TCase *es_tc_balances(void)
{
	TCase *tc = tcase_create("balances");
	tcase_add_checked_fixture(tc, bt_setup, bt_teardown);
	tcase_add_test(tc, model_equals_loads);
	tcase_add_test(tc, inline_model_is_never_behind);
	tcase_add_test(tc, daily_totals_add_up);
	tcase_add_test(tc, owner_index);
	return tc;
}
