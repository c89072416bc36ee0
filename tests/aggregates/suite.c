/*
 * suite.c - the aggregates module's Check suite: one TCase per source file
 * (fold.c, command.c, rebuild.c), listed in aggregates_tcases.h.
 */
#include "testutil.h"
#include "aggregates_tcases.h"

int main(void)
{
	Suite *s = suite_create("aggregates");
	for (size_t i = 0; i < sizeof aggregates_tcases / sizeof aggregates_tcases[0]; i++)
		suite_add_tcase(s, aggregates_tcases[i]());
	return es_test_run(s);
}
