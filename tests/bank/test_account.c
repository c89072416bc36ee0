/*
 * test_account.c - the account aggregate (account.c): account ids and
 * stream names, loads latest / at a version / as of a time, the snapshot
 * codec, and a property test: as-of balances over random histories equal a
 * naive fold of every event recorded at or before the time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banktest.h"
#include "bank_tcases.h"

START_TEST(account_ids)
{
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	char id[ES_BANK_ACCOUNT_ID_MAX + 2];
	ck_assert_es(es_bank_account_stream(stream, "alice"), 0);
	ck_assert_str_eq(stream, "account-alice");
	ck_assert_es(es_bank_account_stream(stream, "A-z_0.9"), 0);
	ck_assert_str_eq(stream, "account-A-z_0.9");
	memset(id, 'x', ES_BANK_ACCOUNT_ID_MAX);
	id[ES_BANK_ACCOUNT_ID_MAX] = '\0';
	ck_assert_es(es_bank_account_stream(stream, id), 0);
	ck_assert_uint_eq(strlen(stream), ES_BANK_ACCOUNT_STREAM_SIZE - 1);
	id[ES_BANK_ACCOUNT_ID_MAX] = 'x';
	id[ES_BANK_ACCOUNT_ID_MAX + 1] = '\0';
	ck_assert_es(es_bank_account_stream(stream, id), ES_EINVAL);
	bt_assert_msg_has("xxxxxxxxxx");
	static const char *const bad[] = { "a/b", "a b", "caf\xc3\xa9", "a:b", "a\n" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_es(es_bank_account_stream(stream, bad[i]), ES_EINVAL);
		bt_assert_msg_has(bad[i]);
	}
	ck_assert_es(es_bank_account_stream(stream, ""), ES_EINVAL);
	ck_assert_es(es_bank_account_stream(stream, NULL), ES_EINVAL);
	ck_assert_str_eq(es_bank_status_str(ES_BANK_STATUS_OPEN), "open");
	ck_assert_str_eq(es_bank_status_str(ES_BANK_STATUS_FROZEN), "frozen");
	ck_assert_str_eq(es_bank_status_str(ES_BANK_STATUS_CLOSED), "closed");
}
END_TEST

START_TEST(load_fields)
{
	es_bank_account a;
	es_load_info info;
	ck_assert_es(es_bank_open(bt_db, "alice", "Alice Smith", "EUR", 5000), 0);
	ck_assert_es(es_bank_open(bt_db, "kenji", "Kenji", "JPY", 0), 0);
	ck_assert_es(es_bank_open(bt_db, "omar", "Omar", "KWD", 0), 0);
	ck_assert_es(es_bank_account_load(&a, &info, bt_db, "alice"), 0);
	ck_assert_str_eq(a.owner, "Alice Smith");
	ck_assert_str_eq(a.currency, "EUR");
	ck_assert_int_eq(a.decimals, 2);
	ck_assert_int_eq(a.overdraft_limit, 5000);
	ck_assert_int_eq(a.balance, 0);
	ck_assert_int_eq(a.status, ES_BANK_STATUS_OPEN);
	ck_assert_int_eq(a.deposited, 0);
	ck_assert_int_eq(a.withdrawn, 0);
	ck_assert_int_eq(info.version, 0);
	ck_assert_int_eq(info.recorded_at, bt_recorded_at("alice", 0));
	ck_assert_es(es_bank_account_load(&a, NULL, bt_db, "kenji"), 0);
	ck_assert_int_eq(a.decimals, 0);
	ck_assert_es(es_bank_account_load(&a, NULL, bt_db, "omar"), 0);
	ck_assert_int_eq(a.decimals, 3);
	ck_assert_es(es_bank_account_load(&a, NULL, bt_db, "nobody"), ES_ENOTFOUND);
	bt_assert_msg_has("nobody");
	ck_assert_es(es_bank_account_load(&a, NULL, bt_db, "a/b"), ES_EINVAL);
	ck_assert_es(es_bank_account_load_at_version(&a, NULL, bt_db, "a/b", 0), ES_EINVAL);
	ck_assert_es(es_bank_account_load_as_of(&a, NULL, bt_db, "a/b", 0), ES_EINVAL);
}
END_TEST

START_TEST(load_at_version_and_time)
{
	static const int64_t balances[] = { 0, 100, 300, 250, 250 };
	bt_open("a", "USD", 0);
	bt_now += 10;
	ck_assert_es(es_bank_deposit(bt_db, "a", 100, "one"), 0);
	bt_now += 10;
	ck_assert_es(es_bank_deposit(bt_db, "a", 200, "two"), 0);
	bt_now += 10;
	ck_assert_es(es_bank_withdraw(bt_db, "a", 50, "three"), 0);
	bt_now += 10;
	ck_assert_es(es_bank_freeze(bt_db, "a", "audit"), 0);
	es_bank_account a;
	es_load_info info;
	for (int64_t v = 0; v <= 4; v++) {
		ck_assert_es(es_bank_account_load_at_version(&a, &info, bt_db, "a", v), 0);
		ck_assert_int_eq(a.balance, balances[v]);
		ck_assert_int_eq(info.version, v);
		int64_t at = bt_recorded_at("a", v);
		ck_assert_es(es_bank_account_load_as_of(&a, &info, bt_db, "a", at), 0);
		ck_assert_int_eq(a.balance, balances[v]);
		ck_assert_int_eq(info.version, v);
		ck_assert_es(es_bank_account_load_as_of(&a, &info, bt_db, "a", at - 1), v ? 0 : ES_ENOTFOUND);
		if (v)
			ck_assert_int_eq(a.balance, balances[v - 1]);
	}
	ck_assert_int_eq(a.status, ES_BANK_STATUS_OPEN);
	ck_assert_es(es_bank_account_load(&a, NULL, bt_db, "a"), 0);
	ck_assert_int_eq(a.status, ES_BANK_STATUS_FROZEN);
	ck_assert_es(es_bank_account_load_at_version(&a, NULL, bt_db, "a", 5), ES_ENOTFOUND);
	ck_assert_es(es_bank_account_load_at_version(&a, NULL, bt_db, "a", -1), ES_EINVAL);
	ck_assert_es(es_bank_account_load_as_of(&a, NULL, bt_db, "a", bt_recorded_at("a", 0) - 1), ES_ENOTFOUND);
	bt_assert_msg_has("did not exist");
}
END_TEST

START_TEST(snapshot_codec)
{
	es_bank_account a, b;
	es_bank_account_type.init(&a);
	snprintf(a.owner, sizeof a.owner, "%s", "Zoë \"Z\" Q");
	strcpy(a.currency, "BHD");
	a.decimals = 3;
	a.overdraft_limit = 7;
	a.balance = INT64_MIN + 1;
	a.status = ES_BANK_STATUS_FROZEN;
	a.deposited = INT64_MAX;
	a.withdrawn = 12345;
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(es_bank_account_type.snapshot_encode(&buf, &len, &a), 0);
	es_bank_account_type.init(&b);
	ck_assert_int_eq(es_bank_account_type.snapshot_decode(&b, buf, len), 0);
	bt_assert_account_eq(&b, &a, "decoded");
	free(buf);
	es_bank_account_type.init(&b);
	ck_assert_int_ne(es_bank_account_type.snapshot_decode(&b, (const uint8_t *)"\xff\xff\xff", 3), 0);
	/* A well-formed message with a currency no account can have. */
	ck_assert_int_ne(es_bank_account_type.snapshot_decode(&b, (const uint8_t *)"\x12\x03usd", 5), 0);
}
END_TEST

START_TEST(snapshots_every_hundred)
{
	es_bank_account a;
	es_load_info info;
	bt_open("a", "USD", 0);
	for (int i = 1; i <= 98; i++)
		ck_assert_es(es_bank_deposit(bt_db, "a", i, NULL), 0);
	ck_assert_es(es_bank_account_load(&a, &info, bt_db, "a"), 0);
	ck_assert_int_eq(info.snapshot_version, -1); /* 99 events */
	ck_assert_es(es_bank_deposit(bt_db, "a", 99, NULL), 0);
	ck_assert_es(es_bank_account_load(&a, &info, bt_db, "a"), 0);
	ck_assert_int_eq(info.version, 99);
	ck_assert_int_eq(info.snapshot_version, 99);
	ck_assert_uint_eq(info.events_folded, 0);
	ck_assert_int_eq(a.balance, 99 * 100 / 2);
	ck_assert_es(es_bank_withdraw(bt_db, "a", 1, NULL), 0);
	ck_assert_es(es_bank_account_load(&a, &info, bt_db, "a"), 0);
	ck_assert_int_eq(info.snapshot_version, 99);
	ck_assert_uint_eq(info.events_folded, 1);
	ck_assert_int_eq(a.balance, 99 * 100 / 2 - 1);
}
END_TEST

/* Stored events the account cannot apply fail the load, naming them. */
START_TEST(undecodable_events)
{
	es_bank_account a;
	bt_open("bad", "USD", 0);
	ck_assert_es(es_bank_deposit(bt_db, "bad", 10, NULL), 0);
	es_event_data ev = { .type = "MoneyDeposited", .schema_version = 3, .payload = "\xff\xff",
	                     .payload_len = 2 };
	ck_assert_es(es_stream_append(NULL, bt_db, "account-bad", 1, &ev, 1), 0);
	ck_assert_es(es_bank_account_load(&a, NULL, bt_db, "bad"), ES_ECORRUPT);
	bt_assert_msg_has("account-bad");
	bt_assert_msg_has("version 2");
	ck_assert_es(es_bank_account_load_at_version(&a, NULL, bt_db, "bad", 1), 0);
	ck_assert_int_eq(a.balance, 10);
	/* A well-formed deposit of a negative amount is no deposit either. */
	bt_open("neg", "USD", 0);
	ev = (es_event_data){ .type = "MoneyDeposited", .schema_version = 3, .payload = "\x08\x7f",
	                      .payload_len = 2 }; /* amount_minor = 127 */
	ck_assert_es(es_stream_append(NULL, bt_db, "account-neg", 0, &ev, 1), 0);
	ck_assert_int_eq(bt_balance("neg"), 127);
	static const uint8_t minus_one[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                     0xff, 0xff, 0xff, 0xff, 0x01 }; /* -1 */
	ev = (es_event_data){ .type = "MoneyDeposited", .schema_version = 3, .payload = minus_one,
	                      .payload_len = sizeof minus_one };
	ck_assert_es(es_stream_append(NULL, bt_db, "account-neg", 1, &ev, 1), 0);
	ck_assert_es(es_bank_account_load(&a, NULL, bt_db, "neg"), ES_ECORRUPT);
	bt_assert_msg_has("account-neg");
}
END_TEST

/* ---- the property test ---- */

#define ACCOUNTS 4
#define OPS 700

static uint64_t rng_state;

static uint64_t rnd(void) { return es_test_random(&rng_state); }
static int64_t rnd_between(int64_t lo, int64_t hi) { return es_test_random_between(&rng_state, lo, hi); }

static const char *const ids[ACCOUNTS] = { "p0", "p1", "p2", "p3" };

/* The injected clock moves by a random amount: mostly forward, sometimes
 * not at all, sometimes backwards. */
static void clock_step(void)
{
	int kind = (int)(rnd() % 10);
	if (kind >= 2)
		bt_now += kind < 4 ? -rnd_between(1, 1000000) : rnd_between(1, 60000000000);
}

/* One random command; refusals are part of the story. */
static void random_op(void)
{
	const char *a = ids[rnd() % ACCOUNTS], *b = ids[rnd() % ACCOUNTS];
	int64_t amount = rnd_between(1, 50000);
	int kind = (int)(rnd() % 100), rc;
	clock_step();
	if (kind < 45)
		rc = es_bank_deposit(bt_db, a, amount, "d");
	else if (kind < 75)
		rc = es_bank_withdraw(bt_db, a, amount, "w");
	else if (a != b)
		rc = es_bank_transfer(bt_db, a, b, amount, "t");
	else
		rc = 0;
	ck_assert_msg(rc == 0 || rc == ES_EREJECTED, "op %d: %s", kind, es_error_last()->message);
}

/* Times to probe one account at: each event's recorded_at and its
 * neighbours, before the first and after the last, the int64 edges, and
 * random times in the account's life. */
static size_t probe_times(int64_t *out, size_t cap, es_read *rd, const char *id)
{
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	es_iter *it;
	es_event ev;
	size_t n = 0;
	int64_t first = 0, last = 0;
	es_bank_account_stream(stream, id);
	ck_assert_es(es_stream_iter(&it, rd, stream, 0, ES_FORWARD, ES_NO_LIMIT), 0);
	while (es_iter_next(&ev, it) == 0 && n + 3 <= cap) {
		if (n == 0)
			first = ev.recorded_at;
		last = ev.recorded_at;
		out[n++] = ev.recorded_at;
		out[n++] = ev.recorded_at - 1;
		out[n++] = ev.recorded_at + 1;
	}
	es_iter_free(it);
	int64_t extra[] = { INT64_MIN, INT64_MAX, BT_T0 - 1, first - 1, first - 3600000000000, last + 1 };
	for (size_t i = 0; i < sizeof extra / sizeof extra[0] && n < cap; i++)
		out[n++] = extra[i];
	for (int i = 0; i < 40 && n < cap; i++)
		out[n++] = rnd_between(first - 1000, last + 1000);
	return n;
}

/* Checks one as-of load against the naive fold; 1 if it used a snapshot. */
static int check_as_of(es_read *rd, const char *id, int64_t t)
{
	es_bank_account want, got;
	es_load_info info;
	size_t applied = bt_naive_as_of(&want, rd, id, t);
	int rc = es_bank_account_load_as_of(&got, &info, bt_db, id, t);
	if (applied == 0) {
		ck_assert_msg(rc == ES_ENOTFOUND, "%s as of %lld: %d, want ES_ENOTFOUND", id, (long long)t, rc);
		return 0;
	}
	ck_assert_msg(rc == 0, "%s as of %lld: %s", id, (long long)t, es_error_last()->message);
	bt_assert_account_eq(&got, &want, id);
	ck_assert_int_eq(info.version, (int64_t)applied - 1);
	ck_assert_int_le(info.recorded_at, t);
	ck_assert_uint_eq(info.snapshots_skipped, 0);
	return info.snapshot_version >= 0;
}

START_TEST(as_of_matches_naive_fold)
{
	rng_state = UINT64_C(0x2545f4914f6cdd1d) * (uint64_t)(_i + 3);
	for (int i = 0; i < ACCOUNTS; i++) {
		clock_step();
		bt_open(ids[i], "USD", (int64_t)(rnd() % 2) * 20000);
	}
	for (int op = 0; op < OPS; op++)
		random_op();
	int64_t *times = malloc(4096 * sizeof *times);
	int from_snapshot = 0;
	es_read *rd;
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	for (int i = 0; i < ACCOUNTS; i++) {
		size_t n = probe_times(times, 4096, rd, ids[i]);
		for (size_t k = 0; k < n; k++)
			from_snapshot += check_as_of(rd, ids[i], times[k]);
	}
	es_read_end(rd);
	free(times);
	ck_assert_int_gt(from_snapshot, 0);
}
END_TEST

TCase *es_tc_account(void)
{
	TCase *tc = tcase_create("account");
	tcase_add_checked_fixture(tc, bt_setup, bt_teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, account_ids);
	tcase_add_test(tc, load_fields);
	tcase_add_test(tc, load_at_version_and_time);
	tcase_add_test(tc, snapshot_codec);
	tcase_add_test(tc, snapshots_every_hundred);
	tcase_add_test(tc, undecodable_events);
	tcase_add_loop_test(tc, as_of_matches_naive_fold, 0, 5);
	return tc;
}
