/*
 * suite.c - the schema suite: the upcaster registry and arena, the bank's
 * schema history, mixed-version stores and the format-compatibility
 * fixtures. Each test file defines `TCase *es_tc_<name>(void)`.
 */
#include "testutil.h"
#include "schema_tcases.h"

int main(void)
{
	Suite *s = suite_create("schema");
	for (size_t i = 0; i < sizeof schema_tcases / sizeof schema_tcases[0]; i++)
		suite_add_tcase(s, schema_tcases[i]());
	return es_test_run(s);
}
