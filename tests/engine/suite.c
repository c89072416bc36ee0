/*
 * suite.c - the engine's Check suite: one TCase per engine source file.
 * Each test file defines `TCase *es_tc_<name>(void)`; list it here.
 */
#include "testutil.h"
#include "engine_tcases.h"

int main(void)
{
	Suite *s = suite_create("engine");
	for (size_t i = 0; i < sizeof engine_tcases / sizeof engine_tcases[0]; i++)
		suite_add_tcase(s, engine_tcases[i]());
	return es_test_run(s);
}
