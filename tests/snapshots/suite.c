/*
 * suite.c - the snapshots module's Check suite: one TCase per source file
 * (snapshot.c), added by the generated snapshots_tcases.h.
 */
#include "testutil.h"
#include "snapshots_tcases.h"

int main(void)
{
	Suite *s = suite_create("snapshots");
	es_add_tcases(s);
	return es_test_run(s);
}
