/*
 * suite.c - the aggregates module's Check suite: one TCase per source file
 * (fold.c, command.c, rebuild.c), each test_*.c file's, added by the
 * generated aggregates_tcases.h.
 */
#include "testutil.h"
#include "aggregates_tcases.h"

int main(void)
{
	Suite *s = suite_create("aggregates");
	es_add_tcases(s);
	return es_test_run(s);
}
