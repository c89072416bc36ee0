/*
 * suite.c - the schema suite: the upcaster registry and arena, the bank's
 * schema history, mixed-version stores and the format-compatibility
 * fixtures. Each test_<name>.c defines `TCase *es_tc_<name>(void)`, added
 * by the generated schema_tcases.h.
 */
#include "testutil.h"
#include "schema_tcases.h"

int main(void)
{
	Suite *s = suite_create("schema");
	es_add_tcases(s);
	return es_test_run(s);
}
