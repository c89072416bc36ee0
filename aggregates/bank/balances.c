/*
 * balances.c - the bank's balances read model: the projection
 * "bank-balances", keyed by account id, holding each account's state in
 * the aggregate's own snapshot encoding. Each account event is applied
 * with the aggregate's handlers (es_aggregate_apply, upcasting included),
 * so the model answers exactly what loading the account would, without
 * folding its history. Within a batch the states live in a small table and
 * are written once at its end: a busy account's record is decoded and
 * encoded once per batch, not once per event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_int.h"

#define STREAM_PREFIX "account-"
#define PREFIX_LEN (sizeof STREAM_PREFIX - 1)
#define SLOTS 2048 /* a power of two; written back when half full */

typedef struct cached {
	char id[ES_BANK_ACCOUNT_ID_MAX + 1]; /* "" : a free slot */
	es_bank_account a;
} cached;

typedef struct batch_cache {
	cached slot[SLOTS];
	uint16_t used[SLOTS / 2]; /* the slots taken, to write and clear */
	size_t n;
} batch_cache;

static int decode(es_bank_account *out, const void *bytes, size_t len, const char *id)
{
	es_bank_account_type.init(out);
	if (es_bank_account_type.snapshot_decode(out, bytes, len) != 0)
		return es_error_set(ES_ECORRUPT, "the balances model's record of account '%s' is damaged", id);
	return 0;
}

static int batch_begin(es_projection_ctx *ctx, void *user_data)
{
	batch_cache *c = user_data;
	(void)ctx;
	for (size_t i = 0; i < c->n; i++)
		c->slot[c->used[i]].id[0] = '\0';
	c->n = 0;
	return 0;
}

/* Writes every state of the table into the model, and empties it. */
static int batch_end(es_projection_ctx *ctx, void *user_data)
{
	batch_cache *c = user_data;
	for (size_t i = 0; i < c->n; i++) {
		cached *e = &c->slot[c->used[i]];
		uint8_t *out = NULL;
		size_t len;
		int rc = es_bank_account_type.snapshot_encode(&out, &len, &e->a);
		if (rc == 0)
			rc = es_projection_put(ctx, e->id, strlen(e->id), out, len);
		free(out);
		if (rc)
			return rc;
	}
	return batch_begin(ctx, user_data);
}

/* The account's slot, filled from the model (or a fresh state) when new. */
static int slot_of(cached **out, batch_cache *c, es_projection_ctx *ctx, const char *id)
{
	uint32_t h = 2166136261u;
	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	size_t i = h & (SLOTS - 1);
	while (c->slot[i].id[0] && strcmp(c->slot[i].id, id) != 0)
		i = (i + 1) & (SLOTS - 1);
	*out = &c->slot[i];
	if (c->slot[i].id[0])
		return 0;
	const void *bytes;
	size_t len;
	int rc = es_projection_get(&bytes, &len, ctx, id, strlen(id));
	if (rc == 0)
		rc = decode(&c->slot[i].a, bytes, len, id);
	else if (rc == ES_ENOTFOUND) { /* the account's first event */
		es_bank_account_type.init(&c->slot[i].a);
		rc = 0;
	}
	if (rc)
		return rc;
	snprintf(c->slot[i].id, sizeof c->slot[i].id, "%s", id);
	c->used[c->n++] = (uint16_t)i;
	return 0;
}

static int on_event(es_projection_ctx *ctx, const es_event *ev, void *user_data)
{
	batch_cache *c = user_data;
	cached *e;
	int rc = c->n == SLOTS / 2 ? batch_end(ctx, c) : 0;
	if (rc == 0)
		rc = slot_of(&e, c, ctx, ev->stream + PREFIX_LEN);
	return rc ? rc : es_aggregate_apply(&es_bank_account_type, &e->a, ev);
}

/* es_aggregate_apply upcasts, so events come as stored. */
int es__bank_balances_options(es_projection_options *o)
{
	es__bank_model_options(o, ES_BANK_BALANCES, on_event);
	o->batch_begin = batch_begin;
	o->batch_end = batch_end;
	o->user_data = es_calloc(1, sizeof(batch_cache));
	return o->user_data ? 0 : es_error_set(ES_ENOMEM, "the balances model: out of memory");
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
