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

#include <evstore/errors.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Money ------------------------------------------------------------ */

/** Room for es_money_format's longest output ("-92233720368547758.08"), NUL included. */
#define ES_MONEY_TEXT_SIZE 32

/**
 * Minor-unit digits of an ISO 4217 currency code: 0 for JPY, KRW and the
 * like, 3 for BHD, KWD, OMR, JOD, TND, 2 otherwise.
 * @return the digits, or ES_EINVAL when code is not three uppercase ASCII letters.
 */
int es_currency_decimals(const char *code);

/**
 * Parse a non-negative decimal amount ("12", "12.3", "12.34") into minor
 * units of a currency with `decimals` minor digits. Rejected, with a message
 * naming the text: signs, exponents, spaces, empty text, a lone or trailing
 * '.', more fraction digits than `decimals`, any non-digit.
 * @return 0, ES_EINVAL, or ES_ERANGE (does not fit in int64 minor units).
 */
int es_money_parse(int64_t *out, const char *text, int decimals);

/**
 * Format minor units as decimal text with exactly `decimals` fraction digits
 * ("12.34", "-0.05", "7" when decimals is 0). INT64_MIN is formatted too.
 * @return 0, or ES_EINVAL (NULL out, size < ES_MONEY_TEXT_SIZE, decimals
 *   outside 0..9).
 */
int es_money_format(char *out, size_t size, int64_t minor, int decimals);

/** *out = a + b; ES_ERANGE (and *out untouched) on overflow. */
int es_money_add(int64_t *out, int64_t a, int64_t b);
/** *out = a - b; ES_ERANGE (and *out untouched) on overflow. */
int es_money_sub(int64_t *out, int64_t a, int64_t b);

#ifdef __cplusplus
}
#endif
#endif
