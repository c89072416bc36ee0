/*
 * crash_ledger.c - what the crash campaign's parent knows: every operation a
 * child (or the parent itself) intended, and which were acknowledged. The
 * ledger stays sorted by operation id (the cycle is the id's high part), so
 * the verifier finds an event's operation by binary search. Also the
 * campaign's setup: the accounts and their first deposits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 1024;
	p = realloc(p, *cap * size);
	if (!p) {
		fprintf(stderr, "crash_campaign: out of memory\n");
		exit(2);
	}
	return p;
}

void cr_ledger_add(cr_ledger *lg, const cr_record *r)
{
	lg->pending = grow(lg->pending, &lg->cap_pending, lg->n_pending, sizeof *r);
	lg->pending[lg->n_pending++] = *r;
}

static int cmp_record(const void *a, const void *b)
{
	const cr_record *x = a, *y = b;
	if (x->op_id != y->op_id)
		return x->op_id < y->op_id ? -1 : 1;
	return (int)x->phase - (int)y->phase; /* the intent before its ack */
}

static void push_intent(cr_ledger *lg, const cr_record *r)
{
	if (lg->n && lg->e[lg->n - 1].rec.op_id >= r->op_id) {
		fprintf(stderr, "crash_campaign: operation %016llx reported twice or out of order\n",
		        (unsigned long long)r->op_id);
		exit(2);
	}
	lg->e = grow(lg->e, &lg->cap, lg->n, sizeof *lg->e);
	memset(&lg->e[lg->n], 0, sizeof lg->e[lg->n]);
	lg->e[lg->n].rec = *r;
	lg->n++;
	lg->intents++;
}

/* An ack follows its intent in sorted order, so its entry is the last one. */
static size_t apply_ack(cr_ledger *lg, const cr_record *r)
{
	cr_entry *e = lg->n ? &lg->e[lg->n - 1] : NULL;
	if (!e || e->rec.op_id != r->op_id) {
		fprintf(stderr, "crash_campaign: acknowledgement of operation %016llx without its intent\n",
		        (unsigned long long)r->op_id);
		return 1;
	}
	for (uint32_t p = 0; p < CR_MAX_PARTS; p++) {
		e->rec.parts[p].first_version = r->parts[p].first_version;
		e->rec.parts[p].first_position = r->parts[p].first_position;
	}
	e->acked = 1;
	lg->acks++;
	return 0;
}

size_t cr_ledger_commit(cr_ledger *lg)
{
	size_t fails = 0;
	if (lg->n_pending) /* pending is NULL until the first record */
		qsort(lg->pending, lg->n_pending, sizeof *lg->pending, cmp_record);
	for (size_t i = 0; i < lg->n_pending; i++) {
		const cr_record *r = &lg->pending[i];
		if (r->phase == CR_INTENT) {
			push_intent(lg, r);
		} else if (r->phase == CR_ACK) {
			fails += apply_ack(lg, r);
		} else {
			fprintf(stderr, "crash_campaign: operation %016llx failed unexpectedly: %s\n",
			        (unsigned long long)r->op_id, r->text);
			fails++;
		}
	}
	lg->n_pending = 0;
	lg->fails += fails;
	return fails;
}

void cr_ledger_free(cr_ledger *lg)
{
	free(lg->e);
	free(lg->pending);
	memset(lg, 0, sizeof *lg);
}

static const int64_t overdraft[CR_ACCOUNTS] = { 0, 100, 500, 2000 };

static void report(cr_ledger *lg, int fd, const cr_record *r)
{
	if (lg)
		cr_ledger_add(lg, r);
	if (fd >= 0 && write(fd, r, sizeof *r) != (ssize_t)sizeof *r) {
		fprintf(stderr, "crash_campaign: cannot report an operation: %s\n", strerror(errno));
		exit(2);
	}
}

/* Opens account i and deposits its starting balance, recorded as an
 * operation of the parent's (acknowledged when both calls returned). */
static int setup_account(cr_ledger *lg, int fd, es_db *db, unsigned i)
{
	char id[16], ref[24];
	cr_record r;
	memset(&r, 0, sizeof r);
	r.magic = CR_MAGIC;
	r.op = CR_DEPOSIT;
	r.op_id = (uint64_t)CR_WORKER_SETUP << 24 | i;
	r.acct[0] = i;
	r.amount = 10000;
	r.nparts = 1;
	cr_account_id(id, i);
	cr_reference(ref, r.op_id);
	r.phase = CR_INTENT;
	report(lg, fd, &r);
	int rc = es_bank_open(db, id, "Crash Test", "USD", overdraft[i]);
	if (!rc)
		rc = es_bank_deposit(db, id, r.amount, ref);
	if (rc)
		return rc;
	r.phase = CR_ACK;
	report(lg, fd, &r);
	return 0;
}

int cr_setup(cr_ledger *lg, const char *dir, int fd)
{
	es_db *db;
	int rc = es_db_open(&db, dir, NULL);
	for (unsigned i = 0; rc == 0 && i < CR_ACCOUNTS; i++)
		rc = setup_account(lg, fd, db, i);
	if (rc)
		fprintf(stderr, "crash_campaign: setup of '%s' failed: %s: %s\n", dir, es_strerror(rc),
		        es_error_last()->message);
	es_db_close(db);
	if (lg)
		cr_ledger_commit(lg);
	return rc;
}
