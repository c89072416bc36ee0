/*
 * test_commands.c - the bank's commands (commands.c), through the library:
 * every rule with its boundary, refusals that name the account and write
 * nothing, atomic transfers (also as of any past time), overflow, and
 * transfers from several threads and several processes at once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banktest.h"
#include "bank_tcases.h"
#include "bank.pb-c.h"

/* Asserts rc, that the message names the account (and says `text`, unless
 * NULL), and that the account's head did not move. */
static void refused_because(int rc, int want, const char *id, int64_t head, const char *text)
{
	ck_assert_es(rc, want);
	bt_assert_msg_has(id);
	if (text)
		bt_assert_msg_has(text);
	ck_assert_int_eq(bt_head(id), head);
}

static void refused(int rc, int want, const char *id, int64_t head)
{
	refused_because(rc, want, id, head, NULL);
}

START_TEST(open_rules)
{
	char owner[ES_BANK_OWNER_MAX + 2], id[ES_BANK_ACCOUNT_ID_MAX + 2];
	bt_open("alice", "USD", 0);
	refused_because(es_bank_open(bt_db, "alice", "Alice again", "USD", 0),
	                ES_EREJECTED, "alice", 0, "already exists");
	/* Owner: required, at most ES_BANK_OWNER_MAX bytes. */
	memset(owner, 'o', ES_BANK_OWNER_MAX);
	owner[ES_BANK_OWNER_MAX] = '\0';
	ck_assert_es(es_bank_open(bt_db, "long-owner", owner, "USD", 0), 0);
	owner[ES_BANK_OWNER_MAX] = 'o';
	owner[ES_BANK_OWNER_MAX + 1] = '\0';
	ck_assert_es(es_bank_open(bt_db, "too-long-owner", owner, "USD", 0), ES_EINVAL);
	ck_assert_es(es_bank_open(bt_db, "no-owner", "", "USD", 0), ES_EINVAL);
	ck_assert_es(es_bank_open(bt_db, "no-owner", NULL, "USD", 0), ES_EINVAL);
	ck_assert_int_eq(bt_head("too-long-owner"), -2);
	ck_assert_int_eq(bt_head("no-owner"), -2);
	/* Currency: three uppercase letters. */
	static const char *const bad_currency[] = { "usd", "US", "USDX", "", "U5D" };
	for (size_t i = 0; i < sizeof bad_currency / sizeof bad_currency[0]; i++) {
		ck_assert_es(es_bank_open(bt_db, "bob", "Bob", bad_currency[i], 0), ES_EINVAL);
		if (*bad_currency[i])
			bt_assert_msg_has(bad_currency[i]);
	}
	ck_assert_es(es_bank_open(bt_db, "bob", "Bob", NULL, 0), ES_EINVAL);
	ck_assert_es(es_bank_open(bt_db, "bob", "Bob", "USD", -1), ES_EINVAL);
	ck_assert_int_eq(bt_head("bob"), -2);
	/* Ids: 1..64 bytes of [A-Za-z0-9._-]. */
	memset(id, 'i', ES_BANK_ACCOUNT_ID_MAX);
	id[ES_BANK_ACCOUNT_ID_MAX] = '\0';
	ck_assert_es(es_bank_open(bt_db, id, "Max", "USD", 0), 0);
	id[ES_BANK_ACCOUNT_ID_MAX] = 'i';
	id[ES_BANK_ACCOUNT_ID_MAX + 1] = '\0';
	ck_assert_es(es_bank_open(bt_db, id, "Max", "USD", 0), ES_EINVAL);
	ck_assert_es(es_bank_open(bt_db, "", "Empty", "USD", 0), ES_EINVAL);
	ck_assert_es(es_bank_open(bt_db, "a/b", "Slash", "USD", 0), ES_EINVAL);
	bt_assert_msg_has("a/b");
	ck_assert_es(es_bank_open(bt_db, NULL, "Null", "USD", 0), ES_EINVAL);
}
END_TEST

START_TEST(amounts_positive_only)
{
	bt_open("a", "USD", 1000);
	bt_open("b", "USD", 0);
	static const int64_t bad[] = { 0, -1, -5, INT64_MIN };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_es(es_bank_deposit(bt_db, "a", bad[i], NULL), ES_EINVAL);
		ck_assert_es(es_bank_withdraw(bt_db, "a", bad[i], NULL), ES_EINVAL);
		ck_assert_es(es_bank_transfer(bt_db, "a", "b", bad[i], NULL), ES_EINVAL);
	}
	ck_assert_int_eq(bt_head("a"), 0);
	ck_assert_int_eq(bt_head("b"), 0);
	char ref[300];
	memset(ref, 'r', sizeof ref - 1);
	ref[sizeof ref - 1] = '\0';
	ck_assert_es(es_bank_deposit(bt_db, "a", 1, ref), ES_EINVAL); /* reference too long */
	ck_assert_es(es_bank_deposit(bt_db, "a", 1, "salary"), 0);
	ck_assert_es(es_bank_deposit(bt_db, "a", 1, NULL), 0);
	ck_assert_int_eq(bt_balance("a"), 2);
}
END_TEST

START_TEST(withdrawal_limit_exact)
{
	bt_open("a", "USD", 500);
	ck_assert_es(es_bank_deposit(bt_db, "a", 1000, NULL), 0);
	refused_because(es_bank_withdraw(bt_db, "a", 1501, NULL),
	                ES_EREJECTED, "a", 1, "insufficient funds");
	ck_assert_es(es_bank_withdraw(bt_db, "a", 1500, NULL), 0);
	ck_assert_int_eq(bt_balance("a"), -500);
	refused(es_bank_withdraw(bt_db, "a", 1, NULL), ES_EREJECTED, "a", 2);
	/* Without an overdraft the floor is zero. */
	bt_open("b", "USD", 0);
	ck_assert_es(es_bank_deposit(bt_db, "b", 250, NULL), 0);
	refused(es_bank_withdraw(bt_db, "b", 251, NULL), ES_EREJECTED, "b", 1);
	ck_assert_es(es_bank_withdraw(bt_db, "b", 250, NULL), 0);
	ck_assert_int_eq(bt_balance("b"), 0);
	refused(es_bank_withdraw(bt_db, "b", INT64_MAX, NULL), ES_EREJECTED, "b", 2);
	/* The same limit applies to a transfer's outgoing leg. */
	bt_open("c", "USD", 0);
	refused(es_bank_transfer(bt_db, "a", "c", 1, NULL), ES_EREJECTED, "a", 2);
	ck_assert_int_eq(bt_head("c"), 0);
}
END_TEST

START_TEST(frozen_and_unfrozen)
{
	bt_open("a", "USD", 0);
	bt_open("b", "USD", 0);
	ck_assert_es(es_bank_deposit(bt_db, "a", 1000, NULL), 0);
	ck_assert_es(es_bank_deposit(bt_db, "b", 1000, NULL), 0);
	refused(es_bank_unfreeze(bt_db, "a", "not frozen"), ES_EREJECTED, "a", 1);
	ck_assert_es(es_bank_freeze(bt_db, "a", "audit"), 0);
	refused(es_bank_freeze(bt_db, "a", "again"), ES_EREJECTED, "a", 2);
	ck_assert_es(es_bank_deposit(bt_db, "a", 5, NULL), 0); /* deposits still land */
	refused_because(es_bank_withdraw(bt_db, "a", 1, NULL), ES_EREJECTED, "a", 3, "frozen");
	refused(es_bank_transfer(bt_db, "a", "b", 1, NULL), ES_EREJECTED, "a", 3);
	ck_assert_int_eq(bt_head("b"), 1);
	ck_assert_es(es_bank_transfer(bt_db, "b", "a", 10, NULL), 0); /* incoming is fine */
	es_bank_account acct;
	ck_assert_es(es_bank_account_load(&acct, NULL, bt_db, "a"), 0);
	ck_assert_int_eq(acct.status, ES_BANK_STATUS_FROZEN);
	ck_assert_int_eq(acct.balance, 1015);
	ck_assert_es(es_bank_unfreeze(bt_db, "a", "cleared"), 0);
	ck_assert_es(es_bank_withdraw(bt_db, "a", 15, NULL), 0);
	ck_assert_es(es_bank_account_load(&acct, NULL, bt_db, "a"), 0);
	ck_assert_int_eq(acct.status, ES_BANK_STATUS_OPEN);
	ck_assert_int_eq(acct.balance, 1000);
}
END_TEST

START_TEST(closed_takes_nothing)
{
	bt_open("a", "USD", 100);
	bt_open("b", "USD", 0);
	ck_assert_es(es_bank_deposit(bt_db, "a", 300, NULL), 0);
	ck_assert_es(es_bank_deposit(bt_db, "b", 300, NULL), 0);
	refused_because(es_bank_close(bt_db, "a", "bye"), ES_EREJECTED, "a", 1, "3.00");
	ck_assert_es(es_bank_withdraw(bt_db, "a", 400, NULL), 0); /* -1.00 */
	refused(es_bank_close(bt_db, "a", "bye"), ES_EREJECTED, "a", 2);
	ck_assert_es(es_bank_deposit(bt_db, "a", 100, NULL), 0);
	ck_assert_es(es_bank_close(bt_db, "a", "bye"), 0);
	int64_t head = 4;
	refused_because(es_bank_deposit(bt_db, "a", 1, NULL), ES_EREJECTED, "a", head, "closed");
	refused(es_bank_withdraw(bt_db, "a", 1, NULL), ES_EREJECTED, "a", head);
	refused(es_bank_transfer(bt_db, "b", "a", 1, NULL), ES_EREJECTED, "a", head);
	refused(es_bank_transfer(bt_db, "a", "b", 1, NULL), ES_EREJECTED, "a", head);
	refused(es_bank_freeze(bt_db, "a", NULL), ES_EREJECTED, "a", head);
	refused(es_bank_unfreeze(bt_db, "a", NULL), ES_EREJECTED, "a", head);
	refused(es_bank_close(bt_db, "a", NULL), ES_EREJECTED, "a", head);
	refused(es_bank_open(bt_db, "a", "Again", "USD", 0), ES_EREJECTED, "a", head);
	ck_assert_int_eq(bt_head("b"), 1);
	ck_assert_int_eq(bt_balance("b"), 300);
	/* A frozen account with a zero balance may close. */
	bt_open("c", "USD", 0);
	ck_assert_es(es_bank_freeze(bt_db, "c", NULL), 0);
	ck_assert_es(es_bank_close(bt_db, "c", NULL), 0);
}
END_TEST

START_TEST(unknown_accounts)
{
	bt_open("a", "USD", 0);
	ck_assert_es(es_bank_deposit(bt_db, "a", 100, NULL), 0);
	refused_because(es_bank_deposit(bt_db, "ghost", 1, NULL),
	                ES_EREJECTED, "ghost", -2, "does not exist");
	refused(es_bank_withdraw(bt_db, "ghost", 1, NULL), ES_EREJECTED, "ghost", -2);
	refused(es_bank_freeze(bt_db, "ghost", NULL), ES_EREJECTED, "ghost", -2);
	refused(es_bank_unfreeze(bt_db, "ghost", NULL), ES_EREJECTED, "ghost", -2);
	refused(es_bank_close(bt_db, "ghost", NULL), ES_EREJECTED, "ghost", -2);
	refused(es_bank_transfer(bt_db, "a", "ghost", 1, NULL), ES_EREJECTED, "ghost", -2);
	ck_assert_int_eq(bt_head("a"), 1);
	refused(es_bank_transfer(bt_db, "ghost", "a", 1, NULL), ES_EREJECTED, "ghost", -2);
	ck_assert_int_eq(bt_head("a"), 1);
	ck_assert_es(es_bank_deposit(bt_db, "a/b", 1, NULL), ES_EINVAL);
	ck_assert_es(es_bank_transfer(bt_db, "a", "", 1, NULL), ES_EINVAL);
	ck_assert_es(es_bank_transfer(bt_db, NULL, "a", 1, NULL), ES_EINVAL);
	ck_assert_int_eq(bt_head("a"), 1);
}
END_TEST

/* Reads the transfer fields of one leg. */
static void leg(const char *id, int64_t version, char *transfer_id, char *counterparty, int64_t *amount)
{
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	es_read *rd;
	es_event ev;
	es_bank_account_stream(stream, id);
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	ck_assert_es(es_stream_get(&ev, rd, stream, version), 0);
	ck_assert_int_eq(ev.schema_version, ES_BANK_SCHEMA_VERSION);
	if (strcmp(ev.type, ES_BANK_MONEY_WITHDRAWN) == 0) {
		Evstore__Bank__MoneyWithdrawn *m =
		    evstore__bank__money_withdrawn__unpack(NULL, ev.payload_len, ev.payload);
		ck_assert_ptr_nonnull(m);
		strcpy(transfer_id, m->transfer_id);
		strcpy(counterparty, m->counterparty);
		*amount = -m->amount_minor;
		evstore__bank__money_withdrawn__free_unpacked(m, NULL);
	} else {
		ck_assert_str_eq(ev.type, ES_BANK_MONEY_DEPOSITED);
		Evstore__Bank__MoneyDeposited *m =
		    evstore__bank__money_deposited__unpack(NULL, ev.payload_len, ev.payload);
		ck_assert_ptr_nonnull(m);
		strcpy(transfer_id, m->transfer_id);
		strcpy(counterparty, m->counterparty);
		*amount = m->amount_minor;
		evstore__bank__money_deposited__free_unpacked(m, NULL);
	}
	es_read_end(rd);
}

START_TEST(transfer_rules)
{
	bt_open("usd1", "USD", 0);
	bt_open("usd2", "USD", 0);
	bt_open("eur", "EUR", 0);
	ck_assert_es(es_bank_deposit(bt_db, "usd1", 1000, NULL), 0);
	ck_assert_es(es_bank_deposit(bt_db, "eur", 1000, NULL), 0);
	refused_because(es_bank_transfer(bt_db, "usd1", "eur", 10, NULL),
	                ES_EREJECTED, "usd1", 1, "eur");
	ck_assert_int_eq(bt_head("eur"), 1);
	refused(es_bank_transfer(bt_db, "eur", "usd1", 10, NULL), ES_EREJECTED, "eur", 1);
	ck_assert_int_eq(bt_head("usd1"), 1);
	refused(es_bank_transfer(bt_db, "usd1", "usd1", 10, NULL), ES_EINVAL, "usd1", 1);
	refused(es_bank_transfer(bt_db, "usd2", "usd1", 10, NULL), ES_EREJECTED, "usd2", 0);
	ck_assert_int_eq(bt_head("usd1"), 1);
	ck_assert_es(es_bank_transfer(bt_db, "usd1", "usd2", 400, "rent"), 0);
	ck_assert_int_eq(bt_head("usd1"), 2);
	ck_assert_int_eq(bt_head("usd2"), 1);
	ck_assert_int_eq(bt_balance("usd1"), 600);
	ck_assert_int_eq(bt_balance("usd2"), 400);
	char tid_out[64], tid_in[64], cp_out[80], cp_in[80];
	int64_t out, in;
	leg("usd1", 2, tid_out, cp_out, &out);
	leg("usd2", 1, tid_in, cp_in, &in);
	ck_assert_int_eq(out, -400);
	ck_assert_int_eq(in, 400);
	ck_assert_uint_eq(strlen(tid_out), ES_ID_TEXT_SIZE - 1);
	ck_assert_str_eq(tid_out, tid_in);
	ck_assert_str_eq(cp_out, "usd2");
	ck_assert_str_eq(cp_in, "usd1");
	/* Both legs in one commit: adjacent in the log. */
	es_read *rd;
	es_event a, b;
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	ck_assert_es(es_stream_get(&a, rd, "account-usd1", 2), 0);
	ck_assert_es(es_stream_get(&b, rd, "account-usd2", 1), 0);
	ck_assert_uint_eq(b.position, a.position + 1);
	es_read_end(rd);
}
END_TEST

START_TEST(balance_overflow)
{
	bt_open("rich", "USD", 0);
	bt_open("other", "USD", 0);
	ck_assert_es(es_bank_deposit(bt_db, "rich", INT64_MAX, NULL), 0);
	ck_assert_es(es_bank_deposit(bt_db, "rich", 1, NULL), ES_ERANGE);
	bt_assert_msg_has("rich");
	ck_assert_int_eq(bt_head("rich"), 1);
	ck_assert_es(es_bank_deposit(bt_db, "other", 5, NULL), 0);
	refused(es_bank_transfer(bt_db, "other", "rich", 1, NULL), ES_ERANGE, "rich", 1);
	ck_assert_int_eq(bt_head("other"), 1);
	ck_assert_int_eq(bt_balance("rich"), INT64_MAX);
	ck_assert_int_eq(bt_balance("other"), 5);
}
END_TEST

/* The running totals (deposited, withdrawn) must not overflow either: a
 * command that would make them overflow is refused, and the account stays
 * loadable. */
START_TEST(total_overflow)
{
	es_bank_account acct;
	bt_open("dep", "USD", 0);
	ck_assert_es(es_bank_deposit(bt_db, "dep", INT64_MAX, NULL), 0);
	ck_assert_es(es_bank_withdraw(bt_db, "dep", INT64_MAX, NULL), 0);
	refused(es_bank_deposit(bt_db, "dep", 1, NULL), ES_ERANGE, "dep", 2);
	ck_assert_es(es_bank_account_load(&acct, NULL, bt_db, "dep"), 0);
	ck_assert_int_eq(acct.balance, 0);
	ck_assert_int_eq(acct.deposited, INT64_MAX);

	bt_open("wd", "USD", INT64_MAX);
	ck_assert_es(es_bank_withdraw(bt_db, "wd", INT64_MAX, NULL), 0);
	ck_assert_es(es_bank_deposit(bt_db, "wd", INT64_MAX, NULL), 0);
	refused(es_bank_withdraw(bt_db, "wd", 1, NULL), ES_ERANGE, "wd", 2);
	ck_assert_es(es_bank_account_load(&acct, NULL, bt_db, "wd"), 0);
	ck_assert_int_eq(acct.balance, 0);
	ck_assert_int_eq(acct.withdrawn, INT64_MAX);

	bt_open("src", "USD", 0);
	ck_assert_es(es_bank_deposit(bt_db, "src", 10, NULL), 0);
	refused(es_bank_transfer(bt_db, "src", "dep", 1, NULL), ES_ERANGE, "dep", 2);
	ck_assert_int_eq(bt_head("src"), 1);
	refused(es_bank_transfer(bt_db, "wd", "src", 1, NULL), ES_ERANGE, "wd", 2);
	ck_assert_int_eq(bt_head("src"), 1);
}
END_TEST

/* A transfer is atomic in the present and must be atomic in the past too:
 * at every instant around it, its legs' own recorded_at included, the two
 * accounts' as-of balances add up to the same total (an as-of read must
 * never show half a commit). */
START_TEST(transfer_atomic_as_of)
{
	bt_open("x", "USD", 0);
	bt_open("y", "USD", 0);
	ck_assert_es(es_bank_deposit(bt_db, "x", 1000, NULL), 0);
	bt_now += 1000000;
	ck_assert_es(es_bank_transfer(bt_db, "x", "y", 300, NULL), 0);
	int64_t out_at = bt_recorded_at("x", 2), in_at = bt_recorded_at("y", 1);
	int64_t times[] = { bt_recorded_at("x", 1), out_at - 1, out_at, in_at, in_at + 1, INT64_MAX };
	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		es_bank_account x, y;
		ck_assert_es(es_bank_account_load_as_of(&x, NULL, bt_db, "x", times[i]), 0);
		ck_assert_es(es_bank_account_load_as_of(&y, NULL, bt_db, "y", times[i]), 0);
		ck_assert_msg(x.balance + y.balance == 1000,
		              "as of %lld (withdrawal leg recorded at %lld, deposit leg at %lld): "
		              "x %lld + y %lld != 1000", (long long)times[i], (long long)out_at,
		              (long long)in_at, (long long)x.balance, (long long)y.balance);
	}
}
END_TEST

/* ---- concurrent transfers ---- */

#define C_ACCOUNTS 5
#define C_THREADS 4
#define C_PROCS 3
#define C_TRANSFERS 60
#define C_OPENING 100000

static const char *const c_ids[C_ACCOUNTS] = { "c0", "c1", "c2", "c3", "c4" };
static const int64_t c_overdraft[C_ACCOUNTS] = { 0, 1000, 0, 50000, 0 };

typedef struct worker {
	es_db *db;
	uint64_t seed;
	int done;
	int rc;
} worker;

/* Random transfers; refusals and lost races are fine, anything else is not. */
static void transfer_loop(worker *w)
{
	for (int i = 0; i < C_TRANSFERS; i++) {
		size_t a = es_test_random(&w->seed) % C_ACCOUNTS, b = es_test_random(&w->seed) % C_ACCOUNTS;
		if (a == b)
			b = (b + 1) % C_ACCOUNTS;
		int64_t amount = 1 + (int64_t)(es_test_random(&w->seed) % 60000);
		int rc = es_bank_transfer(w->db, c_ids[a], c_ids[b], amount, "concurrent");
		if (rc == 0)
			w->done++;
		else if (rc != ES_EREJECTED && rc != ES_ECONFLICT) {
			w->rc = rc;
			return;
		}
	}
}

static void *thread_main(void *arg)
{
	transfer_loop(arg);
	return NULL;
}

static pid_t spawn_process(uint64_t seed)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int64_t clock = BT_T0;
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.clock = es_test_clock;
	o.clock_user_data = &clock;
	o.nosync = 1;
	worker w = { NULL, seed, 0, 0 };
	if (es_db_open(&w.db, bt_path, &o) != 0)
		_exit(3);
	transfer_loop(&w);
	es_db_close(w.db);
	_exit(w.rc ? 1 : w.done ? 0 : 2);
}

/* Sum of every account's balance as of t, in one read. */
static int64_t total_as_of(int64_t t)
{
	es_read *rd;
	int64_t total = 0;
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	for (int i = 0; i < C_ACCOUNTS; i++) {
		char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
		es_bank_account a;
		es_bank_account_stream(stream, c_ids[i]);
		int rc = es_aggregate_fold_as_of(&a, NULL, rd, &es_bank_account_type, stream, t);
		if (rc == ES_ENOTFOUND)
			continue;
		ck_assert_es(rc, 0);
		total += a.balance;
	}
	es_read_end(rd);
	return total;
}

/* The money that existed at t: opening deposits recorded at or before t. */
static int64_t opened_by(const int64_t *deposit_at, int64_t t)
{
	int64_t total = 0;
	for (int i = 0; i < C_ACCOUNTS; i++)
		total += deposit_at[i] <= t ? C_OPENING : 0;
	return total;
}

/* At recorded_at values sampled from the whole log, the as-of total is the
 * money opened by then: no instant shows half a transfer. */
static void check_totals_in_the_past(const int64_t *deposit_at)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	uint64_t head, seed = 77;
	size_t n = 0;
	ck_assert_es(es_read_begin(&rd, bt_db), 0);
	ck_assert_es(es_log_head(&head, rd), 0);
	int64_t *times = calloc(head, sizeof *times);
	ck_assert_es(es_log_iter(&it, rd, 1, ES_FORWARD, ES_NO_LIMIT), 0);
	while (es_iter_next(&ev, it) == 0)
		times[n++] = ev.recorded_at;
	es_iter_free(it);
	es_read_end(rd);
	ck_assert_uint_eq(n, head);
	for (int k = 0; k < 80; k++) {
		int64_t t = times[es_test_random(&seed) % n];
		int64_t got = total_as_of(t), want = opened_by(deposit_at, t);
		ck_assert_msg(got == want, "total as of %lld: %lld, want %lld", (long long)t, (long long)got,
		              (long long)want);
	}
	free(times);
}

START_TEST(concurrent_transfers_conserve_money)
{
	int64_t deposit_at[C_ACCOUNTS];
	for (int i = 0; i < C_ACCOUNTS; i++) {
		bt_open(c_ids[i], "USD", c_overdraft[i]);
		bt_now += 1000;
		ck_assert_es(es_bank_deposit(bt_db, c_ids[i], C_OPENING, "opening"), 0);
		deposit_at[i] = bt_recorded_at(c_ids[i], 1);
	}
	/* Processes open the store themselves; none inherits an open handle. */
	es_db_close(bt_db);
	pid_t pids[C_PROCS];
	for (int p = 0; p < C_PROCS; p++)
		ck_assert_int_gt(pids[p] = spawn_process(1000 + (uint64_t)p), 0);
	bt_db = bt_open_again(&bt_now);
	pthread_t th[C_THREADS];
	worker w[C_THREADS];
	for (int i = 0; i < C_THREADS; i++) {
		w[i] = (worker){ bt_db, 1 + (uint64_t)i, 0, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, &w[i]), 0);
	}
	int done = 0;
	for (int i = 0; i < C_THREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_msg(w[i].rc == 0, "thread %d: %s", i, es_strerror(w[i].rc));
		done += w[i].done;
	}
	for (int p = 0; p < C_PROCS; p++) {
		int status;
		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d: status %d", p, status);
	}
	ck_assert_int_gt(done, 0);
	int64_t total = 0;
	for (int i = 0; i < C_ACCOUNTS; i++) {
		es_bank_account a;
		ck_assert_es(es_bank_account_load(&a, NULL, bt_db, c_ids[i]), 0);
		ck_assert_msg(a.balance >= -c_overdraft[i], "%s: balance %lld below -%lld", c_ids[i],
		              (long long)a.balance, (long long)c_overdraft[i]);
		ck_assert_int_eq(a.deposited - a.withdrawn, a.balance);
		total += a.balance;
	}
	ck_assert_int_eq(total, C_ACCOUNTS * C_OPENING);
	check_totals_in_the_past(deposit_at);
}
END_TEST

TCase *es_tc_commands(void)
{
	TCase *tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, bt_setup, bt_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, open_rules);
	tcase_add_test(tc, amounts_positive_only);
	tcase_add_test(tc, withdrawal_limit_exact);
	tcase_add_test(tc, frozen_and_unfrozen);
	tcase_add_test(tc, closed_takes_nothing);
	tcase_add_test(tc, unknown_accounts);
	tcase_add_test(tc, transfer_rules);
	tcase_add_test(tc, balance_overflow);
	tcase_add_test(tc, total_overflow);
	tcase_add_test(tc, transfer_atomic_as_of);
	tcase_add_test(tc, concurrent_transfers_conserve_money);
	return tc;
}
