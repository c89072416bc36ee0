/*
 * commands.c - the bank's commands: each is a decision over one or two
 * accounts, executed by es_command_execute (load, decide, append with the
 * loaded versions, retry on conflict). The rules live here, one function
 * per rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evstore/bank.h>

#include "bank.pb-c.h"
#include "bank_int.h"
#include "es_alloc.h"

#define REFERENCE_MAX 256

typedef struct bank_cmd {
	const char *ids[2];       /* account ids, for messages */
	int64_t amount;
	const char *text;         /* reference or reason */
	const char *owner;
	const char *currency;
	int64_t overdraft;
	char transfer_id[ES_ID_TEXT_SIZE];
} bank_cmd;

/* ---- rules ---- */

static int rule_exists(const es_load_info *info, const char *id)
{
	return info->version < 0 ? es_error_set(ES_EREJECTED, "account '%s' does not exist", id) : 0;
}

static int rule_not_closed(const es_bank_account *a, const char *id)
{
	return a->status == ES_BANK_STATUS_CLOSED ? es_error_set(ES_EREJECTED, "account '%s' is closed", id) : 0;
}

static int rule_not_frozen(const es_bank_account *a, const char *id)
{
	return a->status == ES_BANK_STATUS_FROZEN
	       ? es_error_set(ES_EREJECTED, "account '%s' is frozen: no withdrawals", id) : 0;
}

static int rule_can_credit(const es_load_info *info, const es_bank_account *a, const char *id, int64_t amount)
{
	int64_t after;
	int rc = rule_exists(info, id);
	if (!rc) rc = rule_not_closed(a, id);
	if (!rc && es_bank_money_add(&after, a->balance, amount))
		rc = es_error_set(ES_ERANGE, "a deposit to account '%s' would overflow its balance", id);
	/* The running total is state too: an overflow there would make every
	 * later load of the account fail. */
	if (!rc && es_bank_money_add(&after, a->deposited, amount))
		rc = es_error_set(ES_ERANGE, "a deposit to account '%s' would overflow its total deposits", id);
	return rc;
}

static int rule_funds(const es_bank_account *a, const char *id, int64_t amount)
{
	int64_t after;
	if (es_bank_money_sub(&after, a->balance, amount) == 0 && after >= -a->overdraft_limit)
		return 0;
	char bal[ES_BANK_MONEY_TEXT_SIZE], lim[ES_BANK_MONEY_TEXT_SIZE], amt[ES_BANK_MONEY_TEXT_SIZE];
	es_bank_money_format(bal, sizeof bal, a->balance, a->decimals);
	es_bank_money_format(lim, sizeof lim, a->overdraft_limit, a->decimals);
	es_bank_money_format(amt, sizeof amt, amount, a->decimals);
	return es_error_set(ES_EREJECTED, "insufficient funds in account '%s': balance %s %s, overdraft "
	                    "limit %s, withdrawal %s", id, bal, a->currency, lim, amt);
}

static int rule_can_debit(const es_load_info *info, const es_bank_account *a, const char *id, int64_t amount)
{
	int rc = rule_exists(info, id);
	if (!rc) rc = rule_not_closed(a, id);
	if (!rc) rc = rule_not_frozen(a, id);
	if (!rc) rc = rule_funds(a, id, amount);
	int64_t after;
	if (!rc && es_bank_money_add(&after, a->withdrawn, amount))
		rc = es_error_set(ES_ERANGE, "a withdrawal from account '%s' would overflow its total "
		                  "withdrawals", id);
	return rc;
}

/* ---- emitting protobuf events ---- */

static int emit_message(es_emit *emit, size_t target, const char *type, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t stack[1024], *buf = len <= sizeof stack ? stack : es_malloc(len);
	if (!buf)
		return es_error_set(ES_ENOMEM, "encoding a %s event: out of memory", type);
	protobuf_c_message_pack(msg, buf);
	int rc = es_emit_event(emit, target, type, ES_BANK_SCHEMA_VERSION, buf, len);
	if (buf != stack)
		es_free(buf);
	return rc;
}

/* MoneyDeposited and MoneyWithdrawn have the same fields, so one builder
 * serves both; the descriptor says which message the bytes are. */
static int emit_money(es_emit *emit, size_t target, const char *type,
                      const ProtobufCMessageDescriptor *descriptor, const bank_cmd *c,
                      const char *counterparty)
{
	Evstore__Bank__MoneyDeposited m = EVSTORE__BANK__MONEY_DEPOSITED__INIT;
	m.base.descriptor = descriptor;
	m.amount_minor = c->amount;
	m.reference = (char *)(c->text ? c->text : "");
	m.transfer_id = (char *)c->transfer_id;
	m.counterparty = (char *)(counterparty ? counterparty : "");
	return emit_message(emit, target, type, &m.base);
}

static int emit_deposit(es_emit *emit, size_t target, const bank_cmd *c, const char *counterparty)
{
	return emit_money(emit, target, ES_BANK_MONEY_DEPOSITED, &evstore__bank__money_deposited__descriptor,
	                  c, counterparty);
}

static int emit_withdrawal(es_emit *emit, size_t target, const bank_cmd *c, const char *counterparty)
{
	return emit_money(emit, target, ES_BANK_MONEY_WITHDRAWN, &evstore__bank__money_withdrawn__descriptor,
	                  c, counterparty);
}

/* ---- decisions ---- */

#define ACCOUNT(i) ((const es_bank_account *)states[i])
#define DECIDE(name) \
	static int name(es_emit *emit, void *const *states, const es_load_info *infos, size_t n, void *user_data)

DECIDE(decide_open)
{
	(void)states; (void)n;
	const bank_cmd *c = user_data;
	if (infos[0].version >= 0)
		return es_error_set(ES_EREJECTED, "account '%s' already exists", c->ids[0]);
	Evstore__Bank__AccountOpened m = EVSTORE__BANK__ACCOUNT_OPENED__INIT;
	m.owner = (char *)c->owner;
	m.currency = (char *)c->currency;
	m.overdraft_limit = c->overdraft;
	return emit_message(emit, 0, ES_BANK_ACCOUNT_OPENED, &m.base);
}

DECIDE(decide_deposit)
{
	(void)n;
	const bank_cmd *c = user_data;
	int rc = rule_can_credit(&infos[0], ACCOUNT(0), c->ids[0], c->amount);
	return rc ? rc : emit_deposit(emit, 0, c, NULL);
}

DECIDE(decide_withdraw)
{
	(void)n;
	const bank_cmd *c = user_data;
	int rc = rule_can_debit(&infos[0], ACCOUNT(0), c->ids[0], c->amount);
	return rc ? rc : emit_withdrawal(emit, 0, c, NULL);
}

DECIDE(decide_transfer)
{
	(void)n;
	const bank_cmd *c = user_data;
	int rc = rule_can_debit(&infos[0], ACCOUNT(0), c->ids[0], c->amount);
	if (!rc) rc = rule_can_credit(&infos[1], ACCOUNT(1), c->ids[1], c->amount);
	if (!rc && strcmp(ACCOUNT(0)->currency, ACCOUNT(1)->currency) != 0)
		rc = es_error_set(ES_EREJECTED, "cannot transfer between '%s' (%s) and '%s' (%s): "
		                  "currencies differ", c->ids[0], ACCOUNT(0)->currency, c->ids[1],
		                  ACCOUNT(1)->currency);
	if (!rc) rc = emit_withdrawal(emit, 0, c, c->ids[1]);
	if (!rc) rc = emit_deposit(emit, 1, c, c->ids[0]);
	return rc;
}

static int emit_reason(es_emit *emit, const char *type, const bank_cmd *c)
{
	/* Frozen, unfrozen and closed share one shape: a reason. */
	Evstore__Bank__AccountFrozen m = EVSTORE__BANK__ACCOUNT_FROZEN__INIT;
	m.reason = (char *)(c->text ? c->text : "");
	return emit_message(emit, 0, type, &m.base);
}

DECIDE(decide_freeze)
{
	(void)n;
	const bank_cmd *c = user_data;
	int rc = rule_exists(&infos[0], c->ids[0]);
	if (!rc) rc = rule_not_closed(ACCOUNT(0), c->ids[0]);
	if (!rc) rc = rule_not_frozen(ACCOUNT(0), c->ids[0]);
	return rc ? rc : emit_reason(emit, ES_BANK_ACCOUNT_FROZEN, c);
}

DECIDE(decide_unfreeze)
{
	(void)n;
	const bank_cmd *c = user_data;
	int rc = rule_exists(&infos[0], c->ids[0]);
	if (!rc && ACCOUNT(0)->status != ES_BANK_STATUS_FROZEN)
		rc = es_error_set(ES_EREJECTED, "account '%s' is not frozen", c->ids[0]);
	return rc ? rc : emit_reason(emit, ES_BANK_ACCOUNT_UNFROZEN, c);
}

DECIDE(decide_close)
{
	(void)n;
	const bank_cmd *c = user_data;
	int rc = rule_exists(&infos[0], c->ids[0]);
	if (!rc) rc = rule_not_closed(ACCOUNT(0), c->ids[0]);
	if (!rc && ACCOUNT(0)->balance != 0) {
		char bal[ES_BANK_MONEY_TEXT_SIZE];
		es_bank_money_format(bal, sizeof bal, ACCOUNT(0)->balance, ACCOUNT(0)->decimals);
		rc = es_error_set(ES_EREJECTED, "account '%s' cannot close: balance is %s %s, not zero",
		                  c->ids[0], bal, ACCOUNT(0)->currency);
	}
	return rc ? rc : emit_reason(emit, ES_BANK_ACCOUNT_CLOSED, c);
}

/* ---- execution ---- */

static int check_text(const char *what, const char *text, size_t max)
{
	if (text && strlen(text) > max)
		return es_error_set(ES_EINVAL, "%s is longer than %zu bytes", what, max);
	return 0;
}

static int check_amount(int64_t amount)
{
	return amount > 0 ? 0 : es_error_set(ES_EINVAL, "amount must be positive");
}

static int run(es_db *db, size_t n, es_decide_fn decide, bank_cmd *c)
{
	char streams[2][ES_BANK_ACCOUNT_STREAM_SIZE];
	es_target targets[2];
	for (size_t i = 0; i < n; i++) {
		int rc = es_bank_account_stream(streams[i], c->ids[i]);
		if (rc)
			return rc;
		targets[i] = (es_target){ &es_bank_account_type, streams[i] };
	}
	return es_command_execute(NULL, db, targets, n, decide, c, NULL);
}

int es_bank_open(es_db *db, const char *account_id, const char *owner, const char *currency,
                 int64_t overdraft_limit)
{
	bank_cmd c = { .ids = { account_id }, .owner = owner, .currency = currency,
	               .overdraft = overdraft_limit };
	if (!owner || !*owner)
		return es_error_set(ES_EINVAL, "owner is required");
	int rc = check_text("owner", owner, ES_BANK_OWNER_MAX);
	if (!rc && es_bank_currency_decimals(currency) < 0)
		rc = ES_EINVAL; /* the message names the code */
	if (!rc && overdraft_limit < 0)
		rc = es_error_set(ES_EINVAL, "overdraft limit must not be negative");
	return rc ? rc : run(db, 1, decide_open, &c);
}

static int money_command(es_db *db, const char *account_id, int64_t amount, const char *reference,
                         es_decide_fn decide)
{
	bank_cmd c = { .ids = { account_id }, .amount = amount, .text = reference };
	int rc = check_amount(amount);
	if (!rc) rc = check_text("reference", reference, REFERENCE_MAX);
	return rc ? rc : run(db, 1, decide, &c);
}

int es_bank_deposit(es_db *db, const char *account_id, int64_t amount, const char *reference)
{
	return money_command(db, account_id, amount, reference, decide_deposit);
}

int es_bank_withdraw(es_db *db, const char *account_id, int64_t amount, const char *reference)
{
	return money_command(db, account_id, amount, reference, decide_withdraw);
}

int es_bank_transfer(es_db *db, const char *from, const char *to, int64_t amount, const char *reference)
{
	bank_cmd c = { .ids = { from, to }, .amount = amount, .text = reference };
	uint8_t id[16];
	int rc = check_amount(amount);
	if (!rc) rc = check_text("reference", reference, REFERENCE_MAX);
	if (!rc && from && to && strcmp(from, to) == 0)
		rc = es_error_set(ES_EINVAL, "cannot transfer from account '%s' to itself", from);
	if (!rc) rc = es_id_new(id);
	if (rc)
		return rc;
	es_id_format(id, c.transfer_id);
	return run(db, 2, decide_transfer, &c);
}

static int status_command(es_db *db, const char *account_id, const char *reason, es_decide_fn decide)
{
	bank_cmd c = { .ids = { account_id }, .text = reason };
	int rc = check_text("reason", reason, REFERENCE_MAX);
	return rc ? rc : run(db, 1, decide, &c);
}

int es_bank_freeze(es_db *db, const char *account_id, const char *reason)
{
	return status_command(db, account_id, reason, decide_freeze);
}

int es_bank_unfreeze(es_db *db, const char *account_id, const char *reason)
{
	return status_command(db, account_id, reason, decide_unfreeze);
}

int es_bank_close(es_db *db, const char *account_id, const char *reason)
{
	return status_command(db, account_id, reason, decide_close);
}
