/*
 * descriptors.c - the protobuf message type of each bank event at each
 * schema version, so generic tools (es-dump, es-load) can decode and
 * re-encode payloads without knowing the bank.
 */
#include <string.h>

#include <evstore/bank.h>

#include "bank.pb-c.h"
#include "bank_int.h"
#include "bank_v1.pb-c.h"
#include "bank_v2.pb-c.h"

typedef struct type_desc {
	const char *type;
	const ProtobufCMessageDescriptor *desc;
} type_desc;

/* Release 1: amounts as doubles, Deposit/Withdrawal, no currency. */
static const type_desc v1[] = {
	{ "AccountOpened", &evstore__bank__v1__account_opened__descriptor },
	{ "Deposit", &evstore__bank__v1__deposit__descriptor },
	{ "Withdrawal", &evstore__bank__v1__withdrawal__descriptor },
	{ "AccountClosed", &evstore__bank__v1__account_closed__descriptor },
};

/* Release 2: int64 minor units, MoneyDeposited/MoneyWithdrawn. */
static const type_desc v2[] = {
	{ "AccountOpened", &evstore__bank__v2__account_opened__descriptor },
	{ "MoneyDeposited", &evstore__bank__v2__money_deposited__descriptor },
	{ "MoneyWithdrawn", &evstore__bank__v2__money_withdrawn__descriptor },
	{ "AccountClosed", &evstore__bank__v2__account_closed__descriptor },
};

/* Release 3: today's bank.proto. */
static const type_desc v3[] = {
	{ ES_BANK_ACCOUNT_OPENED, &evstore__bank__account_opened__descriptor },
	{ ES_BANK_MONEY_DEPOSITED, &evstore__bank__money_deposited__descriptor },
	{ ES_BANK_MONEY_WITHDRAWN, &evstore__bank__money_withdrawn__descriptor },
	{ ES_BANK_ACCOUNT_FROZEN, &evstore__bank__account_frozen__descriptor },
	{ ES_BANK_ACCOUNT_UNFROZEN, &evstore__bank__account_unfrozen__descriptor },
	{ ES_BANK_ACCOUNT_CLOSED, &evstore__bank__account_closed__descriptor },
};

static const ProtobufCMessageDescriptor *find(const type_desc *t, size_t n, const char *type)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].type, type) == 0)
			return t[i].desc;
	return NULL;
}

const ProtobufCMessageDescriptor *es_bank_descriptor(const char *type, uint32_t schema_version,
                                                     void *user_data)
{
	(void)user_data;
	if (!type)
		return NULL;
	switch (schema_version) {
	case 1: return find(v1, sizeof v1 / sizeof v1[0], type);
	case 2: return find(v2, sizeof v2 / sizeof v2[0], type);
	case ES_BANK_SCHEMA_VERSION: return find(v3, sizeof v3 / sizeof v3[0], type);
	default: return NULL;
	}
}
