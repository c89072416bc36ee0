/*
 * test_jepsen.c - a Jepsen-style bank test. Several processes, each with
 * several writer threads, move money between a few accounts with random
 * transfers, retrying on version conflicts. Reader threads in each process
 * check, in every read transaction, that the total is what it was at the
 * start, that no balance is below its overdraft limit, and that the balances
 * read model (inline in every process) agrees with each account's events in
 * the same read; and they travel in
 * time, to the moment of a random committed batch or just before it, where
 * the total must hold too (a batch is atomic in time). Afterwards the store
 * holds exactly the acknowledged transfers and passes es_check.
 *
 * It runs twice: with nosync writers, since more commits mean more races,
 * and with durable ones, whose commits also wait for their journal record's
 * fdatasync and run the journal's checkpoints between commits of other
 * processes. It is about isolation; the crash and power-loss campaigns are
 * about durability.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <evstore/bank.h>

#include "reltest.h"
#include "reliability_tcases.h"

#define J_ACCOUNTS 5
#define J_PROCS 3
#define J_WRITERS 2
#define J_READERS 2
#define J_TRANSFERS 300   /* per writer */
#define J_START 1000      /* each account's first deposit */
#define J_TOTAL (J_ACCOUNTS * J_START)

static const int64_t j_overdraft[J_ACCOUNTS] = { 0, 0, 100, 250, 1000 };

/* What one process reports to the test. */
typedef struct j_report {
	long acked, rejected, conflicts, gave_up, reads, past_reads, violations, errors;
	char first_problem[256];
} j_report;

typedef struct j_proc {
	es_db *db;
	uint64_t setup_head;          /* log position of the last setup event */
	atomic_int writers_left;
	pthread_mutex_t lock;         /* guards report */
	j_report report;
	unsigned seed;
	int nosync;
} j_proc;

typedef struct j_thread {
	j_proc *p;
	uint64_t rng;
	pthread_t thread;
} j_thread;

static uint64_t j_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void j_id(char out[16], unsigned i)
{
	snprintf(out, 16, "j%u", i);
}

__attribute__((format(printf, 3, 4)))
static void j_problem(j_proc *p, long *counter, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&p->lock);
	if (p->report.violations + p->report.errors == 0) {
		va_start(ap, fmt);
		vsnprintf(p->report.first_problem, sizeof p->report.first_problem, fmt, ap);
		va_end(ap);
	}
	(*counter)++;
	pthread_mutex_unlock(&p->lock);
}

static void j_count(j_proc *p, long *counter, long n)
{
	pthread_mutex_lock(&p->lock);
	*counter += n;
	pthread_mutex_unlock(&p->lock);
}

/* ---- writers ---- */

/* One transfer, retried while it loses conflict races. */
static void j_transfer(j_thread *t)
{
	char from[16], to[16];
	unsigned a = (unsigned)(j_rand(&t->rng) % J_ACCOUNTS);
	unsigned b = (a + 1 + (unsigned)(j_rand(&t->rng) % (J_ACCOUNTS - 1))) % J_ACCOUNTS;
	int64_t amount = 1 + (int64_t)(j_rand(&t->rng) % 400);
	j_id(from, a);
	j_id(to, b);
	for (int attempt = 0; attempt < 100; attempt++) {
		int rc = es_bank_transfer(t->p->db, from, to, amount, "jepsen");
		if (rc == ES_ECONFLICT) {
			j_count(t->p, &t->p->report.conflicts, 1);
			continue;
		}
		if (rc == 0)
			j_count(t->p, &t->p->report.acked, 1);
		else if (rc == ES_EREJECTED && strstr(es_error_last()->message, "insufficient funds"))
			j_count(t->p, &t->p->report.rejected, 1);
		else
			j_problem(t->p, &t->p->report.errors, "transfer %s -> %s: %s: %s", from, to,
			          es_strerror(rc), es_error_last()->message);
		return;
	}
	j_count(t->p, &t->p->report.gave_up, 1);
}

static void *j_writer(void *arg)
{
	j_thread *t = arg;
	for (int i = 0; i < J_TRANSFERS; i++)
		j_transfer(t);
	atomic_fetch_sub(&t->p->writers_left, 1);
	return NULL;
}

/* ---- readers ---- */

/* Sums every account's balance within rd, as of t (INT64_MAX: latest), and
 * checks each against its overdraft limit. */
static int64_t j_total(j_proc *p, es_read *rd, int64_t t)
{
	int64_t total = 0;
	for (unsigned i = 0; i < J_ACCOUNTS; i++) {
		char id[16], stream[ES_BANK_ACCOUNT_STREAM_SIZE];
		es_bank_account a;
		es_load_info info;
		j_id(id, i);
		es_bank_account_stream(stream, id);
		int rc = t == INT64_MAX
		       ? es_aggregate_fold(&a, &info, rd, &es_bank_account_type, stream, ES_HEAD)
		       : es_aggregate_fold_as_of(&a, &info, rd, &es_bank_account_type, stream, t);
		if (rc) {
			j_problem(p, &p->report.errors, "fold of %s as of %lld: %s", id, (long long)t,
			          es_error_last()->message);
			return J_TOTAL;
		}
		es_bank_account model;
		if (t == INT64_MAX && (rc = es_bank_balance_get(&model, rd, id)) != 0)
			j_problem(p, &p->report.errors, "balances model for %s: %s", id, es_error_last()->message);
		else if (t == INT64_MAX && (model.balance != a.balance || model.deposited != a.deposited ||
		                            model.withdrawn != a.withdrawn))
			j_problem(p, &p->report.violations, "%s: the balances model has %lld (deposited %lld), "
			          "the events %lld (deposited %lld)", id, (long long)model.balance,
			          (long long)model.deposited, (long long)a.balance, (long long)a.deposited);
		if (a.balance < -j_overdraft[i])
			j_problem(p, &p->report.violations, "%s: balance %lld below its overdraft limit %lld "
			          "(as of %lld)", id, (long long)a.balance, (long long)j_overdraft[i], (long long)t);
		total += a.balance;
	}
	return total;
}

/* The recorded_at of a random batch after the setup, or just before it:
 * 0 when no transfer is committed yet. */
static int64_t j_past_time(j_thread *t, es_read *rd)
{
	uint64_t head;
	es_iter *it;
	es_event ev;
	int64_t at = 0;
	if (es_log_head(&head, rd) != 0 || head <= t->p->setup_head)
		return 0;
	uint64_t pos = t->p->setup_head + 1 + j_rand(&t->rng) % (head - t->p->setup_head);
	if (es_log_iter(&it, rd, pos, ES_FORWARD, 1) == 0) {
		if (es_iter_next(&ev, it) == 0)
			at = ev.recorded_at - (int64_t)(j_rand(&t->rng) % 2);
		es_iter_free(it);
	}
	return at;
}

/* Loads as of t through es_bank_account_load_as_of, one read per account: a
 * past time's answer never changes, so separate reads must agree too. */
static void j_check_past_loads(j_proc *p, int64_t t)
{
	int64_t total = 0;
	for (unsigned i = 0; i < J_ACCOUNTS; i++) {
		char id[16];
		es_bank_account a;
		j_id(id, i);
		if (es_bank_account_load_as_of(&a, NULL, p->db, id, t) != 0) {
			j_problem(p, &p->report.errors, "load of %s as of %lld: %s", id, (long long)t,
			          es_error_last()->message);
			return;
		}
		total += a.balance;
	}
	if (total != J_TOTAL)
		j_problem(p, &p->report.violations, "loads as of %lld total %lld, not %d", (long long)t,
		          (long long)total, J_TOTAL);
}

static void j_read_once(j_thread *t)
{
	j_proc *p = t->p;
	es_read *rd;
	if (es_read_begin(&rd, p->db) != 0) {
		j_problem(p, &p->report.errors, "es_read_begin: %s", es_error_last()->message);
		return;
	}
	int64_t total = j_total(p, rd, INT64_MAX);
	if (total != J_TOTAL)
		j_problem(p, &p->report.violations, "a read sees a total of %lld, not %d", (long long)total, J_TOTAL);
	int64_t past = j_past_time(t, rd);
	if (past && (total = j_total(p, rd, past)) != J_TOTAL)
		j_problem(p, &p->report.violations, "as of %lld the total is %lld, not %d", (long long)past,
		          (long long)total, J_TOTAL);
	es_read_end(rd);
	if (past)
		j_check_past_loads(p, past);
	j_count(p, &p->report.reads, 1);
	j_count(p, &p->report.past_reads, past != 0);
}

static void *j_reader(void *arg)
{
	j_thread *t = arg;
	/* At least a few reads even if the writers finish first. */
	for (int n = 0; n < 10 || atomic_load(&t->p->writers_left) > 0; n++)
		j_read_once(t);
	return NULL;
}

/* ---- one process ---- */

static int j_process(void *arg, int fd)
{
	j_proc *p = arg;
	j_thread threads[J_WRITERS + J_READERS];
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = p->nosync;
	pthread_mutex_init(&p->lock, NULL);
	atomic_store(&p->writers_left, J_WRITERS);
	if (es_db_open(&p->db, rt_store_path(), &o) != 0 || es_bank_read_model_inline(p->db, NULL) != 0)
		return 3;
	for (int i = 0; i < J_WRITERS + J_READERS; i++) {
		threads[i] = (j_thread){ p, 0x9e3779b97f4a7c15ull * (uint64_t)(p->seed * 16 + (unsigned)i + 1), 0 };
		pthread_create(&threads[i].thread, NULL, i < J_WRITERS ? j_writer : j_reader, &threads[i]);
	}
	for (int i = 0; i < J_WRITERS + J_READERS; i++)
		pthread_join(threads[i].thread, NULL);
	es_db_close(p->db);
	rt_send(fd, &p->report, sizeof p->report);
	pthread_mutex_destroy(&p->lock);
	return 0;
}

/* ---- the test ---- */

/* Opens the accounts and funds them; returns the log head after. */
static uint64_t j_setup(void)
{
	es_db *db = rt_open(rt_store_path(), 1);
	es_read *rd;
	uint64_t head;
	for (unsigned i = 0; i < J_ACCOUNTS; i++) {
		char id[16];
		j_id(id, i);
		ck_assert_es(es_bank_open(db, id, "Jepsen", "EUR", j_overdraft[i]), 0);
		ck_assert_es(es_bank_deposit(db, id, J_START, "start"), 0);
	}
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_log_head(&head, rd), 0);
	es_read_end(rd);
	es_db_close(db);
	return head;
}

/* Counts the events of a type after position `after`. */
static long j_count_type(es_db *db, uint64_t after, const char *type)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	long n = 0;
	int rc;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_log_iter(&it, rd, after + 1, ES_FORWARD, ES_NO_LIMIT), 0);
	while ((rc = es_iter_next(&ev, it)) == 0)
		n += strcmp(ev.type, type) == 0;
	ck_assert_es(rc, ES_ITEROVER);
	es_iter_free(it);
	es_read_end(rd);
	return n;
}

/* The final state: exactly the acknowledged transfers, the total intact. */
static void j_assert_final(uint64_t setup_head, long acked)
{
	es_db *db = rt_open(rt_store_path(), 1);
	es_read *rd;
	j_proc p;
	memset(&p, 0, sizeof p);
	pthread_mutex_init(&p.lock, NULL);
	ck_assert_int_eq(j_count_type(db, setup_head, "MoneyWithdrawn"), acked);
	ck_assert_int_eq(j_count_type(db, setup_head, "MoneyDeposited"), acked);
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_int_eq(j_total(&p, rd, INT64_MAX), J_TOTAL);
	es_read_end(rd);
	ck_assert_msg(p.report.violations + p.report.errors == 0, "%s", p.report.first_problem);
	es_db_close(db);
	rt_assert_store_ok(rt_store_path());
}

START_TEST(bank_total_holds_across_processes_and_threads)
{
	static j_proc procs[J_PROCS];
	rt_child kids[J_PROCS];
	j_report sum;
	memset(&sum, 0, sizeof sum);
	uint64_t setup_head = j_setup();
	for (int i = 0; i < J_PROCS; i++) {
		memset(&procs[i], 0, sizeof procs[i]);
		procs[i].setup_head = setup_head;
		procs[i].seed = (unsigned)i + 1;
		procs[i].nosync = _i == 0;
		kids[i] = rt_fork(j_process, &procs[i]);
	}
	for (int i = 0; i < J_PROCS; i++) {
		j_report r;
		ck_assert_int_eq(rt_recv(kids[i].fd, &r, sizeof r), 0);
		int status = rt_wait(&kids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d: status %d", i, status);
		ck_assert_msg(r.violations == 0 && r.errors == 0, "process %d: %ld violations, %ld errors; "
		              "first: %s", i, r.violations, r.errors, r.first_problem);
		ck_assert_int_gt(r.reads, 0);
		sum.acked += r.acked;
		sum.rejected += r.rejected;
		sum.conflicts += r.conflicts;
		sum.gave_up += r.gave_up;
		sum.reads += r.reads;
		sum.past_reads += r.past_reads;
	}
	printf("jepsen bank (%s): %ld transfers acknowledged, %ld refused for funds, %ld conflict retries, "
	       "%ld given up; %ld checked reads, %ld of them also in the past\n",
	       _i == 0 ? "nosync" : "durable", sum.acked, sum.rejected,
	       sum.conflicts, sum.gave_up, sum.reads, sum.past_reads);
	ck_assert_int_eq(sum.acked + sum.rejected + sum.gave_up, J_PROCS * J_WRITERS * J_TRANSFERS);
	ck_assert_int_gt(sum.acked, 0);
	j_assert_final(setup_head, sum.acked);
}
END_TEST

TCase *es_tc_jepsen(void)
{
	TCase *tc = tcase_create("jepsen");
	tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
	tcase_add_loop_test(tc, bank_total_holds_across_processes_and_threads, 0, 2); /* nosync, durable */
	tcase_set_timeout(tc, 600); /* a safety net for sanitizer builds, not a timing assertion */
	return tc;
}
