/*
 * daily.c - the bank's daily totals read model, the projection
 * "bank-daily": per currency and UTC day, money deposited and withdrawn
 * from outside the bank, money moved by transfers, and the net change.
 * Keys: "acct/<id>" -> the account's currency (from AccountOpened), and
 * "day/<CUR>/<YYYY-MM-DD>" -> the day's totals (seven LE64 values), so a
 * scan gives the days of a currency in date order.
 */
#include <stdio.h>
#include <string.h>

#include "bank_int.h"
#include "bank.pb-c.h"
#include "es_bytes.h"

#define DAY_NS (INT64_C(86400) * 1000000000)
#define DAY_VALUE 56 /* LE64: deposited, withdrawn, transferred, their three counts, net */

static const char *account_id(const es_event *ev)
{
	return ev->stream + sizeof "account-" - 1;
}

static int currency_put(es_projection_ctx *ctx, const es_event *ev)
{
	Evstore__Bank__AccountOpened *m = evstore__bank__account_opened__unpack(NULL, ev->payload_len, ev->payload);
	if (!m)
		return es__bank_undecodable(ev);
	char key[8 + ES_BANK_ACCOUNT_ID_MAX];
	int n = snprintf(key, sizeof key, "acct/%s", account_id(ev));
	int rc = es_projection_put(ctx, key, (size_t)n, m->currency, strlen(m->currency));
	evstore__bank__account_opened__free_unpacked(m, NULL);
	return rc;
}

/* The account's currency, as its opening recorded it. */
static int currency_get(char out[4], es_projection_ctx *ctx, const es_event *ev)
{
	char key[8 + ES_BANK_ACCOUNT_ID_MAX];
	int n = snprintf(key, sizeof key, "acct/%s", account_id(ev));
	const void *v;
	size_t len;
	int rc = es_projection_get(&v, &len, ctx, key, (size_t)n);
	if (rc || len != 3)
		return es_error_set(ES_ECORRUPT, "stream '%s' version %lld: money moved before the account "
		                    "was opened", ev->stream, (long long)ev->version);
	memcpy(out, v, 3);
	out[3] = '\0';
	return 0;
}

/* Is this deposit or withdrawal one leg of a transfer? */
static int is_transfer(int *out, const es_event *ev, int deposit)
{
	if (deposit) {
		Evstore__Bank__MoneyDeposited *m =
		    evstore__bank__money_deposited__unpack(NULL, ev->payload_len, ev->payload);
		if (!m)
			return es__bank_undecodable(ev);
		*out = m->transfer_id && *m->transfer_id;
		evstore__bank__money_deposited__free_unpacked(m, NULL);
		return 0;
	}
	Evstore__Bank__MoneyWithdrawn *m = evstore__bank__money_withdrawn__unpack(NULL, ev->payload_len, ev->payload);
	if (!m)
		return es__bank_undecodable(ev);
	*out = m->transfer_id && *m->transfer_id;
	evstore__bank__money_withdrawn__free_unpacked(m, NULL);
	return 0;
}

static void day_text(char *out, size_t size, int64_t ns)
{
	char t[ES_TIME_TEXT_SIZE];
	int64_t day = ns >= 0 ? ns / DAY_NS * DAY_NS : ((ns + 1) / DAY_NS - 1) * DAY_NS;
	es_time_format(t, sizeof t, day);
	snprintf(out, size, "%.10s", t);
}

/* Adds to one of the day's six totals (and the net). */
static int day_add(es_projection_ctx *ctx, const char *currency, int64_t at, int field, int64_t amount,
                   int64_t net)
{
	char key[32], date[16];
	day_text(date, sizeof date, at);
	int n = snprintf(key, sizeof key, "day/%s/%s", currency, date);
	uint8_t v[DAY_VALUE] = { 0 };
	const void *old;
	size_t len;
	int rc = es_projection_get(&old, &len, ctx, key, (size_t)n);
	if (rc == 0 && len == DAY_VALUE)
		memcpy(v, old, DAY_VALUE);
	else if (rc != ES_ENOTFOUND && rc != 0)
		return rc;
	es__put_le64(v + 8 * field, es__get_le64(v + 8 * field) + (uint64_t)amount);
	es__put_le64(v + 8 * (field + 3), es__get_le64(v + 8 * (field + 3)) + 1); /* its count */
	es__put_le64(v + 48, es__get_le64(v + 48) + (uint64_t)net);
	return es_projection_put(ctx, key, (size_t)n, v, sizeof v);
}

static int on_event(es_projection_ctx *ctx, const es_event *ev, void *user_data)
{
	(void)user_data;
	int deposit = strcmp(ev->type, ES_BANK_MONEY_DEPOSITED) == 0;
	if (strcmp(ev->type, ES_BANK_ACCOUNT_OPENED) == 0)
		return currency_put(ctx, ev);
	if (!deposit && strcmp(ev->type, ES_BANK_MONEY_WITHDRAWN) != 0)
		return 0; /* status changes move no money */
	char currency[4];
	int64_t amount = 0;
	int transfer = 0;
	int rc = currency_get(currency, ctx, ev);
	if (rc == 0 && (rc = es_bank_amount_of(&amount, ev->payload, ev->payload_len)) == 0)
		rc = is_transfer(&transfer, ev, deposit);
	if (rc || (transfer && !deposit))
		return rc; /* a transfer is counted once, by its incoming leg */
	/* fields: 0 deposited, 1 withdrawn, 2 transferred (their counts follow) */
	int field = transfer ? 2 : deposit ? 0 : 1;
	int64_t net = transfer ? 0 : deposit ? amount : -amount;
	return day_add(ctx, currency, ev->recorded_at, field, amount, net);
}

int es__bank_daily_options(es_projection_options *o)
{
	es__bank_model_options(o, ES_BANK_DAILY, on_event);
	o->upcast = es_bank_registry(); /* the handler reads today's schema */
	return o->upcast ? 0 : es_error_set(ES_ENOMEM, "cannot build the bank's upcasters");
}

typedef struct day_scan {
	int64_t since, until;
	es_bank_day_fn fn;
	void *user_data;
} day_scan;

static int each_day(const void *key, size_t key_len, const void *value, size_t value_len, void *user_data)
{
	day_scan *s = user_data;
	es_bank_day d = { 0 };
	char text[40];
	/* "day/CUR/YYYY-MM-DD" */
	if (key_len != 18 || value_len != DAY_VALUE)
		return es_error_set(ES_ECORRUPT, "the daily totals model holds a malformed record");
	memcpy(d.currency, (const char *)key + 4, 3);
	snprintf(text, sizeof text, "%.10sT00:00:00Z", (const char *)key + 8);
	if (es_time_parse(&d.day, text) != 0)
		return es_error_set(ES_ECORRUPT, "the daily totals model holds a malformed date");
	if (d.day + DAY_NS <= s->since || d.day > s->until)
		return 0;
	d.decimals = es_bank_currency_decimals(d.currency);
	const uint8_t *v = value;
	d.deposited = (int64_t)es__get_le64(v);
	d.withdrawn = (int64_t)es__get_le64(v + 8);
	d.transferred = (int64_t)es__get_le64(v + 16);
	d.deposits = es__get_le64(v + 24);
	d.withdrawals = es__get_le64(v + 32);
	d.transfers = es__get_le64(v + 40);
	d.net = (int64_t)es__get_le64(v + 48);
	return s->fn(&d, s->user_data);
}

int es_bank_daily_each(es_read *rd, int64_t since, int64_t until, es_bank_day_fn fn, void *user_data)
{
	if (!fn)
		return es_error_set(ES_EINVAL, "es_bank_daily_each: fn is required");
	day_scan s = { since, until, fn, user_data };
	return es_projection_scan(rd, ES_BANK_DAILY, "day/", 4, each_day, &s);
}
