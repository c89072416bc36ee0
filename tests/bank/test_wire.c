/*
 * test_wire.c - es_bank_amount_of (aggregates/bank/wire.c) against
 * protobuf-c: the same amount for every valid payload, and the same verdict
 * (decodes or not) for every truncation and damaged tag.
 */
#include <stdlib.h>
#include <string.h>

#include <evstore/bank.h>

#include "testutil.h"
#include "bank.pb-c.h"

static size_t pack_deposit(uint8_t *buf, int64_t amount, const char *ref, const char *tid,
                           const char *cp)
{
	Evstore__Bank__MoneyDeposited m = EVSTORE__BANK__MONEY_DEPOSITED__INIT;
	m.amount_minor = amount;
	m.reference = (char *)ref;
	m.transfer_id = (char *)tid;
	m.counterparty = (char *)cp;
	return evstore__bank__money_deposited__pack(&m, buf);
}

/* protobuf-c's verdict and amount for the same bytes. */
static int unpack_amount(int64_t *out, const uint8_t *buf, size_t len)
{
	Evstore__Bank__MoneyDeposited *m = evstore__bank__money_deposited__unpack(NULL, len, buf);
	if (!m)
		return ES_ECORRUPT;
	*out = m->amount_minor;
	evstore__bank__money_deposited__free_unpacked(m, NULL);
	return 0;
}

static void assert_same_verdict(const uint8_t *buf, size_t len)
{
	int64_t ours = 0, theirs = 0;
	int rc_ours = es_bank_amount_of(&ours, buf, len);
	int rc_theirs = unpack_amount(&theirs, buf, len);
	ck_assert_int_eq(rc_ours, rc_theirs);
	if (rc_ours == 0)
		ck_assert_int_eq(ours, theirs);
}

START_TEST(amount_matches_protobuf_c)
{
	static const int64_t amounts[] = { 0, 1, 127, 128, 300, 1234567, INT64_MAX, -1, INT64_MIN };
	uint8_t buf[512];
	for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++) {
		size_t len = pack_deposit(buf, amounts[i], "rent", "0190-abcd", "acct-2");
		int64_t got;
		ck_assert_es(es_bank_amount_of(&got, buf, len), 0);
		ck_assert_int_eq(got, amounts[i]);
		assert_same_verdict(buf, len);
	}
}
END_TEST

START_TEST(every_truncation_agrees)
{
	uint8_t buf[512];
	size_t len = pack_deposit(buf, 987654321, "a reference long enough to matter", "t", "c");
	for (size_t n = 0; n <= len; n++)
		assert_same_verdict(buf, n);
}
END_TEST

START_TEST(every_damaged_byte_agrees)
{
	uint8_t buf[512], copy[512];
	size_t len = pack_deposit(buf, 42, "ref", "tid", "cp");
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, buf, len);
			copy[i] ^= (uint8_t)(1u << bit);
			assert_same_verdict(copy, len);
		}
}
END_TEST

START_TEST(absent_amount_is_zero_and_bad_arguments)
{
	int64_t got = 7;
	ck_assert_es(es_bank_amount_of(&got, "", 0), 0);
	ck_assert_int_eq(got, 0);
	ck_assert_es(es_bank_amount_of(NULL, "", 0), ES_EINVAL);
	uint8_t wrong_type[] = { 0x0a, 0x01, 0x05 }; /* field 1 as bytes */
	ck_assert_es(es_bank_amount_of(&got, wrong_type, sizeof wrong_type), ES_ECORRUPT);
}
END_TEST

TCase *es_tc_wire(void);
TCase *es_tc_wire(void)
{
	TCase *tc = tcase_create("wire");
	tcase_add_test(tc, amount_matches_protobuf_c);
	tcase_add_test(tc, every_truncation_agrees);
	tcase_add_test(tc, every_damaged_byte_agrees);
	tcase_add_test(tc, absent_amount_is_zero_and_bad_arguments);
	return tc;
}
