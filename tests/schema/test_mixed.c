/*
 * test_mixed.c - mixed-version stores load like fresh ones. One random bank
 * history is written twice with the same clock: (a) through the es_bank_*
 * commands, all at schema 3 (with snapshots), and (b) event by event through
 * the engine with each event at a random schema it existed in (1, 2 or 3).
 * Both must give the same account at every event's recorded_at, the same
 * es_bank_history, and the balances of the test's own model. Also: a
 * snapshot built under another upcaster chain is passed over and rebuilt.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>

#include "legacy_events.h"
#include "testutil.h"
#include "schema_tcases.h"

#define N_ACCTS 4
#define N_OPS 800
#define T0 INT64_C(1700000000000000000)

typedef struct acct {
	const char *id;
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	const char *currency;
	int64_t overdraft;
	int64_t balance;          /* the model */
	es_bank_status status;
	int64_t head;             /* store (b)'s head version */
} acct;

typedef struct world {
	es_db *a, *b;
	int64_t now;
	uint64_t rng;
	acct accts[N_ACCTS];
	size_t by_schema[4];      /* (b)'s events per schema version */
} world;

static uint64_t next_rand(world *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static int64_t clock_of(void *user_data)
{
	return ((world *)user_data)->now;
}

static es_db *open_at(world *w, const char *dir, const char *name)
{
	char path[600];
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_db *db = NULL;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	o.clock = clock_of;
	o.clock_user_data = w;
	o.nosync = 1;
	ck_assert_es(es_db_open(&db, path, &o), 0);
	return db;
}

/* A schema the event type existed in, chosen at random: money events and
 * closes in 1..3; opens only where the old schema can say it (release 1:
 * USD, no overdraft; release 2: no overdraft). */
static uint32_t pick_schema(world *w, uint32_t lowest)
{
	uint32_t s = 1 + (uint32_t)(next_rand(w) % 3);
	return s < lowest ? lowest : s;
}

static void append_b(world *w, acct *a, legacy_event *e)
{
	ck_assert_es(legacy_append(w->b, a->stream, a->head < 0 ? ES_NO_STREAM : a->head, e), 0);
	a->head++;
	w->by_schema[e->data.schema_version]++;
}

/* ---- the operations, each applied to both stores and the model ---- */

static void op_open(world *w, acct *a, const char *owner)
{
	legacy_event e;
	uint32_t lowest = a->overdraft ? 3 : strcmp(a->currency, "USD") != 0 ? 2 : 1;
	ck_assert_es(es_bank_open(w->a, a->id, owner, a->currency, a->overdraft), 0);
	legacy_opened(&e, pick_schema(w, lowest), owner, a->currency, a->overdraft);
	append_b(w, a, &e);
}

static void op_money(world *w, acct *a, int deposit, int64_t amount)
{
	legacy_event e;
	int rc = deposit ? es_bank_deposit(w->a, a->id, amount, "mixed")
	                 : es_bank_withdraw(w->a, a->id, amount, "mixed");
	ck_assert_es(rc, 0);
	legacy_money(&e, pick_schema(w, 1), deposit, amount, (double)amount / 100.0, "mixed");
	append_b(w, a, &e);
	a->balance += deposit ? amount : -amount;
}

/* Both legs in one batch in (b), withdrawal first, as the command does. */
static void op_transfer(world *w, acct *from, acct *to, int64_t amount)
{
	legacy_event out, in;
	es_batch *b;
	ck_assert_es(es_bank_transfer(w->a, from->id, to->id, amount, "mixed"), 0);
	legacy_money(&out, pick_schema(w, 1), 0, amount, (double)amount / 100.0, "t");
	legacy_money(&in, pick_schema(w, 1), 1, amount, (double)amount / 100.0, "t");
	ck_assert_es(es_batch_new(&b, w->b), 0);
	ck_assert_es(es_batch_append(b, from->stream, from->head, &out.data, 1), 0);
	ck_assert_es(es_batch_append(b, to->stream, to->head, &in.data, 1), 0);
	ck_assert_es(es_batch_commit(b, NULL), 0);
	from->head++;
	to->head++;
	w->by_schema[out.data.schema_version]++;
	w->by_schema[in.data.schema_version]++;
	from->balance -= amount;
	to->balance += amount;
}

static void op_status(world *w, acct *a, es_bank_status to)
{
	legacy_event e;
	int rc;
	const char *type;
	uint32_t schema = 3; /* freezing arrived in release 3 */
	if (to == ES_BANK_STATUS_FROZEN) {
		rc = es_bank_freeze(w->a, a->id, "mixed");
		type = "AccountFrozen";
	} else if (to == ES_BANK_STATUS_OPEN) {
		rc = es_bank_unfreeze(w->a, a->id, "mixed");
		type = "AccountUnfrozen";
	} else {
		rc = es_bank_close(w->a, a->id, "mixed");
		type = "AccountClosed";
		schema = pick_schema(w, 1);
	}
	ck_assert_es(rc, 0);
	legacy_status(&e, schema, type, "mixed");
	append_b(w, a, &e);
	a->status = to;
}

static int64_t room(const acct *a)
{
	return a->status == ES_BANK_STATUS_OPEN ? a->balance + a->overdraft : 0;
}

/* One random operation the rules allow. */
static void random_op(world *w)
{
	acct *a = &w->accts[next_rand(w) % N_ACCTS], *b = &w->accts[next_rand(w) % N_ACCTS];
	int64_t amount = 1 + (int64_t)(next_rand(w) % 200000);
	unsigned kind = (unsigned)(next_rand(w) % 100);
	if (a->status == ES_BANK_STATUS_CLOSED)
		return;
	if (kind < 45)
		op_money(w, a, 1, amount);
	else if (kind < 75 && room(a) > 0)
		op_money(w, a, 0, 1 + amount % room(a));
	else if (kind < 88 && room(a) > 0 && a != b && b->status != ES_BANK_STATUS_CLOSED &&
	         strcmp(a->currency, b->currency) == 0)
		op_transfer(w, a, b, 1 + amount % room(a));
	else if (kind >= 88)
		op_status(w, a, a->status == ES_BANK_STATUS_FROZEN ? ES_BANK_STATUS_OPEN : ES_BANK_STATUS_FROZEN);
}

/* Brings an account to zero and closes it. */
static void drain_and_close(world *w, acct *a)
{
	w->now += 1000;
	if (a->status == ES_BANK_STATUS_FROZEN)
		op_status(w, a, ES_BANK_STATUS_OPEN);
	w->now += 1000;
	if (a->balance > 0)
		op_money(w, a, 0, a->balance);
	else if (a->balance < 0)
		op_money(w, a, 1, -a->balance);
	w->now += 1000;
	op_status(w, a, ES_BANK_STATUS_CLOSED);
}

static void write_history(world *w)
{
	static const struct { const char *id, *cur; int64_t od; } defs[N_ACCTS] = {
		{ "usd-plain", "USD", 0 }, { "usd-second", "USD", 0 },
		{ "eur", "EUR", 0 }, { "usd-overdraft", "USD", 25000 },
	};
	for (size_t i = 0; i < N_ACCTS; i++) {
		acct *a = &w->accts[i];
		a->id = defs[i].id;
		a->currency = defs[i].cur;
		a->overdraft = defs[i].od;
		a->head = -1;
		ck_assert_es(es_bank_account_stream(a->stream, a->id), 0);
		w->now += 1000;
		op_open(w, a, defs[i].id);
	}
	for (int i = 0; i < N_OPS; i++) {
		w->now += 1000;
		random_op(w);
	}
	drain_and_close(w, &w->accts[1]);
}

/* ---- comparing the two stores ---- */

static void same_accounts(const es_bank_account *x, const es_bank_account *y, const char *stream, int64_t t)
{
	ck_assert_msg(x->balance == y->balance && x->status == y->status && x->deposited == y->deposited &&
	              x->withdrawn == y->withdrawn && x->overdraft_limit == y->overdraft_limit &&
	              strcmp(x->owner, y->owner) == 0 && strcmp(x->currency, y->currency) == 0,
	              "%s at %" PRId64 ": balance %" PRId64 " (%s) at v3, %" PRId64 " (%s) mixed", stream, t,
	              x->balance, x->currency, y->balance, y->currency);
}

/* The same events at the same places and times in both logs. */
static void same_logs(es_read *ra, es_read *rb, int64_t *times, size_t *n_times)
{
	es_iter *ia, *ib;
	es_event x, y;
	int rc;
	*n_times = 0;
	ck_assert_es(es_log_iter(&ia, ra, 1, ES_FORWARD, ES_NO_LIMIT), 0);
	ck_assert_es(es_log_iter(&ib, rb, 1, ES_FORWARD, ES_NO_LIMIT), 0);
	while ((rc = es_iter_next(&x, ia)) == 0) {
		ck_assert_es(es_iter_next(&y, ib), 0);
		ck_assert_str_eq(x.stream, y.stream);
		ck_assert_int_eq(x.version, y.version);
		ck_assert_int_eq(x.recorded_at, y.recorded_at);
		ck_assert_uint_eq(x.schema_version, 3);
		times[(*n_times)++] = x.recorded_at;
	}
	ck_assert_es(rc, ES_ITEROVER);
	ck_assert_es(es_iter_next(&y, ib), ES_ITEROVER);
	es_iter_free(ia);
	es_iter_free(ib);
}

static void compare_as_of(world *w)
{
	es_read *ra, *rb;
	int64_t *times = malloc(4 * N_OPS * sizeof *times);
	size_t n_times;
	es_bank_account x, y;
	ck_assert_ptr_nonnull(times);
	ck_assert_es(es_read_begin(&ra, w->a), 0);
	ck_assert_es(es_read_begin(&rb, w->b), 0);
	same_logs(ra, rb, times, &n_times);
	times[n_times++] = T0 - 1; /* before everything: no account yet */
	for (size_t i = 0; i < n_times; i++)
		for (size_t j = 0; j < N_ACCTS; j++) {
			const char *s = w->accts[j].stream;
			int rx = es_aggregate_fold_as_of(&x, NULL, ra, &es_bank_account_type, s, times[i]);
			int ry = es_aggregate_fold_as_of(&y, NULL, rb, &es_bank_account_type, s, times[i]);
			ck_assert_msg(rx == ry && (rx == 0 || rx == ES_ENOTFOUND), "%s at %" PRId64 ": %d vs %d: %s",
			              s, times[i], rx, ry, es_error_last()->message);
			if (rx == 0)
				same_accounts(&x, &y, s, times[i]);
		}
	es_read_end(ra);
	es_read_end(rb);
	free(times);
}

typedef struct entry {
	int64_t recorded_at, version, before, after, deposited, withdrawn;
	es_bank_status status;
} entry;

typedef struct entries {
	entry e[4 * N_OPS];
	size_t n;
} entries;

static int collect(const es_event *ev, const es_bank_account *before, const es_bank_account *after, void *user_data)
{
	entries *l = user_data;
	ck_assert_uint_lt(l->n, sizeof l->e / sizeof l->e[0]);
	l->e[l->n++] = (entry){ ev->recorded_at, ev->version, before->balance, after->balance,
	                        after->deposited, after->withdrawn, after->status };
	return 0;
}

static int same_entry(const entry *x, const entry *y)
{
	return x->recorded_at == y->recorded_at && x->version == y->version && x->before == y->before &&
	       x->after == y->after && x->deposited == y->deposited && x->withdrawn == y->withdrawn &&
	       x->status == y->status;
}

static void compare_histories(world *w)
{
	static entries ha, hb;
	for (size_t j = 0; j < N_ACCTS; j++) {
		ha.n = hb.n = 0;
		ck_assert_es(es_bank_history(w->a, w->accts[j].id, INT64_MIN, INT64_MAX, collect, &ha), 0);
		ck_assert_es(es_bank_history(w->b, w->accts[j].id, INT64_MIN, INT64_MAX, collect, &hb), 0);
		ck_assert_uint_eq(ha.n, hb.n);
		ck_assert_int_eq((int64_t)ha.n, w->accts[j].head + 1);
		for (size_t i = 0; i < ha.n; i++)
			ck_assert_msg(same_entry(&ha.e[i], &hb.e[i]),
			              "%s history entry %zu differs: %" PRId64 " -> %" PRId64 " vs %" PRId64
			              " -> %" PRId64, w->accts[j].id, i, ha.e[i].before, ha.e[i].after,
			              hb.e[i].before, hb.e[i].after);
		/* The middle of the history too, where (a) starts from a snapshot. */
		int64_t since = ha.e[ha.n / 2].recorded_at, until = ha.e[ha.n - 1].recorded_at - 1;
		ha.n = hb.n = 0;
		ck_assert_es(es_bank_history(w->a, w->accts[j].id, since, until, collect, &ha), 0);
		ck_assert_es(es_bank_history(w->b, w->accts[j].id, since, until, collect, &hb), 0);
		ck_assert_uint_eq(ha.n, hb.n);
		for (size_t i = 0; i < ha.n; i++)
			ck_assert(same_entry(&ha.e[i], &hb.e[i]));
	}
}

/* Both stores end at the model's balances. */
static void match_model(world *w)
{
	for (size_t j = 0; j < N_ACCTS; j++) {
		es_bank_account x, y;
		ck_assert_es(es_bank_account_load(&x, NULL, w->a, w->accts[j].id), 0);
		ck_assert_es(es_bank_account_load(&y, NULL, w->b, w->accts[j].id), 0);
		ck_assert_int_eq(x.balance, w->accts[j].balance);
		ck_assert_int_eq(y.balance, w->accts[j].balance);
		ck_assert_int_eq(y.status, w->accts[j].status);
	}
}

START_TEST(test_mixed_versions_load_like_v3)
{
	static world w;
	memset(&w, 0, sizeof w);
	w.now = T0;
	w.rng = 0x2545f4914f6cdd1du + (uint64_t)_i;
	const char *dir = es_test_tmpdir();
	w.a = open_at(&w, dir, "v3");
	w.b = open_at(&w, dir, "mixed");
	write_history(&w);
	for (int s = 1; s <= 3; s++)
		ck_assert_msg(w.by_schema[s] > 10, "only %zu events at schema %d", w.by_schema[s], s);
	compare_as_of(&w);
	compare_histories(&w);
	match_model(&w);
	es_db_close(w.a);
	es_db_close(w.b);
	es_test_tmpdir_remove();
}
END_TEST

/* ---- snapshots and the chain's fingerprint ---- */

START_TEST(test_snapshot_of_other_chain_is_passed_over)
{
	int64_t now = T0, *versions = NULL;
	size_t n = 0;
	es_db *db = es_test_open(es_test_clock, &now);
	es_read *rd;
	es_bank_account a, bogus;
	es_load_info info;
	ck_assert_es(es_bank_open(db, "snap", "Snap", "USD", 0), 0);
	for (int i = 0; i < 120; i++) {
		now += 1000;
		ck_assert_es(es_bank_deposit(db, "snap", 100, NULL), 0);
	}
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_snapshot_list(&versions, &n, rd, "account-snap"), 0);
	es_read_end(rd);
	ck_assert_uint_ge(n, 1);
	int64_t v = versions[n - 1];
	free(versions);

	/* Overwrite the newest snapshot with a wrong state under another chain. */
	uint8_t *bytes;
	size_t len;
	es_bank_account_type.init(&bogus);
	strcpy(bogus.currency, "USD");
	bogus.balance = 999;
	ck_assert_es(es_bank_account_type.snapshot_encode(&bytes, &len, &bogus), 0);
	es_snapshot_key other = { es_bank_account_type.state_schema_version,
	                          es_registry_fingerprint(es_bank_registry()) ^ 1 };
	ck_assert_es(es_snapshot_write(db, "account-snap", v, &other, bytes, len), 0);
	free(bytes);

	ck_assert_es(es_read_begin(&rd, db), 0); /* within a read: passed over, not rewritten */
	ck_assert_es(es_aggregate_fold(&a, &info, rd, &es_bank_account_type, "account-snap", ES_HEAD), 0);
	es_read_end(rd);
	ck_assert_int_eq(a.balance, 12000);
	ck_assert_uint_ge(info.snapshots_skipped, 1);
	ck_assert_int_eq(info.skip_reason, ES_SNAPSHOT_FINGERPRINT_CHANGED);
	ck_assert_int_lt(info.snapshot_version, v);
	ck_assert_int_eq(info.snapshot_rewritten, 0);

	ck_assert_es(es_bank_account_load(&a, &info, db, "snap"), 0); /* a db load rebuilds it */
	ck_assert_int_eq(a.balance, 12000);
	ck_assert_int_eq(info.skip_reason, ES_SNAPSHOT_FINGERPRINT_CHANGED);
	ck_assert_int_eq(info.snapshot_rewritten, 1);
	ck_assert_es(es_bank_account_load(&a, &info, db, "snap"), 0);
	ck_assert_int_eq(a.balance, 12000);
	ck_assert_uint_eq(info.snapshots_skipped, 0);
	ck_assert_int_eq(info.snapshot_version, v);
	es_db_close(db);
	es_test_tmpdir_remove();
}
END_TEST

TCase *es_tc_mixed(void)
{
	TCase *tc = tcase_create("mixed");
	tcase_add_loop_test(tc, test_mixed_versions_load_like_v3, 0, 3);
	tcase_add_test(tc, test_snapshot_of_other_chain_is_passed_over);
	tcase_set_timeout(tc, 120);
	return tc;
}
