/*
 * test_descriptors.c - aggregates/bank/descriptors.c: every event type the
 * bank ever wrote has its message type at its schema version, and nothing
 * else does.
 */
#include <stdbool.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include <evstore/bank.h>

#include "testutil.h"
#include "audit_tcases.h"

static const char *name_of(const char *type, uint32_t version)
{
	const ProtobufCMessageDescriptor *d = es_bank_descriptor(type, version, NULL);
	return d ? d->name : NULL;
}

START_TEST(test_every_release)
{
	ck_assert_str_eq(name_of("AccountOpened", 1), "evstore.bank.v1.AccountOpened");
	ck_assert_str_eq(name_of("Deposit", 1), "evstore.bank.v1.Deposit");
	ck_assert_str_eq(name_of("Withdrawal", 1), "evstore.bank.v1.Withdrawal");
	ck_assert_str_eq(name_of("AccountClosed", 1), "evstore.bank.v1.AccountClosed");
	ck_assert_str_eq(name_of("AccountOpened", 2), "evstore.bank.v2.AccountOpened");
	ck_assert_str_eq(name_of("MoneyDeposited", 2), "evstore.bank.v2.MoneyDeposited");
	ck_assert_str_eq(name_of("MoneyWithdrawn", 2), "evstore.bank.v2.MoneyWithdrawn");
	ck_assert_str_eq(name_of("AccountClosed", 2), "evstore.bank.v2.AccountClosed");
	static const char *const v3[] = { "AccountOpened", "MoneyDeposited", "MoneyWithdrawn",
	                                  "AccountFrozen", "AccountUnfrozen", "AccountClosed" };
	for (size_t i = 0; i < 6; i++) {
		char want[64];
		snprintf(want, sizeof want, "evstore.bank.%s", v3[i]);
		ck_assert_str_eq(name_of(v3[i], 3), want);
	}
}
END_TEST

START_TEST(test_unknown)
{
	ck_assert_ptr_null(name_of("Deposit", 2));      /* renamed in release 2 */
	ck_assert_ptr_null(name_of("AccountFrozen", 1)); /* new in release 3 */
	ck_assert_ptr_null(name_of("MoneyDeposited", 4));
	ck_assert_ptr_null(name_of("AccountOpened", 0));
	ck_assert_ptr_null(name_of("Note", 1));
	ck_assert_ptr_null(es_bank_descriptor(NULL, 3, NULL));
}
END_TEST

TCase *es_tc_descriptors(void)
{
	TCase *tc = tcase_create("descriptors");
	tcase_add_test(tc, test_every_release);
	tcase_add_test(tc, test_unknown);
	return tc;
}
