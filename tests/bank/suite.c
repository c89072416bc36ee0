/*
 * suite.c - the bank domain's Check suite: one TCase per source file of
 * aggregates/bank/ (money.c, account.c, commands.c, history.c), listed in
 * bank_tcases.h.
 */
#include "testutil.h"
#include "bank_tcases.h"

int main(void)
{
	Suite *s = suite_create("bank");
	for (size_t i = 0; i < sizeof bank_tcases / sizeof bank_tcases[0]; i++)
		suite_add_tcase(s, bank_tcases[i]());
	return es_test_run(s);
}
