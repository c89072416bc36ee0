/*
 * banktest.c - the bank tests' fixture and helpers (see banktest.h).
 */
#include <stdio.h>
#include <string.h>

#include "banktest.h"

es_db *bt_db;
char bt_path[512];
int64_t bt_now;

es_db *bt_open_again(int64_t *clock)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.clock = es_test_clock;
	o.clock_user_data = clock;
	o.nosync = 1;
	es_db *db = NULL;
	ck_assert_es(es_db_open(&db, bt_path, &o), 0);
	return db;
}

void bt_setup(void)
{
	bt_now = BT_T0;
	snprintf(bt_path, sizeof bt_path, "%s", es_test_tmpdir());
	bt_db = bt_open_again(&bt_now);
}

void bt_teardown(void)
{
	es_db_close(bt_db);
	bt_db = NULL;
	es_test_tmpdir_remove();
}

void bt_open(const char *id, const char *currency, int64_t overdraft)
{
	char owner[64];
	snprintf(owner, sizeof owner, "Owner of %s", id);
	ck_assert_es(es_bank_open(bt_db, id, owner, currency, overdraft), 0);
}

int64_t bt_head(const char *id)
{
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	es_read *rd;
	es_stream_info si;
	ck_assert_es(es_bank_account_stream(stream, id), 0);
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	int rc = es_stream_info_get(&si, rd, stream);
	es_read_end(rd);
	if (rc == ES_ENOTFOUND)
		return -2;
	ck_assert_es(rc, 0);
	return si.head_version;
}

int64_t bt_balance(const char *id)
{
	es_bank_account a;
	ck_assert_es(es_bank_account_load(&a, NULL, bt_db, id), 0);
	return a.balance;
}

int64_t bt_recorded_at(const char *id, int64_t version)
{
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	es_read *rd;
	es_event ev;
	ck_assert_es(es_bank_account_stream(stream, id), 0);
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	ck_assert_es(es_stream_get(&ev, rd, stream, version), 0);
	es_read_end(rd);
	return ev.recorded_at;
}

void bt_assert_msg_has(const char *text)
{
	ck_assert_msg(strstr(es_error_last()->message, text) != NULL, "message '%s' lacks '%s'",
	              es_error_last()->message, text);
}

size_t bt_naive_as_of(es_bank_account *out, es_read *rd, const char *id, int64_t t)
{
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	es_iter *it;
	es_event ev;
	size_t applied = 0;
	int rc;
	ck_assert_es(es_bank_account_stream(stream, id), 0);
	es_bank_account_type.init(out);
	ck_assert_es(es_stream_iter(&it, rd, stream, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	while ((rc = es_iter_next(&ev, it)) == 0) {
		if (ev.recorded_at > t)
			continue; /* naive: no reliance on time order */
		ck_assert_es(es_aggregate_apply(&es_bank_account_type, out, &ev), 0);
		applied++;
	}
	ck_assert_msg(rc == 0 || rc == ES_ITEROVER, "iterating %s: %d", stream, rc);
	es_iter_free(it);
	return applied;
}

void bt_assert_account_eq(const es_bank_account *got, const es_bank_account *want, const char *what)
{
	ck_assert_msg(got->balance == want->balance, "%s: balance %lld, want %lld", what,
	              (long long)got->balance, (long long)want->balance);
	ck_assert_msg(got->deposited == want->deposited && got->withdrawn == want->withdrawn,
	              "%s: deposited/withdrawn %lld/%lld, want %lld/%lld", what, (long long)got->deposited,
	              (long long)got->withdrawn, (long long)want->deposited, (long long)want->withdrawn);
	ck_assert_msg(got->status == want->status, "%s: status %d, want %d", what, got->status, want->status);
	ck_assert_str_eq(got->owner, want->owner);
	ck_assert_str_eq(got->currency, want->currency);
	ck_assert_int_eq(got->decimals, want->decimals);
	ck_assert_int_eq(got->overdraft_limit, want->overdraft_limit);
}
