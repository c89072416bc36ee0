/*
 * suite.c - the audit suite: dumps, their verification and loading, and
 * the bank's payload descriptors (the integrity check, engine/check.c, is
 * tested in the engine suite). One TCase per test file, added by the
 * generated audit_tcases.h.
 */
#include "testutil.h"
#include "audit_tcases.h"

int main(void)
{
	Suite *s = suite_create("audit");
	es_add_tcases(s);
	return es_test_run(s);
}
