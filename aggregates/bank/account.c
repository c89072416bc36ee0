/*
 * account.c - the account aggregate: applying each bank event to an
 * es_bank_account, the snapshot codec, and loads by account id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evstore/bank.h>

#include "bank.pb-c.h"
#include "bank_int.h"
#include "es_pb_arena.h"

/* Unpacks a payload into a message on a stack arena: no malloc per event.
 * Pair with RELEASE before returning. */
#define UNPACK(msg_type, fn, ev, out)                                              \
	_Alignas(16) unsigned char arena_buf_[512];                                \
	es_arena arena_;                                                           \
	es_arena_init(&arena_, arena_buf_, sizeof arena_buf_);                     \
	ProtobufCAllocator alloc_ = es__pb_allocator(&arena_);                      \
	msg_type *out = fn(&alloc_, (ev)->payload_len, (ev)->payload);           \
	if (!out) {                                                                \
		es_arena_release(&arena_);                                         \
		return es__bank_undecodable(ev);                                   \
	}
#define RELEASE() es_arena_release(&arena_)

int es__bank_undecodable(const es_event *ev)
{
	return es_error_set(ES_ECORRUPT, "stream '%s' version %lld: %s payload does not decode",
	                    ev->stream, (long long)ev->version, ev->type);
}

static int apply_opened(void *state, const es_event *ev)
{
	es_bank_account *a = state;
	UNPACK(Evstore__Bank__AccountOpened, evstore__bank__account_opened__unpack, ev, m);
	int decimals = es_bank_currency_decimals(m->currency);
	int ok = decimals >= 0 && m->overdraft_limit >= 0;
	if (ok) {
		snprintf(a->owner, sizeof a->owner, "%s", m->owner);
		snprintf(a->currency, sizeof a->currency, "%s", m->currency);
		a->decimals = decimals;
		a->overdraft_limit = m->overdraft_limit;
		a->status = ES_BANK_STATUS_OPEN;
	}
	RELEASE();
	return ok ? 0 : es__bank_undecodable(ev);
}

/* Amounts in stored events were checked when written; an overflow here
 * means the store is not what this code wrote. */
static int apply_amount(es_bank_account *a, const es_event *ev, int64_t amount, int sign)
{
	int64_t *total = sign > 0 ? &a->deposited : &a->withdrawn;
	int rc = amount >= 0 ? es_bank_money_add(total, *total, amount) : ES_ERANGE; /* v1 allowed zero */
	if (rc == 0)
		rc = sign > 0 ? es_bank_money_add(&a->balance, a->balance, amount)
		              : es_bank_money_sub(&a->balance, a->balance, amount);
	return rc ? es__bank_undecodable(ev) : 0;
}

/* The fold path reads only the amount (wire.c): no string is unpacked. */
static int apply_money(void *state, const es_event *ev, int sign)
{
	int64_t amount;
	if (es_bank_amount_of(&amount, ev->payload, ev->payload_len))
		return es__bank_undecodable(ev);
	return apply_amount(state, ev, amount, sign);
}

static int apply_deposited(void *state, const es_event *ev) { return apply_money(state, ev, +1); }
static int apply_withdrawn(void *state, const es_event *ev) { return apply_money(state, ev, -1); }

static int set_status(void *state, es_bank_status status)
{
	((es_bank_account *)state)->status = status;
	return 0;
}

/* Status events carry only a reason, which the state does not keep. */
static int apply_frozen(void *state, const es_event *ev) { (void)ev; return set_status(state, ES_BANK_STATUS_FROZEN); }
static int apply_unfrozen(void *state, const es_event *ev) { (void)ev; return set_status(state, ES_BANK_STATUS_OPEN); }
static int apply_closed(void *state, const es_event *ev) { (void)ev; return set_status(state, ES_BANK_STATUS_CLOSED); }

static const es_event_handler account_handlers[] = {
	{ ES_BANK_ACCOUNT_OPENED, apply_opened },
	{ ES_BANK_MONEY_DEPOSITED, apply_deposited },
	{ ES_BANK_MONEY_WITHDRAWN, apply_withdrawn },
	{ ES_BANK_ACCOUNT_FROZEN, apply_frozen },
	{ ES_BANK_ACCOUNT_UNFROZEN, apply_unfrozen },
	{ ES_BANK_ACCOUNT_CLOSED, apply_closed },
};

static void account_init(void *state)
{
	memset(state, 0, sizeof(es_bank_account));
}

static int account_encode(uint8_t **out, size_t *len, const void *state)
{
	const es_bank_account *a = state;
	Evstore__Bank__AccountState m = EVSTORE__BANK__ACCOUNT_STATE__INIT;
	m.owner = (char *)a->owner;
	m.currency = (char *)a->currency;
	m.overdraft_limit = a->overdraft_limit;
	m.balance = a->balance;
	m.status = (int32_t)a->status;
	m.deposited = a->deposited;
	m.withdrawn = a->withdrawn;
	*len = evstore__bank__account_state__get_packed_size(&m);
	if (!(*out = malloc(*len ? *len : 1)))
		return es_error_set(ES_ENOMEM, "encoding an account snapshot: out of memory");
	evstore__bank__account_state__pack(&m, *out);
	return 0;
}

static int account_decode(void *state, const uint8_t *buf, size_t len)
{
	es_bank_account *a = state;
	Evstore__Bank__AccountState *m = evstore__bank__account_state__unpack(NULL, len, buf);
	if (!m)
		return ES_ECORRUPT;
	int decimals = es_bank_currency_decimals(m->currency);
	int ok = decimals >= 0 && m->status >= ES_BANK_STATUS_OPEN && m->status <= ES_BANK_STATUS_CLOSED &&
	         strlen(m->owner) <= ES_BANK_OWNER_MAX;
	if (ok) {
		snprintf(a->owner, sizeof a->owner, "%s", m->owner);
		snprintf(a->currency, sizeof a->currency, "%s", m->currency);
		a->decimals = decimals;
		a->overdraft_limit = m->overdraft_limit;
		a->balance = m->balance;
		a->status = (es_bank_status)m->status;
		a->deposited = m->deposited;
		a->withdrawn = m->withdrawn;
	}
	evstore__bank__account_state__free_unpacked(m, NULL);
	return ok ? 0 : ES_ECORRUPT;
}

const es_aggregate_type es_bank_account_type = {
	.version = ES_AGGREGATE_TYPE_VERSION,
	.name = "account",
	.stream_prefix = "account-",
	.state_size = sizeof(es_bank_account),
	.init = account_init,
	.handlers = account_handlers,
	.handler_count = sizeof account_handlers / sizeof account_handlers[0],
	.state_schema_version = 1,
	.snapshot_encode = account_encode,
	.snapshot_decode = account_decode,
	.snapshot_every = ES_SNAPSHOT_DEFAULT_EVERY,
	.upcasters = es_bank_registry,
};

const char *es_bank_status_str(es_bank_status status)
{
	switch (status) {
	case ES_BANK_STATUS_OPEN: return "open";
	case ES_BANK_STATUS_FROZEN: return "frozen";
	case ES_BANK_STATUS_CLOSED: return "closed";
	default: return "unknown";
	}
}

static int id_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

int es_bank_account_stream(char out[ES_BANK_ACCOUNT_STREAM_SIZE], const char *account_id)
{
	if (!out || !account_id || !*account_id)
		return es_error_set(ES_EINVAL, "account id is empty");
	size_t n = strlen(account_id);
	if (n > ES_BANK_ACCOUNT_ID_MAX)
		return es_error_set(ES_EINVAL, "account id '%.20s...' is longer than %d bytes", account_id,
		                    ES_BANK_ACCOUNT_ID_MAX);
	for (size_t i = 0; i < n; i++)
		if (!id_char_ok(account_id[i]))
			return es_error_set(ES_EINVAL, "account id '%s' may hold only letters, digits, "
			                    "'-', '_' and '.'", account_id);
	snprintf(out, ES_BANK_ACCOUNT_STREAM_SIZE, "account-%s", account_id);
	return 0;
}

int es_bank_account_load(es_bank_account *out, es_load_info *info, es_db *db, const char *account_id)
{
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	int rc = es_bank_account_stream(stream, account_id);
	return rc ? rc : es_aggregate_load(out, info, db, &es_bank_account_type, stream);
}

int es_bank_account_load_at_version(es_bank_account *out, es_load_info *info, es_db *db,
                                    const char *account_id, int64_t version)
{
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	int rc = es_bank_account_stream(stream, account_id);
	return rc ? rc : es_aggregate_load_at_version(out, info, db, &es_bank_account_type, stream, version);
}

int es_bank_account_load_as_of(es_bank_account *out, es_load_info *info, es_db *db,
                               const char *account_id, int64_t t)
{
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	int rc = es_bank_account_stream(stream, account_id);
	return rc ? rc : es_aggregate_load_as_of(out, info, db, &es_bank_account_type, stream, t);
}
