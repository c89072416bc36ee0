/*
 * suite.c - the audit suite: dumps, their verification and loading, the
 * integrity check, and the bank's payload descriptors. One TCase per source
 * file, listed in audit_tcases.h.
 */
#include "testutil.h"
#include "audit_tcases.h"

int main(void)
{
	Suite *s = suite_create("audit");
	for (size_t i = 0; i < sizeof audit_tcases / sizeof audit_tcases[0]; i++)
		suite_add_tcase(s, audit_tcases[i]());
	return es_test_run(s);
}
