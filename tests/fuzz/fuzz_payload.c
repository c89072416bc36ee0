/*
 * fuzz_payload.c - bank event payloads through the upcaster chain
 * (es_registry_upcast with es_bank_registry()) and into an account
 * (es_aggregate_apply on an es_bank_account).
 *
 * Input: byte 0 picks the event's (type, schema version) from `kinds`
 * (release 1, 2 and 3 types, and a few the bank never wrote); byte 1 picks
 * the account it is applied to; the rest is the payload.
 * Properties: applying the upcast event and applying the stored one (which
 * es_aggregate_apply upcasts itself) agree on the result and the state; an
 * error comes with a message; the payload's descriptor, when the bank has
 * one, decodes without trouble.
 */
#include <protobuf-c/protobuf-c.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"

static const struct { const char *type; uint32_t version; } kinds[] = {
	{ "AccountOpened", 1 }, { "AccountOpened", 2 }, { "AccountOpened", 3 },
	{ "Deposit", 1 }, { "Withdrawal", 1 },
	{ "MoneyDeposited", 2 }, { "MoneyDeposited", 3 },
	{ "MoneyWithdrawn", 2 }, { "MoneyWithdrawn", 3 },
	{ "AccountClosed", 1 }, { "AccountClosed", 2 }, { "AccountClosed", 3 },
	{ "AccountFrozen", 3 }, { "AccountUnfrozen", 3 },
	{ "MoneyDeposited", 4 }, { "Deposit", 2 }, { "Unheard", 1 }, { "AccountFrozen", 1 },
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

/* The account before the event: none yet, a fresh one, or one at the edge
 * of int64 (so overflow checks run). */
static void start_state(es_bank_account *a, uint8_t pick)
{
	es_bank_account_type.init(a);
	if (pick % 3 == 0)
		return;
	strcpy(a->owner, "Fuzz");
	strcpy(a->currency, "USD");
	a->decimals = 2;
	if (pick % 3 == 2) {
		a->balance = INT64_MAX - 5;
		a->deposited = INT64_MAX - 5;
		a->withdrawn = INT64_MAX - 5;
		a->overdraft_limit = INT64_MAX;
	}
}

static int same_account(const es_bank_account *x, const es_bank_account *y)
{
	return strcmp(x->owner, y->owner) == 0 && strcmp(x->currency, y->currency) == 0 &&
	       x->decimals == y->decimals && x->overdraft_limit == y->overdraft_limit &&
	       x->balance == y->balance && x->status == y->status &&
	       x->deposited == y->deposited && x->withdrawn == y->withdrawn;
}

static void describe(const es_event *ev)
{
	const ProtobufCMessageDescriptor *d = es_bank_descriptor(ev->type, ev->schema_version, NULL);
	if (!d)
		return;
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, ev->payload_len, ev->payload);
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const es_registry *reg = es_bank_registry();
	FUZZ_CHECK(reg != NULL);
	es_event ev;
	memset(&ev, 0, sizeof ev);
	ev.stream = "account-fuzz";
	ev.type = kinds[data[0] % N_KINDS].type;
	ev.schema_version = kinds[data[0] % N_KINDS].version;
	ev.payload = data + 2;
	ev.payload_len = size - 2;
	describe(&ev);

	_Alignas(16) unsigned char buf[256];
	es_arena arena;
	es_arena_init(&arena, buf, sizeof buf);
	es_event up = ev;
	es_bank_account direct, upcast;
	start_state(&direct, data[1]);
	start_state(&upcast, data[1]);
	int rc_up = es_registry_upcast(&up, reg, &arena);
	int rc_direct = es_aggregate_apply(&es_bank_account_type, &direct, &ev);
	if (rc_direct)
		FUZZ_CHECK(es_error_last()->message[0] != '\0');
	if (rc_up == 0) {
		FUZZ_CHECK(up.schema_version == es_registry_current(reg, up.type) ||
		           es_registry_current(reg, up.type) == 0);
		describe(&up);
		int rc = es_aggregate_apply(&es_bank_account_type, &upcast, &up);
		FUZZ_CHECK(rc == rc_direct);
		FUZZ_CHECK(rc != 0 || same_account(&direct, &upcast));
	} else {
		FUZZ_CHECK(rc_direct == rc_up); /* the same step refuses it */
	}
	es_arena_release(&arena);
	return 0;
}
