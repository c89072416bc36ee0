/*
 * suite.c - the schema suite: the bank's schema history, mixed-version
 * stores, the format-compatibility fixtures and es-migrate (the upcaster
 * registry and arena have their own suite, tests/upcasters/). Each
 * test_<name>.c defines `TCase *es_tc_<name>(void)`, added by the generated
 * schema_tcases.h.
 */
#include "testutil.h"
#include "schema_tcases.h"

int main(void)
{
	Suite *s = suite_create("schema");
	es_add_tcases(s);
	return es_test_run(s);
}
