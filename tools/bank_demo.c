/*
 * bank_demo.c - the main job: on a simulated clock, open a thousand
 * accounts, run a year of deposits, withdrawals and transfers, then show
 * time-travel balances with what each load folded, check that the total
 * of all balances equals deposits minus withdrawals at every date shown,
 * and that the balances read model agrees with every account.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>

#include "bank_chart.h"
#include "bank_demo.h"
#include "bank_reads.h"
#include "cli.h"

#define ACCOUNTS 1000
#define BUSY_ACCOUNTS 10          /* a few accounts see much of the traffic */
#define DAYS 365
#define OPS_PER_DAY 270
#define N_CHECKS 4
#define SECOND INT64_C(1000000000)
#define DAY (86400 * SECOND)
/* 2025-11-22T00:00:00Z, a Saturday: the simulated year ends about today. */
#define START (INT64_C(1763769600) * SECOND)

typedef struct demo {
	es_db *db;
	int64_t now;               /* the simulated clock */
	uint64_t rng;
	int64_t net;               /* deposits minus withdrawals so far, minor units */
	int64_t check_at[N_CHECKS];
	int64_t expected[N_CHECKS];/* net as of each check time */
	int checks_passed;         /* how many check times the clock has passed */
	long ops, refused, events;
} demo;

static int64_t demo_clock(void *user_data)
{
	return ((demo *)user_data)->now;
}

static uint64_t next_random(demo *d)
{
	/* xorshift64*: deterministic, so every run tells the same story */
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * UINT64_C(2685821657736338717);
}

static int64_t random_between(demo *d, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(next_random(d) % (uint64_t)(hi - lo + 1));
}

static void account_id(char *out, size_t size, int n)
{
	snprintf(out, size, "acct-%04d", n);
}

static int pick_account(demo *d)
{
	return next_random(d) % 10 < 3 ? (int)random_between(d, 1, BUSY_ACCOUNTS)
	                               : (int)random_between(d, 1, ACCOUNTS);
}

/* Advances the clock, first recording the net at each check time passed. */
static void advance(demo *d, int64_t to)
{
	while (d->checks_passed < N_CHECKS && d->check_at[d->checks_passed] < to)
		d->expected[d->checks_passed++] = d->net;
	d->now = to;
}

/* A refusal (insufficient funds, a frozen account) is part of the story. */
static int tally(demo *d, int rc, int64_t net_change, int events)
{
	d->ops++;
	if (rc == ES_EREJECTED) {
		d->refused++;
		return 0;
	}
	if (rc)
		return rc;
	d->net += net_change;
	d->events += events;
	return 0;
}

static int open_accounts(demo *d)
{
	static const char *const owners[] = { "Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret",
	                                      "Dennis", "Frances", "Edsger", "Radia" };
	char id[32], owner[64];
	for (int i = 1; i <= ACCOUNTS; i++) {
		account_id(id, sizeof id, i);
		snprintf(owner, sizeof owner, "%s #%d", owners[i % 10], i);
		advance(d, d->now + random_between(d, 1, 60) * SECOND);
		int64_t opening = random_between(d, 100, 5000) * 100;
		int rc = tally(d, es_bank_open(d->db, id, owner, "USD", (i % 5 == 0) ? 50000 : 0), 0, 1);
		if (!rc)
			rc = tally(d, es_bank_deposit(d->db, id, opening, "opening deposit"), opening, 1);
		if (rc)
			return rc;
	}
	return 0;
}

static int random_operation(demo *d)
{
	char a[32], b[32];
	account_id(a, sizeof a, pick_account(d));
	int kind = (int)(next_random(d) % 100);
	int64_t amount = random_between(d, 1, 40000);
	if (kind < 40)
		return tally(d, es_bank_deposit(d->db, a, amount, "salary"), amount, 1);
	if (kind < 75)
		return tally(d, es_bank_withdraw(d->db, a, amount, "card payment"), -amount, 1);
	account_id(b, sizeof b, pick_account(d));
	if (strcmp(a, b) == 0)
		return 0;
	return tally(d, es_bank_transfer(d->db, a, b, amount, "rent"), 0, 2);
}

static int simulate_year(demo *d)
{
	int64_t day_start = START + DAY;
	for (int day = 0; day < DAYS; day++, day_start += DAY) {
		int64_t step = DAY / OPS_PER_DAY;
		for (int op = 0; op < OPS_PER_DAY; op++) {
			advance(d, day_start + op * step + random_between(d, 0, step / 2));
			int rc = random_operation(d);
			if (rc)
				return rc;
		}
	}
	advance(d, d->now + SECOND);
	return 0;
}

static void print_time(int64_t t)
{
	char text[ES_TIME_TEXT_SIZE];
	es_time_format(text, sizeof text, t);
	printf("%.19sZ", text); /* whole seconds read better here */
}

static int show_account(demo *d, const char *id)
{
	printf("\n  %s\n", id);
	for (int i = 0; i < N_CHECKS; i++) {
		es_bank_account acct;
		es_load_info info;
		int rc = es_bank_account_load_as_of(&acct, &info, d->db, id, d->check_at[i]);
		if (rc)
			return rc;
		char bal[ES_BANK_MONEY_TEXT_SIZE];
		es_bank_money_format(bal, sizeof bal, acct.balance, acct.decimals);
		printf("    as of ");
		print_time(d->check_at[i]);
		printf(": %12s %s  (version %lld; ", bal, acct.currency, (long long)info.version);
		if (info.snapshot_version >= 0)
			printf("snapshot at v%lld + %llu events folded)\n", (long long)info.snapshot_version,
			       (unsigned long long)info.events_folded);
		else
			printf("no snapshot, %llu events folded)\n", (unsigned long long)info.events_folded);
	}
	return 0;
}

/* Sums every account's balance as of t in one read: one consistent store. */
static int total_as_of(int64_t *total, demo *d, int64_t t)
{
	es_read *rd;
	int rc = es_read_begin(&rd, d->db);
	*total = 0;
	for (int i = 1; rc == 0 && i <= ACCOUNTS; i++) {
		char id[32], stream[ES_BANK_ACCOUNT_STREAM_SIZE];
		es_bank_account acct;
		account_id(id, sizeof id, i);
		es_bank_account_stream(stream, id);
		rc = es_aggregate_fold_as_of(&acct, NULL, rd, &es_bank_account_type, stream, t);
		if (rc == ES_ENOTFOUND) { /* not opened yet at t */
			rc = 0;
			continue;
		}
		if (rc == 0)
			rc = es_bank_money_add(total, *total, acct.balance);
	}
	es_read_end(rd);
	return rc;
}

static int check_totals(demo *d)
{
	int ok = 1;
	printf("\nTotal of all balances against deposits minus withdrawals:\n");
	for (int i = 0; i < N_CHECKS; i++) {
		int64_t total;
		int rc = total_as_of(&total, d, d->check_at[i]);
		if (rc)
			return es_cli_fail(rc);
		char a[ES_BANK_MONEY_TEXT_SIZE], b[ES_BANK_MONEY_TEXT_SIZE];
		es_bank_money_format(a, sizeof a, total, 2);
		es_bank_money_format(b, sizeof b, d->expected[i], 2);
		printf("  as of ");
		print_time(d->check_at[i]);
		printf(": balances %s USD, deposits - withdrawals %s USD  %s\n", a, b,
		       total == d->expected[i] ? "OK" : "MISMATCH");
		ok &= total == d->expected[i];
	}
	return ok ? ES_EXIT_OK : ES_EXIT_FAIL;
}

static int open_store(demo *d, const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return es_cli_usage_error("demo: '%s' already exists; remove it or pass --db NEWDIR", path);
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.clock = demo_clock;
	o.clock_user_data = d;
	/* A year of single commands: fsync once at the end, not per command. */
	o.nosync = 1;
	int rc = es_db_open(&d->db, path, &o);
	return rc ? es_cli_fail(rc) : 0;
}

/* A chart of the first account's year, beside the store. */
static int demo_chart(demo *d, const char *db_path)
{
	char path[4096];
	snprintf(path, sizeof path, "%s-acct-0001.svg", db_path);
	int rc = es_bank_chart(d->db, "acct-0001", INT64_MIN, INT64_MAX, path);
	if (rc == 0)
		printf("\nacct-0001's balance over the year, as a chart: %s (open it in a browser)\n", path);
	return rc;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int es_bank_demo(const char *db_path)
{
	demo d = { .now = START, .rng = 0x9e3779b97f4a7c15u };
	/* Check times: a Tuesday 10:03 in each quarter of the year. */
	for (int i = 0; i < N_CHECKS; i++)
		d.check_at[i] = START + (int64_t)(3 + 91 * i) * DAY + (10 * 3600 + 3 * 60) * SECOND;
	int rc = open_store(&d, db_path);
	if (rc)
		return rc;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("evstore bank demo: %d accounts, a simulated year of activity\n", ACCOUNTS);
	if ((rc = open_accounts(&d)) || (rc = simulate_year(&d)) || (rc = es_db_sync(d.db))) {
		es_db_close(d.db);
		return es_cli_fail(rc);
	}
	printf("%ld commands (%ld refused by the bank's rules), %ld events, in %.1f s\n", d.ops,
	       d.refused, d.events, seconds_since(&t0));
	printf("\nTime travel: balances at a Tuesday 10:03 in each quarter\n");
	const char *shown[] = { "acct-0001", "acct-0007", "acct-0420" };
	for (size_t i = 0; i < 3 && rc == 0; i++)
		rc = show_account(&d, shown[i]);
	rc = rc ? es_cli_fail(rc) : check_totals(&d);
	if (rc == 0)
		rc = es_bank_check_balances(d.db, ACCOUNTS);
	if (rc == 0)
		rc = demo_chart(&d, db_path);
	printf("\nThe store is in %s; try: es-bank --db %s balance acct-0001 --at 2026-03-01T12:00:00Z\n",
	       db_path, db_path);
	es_db_close(d.db);
	return rc;
}
