/*
 * suite.c - the bank domain's Check suite: one TCase per source file of
 * aggregates/bank/ (money.c, account.c, commands.c, history.c), each test
 * file's added by the generated bank_tcases.h.
 */
#include "testutil.h"
#include "bank_tcases.h"

int main(void)
{
	Suite *s = suite_create("bank");
	es_add_tcases(s);
	return es_test_run(s);
}
