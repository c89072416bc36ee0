/*
 * evstore/bank.h - the bank-account domain: money, the account aggregate,
 * and its commands.
 *
 * Money is int64 minor units (cents for USD) with overflow checks; there is
 * no floating point anywhere near a balance.
 */
#ifndef EVSTORE_BANK_H
#define EVSTORE_BANK_H

#include <stddef.h>
#include <stdint.h>

#include <evstore/aggregate.h>
#include <evstore/errors.h>
#include <evstore/projection.h>
#include <evstore/upcaster.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Money ------------------------------------------------------------ */

/** Room for es_bank_money_format's longest output ("-92233720368547758.08"), NUL included. */
#define ES_BANK_MONEY_TEXT_SIZE 32

/**
 * Minor-unit digits of an ISO 4217 currency code: 0 for JPY, KRW and the
 * like, 3 for BHD, KWD, OMR, JOD, TND, 2 otherwise.
 * @return the digits, or ES_EINVAL when code is not three uppercase ASCII letters.
 */
ES_EXTERN int es_bank_currency_decimals(const char *code);

/**
 * Parse a non-negative decimal amount ("12", "12.3", "12.34") into minor
 * units of a currency with `decimals` minor digits. Rejected, with a message
 * naming the text: signs, exponents, spaces, empty text, a lone or trailing
 * '.', more fraction digits than `decimals`, any non-digit.
 * @return 0, ES_EINVAL, or ES_ERANGE (does not fit in int64 minor units).
 */
ES_EXTERN int es_bank_money_parse(int64_t *out, const char *text, int decimals);

/**
 * Format minor units as decimal text with exactly `decimals` fraction digits
 * ("12.34", "-0.05", "7" when decimals is 0). INT64_MIN is formatted too.
 * @return 0, or ES_EINVAL (NULL out, size < ES_BANK_MONEY_TEXT_SIZE, decimals
 *   outside 0..9).
 */
ES_EXTERN int es_bank_money_format(char *out, size_t size, int64_t minor, int decimals);

/** *out = a + b; ES_ERANGE (and *out untouched) on overflow. */
ES_EXTERN int es_bank_money_add(int64_t *out, int64_t a, int64_t b);
/** *out = a - b; ES_ERANGE (and *out untouched) on overflow. */
ES_EXTERN int es_bank_money_sub(int64_t *out, int64_t a, int64_t b);

/* ---- The account aggregate ------------------------------------------ */

/**
 * The bank's stored event type names at the current schema version. They are
 * part of the on-disk contract: stores, dumps and upcasters name events by
 * them, so they never change (an old schema's names live in the upcasters).
 */
#define ES_BANK_ACCOUNT_OPENED "AccountOpened"
#define ES_BANK_MONEY_DEPOSITED "MoneyDeposited"
#define ES_BANK_MONEY_WITHDRAWN "MoneyWithdrawn"
#define ES_BANK_ACCOUNT_FROZEN "AccountFrozen"
#define ES_BANK_ACCOUNT_UNFROZEN "AccountUnfrozen"
#define ES_BANK_ACCOUNT_CLOSED "AccountClosed"
/** Schema version of today's bank events (aggregates/bank/schema/ holds the history). */
#define ES_BANK_SCHEMA_VERSION 3

/** Longest account id and owner name, in bytes. */
#define ES_BANK_ACCOUNT_ID_MAX 64
#define ES_BANK_OWNER_MAX 127
/** Room for an account's stream name ("account-" + id), NUL included. */
#define ES_BANK_ACCOUNT_STREAM_SIZE (8 + ES_BANK_ACCOUNT_ID_MAX + 1)

typedef enum es_bank_status {
	ES_BANK_STATUS_OPEN = 0,
	ES_BANK_STATUS_FROZEN = 1,
	ES_BANK_STATUS_CLOSED = 2
} es_bank_status;

/** An account's state. Self-contained: no pointers, nothing to free. */
typedef struct es_bank_account {
	char owner[ES_BANK_OWNER_MAX + 1];
	char currency[4];
	int decimals;             /**< minor digits of currency */
	int64_t overdraft_limit;  /**< minor units the balance may go below zero */
	int64_t balance;          /**< minor units */
	es_bank_status status;
	int64_t deposited;        /**< total ever deposited, minor units */
	int64_t withdrawn;        /**< total ever withdrawn, minor units */
} es_bank_account;

/** The account aggregate type: streams "account-<id>", snapshots every 100 events. */
ES_EXTERN extern const es_aggregate_type es_bank_account_type;

/**
 * The stream name of an account: "account-" + id. Ids are 1..ES_BANK_ACCOUNT_ID_MAX
 * bytes of letters, digits, '-', '_' and '.'.
 * @param out  at least ES_BANK_ACCOUNT_STREAM_SIZE bytes
 * @return 0, or ES_EINVAL naming the id.
 */
ES_EXTERN int es_bank_account_stream(char out[ES_BANK_ACCOUNT_STREAM_SIZE], const char *account_id);

/**
 * Load an account: latest (es_bank_account_load), at a version, or as of time t
 * (every event recorded at or before t).
 * @return 0, ES_ENOTFOUND (no such account; for as-of, "did not exist at t";
 *   for a version, no such version), ES_EINVAL, or any error of
 *   es_aggregate_fold().
 */
ES_EXTERN int es_bank_account_load(es_bank_account *out, es_load_info *info, es_db *db, const char *account_id);
ES_EXTERN int es_bank_account_load_at_version(es_bank_account *out, es_load_info *info, es_db *db,
                                              const char *account_id, int64_t version);
ES_EXTERN int es_bank_account_load_as_of(es_bank_account *out, es_load_info *info, es_db *db,
                                         const char *account_id, int64_t t);

/* ---- Commands ----------------------------------------------------------
 * Each returns 0 on success; ES_EREJECTED when a rule refuses it (the
 * message says which rule and the figures involved); ES_EINVAL for bad
 * arguments (ids, amounts <= 0, currency); ES_ERANGE when a balance would
 * overflow; ES_ECONFLICT if concurrent writers kept winning; or a storage
 * error. Nothing is written unless the command succeeds.
 */

/** Open an account. Rejected if the account already exists. overdraft_limit >= 0. */
ES_EXTERN int es_bank_open(es_db *db, const char *account_id, const char *owner, const char *currency,
                           int64_t overdraft_limit);
/** Deposit amount (> 0). Allowed on frozen accounts; rejected on closed or unknown ones. */
ES_EXTERN int es_bank_deposit(es_db *db, const char *account_id, int64_t amount, const char *reference);
/** Withdraw amount (> 0). Rejected beyond balance + overdraft, when frozen, closed or unknown. */
ES_EXTERN int es_bank_withdraw(es_db *db, const char *account_id, int64_t amount, const char *reference);
/**
 * Move amount (> 0) between two accounts of the same currency, atomically:
 * both legs commit in one batch or neither does. The withdrawal rules apply
 * to `from`; `to` must exist and not be closed.
 */
ES_EXTERN int es_bank_transfer(es_db *db, const char *from, const char *to, int64_t amount,
                               const char *reference);
/** Freeze an open account; unfreeze a frozen one. */
ES_EXTERN int es_bank_freeze(es_db *db, const char *account_id, const char *reason);
ES_EXTERN int es_bank_unfreeze(es_db *db, const char *account_id, const char *reason);
/** Close an account; rejected unless its balance is exactly zero. */
ES_EXTERN int es_bank_close(es_db *db, const char *account_id, const char *reason);

/* ---- History ------------------------------------------------------------ */

/** One history entry: the event, and the account before and after it. */
typedef int (*es_bank_history_fn)(const es_event *ev, const es_bank_account *before,
                                     const es_bank_account *after, void *user_data);

/**
 * Call fn for each event of an account recorded in [since, until]
 * (inclusive; INT64_MIN / INT64_MAX for no bound), oldest first, with the
 * running state. Events are borrowed for the duration of the call.
 * @return 0, fn's non-zero value, ES_ENOTFOUND, or a load error.
 */
ES_EXTERN int es_bank_history(es_db *db, const char *account_id, int64_t since, int64_t until,
                              es_bank_history_fn fn, void *user_data);

/* ---- Schema history ---------------------------------------------------- */

/* ---- The balances read model ------------------------------------------ */

/** The projection holding every account's state, kept from the log. */
#define ES_BANK_BALANCES "bank-balances"

/**
 * Bring the balances model up to the log head: every account event not yet
 * applied, applied with the account's own rules, exactly once.
 * @return as es_projection_catch_up().
 */
ES_EXTERN int es_bank_balances_catch_up(es_projection_stats *out, es_db *db);

/**
 * An account as the balances model has it, as of the read (check
 * es_projection_status_get() for how far behind the log the model is).
 * @return 0, ES_ENOTFOUND (not in the model), ES_EINVAL, ES_ECORRUPT.
 */
ES_EXTERN int es_bank_balance_get(es_bank_account *out, es_read *rd, const char *account_id);

/** Called for each account of the model, in id order; both valid during the call. */
typedef int (*es_bank_balance_fn)(const char *account_id, const es_bank_account *account,
                                  void *user_data);

/**
 * Visit every account of the balances model as of the read.
 * @return 0, a callback's non-zero value, ES_EINVAL, ES_ECORRUPT.
 */
ES_EXTERN int es_bank_balances_each(es_read *rd, es_bank_balance_fn fn, void *user_data);

/* ---- Daily totals and the owner index ---------------------------------- */

/** The projection of daily totals per currency and UTC day. */
#define ES_BANK_DAILY "bank-daily"
/** The projection indexing accounts by owner name. */
#define ES_BANK_OWNERS "bank-owners"

/** One currency's money movements on one UTC day, minor units. Transfers
 * move money between accounts: counted once, apart from deposits and
 * withdrawals from outside, and not in net. */
typedef struct es_bank_day {
	char currency[4];
	int decimals;
	int64_t day;            /**< 00:00 UTC of the day, ns */
	int64_t deposited, withdrawn, transferred;
	uint64_t deposits, withdrawals, transfers; /**< how many of each */
	int64_t net;            /**< deposited - withdrawn */
} es_bank_day;

/** Bring the daily totals up to the log head. @return as es_projection_catch_up(). */
ES_EXTERN int es_bank_daily_catch_up(es_projection_stats *out, es_db *db);

typedef int (*es_bank_day_fn)(const es_bank_day *day, void *user_data);

/**
 * Visit the days (per currency, in date order) that overlap [since, until]
 * (ns; INT64_MIN / INT64_MAX: no bound), as of the read.
 * @return 0, a callback's non-zero value, ES_EINVAL, ES_ECORRUPT.
 */
ES_EXTERN int es_bank_daily_each(es_read *rd, int64_t since, int64_t until, es_bank_day_fn fn,
                                 void *user_data);

/** Bring the owner index up to the log head. @return as es_projection_catch_up(). */
ES_EXTERN int es_bank_owners_catch_up(es_projection_stats *out, es_db *db);

typedef int (*es_bank_owner_fn)(const char *account_id, void *user_data);

/**
 * Visit the accounts whose owner is exactly owner, in id order, as of the read.
 * @return 0, a callback's non-zero value, ES_EINVAL, ES_ECORRUPT.
 */
ES_EXTERN int es_bank_accounts_of(es_read *rd, const char *owner, es_bank_owner_fn fn, void *user_data);

/**
 * Keep one of the bank's read models (ES_BANK_BALANCES, ES_BANK_DAILY,
 * ES_BANK_OWNERS), or all three (name NULL), inline on db
 * (es_projection_inline_add): caught up now, then updated inside every
 * command's own transaction through db, so a read through any handle sees
 * it at the log head as long as every process that writes does this.
 * Until es_db_close.
 * @return 0; ES_EINVAL for an unknown name; es_projection_inline_add()'s
 *   errors (none is added then).
 */
ES_EXTERN int es_bank_read_model_inline(es_db *db, const char *name);

/**
 * Rebuild one of the bank's read models (ES_BANK_BALANCES, ES_BANK_DAILY,
 * ES_BANK_OWNERS) from the start beside the one in use, and put it in
 * place at once (es_projection_rebuild). progress (may be NULL) is called
 * after each batch.
 * @return as es_projection_rebuild(), ES_EINVAL for an unknown name.
 */
ES_EXTERN int es_bank_projection_rebuild(es_projection_stats *out, es_db *db, const char *name,
                                         void (*progress)(const es_projection_stats *st, uint64_t head,
                                                          void *user_data),
                                         void *user_data);

/**
 * The bank's upcaster registry (built and validated on first call; lives for
 * the process): release 1 and 2 events are read as release 3 events. NULL
 * only if it could not be built (out of memory); the next call tries again.
 */
ES_EXTERN const es_registry *es_bank_registry(void);

/**
 * Release 1 stored amounts as doubles in major units. This converts one to
 * int64 minor units (cents): the double is rounded to the nearest hundredth
 * (the exact binary value, correctly rounded), which recovers exactly every
 * amount release 1 could write (at most two decimals), e.g. 0.1 + 0.2 -> 30.
 * Negative zero is 0.
 * @return 0, ES_ECORRUPT (NaN, infinite or negative), ES_ERANGE (does not
 *   fit in int64 cents), ES_EINVAL (NULL out).
 */
ES_EXTERN int es_bank_v1_amount_to_minor(int64_t *out, double amount);

/**
 * The amount_minor of a MoneyDeposited or MoneyWithdrawn payload (schema 3),
 * read from the wire bytes without unpacking the strings: what a fold needs.
 * Every field is still walked and bounds-checked.
 * @return 0, ES_ECORRUPT (malformed payload), ES_EINVAL (NULL out).
 */
ES_EXTERN int es_bank_amount_of(int64_t *out, const void *payload, size_t len);

/** Short text for a status: "open", "frozen", "closed". */
ES_EXTERN const char *es_bank_status_str(es_bank_status status);

/* ---- Payload descriptors (for es-dump and es-load) ---------------------- */

/* protobuf-c's descriptor type, declared so this header does not need
 * protobuf-c's (C11 allows the identical typedef twice). */
typedef struct ProtobufCMessageDescriptor ProtobufCMessageDescriptor;

/**
 * The protobuf message type of a bank event's payload at a schema version:
 * release 1 (AccountOpened, Deposit, Withdrawal, AccountClosed), release 2
 * (AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed) and release 3
 * (today's six events). An es_descriptor_fn for es_dump and es_restore.
 * @param user_data  unused
 * @return a static descriptor, or NULL for a type or version the bank never wrote.
 */
ES_EXTERN const ProtobufCMessageDescriptor *es_bank_descriptor(const char *type, uint32_t schema_version,
                                                               void *user_data);

#ifdef __cplusplus
}
#endif
#endif
