/*
 * suite.c - the engine's Check suite: one TCase per engine source file.
 * Each test_<name>.c defines `TCase *es_tc_<name>(void)`; the generated
 * engine_tcases.h adds them all, so a new test file needs no list entry.
 */
#include "testutil.h"
#include "engine_tcases.h"

int main(void)
{
	Suite *s = suite_create("engine");
	es_add_tcases(s);
	return es_test_run(s);
}
