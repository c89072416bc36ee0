/*
 * suite.c - the upcasters module's Check suite: one TCase per source file
 * of upcasters/ (registry.c, arena.c), added by the generated
 * upcasters_tcases.h.
 */
#include "testutil.h"
#include "upcasters_tcases.h"

int main(void)
{
	Suite *s = suite_create("upcasters");
	es_add_tcases(s);
	return es_test_run(s);
}
