/*
 * banktest.h - the fixture and small helpers shared by the bank's test files:
 * a fresh store on a settable clock, account heads and balances, and the
 * naive as-of fold the property tests compare loads with.
 */
#ifndef ES_BANKTEST_H
#define ES_BANKTEST_H

#include <stdint.h>

#include <evstore/bank.h>

#include "testutil.h"

/* The fixture's store, its directory and its settable clock (ns). */
extern es_db *bt_db;
extern char bt_path[512];
extern int64_t bt_now;
#define BT_T0 ((int64_t)1700000000000000000)

/* Checked fixture: a fresh store in a fresh directory on the settable clock. */
void bt_setup(void);
void bt_teardown(void);
/* Opens the fixture's directory again (another handle), clock `clock`. */
es_db *bt_open_again(int64_t *clock);

/* Opens an account, asserting success. */
void bt_open(const char *id, const char *currency, int64_t overdraft);
/* The head version of an account's stream, or -2 if it does not exist. */
int64_t bt_head(const char *id);
/* The latest balance, asserting the load succeeds. */
int64_t bt_balance(const char *id);
/* recorded_at of one event of an account. */
int64_t bt_recorded_at(const char *id, int64_t version);
/* Asserts the last error message contains text. */
void bt_assert_msg_has(const char *text);

/* The naive fold of an account as of t: walks the whole stream with
 * es_stream_iter and applies every event recorded at or before t with
 * es_aggregate_apply on a fresh state. Returns how many events it applied
 * (0: the account did not exist at t). */
size_t bt_naive_as_of(es_bank_account *out, es_read *rd, const char *id, int64_t t);
/* Asserts two account states are equal field by field. */
void bt_assert_account_eq(const es_bank_account *got, const es_bank_account *want, const char *what);

#endif
