/*
 * bank_reads.c - es-bank's read side: the largest balances and the state of
 * the read models, from the balances projection (es_bank_balances_*), and
 * the demo's check that the model agrees with the accounts themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evstore/bank.h>

#include "bank_reads.h"
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
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		row *grown = realloc(t->rows, cap * sizeof *grown);
		if (!grown)
			return es_error_set(ES_ENOMEM, "listing balances: out of memory");
		t->rows = grown;
		t->cap = cap;
	}
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
	free(t.rows);
	return rc ? es_cli_fail(rc) : ES_EXIT_OK;
}

int es_bank_cmd_projections(es_db *db, int json)
{
	es_read *rd;
	es_projection_status s;
	int rc = es_read_begin(&rd, db);
	if (rc == 0)
		rc = es_projection_status_get(&s, rd, ES_BANK_BALANCES);
	es_read_end(rd);
	if (rc == ES_ENOTFOUND) { /* never caught up: everything is behind */
		memset(&s, 0, sizeof s);
		rc = 0;
		if ((rc = es_read_begin(&rd, db)) == 0)
			rc = es_log_head(&s.head, rd);
		es_read_end(rd);
		s.behind = s.head;
	}
	if (rc)
		return es_cli_fail(rc);
	const char *state = s.error ? "stopped" : s.behind ? "behind" : "caught up";
	if (json) {
		printf("[{\"projection\":\"%s\",\"position\":%llu,\"head\":%llu,\"behind\":%llu,\"state\":\"%s\"",
		       ES_BANK_BALANCES, (unsigned long long)s.position, (unsigned long long)s.head,
		       (unsigned long long)s.behind, state);
		if (s.error) {
			printf(",\"error_position\":%llu,\"error\":", (unsigned long long)s.error_position);
			es_cli_json_string(stdout, s.message);
		}
		printf("}]\n");
		return ES_EXIT_OK;
	}
	printf("%-16s %10s %10s  %s\n", "projection", "position", "behind", "state");
	printf("%-16s %10llu %10llu  %s%s%s\n", ES_BANK_BALANCES, (unsigned long long)s.position,
	       (unsigned long long)s.behind, state, s.error ? ": " : "", s.error ? s.message : "");
	return ES_EXIT_OK;
}

int es_bank_check_balances(es_db *db, int n)
{
	es_projection_stats st;
	int rc = es_bank_balances_catch_up(&st, db), mismatches = 0;
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
	}
	es_read_end(rd);
	if (rc)
		return es_cli_fail(rc);
	printf("\nRead model: %llu events into the balances projection; %d accounts against their "
	       "aggregates: %s\n", (unsigned long long)st.events, n, mismatches ? "MISMATCH" : "OK");
	return mismatches ? ES_EXIT_FAIL : ES_EXIT_OK;
}
