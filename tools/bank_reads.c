/*
 * bank_reads.c - es-bank's read side: the largest balances and the state of
 * the read models, from the balances projection (es_bank_balances_*), and
 * daily totals and the owner index, and the demo's check that the models
 * agree with the accounts themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <evstore/bank.h>

#include "bank_reads.h"
#include "es_array.h"
#include "cli.h"

#define DEFAULT_TOP 10

typedef struct row {
	char id[ES_BANK_ACCOUNT_ID_MAX + 1];
	es_bank_account a;
} row;

typedef struct table {
	row *rows;
	size_t n, cap;
} table;

static int add_row(const char *id, const es_bank_account *a, void *user_data)
{
	table *t = user_data;
	int rc = es__array_grow((void **)&t->rows, &t->cap, t->n, sizeof *t->rows, "listing balances");
	if (rc)
		return rc;
	snprintf(t->rows[t->n].id, sizeof t->rows[t->n].id, "%s", id);
	t->rows[t->n++].a = *a;
	return 0;
}

/* By currency, then largest balance first, then id. */
static int by_balance(const void *x, const void *y)
{
	const row *a = x, *b = y;
	int c = strcmp(a->a.currency, b->a.currency);
	if (c)
		return c;
	if (a->a.balance != b->a.balance)
		return a->a.balance > b->a.balance ? -1 : 1;
	return strcmp(a->id, b->id);
}

static void print_row(const row *r, int rank, int json, int first)
{
	char bal[ES_BANK_MONEY_TEXT_SIZE];
	es_bank_money_format(bal, sizeof bal, r->a.balance, r->a.decimals);
	if (!json) {
		printf("%4d  %-20s %14s %s  %s\n", rank, r->id, bal, r->a.currency, r->a.owner);
		return;
	}
	printf("%s{\"rank\":%d,\"account\":", first ? "" : ",", rank);
	es_cli_json_string(stdout, r->id);
	printf(",\"owner\":");
	es_cli_json_string(stdout, r->a.owner);
	printf(",\"balance\":\"%s\",\"balance_minor\":%lld,\"currency\":\"%s\",\"status\":\"%s\"}", bal,
	       (long long)r->a.balance, r->a.currency, es_bank_status_str(r->a.status));
}

static void print_top(const table *t, int64_t n, int json, uint64_t position)
{
	if (json)
		printf("{\"position\":%llu,\"accounts\":[", (unsigned long long)position);
	int rank = 0, first = 1;
	for (size_t i = 0; i < t->n; i++) {
		if (i == 0 || strcmp(t->rows[i].a.currency, t->rows[i - 1].a.currency) != 0)
			rank = 0; /* each currency ranks on its own */
		if (++rank > n)
			continue;
		print_row(&t->rows[i], rank, json, first);
		first = 0;
	}
	if (json)
		printf("]}\n");
}

int es_bank_cmd_top(es_db *db, const char *count, int json)
{
	int64_t n = DEFAULT_TOP;
	if (count && (es_cli_int_arg(&n, "-n", count) || n == 0))
		return n == 0 ? es_cli_usage_error("-n: at least 1") : ES_EXIT_USAGE;
	es_projection_stats st;
	int rc = es_bank_balances_catch_up(&st, db);
	if (rc)
		return es_cli_fail(rc);
	table t = { 0 };
	es_read *rd;
	if ((rc = es_read_begin(&rd, db)) == 0) {
		rc = es_bank_balances_each(rd, add_row, &t);
		es_read_end(rd);
	}
	if (rc == 0) {
		qsort(t.rows, t.n, sizeof *t.rows, by_balance);
		print_top(&t, n, json, st.position);
	}
	es_free(t.rows);
	return rc ? es_cli_fail(rc) : ES_EXIT_OK;
}

/* A projection's status; one that never ran is behind by the whole log. */
static int status_of(es_projection_status *s, es_read *rd, const char *name)
{
	int rc = es_projection_status_get(s, rd, name);
	if (rc != ES_ENOTFOUND)
		return rc;
	memset(s, 0, sizeof *s);
	rc = es_log_head(&s->head, rd);
	s->behind = s->head;
	return rc;
}

static void print_status(const char *name, const es_projection_status *s, int json, int first)
{
	const char *state = s->error ? "stopped" : s->behind ? "behind" : "caught up";
	if (!json) {
		printf("%-16s %10llu %10llu  %s%s%s\n", name, (unsigned long long)s->position,
		       (unsigned long long)s->behind, state, s->error ? ": " : "", s->error ? s->message : "");
		return;
	}
	printf("%s{\"projection\":\"%s\",\"position\":%llu,\"head\":%llu,\"behind\":%llu,\"state\":\"%s\"",
	       first ? "" : ",", name, (unsigned long long)s->position, (unsigned long long)s->head,
	       (unsigned long long)s->behind, state);
	if (s->error) {
		printf(",\"error_position\":%llu,\"error\":", (unsigned long long)s->error_position);
		es_cli_json_string(stdout, s->message);
	}
	printf("}");
}

int es_bank_cmd_projections(es_db *db, int json)
{
	static const char *const names[] = { ES_BANK_BALANCES, ES_BANK_DAILY, ES_BANK_OWNERS };
	es_projection_status s[3];
	es_read *rd;
	int rc = es_read_begin(&rd, db);
	for (int i = 0; rc == 0 && i < 3; i++)
		rc = status_of(&s[i], rd, names[i]);
	es_read_end(rd);
	if (rc)
		return es_cli_fail(rc);
	if (json)
		printf("[");
	else
		printf("%-16s %10s %10s  %s\n", "projection", "position", "behind", "state");
	for (int i = 0; i < 3; i++)
		print_status(names[i], &s[i], json, i == 0);
	if (json)
		printf("]\n");
	return ES_EXIT_OK;
}

/* ---- rebuild ---- */

static void show_progress(const es_projection_stats *st, uint64_t head, void *user_data)
{
	(void)user_data;
	fprintf(stderr, "\r%s: rebuilt to position %llu of %llu (%.0f%%)", es_cli_prog,
	        (unsigned long long)st->position, (unsigned long long)head,
	        head ? 100.0 * (double)st->position / (double)head : 100.0);
}

int es_bank_cmd_rebuild(es_db *db, const char *name)
{
	es_projection_stats st;
	int tty = isatty(STDERR_FILENO);
	int rc = es_bank_projection_rebuild(&st, db, name, tty ? show_progress : NULL, NULL);
	if (tty)
		fputc('\n', stderr);
	if (rc)
		return es_cli_fail(rc);
	printf("rebuilt %s: %llu events, now at position %llu\n", name, (unsigned long long)st.events,
	       (unsigned long long)st.position);
	return ES_EXIT_OK;
}

/* ---- daily totals ---- */

typedef struct days_out {
	int json, n;
	int64_t net_total;
} days_out;

static int print_day(const es_bank_day *d, void *user_data)
{
	days_out *o = user_data;
	char day[ES_TIME_TEXT_SIZE], dep[ES_BANK_MONEY_TEXT_SIZE], wd[ES_BANK_MONEY_TEXT_SIZE],
	     tr[ES_BANK_MONEY_TEXT_SIZE], net[ES_BANK_MONEY_TEXT_SIZE];
	es_time_format(day, sizeof day, d->day);
	es_bank_money_format(dep, sizeof dep, d->deposited, d->decimals);
	es_bank_money_format(wd, sizeof wd, d->withdrawn, d->decimals);
	es_bank_money_format(tr, sizeof tr, d->transferred, d->decimals);
	es_bank_money_format(net, sizeof net, d->net, d->decimals);
	if (o->json)
		printf("%s{\"day\":\"%.10s\",\"currency\":\"%s\",\"deposited\":\"%s\",\"withdrawn\":\"%s\","
		       "\"transferred\":\"%s\",\"net\":\"%s\",\"deposits\":%llu,\"withdrawals\":%llu,"
		       "\"transfers\":%llu}", o->n ? ",\n " : "", day, d->currency, dep, wd, tr, net,
		       (unsigned long long)d->deposits, (unsigned long long)d->withdrawals,
		       (unsigned long long)d->transfers);
	else
		printf("%.10s %s  deposited %12s  withdrawn %12s  transferred %12s  net %12s\n", day,
		       d->currency, dep, wd, tr, net);
	o->n++;
	o->net_total += d->net;
	return 0;
}

int es_bank_cmd_daily(es_db *db, const char *since, const char *until, int json)
{
	int64_t from = INT64_MIN, to = INT64_MAX;
	if ((since && es_cli_time_arg(&from, "--since", since)) || (until && es_cli_time_arg(&to, "--until", until)))
		return ES_EXIT_USAGE;
	if (from > to)
		return es_cli_usage_error("--since %s is after --until %s", since, until);
	int rc = es_bank_daily_catch_up(NULL, db);
	days_out o = { json, 0, 0 };
	es_read *rd = NULL;
	if (rc == 0 && (rc = es_read_begin(&rd, db)) == 0) {
		if (json)
			printf("[");
		rc = es_bank_daily_each(rd, from, to, print_day, &o);
		if (json)
			printf("]\n");
	}
	es_read_end(rd);
	return rc ? es_cli_fail(rc) : ES_EXIT_OK;
}

/* ---- the owner index ---- */

typedef struct owned {
	es_read *rd;
	int json, n;
} owned;

static int print_owned(const char *id, void *user_data)
{
	owned *o = user_data;
	es_bank_account a;
	char bal[ES_BANK_MONEY_TEXT_SIZE];
	int rc = es_bank_balance_get(&a, o->rd, id);
	if (rc)
		return rc;
	es_bank_money_format(bal, sizeof bal, a.balance, a.decimals);
	if (o->json) {
		printf("%s{\"account\":", o->n ? "," : "");
		es_cli_json_string(stdout, id);
		printf(",\"balance\":\"%s\",\"currency\":\"%s\",\"status\":\"%s\"}", bal, a.currency,
		       es_bank_status_str(a.status));
	} else {
		printf("%-20s %14s %s  %s\n", id, bal, a.currency, es_bank_status_str(a.status));
	}
	o->n++;
	return 0;
}

int es_bank_cmd_accounts(es_db *db, const char *owner, int json)
{
	if (!owner || !*owner)
		return es_cli_usage_error("accounts needs --owner NAME");
	int rc = es_bank_owners_catch_up(NULL, db);
	if (rc == 0)
		rc = es_bank_balances_catch_up(NULL, db);
	owned o = { NULL, json, 0 };
	if (rc == 0 && (rc = es_read_begin(&o.rd, db)) == 0) {
		if (json)
			printf("[");
		rc = es_bank_accounts_of(o.rd, owner, print_owned, &o);
		if (json)
			printf("]\n");
	}
	es_read_end(o.rd);
	if (rc == 0 && o.n == 0 && !json)
		fprintf(stderr, "%s: no account is owned by '%s'\n", es_cli_prog, owner);
	return rc ? es_cli_fail(rc) : o.n ? ES_EXIT_OK : ES_EXIT_FAIL;
}

static int add_net(const es_bank_day *d, void *user_data)
{
	*(int64_t *)user_data += d->net;
	return 0;
}

int es_bank_check_balances(es_db *db, int n)
{
	es_projection_stats st;
	int64_t total = 0, nets = 0;
	int rc = es_bank_balances_catch_up(&st, db), mismatches = 0;
	if (rc == 0)
		rc = es_bank_daily_catch_up(NULL, db);
	es_read *rd = NULL;
	if (rc == 0)
		rc = es_read_begin(&rd, db);
	for (int i = 1; rc == 0 && i <= n; i++) {
		char id[32];
		es_bank_account projected, loaded;
		snprintf(id, sizeof id, "acct-%04d", i);
		if ((rc = es_bank_balance_get(&projected, rd, id)) == 0 &&
		    (rc = es_bank_account_load(&loaded, NULL, db, id)) == 0)
			mismatches += projected.balance != loaded.balance || projected.status != loaded.status;
		total += loaded.balance;
	}
	if (rc == 0)
		rc = es_bank_daily_each(rd, INT64_MIN, INT64_MAX, add_net, &nets);
	es_read_end(rd);
	if (rc)
		return es_cli_fail(rc);
	printf("\nRead models: %llu events into the balances projection; %d accounts against their "
	       "aggregates: %s\n", (unsigned long long)st.events, n, mismatches ? "MISMATCH" : "OK");
	printf("Daily totals: the nets of every day add up to the total of all balances: %s\n",
	       nets == total ? "OK" : "MISMATCH");
	return mismatches || nets != total ? ES_EXIT_FAIL : ES_EXIT_OK;
}
