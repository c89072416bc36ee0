/*
 * suite.c - the projections module's Check suite: one TCase per source
 * file (projection.c, status.c), added by the generated projections_tcases.h.
 */
#include "testutil.h"
#include "projections_tcases.h"

int main(void)
{
	Suite *s = suite_create("projections");
	es_add_tcases(s);
	return es_test_run(s);
}
