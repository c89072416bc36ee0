/*
 * upcasters.c - the bank's schema history as upcaster steps, and the
 * registry that chains them (built and validated once).
 *
 *   release 1: AccountOpened{owner}, Deposit/Withdrawal{double amount in
 *              major units}, AccountClosed{}
 *   release 2: AccountOpened{owner, currency}, MoneyDeposited/MoneyWithdrawn
 *              {int64 amount_minor}, AccountClosed{}
 *   release 3: today's bank.proto (overdraft limit, transfer legs, reasons,
 *              AccountFrozen/AccountUnfrozen)
 *
 * Release 3 only added fields, which proto3 readers default, so every
 * v2 -> v3 step passes the bytes through unchanged.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <evstore/bank.h>

#include "bank_int.h"
#include "bank_v1.pb-c.h"
#include "bank_v2.pb-c.h"
#include "es_pb_arena.h"

/* The fast path gives the same answer without formatting: p = amount * 100
 * is within half an ulp (at most 1/16 below 2^50) of the exact product, so
 * when p is within 1/4 of an integer r, the exact product is within 1/2 of r
 * and rounds to r, as the text route would. Every amount release 1 wrote is
 * that close to a whole cent; half-cent ties and huge values take the text
 * route. (A fold of v1 events spent a third of its time in printf.) */
static int near_whole_cent(int64_t *out, double amount)
{
	double p = amount * 100.0, r = nearbyint(p);
	if (!(p < 0x1p50) || fabs(p - r) >= 0.25)
		return 0;
	*out = (int64_t)r;
	return 1;
}

/* Release 1 wrote doubles parsed from text with at most two decimals. The
 * double is formatted to two decimals (glibc rounds the exact binary value
 * correctly), then read back as an exact decimal: every value release 1
 * could write lies within far less than half a cent of its hundredth, so
 * this recovers the intended cents exactly; 0.1 + 0.2 becomes 30. */
int es_bank_v1_amount_to_minor(int64_t *out, double amount)
{
	char text[400];
	if (!out)
		return es_error_set(ES_EINVAL, "es_bank_v1_amount_to_minor: out is NULL");
	if (isnan(amount) || isinf(amount))
		return es_error_set(ES_ECORRUPT, "v1 amount %f is not a number of dollars", amount);
	if (signbit(amount) && amount != 0)
		return es_error_set(ES_ECORRUPT, "v1 amount %.2f is negative", amount);
	if (near_whole_cent(out, amount))
		return 0;
	int n = snprintf(text, sizeof text, "%.2f", fabs(amount));
	if (n < 0 || (size_t)n >= sizeof text || es_bank_money_parse(out, text, 2) != 0)
		return es_error_set(ES_ERANGE, "v1 amount %.2f does not fit in int64 cents", amount);
	return 0;
}

static int unchanged(const void **payload, size_t *len, const es_upcast_event *in, es_arena *arena,
                     void *user_data)
{
	(void)arena; (void)user_data;
	*payload = in->payload;
	*len = in->payload_len;
	return 0;
}

static int pack_into(const void **payload, size_t *len, const ProtobufCMessage *msg, es_arena *arena)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = es_arena_alloc(arena, n ? n : 1);
	if (!buf)
		return es_error_set(ES_ENOMEM, "upcasting: out of memory");
	protobuf_c_message_pack(msg, buf);
	*payload = buf;
	*len = n;
	return 0;
}

static int undecodable(const es_upcast_event *in)
{
	return es_error_set(ES_ECORRUPT, "%s v%u payload does not decode", in->type, in->schema_version);
}

static int opened_v1_to_v2(const void **payload, size_t *len, const es_upcast_event *in,
                           es_arena *arena, void *user_data)
{
	(void)user_data;
	ProtobufCAllocator alloc = es__pb_allocator(arena);
	Evstore__Bank__V1__AccountOpened *old =
	    evstore__bank__v1__account_opened__unpack(&alloc, in->payload_len, in->payload);
	if (!old)
		return undecodable(in);
	Evstore__Bank__V2__AccountOpened m = EVSTORE__BANK__V2__ACCOUNT_OPENED__INIT;
	m.owner = old->owner;
	m.currency = (char *)"USD"; /* release 1 knew only US dollars */
	return pack_into(payload, len, &m.base, arena);
}

/* Deposit and Withdrawal v1 share a shape; user says which v2 message to build. */
static int amount_v1_to_v2(const void **payload, size_t *len, const es_upcast_event *in,
                           es_arena *arena, void *user_data)
{
	ProtobufCAllocator alloc = es__pb_allocator(arena);
	Evstore__Bank__V1__Deposit *old = evstore__bank__v1__deposit__unpack(&alloc, in->payload_len, in->payload);
	if (!old)
		return undecodable(in);
	Evstore__Bank__V2__MoneyDeposited m = EVSTORE__BANK__V2__MONEY_DEPOSITED__INIT;
	if (user_data)
		m.base.descriptor = &evstore__bank__v2__money_withdrawn__descriptor; /* same fields */
	m.reference = old->reference;
	int rc = es_bank_v1_amount_to_minor(&m.amount_minor, old->amount);
	if (rc) {
		/* The message is copied out first: es_error_set formats into the
		 * buffer es_error_last() points at, and must not read from it. */
		char why[256];
		snprintf(why, sizeof why, "%s", es_error_last()->message);
		return es_error_set(rc, "%s: %s", in->type, why);
	}
	return pack_into(payload, len, &m.base, arena);
}

static const es_upcaster bank_steps[] = {
	{ "AccountOpened", 1, NULL, "opened-add-usd-currency", 1, opened_v1_to_v2, NULL },
	{ "AccountOpened", 2, NULL, "opened-add-overdraft", 1, unchanged, NULL },
	{ "Deposit", 1, ES_BANK_MONEY_DEPOSITED, "deposit-double-to-minor", 1, amount_v1_to_v2, NULL },
	{ "Withdrawal", 1, ES_BANK_MONEY_WITHDRAWN, "withdrawal-double-to-minor", 1, amount_v1_to_v2, (void *)1 },
	{ ES_BANK_MONEY_DEPOSITED, 2, NULL, "deposit-add-transfer-leg", 1, unchanged, NULL },
	{ ES_BANK_MONEY_WITHDRAWN, 2, NULL, "withdrawal-add-transfer-leg", 1, unchanged, NULL },
	{ "AccountClosed", 1, NULL, "closed-v2", 1, unchanged, NULL },
	{ "AccountClosed", 2, NULL, "closed-add-reason", 1, unchanged, NULL },
};

static const char *const current_types[] = {
	ES_BANK_ACCOUNT_OPENED, ES_BANK_MONEY_DEPOSITED, ES_BANK_MONEY_WITHDRAWN,
	ES_BANK_ACCOUNT_FROZEN, ES_BANK_ACCOUNT_UNFROZEN, ES_BANK_ACCOUNT_CLOSED,
};

static _Atomic(es_registry *) registry;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static void build_registry(void)
{
	es_registry *reg;
	int rc = es_registry_new(&reg);
	for (size_t i = 0; rc == 0 && i < sizeof bank_steps / sizeof bank_steps[0]; i++)
		rc = es_registry_add(reg, &bank_steps[i]);
	for (size_t i = 0; rc == 0 && i < sizeof current_types / sizeof current_types[0]; i++)
		rc = es_registry_set_current(reg, current_types[i], ES_BANK_SCHEMA_VERSION);
	if (rc == 0 && (rc = es_registry_validate(reg)) == 0)
		atomic_store_explicit(&registry, reg, memory_order_release);
	else if (reg)
		es_registry_free(reg);
}

/* A mutex, not pthread_once: a build that failed (out of memory) is tried
 * again by the next call instead of leaving the process without a registry.
 * Once built, callers (one per event folded) only load the pointer. */
const es_registry *es_bank_registry(void)
{
	es_registry *reg = atomic_load_explicit(&registry, memory_order_acquire);
	if (reg)
		return reg;
	pthread_mutex_lock(&registry_lock);
	if (!atomic_load_explicit(&registry, memory_order_relaxed))
		build_registry();
	reg = atomic_load_explicit(&registry, memory_order_relaxed);
	pthread_mutex_unlock(&registry_lock);
	return reg;
}
