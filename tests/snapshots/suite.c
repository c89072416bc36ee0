/*
 * suite.c - the snapshots module's Check suite: one TCase per source file
 * (snapshot.c), listed in snapshots_tcases.h.
 */
#include "testutil.h"
#include "snapshots_tcases.h"

int main(void)
{
	Suite *s = suite_create("snapshots");
	for (size_t i = 0; i < sizeof snapshots_tcases / sizeof snapshots_tcases[0]; i++)
		suite_add_tcase(s, snapshots_tcases[i]());
	return es_test_run(s);
}
