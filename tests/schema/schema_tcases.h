/* schema_tcases.h - the schema suite's TCases, one per test file. */
#ifndef ES_SCHEMA_TCASES_H
#define ES_SCHEMA_TCASES_H
#include <check.h>

typedef TCase *(*es_tcase_fn)(void);
TCase *es_tc_registry(void);
TCase *es_tc_arena(void);
TCase *es_tc_bank_steps(void);
TCase *es_tc_mixed(void);
TCase *es_tc_fixtures(void);
TCase *es_tc_migrate(void);

static const es_tcase_fn schema_tcases[] = {
	es_tc_registry, es_tc_arena, es_tc_bank_steps, es_tc_mixed, es_tc_fixtures, es_tc_migrate,
};
#endif
