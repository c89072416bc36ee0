/*
 * balances.c - the bank's balances read model: the projection
 * "bank-balances", keyed by account id, holding each account's state in
 * the aggregate's own snapshot encoding. Each account event is applied
 * with the aggregate's handlers (es_aggregate_apply, upcasting included),
 * so the model answers exactly what loading the account would, without
 * folding its history.
 */
#include <stdlib.h>
#include <string.h>

#include "bank_int.h"

#define STREAM_PREFIX "account-"
#define PREFIX_LEN (sizeof STREAM_PREFIX - 1)

static int decode(es_bank_account *out, const void *bytes, size_t len, const char *id)
{
	es_bank_account_type.init(out);
	if (es_bank_account_type.snapshot_decode(out, bytes, len) != 0)
		return es_error_set(ES_ECORRUPT, "the balances model's record of account '%s' is damaged", id);
	return 0;
}

static int on_event(es_projection_ctx *ctx, const es_event *ev, void *user_data)
{
	(void)user_data;
	const char *id = ev->stream + PREFIX_LEN;
	const void *bytes;
	size_t len;
	es_bank_account a;
	int rc = es_projection_get(&bytes, &len, ctx, id, strlen(id));
	if (rc == 0)
		rc = decode(&a, bytes, len, id);
	else if (rc == ES_ENOTFOUND) { /* the account's first event */
		es_bank_account_type.init(&a);
		rc = 0;
	}
	if (rc == 0)
		rc = es_aggregate_apply(&es_bank_account_type, &a, ev);
	uint8_t *out = NULL;
	if (rc == 0 && (rc = es_bank_account_type.snapshot_encode(&out, &len, &a)) == 0)
		rc = es_projection_put(ctx, id, strlen(id), out, len);
	free(out);
	return rc;
}

int es__bank_balances_options(es_projection_options *o)
{
	static const char *const prefixes[] = { STREAM_PREFIX };
	*o = (es_projection_options)ES_PROJECTION_OPTIONS_INIT;
	o->name = ES_BANK_BALANCES;
	o->handler = on_event;
	o->stream_prefixes = prefixes;
	o->n_stream_prefixes = 1;
	return 0;
}

int es_bank_balances_catch_up(es_projection_stats *out, es_db *db)
{
	es_projection_options o;
	es__bank_balances_options(&o);
	return es_projection_catch_up(out, db, &o);
}

int es_bank_balance_get(es_bank_account *out, es_read *rd, const char *account_id)
{
	const void *bytes;
	size_t len;
	if (!out || !account_id)
		return es_error_set(ES_EINVAL, "es_bank_balance_get: out and account_id are required");
	int rc = es_projection_query(&bytes, &len, rd, ES_BANK_BALANCES, account_id, strlen(account_id));
	if (rc == ES_ENOTFOUND)
		return es_error_set(rc, "account '%s' is not in the balances model", account_id);
	return rc ? rc : decode(out, bytes, len, account_id);
}

typedef struct each_ctx {
	es_bank_balance_fn fn;
	void *user_data;
} each_ctx;

static int each_account(const void *key, size_t key_len, const void *value, size_t value_len,
                        void *user_data)
{
	each_ctx *c = user_data;
	char id[ES_BANK_ACCOUNT_ID_MAX + 1];
	es_bank_account a;
	if (key_len > ES_BANK_ACCOUNT_ID_MAX)
		return es_error_set(ES_ECORRUPT, "the balances model holds an over-long account id");
	memcpy(id, key, key_len);
	id[key_len] = '\0';
	int rc = decode(&a, value, value_len, id);
	return rc ? rc : c->fn(id, &a, c->user_data);
}

int es_bank_balances_each(es_read *rd, es_bank_balance_fn fn, void *user_data)
{
	if (!fn)
		return es_error_set(ES_EINVAL, "es_bank_balances_each: fn is required");
	each_ctx c = { fn, user_data };
	return es_projection_scan(rd, ES_BANK_BALANCES, NULL, 0, each_account, &c);
}
