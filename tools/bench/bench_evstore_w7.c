/*
 * bench_evstore_w7.c - evstore's W7: the bank's balances read model built
 * from W1's store (es_bank_projection_rebuild, so every run starts from
 * position 0 and ends with the swap), checked against the data set's sum.
 */
#include <evstore/evstore.h>
#include <evstore/bank.h>

#include "bench.h"

#define NAME "evstore"

static int add_balance(const char *id, const es_bank_account *a, void *user_data)
{
	(void)id;
	*(int64_t *)user_data += a->balance;
	return 0;
}

int bench_evstore_project(bench_figs *out, const bench_data *d, const char *dir)
{
	es_db *db;
	es_projection_stats st;
	int64_t sum = 0;
	if (es_db_open(&db, dir, NULL))
		return bench_fail(NAME, "W7: opening the store: %s", es_error_last()->message);
	int64_t t0 = bench_mono_ns();
	int rc = es_bank_projection_rebuild(&st, db, ES_BANK_BALANCES, NULL, NULL);
	double secs = (double)(bench_mono_ns() - t0) / 1e9;
	es_read *rd;
	if (rc == 0 && (rc = es_read_begin(&rd, db)) == 0) {
		rc = es_bank_balances_each(rd, add_balance, &sum);
		es_read_end(rd);
	}
	if (rc)
		rc = bench_fail(NAME, "W7: %s", es_error_last()->message);
	es_db_close(db);
	if (rc == 0 && (st.events != d->n_events || sum != d->balance_sum))
		rc = bench_fail(NAME, "W7 projected %llu events to a balance sum of %lld, expected %zu and %lld",
		                (unsigned long long)st.events, (long long)sum, d->n_events, (long long)d->balance_sum);
	bench_figs_set(out, "events_per_s", (double)d->n_events / secs);
	return rc;
}
